"""The task index: loaded tasks remembered by the stat of their files, as git's index remembers its tree.

Loading a task checks the whole contract (every audio header, duplicates across
splits) and hashes every file; on the shipped suite that is most of the time of a
``majority`` run. The index remembers, per task folder, a digest of the size,
mtime, ctime and inode of every file in it (the walk of
:class:`~benchmark.task.audio.FolderIndex`), the content hash, and the code that
checked it. When all of that is unchanged the folder is the one that passed, so
only ``task.json`` and ``examples.jsonl`` are parsed again (into the same models
the checks built) and the hash is taken from the index.

It is never trusted when anything differs: a file added, removed or touched, a
different harness version or checking code, a folder with a symlink (its target
could change unseen), or a file changed so recently that a second change could
keep its timestamp ("racily clean" in git's terms: such a folder is not stored).
The index lives outside the checkout (``<submissions>/.cache/tasks.json``);
deleting it costs one full load.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
import time
from concurrent.futures import Future
from pathlib import Path

from pydantic import TypeAdapter

from benchmark.task.audio import FolderIndex
from benchmark.task.card import Example, TaskCard
from benchmark.task.folder import Task, load_task, open_task, settle
from benchmark.task.hashing import HashPipeline
from benchmark.version import __version__

INDEX_FORMAT = 1
RACY_NS = 2_000_000_000
"""A folder whose newest file changed less than this before its check began is not stored (coarse timestamps)."""


@functools.cache
def code_stamp() -> str:
    """SHA-256 of the code that decides whether a folder loads: editing it empties the index."""
    package = Path(__file__).resolve().parents[1]
    files = [*sorted((package / "task").glob("*.py")), *sorted((package / "scoring").rglob("*.py"))]
    h = hashlib.sha256(__version__.encode())
    for path in [*files, package / "findings.py"]:
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


_EXAMPLES = TypeAdapter(list[Example])


def quick_load(root: Path) -> Task:
    """The task of a folder known to pass the checks: the card and examples parsed into the models the checks built.

    The checks parsed each line on its own (to name a bad one); a folder that passed
    them holds one JSON object per non-blank line, so the lines are read as one array.
    """
    # The card passed its rules when the folder was checked, under the same code (the index's stamp): not run again.
    card = TaskCard.model_validate_json((root / "task.json").read_bytes(), context={"skip_rules": True})
    with (root / "examples.jsonl").open("rb") as f:
        lines = [line for line in f if line.strip()]
    examples = tuple(_EXAMPLES.validate_json(b"[" + b",".join(lines) + b"]"))
    return Task.model_construct(root=root, card=card, examples=examples)  # both just validated


class TaskIndex:
    """Loads tasks through the index file ``path`` (``None``: no index, every load is a full one)."""

    def __init__(self, path: Path | None, settle_ns: int = RACY_NS, hasher: HashPipeline | None = None) -> None:
        self.path = path
        self.settle_ns = settle_ns
        """Folders changed less than this before their check are not stored."""
        self.hasher = hasher
        """Where full loads hash the audio they read (``open_task``); their tasks are primed by :meth:`settle`."""
        self.entries: dict[str, dict[str, str]] = self._read()
        self.changed = False
        self._pending: list[tuple[str, str | None, Task, Future[str]]] = []

    def _read(self) -> dict[str, dict[str, str]]:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_bytes())
        except (OSError, ValueError):
            return {}  # missing or unreadable: an empty index (it is only ever a shortcut)
        if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT or data.get("code") != code_stamp():
            return {}
        entries = data.get("tasks")
        return entries if isinstance(entries, dict) else {}

    def load(self, root: Path) -> Task:
        """The task in ``root``: from the index when its files are unchanged, else fully checked and hashed.

        With a ``hasher``, a fully loaded task's content hash may be pending until :meth:`settle`
        (or :meth:`save`) primes it.

        Raises:
            TaskLoadError: the folder breaks the contract.
        """
        if self.path is None:
            return load_task(root)
        key = str(root.resolve())
        started = time.time_ns()
        folder = FolderIndex.scan(root) if root.is_dir() else None
        signed = folder.signature() if folder is not None else None
        entry = self.entries.get(key)
        if signed is not None and isinstance(entry, dict) and entry.get("signature") == signed[0]:
            try:
                task = quick_load(root)
            except (OSError, ValueError):
                task = None  # cannot happen for an unchanged folder; a full load names the problem
            if task is not None and isinstance(entry.get("hash"), str):
                task.__dict__["content_hash"] = entry["hash"]  # primes the cached_property
                return task
        for waiting in self._pending:
            if waiting[0] == key:
                return waiting[2]  # listed twice: loaded a moment ago, its hash still being taken
        task, pending = open_task(root, folder, self.hasher)  # the checks reuse this walk
        stored = signed[0] if signed is not None and signed[1] < started - self.settle_ns else None
        if pending is not None:
            self._pending.append((key, stored, task, pending))
        elif stored is not None:
            self.entries[key] = {"signature": stored, "hash": task.content_hash}
            self.changed = True
        return task

    def settle(self) -> None:
        """Wait for the content hashes being taken in the background, prime their tasks and index them."""
        for key, stored, task, pending in self._pending:
            settle(task, pending)
            if stored is not None:
                self.entries[key] = {"signature": stored, "hash": task.content_hash}
                self.changed = True
        self._pending.clear()

    def save(self) -> None:
        """Settle, then write the index if it changed (atomically), dropping folders that no longer exist."""
        self.settle()
        if self.path is None or not self.changed:
            return
        tasks = {k: v for k, v in self.entries.items() if os.path.isdir(k)}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tasks-", suffix=".tmp", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"format": INDEX_FORMAT, "code": code_stamp(), "tasks": tasks}, f)
        os.replace(tmp, self.path)
        self.changed = False


def index_path(submissions: Path) -> Path:
    """Where the task index of a submissions folder lives."""
    return submissions / ".cache" / "tasks.json"
