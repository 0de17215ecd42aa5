"""The speech metrics in the one metric registry (``benchmark.scoring.metrics.METRICS``), task type ``audio``.

Each :class:`~benchmark.scoring.speech.metrics.SpeechMetric` becomes a :class:`~benchmark.scoring.metrics.Metric`
of the same name, so a task card names it like any other metric, the schema's enum lists it, and the report
bootstraps it like any other cell. Its per-example scorer maps one :class:`SpeechScore` to the record's number:
the value (the metric's worst for a broken output), or for a metric with a target (duration ratio) the distance
from the target, lower is better. WER and CER pool edit errors over reference units, as the text metrics do;
the rest are means. A speech metric has no chance level: its floors are the silence and copy-input systems.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from benchmark.scoring import metrics as registry
from benchmark.scoring.metrics import Metric, PerExample, ScoredSet
from benchmark.scoring.speech.metrics import FAMILIES, POOLED, SPEECH_METRICS, SpeechMetric, SpeechScore


def per_example(metric: SpeechMetric) -> Any:
    """``(SpeechScore, reference) -> PerExample`` for one speech metric."""

    def score(scored: SpeechScore, reference: Any) -> PerExample:
        value = scored.value
        if metric.direction == "target":  # the distance from the target, at most a missing answer's
            value = min(abs(value - metric.best), abs(metric.worst - metric.best))
        detail = scored.detail or {}
        if metric.name in POOLED:
            return PerExample(value, int(detail.get("errors", 0)), int(detail.get("ref_units", 0)))
        return PerExample(value)

    return score


def _mean(s: ScoredSet, idx: np.ndarray) -> np.ndarray:
    return s.scores[idx].mean(axis=1) if idx.shape[1] else np.full(len(idx), math.nan)


def _error_rate(s: ScoredSet, idx: np.ndarray) -> np.ndarray:
    units = s.ref_units[idx].sum(axis=1)
    return np.where(units > 0, s.errors[idx].sum(axis=1) / np.maximum(units, 1), np.nan)


def _no_chance(n_labels: int) -> float:
    return math.nan  # floors are systems (silence, copy-input), not a guess


def as_metric(metric: SpeechMetric) -> Metric:
    """The registry entry of a speech metric."""
    target = metric.direction == "target"
    return Metric(
        name=metric.name,
        task_type="audio",
        higher_is_better=metric.direction == "higher",
        best=0.0 if target else metric.best,
        example=per_example(metric),
        corpus=_error_rate if metric.name in POOLED else _mean,
        chance_fallback=_no_chance,
        summary=metric.summary
        + (f" (scored as |value - {metric.best:g}|, at most a missing answer's, lower is better)" if target else ""),
        needs=tuple(sorted(metric.needs)),
    )


def register_all() -> None:
    """Register every speech metric (once)."""
    for metric in SPEECH_METRICS.values():
        if metric.name not in registry.METRICS:
            registry.register(as_metric(metric))


register_all()

__all__ = ["FAMILIES", "as_metric", "per_example", "register_all"]
