"""`bench leaderboard build`: names every run it leaves out, --strict, atomic output, hostile run files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import make_task
from typer.testing import CliRunner

from benchmark.cli import app

runner = CliRunner()


def bench(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def board(tmp_path: Path) -> dict[str, Path]:
    tasks = tmp_path / "tasks"
    make_task(tasks, "ToneHeight", n_train=4, n_test=32)
    subs = tmp_path / "subs"
    result = bench("run", "--model", "majority", "--tasks-root", str(tasks), "--out", str(subs), "--no-semantic")
    assert result.exit_code == 0, result.output
    return {"tasks": tasks, "subs": subs, "runs": subs / "majority" / "runs", "root": tmp_path}


def build(b: dict[str, Path], *extra: str):
    root = b["root"]
    args = ["leaderboard", "build", "--submissions", str(b["subs"]), "--tasks-root", str(b["tasks"])]
    return bench(*args, "--out", str(root / "tables"), "--site", str(root / "site"), *extra)


def test_clean_board_leaves_nothing_out(board: dict[str, Path]) -> None:
    result = build(board, "--strict")
    assert result.exit_code == 0, result.output
    assert "left out" not in result.output
    assert (board["root"] / "site" / "index.html").is_file()
    assert [p.name for p in board["root"].iterdir() if ".tmp-" in p.name or ".old-" in p.name] == []


LEFT_OUT = [
    # (what to put under runs/, a phrase the reason must hold)
    ("Unknown@1.0.0.jsonl", "unknown task Unknown"),
    ("ToneHeight@0.9.0.jsonl", "other version"),
    ("ToneHeight@1.0.0.stale-1.jsonl", "stale"),
    ("notarunfile.jsonl", "not a run file name"),
]


@pytest.mark.parametrize(("name", "reason"), LEFT_OUT)
def test_every_left_out_run_is_named_and_strict_fails(board: dict[str, Path], name: str, reason: str) -> None:
    shutil.copyfile(board["runs"] / "ToneHeight@1.0.0.jsonl", board["runs"] / name)
    result = build(board)
    assert result.exit_code == 0, result.output
    assert f"left out {board['runs'] / name}" in result.output and reason in result.output
    table = json.loads((board["root"] / "tables" / "leaderboard.json").read_text())
    assert [r["task"] for r in table["tasks"]] == ["ToneHeight"]  # the good run still counts
    result = build(board, "--strict")
    assert result.exit_code == 2 and reason in result.output


def _rewrite(path: Path, edit) -> None:
    lines = path.read_text().splitlines()
    path.write_text("\n".join(edit(lines)) + "\n")


def test_hash_mismatch_and_duplicates_are_named(board: dict[str, Path]) -> None:
    run = board["runs"] / "ToneHeight@1.0.0.jsonl"

    def other_hash(lines: list[str]) -> list[str]:
        first = json.loads(lines[0])
        first["task_hash"] = "0" * 64
        return [json.dumps(first), *lines[1:]]

    _rewrite(run, lambda lines: [*other_hash(lines), lines[1]])
    result = build(board)
    assert "1 of 33 records made on other task files (hash mismatch)" in result.output


HOSTILE = [
    ("a line that is not a record", lambda p: p.write_text(p.read_text() + '{"hello": 1}\n')),
    ("a 0xff byte", lambda p: p.write_bytes(p.read_bytes() + b"\xff\xfe\n")),
    ("a JSON list line", lambda p: p.write_text(p.read_text() + "[1, 2]\n")),
    ("nested 1000 deep", lambda p: p.write_text(p.read_text() + "[" * 1000 + "]" * 1000 + "\n")),
    ("an int of 5000 digits", lambda p: p.write_text(p.read_text() + '{"score": ' + "9" * 5000 + "}\n")),
    ("a directory", lambda p: (p.unlink(), p.mkdir())),
]


@pytest.mark.parametrize(("what", "damage"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_run_files_are_left_out_not_a_traceback(board: dict[str, Path], what: str, damage) -> None:
    damage(board["runs"] / "ToneHeight@1.0.0.jsonl")
    result = build(board)
    assert result.exit_code == 0, result.output
    assert "unreadable" in result.output
    score = bench("score", str(board["subs"] / "majority"), "--tasks-root", str(board["tasks"]), "--no-semantic")
    assert score.exit_code == 2 and "Traceback" not in score.output and "ToneHeight@1.0.0.jsonl" in score.output
    validate = bench("validate", str(board["subs"] / "majority"), "--tasks-root", str(board["tasks"]))
    assert validate.exit_code == 1 and "S101" in validate.output


@pytest.mark.parametrize("text", ["null", "[]", '"x"', "{", '{"name": "majority"}', "[" * 1000 + "]" * 1000])
def test_broken_model_json_is_named(board: dict[str, Path], text: str) -> None:
    (board["subs"] / "majority" / "model.json").write_text(text)
    result = build(board)
    assert result.exit_code == 0, result.output
    assert "model.json is not a valid model card" in result.output
    assert json.loads((board["root"] / "tables" / "leaderboard.json").read_text())["models"] == []


def test_failed_build_keeps_the_previous_board(board: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    assert build(board).exit_code == 0
    before = (board["root"] / "site" / "index.html").read_text()
    import benchmark.report.build as build_module

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(build_module, "build_site", broken)
    result = build(board)
    assert result.exit_code == 1 and "No space left on device" in result.output and "unchanged" in result.output
    assert (board["root"] / "site" / "index.html").read_text() == before
    leftovers = [p.name for p in board["root"].iterdir() if p.name.startswith(".")]
    assert leftovers == []
