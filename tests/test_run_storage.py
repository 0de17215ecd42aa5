"""A full disk or a read-only folder during a run: one-line error, earlier records intact, resume works."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from helpers import make_task
from typer.testing import CliRunner

from benchmark.cli import app
from benchmark.submission.records import read_records

runner = CliRunner()
RUN_FILE = Path("majority") / "runs" / "ToneHeight@1.0.0.jsonl"


def bench(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def tasks(tmp_path: Path) -> Path:
    make_task(tmp_path / "tasks", "ToneHeight", n_train=4, n_test=32)
    return tmp_path / "tasks"


def _run(tasks: Path, out: Path):
    return bench("run", "--model", "majority", "--tasks-root", str(tasks), "--out", str(out), "--batch-size", "4")


def _failing_writes(monkeypatch: pytest.MonkeyPatch, code: int, after_batches: int) -> None:
    """Run-file writes fail with ``code`` from batch ``after_batches + 1`` on, after writing half a batch."""
    real_write = os.write
    batches = {"n": 0}

    def write(fd: int, data) -> int:
        if not os.readlink(f"/proc/self/fd/{fd}").endswith(".jsonl"):
            return real_write(fd, data)
        batches["n"] += 1
        if batches["n"] <= after_batches:
            return real_write(fd, data)
        if batches["n"] == after_batches + 1:
            return real_write(fd, bytes(data[: len(data) // 2]))  # half a batch reaches the disk...
        raise OSError(code, os.strerror(code))  # ...then the disk is full

    monkeypatch.setattr(os, "write", write)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EDQUOT])
def test_failed_write_keeps_earlier_records_and_resume_completes(
    tasks: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    out = tmp_path / "subs"
    with monkeypatch.context() as patch:
        _failing_writes(patch, code, after_batches=3)
        result = _run(tasks, out)
    assert result.exit_code == 2
    message = result.output.strip().splitlines()[-1]
    assert os.strerror(code) in message and "re-run the same command to resume" in message
    assert "Traceback" not in result.output
    kept = read_records(out / RUN_FILE)
    assert [r.id for r in kept] == [f"{i:04d}" for i in range(4, 16)]  # three whole batches, no half batch
    assert (out / RUN_FILE).read_bytes().endswith(b"\n")
    result = _run(tasks, out)  # space is back
    assert result.exit_code == 0, result.output
    whole = _run(tasks, tmp_path / "fresh")
    assert whole.exit_code == 0
    resumed, fresh = read_records(out / RUN_FILE), read_records(tmp_path / "fresh" / RUN_FILE)
    assert [(r.id, r.output, r.score) for r in resumed] == [(r.id, r.output, r.score) for r in fresh]


def test_unwritable_output_folder_is_a_one_line_error(tasks: Path, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "subs"
    real_open = os.open

    def read_only(path, flags, *args, **kwargs):
        if str(path).startswith(str(out)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)

    out.mkdir()
    monkeypatch.setattr(os, "open", read_only)
    result = _run(tasks, out)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"cannot lock {out / 'majority'}: Read-only file system" in result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_runs_folder_mid_way(tasks: Path, tmp_path: Path) -> None:
    out = tmp_path / "subs"
    assert (
        bench("run", "--model", "majority", "--tasks-root", str(tasks), "--out", str(out), "--limit", "8").exit_code
        == 0
    )
    before = (out / RUN_FILE).read_bytes()
    (out / RUN_FILE).chmod(0o444)
    try:
        result = _run(tasks, out)
        assert result.exit_code == 2 and "Permission denied" in result.output
    finally:
        (out / RUN_FILE).chmod(0o644)
    assert (out / RUN_FILE).read_bytes() == before
    assert _run(tasks, out).exit_code == 0
    assert len(read_records(out / RUN_FILE)) == 32
