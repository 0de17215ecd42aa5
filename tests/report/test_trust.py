"""The trust tables from real runs: audio reliance and its flags, instruction robustness, yes-bias."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import make_task, read_examples, write_examples
from listeners import ENTRIES, Deaf, Echo, Hears, Pitch, Reader, Yes
from typer.testing import CliRunner

import benchmark.adapters.registry as registry
from benchmark.cli import app
from benchmark.planning import load_tasks
from benchmark.report.tables import Leaderboard
from benchmark.report.trust import build_leaderboard
from benchmark.runner import evaluate
from benchmark.task.discovery import discover_task_dirs


def _leaky(tasks: Path) -> None:
    """A task whose per-example prompts give the label away: solvable without listening."""
    folder = make_task(tasks, "LeakyTone")
    rows = read_examples(folder)
    write_examples(folder, [{**r, "instruction": f"Is this {r['label']} tone high or low?"} for r in rows])


def _yes_no(tasks: Path) -> None:
    folder = make_task(tasks, "HighTone", card_overrides={"labels": ["yes", "no"], "instructions": YES_NO})
    rows = read_examples(folder)
    write_examples(folder, [{**r, "label": "yes" if r["label"] == "high" else "no"} for r in rows])


YES_NO = [f"{q} Answer yes or no." for q in ("Is it high?", "High tone?", "Is the tone high?", "High?", "Is it up?")]


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> tuple[Leaderboard, Path]:
    root = tmp_path_factory.mktemp("trust")
    tasks, subs = root / "tasks", root / "subs"
    make_task(tasks)
    _leaky(tasks)
    _yes_no(tasks)
    for name, model in (("pitch", Pitch()), ("deaf", Deaf()), ("reader", Reader()), ("echo", Echo())):
        evaluate(model, ["ToneHeight", "LeakyTone"], subs, tasks_root=tasks, name=name)
        evaluate(model, ["ToneHeight", "LeakyTone"], subs, tasks_root=tasks, name=name, control="silence")
    evaluate(Pitch(), "ToneHeight", subs, tasks_root=tasks, name="pitch", instructions="all")
    evaluate(Yes(), "HighTone", subs, tasks_root=tasks, name="yes")
    for name, model in (("deaf", Deaf()), ("hears", Hears())):  # Deaf answers the first label: "yes"
        evaluate(model, "HighTone", subs, tasks_root=tasks, name=name)
        evaluate(model, "HighTone", subs, tasks_root=tasks, name=name, control="silence")
    return build_leaderboard(subs, load_tasks(discover_task_dirs([tasks]))), root


def _one(rows: list[dict], **match: object) -> dict:
    found = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, rows)
    return found[0]


def test_controls_stay_off_the_main_board(board) -> None:
    lb, _ = board
    assert {m["name"] for m in lb.models} == {"pitch", "deaf", "reader", "echo", "yes", "hears"}
    assert not any("+" in r["model"] for r in lb.tasks + lb.dimensions)


def test_reliance_is_score_minus_control_score(board) -> None:
    lb, _ = board
    row = _one(lb.controls, model="echo", task="ToneHeight")
    assert row["reliance"] == pytest.approx(row["normalised"] - row["control_normalised"], abs=0.02)
    pitch = _one(lb.controls, model="pitch", task="ToneHeight")
    assert pitch["value"] > pitch["control_value"]  # it listens: silence costs it its high answers
    dim = _one(lb.control_dimensions, model="pitch", dimension="audio")
    assert dim["reliance"] > 0 and dim["ci_low"] <= dim["reliance"] <= dim["ci_high"]
    assert _one(lb.control_dimensions, model="deaf", dimension="audio")["reliance"] == 0


def test_dropped_audio_is_flagged_only_for_the_model_that_ignores_it(board) -> None:
    lb, _ = board
    assert _one(lb.control_models, model="deaf")["dropped_audio"] is True
    assert _one(lb.control_models, model="deaf")["identical"] == 1.0
    assert _one(lb.control_models, model="pitch")["dropped_audio"] is False
    assert _one(lb.control_models, model="echo")["identical"] == 0.0  # every clip heard is a different clip


def test_text_only_shortcut_is_flagged_on_the_leaky_task(board) -> None:
    lb, _ = board
    assert _one(lb.controls, model="reader", task="LeakyTone")["text_shortcut"] is True
    assert _one(lb.controls, model="pitch", task="LeakyTone")["text_shortcut"] is False
    assert _one(lb.control_models, model="reader")["text_shortcut_tasks"] == "LeakyTone"


def test_robustness_mean_worst_and_spread(board) -> None:
    lb, _ = board
    row = _one(lb.robustness, model="pitch", task="ToneHeight")
    assert row["variants"] == 5 and row["n"] == 32
    assert (row["mean"], row["worst"], row["spread"]) == (pytest.approx(0.8), 0.0, 1.0)  # "Classify" is refused
    assert row["worst_instruction"] == 4  # "Classify the tone as high or low."
    summary = _one(lb.robustness_models, model="pitch")
    assert summary["tasks"] == 1 and summary["worst_normalised"] < summary["mean_normalised"]


def test_yes_bias_on_yes_no_tasks_only(board) -> None:
    lb, _ = board
    row = _one(lb.yes_bias, model="yes")
    assert (row["task"], row["yes_rate"], row["label_yes_rate"], row["yes_bias"]) == ("HighTone", 1.0, 0.5, 0.5)
    assert row["silence_yes_rate"] is None  # no silence control of this model
    assert {r["task"] for r in lb.yes_bias} == {"HighTone"}


@pytest.mark.parametrize(("model", "yes", "on_silence"), [("deaf", 1.0, 1.0), ("hears", 0.5, 0.0)])
def test_yes_rate_on_silence_exposes_hallucination(board, model, yes, on_silence) -> None:
    lb, _ = board
    row = _one(lb.yes_bias, model=model)
    assert (row["yes_rate"], row["silence_yes_rate"]) == (yes, on_silence)


def test_leaderboard_build_exports_and_shows_the_trust_tables(board, monkeypatch) -> None:
    _, root = board
    monkeypatch.setattr(registry, "REGISTRY", {**registry.REGISTRY, **ENTRIES})
    out, site = root / "tables", root / "site"
    args = ["--submissions", str(root / "subs"), "--tasks-root", str(root / "tasks"), "--out", str(out)]
    result = CliRunner().invoke(app, ["leaderboard", "build", *args, "--site", str(site)])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "leaderboard.json").read_text())
    assert {"controls", "control_dimensions", "control_models", "robustness", "yes_bias"} <= data.keys()
    assert (out / "control_models.csv").read_text().count("\n") == 6  # header + 5 models
    markdown = (out / "leaderboard.md").read_text()
    assert "## Audio reliance" in markdown and "## Yes-bias" in markdown and "**yes**" in markdown
    index = (site / "index.html").read_text()
    assert "Trust checks" in index and '<span class="flag">yes</span>' in index
    assert "Instruction robustness" in (site / "models/pitch.html").read_text()
    assert (site / "data/robustness.csv").is_file()
    leaky = (site / "tasks/LeakyTone.html").read_text()
    assert "Without the audio" in leaky and '<span class="flag">yes</span>' in leaky
