"""Answer resolution and metrics, table-driven, including the traps."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import f1_score

from benchmark.scoring import (
    METRICS,
    bootstrap_indices,
    edit_counts,
    error_rate,
    normalised_score,
    parse_number,
    resolve_label,
    score_output,
)

GENDER = ["female", "male"]
PITCH = ["high", "low", "very high"]
YESNO = ["yes", "no"]
EMOTION = ["happy", "sad", "neutral"]
LANG = ["en", "de", "fr"]
INTENT = ["play music", "set alarm", "get weather"]

# (raw output, labels, expected answer, expected tier)
RESOLUTION = [
    ("female", GENDER, "female", "exact"),
    ("  Female ", GENDER, "female", "exact"),
    ("MALE", GENDER, "male", "exact"),
    ("play   music", INTENT, "play music", "exact"),
    ("female.", GENDER, "female", "normalised"),
    ('"male"', GENDER, "male", "normalised"),
    ("'female'", GENDER, "female", "normalised"),
    ("**female**", GENDER, "female", "normalised"),
    ("The answer is male.", GENDER, "male", "normalised"),
    ("Answer: female", GENDER, "female", "normalised"),
    ("answer - yes", YESNO, "yes", "normalised"),
    ("My final answer is: sad", EMOTION, "sad", "normalised"),
    ('{"answer": "male"}', GENDER, "male", "normalised"),
    ('```json\n{"label": "happy"}\n```', EMOTION, "happy", "normalised"),
    ('{"Answer": "Set alarm"}', INTENT, "set alarm", "normalised"),
    ("Yes!", YESNO, "yes", "normalised"),
    ("The speaker is female.", GENDER, "female", "mention"),
    ("I think it's a male voice", GENDER, "male", "mention"),
    ("This sounds happy to me", EMOTION, "happy", "mention"),
    ("The pitch is very high", PITCH, "very high", "mention"),  # not also "high"
    ("The tone is high.", PITCH, "high", "mention"),
    ("The user wants to play music now", INTENT, "play music", "mention"),
    ("The speaker is not male, it is female", GENDER, "female", "mention"),
    ("Language: de", LANG, "de", "mention"),
    ("It is spoken in de, I believe", LANG, "de", "mention"),
    # traps: N/A
    ("", GENDER, None, "na"),
    ("   ", GENDER, None, "na"),
    ("The speaker is not male.", GENDER, None, "na"),  # negated only
    ("It isn't female", GENDER, None, "na"),
    ("It could be male or female", GENDER, None, "na"),  # two labels
    ("female or male", GENDER, None, "na"),
    ("I cannot tell from this audio.", GENDER, None, "na"),
    ("femalemale", GENDER, None, "na"),  # no whole word
    ("The speaker is a woman", GENDER, "female", "lexicon"),  # a common synonym
    ("maleficent", GENDER, None, "na"),
    ("The answer is unknown", YESNO, None, "na"),
    ("no, not happy", EMOTION, None, "na"),
    ('{"answer": "angry"}', EMOTION, None, "na"),
    ("neither happy nor sad", EMOTION, None, "na"),
    ("Sad? No, happy.", EMOTION, "happy", "mention"),  # a question asks; the answer follows it
    ("It is high, not low", PITCH, "high", "mention"),
    ("hyper-female", GENDER, None, "na"),  # a hyphenated word is one word
    ("She sounds english: en", LANG, "en", "mention"),
]

MC = "Which emotion? (A) happy (B) sad (C) neutral"
# (raw output, labels, instruction, expected answer, expected tier): the reading rules, one row per rule.
READING = [
    ("(B)", EMOTION, MC, "sad", "option"),
    ("The answer is (C).", EMOTION, MC, "neutral", "option"),
    ("(A) sad", EMOTION, MC, None, "na"),  # the letter and the text disagree
    ("(B)", EMOTION, "", None, "na"),  # no options listed
    ("Options: 1. low 2. high", PITCH, "", None, "na"),
    ("2", ["low", "high"], "Pick: 1. low 2. high", "high", "option"),
    ("Sad at first, happy later. Answer: happy", EMOTION, "", "happy", "final"),
    ("It could be sad. **happy**", EMOTION, "", "happy", "final"),
    ("I weighed sad and happy. In the end: happy.", EMOTION, "", "happy", "mention"),
    ("It is sad. No wait, it is happy.", EMOTION, "", "happy", "final"),
    ('{"mood": "sad", "score": 2}', EMOTION, "", "sad", "final"),
    ("Yes, there is no difference.", YESNO, "", "yes", "leading"),
    ("No, not at all.", YESNO, "", "no", "leading"),
    ("Yes or no? Hard to say.", YESNO, "", None, "na"),
    ("I can't tell whether it is happy.", EMOTION, "", None, "na"),
    ("It might be sad.", EMOTION, "", "sad", "mention"),  # one hedged candidate is still a commitment
    ("It might be sad, or happy.", EMOTION, "", None, "na"),
    ("Probably sad.", EMOTION, "", "sad", "mention"),
    ("It is 'sad'.", EMOTION, "", "sad", "mention"),
    ("Between happy and sad, I'd say sad.", EMOTION, "", "sad", "mention"),
    ("7", ["six", "seven"], "", "seven", "normalised"),
    ("Nope.", YESNO, "", "no", "normalised"),
    ("female?", GENDER, "", None, "na"),  # asks back
    ("The intent is to play music, set an alarm, and get weather or call.", INTENT, "", None, "na"),  # a list
    ("It is to play music, set an alarm, and weather the weather.", ["play music", "weather", "call"], "", None, "na"),
    ("Happy, sad or neutral \u2014 I'd go with neutral.", EMOTION, "", "neutral", "mention"),
]


@pytest.mark.parametrize(("output", "labels", "instruction", "answer", "tier"), READING)
def test_reading_rules(output, labels, instruction, answer, tier) -> None:
    res = resolve_label(output, labels, instruction=instruction)
    assert (res.answer, res.tier) == (answer, tier)


@pytest.mark.parametrize(
    ("output", "labels", "answer", "tier"), RESOLUTION, ids=[f"{i}:{r[0][:20]}" for i, r in enumerate(RESOLUTION)]
)
def test_resolution_table(output, labels, answer, tier) -> None:
    res = resolve_label(output, labels)
    assert (res.answer, res.tier) == (answer, tier)


def test_resolution_table_is_big_enough() -> None:
    assert len(RESOLUTION) >= 40


class _FixedResolver:
    tier = "semantic"

    def __init__(self, answer):
        self.answer = answer
        self.calls = 0

    def __call__(self, output, labels, instruction):
        self.calls += 1
        return self.answer


def test_extra_resolvers_run_only_after_rule_tiers() -> None:
    resolver = _FixedResolver("female")
    assert resolve_label("female", GENDER, resolvers=[resolver]).tier == "exact" and resolver.calls == 0
    res = resolve_label("a soprano", GENDER, resolvers=[resolver])
    assert (res.answer, res.tier) == ("female", "semantic")
    assert resolve_label("a soprano", GENDER, resolvers=[_FixedResolver("cat")]).tier == "na"  # not a label


NUMBERS = [
    ("12", 12.0),
    ("There are 3 beeps.", 3.0),
    ("-4.5 dB", -4.5),
    ("about 7,5", 7.5),
    ("1,200", 1200.0),
    ("seven", 7.0),
    ("twenty-one", 21.0),
    ("minus twelve", -12.0),
    ("three point five", 3.5),
    ("a hundred", 100.0),
    ("The SNR is 10 dB", 10.0),
    ('{"answer": 4}', 4.0),
    ("1e3", 1000.0),
    ("between 3 and 5", None),
    ("", None),
    ("many", None),
    ("nan", None),
    ("\u22123", -3.0),
    ("three or four", None),
    ("3 or 4", None),
    ("3-5", None),
    ("None.", 0.0),
    ("No one.", 0.0),
    ("There are no beeps.", 0.0),
    ("No idea.", None),
    ("3kHz", 3.0),
    ("120wpm", 120.0),
    ('{"count": 3}', 3.0),
    ('{"count": 3, "other": 4}', 3.0),  # a field named "count" is the answer; the other is extra
    ('{"first": 3, "other": 4}', None),
    ("one, two, three. Answer: 3", 3.0),
    ("3, not 4", 3.0),
    ("not 4", None),
    ("150 wpm (2.5 per second)", 150.0),
    ("one hundred and twenty", 120.0),
    ("a single speaker", 1.0),
    ("3 beeps (maybe 4)", None),
    ("3 beeps in this 2-second clip", 3.0),
    ("I hear **3** beeps, or maybe **4**", None),
    ("**4**", 4.0),
]


@pytest.mark.parametrize(("output", "value"), NUMBERS)
def test_parse_number(output, value) -> None:
    res = parse_number(output)
    assert res.answer == value and (res.tier == "na") == (value is None)


@pytest.mark.parametrize(
    ("output", "instruction", "value"),
    [
        ("20-30", "Give the age as a range, e.g. 20-30.", 25.0),
        ("between 30 and 40", "Answer with a range.", 35.0),
        ("20-30", "How old is the speaker?", None),
        ("30 or 40", "Answer with a range.", None),
    ],
)
def test_ranges_read_only_when_the_instruction_asks_for_one(output, instruction, value) -> None:
    assert parse_number(output, instruction=instruction).answer == value


def test_wer_of_empty_hypothesis_is_one_per_reference_word() -> None:
    assert edit_counts("", "the cat sat", "word") == (3, 3)
    assert edit_counts("  ", "a b", "word") == (2, 2)
    s = score_output("", "the cat sat", task_type="generation", metric="wer")
    assert s.score == 1.0 and s.tier == "na"


def test_wer_is_corpus_level_not_a_mean() -> None:
    counts = [edit_counts("a", "a b c d", "word"), edit_counts("x", "y", "word")]
    assert counts == [(3, 4), (1, 1)]
    assert error_rate(counts) == pytest.approx(4 / 5)  # a mean of rates would give 0.875


def test_transcript_normalisation() -> None:
    assert edit_counts("Hello, World!", "hello world", "word") == (0, 2)
    assert edit_counts("don't stop", "Don't stop.", "word") == (0, 2)
    assert edit_counts("helo", "hello", "char") == (1, 5)


def test_regression_na_scores_the_worst_in_range() -> None:
    s = score_output("no idea", 2.0, task_type="regression", metric="mae", label_range=(0.0, 10.0))
    assert s.tier == "na" and s.value == 10.0 and s.score == 8.0
    best_guess = score_output("5", 2.0, task_type="regression", metric="mae", label_range=(0.0, 10.0))
    assert best_guess.score < s.score


@settings(max_examples=300, deadline=None)
@given(
    prediction=st.one_of(st.none(), st.floats(allow_nan=True), st.integers(-(10**20), 10**20)),
    reference=st.floats(allow_nan=True, allow_infinity=False),
    ends=st.tuples(st.floats(-1e9, 1e9), st.floats(-1e9, 1e9)),
)
def test_one_filled_prediction_is_regression_fill(prediction, reference, ends) -> None:
    """Scoring fills one answer without numpy; it must be the array version's number, bit for bit."""
    from benchmark.scoring.score import _filled, regression_fill

    lo, hi = sorted(ends)
    expected = float(regression_fill([prediction], [reference], (lo, hi))[0])
    got = _filled(prediction, reference, (lo, hi))
    assert (math.isnan(got) and math.isnan(expected)) or got == expected


def test_empty_output_is_the_worst_score_for_every_metric() -> None:
    for metric, spec in METRICS.items():
        kw = dict(task_type=spec.task_type, metric=metric)
        if spec.task_type == "classification":
            s = score_output("", "male", labels=GENDER, **kw)
            assert s.score == 0.0
        elif spec.task_type == "regression":
            s = score_output("", 3.0, label_range=(0.0, 3.0), **kw)
            assert s.score == 3.0
        elif spec.task_type == "audio":  # an audio answer is scored by the audio scorer (tests/test_audio_answers.py)
            continue
        else:
            s = score_output("", "hello there", **kw)
            assert s.score == (1.0 if metric in ("wer", "cer") else 0.0)


def test_macro_f1_matches_scikit_learn_with_na() -> None:
    from benchmark.scoring.metrics import _macro_f1_rows

    rng = np.random.default_rng(1)
    labels = ["a", "b", "c"]
    refs = list(rng.choice(labels, 50))
    answers = [None if rng.random() < 0.2 else str(rng.choice(labels)) for _ in refs]
    ours = _macro_f1_rows(answers, refs, labels, np.arange(50)[None, :])[0]
    theirs = f1_score(refs, [a or "\0na" for a in answers], labels=labels, average="macro", zero_division=0.0)
    assert ours == pytest.approx(theirs)


@pytest.mark.parametrize(
    ("metric", "value", "chance", "expected"),
    [
        ("accuracy", 0.75, 0.5, 500.0),
        ("accuracy", 1.0, 0.5, 1000.0),
        ("accuracy", 0.5, 0.5, 0.0),
        ("accuracy", 0.25, 0.5, -500.0),
        ("wer", 0.25, 1.0, 750.0),
        ("wer", 0.0, 1.0, 1000.0),
        ("wer", 1.2, 1.0, -200.0),
        ("mae", 1.0, 4.0, 750.0),
        ("bleu", 50.0, 0.0, 500.0),
        ("pearson", 0.5, 0.0, 500.0),
    ],
)
def test_normalised_score_one_rule_both_directions(metric, value, chance, expected) -> None:
    assert normalised_score(value, chance, METRICS[metric]) == pytest.approx(expected)


def test_normalised_score_undefined_when_chance_is_best() -> None:
    assert math.isnan(normalised_score(0.0, 0.0, METRICS["wer"]))


def test_bootstrap_indices_are_seeded() -> None:
    assert (bootstrap_indices(10, 5, seed=3) == bootstrap_indices(10, 5, seed=3)).all()
    assert not (bootstrap_indices(10, 5, seed=3) == bootstrap_indices(10, 5, seed=4)).all()
