"""The metric registry is the one place a metric is declared: the card, the schema and the chance level read it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmark.scoring.aggregate import normalised_score, normalised_scores
from benchmark.scoring.metrics import METRICS, Metric, PerExample, metrics_for, register, scored_set
from benchmark.task.card import METRICS_BY_TASK_TYPE, TaskCard
from benchmark.task.schemas import json_schema


def test_the_card_and_the_schema_take_their_metric_names_from_the_registry() -> None:
    assert set(json_schema("task")["properties"]["metric"]["enum"]) == set(METRICS)
    assert {m for names in METRICS_BY_TASK_TYPE.values() for m in names} == set(METRICS)
    for name, metric in METRICS.items():
        assert name in metrics_for(metric.task_type)


def test_a_metric_is_declared_once() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        register(METRICS["wer"])


@pytest.mark.parametrize(
    ("metric", "labels", "expected"),
    [("accuracy", 4, 0.25), ("macro_f1", 2, 0.5), ("wer", 0, 1.0), ("bleu", 0, 0.0), ("pearson", 0, 0.0)],
)
def test_chance_without_a_train_split(metric: str, labels: int, expected: float) -> None:
    assert METRICS[metric].chance_fallback(labels) == expected


def test_mae_without_a_train_split_has_no_made_up_chance() -> None:
    assert math.isnan(METRICS["mae"].chance_fallback(0))


class _Row:
    def __init__(self, reference: object, answer: object, per: PerExample, value: float | None = None) -> None:
        self.reference, self.answer, self.value = reference, answer, value
        self.score, self.errors, self.ref_units = per.score, per.errors, per.ref_units


@pytest.mark.parametrize("name", sorted(n for n, m in METRICS.items() if m.task_type != "audio"))
def test_corpus_value_equals_the_replicate_of_the_identity_resample(name: str) -> None:
    metric: Metric = METRICS[name]
    if metric.task_type == "classification":
        refs, answers = ["a", "b", "a", "b"], ["a", "a", None, "b"]
    elif metric.task_type == "regression":
        refs, answers = [1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 2.0, 5.0]
    else:
        refs, answers = ["the cat sat", "a dog", "red car", "blue sky"], ["the cat sat", "a frog", "", "blue sky"]
    value = metric.task_type == "regression"
    rows = [_Row(r, a, metric.example(a, r), a if value else None) for r, a in zip(refs, answers, strict=True)]
    s = scored_set(name, rows, ["a", "b"])
    identity = s.replicates(np.arange(4)[None, :])[0]
    assert s.value() == pytest.approx(identity, nan_ok=True)
    # Only a metric that needs a scoring model (the judge) may be unscored here: it never guesses.
    assert np.isnan(s.value()) == bool(metric.needs)
    assert metric.best == (100.0 if name in ("bleu", "chrf") else 0.0 if not metric.higher_is_better else 1.0)


def test_vectorised_normalisation_matches_the_scalar_rule() -> None:
    values = np.array([0.2, 0.5, 0.9, np.nan, 5.0])
    chances = np.array([0.5, 0.5, 0.5, 0.5, 0.5])
    for name in ("accuracy", "wer"):
        expected = [normalised_score(v, c, METRICS[name]) for v, c in zip(values, chances, strict=True)]
        np.testing.assert_allclose(normalised_scores(values, chances, METRICS[name]), expected)


def test_empty_output_is_never_a_good_score() -> None:
    assert METRICS["wer"].example("", "two words").score == 1.0
    assert METRICS["accuracy"].example(None, "a").score == 0.0
    assert METRICS["bleu"].example("", "some words here").score == 0.0


def test_a_card_with_an_unregistered_metric_is_rejected() -> None:
    from helpers import card

    with pytest.raises(ValueError, match="metric"):
        TaskCard.model_validate(card(metric="f2"))


@pytest.mark.parametrize("name", sorted(n for n, m in METRICS.items() if m.task_type == "audio"))
def test_every_speech_metric_is_in_the_registry_and_its_worst_answer_scores_worst(name: str) -> None:
    from benchmark.scoring.speech.metrics import SPEECH_METRICS, References, SpeechScore, worst_scores

    speech, metric = SPEECH_METRICS[name], METRICS[name]
    refs = References(text="the cat sat on the mat")
    worst = worst_scores([name], "missing", refs)[name]
    good = SpeechScore(speech.best if math.isfinite(speech.best) else 30.0, "ok", {"errors": 0, "ref_units": 6})
    rows = [_Row("", None, metric.example(s, ""), None) for s in (worst, good, good, worst)]
    s = scored_set(name, rows)
    assert s.value() == pytest.approx(s.replicates(np.arange(4)[None, :])[0])
    bad, best = metric.example(worst, "").score, metric.example(good, "").score
    assert (bad < best) if metric.higher_is_better else (bad > best), "a missing answer must score worst"
    assert metric.needs == tuple(sorted(speech.needs)) and np.isnan(metric.chance_fallback(2))


def test_no_answer_scores_worse_than_a_missing_one_on_a_target_metric() -> None:
    from benchmark.scoring.speech.metrics import SpeechScore

    metric = METRICS["duration-ratio"]
    missing = metric.example(SpeechScore(0.0, "missing"), "").score
    assert [metric.example(SpeechScore(r, "ok"), "").score for r in (1.0, 0.5, 1.5, 3.0, 10.0)] == [0, 0.5, 0.5, 1, 1]
    assert missing == 1.0
