"""One writer per submission: real processes contend for the lock; records never double or interleave."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import make_task

from benchmark.submission.lock import LOCK_NAME, SubmissionLocked, holder_of, submission_lock
from benchmark.submission.records import read_records

BENCH = [sys.executable, "-m", "benchmark.cli"]

HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from benchmark.submission.lock import submission_lock
    folder, ready, release = map(Path, sys.argv[1:4])
    with submission_lock(folder):
        ready.touch()
        deadline = time.monotonic() + 60
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
""")


@pytest.fixture
def tasks(tmp_path: Path) -> Path:
    make_task(tmp_path / "tasks", "ToneHeight", n_train=4, n_test=48)
    return tmp_path / "tasks"


def _run_args(tasks: Path, out: Path, *extra: str) -> list[str]:
    return [*BENCH, "run", "--model", "majority", "--tasks-root", str(tasks), "--out", str(out), *extra]


def _hold(tmp_path: Path, folder: Path) -> tuple[subprocess.Popen, Path]:
    ready, release = tmp_path / "ready", tmp_path / "release"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder), str(ready), str(release)])
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the holder did not start"
        time.sleep(0.02)
    return proc, release


def test_second_run_names_the_holder_then_waits_for_it(tasks: Path, tmp_path: Path) -> None:
    out = tmp_path / "subs"
    holder, release = _hold(tmp_path, out / "majority")
    try:
        busy = subprocess.run(_run_args(tasks, out), capture_output=True, text=True, timeout=120)
        assert busy.returncode == 2, busy.stderr
        assert f"in use by PID {holder.pid} on host {socket.gethostname()}" in busy.stderr
        assert "--wait" in busy.stderr and "Traceback" not in busy.stderr
        assert not (out / "majority" / "runs").exists()  # nothing planned or written while locked
        score = subprocess.run(
            [*BENCH, "score", str(out / "majority"), "--tasks-root", str(tasks), "--no-semantic"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert score.returncode == 2  # no runs/ yet: refused before the lock is even needed
        waiting = subprocess.Popen(_run_args(tasks, out, "--wait", "60"), stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        assert waiting.poll() is None, "the run must wait for the holder"
        release.touch()
        _, err = waiting.communicate(timeout=120)
        assert waiting.returncode == 0, err
    finally:
        release.touch()
        holder.wait(timeout=60)
    assert len(read_records(out / "majority" / "runs" / "ToneHeight@1.0.0.jsonl")) == 48
    assert not (out / "majority" / LOCK_NAME).exists()


def test_score_waits_for_the_same_lock(tasks: Path, tmp_path: Path) -> None:
    out = tmp_path / "subs"
    subprocess.run(_run_args(tasks, out), check=True, capture_output=True, timeout=120)
    holder, release = _hold(tmp_path, out / "majority")
    try:
        score_args = [*BENCH, "score", str(out / "majority"), "--tasks-root", str(tasks), "--no-semantic"]
        busy = subprocess.run(score_args, capture_output=True, text=True, timeout=120)
        assert busy.returncode == 2 and f"PID {holder.pid}" in busy.stderr
    finally:
        release.touch()
        holder.wait(timeout=60)


SLOW_BENCH = textwrap.dedent("""
    import sys, time
    import benchmark.adapters.registry as adapters
    from benchmark.adapters.baselines import MajorityAdapter

    class SlowMajority(MajorityAdapter):
        def predict(self, card, queries):
            time.sleep(0.03)  # long enough that two runs started together overlap
            return super().predict(card, queries)

    sys.modules["slow_adapter"] = sys.modules[__name__]
    adapters.REGISTRY["slow"] = adapters.AdapterEntry("slow", "slow_adapter:SlowMajority", "slow", "slow")
    from benchmark.cli import app
    app(sys.argv[1:], prog_name="bench")
""")


def test_two_runs_started_together_write_each_record_once(tasks: Path, tmp_path: Path) -> None:
    """The old bug: two runs planned the same pending examples and both appended them."""
    out = tmp_path / "subs"
    (tmp_path / "slow_bench.py").write_text(SLOW_BENCH)
    args = _run_args(tasks, out, "--batch-size", "1", "--wait", "120", "--name", "majority")
    args[1:3] = [str(tmp_path / "slow_bench.py")]
    args[args.index("majority")] = "slow"
    procs = [subprocess.Popen(args, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    run_file = out / "majority" / "runs" / "ToneHeight@1.0.0.jsonl"
    ids = [r.id for r in read_records(run_file)]
    assert len(ids) == len(set(ids)) == 48
    lines = run_file.read_text().splitlines()
    assert all(json.loads(line)["id"] for line in lines) and len(lines) == 48  # whole lines, none interleaved


def test_lock_left_by_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    folder = tmp_path / "sub"
    folder.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = {"pid": dead.pid, "host": socket.gethostname(), "started": "2020-01-01T00:00:00+00:00", "command": []}
    (folder / LOCK_NAME).write_text(json.dumps(stale))
    with submission_lock(folder):
        assert holder_of(folder)["pid"] == os.getpid()
    assert not (folder / LOCK_NAME).exists()


def test_lock_in_one_process_is_exclusive_and_released_on_error(tmp_path: Path) -> None:
    folder = tmp_path / "sub"
    with pytest.raises(RuntimeError), submission_lock(folder):
        with pytest.raises(SubmissionLocked, match=f"PID {os.getpid()}"), submission_lock(folder, wait=0.2):
            pass
        raise RuntimeError("boom")
    with submission_lock(folder):  # released by the error above
        pass
