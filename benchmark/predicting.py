"""One batch of examples answered and scored: the step that local, pooled and distributed runs share.

The runner (per task), ``pooling`` (batches across tasks) and the Ray workers of ``scaleout`` all call
:func:`predict_batch` (or the adapter directly, for pooled batches) and :func:`to_records`, so every kind of
run writes the same records.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from benchmark.adapters.base import Adapter, Answer, Query, checked_outputs, query_for
from benchmark.submission.records import Record
from benchmark.submission.scorer import Scorer, make_record
from benchmark.task.card import Example
from benchmark.task.folder import Task


class Variant(Protocol):
    """What a run changes about each example (``benchmark.controls.Variant``; the plain run changes nothing)."""

    def audio(self, task: Task, example: Example) -> list[np.ndarray]:
        """The clips the model hears for ``example``."""
        ...

    def instruction_index(self, task: Task, example: Example) -> int | None:
        """The card instruction the example runs under (``--instructions`` runs), else None."""
        ...

    def constraint_index(self, task: Task, example: Example) -> int | None:
        """The card constraint set the example's prompt carries (``--constraints`` runs), else None."""
        ...

    def key(self, task: Task, example: Example) -> tuple[str, int | None, int | None]:
        """The identity of an example in the run file: (id, instruction index, constraint set index)."""
        ...


@dataclass(frozen=True)
class Output:
    """One raw answer and the model time it took."""

    id: str
    """Example id."""
    answer: Answer
    """The adapter's raw output: text, or an ``AudioAnswer`` for an ``audio`` task."""
    seconds: float
    """Model time: the batch's ``predict`` time divided by the batch size."""


def queries_for(adapter: Adapter, task: Task, batch: Sequence[Example], variant: Variant) -> list[Query]:
    """What the model sees of each example (audio decoded only for adapters that listen)."""
    return [query_for(task, e, variant.audio(task, e) if adapter.needs_audio else (), adapter) for e in batch]


def predict_batch(adapter: Adapter, task: Task, batch: Sequence[Example], variant: Variant) -> list[Output]:
    """Predict one batch and time it.

    Raises:
        AdapterError: the adapter failed, or did not return one string per query.
    """
    queries = queries_for(adapter, task, batch, variant)
    start = time.perf_counter()
    outputs = checked_outputs(adapter.predict(task.card, queries), len(batch), task.key, task.card.task_type == "audio")
    per_example = (time.perf_counter() - start) / len(batch)
    return [Output(e.id, o, per_example) for e, o in zip(batch, outputs, strict=True)]


def to_records(
    task: Task, batch: Sequence[Example], outputs: Sequence[Output], score: Scorer, variant: Variant
) -> list[Record]:
    """Score each output against its example: the records a run file holds."""
    return [
        make_record(
            task,
            e,
            o.answer,
            score(e, o.answer),
            o.seconds,
            variant.instruction_index(task, e),
            variant.constraint_index(task, e),
        )
        for e, o in zip(batch, outputs, strict=True)
    ]
