"""`bench validate` on submissions: model.json and run records against the current tasks."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import edit_card, make_suite
from typer.testing import CliRunner

from benchmark.cli import app
from benchmark.findings import CODES
from benchmark.submission.checks import validate_submission

runner = CliRunner()


def _run(suite: Path, out: Path, *extra: str) -> Path:
    result = runner.invoke(app, ["run", "--model", "random", "--tasks-root", str(suite), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return out / "random"


def _break_model_json(sub: Path, suite: Path) -> None:
    (sub / "model.json").write_text('{"name": "random"}')


def _bad_record(sub: Path, suite: Path) -> None:
    with (sub / "runs/ToneHeight@1.0.0.jsonl").open("a") as f:
        f.write('{"task": "ToneHeight"}\n')


def _unknown_task(sub: Path, suite: Path) -> None:
    (sub / "runs/GoneTask@1.0.0.jsonl").write_text("")


def _old_version(sub: Path, suite: Path) -> None:
    edit_card(suite / "ToneHeight", version="1.1.0")


def _incomplete(sub: Path, suite: Path) -> None:
    path = sub / "runs/ToneHeight@1.0.0.jsonl"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:10]))


def _changed_without_bump(sub: Path, suite: Path) -> None:
    edit_card(suite / "ToneHeight", description="Edited in place.")


CASES = [
    ("S100", _break_model_json, "model.json"),
    ("S101", _bad_record, "runs/ToneHeight@1.0.0.jsonl"),
    ("S102", _unknown_task, "runs/GoneTask@1.0.0.jsonl"),
    ("S103", _old_version, "runs/ToneHeight@1.0.0.jsonl"),
    ("S104", _incomplete, "runs/ToneHeight@1.0.0.jsonl"),
    ("S105", _changed_without_bump, "runs/ToneHeight@1.0.0.jsonl"),
]


def test_clean_submission_has_no_findings(tmp_path: Path) -> None:
    suite = make_suite(tmp_path / "tasks")
    sub = _run(suite, tmp_path / "subs")
    assert validate_submission(sub, suite) == []
    result = runner.invoke(app, ["validate", str(tmp_path / "subs"), "--tasks-root", str(suite)])
    assert result.exit_code == 0 and "0 task folder(s) and 1 submission(s) checked: 0 error(s)" in result.output


@pytest.mark.parametrize(("code", "mutate", "file"), CASES, ids=[c[0] for c in CASES])
def test_each_submission_rule(tmp_path: Path, code, mutate, file) -> None:
    suite = make_suite(tmp_path / "tasks")
    sub = _run(suite, tmp_path / "subs")
    mutate(sub, suite)
    findings = validate_submission(sub, suite)
    hit = next((f for f in findings if f.code == code), None)
    assert hit is not None, [f.render() for f in findings]
    assert hit.path == str(sub / file) and hit.level == CODES[code][0]


def test_every_submission_code_has_a_case() -> None:
    assert {c[0] for c in CASES} == {c for c in CODES if c.startswith("S")}


def test_bad_submission_name_is_a_usage_error(tmp_path: Path) -> None:
    suite = make_suite(tmp_path / "tasks")
    result = runner.invoke(app, ["run", "--model", "random", "--tasks-root", str(suite), "--name", "../x"])
    assert result.exit_code == 2 and "--name" in result.output
