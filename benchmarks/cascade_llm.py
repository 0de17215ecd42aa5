"""Benchmark: the cascade's LLM stage with and without the shared-prefix cache, and label ranking.

Not a test. Run:

    python benchmarks/cascade_llm.py [--tasks SpokenDigits IntentClassification KeywordSpotting] [--batch-size 16]

Transcribes the test examples of each task once (faster-whisper tiny.en), then
asks SmolLM2-135M (the offline default LLM) the same prompts two ways:

- before: every prompt computed in full (no shared prefix), and label ranking
  with the prompt repeated for every label (one row per label);
- after: the prompts' shared prefix (chat header and system prompt) computed
  once and reused, and ranking that reuses the prompt's key/value cache for the
  labels.

Prints CPU and wall time of each, the ratio, and whether the replies and the
label scores agree (they must: only the arithmetic's layout changes).
Last, times faster-whisper on one task with 4 threads (CTranslate2's default)
against one thread per usable core (what the cascade asks for now).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from benchmark.adapters import chat_lm, ranking
from benchmark.adapters.base import Query
from benchmark.adapters.cascade import CascadeAdapter, first_line, format_conversation
from benchmark.task import load_task

DEFAULT_TASKS = ["SpokenDigits", "IntentClassification", "KeywordSpotting", "SentenceTranscription"]


def timed(fn):  # type: ignore[no-untyped-def]
    """``fn()`` with its wall and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    """Print one row per task and protocol."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="*", default=DEFAULT_TASKS)
    parser.add_argument("--tasks-root", type=Path, default=Path("tasks"))
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    adapter = CascadeAdapter(device="cpu", transcripts="off")
    adapter.load()
    llm = adapter.llm
    assert isinstance(llm, chat_lm.TransformersLLM)
    plain_prefix, plain_rank = chat_lm.shared_prefix, ranking.rank_scores

    def before() -> None:
        chat_lm.shared_prefix = lambda rows: 0  # type: ignore[assignment]
        chat_lm.rank_scores = lambda *a, **k: plain_rank(*a[:4])  # type: ignore[assignment]

    def after() -> None:
        chat_lm.shared_prefix, chat_lm.rank_scores = plain_prefix, plain_rank  # type: ignore[assignment]

    totals = {"before": [0.0, 0.0], "after": [0.0, 0.0]}
    print(f"{'task':22} {'protocol':9} {'before cpu/wall':>16} {'after cpu/wall':>15} {'cpu ratio':>9}  agree")
    for name in args.tasks:
        task = load_task(args.tasks_root / name)
        examples = task.split("test")
        queries = [Query(e.id, task.instruction_for(e), task.load_audio(e)) for e in examples]
        clips = [c for q in queries for c in q.audio]
        assert adapter.asr is not None
        texts = iter(adapter.asr.transcribe(clips))
        chats = [format_conversation([next(texts) for _ in q.audio], q.instruction) for q in queries]
        batches = [chats[i : i + args.batch_size] for i in range(0, len(chats), args.batch_size)]
        protocols = {"generate": lambda bs=batches: [first_line(r) for b in bs for r in llm.generate(b)]}
        if task.card.labels:
            protocols["rank"] = lambda bs=batches, labels=task.card.labels: [
                [*a.label_scores.values()] for b in bs for a in llm.rank(b, labels)
            ]
        for protocol, fn in protocols.items():
            results = {}
            for mode, switch in (("before", before), ("after", after)):
                switch()
                llm._prefix = None
                results[mode] = timed(fn)
                totals[mode][0] += results[mode][2]
                totals[mode][1] += results[mode][1]
            after()
            (old, old_wall, old_cpu), (new, new_wall, new_cpu) = results["before"], results["after"]
            if protocol == "generate":
                agree = f"{sum(a == b for a, b in zip(old, new, strict=True))}/{len(old)} replies equal"
            else:
                diff = max(abs(x - y) for a, b in zip(old, new, strict=True) for x, y in zip(a, b, strict=True))
                agree = f"label scores within {diff:.1e}"
            print(
                f"{name:22} {protocol:9} {old_cpu:7.1f}/{old_wall:6.1f} s {new_cpu:6.1f}/{new_wall:6.1f} s "
                f"{old_cpu / new_cpu:8.2f}x  {agree}",
                flush=True,
            )
    (bc, bw), (ac, aw) = totals["before"], totals["after"]
    print(f"all: before {bc:.1f} s CPU / {bw:.1f} s wall, after {ac:.1f} / {aw:.1f}: ", end="")
    print(f"{bc / ac:.2f}x CPU, {bw / aw:.2f}x wall")
    asr_threads(adapter, args.tasks_root / args.tasks[0])
    print(f"(load average {os.getloadavg()[0]:.1f})")


def asr_threads(adapter: CascadeAdapter, folder: Path) -> None:
    """faster-whisper on one task's clips: CTranslate2's default 4 threads against one thread per usable core."""
    import faster_whisper

    from benchmark.adapters.cascade import FasterWhisperASR

    task = load_task(folder)
    clips = [c for e in task.split("test") for c in task.load_audio(e)]
    asr = FasterWhisperASR(None, "cpu")
    ours = timed(lambda: asr.transcribe(clips))
    folder_of_model = asr.identity.split()[2]
    asr.model = faster_whisper.WhisperModel(folder_of_model, device="cpu", compute_type="int8", cpu_threads=4)
    asr.pipeline = faster_whisper.BatchedInferencePipeline(model=asr.model)
    default = timed(lambda: asr.transcribe(clips))
    cores = len(os.sched_getaffinity(0))
    print(
        f"faster-whisper, {len(clips)} clips of {task.name}: 4 threads {default[1]:.1f} s wall, "
        f"{cores} threads {ours[1]:.1f} s wall: {default[1] / ours[1]:.2f}x; same text: {default[0] == ours[0]}"
    )


if __name__ == "__main__":
    main()
