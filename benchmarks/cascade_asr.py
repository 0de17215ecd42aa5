"""Benchmark: the cascade's ASR stage, clip by clip against batched, and with the transcript cache.

Not a test. Run:

    python benchmarks/cascade_asr.py [--clips 64] [--batch-size 16]

Takes the first test clips of every shipped task (round robin), transcribes them
with faster-whisper tiny.en (the offline default) one ``WhisperModel.transcribe``
call per clip, as the cascade did before, then with the batched pipeline the
cascade uses now, then again through the transcript cache (a re-run). Prints
the time of each, the ratios, and how far the two transcriptions differ (WER of
the batched transcripts against the clip-by-clip ones).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmark.adapters.cascade import FasterWhisperASR
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


def clip_by_clip(asr: FasterWhisperASR, clips: list[np.ndarray]) -> list[str]:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--tasks-root", type=Path, default=Path("tasks"))
    args = parser.parse_args()
    clips = clips_from(args.tasks_root, args.clips)
    seconds = sum(len(c) for c in clips) / 16_000
    asr = FasterWhisperASR(None, "cpu", batch_size=args.batch_size)
    asr.transcribe(clips[:2])  # warm up both paths
    clip_by_clip(asr, clips[:2])
    start, cpu = time.perf_counter(), time.process_time()
    one = clip_by_clip(asr, clips)
    sequential, sequential_cpu = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    batched_texts = []
    for i in range(0, len(clips), args.batch_size):
        batched_texts += asr.transcribe(clips[i : i + args.batch_size])
    batched, batched_cpu = time.perf_counter() - start, time.process_time() - cpu
    with tempfile.TemporaryDirectory() as tmp:
        cached_asr = CachedASR(asr, Path(tmp))
        cached_asr.transcribe(clips)
        start = time.perf_counter()
        again = CachedASR(asr, Path(tmp)).transcribe(clips)
        cached = time.perf_counter() - start
    assert again == batched_texts, "the cache must return what the ASR said"
    errors = sum(edit_counts(b, o, "word")[0] for b, o in zip(batched_texts, one, strict=True))
    words = sum(edit_counts(b, o, "word")[1] for b, o in zip(batched_texts, one, strict=True))
    print(f"{len(clips)} clips, {seconds:.0f} s of audio, faster-whisper tiny.en int8, beam 5, CPU")
    print(
        f"clip by clip: {sequential:.1f} s ({sequential_cpu:.1f} s CPU); batched ({args.batch_size} per batch): "
        f"{batched:.1f} s ({batched_cpu:.1f} s CPU); ratio {sequential / batched:.2f}x wall, "
        f"{sequential_cpu / batched_cpu:.2f}x CPU"
    )
    print(f"re-run through the transcript cache: {cached * 1000:.0f} ms ({sequential / max(cached, 1e-9):,.0f}x)")
    print(f"batched vs clip-by-clip transcripts: WER {errors / max(words, 1):.3f} ({errors} word edits)")


if __name__ == "__main__":
    main()
