"""Chance-level baselines: ``random`` (seeded, uniform) and ``majority`` (from the train split).

Neither listens to the audio. Their answers define the chance level that
SUPERB-style normalisation measures against.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from benchmark.adapters.base import Adapter, AdapterError, Query
from benchmark.scoring.chance import format_number, majority_answer
from benchmark.task.card import TaskCard
from benchmark.task.folder import Task


class MajorityAdapter(Adapter):
    """Answers every example with the train split's most frequent label, mean value or commonest text."""

    needs_train = True
    needs_audio = False

    def __init__(self) -> None:
        self._answers: dict[str, str] = {}

    def fit(self, task: Task) -> None:
        """Remember the majority answer of the task's train split."""
        train = [e.label for e in task.split("train")]
        self._answers[task.card.key] = majority_answer(task.card.task_type, train, task.card.labels or ())

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        """The same answer for every query."""
        if card.key not in self._answers:
            raise AdapterError(f"majority has not seen the train split of {card.key}: call fit first")
        return [self._answers[card.key]] * len(batch)


class RandomAdapter(Adapter):
    """Seeded random answers: a uniform label, a uniform number in the train range, a random train text.

    Each answer is drawn from a generator seeded by (seed, task, example id), so a
    resumed run gives the same answers as an uninterrupted one.
    """

    needs_audio = False

    def __init__(self, seed: int | str = 0) -> None:
        self.seed = int(seed)
        self._train: dict[str, list[str | int | float]] = {}

    def check(self, card: TaskCard, n_train: int) -> str | None:
        """Regression and generation draw from the train split; classification needs only labels."""
        if card.task_type != "classification" and n_train == 0:
            return f"{card.name} has no train split to draw {card.task_type} answers from"
        return None

    def fit(self, task: Task) -> None:
        """Remember the train labels (the range and texts that regression and generation draw from)."""
        self._train[task.card.key] = [e.label for e in task.split("train")]

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        """One seeded draw per query."""
        return [self._draw(card, q.id) for q in batch]

    def _draw(self, card: TaskCard, example_id: str) -> str:
        digest = hashlib.sha256(f"{self.seed}/{card.key}/{example_id}".encode()).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
        if card.task_type == "classification":
            return str(rng.choice(card.labels or []))
        train = self._train.get(card.key, [])
        if card.task_type == "regression":
            values = [float(x) for x in train]
            return format_number(rng.uniform(min(values), max(values)))
        return str(train[int(rng.integers(len(train)))])
