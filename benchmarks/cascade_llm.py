"""Benchmark: the cascade's LLM stage against a plain reference, on the same prompts.

Not a test. Run:

    python benchmarks/cascade_llm.py [--tasks SpokenDigits IntentClassification ...] [--batch-size 64]

Transcribes the test examples of each task once (faster-whisper tiny.en), then
asks SmolLM2-135M (the offline default LLM) the same prompts two ways:

- reference: transformers' own ``model.generate`` (greedy) over each batch of
  full prompts, left-padded; label ranking one prompt at a time, the prompt
  repeated for every label (``ranking.rank_scores``, the audio LLMs' path);
- cascade: ``TransformersLLM`` as the cascade runs it: the shared prompt prefix
  computed once, greedy decoding in which a finished row leaves its batch, and
  ranking of many prompts per pass over the prompts' cache.

Prints CPU and wall time of each, the ratio, and whether the replies and the
label scores agree (replies must be equal; scores agree to float32 rounding).
Last, times faster-whisper on one task with 4 threads (CTranslate2's default)
against one thread per usable core (what the cascade asks for now).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from benchmark.adapters import chat_lm, ranking
from benchmark.adapters.base import Query
from benchmark.adapters.cascade import CascadeAdapter, first_line, format_conversation
from benchmark.task import load_task

Chat = list[dict[str, str]]
DEFAULT_TASKS = ["SpokenDigits", "IntentClassification", "KeywordSpotting", "SentenceTranscription", "SpeakerCount"]


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """``fn()`` with its wall and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def reference_generate(llm: chat_lm.TransformersLLM, chats: list[Chat]) -> list[str]:
    """transformers' greedy ``generate`` on the full prompts of one batch, left-padded."""
    encoded = llm.encode(chats)
    pad, longest = llm.tokenizer.pad_token_id, max(len(e) for e in encoded)
    ids = torch.tensor([[pad] * (longest - len(e)) + e for e in encoded])
    mask = torch.tensor([[0] * (longest - len(e)) + [1] * len(e) for e in encoded])
    with torch.inference_mode():
        out = llm.model.generate(
            input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=llm.max_new_tokens, pad_token_id=pad
        )
    return [first_line(t) for t in llm.tokenizer.batch_decode(out[:, longest:], skip_special_tokens=True)]


def reference_rank(llm: chat_lm.TransformersLLM, chats: list[Chat], labels: list[str]) -> list[list[float]]:
    """Every label's log-likelihood, one prompt at a time, the prompt repeated per label."""
    ids = ranking.label_token_ids(llm.tokenizer, labels)
    pad = llm.tokenizer.pad_token_id
    return [ranking.rank_scores(llm.model, {"input_ids": torch.tensor([e])}, ids, pad) for e in llm.encode(chats)]


def main() -> None:
    """Print one row per task and protocol."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="*", default=DEFAULT_TASKS)
    parser.add_argument("--tasks-root", type=Path, default=Path("tasks"))
    parser.add_argument("--batch-size", type=int, default=CascadeAdapter.default_batch_size)
    args = parser.parse_args()
    adapter = CascadeAdapter(device="cpu", transcripts="off")
    adapter.load()
    llm = adapter.llm
    assert isinstance(llm, chat_lm.TransformersLLM)
    totals = {"reference": [0.0, 0.0], "cascade": [0.0, 0.0]}
    print(f"{'task':22} {'protocol':9} {'reference cpu/wall':>19} {'cascade cpu/wall':>17} {'cpu ratio':>9}  agree")
    for name in args.tasks:
        task = load_task(args.tasks_root / name)
        examples = task.split("test")
        queries = [Query(e.id, task.instruction_for(e), task.load_audio(e)) for e in examples]
        clips = [c for q in queries for c in q.audio]
        assert adapter.asr is not None
        texts = iter(adapter.asr.transcribe(clips))
        chats = [format_conversation([next(texts) for _ in q.audio], q.instruction) for q in queries]
        batches = [chats[i : i + args.batch_size] for i in range(0, len(chats), args.batch_size)]
        modes: dict[str, dict[str, Callable[[], Any]]] = {
            "generate": {
                "reference": lambda bs=batches: [r for b in bs for r in reference_generate(llm, b)],
                "cascade": lambda bs=batches: [first_line(r) for b in bs for r in llm.generate(b)],
            }
        }
        if task.card.labels:
            labels = task.card.labels
            modes["rank"] = {
                "reference": lambda bs=batches, labels=labels: [s for b in bs for s in reference_rank(llm, b, labels)],
                "cascade": lambda bs=batches, labels=labels: [
                    [*a.label_scores.values()] for b in bs for a in llm.rank(b, labels)
                ],
            }
        for protocol, fns in modes.items():
            results = {}
            for mode, fn in fns.items():
                llm._prefix = None
                results[mode] = timed(fn)
                totals[mode][0] += results[mode][2]
                totals[mode][1] += results[mode][1]
            (old, old_wall, old_cpu), (new, new_wall, new_cpu) = results["reference"], results["cascade"]
            if protocol == "generate":
                agree = f"{sum(a == b for a, b in zip(old, new, strict=True))}/{len(old)} replies equal"
            else:
                diff = max(abs(x - y) for a, b in zip(old, new, strict=True) for x, y in zip(a, b, strict=True))
                agree = f"label scores within {diff:.1e}"
            print(
                f"{name:22} {protocol:9} {old_cpu:8.1f}/{old_wall:7.1f} s {new_cpu:7.1f}/{new_wall:7.1f} s "
                f"{old_cpu / new_cpu:8.2f}x  {agree}",
                flush=True,
            )
    (bc, bw), (ac, aw) = totals["reference"], totals["cascade"]
    print(f"all: reference {bc:.1f} s CPU / {bw:.1f} s wall, cascade {ac:.1f} / {aw:.1f}: ", end="")
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
