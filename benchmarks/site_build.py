"""Benchmark: build the leaderboard (tables + static site) for 200 tasks x 50 models of generated records.

Not a test. Run:

    python benchmarks/site_build.py [--tasks 200] [--models 50] [--out /tmp/site-bench]

Tasks are small synthetic folders (mixed classification and regression, 32 test
examples each); each model's records are real records scored by the harness from
seeded random answers whose accuracy differs per model. The build is timed as
``bench leaderboard build`` does it: load the tasks (through the task index of the
submissions folder), tables (with bootstrap
intervals, through the cell cache under the tables folder) then site. It is timed
twice: a full build with an empty cache, then a rebuild after one more
submission is added (the incremental case). Targets: under 5 s and under 1 s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import README, card, tone, write_audio  # noqa: E402

from benchmark.planning import load_tasks  # noqa: E402
from benchmark.report.export import write_tables
from benchmark.report.site import build_site  # noqa: E402
from benchmark.report.tables import build_tables, layer_weights, load_submissions  # noqa: E402
from benchmark.submission import ModelCard, append_records, run_path, write_model_card  # noqa: E402
from benchmark.submission.scorer import make_record, scorer_for  # noqa: E402
from benchmark.task import DIMENSIONS  # noqa: E402
from benchmark.task.discovery import select_tasks  # noqa: E402
from benchmark.task.index import index_path  # noqa: E402


def make_tasks(root: Path, n: int) -> None:
    for t in range(n):
        name = f"Synthetic{t:03d}"
        folder = root / name
        (folder / "audio").mkdir(parents=True)
        regression = t % 4 == 3
        overrides = {"dimension": DIMENSIONS[t % len(DIMENSIONS)]}
        if regression:
            overrides.update(task_type="regression", metric="mae", labels=None)
        (folder / "task.json").write_text(json.dumps(card(name, **overrides)))
        (folder / "README.md").write_text(README)
        lines = []
        for i in range(40):
            write_audio(folder / f"audio/{i:03d}.flac", tone(200 + 10 * i + t, 0.1))
            label = float(i % 7) if regression else ("high" if i % 2 else "low")
            lines.append(
                json.dumps(
                    {
                        "id": f"{i:03d}",
                        "split": "train" if i < 8 else "test",
                        "audio": f"audio/{i:03d}.flac",
                        "label": label,
                    }
                )
            )
        (folder / "examples.jsonl").write_text("\n".join(lines) + "\n")


def make_records(subs: Path, tasks_root: Path, models: range) -> None:
    tasks = load_tasks(select_tasks([], tasks_root))
    rng = np.random.default_rng(models.start)
    n_models = max(models.stop, 50)
    for m in models:
        sub = subs / f"model-{m:02d}"
        write_model_card(sub, ModelCard(name=sub.name, adapter="random", trained_on=[t.name for t in tasks[: m % 5]]))
        skill = m / n_models
        for task in tasks:
            score = scorer_for(task)
            records = []
            for e in task.split("test"):
                if task.card.task_type == "regression":
                    output = str(float(e.label) + rng.normal(0, 3 * (1 - skill)))
                else:
                    output = str(e.label) if rng.random() < 0.5 + skill / 2 else f"It is {rng.choice(['high', 'low'])}."
                records.append(make_record(task, e, output, score(e, output), 0.0))
            append_records(run_path(sub, task.name, task.card.version), records)


def build(out: Path) -> dict[str, float]:
    """What ``bench leaderboard build`` does, phase by phase."""
    start = time.perf_counter()
    tasks = load_tasks(select_tasks([], out / "tasks"), index_path(out / "submissions"))
    loaded = time.perf_counter()
    board = build_tables(out / "submissions", tasks, cache=out / "tables" / ".cache")
    write_tables(board, out / "tables")
    tabled = time.perf_counter()
    weights = {s.card.name: layer_weights(s.folder) for s in load_submissions(out / "submissions")}
    build_site(board, tasks, out / "site", out / "tables", weights)
    done = time.perf_counter()
    return {"load": loaded - start, "tables": tabled - loaded, "site": done - tabled, "total": done - start}


def parse_all(out: Path) -> float:
    """The yardstick of a rebuild: JSON-parsing every record of every run file once (no validation, no scoring)."""
    start = time.perf_counter()
    for path in sorted((out / "submissions").glob("*/runs/*.jsonl")):
        with path.open("rb") as f:
            for line in f:
                json.loads(line)
    return time.perf_counter() - start


def report(label: str, t: dict[str, float], target: float) -> None:
    print(
        f"{label}: load tasks {t['load']:.2f} s, tables {t['tables']:.2f} s, site {t['site']:.2f} s; "
        f"total {t['total']:.2f} s (target {target:g} s: {t['total'] / target:.2f} of it)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--out", type=Path, default=Path("/tmp/site-bench"))
    parser.add_argument("--repeat", type=int, default=1, help="time the rebuild this many more times; keep the best")
    args = parser.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    start = time.perf_counter()
    make_tasks(args.out / "tasks", args.tasks)
    make_records(args.out / "submissions", args.out / "tasks", range(args.models))
    print(f"generated {args.tasks} tasks x {args.models} models in {time.perf_counter() - start:.1f} s")
    records = args.tasks * args.models * 32
    print(f"{records:,} records, {args.tasks * args.models:,} cells, 1000 bootstrap resamples each")
    report("full build (empty cache)", build(args.out), 5.0)
    make_records(args.out / "submissions", args.out / "tasks", range(args.models, args.models + 1))
    rebuild = build(args.out)
    report("rebuild after one new submission", rebuild, 1.0)
    parse = min(parse_all(args.out) for _ in range(2))
    print(
        f"JSON-parsing every record once: {parse:.2f} s; rebuild / parse = {rebuild['total'] / parse:.2f} "
        "(target: under 1)"
    )
    if args.repeat > 1:  # the same rebuild again: the new submission's cells dropped from the cache each time
        rounds, parses = [], []
        for _ in range(args.repeat):
            new = args.out / "tables" / ".cache" / f"model-{args.models:02d}"
            new.with_suffix(".json").unlink()
            shutil.rmtree(new.with_suffix(".reps"))
            cpu = time.process_time()
            rounds.append(build(args.out))
            rounds[-1]["cpu"] = time.process_time() - cpu
            parses.append(parse_all(args.out))
        best = min(rounds, key=lambda t: t["total"])
        report(f"best of {args.repeat} such rebuilds", best, 1.0)
        print(f"  CPU time of that rebuild: {best['cpu']:.2f} s")
        ratios = sorted(r["total"] / p for r, p in zip(rounds, parses, strict=True))
        shown = ", ".join(f"{x:.2f}" for x in ratios)
        print(f"  rebuild / parse, each round against the parse right after it: {shown}")


if __name__ == "__main__":
    main()
