"""A loaded task: its card, its examples and its folder; ``load_task`` checks the whole contract first."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from concurrent.futures import Future
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from benchmark.task.audio import FolderIndex, read_audio
from benchmark.task.card import Example, Split, TaskCard
from benchmark.task.checks import validate_task
from benchmark.task.hashing import HashPipeline


def instruction_index(task_name: str, example_id: str, n: int) -> int:
    """Pick an instruction deterministically from the task name and example id."""
    digest = hashlib.sha256(f"{task_name}/{example_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % n


class Task(BaseModel):
    """A loaded, validated task: its card, its examples and its folder."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    root: Path
    """The task folder."""
    card: TaskCard
    """The parsed ``task.json``."""
    examples: tuple[Example, ...]
    """Examples in file order."""

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Task:
        """A copy; one with other fields forgets what was worked out from the old ones (hash, splits, picks).

        Its ``content_hash`` is then taken again, over the files its own examples name.
        """
        copy = super().model_copy(update=update, deep=deep)
        if update:
            for key in _WORKED_OUT:
                copy.__dict__.pop(key, None)
        return copy

    @property
    def name(self) -> str:
        """The task name."""
        return self.card.name

    @property
    def key(self) -> str:
        """``Name@version``, the id of this exact revision of the task."""
        return self.card.key

    def split(self, split: Split) -> list[Example]:
        """Examples of one split, in file order (a new list: the caller may change it)."""
        found = self._splits.get(split)
        if found is None:
            found = self._splits[split] = tuple(e for e in self.examples if e.split == split)
        return list(found)

    @cached_property
    def _splits(self) -> dict[str, tuple[Example, ...]]:
        """Each split asked for, once (the examples of a task never change; a run and a build ask often)."""
        return {}

    def train_split(self) -> Task:
        """The task with its train examples only: what an adapter may learn from (never a test label)."""
        # Built from this task's own checked parts, so not validated again (once per task of every run).
        return Task.model_construct(root=self.root, card=self.card, examples=tuple(self.split("train")))

    def instruction_for(self, example: Example) -> str:
        """The instruction a model sees for ``example``: its own, or a stable pick from the card."""
        if example.instruction is not None:
            return example.instruction
        picked = self._picked.get(example.id)  # asked for by the query, the scorer and the record of each example
        if picked is None:
            options = self.card.instructions
            picked = self._picked[example.id] = options[instruction_index(self.card.name, example.id, len(options))]
        return picked

    @cached_property
    def _picked(self) -> dict[str, str]:
        """The card instruction picked for each example id asked about (a pure function of the name and the id)."""
        return {}

    def audio_files(self, example: Example) -> list[Path]:
        """Absolute paths of the example's clips (containment was checked at load time)."""
        return [self.root / p for p in example.audio_paths]

    def load_audio(self, example: Example) -> list[np.ndarray]:
        """Decode the example's clips as float32 mono arrays at 16 kHz.

        Raises:
            AudioError: a clip whose header passed the checks cannot be decoded (e.g. corrupt frames).
        """
        return [read_audio(p) for p in self.audio_files(example)]

    def load_references(self, example: Example) -> list[np.ndarray]:
        """Decode the example's reference audio (one clip per source), like ``load_audio``."""
        return [read_audio(self.root / p) for p in example.reference_paths]

    def load_file(self, rel: str) -> np.ndarray:
        """Decode one audio file the examples name (a speaker prompt, a distractor), like ``load_audio``."""
        return read_audio(self.root / rel)

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 over task.json, examples.jsonl and every referenced audio file."""
        h = hashlib.sha256()
        root = str(self.root)
        for rel in self._hashed_files():
            # Plain string paths: this loop runs once per file of every task on every run and build.
            with open(os.path.join(root, rel), "rb") as f:
                _add_file(h, _posix(rel), f.read())
        return h.hexdigest()

    def _hashed_files(self) -> list[str]:
        """Relative POSIX paths: the card, the examples, then each audio file once, in example order."""
        audio = dict.fromkeys(rel for example in self.examples for _, rel, _ in example.audio_fields())
        return ["task.json", "examples.jsonl", *audio]


def _add_file(h: Any, name: str, data: bytes | memoryview) -> None:
    """One file's share of the content hash: its POSIX path, a NUL byte, its bytes."""
    h.update(name.encode() + b"\0")
    h.update(data)


_NO_VIEW = memoryview(b"")


class _ReadAlong:
    """The content hash built from the audio bytes the checks read, so a full load reads each file once.

    The checks hand over each referenced file at its first use (:meth:`take`); the hash
    covers task.json and examples.jsonl first, as :attr:`Task.content_hash` does.
    It stands only if the files came in exactly the order and under exactly the
    names that property would hash (every path already normalised, none missing).

    With a ``pipeline`` (:mod:`benchmark.task.hashing`) the checks read each file
    straight into the pipeline's current buffer, after its name (:meth:`reserve`), and
    each full buffer is hashed on the pipeline's thread while the checks go on.
    """

    def __init__(self, root: Path, pipeline: HashPipeline | None = None) -> None:
        self.root = str(root)
        self.names: list[str] = []
        self.broken = False
        self._h: Any = None
        self._pipeline = pipeline
        self._buf: bytearray | None = None
        self._view = _NO_VIEW
        """``self._buf`` as a memoryview (one per buffer, sliced for each file)."""
        self._used = 0
        self._room: memoryview | None = None
        """The room the last :meth:`reserve` gave (None once taken or given up)."""
        self._reserved = 0
        """Bytes that room set aside (name and file), added to ``_used`` if the file is taken."""

    def _ready(self) -> bool:
        if self._h is None and not self.broken:
            self._h = self._start()
            self.broken = self._h is None
        return not self.broken

    def reserve(self, rel: str, size: int) -> memoryview | None:
        """Room for the file in the current buffer, after its name (None: no pipeline, or larger than a buffer)."""
        if self._pipeline is None or not self._ready():
            return None
        name = rel.encode() + b"\0"
        need = len(name) + size + 1
        if need > self._pipeline.buffer_bytes:
            return None  # read on its own; ``take`` hashes it once what is queued is done
        if self._buf is None or self._used + need > len(self._buf):
            self._hand_over()
            self._buf = self._pipeline.buffer()
            self._view = memoryview(self._buf)
        start = self._used + len(name)
        self._view[self._used : start] = name  # a file not taken after all is written over by the next one
        self._reserved = need - 1
        self._room = self._view[start : start + size + 1]
        return self._room

    def take(self, rel: str, data: bytes | memoryview) -> None:
        """Take the whole bytes of the next audio file (read into the room :meth:`reserve` gave, or not)."""
        if not self._ready():
            return
        self.names.append(rel)
        if self._pipeline is None:
            _add_file(self._h, rel, data)
        elif (
            self._room is not None
            and isinstance(data, memoryview)
            and data.obj is self._buf
            and (len(data) == len(self._room) - 1)
        ):
            self._used += self._reserved  # read into the room the last reserve gave
            self._room = None
        else:  # other bytes (a file larger than a buffer): hashed here once the queue drains (queued, they would
            # all be held in memory at once)
            self._hand_over()
            self._pipeline.drain()
            _add_file(self._h, rel, data)

    def _hand_over(self) -> None:
        """Queue the current buffer's bytes for hashing (or give it back empty)."""
        if self._buf is not None and self._pipeline is not None:
            if self._used:
                self._pipeline.update(self._h, self._buf, self._used)
            else:
                self._pipeline.release(self._buf)
        self._buf, self._view, self._room, self._used = None, _NO_VIEW, None, 0

    def discard(self) -> None:
        """Give the current buffer back unhashed (the load failed, or its hash will be taken again)."""
        if self._buf is not None and self._pipeline is not None:
            self._pipeline.release(self._buf)
        self._buf, self._view, self._room, self._used = None, _NO_VIEW, None, 0

    def _start(self) -> Any:
        h = hashlib.sha256()
        for name in ("task.json", "examples.jsonl"):
            try:
                with open(os.path.join(self.root, name), "rb") as f:
                    # Streamed: the checks read these files within limits, but may not have passed them.
                    h.update(name.encode() + b"\0")
                    while block := f.read(1 << 20):
                        h.update(block)
            except OSError:
                return None
        return h

    def digest(self, task: Task) -> str | Future[str] | None:
        """The content hash of ``task`` if the files came in its order (pending with a pipeline), else None."""
        if self.broken or self._h is None or self.names != task._hashed_files()[2:]:
            self.discard()
            return None
        if self._pipeline is None:
            return str(self._h.hexdigest())
        self._hand_over()
        return self._pipeline.submit(self._h.hexdigest)


def _posix(rel: str) -> str:
    """``rel`` as pathlib spells it (no ``.`` parts or doubled slashes), which the hash has always used."""
    if "//" in rel or rel.startswith("./") or "/./" in rel or rel.endswith("/."):
        return PurePosixPath(rel).as_posix()
    return rel


_WORKED_OUT = ("content_hash", "_splits", "_picked")
"""The cached properties of a :class:`Task`."""


class TaskLoadError(Exception):
    """A task folder that breaks the contract; ``findings`` says where and how to fix it."""

    def __init__(self, root: Path, findings: list[Any]):
        self.root = root
        self.findings = findings
        lines = "\n".join(f.render() for f in findings)
        super().__init__(f"task folder {root} is not valid:\n{lines}")


def load_task(path: str | Path, folder: FolderIndex | None = None) -> Task:
    """Load a task folder after checking the whole contract (header-level audio checks).

    Raises:
        TaskLoadError: the folder breaks the contract; the error lists every finding.
    """
    task, pending = open_task(path, folder)
    return task if pending is None else settle(task, pending)


def open_task(
    path: str | Path, folder: FolderIndex | None = None, hasher: HashPipeline | None = None
) -> tuple[Task, Future[str] | None]:
    """``load_task``, the content hash of the audio the checks read taken on ``hasher``'s thread (None: here).

    Returns the task and its pending content hash (None when there is nothing pending);
    :func:`settle` primes the task with it. Until then ``content_hash`` would hash the
    files again: the result is the same, only slower.

    Raises:
        TaskLoadError: the folder breaks the contract; the error lists every finding.
    """
    root = Path(path)
    read_along = _ReadAlong(root, hasher)
    try:
        report = validate_task(root, sink=read_along, folder=folder, errors_only=True)
        if report.errors or report.card is None:
            raise TaskLoadError(root, report.errors)
        task = Task.model_construct(root=root, card=report.card, examples=tuple(report.examples))  # parts checked
    except BaseException:
        read_along.discard()  # its buffer goes back to the pipeline, unhashed
        raise
    digest = read_along.digest(task)
    if isinstance(digest, str):
        task.__dict__["content_hash"] = digest  # primes the cached_property with the same bytes' hash
    return task, digest if isinstance(digest, Future) else None


def settle(task: Task, pending: Future[str]) -> Task:
    """Prime ``task`` with the content hash ``open_task`` left pending (waits for it)."""
    task.__dict__["content_hash"] = pending.result()
    return task
