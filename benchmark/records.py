"""On-disk formats of a submission: ``model.json`` and per-example run records (versioned).

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
import os
import re
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

RECORD_SCHEMA = 1
SUBMISSION_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$"


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
    reference: str | float
    """The label or reference text."""
    output: str
    """The model's raw output."""
    answer: str | float | None = None
    """Resolved answer (label, number or text); None is N/A."""
    tier: str
    """Resolution tier that decided (exact, normalised, mention, semantic, judge, number, text, na)."""
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


class ModelCard(BaseModel):
    """``submissions/<model>/model.json``: what was evaluated and how to reproduce it."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    name: str = Field(pattern=SUBMISSION_NAME)
    """Submission name (the folder name)."""
    adapter: str
    """Adapter spec string, e.g. ``majority`` or ``probe:fbank``."""
    adapter_args: dict[str, str] = Field(default_factory=dict)
    """Adapter arguments (``--model-arg k=v``)."""
    parameters: int | None = None
    """Parameter count, when known."""
    description: str = ""
    """What the model is."""
    link: str = ""
    """Paper, code or model card."""
    license: str = ""
    """Licence of the model weights."""
    trained_on: list[str] = Field(default_factory=list)
    """Tasks whose data the model saw in training; they count as "seen" on the leaderboard."""
    harness_version: str = ""
    """``benchmark.__version__`` that produced the runs."""


def submission_name(spec: str) -> str:
    """A folder-safe submission name derived from an adapter spec (``probe:fbank`` -> ``probe-fbank``)."""
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", spec).strip("-") or "model"


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
    records = []
    for lineno, line in enumerate(complete.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(Record.model_validate_json(line))
        except ValidationError as exc:
            raise RunFileError(f"{path}:{lineno}: not a valid record: {exc.errors()[0]['msg']}") from exc
    return records


def append_records(path: Path, records: Iterable[Record]) -> None:
    """Append records and make them durable before returning (one batch, one fsync)."""
    lines = "".join(r.model_dump_json(exclude_none=True) + "\n" for r in records)
    if not lines:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(lines)
        f.flush()
        os.fsync(f.fileno())


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
    (target.with_suffix(".why")).write_text(reason + "\n", encoding="utf-8")
    return target


def read_model_card(submission: Path) -> ModelCard:
    """Load ``model.json`` (raises ``ValidationError``/``OSError`` for the caller to report)."""
    return ModelCard.model_validate_json((submission / "model.json").read_text(encoding="utf-8"))


def write_model_card(submission: Path, card: ModelCard) -> None:
    """Write ``model.json`` with stable formatting."""
    submission.mkdir(parents=True, exist_ok=True)
    text = json.dumps(card.model_dump(), indent=2, ensure_ascii=False) + "\n"
    (submission / "model.json").write_text(text, encoding="utf-8")
