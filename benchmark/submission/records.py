"""Per-example run records: the source of truth of every score (versioned format).

::

    submissions/<model>/model.json                  who the model is and how it was run
    submissions/<model>/runs/<Task>@<version>.jsonl one record per example, appended per batch

Records are the source of truth; every aggregate is recomputed from them. A run
file is only ever appended to (flushed and fsynced per batch); a line cut short by
a crash is dropped when the file is next opened, and records of another task hash
are moved aside, never mixed or deleted.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from benchmark.task import safejson
from benchmark.task.safejson import MAX_RECORD_LINE_BYTES, bounded_lines

RECORD_SCHEMA = 1
AudioHash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
"""A stored clip's name: the SHA-256 hex digest ``AudioStore`` gives it (never a path)."""
_SURROGATE = re.compile("[\ud800-\udfff]")


class Record(BaseModel):
    """One model answer to one example, with how it was scored."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    schema_version: int = RECORD_SCHEMA
    """Record format version."""
    task: str
    """Task name."""
    task_version: str
    """Task version the example comes from."""
    task_hash: str
    """``Task.content_hash`` at run time; records of another hash are never mixed in."""
    id: str
    """Example id."""
    split: str
    """Example split (runs score the test split)."""
    instruction: str
    """The instruction the model saw."""
    instruction_index: int | None = None
    """Index of that instruction in the card (``--instructions`` runs, where (id, index) is the record's identity)."""
    reference: str | float
    """The label or reference text."""
    output: str
    """The model's raw output."""
    answer: str | float | None = None
    """Resolved answer (label, number or text); None is N/A."""
    tier: str
    """Resolution tier that decided: exact, normalised, option, final, leading, mention, lexicon, semantic,
    judge (labels), number (regression), text (generation), na."""
    score: float
    """Per-example score (see ``benchmark.scoring.ExampleScore``)."""
    errors: int | None = None
    """Edit errors (wer/cer)."""
    ref_units: int | None = None
    """Reference words or characters (wer/cer)."""
    value: float | None = None
    """Regression: the number scored (answer or N/A fill)."""
    seconds: float = 0.0
    """Model time for this example (its batch's time divided by the batch size)."""
    label_scores: dict[str, float] | None = None
    """With ``answer=rank``: each label's log-likelihood after the prompt (the output is the argmax)."""
    constraint_index: int | None = None
    """In a ``--constraints`` run: which of the card's constraint sets the prompt carried (with ``id`` and
    ``instruction_index``, the record's identity)."""
    checks: list[dict[str, Any]] | None = None
    """For a prompt with constraints: each constraint (``id``, ``args``) and whether the output obeyed it
    (``strict``, ``loose``); the answer was resolved after unwrapping the format."""
    if_strict: bool | None = None
    """Every constraint of the prompt obeyed as written (prompt-level instruction following)."""
    if_loose: bool | None = None
    """Every constraint obeyed after the loose clean-ups."""
    checker_version: str | None = None
    """The version of the constraint checkers that judged ``checks``."""
    resolver_version: str | None = None
    """``RESOLVER_VERSION`` of the rules that read ``answer``; None in records written before it was recorded."""
    normalised_answer: str | None = None
    """Generation: the answer span (``answer``, extracted from ``output``) as the text metric compares it."""
    normalised_reference: str | None = None
    """Generation: the reference as the text metric compares it."""
    audio: list[AudioHash | None] | None = None
    """An ``audio`` task: the hash of each clip of the answer, its file ``audio/<h[:2]>/<h>.flac`` under the
    submission; None for a clip that was not audio (see ``audio_statuses``). ``output`` holds the text channel."""
    audio_statuses: list[str] | None = None
    """An ``audio`` task: each clip's status (``ok``, ``missing``, ``silent``, ``too_long``...)."""
    speech: dict[str, dict[str, Any]] | None = None
    """An ``audio`` task: each reported metric's ``value``, ``status`` and ``detail`` (the transcript a WER
    read, the PIT assignment...); ``score`` is the task metric's per-example number."""

    @property
    def unit(self) -> tuple[str, int | None, int | None]:
        """The record's identity in its run file: example id, instruction index, constraint set index."""
        return (self.id, self.instruction_index, self.constraint_index)

    @field_validator("score", mode="before")
    @classmethod
    def _unscored(cls, value: object) -> object:
        # A score nobody could compute (a judged metric without a judge) is NaN, which JSON writes as null.
        return math.nan if value is None else value

    @field_validator("instruction", "reference", "output", "answer")
    @classmethod
    def _valid_unicode(cls, value: object) -> object:
        # A model may emit a lone surrogate; it cannot be written as UTF-8, so it becomes U+FFFD.
        return _SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value


_RECORD_LIST = TypeAdapter(list[Record])


def run_path(submission: Path, task: str, version: str) -> Path:
    """Where the records of ``task@version`` live."""
    return submission / "runs" / f"{task}@{version}.jsonl"


class RunFileError(Exception):
    """A run file line that is not a record (and is not a cut-short last line)."""


def read_records(path: Path, *, repair: bool = False) -> list[Record]:
    """Read a run file. A cut-short last line (a crash mid-write) is ignored, or cut off with ``repair``.

    Raises:
        RunFileError: the path is not a readable file, or a complete line is not a valid
            record (UTF-8 JSON of a record, at most ``MAX_RECORD_LINE_BYTES``); names the file and line.
    """
    if not os.path.lexists(path):
        return []
    if not path.is_file():
        raise RunFileError(f"{path}: is not a file (a run file holds one JSON record per line)")
    try:
        with path.open("rb") as f:
            lines = list(bounded_lines(f, MAX_RECORD_LINE_BYTES))
    except OSError as exc:
        raise RunFileError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if lines and lines[-1][1] is not None and not lines[-1][1].endswith(b"\n"):
        cut = lines.pop()  # cut short by a crash mid-write
        if repair:
            with path.open("r+b") as f:
                f.truncate(os.path.getsize(path) - len(cut[1] or b""))
    whole = [line for _, line in lines if line is not None and line.strip()]
    if len(whole) == sum(line is None or bool(line.strip()) for _, line in lines):
        try:
            # One validation call for the whole file (a JSON array of the lines) is several times faster than one
            # per line; a bad line (or one holding two values) is then located by the per-line parse, which names it.
            fast = _RECORD_LIST.validate_json(b"[" + b",".join(whole) + b"]")
            if len(fast) == len(whole):
                return fast
        except ValidationError:
            pass
    return [r for lineno, line in lines if (r := _parse_record(path, lineno, line)) is not None]


def _parse_record(path: Path, lineno: int, line: bytes | None) -> Record | None:
    if line is None:
        raise RunFileError(f"{path}:{lineno}: line is over {MAX_RECORD_LINE_BYTES} bytes, not a record")
    if not line.strip():
        return None
    try:  # the fast path: pydantic's own parser (bounded nesting, flat fields) on a capped line
        return Record.model_validate_json(line)
    except ValidationError:
        pass  # parse again within the JSON limits below, for a precise message
    try:
        return Record.model_validate(safejson.loads(line))
    except json.JSONDecodeError as exc:
        raise RunFileError(f"{path}:{lineno}: not a valid record: {exc.msg}") from exc
    except (safejson.JsonLimitError, ValidationError) as exc:
        msg = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise RunFileError(f"{path}:{lineno}: not a valid record: {msg}") from exc


SYNC_THREADS = 8
"""Files fsynced at once by ``sync_pending``."""
_unsynced: set[Path] = set()
_last_sync = [-math.inf]


def append_records(path: Path, records: Iterable[Record], *, sync_every: float = 0.0) -> None:
    """Append records: written to the file before returning, so a killed process never loses them.

    They are also fsynced (safe from a power cut), together with every other file
    appended to since, unless the last fsync was less than ``sync_every`` seconds
    ago; callers that pass it call :func:`sync_pending` when they are done. Records
    a power cut takes in between are redone on resume.

    Raises:
        OSError: the write failed (e.g. a full disk); the file is cut back to its size before the batch.
    """
    lines = "".join(r.model_dump_json(exclude_none=True) + "\n" for r in records)
    if not lines:
        return
    data = memoryview(lines.encode("utf-8"))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except FileNotFoundError:  # the first records of a submission: its runs folder does not exist yet
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        try:
            while data:
                data = data[os.write(fd, data) :]
        except OSError:
            _cut_back(fd, size)  # a full disk mid-batch: leave the file as it was before the batch
            raise
    finally:
        os.close(fd)
    _unsynced.add(path)
    if time.monotonic() - _last_sync[0] >= sync_every:
        sync_pending()


def sync_pending() -> None:
    """Fsync every file appended to since the last fsync; returns when all of them are on disk.

    The fsyncs run concurrently: the filesystem then commits them together (one
    journal commit for many files), several times faster than one after another.
    """
    paths = [p for p in sorted(_unsynced) if p.exists()]
    if len(paths) > 1:
        with ThreadPoolExecutor(max_workers=min(SYNC_THREADS, len(paths))) as pool:
            list(pool.map(_fsync, paths))  # re-raises the first failure, after every fsync was tried
    elif paths:
        _fsync(paths[0])
    _unsynced.clear()
    _last_sync[0] = time.monotonic()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _cut_back(fd: int, size: int) -> None:
    try:
        os.ftruncate(fd, size)
    except OSError:
        pass  # a cut-short last line is dropped by the next read anyway


def write_records_atomic(path: Path, records: Iterable[Record]) -> None:
    """Replace a run file in one rename (used by re-scoring), so a crash leaves old or new, never half."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(r.model_dump_json(exclude_none=True) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def set_aside(path: Path, reason: str) -> Path:
    """Move a run file out of the way (e.g. records of an older task hash), keeping it on disk."""
    n = 1
    while (target := path.with_name(f"{path.stem}.stale-{n}.jsonl")).exists():
        n += 1
    os.replace(path, target)
    header = path.with_name(f"{path.stem}.header.json")
    if header.exists():
        os.replace(header, target.with_name(f"{target.stem}.header.json"))
    (target.with_suffix(".why")).write_text(reason + "\n", encoding="utf-8")
    return target
