"""Answer resolution and metrics: pure functions with a declared direction and edge cases.

Resolution turns a model's free-form output into a label (classification) or a
number (regression), recording which tier decided:

==========  ================================================================
tier        rule
==========  ================================================================
exact       equal to a label after case and space normalisation
normalised  equal after stripping punctuation, quotes, markdown, a lead-in
            ("the answer is", "Answer:"), or a JSON object {"answer": ...}
mention     exactly one label mentioned as a whole word or phrase, not negated
            ("not male") and no second label mentioned
semantic    offline sentence embedding closest to one label, above a calibrated
            similarity threshold and margin (optional resolver)
judge       an LLM judge picked the label (optional resolver, cached)
na          nothing matched: counted as wrong, reported as the N/A rate
==========  ================================================================

Metrics are corpus-level: WER and CER divide all errors by all reference words or
characters (never a mean of per-utterance rates). An empty output is the worst
score, never the best.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np

Tier = Literal["exact", "normalised", "mention", "semantic", "judge", "number", "text", "na"]
TIERS: tuple[str, ...] = Tier.__args__  # type: ignore[attr-defined]


# ---------------------------------------------------------------- text normalisation


def squash(text: str) -> str:
    """Case-fold, NFKC-normalise and collapse whitespace."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


_PUNCT = re.compile(r"[^\w\s'-]|_", re.UNICODE)


def strip_punct(text: str) -> str:
    """``squash`` and drop punctuation except in-word apostrophes and hyphens."""
    text = squash(text).replace("\u2019", "'")
    text = _PUNCT.sub(" ", text)
    text = re.sub(r"(?<!\w)['-]|['-](?!\w)", " ", text)
    return " ".join(text.split())


def normalise_transcript(text: str) -> str:
    """Text normalisation for WER/CER: NFKC, case-fold, punctuation removed, spaces collapsed.

    Applied identically to references and hypotheses. Numbers are not spelled out:
    "3" and "three" differ, as they would for a reader of the transcript.
    """
    return strip_punct(text)


# ---------------------------------------------------------------- classification


_LEAD_INS = re.compile(
    r"^(?:(?:so|well|ok|okay|sure)[, ]+)?(?:i think |i believe |i'd say |i would say )?"
    r"(?:the |my )?(?:correct |final )?(?:answer|label|class|category|prediction|response|output)"
    r"(?: is| would be| should be)?\s*[:=-]?\s*",
)
_ANSWER_KEYS = ("answer", "label", "prediction", "output", "class", "category", "response")
_NEGATION = re.compile(
    r"(?:\bnot|\bno|n't|\bnever|\bneither|\bnor|\bwithout|\bisn't|\brather than)\s+(?:a |an |the )?$"
)


def _json_answer(text: str) -> str | None:
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if not match:
        return None
    try:
        obj = json.loads(match.group(0))
    except json.JSONDecodeError:
        return None
    if isinstance(obj, dict):
        for key in _ANSWER_KEYS:
            for k, v in obj.items():
                if k.casefold() == key and isinstance(v, (str, int, float)) and not isinstance(v, bool):
                    return str(v)
    return None


def _normalised_candidates(output: str) -> list[str]:
    """Forms of the output that count as stating one answer outright."""
    text = output.strip()
    json_value = _json_answer(text)
    if json_value is not None:
        text = json_value
    base = strip_punct(text)
    forms = [base, strip_punct(_LEAD_INS.sub("", squash(text).strip("*_ `\"'")))]
    return [f for f in dict.fromkeys(forms) if f]


@dataclass(frozen=True)
class Resolution:
    """The answer read from an output, and the tier that decided."""

    answer: str | float | None
    tier: Tier


NA = Resolution(None, "na")


class LabelResolver(Protocol):
    """An optional extra tier (semantic match, LLM judge): returns a label or None."""

    tier: Tier

    def __call__(self, output: str, labels: Sequence[str], instruction: str) -> str | None:
        """The label ``output`` means, or None when unsure."""


def resolve_label(
    output: str, labels: Sequence[str], *, instruction: str = "", resolvers: Sequence[LabelResolver] = ()
) -> Resolution:
    """Resolve a free-form output to one of ``labels`` (see the module table for the tiers)."""
    if not output or not output.strip():
        return NA
    by_squash = {squash(label): label for label in labels}
    if squash(output) in by_squash:
        return Resolution(by_squash[squash(output)], "exact")
    by_norm = {strip_punct(label): label for label in labels}
    for form in _normalised_candidates(output):
        if form in by_norm:
            return Resolution(by_norm[form], "normalised")
    mentioned = mentioned_label(output, labels)
    if mentioned is not None:
        return Resolution(mentioned, "mention")
    for resolver in resolvers:
        answer = resolver(output, labels, instruction)
        if answer is not None and answer in labels:
            return Resolution(answer, resolver.tier)
    return NA


def mentioned_label(output: str, labels: Sequence[str]) -> str | None:
    """The one label mentioned as a whole word, not negated; None if none or several.

    A label inside a longer mentioned label ("high" in "very high") does not count
    separately; a negated mention ("not male", "isn't a dog") is not an answer.
    """
    # Punctuation is kept, so "No, happy" is an interjection and not a negation of "happy".
    text = re.sub(r"[*_`\"]", " ", squash(output).replace("\u2019", "'"))
    spans: list[tuple[int, int, str]] = []
    for label in labels:
        key = squash(label)
        if not key:
            continue
        for m in re.finditer(rf"(?<![\w'-]){re.escape(key)}(?![\w'-])", text):
            spans.append((m.start(), m.end(), label))
    # Drop mentions covered by a longer one.
    kept = [s for s in spans if not any(o[0] <= s[0] and s[1] <= o[1] and (o[1] - o[0]) > (s[1] - s[0]) for o in spans)]
    affirmed = {label for start, _, label in kept if not _NEGATION.search(text[:start])}
    negated = {label for start, _, label in kept if _NEGATION.search(text[:start])}
    if len(affirmed) == 1 and not (affirmed & negated):
        return affirmed.pop()
    return None


# ---------------------------------------------------------------- regression

_NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1000}
_NUMERIC = re.compile(r"(?<![\w.])[-+\u2212]?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?(?![\w])")


def _words_to_number(text: str) -> float | None:
    """The first number written in English words ("minus twelve point five", "a hundred")."""
    words = re.findall(r"[a-z]+", text.casefold().replace("-", " "))
    total, current, found, sign, i = 0.0, 0.0, False, 1.0, 0
    while i < len(words):
        w = words[i]
        if w in _NUMBER_WORDS:
            current += _NUMBER_WORDS[w]
            found = True
        elif w in _SCALES and (found or (i > 0 and words[i - 1] == "a")):
            current = max(current, 1) * _SCALES[w]
            total, current, found = total + current, 0.0, True
        elif w in ("minus", "negative") and not found:
            sign = -1.0
        elif w == "point" and found and i + 1 < len(words) and words[i + 1] in _NUMBER_WORDS:
            digits = []
            while i + 1 < len(words) and words[i + 1] in _NUMBER_WORDS and _NUMBER_WORDS[words[i + 1]] < 10:
                i += 1
                digits.append(str(_NUMBER_WORDS[words[i]]))
            return sign * (total + current + float("0." + "".join(digits)))
        elif w in ("and", "a") or not found:
            pass
        else:
            break
        i += 1
    return sign * (total + current) if found else None


def parse_number(output: str) -> Resolution:
    """Read one number from an output: digits first, then English number words; else N/A.

    Two different numbers ("between 3 and 5") are ambiguous and resolve to N/A.
    """
    if not output or not output.strip():
        return NA
    text = output.strip()
    json_value = _json_answer(text)
    if json_value is not None:
        text = json_value
    values = []
    for m in _NUMERIC.finditer(text):
        raw = m.group(0).replace("\u2212", "-")
        raw = raw.replace(",", "") if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+", raw) else raw.replace(",", ".")
        try:
            values.append(float(raw))
        except ValueError:
            continue
    if values:
        if len(set(values)) > 1:
            return NA
        return Resolution(values[0], "number") if math.isfinite(values[0]) else NA
    word_value = _words_to_number(text)
    return Resolution(word_value, "number") if word_value is not None else NA


# ---------------------------------------------------------------- metrics


@dataclass(frozen=True)
class MetricSpec:
    """A metric's name, direction and range, for aggregation and normalisation."""

    name: str
    higher_is_better: bool
    best: float
    """The best achievable value (1 for accuracy, 0 for WER, 100 for BLEU)."""
    task_type: str


METRICS: dict[str, MetricSpec] = {
    "accuracy": MetricSpec("accuracy", True, 1.0, "classification"),
    "macro_f1": MetricSpec("macro_f1", True, 1.0, "classification"),
    "mae": MetricSpec("mae", False, 0.0, "regression"),
    "rmse": MetricSpec("rmse", False, 0.0, "regression"),
    "pearson": MetricSpec("pearson", True, 1.0, "regression"),
    "wer": MetricSpec("wer", False, 0.0, "generation"),
    "cer": MetricSpec("cer", False, 0.0, "generation"),
    "bleu": MetricSpec("bleu", True, 100.0, "generation"),
    "chrf": MetricSpec("chrf", True, 100.0, "generation"),
}


def accuracy(predictions: Sequence[str | None], references: Sequence[str]) -> float:
    """Share of exact matches; None (N/A) is wrong. Higher is better; empty input is NaN."""
    if not references:
        return math.nan
    return sum(p == r for p, r in zip(predictions, references, strict=True)) / len(references)


def macro_f1(predictions: Sequence[str | None], references: Sequence[str], labels: Sequence[str]) -> float:
    """Macro-averaged F1 over the task's labels (scikit-learn); N/A is a wrong answer of no class."""
    from sklearn.metrics import f1_score

    if not references:
        return math.nan
    preds = [p if p is not None else "\0na" for p in predictions]
    return float(f1_score(references, preds, labels=list(labels), average="macro", zero_division=0.0))


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


def mae(predictions: np.ndarray, references: np.ndarray) -> float:
    """Mean absolute error. Lower is better."""
    return float(np.mean(np.abs(predictions - references))) if len(references) else math.nan


def rmse(predictions: np.ndarray, references: np.ndarray) -> float:
    """Root mean squared error. Lower is better."""
    return float(np.sqrt(np.mean((predictions - references) ** 2))) if len(references) else math.nan


def pearson(predictions: np.ndarray, references: np.ndarray) -> float:
    """Pearson correlation; constant predictions (no information) score 0. Higher is better."""
    if len(references) < 2 or np.std(predictions) == 0 or np.std(references) == 0:
        return 0.0
    return float(np.corrcoef(predictions, references)[0, 1])


NORMALISED_FLOOR = -1000.0


def normalised_score(value: float, chance: float, spec: MetricSpec) -> float:
    """SUPERB-style score: 0 at the chance value, 1000 at the metric's best value.

    The one rule for both directions: ``1000 * (value - chance) / (best - chance)``.
    For a lower-is-better metric ``best`` is below ``chance``, so the sign flips by
    itself: WER 0.25 with chance 1.0 gives 750. Worse than chance is negative, down
    to ``NORMALISED_FLOOR`` (-1000: as far below chance as the best value is above
    it). Error metrics have no upper bound (an MAE of 49 on counts from 1 to 4), and
    without the floor one such task would outweigh every other task in a mean; the
    task table keeps the raw value. NaN when chance already is the best value.
    """
    span = spec.best - chance
    if span == 0 or math.isnan(span) or math.isnan(value):
        return math.nan
    return max(NORMALISED_FLOOR, 1000.0 * (value - chance) / span)


# ---------------------------------------------------------------- per-example and corpus scoring


@dataclass(frozen=True)
class ExampleScore:
    """What scoring one output yields; stored in the example's record."""

    answer: str | float | None
    """The resolved label or number; None when N/A. For generation, the output itself."""
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
) -> ExampleScore:
    """Resolve and score one raw output against its reference."""
    if task_type == "classification":
        res = resolve_label(output, labels, instruction=instruction, resolvers=resolvers)
        return ExampleScore(res.answer, res.tier, float(res.answer == reference))
    if task_type == "regression":
        res = parse_number(output)
        value = float(regression_fill([res.answer], [float(reference)], label_range)[0])  # type: ignore[list-item]
        return ExampleScore(res.answer, res.tier, abs(value - float(reference)), value=value)
    text = output or ""
    tier: Tier = "text" if text.strip() else "na"
    if metric in ("wer", "cer"):
        errors, units = edit_counts(text, str(reference), "word" if metric == "wer" else "char")
        rate = errors / units if units else float(errors > 0)
        return ExampleScore(text, tier, rate, errors=errors, ref_units=units)
    sentence = bleu([text], [str(reference)]) if metric == "bleu" else chrf([text], [str(reference)])
    return ExampleScore(text, tier, sentence)


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
        return float(self.replicates(np.arange(self.n)[None, :] if idx is None else idx[None, :])[0])

    def replicates(self, idx: np.ndarray) -> np.ndarray:
        """The corpus metric for each row of an index matrix ``(B, n)`` (vectorised where possible)."""
        m = self.metric
        if m == "accuracy":
            return self.scores[idx].mean(axis=1)
        if m in ("wer", "cer"):
            units = self.ref_units[idx].sum(axis=1)
            return np.where(units > 0, self.errors[idx].sum(axis=1) / np.maximum(units, 1), np.nan)
        if m == "mae":
            return self.scores[idx].mean(axis=1)
        if m == "rmse":
            return np.sqrt((self.scores[idx] ** 2).mean(axis=1))
        if m == "pearson":
            refs = np.asarray(self.references, dtype=float)
            return np.array([pearson(self.values[row], refs[row]) for row in idx])
        if m == "macro_f1":
            return _macro_f1_rows(self.answers, self.references, self.labels, idx)
        fn = bleu if m == "bleu" else chrf
        return np.array([fn([self.answers[i] for i in row], [self.references[i] for i in row]) for row in idx])


def _macro_f1_rows(
    answers: Sequence[Any], references: Sequence[Any], labels: Sequence[str], idx: np.ndarray
) -> np.ndarray:
    """Macro-F1 (as scikit-learn computes it, zero_division=0) for each index row."""
    code = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    pred = np.array([code.get(a, k) if isinstance(a, str) else k for a in answers])  # k = N/A or unknown
    ref = np.array([code.get(r, k) for r in references])
    p, r = pred[idx], ref[idx]
    f1s = []
    for c in range(k):
        tp = ((p == c) & (r == c)).sum(axis=1)
        fp = ((p == c) & (r != c)).sum(axis=1)
        fn = ((p != c) & (r == c)).sum(axis=1)
        denom = 2 * tp + fp + fn
        f1s.append(np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0))
    return np.mean(f1s, axis=0)


def scored_set(metric: str, records: Sequence[Any], labels: Sequence[str] = ()) -> ScoredSet:
    """Collect the scoring fields of run records (``benchmark.records.Record``)."""
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
