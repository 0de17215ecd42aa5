"""Benchmark: `bench validate` throughput on a generated corpus, against a bare soundfile.info loop.

Not a test (nothing here is timed under pytest). Run:

    python benchmarks/validate_speed.py --clips 10000 --out /tmp/validate-corpus

It writes task folders of short FLAC tones, then reports clips per second for
header checks and for ``--deep`` (all cores), the ratio of header-check time to a
bare ``soundfile.info`` loop over the same files, and the ratio of ``--deep`` to a
bare single-process ``soundfile.read`` of every file (the issue's target: 1.5). Each figure is the best of
``--repeat`` runs, so the page cache is warm for every contender alike.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import README, card  # noqa: E402

from benchmark.validate import validate_paths  # noqa: E402

CLIPS_PER_TASK = 500


def build_corpus(out: Path, clips: int) -> list[Path]:
    """Write ``clips`` distinct 0.2 s tones into task folders of CLIPS_PER_TASK examples."""
    files: list[Path] = []
    rng = np.random.default_rng(0)
    t = np.arange(3200) / 16_000
    for task_i in range(max(1, clips // CLIPS_PER_TASK)):
        name = f"Corpus{task_i:03d}"
        folder = out / name
        (folder / "audio").mkdir(parents=True, exist_ok=True)
        (folder / "task.json").write_text(json.dumps(card(name)))
        (folder / "README.md").write_text(README)
        lines = []
        for i in range(CLIPS_PER_TASK):
            rel = f"audio/{i:04d}.flac"
            path = folder / rel
            if not path.exists():
                freq = rng.uniform(100, 4000)
                sf.write(path, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), 16_000)
            label = "high" if i % 2 else "low"
            split = "train" if i < CLIPS_PER_TASK // 2 else "test"
            lines.append(json.dumps({"id": f"{i:04d}", "split": split, "audio": rel, "label": label}))
            files.append(path)
        (folder / "examples.jsonl").write_text("\n".join(lines) + "\n")
    return files


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clips", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/validate-corpus"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    files = build_corpus(args.out, args.clips)
    n = len(files)
    bare = best_of(args.repeat, lambda: [sf.info(str(p)) for p in files])
    bare_read = best_of(args.repeat, lambda: [sf.read(str(p), dtype="float32") for p in files])
    header = best_of(args.repeat, lambda: validate_paths([args.out]))
    deep = best_of(args.repeat, lambda: validate_paths([args.out], deep=True))
    reports = validate_paths([args.out])
    errors = sum(len(r.errors) for r in reports)
    print(f"clips: {n} in {len(reports)} task folders ({errors} errors), cores: {os.cpu_count()}")
    print(f"bare soundfile.info loop: {bare:.2f} s  ({n / bare:,.0f} clips/s)")
    print(f"bench validate (headers): {header:.2f} s  ({n / header:,.0f} clips/s)  ratio to bare: {header / bare:.2f}")
    print(f"bench validate --deep:    {deep:.2f} s  ({n / deep:,.0f} clips/s)  ratio to bare: {deep / bare:.2f}")
    print(f"bare soundfile.read loop (decode every file): {bare_read:.2f} s  ({n / bare_read:,.0f} clips/s)")
    print(f"--deep ratio to reading every file with soundfile: {deep / bare_read:.2f} (target 1.5)")


if __name__ == "__main__":
    main()
