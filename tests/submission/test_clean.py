"""`bench clean`: lists set-aside runs, temporary files, orphaned caches and interrupted builds; removes them."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import edit_card, make_task
from typer.testing import CliRunner

from benchmark.cli import app
from benchmark.submission.lock import submission_lock
from benchmark.submission.records import read_records

runner = CliRunner()


def bench(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    tasks = tmp_path / "tasks"
    folder = make_task(tasks, "ToneHeight", n_train=4, n_test=32)
    subs = tmp_path / "subs"
    run = ("run", "--model", "majority", "--tasks-root", str(tasks), "--out", str(subs))
    assert bench(*run).exit_code == 0
    edit_card(folder, description="Changed: the old records are set aside.")
    assert bench(*run).exit_code == 0  # the first run's records become ToneHeight@1.0.0.stale-1.jsonl
    (subs / "majority" / "runs" / "ToneHeight@1.0.0.jsonl.tmp").write_text("half a rewrite")
    (subs / "removed-model").mkdir()
    (subs / "removed-model" / "judge-cache.jsonl").write_text('{"k": "v"}\n')
    (tmp_path / "board" / ".site.tmp-abc").mkdir(parents=True)
    (tmp_path / "board" / ".site.tmp-abc" / "index.html").write_text("half a site")
    (tmp_path / "board" / "site").mkdir()
    return tmp_path


def _clean(ws: Path, *extra: str, input: str | None = None):
    return bench("clean", "--submissions", str(ws / "subs"), "--leaderboard", str(ws / "board"), *extra, input=input)


EXPECTED = {
    "subs/majority/runs/ToneHeight@1.0.0.stale-1.jsonl",
    "subs/majority/runs/ToneHeight@1.0.0.stale-1.why",
    "subs/majority/runs/ToneHeight@1.0.0.stale-1.header.json",
    "subs/majority/runs/ToneHeight@1.0.0.jsonl.tmp",
    "subs/removed-model",
    "board/.site.tmp-abc",
}


def _listed(output: str, ws: Path) -> set[str]:
    return {Path(line.split()[-1]).relative_to(ws).as_posix() for line in output.splitlines() if str(ws) in line}


def test_dry_run_lists_and_keeps_everything(workspace: Path) -> None:
    result = _clean(workspace, "--dry-run")
    assert result.exit_code == 0, result.output
    assert _listed(result.output, workspace) == EXPECTED
    assert all((workspace / p).exists() for p in EXPECTED)


@pytest.mark.parametrize("answer", ["n\n", ""])
def test_not_confirmed_removes_nothing(workspace: Path, answer: str) -> None:
    result = _clean(workspace, input=answer)
    assert result.exit_code == 1 and "nothing removed" in result.output and "--yes" in result.output
    assert all((workspace / p).exists() for p in EXPECTED)


@pytest.mark.parametrize("how", [("--yes",), ()])
def test_confirmed_removes_only_leftovers(workspace: Path, how: tuple[str, ...]) -> None:
    result = _clean(workspace, *how, input=None if how else "y\n")
    assert result.exit_code == 0, result.output
    assert not any((workspace / p).exists() for p in EXPECTED)
    assert len(read_records(workspace / "subs/majority/runs/ToneHeight@1.0.0.jsonl")) == 32
    assert (workspace / "subs/majority/model.json").is_file() and (workspace / "board/site").is_dir()
    assert (workspace / "subs/majority/runs/ToneHeight@1.0.0.header.json").is_file()
    assert _clean(workspace, "--dry-run").output.strip() == "0 item(s), 0 bytes"


def test_a_submission_in_use_is_skipped(workspace: Path) -> None:
    with submission_lock(workspace / "subs" / "majority"):
        result = _clean(workspace, "--yes")
    assert result.exit_code == 0 and "skipped 4 item(s)" in result.output and "in use by PID" in result.output
    assert (workspace / "subs/majority/runs/ToneHeight@1.0.0.stale-1.jsonl").exists()
    assert not (workspace / "subs/removed-model").exists()
