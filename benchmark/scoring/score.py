"""Score one raw output: resolve it by task type, then apply the task metric's per-example scorer."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from benchmark.scoring.extract import extract_answer
from benchmark.scoring.following import Following
from benchmark.scoring.labels import RESOLVER_VERSION, LabelResolver, Resolution, Tier, resolve_label
from benchmark.scoring.metrics import METRICS
from benchmark.scoring.numbers import parse_number
from benchmark.scoring.speech.answer import StoredAnswer
from benchmark.scoring.text import normalise_transcript


@dataclass(frozen=True)
class ExampleScore:
    """What scoring one output yields; stored in the example's record."""

    answer: str | float | None
    """The resolved label or number; None when N/A. For generation, the answer span (``extract_answer``)."""
    tier: Tier
    """Which resolution tier decided (``na`` when none did)."""
    score: float
    """Per-example value: 1/0 correct (classification), absolute error (regression),
    utterance error rate (wer/cer), sentence BLEU/chrF."""
    errors: int | None = None
    """Edit errors (wer/cer), summed for the corpus rate."""
    ref_units: int | None = None
    """Reference words or characters (wer/cer)."""
    value: float | None = None
    """Regression: the number scored (the answer, or the N/A fill)."""
    following: Following | None = None
    """For a prompt with constraints: how the output followed them (the answer was read after unwrapping)."""
    resolver_version: str | None = None
    """``RESOLVER_VERSION`` of the rules that read the answer (the tier says which reader decided)."""
    normalised_answer: str | None = None
    """Generation: the answer span as the text metric compares it (``normalise_transcript``)."""
    normalised_reference: str | None = None
    """Generation: the reference as the text metric compares it."""
    audio: StoredAnswer | None = None
    """An ``audio`` task's answer as stored: a hash and a status per clip, and its text channel."""
    speech: dict[str, dict[str, Any]] | None = None
    """An ``audio`` task: every reported metric's ``value``, ``status`` and ``detail`` (``score`` is the task
    metric's)."""


def regression_fill(
    predictions: Sequence[float | None], references: Sequence[float], label_range: tuple[float, float]
) -> np.ndarray:
    """Replace N/A predictions by the end of the label range farthest from the reference.

    So an unparseable answer always scores at least as badly as any in-range guess.
    """
    lo, hi = label_range
    refs = np.asarray(references, dtype=float)
    worst = np.where(np.abs(refs - lo) >= np.abs(refs - hi), lo, hi)
    preds = np.array([math.nan if p is None else p for p in predictions], dtype=float)
    return np.where(np.isnan(preds), worst, preds)


def _filled(prediction: float | None, reference: float, label_range: tuple[float, float]) -> float:
    """``regression_fill`` of one prediction (the same float64 arithmetic, without building arrays)."""
    if prediction is not None and not math.isnan(prediction):
        return float(prediction)
    lo, hi = label_range
    return float(lo) if abs(reference - lo) >= abs(reference - hi) else float(hi)


def _reading(
    output: str,
    task_type: str,
    labels: Sequence[str],
    instruction: str,
    resolvers: Sequence[LabelResolver],
    readings: dict[tuple[str, str], Resolution] | None,
) -> Resolution:
    """The label or number ``output`` is read as (kept in ``readings``, when given)."""
    found = readings.get((output, instruction)) if readings is not None else None
    if found is None:
        if task_type == "classification":
            found = resolve_label(output, labels, instruction=instruction, resolvers=resolvers)
        else:
            found = parse_number(output, instruction=instruction)
        if readings is not None:
            readings[(output, instruction)] = found
    return found


@runtime_checkable
class Grader(Protocol):
    """A scoring model for a judged metric (the LLM judge): grades an answer against its reference."""

    def grade(self, output: str, reference: str, instruction: str) -> float:
        """1.0 when the answer says what the reference says, else 0.0."""


def _judged(output: str, text: str, reference: Any, instruction: str, resolvers: Sequence[Any]) -> ExampleScore:
    """An open-ended answer graded by the judge among ``resolvers``; without one, unscored (NaN), never guessed."""
    if not text.strip():
        return ExampleScore(text, "na", 0.0)  # saying nothing is wrong, judge or no judge
    grader = next((r for r in resolvers if isinstance(r, Grader)), None)
    if grader is None:
        return ExampleScore(text, "text", math.nan)
    score = grader.grade(output, str(reference), instruction)
    return ExampleScore(text, "judge", score, resolver_version=RESOLVER_VERSION)


def score_output(
    output: str,
    reference: str | float,
    *,
    task_type: str,
    metric: str,
    labels: Sequence[str] = (),
    label_range: tuple[float, float] = (0.0, 0.0),
    instruction: str = "",
    resolvers: Sequence[LabelResolver] = (),
    readings: dict[tuple[str, str], Resolution] | None = None,
) -> ExampleScore:
    """Resolve and score one raw output against its reference.

    ``readings`` keeps what each output was read as, by output and instruction, across
    calls (one answer scored against many references: the chance level).
    """
    scorer = METRICS[metric].example
    if task_type == "classification":
        res = _reading(output, task_type, labels, instruction, resolvers, readings)
        score = scorer(res.answer, reference).score
        return ExampleScore(res.answer, res.tier, score, resolver_version=RESOLVER_VERSION)
    if task_type == "regression":
        res = _reading(output, task_type, labels, instruction, resolvers, readings)
        value = _filled(res.answer, float(reference), label_range)  # type: ignore[arg-type]
        score = scorer(value, reference).score
        return ExampleScore(res.answer, res.tier, score, value=value, resolver_version=RESOLVER_VERSION)
    text = extract_answer(output or "")
    tier: Tier = "text" if text.strip() else "na"
    per = scorer(text, reference)
    if "judge" in METRICS[metric].needs:
        return _judged(output, text, reference, instruction, resolvers)
    return ExampleScore(
        text,
        tier,
        per.score,
        errors=per.errors,
        ref_units=per.ref_units,
        resolver_version=RESOLVER_VERSION,
        normalised_answer=normalise_transcript(text),
        normalised_reference=normalise_transcript(str(reference)),
    )
