"""Checks that protect scores: each broken fixture yields its code; strict mode (CI) makes it an error."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import (
    README,
    card,
    edit_card,
    make_generation_task,
    make_regression_task,
    make_task,
    read_examples,
    tone,
    write_audio,
    write_examples,
)
from typer.testing import CliRunner

from benchmark.cli import app
from benchmark.findings import CODES, STRICT_CODES, strict
from benchmark.task.checks import validate_task
from benchmark.task.review import missing_labels, required_instructions, states_format

GOOD = card()["instructions"]
VAGUE = ["Listen.", "What is it?", "Answer now.", "Your answer?", "Tell me."]


def _all_high(folder: Path) -> None:
    rows = read_examples(folder)
    write_examples(folder, [{**r, "label": "high"} if r["split"] == "test" else r for r in rows])


def _readme(text: str) -> Callable[[Path], None]:
    return lambda folder: (folder / "README.md").write_text(text)


# (code, maker, mutation, field the finding names)
CASES: list[tuple[str, Callable[..., Path], Callable[[Path], None], str | None]] = [
    ("T107", make_task, lambda f: edit_card(f, description="TODO: say what it measures."), "description"),
    ("T107", make_task, lambda f: edit_card(f, authors=["TODO: your name"]), "authors[0]"),
    ("T402", make_task, _readme(README + "\nTODO: baseline numbers\n"), None),
    ("T135", make_task, lambda f: edit_card(f, instructions=VAGUE), "instructions[0]"),
    ("T135", make_task, lambda f: edit_card(f, instructions=[*GOOD[:4], "Is it high?"]), "instructions[4]"),
    ("T136", make_regression_task, lambda f: edit_card(f, instructions=VAGUE), "instructions[0]"),
    ("T136", make_generation_task, lambda f: edit_card(f, instructions=VAGUE), "instructions[0]"),
    ("T213", make_task, _all_high, "label"),
    ("T214", make_task, _all_high, "label"),
    ("T137", make_task, lambda f: None, "instructions"),
]


@pytest.mark.parametrize(("code", "maker", "mutate", "field"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_rule_finds_its_breach(tmp_path, code, maker, mutate, field) -> None:
    folder = maker(tmp_path)
    before = {f.code for f in validate_task(folder).findings}
    assert code not in before or code == "T137"
    mutate(folder)
    hits = [f for f in validate_task(folder).findings if f.code == code]
    assert hits, code
    assert hits[0].field == field and hits[0].level == "warning"
    assert CODES[code][0] == "warning"


def test_fixtures_meet_every_strict_rule(tmp_path) -> None:
    for maker in (make_task, make_regression_task, make_generation_task):
        findings = validate_task(maker(tmp_path / maker.__name__)).findings
        assert {f.code for f in findings} == {"T137"}  # 5 instructions for 32 test examples


def test_example_instructions_are_checked_too(tmp_path) -> None:
    folder = make_task(tmp_path)
    rows = read_examples(folder)
    rows[10]["instruction"] = "Which pitch is it?"
    rows[12]["instruction"] = "Is it low?"
    write_examples(folder, rows)
    hits = [f for f in validate_task(folder).findings if f.code == "T135"]
    assert len(hits) == 1 and hits[0].line == 11 and "2 example instruction(s)" in hits[0].message


def test_readme_section_exempts_a_task_from_naming_labels(tmp_path) -> None:
    folder = make_task(tmp_path)
    edit_card(folder, instructions=VAGUE)
    why = "\n## Why the instructions do not name the labels\nThe model must infer the label set.\n"
    (folder / "README.md").write_text(README + why)
    assert "T135" not in {f.code for f in validate_task(folder).findings}


@pytest.mark.parametrize(
    ("instruction", "labels", "missing"),
    [
        ("Is the speaker female or male?", ["female", "male"], []),
        ("Is the speaker female?", ["female", "male"], ["male"]),  # "male" inside "female" does not count
        ("Answer with play music, set alarm or call.", ["play music", "set_alarm", "call"], []),
        ("Which Digit?", ["digit", "letter"], ["letter"]),
    ],
)
def test_missing_labels(instruction, labels, missing) -> None:
    assert missing_labels(instruction, labels) == missing


@pytest.mark.parametrize(
    ("task_type", "languages", "instruction", "ok"),
    [
        ("regression", [], "How many beeps?", True),
        ("regression", [], "Estimate the SNR in decibels.", True),
        ("regression", [], "Give the rate in words per minute.", True),
        ("regression", [], "How loud is it?", False),
        ("regression", [], "Which percentage, in %?", True),
        ("generation", ["de"], "Schreib auf, was gesagt wird, auf German.", True),
        ("generation", ["en"], "Transcribe the speech.", True),
        ("generation", ["en"], "Respond to the recording.", False),
        ("generation", ["en"], "Listen closely.", False),  # "en" inside a word is not a language
    ],
)
def test_states_format(tmp_path, task_type, languages, instruction, ok) -> None:
    maker = make_regression_task if task_type == "regression" else make_generation_task
    folder = maker(tmp_path)
    edit_card(folder, languages=languages)
    card = validate_task(folder).card
    assert card is not None
    assert states_format(instruction, card) is ok


@pytest.mark.parametrize(("n", "need"), [(32, 10), (200, 10), (201, 11), (1000, 50)])
def test_required_instructions(n, need) -> None:
    assert required_instructions(n) == need


def test_strict_raises_score_protecting_warnings_only(tmp_path) -> None:
    folder = make_task(tmp_path)
    edit_card(folder, instructions=VAGUE)
    levels = {f.code: f.level for f in strict(validate_task(folder).findings)}
    assert levels["T135"] == "error" and levels["T137"] == "warning"
    assert "T137" not in STRICT_CODES and all(CODES[c][0] == "warning" for c in STRICT_CODES)


def test_cli_counts_strict_codes_as_errors_only_in_ci(tmp_path) -> None:
    folder = make_task(tmp_path)
    _all_high(folder)
    runner = CliRunner()
    assert runner.invoke(app, ["validate", str(folder)]).exit_code == 0
    gh = runner.invoke(app, ["validate", "--format", "github", str(folder)])
    assert gh.exit_code == 1 and "::error" in gh.output and "title=T213" in gh.output
    assert runner.invoke(app, ["validate", "--strict", str(folder)]).exit_code == 1


def test_unfilled_scaffold_is_flagged(tmp_path) -> None:
    """The issue's new-user path: scaffold, add audio and examples, leave the TODOs and one label."""
    runner = CliRunner()
    args = ["new-task", "PitchLevel", "--dimension", "audio", "--task-type", "classification", "--labels", "high,low"]
    assert runner.invoke(app, [*args, "--root", str(tmp_path)]).exit_code == 0
    folder = tmp_path / "PitchLevel"
    rows = []
    for i in range(40):
        write_audio(folder / f"audio/{i:04d}.flac", tone(200 + 7 * i))
        rows.append({"id": f"{i:04d}", "split": "train" if i < 8 else "test", "audio": f"audio/{i:04d}.flac"})
        rows[-1]["label"] = "high"
    write_examples(folder, rows)
    edit_card(folder, instructions=VAGUE)
    result = runner.invoke(app, ["validate", "--format", "json", "--strict", str(folder)])
    codes = {f["code"] for f in json.loads(result.output) if f["level"] == "error"}
    assert {"T107", "T402", "T135", "T213", "T214"} <= codes and result.exit_code == 1
