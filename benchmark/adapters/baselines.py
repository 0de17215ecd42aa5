"""Chance-level baselines: ``random`` (seeded, uniform) and ``majority`` (from the train split).

Neither listens to the audio. Their answers define the chance level that
SUPERB-style normalisation measures against.
"""

from __future__ import annotations

import hashlib
import statistics
from collections import Counter
from collections.abc import Sequence

import numpy as np

from benchmark.adapters.base import Adapter, Query
from benchmark.task import Task, TaskCard


def _format_number(value: float) -> str:
    return f"{value:.6g}"


class MajorityAdapter(Adapter):
    """Answers every example with the train split's most frequent label, mean value or commonest text."""

    needs_train = True
    needs_audio = False

    def __init__(self) -> None:
        self._answers: dict[str, str] = {}

    def fit(self, task: Task) -> None:
        """Remember the majority answer of the task's train split."""
        self._answers[task.key] = majority_answer(task)

    def predict(self, task: Task, batch: Sequence[Query]) -> list[str]:
        """The same answer for every query."""
        if task.key not in self._answers:
            self.fit(task)
        return [self._answers[task.key]] * len(batch)


def majority_answer(task: Task) -> str:
    """The majority baseline's answer for a task (ties go to the label listed first in the card)."""
    labels = [e.label for e in task.split("train")]
    if task.card.task_type == "regression":
        return _format_number(statistics.fmean(float(x) for x in labels))
    counts = Counter(str(x) for x in labels)
    order = {label: i for i, label in enumerate(task.card.labels or [])}
    return min(counts, key=lambda label: (-counts[label], order.get(label, len(order)), label))


class RandomAdapter(Adapter):
    """Seeded random answers: a uniform label, a uniform number in the train range, a random train text.

    Each answer is drawn from a generator seeded by (seed, task, example id), so a
    resumed run gives the same answers as an uninterrupted one.
    """

    needs_audio = False

    def __init__(self, seed: int | str = 0) -> None:
        self.seed = int(seed)

    def check(self, card: TaskCard, n_train: int) -> str | None:
        """Regression and generation draw from the train split; classification needs only labels."""
        if card.task_type != "classification" and n_train == 0:
            return f"{card.name} has no train split to draw {card.task_type} answers from"
        return None

    def predict(self, task: Task, batch: Sequence[Query]) -> list[str]:
        """One seeded draw per query."""
        return [self._draw(task, q.id) for q in batch]

    def _draw(self, task: Task, example_id: str) -> str:
        digest = hashlib.sha256(f"{self.seed}/{task.key}/{example_id}".encode()).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
        card = task.card
        if card.task_type == "classification":
            return str(rng.choice(card.labels or []))
        train = [e.label for e in task.split("train")]
        if card.task_type == "regression":
            values = [float(x) for x in train]
            return _format_number(rng.uniform(min(values), max(values)))
        return str(train[int(rng.integers(len(train)))])
