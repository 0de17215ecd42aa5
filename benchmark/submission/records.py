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

import math
import os
import time
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

RECORD_SCHEMA = 1


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
    """Resolution tier that decided: exact, normalised, option, final, leading, mention, semantic, judge
    (labels), number (regression), text (generation), na."""
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


_RECORD_LIST = TypeAdapter(list[Record])


def run_path(submission: Path, task: str, version: str) -> Path:
    """Where the records of ``task@version`` live."""
    return submission / "runs" / f"{task}@{version}.jsonl"


class RunFileError(Exception):
    """A run file line that is not a record (and is not a cut-short last line)."""


def read_records(path: Path, *, repair: bool = False) -> list[Record]:
    """Read a run file. A cut-short last line (a crash mid-write) is ignored, or cut off with ``repair``.

    Raises:
        RunFileError: a complete line is not a valid record (names the file and line).
    """
    if not path.exists():
        return []
    data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    if repair and len(complete) != len(data):
        with path.open("r+b") as f:
            f.truncate(len(complete))
    lines = [line for line in complete.split(b"\n") if line.strip()]
    try:
        # One validation call for the whole file (a JSON array of the lines) is several times faster than one per
        # line; a bad line (or one holding two values) is then located by the per-line loop below, which names it.
        fast = _RECORD_LIST.validate_json(b"[" + b",".join(lines) + b"]")
        if len(fast) == len(lines):
            return fast
    except ValidationError:
        pass
    records = []
    for lineno, line in enumerate(complete.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(Record.model_validate_json(line))
        except ValidationError as exc:
            raise RunFileError(f"{path}:{lineno}: not a valid record: {exc.errors()[0]['msg']}") from exc
    return records


_unsynced: set[Path] = set()
_last_sync = [-math.inf]


def append_records(path: Path, records: Iterable[Record], *, sync_every: float = 0.0) -> None:
    """Append records: written to the file before returning, so a killed process never loses them.

    They are also fsynced (safe from a power cut), together with every other file
    appended to since, unless the last fsync was less than ``sync_every`` seconds
    ago; callers that pass it call :func:`sync_pending` when they are done. Records
    a power cut takes in between are redone on resume.
    """
    lines = "".join(r.model_dump_json(exclude_none=True) + "\n" for r in records)
    if not lines:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(lines)
    _unsynced.add(path)
    if time.monotonic() - _last_sync[0] >= sync_every:
        sync_pending()


def sync_pending() -> None:
    """Fsync every file appended to since the last fsync."""
    for path in sorted(_unsynced):
        if path.exists():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _unsynced.clear()
    _last_sync[0] = time.monotonic()


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
