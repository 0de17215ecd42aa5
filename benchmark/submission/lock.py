"""One writer per submission folder: ``bench run`` and ``bench score`` hold ``<submission>/.lock``.

Two runs into one submission, started together, would both plan the same pending
examples and both append their records (duplicates, interleaved batches). The lock
is taken before planning and held until the last record is written, so the second
invocation either waits (``--wait SECONDS``) and then finds the work done, or exits
at once naming the holder.

The lock is an advisory ``flock`` on the lock file, which the kernel releases when
the holder dies, so a crashed run never leaves a lock that blocks the next one; the
file's contents (PID, host, start time, command) only name the holder in messages.
A lock file left by a dead process is simply taken over. The file is removed on
release, after checking that it is still the file this process locked.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

LOCK_NAME = ".lock"
POLL_SECONDS = 0.1


class SubmissionLocked(Exception):
    """Another process holds the submission's lock (the message names it)."""


def holder_of(folder: Path) -> dict[str, object]:
    """What the lock file says about its holder (empty if unreadable or absent)."""
    try:
        data = json.loads((folder / LOCK_NAME).read_text(encoding="utf-8")[:4096])
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def describe(holder: dict[str, object]) -> str:
    """``PID 123 on host h since t (bench run ...)``, from what is known."""
    if not holder:
        return "another process (it has not written its name yet)"
    argv = holder.get("command")
    command = " ".join(str(c) for c in argv)[:120] if isinstance(argv, list) else ""
    text = f"PID {holder.get('pid')} on host {holder.get('host')} since {holder.get('started')}"
    return text + (f" ({command})" if command else "")


def _try_lock(path: Path) -> int | None:
    """An fd holding the lock on ``path``, or None if another process holds it."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the previous holder removed the file as we locked it: lock the new one


def _write_holder(fd: int) -> None:
    info = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": sys.argv[:20],
    }
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(info) + "\n").encode("utf-8", "replace"), 0)


@contextmanager
def submission_lock(folder: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold the submission's lock for the block; wait up to ``wait`` seconds for another holder.

    Raises:
        SubmissionLocked: still held by another process after ``wait`` seconds.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    deadline = time.monotonic() + max(wait, 0.0)
    while (fd := _try_lock(path)) is None:
        if time.monotonic() >= deadline:
            how = f"still held after waiting {wait:g} s" if wait > 0 else "pass --wait SECONDS to wait for it"
            raise SubmissionLocked(f"{folder} is in use by {describe(holder_of(folder))}; {how}")
        time.sleep(POLL_SECONDS)
    try:
        _write_holder(fd)
        yield
    finally:
        try:
            path.unlink()  # still ours: we hold the flock, and _try_lock checked the inode
        except OSError:
            pass
        os.close(fd)


@contextmanager
def guarded(folder: Path, wait: float, error: Callable[[str], Exception], *, hold: bool = True) -> Iterator[None]:
    """Hold the lock for the block; a taken lock, an unlockable folder or a failed write raise ``error(message)``.

    A full disk, a quota or a read-only folder while writing becomes one line that says
    the records written so far are kept and how to resume. Callers plan under the lock
    too (planning reads what is done), so a second run finds the first one's work done.
    ``hold=False`` (a dry run) takes no lock.
    """
    with ExitStack() as stack:
        try:
            if hold:
                stack.enter_context(submission_lock(folder, wait))
        except SubmissionLocked as exc:
            raise error(str(exc)) from exc
        except OSError as exc:
            raise error(f"cannot lock {folder}: {exc.strerror or exc} (is the folder writable?)") from exc
        try:
            yield
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            raise error(
                f"{exc.strerror or exc}{where}: records written so far are kept; free space or fix permissions, "
                "then re-run the same command to resume"
            ) from exc
