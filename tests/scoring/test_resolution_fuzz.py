"""Resolution never fails and never invents: any text gives a label of the task, a finite number, or N/A."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from benchmark.scoring import parse_number, resolve_label

WORDS = ["male", "female", "not", "no", "yes", "or", "and", "(A)", "B)", "**", "answer:", "?", ",", ".", "3", "-",
         "three", "maybe", "{", "}", '"answer"', ":", "none", "between", "\n", "'", "n't", "whether", "very high"]
TEXT = st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=6)), max_size=40).map(" ".join)
LABELS = ["female", "male", "very high", "yes", "no"]


@settings(max_examples=300, deadline=None)
@given(TEXT, st.sampled_from(["", "Who? (A) female (B) male (C) yes", "Options: 1. male 2. female"]))
def test_any_text_resolves_to_a_label_or_na(output: str, instruction: str) -> None:
    res = resolve_label(output, LABELS, instruction=instruction)
    assert (res.answer is None) == (res.tier == "na")
    assert res.answer is None or res.answer in LABELS


@settings(max_examples=300, deadline=None)
@given(TEXT, st.sampled_from(["", "Answer with a range."]))
def test_any_text_reads_as_a_finite_number_or_na(output: str, instruction: str) -> None:
    res = parse_number(output, instruction=instruction)
    assert res.answer is None or (isinstance(res.answer, float) and math.isfinite(res.answer))
