"""The instruction-following tables from real constraint runs: IF, the constraint tax, joint success, forgetting."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import make_task, read_examples, write_examples
from listeners import Forgets, Ignores, Obeys

from benchmark.planning import load_tasks
from benchmark.report.build import build_leaderboard as build_all
from benchmark.report.export import write_tables
from benchmark.report.tables import TABLES, Leaderboard
from benchmark.report.trust import build_leaderboard
from benchmark.runner import evaluate
from benchmark.task.discovery import discover_task_dirs

SETS = [{"id": "upper"}, {"id": "json"}, {"id": "words_max"}, {"id": "ends_with"}]
FOLLOWING = ("following", "following_models", "following_dimensions", "following_families")


def _native(tasks: Path) -> None:
    """A task whose examples carry their own constraint: checked in the plain run."""
    folder = make_task(tasks, "NativeTone", card_overrides={"dimension": "speaker"})
    rows = read_examples(folder)
    instruction = "Is the tone high or low? Answer in capital letters only."
    write_examples(folder, [{**r, "instruction": instruction, "constraints": [{"id": "upper"}]} for r in rows])


def _set_card(sub: Path, **fields: object) -> None:
    card = json.loads((sub / "model.json").read_text())
    (sub / "model.json").write_text(json.dumps({**card, **fields}))


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> tuple[Leaderboard, Path]:
    root = tmp_path_factory.mktemp("following")
    tasks, subs = root / "tasks", root / "subs"
    make_task(tasks, card_overrides={"constraints": SETS})
    make_task(tasks, "MusicTone", card_overrides={"constraints": SETS, "dimension": "music"})
    make_task(tasks, "ToneF1", card_overrides={"constraints": SETS, "metric": "macro_f1"})
    _native(tasks)
    constrained = ["ToneHeight", "MusicTone", "ToneF1"]
    models = {"ignores": Ignores(), "forgets": Forgets(), "cascade-ref": Obeys(), "tuned": Obeys()}
    for name, model in models.items():
        evaluate(model, constrained, subs, tasks_root=tasks, name=name)
        evaluate(model, constrained, subs, tasks_root=tasks, name=name, constraints="all")
    evaluate(Obeys(), "NativeTone", subs, tasks_root=tasks, name="tuned")
    _set_card(subs / "cascade-ref", adapter="cascade:asr+lm")  # the board's reference: an LLM reading transcripts
    _set_card(subs / "tuned", backbone="ignores")  # its own text backbone overrides the board's reference
    return build_leaderboard(subs, load_tasks(discover_task_dirs([tasks]))), root


def _one(rows: list[dict], **match: object) -> dict:
    found = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, rows)
    return found[0]


def test_ignoring_constraints_and_obeying_with_the_wrong_label_are_told_apart(board) -> None:
    lb, _ = board
    ignores, forgets = (_one(lb.following, model=m, task="ToneHeight") for m in ("ignores", "forgets"))
    assert ignores["if_strict"] <= 0.25 and ignores["tax"] == 0 and ignores["plain_score"] == 1
    assert forgets["if_strict"] == 1 and forgets["if_loose"] == 1 and forgets["check_strict"] == 1
    assert (forgets["plain_score"], forgets["constrained_score"], forgets["tax"]) == (1, 0, -1)
    assert forgets["tax_ci_high"] == -1 and forgets["joint_success"] == 0  # followed every time, never right
    assert ignores["joint_success"] == ignores["if_strict"]  # always right: joint success is its IF
    assert (forgets["examples"], forgets["records"], forgets["checks"]) == (32, 128, 128)
    models = {r["model"]: r for r in lb.following_models}
    assert models["forgets"]["tax"] == -1 and models["ignores"]["tax"] == 0
    assert models["forgets"]["if_strict"] > models["ignores"]["if_strict"] + 0.5


def test_family_rates_say_which_constraints_are_ignored(board) -> None:
    lb, _ = board
    upper = _one(lb.following_families, model="ignores", task="all", family="upper")
    assert upper["strict"] == 0 and upper["tasks"] == 3 and upper["checks"] == 3 * 32
    assert all(r["strict"] == 1 for r in lb.following_families if r["model"] == "forgets")
    assert {r["family"] for r in lb.following_families} >= {"upper", "json"}


def test_intervals_contain_their_point(board) -> None:
    lb, _ = board
    rows = lb.following + lb.following_models + lb.following_dimensions
    checked = 0
    for row in rows:
        for col in ("if_strict", "if_loose", "tax"):
            if row[col] is not None:
                assert row[f"{col}_ci_low"] <= row[col] <= row[f"{col}_ci_high"], (col, row)
                checked += 1
    assert checked > 30
    wide = _one(lb.following, model="ignores", task="ToneHeight")
    assert wide["if_strict_ci_low"] < wide["if_strict"] < wide["if_strict_ci_high"]  # not a degenerate interval


def _mean(values: list) -> float:
    return float(np.mean([v for v in values if v is not None]))


SUMMARISED = ("if_strict", "if_loose", "check_strict", "check_loose", "joint_success")


def test_every_aggregate_is_the_mean_of_the_rows_it_summarises(board) -> None:
    lb, _ = board
    for model in lb.following_models:
        tasks = [r for r in lb.following if r["model"] == model["model"]]
        assert model["tasks"] == len(tasks)
        for col in SUMMARISED:
            assert model[col] == pytest.approx(_mean([r[col] for r in tasks]), abs=1e-6), col
        accuracy = [r["tax"] for r in tasks if r["metric"] == "accuracy" and r["tax"] is not None]
        assert model["tax_tasks"] == len(accuracy) and model["tax"] == pytest.approx(_mean(accuracy), abs=1e-6)
    for dim in lb.following_dimensions:
        tasks = [r for r in lb.following if (r["model"], r["dimension"]) == (dim["model"], dim["dimension"])]
        for col in SUMMARISED:
            assert dim[col] == pytest.approx(_mean([r[col] for r in tasks]), abs=1e-6), col
    for fam in (r for r in lb.following_families if r["task"] == "all"):
        parts = [r for r in lb.following_families if (r["model"], r["family"]) == (fam["model"], fam["family"])]
        parts = [r for r in parts if r["task"] != "all"]
        assert fam["strict"] == pytest.approx(_mean([r["strict"] for r in parts]), abs=1e-6)
        assert fam["loose"] == pytest.approx(_mean([r["loose"] for r in parts]), abs=1e-6)
    shown = {(d["model"], d["dimension"]) for d in lb.following_dimensions}
    assert shown >= {("ignores", "audio"), ("tuned", "speaker")}


def test_the_tax_is_not_averaged_across_metrics_and_is_na_where_it_cannot_be_read(board) -> None:
    lb, _ = board
    f1 = _one(lb.following, model="forgets", task="ToneF1")
    assert f1["tax"] is None and f1["tax_note"].startswith("n/a") and f1["if_strict"] == 1
    audio = _one(lb.following_dimensions, model="forgets", dimension="audio")
    assert (audio["tasks"], audio["tax_tasks"], audio["tax"]) == (2, 1, -1)
    native = _one(lb.following, model="tuned", task="NativeTone")
    assert (native["source"], native["if_strict"], native["tax"]) == ("native", 1, None)


def test_forgetting_is_measured_against_the_backbone_or_the_board_reference(board) -> None:
    lb, _ = board
    models = {r["model"]: r for r in lb.following_models}
    assert models["cascade-ref"]["reference"] is True and models["cascade-ref"]["forgetting"] is None
    assert models["ignores"]["reference"] is True  # the backbone of "tuned"
    assert models["forgets"]["reference"] is False
    for name in ("ignores", "forgets"):
        row = models[name]
        assert row["reference_model"] == "cascade-ref" and row["reference_if_strict"] == 1
        assert row["forgetting"] == pytest.approx(row["if_strict_shared"] - 1, abs=1e-6)
    assert models["ignores"]["forgetting"] < -0.5 and models["forgets"]["forgetting"] == 0
    tuned = models["tuned"]
    assert tuned["reference_model"] == "ignores" and tuned["reference_tasks"] == 3  # NativeTone: ignores never ran it
    expected = (tuned["if_strict_shared"] - tuned["reference_if_strict"]) / tuned["reference_if_strict"]
    assert tuned["forgetting"] == pytest.approx(expected, abs=1e-5) and tuned["forgetting"] > 1
    task = _one(lb.following, model="tuned", task="MusicTone")
    ref = _one(lb.following, model="ignores", task="MusicTone")["if_strict"]
    assert task["reference_if_strict"] == ref and task["forgetting"] == pytest.approx((1 - ref) / ref, abs=1e-5)


def test_tables_are_the_same_whatever_the_cell_cache_holds(board) -> None:
    lb, root = board
    tasks = load_tasks(discover_task_dirs([root / "tasks"]))
    cold = build_leaderboard(root / "subs", tasks, cache=root / "cache")
    warm = build_leaderboard(root / "subs", tasks, cache=root / "cache")
    for name in FOLLOWING:
        assert getattr(cold, name) == getattr(warm, name) == getattr(lb, name), name


def test_following_tables_are_exported_and_shown(board) -> None:
    lb, root = board
    assert set(FOLLOWING) <= set(TABLES)
    written = {p.name for p in write_tables(lb, root / "tables")}
    assert {f"{name}.csv" for name in FOLLOWING} <= written
    data = json.loads((root / "tables" / "leaderboard.json").read_text())
    assert data["following_models"] == json.loads(json.dumps(lb.following_models))
    assert "## Instruction following" in (root / "tables" / "leaderboard.md").read_text()
    tasks = load_tasks(discover_task_dirs([root / "tasks"]))
    subs = root / "crafted"
    shutil.copytree(root / "subs", subs)
    run = subs / "forgets+constraints" / "runs" / "ToneHeight@1.0.0.jsonl"
    lines = run.read_text().splitlines()
    crafted = json.loads(lines[0])
    crafted["checks"][0]["id"] = "<b>family</b>"  # records are untrusted: a check id is shown escaped
    run.write_text("\n".join([json.dumps(crafted), *lines[1:]]) + "\n")
    build_all(subs, tasks, root / "out", root / "site")
    page = (root / "site" / "following.html").read_text()
    assert "&lt;b&gt;family&lt;/b&gt;" in page and "<b>family" not in page
    assert "Instruction following" in page and "cascade-ref" in page and "reference" in page
    assert 'href="following.html"' in (root / "site" / "index.html").read_text()
    assert "Instruction following" in (root / "site" / "models" / "forgets.html").read_text()
    assert (root / "site" / "data" / "following_models.csv").is_file()
