"""The metric registry: every fact about a metric, declared once.

A :class:`Metric` holds its direction and best value, the task type it scores,
its per-example scorer, its corpus aggregate (computed for many bootstrap index
rows at once) and its chance fallback. The task schema's metric enum, the
leaderboard's normalisation and the site's labels all read from :data:`METRICS`.
Adding a metric is one :func:`register` call here plus ``bench schema --write``.

Metrics are corpus-level: WER and CER divide all errors by all reference words or
characters (never a mean of per-utterance rates). An empty output is the worst
score, never the best.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np

from benchmark.scoring.text import normalise_transcript

TaskType = Literal["classification", "regression", "generation", "open", "audio"]
TASK_TYPES: tuple[str, ...] = TaskType.__args__  # type: ignore[attr-defined]


class PerExample(NamedTuple):
    """What a metric's per-example scorer returns; stored in the example's record."""

    score: float
    """1/0 correct (classification), absolute error (regression), utterance error rate (wer/cer),
    sentence BLEU/chrF."""
    errors: int | None = None
    """Edit errors (wer/cer), summed for the corpus rate."""
    ref_units: int | None = None
    """Reference words or characters (wer/cer)."""


@dataclass(frozen=True)
class ScoredSet:
    """The scored examples of one task and model, as arrays for corpus metrics and the bootstrap."""

    metric: str
    references: list[Any]
    answers: list[Any]
    scores: np.ndarray
    errors: np.ndarray
    ref_units: np.ndarray
    values: np.ndarray
    labels: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        """Number of examples."""
        return len(self.references)

    def value(self, idx: np.ndarray | None = None) -> float:
        """The corpus metric, over all examples or over the rows in ``idx``."""
        rows = np.arange(self.n)[None, :] if idx is None else idx[None, :]
        return float(self.replicates(rows)[0])

    def replicates(self, idx: np.ndarray) -> np.ndarray:
        """The corpus metric for each row of an index matrix ``(B, n)``."""
        return METRICS[self.metric].corpus(self, idx)


def scored_set(metric: str, records: Sequence[Any], labels: Sequence[str] = ()) -> ScoredSet:
    """Collect the scoring fields of scored records (anything with the fields of ``submission.Record``)."""
    return ScoredSet(
        metric=metric,
        references=[r.reference for r in records],
        answers=[r.answer for r in records],
        scores=np.array([r.score for r in records], dtype=float),
        errors=np.array([r.errors or 0 for r in records], dtype=float),
        ref_units=np.array([r.ref_units or 0 for r in records], dtype=float),
        values=np.array([r.value if r.value is not None else math.nan for r in records], dtype=float),
        labels=tuple(labels),
    )


@dataclass(frozen=True)
class Metric:
    """One metric: everything the harness needs to know about it."""

    name: str
    """The name used in ``task.json``."""
    task_type: TaskType
    """The task type it scores."""
    higher_is_better: bool
    """Direction: True for accuracy or BLEU, False for error rates and errors."""
    best: float
    """The best achievable value (1 for accuracy, 0 for WER, 100 for BLEU)."""
    example: Callable[[Any, Any], PerExample]
    """Per-example scorer: ``(resolved answer, reference) -> PerExample`` (regression gets the filled value)."""
    corpus: Callable[[ScoredSet, np.ndarray], np.ndarray]
    """Corpus aggregate for each row of a ``(B, n)`` index matrix (one row = one bootstrap replicate)."""
    chance_fallback: Callable[[int], float]
    """Chance value for a task without a train split, given its number of labels."""
    summary: str
    """One line for the site and CONTRIBUTING."""
    resamples: int = 1000
    """Bootstrap resamples (fewer where each replicate is recomputed in Python)."""
    needs: tuple[str, ...] = ()
    """What scoring needs beyond the answer and its reference: ``judge`` (an LLM judge grades each answer;
    without one every example is NaN and the task shows "n/a (needs a judge)", never a made-up number)."""
    weighted: Callable[[Sequence[ScoredSet], np.ndarray], np.ndarray] | None = None
    """Optional fast form of ``corpus`` for many scored sets of equal size at once: each row of a ``(B, n)``
    count matrix says how often each example is drawn; returns ``(sets, B)``. Must agree with ``corpus``.
    It is one matrix product, so it is only taken where every per-example number is an integer (see
    :meth:`replicates_many`)."""

    def replicates_many(self, sets: Sequence[ScoredSet], idx: np.ndarray) -> np.ndarray:
        """``corpus`` for many scored sets of equal size on the same ``(B, n)`` index matrix: ``(sets, B)``.

        Each set's row is bit-identical however many sets share the call, so a leaderboard cell does not depend
        on which models were built together or on the cell cache. The matrix product of ``weighted`` sums in an
        order the BLAS kernel chooses by matrix shape and CPU; over integer per-example numbers (0/1 correct,
        edit errors and reference units) every partial sum is an exact float64 integer, so the order cannot
        change the result. Real-valued numbers (absolute errors) are summed per set, in numpy's own order.
        """
        if not sets:
            return np.zeros((0, len(idx)))
        if self.weighted is None or idx.shape[1] == 0 or not all(_integral(s) for s in sets):
            return np.stack([self.corpus(s, idx) for s in sets])
        return self.weighted(sets, draw_counts(idx, sets[0].n))


def _integral(s: ScoredSet) -> bool:
    """Whether every per-example number of a scored set is an integer small enough to sum exactly in float64."""
    limit = 2.0**40  # far below 2**53 even after summing 1000s of draws of each example
    return all(bool(np.all((a == np.floor(a)) & (np.abs(a) < limit))) for a in (s.scores, s.errors, s.ref_units))


METRICS: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    """Add a metric to the registry (names are unique)."""
    if metric.name in METRICS:
        raise ValueError(f"metric {metric.name!r} is declared twice")
    METRICS[metric.name] = metric
    return metric


def metrics_for(task_type: str) -> tuple[str, ...]:
    """The metric names that score ``task_type`` (the first is the default)."""
    return tuple(m.name for m in METRICS.values() if m.task_type == task_type)


# ---------------------------------------------------------------- pure metric functions


def accuracy(predictions: Sequence[str | None], references: Sequence[str]) -> float:
    """Share of exact matches; None (N/A) is wrong. Higher is better; empty input is NaN."""
    if not references:
        return math.nan
    return sum(p == r for p, r in zip(predictions, references, strict=True)) / len(references)


def macro_f1(predictions: Sequence[str | None], references: Sequence[str], labels: Sequence[str]) -> float:
    """Macro-averaged F1 over the task's labels, as scikit-learn computes it; N/A is a wrong answer of no class."""
    return float(_macro_f1_rows(predictions, references, labels, np.arange(len(references))[None, :])[0])


def edit_counts(hypothesis: str, reference: str, unit: Literal["word", "char"]) -> tuple[int, int]:
    """(errors, reference length) after ``normalise_transcript``; sums give corpus WER/CER.

    An empty hypothesis scores one deletion per reference unit.
    """
    import jiwer

    ref, hyp = normalise_transcript(reference), normalise_transcript(hypothesis or "")
    if unit == "char":
        ref_units, hyp_units = list(ref.replace(" ", "")), list(hyp.replace(" ", ""))
    else:
        ref_units, hyp_units = ref.split(), hyp.split()
    if not ref_units:
        return len(hyp_units), 0
    if not hyp_units:
        return len(ref_units), len(ref_units)
    out = jiwer.process_words(" ".join(ref_units), " ".join(hyp_units))
    return out.substitutions + out.deletions + out.insertions, len(ref_units)


def error_rate(counts: Sequence[tuple[int, int]]) -> float:
    """Corpus error rate: all errors over all reference units. Lower is better."""
    total_ref = sum(n for _, n in counts)
    return sum(e for e, _ in counts) / total_ref if total_ref else math.nan


def bleu(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus BLEU (sacrebleu, 0-100, higher is better); empty hypotheses score 0."""
    import sacrebleu

    return float(sacrebleu.corpus_bleu([h or "" for h in hypotheses], [list(references)]).score)


def chrf(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus chrF (sacrebleu, 0-100, higher is better)."""
    import sacrebleu

    return float(sacrebleu.corpus_chrf([h or "" for h in hypotheses], [list(references)]).score)


def pearson(predictions: np.ndarray, references: np.ndarray) -> float:
    """Pearson correlation; constant predictions (no information) score 0. Higher is better."""
    if len(references) < 2 or np.std(predictions) == 0 or np.std(references) == 0:
        return 0.0
    return float(np.corrcoef(predictions, references)[0, 1])


def _macro_f1_rows(
    answers: Sequence[Any], references: Sequence[Any], labels: Sequence[str], idx: np.ndarray
) -> np.ndarray:
    """Macro-F1 (as scikit-learn computes it, zero_division=0) for each index row."""
    code = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    pred = np.array([code.get(a, k) if isinstance(a, str) else k for a in answers])  # k = N/A or unknown
    ref = np.array([code.get(r, k) for r in references])
    if idx.shape[1] == 0:
        return np.full(len(idx), math.nan)
    p, r = pred[idx], ref[idx]
    f1s = []
    for c in range(k):
        tp = ((p == c) & (r == c)).sum(axis=1)
        fp = ((p == c) & (r != c)).sum(axis=1)
        fn = ((p != c) & (r == c)).sum(axis=1)
        denom = 2 * tp + fp + fn
        f1s.append(np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0))
    return np.mean(f1s, axis=0)


# ---------------------------------------------------------------- per-example scorers and corpus aggregates


def _correct(answer: Any, reference: Any) -> PerExample:
    return PerExample(float(answer is not None and answer == reference))


def _abs_error(value: Any, reference: Any) -> PerExample:
    return PerExample(abs(float(value) - float(reference)))


def _edit(unit: Literal["word", "char"]) -> Callable[[Any, Any], PerExample]:
    def score(answer: Any, reference: Any) -> PerExample:
        errors, units = edit_counts(str(answer or ""), str(reference), unit)
        return PerExample(errors / units if units else float(errors > 0), errors, units)

    return score


def _sentence(fn: Callable[[Sequence[str], Sequence[str]], float]) -> Callable[[Any, Any], PerExample]:
    # BLEU and chrF compare the same normalised forms as WER/CER ("178" and "one seven eight" are one answer).
    return lambda answer, reference: PerExample(
        fn([normalise_transcript(str(answer or ""))], [normalise_transcript(str(reference))])
    )


def _mean_score(s: ScoredSet, idx: np.ndarray) -> np.ndarray:
    return s.scores[idx].mean(axis=1) if idx.shape[1] else np.full(len(idx), math.nan)


def _rms_score(s: ScoredSet, idx: np.ndarray) -> np.ndarray:
    return np.sqrt((s.scores[idx] ** 2).mean(axis=1)) if idx.shape[1] else np.full(len(idx), math.nan)


def _corpus_error_rate(s: ScoredSet, idx: np.ndarray) -> np.ndarray:
    units = s.ref_units[idx].sum(axis=1)
    return np.where(units > 0, s.errors[idx].sum(axis=1) / np.maximum(units, 1), np.nan)


def _corpus_pearson(s: ScoredSet, idx: np.ndarray) -> np.ndarray:
    refs = np.asarray(s.references, dtype=float)
    return np.array([pearson(s.values[row], refs[row]) for row in idx])


def _corpus_macro_f1(s: ScoredSet, idx: np.ndarray) -> np.ndarray:
    return _macro_f1_rows(s.answers, s.references, s.labels, idx)


def _corpus_text(fn: Callable[[Sequence[str], Sequence[str]], float]) -> Callable[[ScoredSet, np.ndarray], np.ndarray]:
    def corpus(s: ScoredSet, idx: np.ndarray) -> np.ndarray:
        hyps = [normalise_transcript(str(a or "")) for a in s.answers]
        refs = [normalise_transcript(str(r)) for r in s.references]
        return np.array([fn([hyps[i] for i in row], [refs[i] for i in row]) for row in idx])

    return corpus


def draw_counts(idx: np.ndarray, n: int) -> np.ndarray:
    """How often each of ``n`` examples appears in each row of an index matrix: ``(B, n)`` float."""
    rows = len(idx)
    flat = (np.arange(rows)[:, None] * n + idx).ravel()
    return np.bincount(flat, minlength=rows * n).reshape(rows, n).astype(float)


# Weighted forms: a bootstrap replicate is a weighted sum over examples, so all replicates of all models of a
# task are one matrix product (no (models, B, n) gather).


def _times(counts: np.ndarray, per_example: np.ndarray) -> np.ndarray:
    """``(sets, n)`` per-example numbers summed under each ``(B, n)`` count row: ``(sets, B)``."""
    return (counts @ per_example.T).T  # this operand order is the fast BLAS path (measured)


def _mean_weighted(sets: Sequence[ScoredSet], counts: np.ndarray) -> np.ndarray:
    return _times(counts, np.stack([s.scores for s in sets])) / counts.sum(axis=1)


def _rms_weighted(sets: Sequence[ScoredSet], counts: np.ndarray) -> np.ndarray:
    return np.sqrt(_times(counts, np.stack([s.scores**2 for s in sets])) / counts.sum(axis=1))


def _error_rate_weighted(sets: Sequence[ScoredSet], counts: np.ndarray) -> np.ndarray:
    units = _times(counts, np.stack([s.ref_units for s in sets]))
    errors = _times(counts, np.stack([s.errors for s in sets]))
    return np.where(units > 0, errors / np.maximum(units, 1), np.nan)


def _macro_f1_weighted(sets: Sequence[ScoredSet], counts: np.ndarray) -> np.ndarray:
    labels = sets[0].labels
    code = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    pred = np.array([[code.get(a, k) if isinstance(a, str) else k for a in s.answers] for s in sets])
    ref = np.array([[code.get(r, k) for r in s.references] for s in sets])
    f1s = []
    for c in range(k):
        tp = _times(counts, ((pred == c) & (ref == c)).astype(float))
        fp = _times(counts, ((pred == c) & (ref != c)).astype(float))
        fn = _times(counts, ((pred != c) & (ref == c)).astype(float))
        denom = 2 * tp + fp + fn
        f1s.append(np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0))
    return np.mean(f1s, axis=0)


def _uniform_guess(n_labels: int) -> float:
    return 1.0 / max(n_labels, 1)


def _constant(value: float) -> Callable[[int], float]:
    return lambda n_labels: value


# Without a train split there is no majority answer: classification falls back to a uniform guess, text
# metrics to an empty answer (error rate 1, BLEU 0), and errors of a number to "unknown" (NaN: no
# normalised score is shown rather than a made-up one).
register(
    Metric(
        "accuracy",
        "classification",
        True,
        1.0,
        _correct,
        _mean_score,
        _uniform_guess,
        "share correct",
        weighted=_mean_weighted,
    )
)
register(
    Metric(
        "macro_f1",
        "classification",
        True,
        1.0,
        _correct,
        _corpus_macro_f1,
        _uniform_guess,
        "macro-averaged F1",
        weighted=_macro_f1_weighted,
    )
)
register(
    Metric(
        "mae",
        "regression",
        False,
        0.0,
        _abs_error,
        _mean_score,
        _constant(math.nan),
        "mean absolute error",
        weighted=_mean_weighted,
    )
)
register(
    Metric(
        "rmse",
        "regression",
        False,
        0.0,
        _abs_error,
        _rms_score,
        _constant(math.nan),
        "root mean squared error",
        weighted=_rms_weighted,
    )
)
register(Metric("pearson", "regression", True, 1.0, _abs_error, _corpus_pearson, _constant(0.0), "Pearson correlation"))
register(
    Metric(
        "wer",
        "generation",
        False,
        0.0,
        _edit("word"),
        _corpus_error_rate,
        _constant(1.0),
        "word error rate",
        weighted=_error_rate_weighted,
    )
)
register(
    Metric(
        "cer",
        "generation",
        False,
        0.0,
        _edit("char"),
        _corpus_error_rate,
        _constant(1.0),
        "character error rate",
        weighted=_error_rate_weighted,
    )
)
register(Metric("bleu", "generation", True, 100.0, _sentence(bleu), _corpus_text(bleu), _constant(0.0), "BLEU", 200))
register(Metric("chrf", "generation", True, 100.0, _sentence(chrf), _corpus_text(chrf), _constant(0.0), "chrF", 200))


def _ungraded(answer: Any, reference: Any) -> PerExample:
    return PerExample(math.nan)  # the judge's verdict replaces it (score.score_output); none: unscored


def _mean_or_unscored(s: ScoredSet, idx: np.ndarray) -> np.ndarray:
    return _mean_score(s, idx)  # one unjudged example makes the task unscored (NaN): never a partial mean


register(
    Metric(
        "judge",
        "generation",
        True,
        1.0,
        _ungraded,
        _mean_or_unscored,
        _constant(math.nan),
        "share of answers an LLM judge finds equivalent to the reference (open-ended tasks)",
        needs=("judge",),
    )
)
register(
    Metric(
        "judge-open",
        "open",
        True,
        1.0,
        _ungraded,
        _mean_or_unscored,
        _constant(math.nan),
        "share of answers to open-ended prompts (no reference answer) an LLM judge finds do what was asked",
        needs=("judge",),
    )
)
