"""Work units: a task and a chunk of its pending examples; adapters that train get whole tasks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from benchmark.task.card import Example
from benchmark.task.folder import Task

UNITS_PER_WORKER = 4
"""Aim for this many units per worker and task, so a slow unit does not leave the others idle."""


class Work(Protocol):
    """What is left to do for one task (the runner's ``TaskPlan`` is one)."""

    task: Task
    run_file: Path
    pending: list[Example]


@dataclass(frozen=True)
class Unit:
    """One unit of work, as sent to a worker (plain data: it crosses process and node boundaries)."""

    index: int
    """Position of the unit in the run (progress and messages)."""
    task_dir: str
    """Absolute path of the task folder; every node must see the same folder (a shared filesystem)."""
    task_key: str
    """``Name@version``."""
    task_hash: str
    """The driver's ``Task.content_hash``; a worker that reads other bytes refuses the unit."""
    examples: tuple[Example, ...]
    """The examples to run, in run order (with the instruction each runs under, in ``--instructions`` runs)."""
    position: int
    """Position of the first example in the task (names the unit's shard)."""
    batch_size: int
    """Examples per ``predict`` call."""

    @property
    def ids(self) -> list[str]:
        """The example ids (messages and tests)."""
        return [e.id for e in self.examples]


def chunk_size(pending: int, batch_size: int, workers: int) -> int:
    """Examples per unit: whole batches, about ``UNITS_PER_WORKER`` units per worker for this task."""
    batches = math.ceil(pending / batch_size)
    return batch_size * max(1, math.ceil(batches / (workers * UNITS_PER_WORKER)))


def make_units(
    works: Sequence[Work], *, batch_size: int, workers: int, whole_tasks: bool, chunk: int | None = None
) -> list[Unit]:
    """Split every task's pending examples into units, tasks in order, chunks in example order."""
    units: list[Unit] = []
    for work in works:
        if not work.pending:
            continue
        position = {e.id: i for i, e in enumerate(work.task.examples)}
        size = len(work.pending) if whole_tasks else chunk or chunk_size(len(work.pending), batch_size, workers)
        for start in range(0, len(work.pending), size):
            part = work.pending[start : start + size]
            units.append(
                Unit(
                    index=len(units),
                    task_dir=str(work.task.root.resolve()),
                    task_key=work.task.key,
                    task_hash=work.task.content_hash,
                    examples=tuple(part),
                    position=position[part[0].id],
                    batch_size=batch_size,
                )
            )
    return units
