"""Instruction following end to end: constraint runs, unwrapped answers, IF rates, contract findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import make_task, read_examples, write_examples
from listeners import Ignores, Obeys, ObeysButWrong

from benchmark import RunError, evaluate
from benchmark.controls import make_variant
from benchmark.runner import rescore
from benchmark.submission.card import read_model_card
from benchmark.submission.records import read_records
from benchmark.task.checks import validate_task

SETS = [{"id": "upper"}, {"id": "json"}, {"id": "words_max"}, {"id": "ends_with"}]


def _task(root: Path) -> Path:
    return make_task(root, card_overrides={"constraints": SETS})


def _records(sub: Path):
    return read_records(sub / "runs" / "ToneHeight@1.0.0.jsonl")


def test_a_constraint_run_is_a_linked_submission_with_one_record_per_example_and_set(tmp_path: Path) -> None:
    _task(tmp_path / "tasks")
    evaluate(Obeys(), "ToneHeight", tmp_path / "subs", tasks_root=tmp_path / "tasks", name="m", constraints="all")
    sub = tmp_path / "subs" / "m+constraints"
    card = read_model_card(sub)
    assert (card.base, card.variant) == ("m", "constraints")
    records = _records(sub)
    assert len(records) == 32 * len(SETS) and len({r.unit for r in records}) == len(records)
    assert {r.constraint_index for r in records} == {0, 1, 2, 3}
    assert all(r.checker_version and r.checks for r in records)
    # The prompt is the card's instruction plus a seeded phrasing, the same in every run.
    first = {r.unit: r.instruction for r in records}
    evaluate(Obeys(), "ToneHeight", tmp_path / "again", tasks_root=tmp_path / "tasks", name="m", constraints="all")
    assert {r.unit: r.instruction for r in _records(tmp_path / "again" / "m+constraints")} == first
    card_instructions = json.loads((tmp_path / "tasks" / "ToneHeight" / "task.json").read_text())["instructions"]
    assert all(any(r.instruction.startswith(i + " ") for i in card_instructions) for r in records)


@pytest.mark.parametrize(
    ("model", "score", "following"),
    [(Obeys(), 1.0, 1.0), (ObeysButWrong(), 0.0, 1.0), (Ignores(), 1.0, None)],
    ids=["obeys", "obeys-format-wrong-label", "ignores-constraints"],
)
def test_following_and_being_right_are_separate_numbers(tmp_path: Path, model, score, following) -> None:
    _task(tmp_path / "tasks")
    (summary,) = evaluate(model, "ToneHeight", tmp_path / "subs", tasks_root=tmp_path / "tasks", constraints="all")
    assert summary.value == score  # an obedient answer is unwrapped before it is read: {"answer": "HIGH"} is high
    if following is None:  # ignoring the format: right answers, few constraints obeyed
        assert summary.if_strict is not None and summary.if_strict <= 0.25
    else:
        assert summary.if_strict == following and summary.if_loose == following


def test_examples_with_their_own_constraints_are_checked_in_a_plain_run(tmp_path: Path) -> None:
    folder = make_task(tmp_path / "tasks")
    rows = read_examples(folder)
    for row in rows:
        row["instruction"] = "Is the tone high or low? Answer in capital letters only."
        row["constraints"] = [{"id": "upper", "args": {}}]
    write_examples(folder, rows)
    assert not validate_task(folder).errors
    (summary,) = evaluate(Obeys(), "ToneHeight", tmp_path / "subs", tasks_root=tmp_path / "tasks")
    assert summary.value == 1.0 and summary.if_strict == 1.0
    with pytest.raises(RunError, match="constraint"):
        # a constraint run has nothing to vary on examples that carry their own constraints
        evaluate(Obeys(), "ToneHeight", tmp_path / "subs", tasks_root=tmp_path / "tasks", constraints="all")


@pytest.mark.parametrize(
    ("sets", "code"),
    [
        ([{"id": "no-such-thing"}], "T170"),
        ([{"id": "words", "args": {"max": "five"}, "phrasings": ["Use at most {max} words."] * 5}], "T171"),
        ([[{"id": "upper"}, {"id": "language_zh"}]], "T172"),
        ([{"id": "words", "args": {"max": 5}, "phrasings": [f"Be brief, version {i}." for i in range(5)]}], "T173"),
        ([{"id": "language_zh"}], "T174"),
        ([{"id": "upper", "phrasings": ["Capitals only."]}], "T175"),
    ],
)
def test_bad_constraint_sets_are_findings_naming_the_field(tmp_path: Path, sets, code) -> None:
    folder = make_task(tmp_path / "tasks", card_overrides={"constraints": sets})
    found = [f for f in validate_task(folder).findings if f.code == code]
    assert found and found[0].field and found[0].field.startswith("constraints[0]") and found[0].level == "error"


def test_constraint_option_parses_like_the_other_variants() -> None:
    assert make_variant(None, None, "all").name == "constraints"
    assert make_variant(None, None, "2").constraints == 2
    with pytest.raises(Exception, match="separate runs"):
        make_variant("silence", None, "all")


def test_rescoring_a_constraint_run_checks_and_unwraps_again(tmp_path: Path) -> None:
    _task(tmp_path / "tasks")
    evaluate(Obeys(), "ToneHeight", tmp_path / "subs", tasks_root=tmp_path / "tasks", name="m", constraints="all")
    sub = tmp_path / "subs" / "m+constraints"
    before = [r.model_dump(exclude={"seconds"}) for r in _records(sub)]
    (summary,) = rescore(sub, tmp_path / "tasks")
    assert [r.model_dump(exclude={"seconds"}) for r in _records(sub)] == before
    assert summary.value == 1.0 and summary.if_strict == 1.0 and summary.expected == 32 * len(SETS)
