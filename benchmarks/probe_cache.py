"""Benchmark: probe training with the hidden-state cache against recomputing the upstream every epoch.

Not a test. Run:

    python benchmarks/probe_cache.py [--upstream fbank] [--tasks Timbre ToneVsNoise SpeakerGender]
        [--epochs 30]

Both variants train the same seeded probe for a fixed number of epochs (early
stopping off) on the same tasks in one process, and must predict identically;
the ratio is recompute time over cached time.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmark.adapters import Query
from benchmark.adapters.probe import ProbeAdapter
from benchmark.task import load_task


def fit_and_predict(upstream: str, tasks: list, epochs: int, cache: bool) -> tuple[float, list[list[str]]]:
    probe = ProbeAdapter(upstream, epochs=epochs, patience=epochs + 1, cache="true" if cache else "false")
    probe.load()
    start = time.perf_counter()
    outputs = []
    for task in tasks:
        probe.fit(task)
        queries = [Query(e.id, task.instruction_for(e), tuple(task.load_audio(e))) for e in task.split("test")]
        outputs.append(probe.predict(task, queries))
    return time.perf_counter() - start, outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upstream", default="fbank")
    parser.add_argument("--tasks", nargs="+", default=["Timbre", "ToneVsNoise", "SpeakerGender"])
    parser.add_argument("--tasks-root", type=Path, default=Path("tasks"))
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    tasks = [load_task(args.tasks_root / name) for name in args.tasks]
    cached, out_cached = fit_and_predict(args.upstream, tasks, args.epochs, cache=True)
    recomputed, out_recomputed = fit_and_predict(args.upstream, tasks, args.epochs, cache=False)
    assert out_cached == out_recomputed, "the cache must not change predictions"
    n = sum(len(t.split("train")) for t in tasks)
    print(f"upstream {args.upstream}, {len(tasks)} tasks, {n} train clips, {args.epochs} epochs")
    print(f"with cache: {cached:.1f} s; recomputing every epoch: {recomputed:.1f} s; ratio {recomputed / cached:.1f}x")


if __name__ == "__main__":
    main()
