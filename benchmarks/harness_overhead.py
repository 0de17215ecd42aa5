"""Benchmark: harness overhead per example with the `majority` adapter over the shipped suite.

Not a test. Run:

    python benchmarks/harness_overhead.py [--tasks tasks] [--repeat 3]

The majority adapter does no work, so the time per example is the harness itself:
loading (checking) and hashing the tasks, planning, building queries, scoring, writing and
fsyncing records, re-reading them for the summaries, and building the leaderboard
tables (bootstrap intervals included). Each phase is reported separately; the
best of ``--repeat`` fresh runs is kept. The first run into a fresh submissions
folder checks and hashes every task folder; the tables, and any later run into the
same folder, load them from its task index (``benchmark.task.index``); a second
run is timed for that case. CPU time is printed next to wall time
because the machine is often shared (wall time also counts waiting for fsync).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from benchmark.planning import load_tasks
from benchmark.report.export import write_tables
from benchmark.report.tables import build_tables
from benchmark.runner import RunRequest, run
from benchmark.task.discovery import select_tasks
from benchmark.task.index import index_path


def bare_loop(tasks_root: Path) -> tuple[float, float]:
    """The same work with no harness: read each task's examples, write one JSON line per test example, fsync.

    What an evaluation script written by hand would at least do (no checks, hashing, scoring or tables).
    Returns (wall, CPU) seconds.
    """
    with tempfile.TemporaryDirectory() as tmp:
        start, cpu = time.perf_counter(), time.process_time()
        for examples in sorted(tasks_root.glob("*/examples.jsonl")):
            rows = [json.loads(line) for line in examples.read_text(encoding="utf-8").splitlines() if line.strip()]
            with (Path(tmp) / f"{examples.parent.name}.jsonl").open("w", encoding="utf-8") as f:
                for row in rows:
                    if row["split"] == "test":
                        f.write(json.dumps({"id": row["id"], "reference": row["label"], "output": "x"}) + "\n")
                f.flush()
                os.fsync(f.fileno())
        return time.perf_counter() - start, time.process_time() - cpu


def one_round(tasks_root: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "submissions"
        start, cpu_start = time.perf_counter(), time.process_time()
        result = run(RunRequest(spec="majority", tasks_root=tasks_root, out=out, batch_size=16))
        ran, cpu_ran = time.perf_counter(), time.process_time()
        tasks = load_tasks(select_tasks([], tasks_root), index_path(out))  # as `bench leaderboard build` does
        board = build_tables(out, tasks)
        write_tables(board, Path(tmp) / "tables")
        built, cpu_built = time.perf_counter(), time.process_time()
        # A second model into the same submissions folder: the task index is warm, as for every run after the first.
        run(RunRequest(spec="majority", name="majority-again", tasks_root=tasks_root, out=out, batch_size=16))
        again, cpu_again = time.perf_counter(), time.process_time()
    n = sum(s.n for s in result.summaries)
    model = sum(s.seconds for s in result.summaries)
    return {
        "examples": n,
        "run": ran - start,
        "tables": built - ran,
        "again": again - built,
        "model": model,
        "cpu_run": cpu_ran - cpu_start,
        "cpu_tables": cpu_built - cpu_ran,
        "cpu_again": cpu_again - cpu_built,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=Path, default=Path("tasks"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rounds = [one_round(args.tasks) for _ in range(args.repeat)]
    bare = min((bare_loop(args.tasks) for _ in range(args.repeat)), key=lambda t: t[0])
    best = min(rounds, key=lambda r: r["run"] + r["tables"])
    n = best["examples"]
    print(f"examples: {n:.0f} (test split of every task under {args.tasks})")
    print(
        f"bench run (load, plan, score, write records): {best['run']:.2f} s = {best['run'] / n * 1e6:,.0f} us/example"
    )
    print(f"  of which inside adapter.predict: {best['model'] / n * 1e6:,.1f} us/example")
    print(
        f"leaderboard tables (1000 bootstrap resamples): {best['tables']:.2f} s = "
        f"{best['tables'] / n * 1e6:,.0f} us/example"
    )
    total = best["run"] + best["tables"]
    cpu = best["cpu_run"] + best["cpu_tables"]
    print(f"total harness: {total / n * 1e6:,.0f} us/example wall, {cpu / n * 1e6:,.0f} us/example CPU time")
    print(f"bare read-and-write loop: {bare[0] / n * 1e6:,.0f} us/example wall, {bare[1] / n * 1e6:,.0f} us CPU")
    over, over_cpu = (total - bare[0]) / n * 1e6, (cpu - bare[1]) / n * 1e6
    print(f"harness above the bare loop: {over:,.0f} us/example wall, {over_cpu:,.0f} us CPU (target 200)")
    print(f"ratio to the 200 us/example target: {over / 200:.2f} (wall, above the bare loop)")
    warm, cpu_warm = best["again"] + best["tables"], best["cpu_again"] + best["cpu_tables"]
    print(
        f"a later run (task index warm): {best['again'] / n * 1e6:,.0f} us/example; with the tables "
        f"{warm / n * 1e6:,.0f} us/example wall, {cpu_warm / n * 1e6:,.0f} us/example CPU time "
        f"(ratio {warm / n * 1e6 / 200:.2f})"
    )


if __name__ == "__main__":
    main()
