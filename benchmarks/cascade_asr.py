"""Benchmark: the cascade's ASR stage (faster-whisper tiny.en, CPU): CPU time, kernel time and page faults.

Not a test. Run:

    python benchmarks/cascade_asr.py [--clips 64] [--paths before,now,clip-by-clip]

Takes the first test clips of every shipped task (round robin) and transcribes
them, each way in a fresh process (the malloc settings are per process):

- ``now``: ``FasterWhisperASR`` as the cascade runs it: the batched pipeline,
  one window per encoder call, freed memory reused (``keep_freed_memory``),
  ``asr_batch_size`` 8; then a re-run through the transcript cache;
- ``before`` (issue 20): the same pipeline encoding whole batches of 16 windows
  with glibc's default malloc settings, as the cascade did before;
- ``clip-by-clip`` (issue 13's before): one ``WhisperModel.transcribe`` call per clip.

Prints wall, user and system CPU time and minor page faults of each, their ratios
to ``now``, whether ``before`` and ``now`` wrote the same transcripts (they must),
and the WER of clip-by-clip transcripts against the batched ones. On a shared
machine compare CPU time and faults; wall time depends on the other jobs.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmark.adapters import cascade
from benchmark.adapters.transcripts import CachedASR
from benchmark.scoring.metrics import edit_counts
from benchmark.task import load_task


def clips_from(tasks_root: Path, n: int) -> list[np.ndarray]:
    per_task = [
        [c for e in t.split("test") for c in t.load_audio(e)]
        for t in (load_task(p) for p in sorted(tasks_root.iterdir()) if (p / "task.json").is_file())
    ]
    out: list[np.ndarray] = []
    for i in range(max(len(c) for c in per_task)):
        out += [c[i] for c in per_task if i < len(c)]
    return out[:n]


def clip_by_clip(asr: cascade.FasterWhisperASR, clips: list[np.ndarray]) -> list[str]:
    out = []
    for clip in clips:
        segments, _ = asr.model.transcribe(
            clip,
            beam_size=asr.beam_size,
            language=asr.language,
            condition_on_previous_text=False,
            vad_filter=False,
            without_timestamps=True,
        )
        out.append(" ".join(s.text.strip() for s in segments).strip())
    return out


def build(path: str) -> cascade.FasterWhisperASR:
    """The ASR as ``path`` ran it."""
    if path == "now":
        return cascade.FasterWhisperASR(None, "cpu")
    import faster_whisper

    cascade.keep_freed_memory = lambda: False  # glibc's defaults, as before issue 20
    asr = cascade.FasterWhisperASR(None, "cpu", batch_size=16)
    asr.pipeline = faster_whisper.BatchedInferencePipeline(model=asr.model)  # whole batches per encoder call
    return asr


def measure(path: str, tasks_root: Path, n: int) -> dict[str, object]:
    """One path in this process: its transcripts and costs (warm-up excluded)."""
    clips = clips_from(tasks_root, n)
    asr = build(path)
    run = (lambda c: clip_by_clip(asr, c)) if path == "clip-by-clip" else asr.transcribe
    run(clips[:2])
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    texts = run(clips)
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    result: dict[str, object] = {
        "texts": texts,
        "wall": wall,
        "user": after.ru_utime - before.ru_utime,
        "sys": after.ru_stime - before.ru_stime,
        "faults": after.ru_minflt - before.ru_minflt,
        "audio_s": sum(len(c) for c in clips) / 16_000,
    }
    if path == "now":
        with tempfile.TemporaryDirectory() as tmp:
            CachedASR(asr, Path(tmp)).transcribe(clips)
            start = time.perf_counter()
            again = CachedASR(asr, Path(tmp)).transcribe(clips)
            result["cached"] = time.perf_counter() - start
        assert again == texts, "the cache must return what the ASR said"
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--paths", default="before,now,clip-by-clip")
    parser.add_argument("--tasks-root", type=Path, default=Path("tasks"))
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.tasks_root, args.clips)))
        return
    results = {}
    for path in args.paths.split(","):
        command = [sys.executable, __file__, "--child", path, "--clips", str(args.clips)]
        done = subprocess.run([*command, "--tasks-root", str(args.tasks_root)], capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"{path} failed:\n{done.stderr}")
        results[path] = json.loads(done.stdout.strip().splitlines()[-1])
    first = next(iter(results.values()))
    print(f"{args.clips} clips, {first['audio_s']:.0f} s of audio, faster-whisper tiny.en int8, beam 5, CPU")
    now = results.get("now")
    for path, r in results.items():
        cpu = r["user"] + r["sys"]
        ratio = f"  ({cpu / (now['user'] + now['sys']):.2f}x the CPU of now)" if now and path != "now" else ""
        print(
            f"  {path:13s} {r['wall']:6.1f} s wall  {r['user']:6.1f} s user  {r['sys']:5.1f} s sys  "
            f"{r['faults']:>10,} minor faults{ratio}"
        )
    if now:
        print(f"  re-run through the transcript cache: {now['cached'] * 1000:.0f} ms")
    if now and "before" in results:
        same = results["before"]["texts"] == now["texts"]
        print(f"  transcripts before == now: {same}")
    if now and "clip-by-clip" in results:
        pairs = list(zip(now["texts"], results["clip-by-clip"]["texts"], strict=True))
        errors = sum(edit_counts(b, o, "word")[0] for b, o in pairs)
        words = sum(edit_counts(b, o, "word")[1] for b, o in pairs)
        print(f"  batched vs clip-by-clip transcripts: WER {errors / max(words, 1):.3f} ({errors} word edits)")


if __name__ == "__main__":
    main()
