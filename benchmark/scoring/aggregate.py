"""From per-task values to leaderboard numbers: bootstrap intervals and the SUPERB-style normalised score."""

from __future__ import annotations

import math

import numpy as np

from benchmark.scoring.metrics import Metric

NORMALISED_FLOOR = -1000.0


def normalised_score(value: float, chance: float, metric: Metric) -> float:
    """SUPERB-style score: 0 at the chance value, 1000 at the metric's best value.

    The one rule for both directions: ``1000 * (value - chance) / (best - chance)``.
    For a lower-is-better metric ``best`` is below ``chance``, so the sign flips by
    itself: WER 0.25 with chance 1.0 gives 750. Worse than chance is negative, down
    to ``NORMALISED_FLOOR`` (-1000: as far below chance as the best value is above
    it). Error metrics have no upper bound (an MAE of 49 on counts from 1 to 4), and
    without the floor one such task would outweigh every other task in a mean; the
    task table keeps the raw value. NaN when chance already is the best value.
    """
    span = metric.best - chance
    if span == 0 or math.isnan(span) or math.isnan(value):
        return math.nan
    return max(NORMALISED_FLOOR, 1000.0 * (value - chance) / span)


def normalised_scores(values: np.ndarray, chances: np.ndarray, metric: Metric) -> np.ndarray:
    """``normalised_score`` over arrays of paired values (bootstrap replicates), vectorised."""
    span = metric.best - chances
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 1000.0 * (values - chances) / span
    out = np.where((span == 0) | np.isnan(span) | np.isnan(values), np.nan, out)
    return np.where(np.isnan(out), np.nan, np.maximum(NORMALISED_FLOOR, out))


def bootstrap_indices(n: int, resamples: int, seed: int = 0) -> np.ndarray:
    """A ``(resamples, n)`` matrix of example indices drawn with replacement (seeded)."""
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def bootstrap_ci(replicates: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of bootstrap replicates."""
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return math.nan, math.nan
    lo, hi = np.percentile(finite, [(1 - level) / 2 * 100, (1 + level) / 2 * 100])
    return float(lo), float(hi)
