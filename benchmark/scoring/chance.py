"""Chance level: the majority baseline's answer, the reference point of every normalised score."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence


def format_number(value: float) -> str:
    """How baselines write a number (six significant digits)."""
    return f"{value:.6g}"


def majority_answer(task_type: str, train_labels: Sequence[str | float], labels: Sequence[str] = ()) -> str:
    """The majority baseline's answer: the commonest train label, the train mean, or the commonest text.

    Ties go to the label listed first in the card, then alphabetical order.
    """
    if task_type == "regression":
        return format_number(statistics.fmean(float(x) for x in train_labels))
    counts = Counter(str(x) for x in train_labels)
    order = {label: i for i, label in enumerate(labels)}
    return min(counts, key=lambda label: (-counts[label], order.get(label, len(order)), label))
