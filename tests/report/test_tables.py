"""Leaderboard tables: the all-models-at-once bootstrap equals the cell-by-cell one; the cell cache is invisible."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import make_suite
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmark.planning import load_tasks
from benchmark.report.cells import task_seed
from benchmark.report.export import tables_json, write_tables
from benchmark.report.tables import build_tables, chance_of, collect_cells, current_records, load_submissions
from benchmark.runner import evaluate
from benchmark.scoring.aggregate import bootstrap_ci, bootstrap_indices, normalised_score, normalised_scores
from benchmark.scoring.metrics import METRICS, scored_set
from benchmark.submission.records import append_records, read_records, run_path
from benchmark.task.discovery import discover_task_dirs


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, list]:
    tasks_root = make_suite(tmp_path / "tasks")
    subs = tmp_path / "subs"
    for model in ("majority", "random"):
        evaluate(model, out=subs, tasks_root=tasks_root)
    evaluate("random", out=subs, tasks_root=tasks_root, name="random-short", limit=5, model_args={"seed": "3"})
    return subs, load_tasks(discover_task_dirs([tasks_root]))


def _reference_cell(sub: Path, task) -> tuple[float, tuple[float, float], np.ndarray]:
    """One cell the way it was computed before: its own scored set, its own replicates."""
    records = current_records(sub, task)
    spec = METRICS[task.card.metric]
    scored = scored_set(task.card.metric, records, task.card.labels or ())
    idx = bootstrap_indices(scored.n, min(1000, spec.resamples), task_seed(task.key))
    rows = np.array([[e.id for e in task.split("test")].index(r.id) for r in records])
    chance = chance_of(task)
    reps = normalised_scores(scored.replicates(idx), chance.replicates(rows[idx]), spec)
    return normalised_score(scored.value(), chance.value(rows), spec), bootstrap_ci(scored.replicates(idx)), reps


def test_all_models_at_once_equals_cell_by_cell(built) -> None:
    subs, tasks = built
    cells = collect_cells(load_submissions(subs), tasks)
    assert len(cells) == 9 and {c.n for c in cells} >= {5, 32}
    for cell in cells:
        normalised, ci, reps = _reference_cell(subs / cell.model, cell.task)
        # Bit for bit, not within a tolerance: a cell must not depend on which models share its batch.
        assert _same_float(cell.normalised, normalised)
        assert all(_same_float(a, b) for a, b in zip(cell.ci, ci, strict=True))
        assert np.array_equal(cell.normalised_reps, reps, equal_nan=True)


def _same_float(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@pytest.fixture
def many_models(built) -> tuple[Path, list]:
    """``built`` plus four more seeded random models, so build batches can be cut in many ways."""
    subs, tasks = built
    tasks_root = subs.parent / "tasks"
    for seed in range(4, 8):
        evaluate("random", out=subs, tasks_root=tasks_root, name=f"random-{seed}", model_args={"seed": str(seed)})
    return subs, tasks


def _cell_numbers(cell) -> tuple:
    return (cell.model, cell.task.key, cell.value, cell.ci, cell.normalised, cell.chance, cell.na_rate, cell.n)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_cells_are_identical_whatever_models_are_built_together(many_models, data) -> None:
    subs, tasks = many_models
    everyone = load_submissions(subs)
    together = {(c.model, c.task.key): c for c in collect_cells(everyone, tasks)}
    batch_of = data.draw(st.lists(st.integers(0, 3), min_size=len(everyone), max_size=len(everyone)))
    for batch in set(batch_of):
        members = [s for s, b in zip(everyone, batch_of, strict=True) if b == batch]
        for cell in collect_cells(members, tasks):
            other = together[(cell.model, cell.task.key)]
            assert repr(_cell_numbers(cell)) == repr(_cell_numbers(other))  # repr: NaN equals NaN
            assert np.array_equal(cell.normalised_reps, other.normalised_reps, equal_nan=True)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_written_tables_are_identical_whatever_the_cache_holds(many_models, tmp_path_factory, data) -> None:
    subs, tasks = many_models
    out = tmp_path_factory.mktemp("tables")
    reference = _table_bytes(build_tables(subs, tasks), out / "fresh")
    cache = out / ".cache"
    build_tables(subs, tasks, cache=cache)
    files = sorted(str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_file())
    damaged = data.draw(st.lists(st.sampled_from(files), unique=True))
    for name in damaged:
        if data.draw(st.booleans()):
            (cache / name).unlink()
        else:
            (cache / name).write_bytes(b"damaged")
    assert _table_bytes(build_tables(subs, tasks, cache=cache), out / "cached") == reference


def _table_bytes(board, folder: Path) -> dict[str, bytes]:
    written = write_tables(board, folder)
    return {p.name: p.read_bytes() for p in written if p.name in ("tasks.csv", "leaderboard.json", "dimensions.csv")}


def test_cell_cache_is_invisible_and_incremental(built, tmp_path: Path) -> None:
    subs, tasks = built
    cache = tmp_path / "tables" / ".cache"
    fresh = build_tables(subs, tasks)
    first = build_tables(subs, tasks, cache=cache)
    names = ["majority", "random", "random-short"]
    assert sorted(p.name for p in cache.glob("*.json")) == sorted([f"{m}.json" for m in names] + ["chance.json"])
    assert all(len(list((cache / f"{m}.reps").glob("*.npy"))) == 1 for m in names)
    stamps = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    again = build_tables(subs, tasks, cache=cache)
    assert fresh.tasks == first.tasks == again.tasks and fresh.dimensions == first.dimensions == again.dimensions
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == stamps  # nothing recomputed or rewritten
    # One run file changes (one more record): only that submission's cache is rewritten, and the tables follow.
    task = next(t for t in tasks if t.card.task_type == "classification")
    path = run_path(subs / "random-short", task.name, task.card.version)
    extra = read_records(run_path(subs / "random", task.name, task.card.version))[5]
    append_records(path, [extra])
    updated = build_tables(subs, tasks, cache=cache)
    assert updated.tasks == build_tables(subs, tasks).tasks
    changed = {p.name for p in cache.glob("*.json") if p.stat().st_mtime_ns != stamps[p.name]}
    assert changed == {"random-short.json"}
    row = next(r for r in updated.tasks if r["model"] == "random-short" and r["task"] == task.name)
    assert row["n"] == 6
    # A damaged cache file is ignored, never trusted.
    (cache / "random.json").write_bytes(b"not a cache")
    assert build_tables(subs, tasks, cache=cache).tasks == updated.tasks


def test_csv_tables_match_what_pandas_wrote(built, tmp_path: Path) -> None:
    subs, tasks = built
    board = build_tables(subs, tasks)
    written = write_tables(board, tmp_path / "out")
    for name, rows in (("tasks", board.tasks), ("dimensions", board.dimensions)):
        path = next(p for p in written if p.name == f"{name}.csv")
        assert path.read_text() == pd.DataFrame(rows).to_csv(index=False, lineterminator="\n")


def test_leaderboard_json_is_what_json_dumps_wrote(built, tmp_path: Path) -> None:
    subs, tasks = built
    board = build_tables(subs, tasks)
    written = write_tables(board, tmp_path / "out")
    path = next(p for p in written if p.name == "leaderboard.json")
    assert path.read_text() == json.dumps(board.tables(), indent=2, sort_keys=True) + "\n"
    assert any(isinstance(v, dict) for r in board.tables()["models"] for v in r.values())  # both row kinds seen
    odd = {
        "b": [{}, {"n": float("nan"), "i": -math.inf, "s": 'é"\n<', "t": True, "z": None, "k": {"x": [1, {}]}}],
        "a": [],
    }
    assert tables_json(odd) == json.dumps(odd, indent=2, sort_keys=True)


def test_chance_reads_its_one_answer_once_with_the_same_scores() -> None:
    """The chance level keeps each reading of its constant answer; every row equals scoring it afresh."""
    from benchmark.report.tables import ScoredRow
    from benchmark.scoring.chance import majority_answer
    from benchmark.submission.scorer import scorer_for

    tasks = load_tasks(discover_task_dirs([Path(__file__).resolve().parents[2] / "tasks"]))
    checked = 0
    for task in tasks:
        chance = chance_of(task)
        if chance.scored is None:
            continue
        card = task.card
        answer = majority_answer(card.task_type, [e.label for e in task.split("train")], card.labels or ())
        fresh = scorer_for(task)  # no kept readings
        rows = [fresh(e, answer) for e in task.split("test")]
        expected = [
            ScoredRow(e.label, s.answer, s.score, s.errors, s.ref_units, s.value)
            for e, s in zip(task.split("test"), rows, strict=True)
        ]
        got = scored_set(card.metric, expected, card.labels or ())
        assert chance.scored.answers == got.answers, task.key
        assert np.array_equal(chance.scored.scores, got.scores, equal_nan=True), task.key
        assert _same_float(chance.value(), got.value()), task.key
        checked += 1
    assert checked >= 20
