"""The shipped resolution set: thresholds with and without the semantic tier, the audit report, bad rows."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from benchmark.cli import app
from benchmark.scoring import parse_number, resolve_label
from benchmark.scoring.audit import RESOLUTION_SET, AuditFileError, audit, load_cases
from benchmark.scoring.judge import SemanticResolver, semantic_available

needs_minilm = pytest.mark.skipif(not semantic_available(), reason="install the semantic extra")
CASES = load_cases(RESOLUTION_SET)
MIN_AGREEMENT, MAX_WRONG = 0.92, 0.02


def test_shipped_set_is_big_and_covers_every_category() -> None:
    assert len(CASES) >= 200
    counts = Counter(c.category for c in CASES)
    for category in ("hedge", "negation", "refusal", "reasoning", "option", "yes-no", "json", "final-answer",
                     "number-words", "zero", "range", "units", "paraphrase-sentence", "non-answer-sentence"):
        assert counts[category] >= 5, category
    assert sum(c.debatable for c in CASES) < len(CASES) * 0.1
    assert {c.task_type for c in CASES} == {"classification", "regression"}


def test_rule_tiers_meet_the_thresholds() -> None:
    report = audit(CASES)
    assert report.overall.agreement >= MIN_AGREEMENT, report.overall
    assert report.overall.wrong_rate <= MAX_WRONG, report.overall


@needs_minilm
def test_with_the_semantic_tier_meets_the_thresholds(semantic: SemanticResolver) -> None:
    rules, with_semantic = audit(CASES), audit(CASES, [semantic])
    assert with_semantic.overall.agreement >= MIN_AGREEMENT and with_semantic.overall.wrong_rate <= MAX_WRONG
    # The semantic tier never subtracts: it only sees answers the rules leave N/A, and adds no wrong label.
    assert with_semantic.overall.agree >= rules.overall.agree
    assert with_semantic.overall.wrong == rules.overall.wrong


@needs_minilm
def test_semantic_tier_on_full_sentences(semantic: SemanticResolver) -> None:
    sentences = [c for c in CASES if c.category in ("paraphrase-sentence", "non-answer-sentence")]
    report = audit(sentences, [semantic])
    assert report.overall.wrong == 0 and report.debatable.wrong == 0
    assert report.categories["paraphrase-sentence"].agree >= 3


@needs_minilm
@pytest.mark.parametrize(
    ("output", "labels"),
    [
        ("It's not a male voice.", ["female", "male"]),
        ("There is no speech.", ["speech", "music", "noise"]),
        ("It is not a woman.", ["female", "male"]),
        ("I can't tell whether the speaker is happy.", ["happy", "sad"]),
        ("Is it a woman?", ["female", "male"]),
    ],
)
def test_semantic_tier_never_reads_negated_doubted_or_asked_answers(semantic, output, labels) -> None:
    assert resolve_label(output, labels, resolvers=[semantic]).tier == "na"


class _Counting:
    tier = "semantic"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, output, labels, instruction=""):
        self.seen.append(output)
        return labels[0]

    def config(self):
        return {"tier": self.tier}


def test_semantic_tier_is_not_even_asked_about_negated_answers() -> None:
    spy = _Counting()
    for output in ("It's not a male voice.", "Not female.", "No idea.", "Maybe.", "Is it male?"):
        assert resolve_label(output, ["female", "male"], resolvers=[spy]).tier == "na"
    assert spy.seen == []
    assert resolve_label("a soprano", ["female", "male"], resolvers=[spy]).tier == "semantic"


# Each example the issue names, read as a careful grader reads it.
ISSUE_EXAMPLES = [
    ("It's not a male voice.", ["female", "male"], "", None),
    ("There is no speech.", ["speech", "music", "noise"], "", None),
    ("I can't tell whether the speaker is happy.", ["happy", "sad", "neutral"], "", None),
    ("Rhotic vowels, British melody.\n\n**Answer: american**", ["american", "british"], "", "american"),
    ("(C)", ["happy", "sad", "angry", "neutral"], "Which? (A) happy (B) sad (C) angry (D) neutral", "angry"),
    ("Yes, no doubt about it.", ["yes", "no"], "", "yes"),
]


@pytest.mark.parametrize(("output", "labels", "instruction", "answer"), ISSUE_EXAMPLES)
def test_issue_examples(output, labels, instruction, answer) -> None:
    assert resolve_label(output, labels, instruction=instruction).answer == answer


@pytest.mark.parametrize(
    ("output", "value"), [("three or four", None), ("between 3 and 5", None), ("None.", 0.0), ("3kHz", 3.0)]
)
def test_issue_number_examples(output, value) -> None:
    assert parse_number(output).answer == value


def _row(**fields) -> str:
    base = {"output": "male", "labels": ["female", "male"], "expected": "male", "category": "plain"}
    return json.dumps({**base, **fields})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        (_row(colour="red"), "colour: Extra inputs are not permitted (allowed keys: output,"),
        (_row(expected="cat"), "'cat' is not one of the labels"),
        (_row(labels=["male"]), "at least two labels"),
        (_row(labels=None, task_type="regression", expected="three"), "expects a number or null"),
        (_row(category=""), "category: String should have at least 1 character"),
        (_row(output=None), "output: Input should be a valid string"),
    ],
)
def test_bad_rows_are_named_by_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(_row() + "\n\n" + line + "\n")
    with pytest.raises(AuditFileError) as err:
        load_cases(path)
    assert f"{path}:3: " in str(err.value) and message in str(err.value)


def test_resolve_report_command(tmp_path: Path) -> None:
    path = tmp_path / "mine.jsonl"
    rows = [
        _row(category="plain"),
        _row(output="Not male.", expected=None, category="negation"),
        _row(output="hard to tell, maybe male", expected="male", category="hedge"),  # N/A: "hard to tell" abstains
        json.dumps({"output": "3 beeps", "task_type": "regression", "expected": 3, "category": "count"}),
    ]
    path.write_text("\n".join(rows) + "\n")
    result = CliRunner().invoke(app, ["resolve-report", str(path), "--no-semantic", "--show"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split() for line in result.output.splitlines() if line.strip()}
    assert lines["negation"][1:3] == ["1", "100.0%"] and lines["hedge"][1:3] == ["1", "0.0%"]
    assert "'hard to tell, maybe male' -> None [na], expected 'male'" in result.output
    failing = CliRunner().invoke(app, ["resolve-report", str(path), "--no-semantic", "--min-agreement", "0.9"])
    assert failing.exit_code == 1 and "below the thresholds" in failing.output
    (tmp_path / "bad.jsonl").write_text(_row(expected="cat") + "\n")
    bad = CliRunner().invoke(app, ["resolve-report", str(tmp_path / "bad.jsonl"), "--no-semantic"])
    assert bad.exit_code == 2 and "bad.jsonl:1: row: 'expected' 'cat' is not one of the labels" in bad.output


def test_resolve_report_of_the_shipped_set_passes_the_ci_thresholds() -> None:
    args = ["resolve-report", "--no-semantic", "--min-agreement", str(MIN_AGREEMENT), "--max-wrong", str(MAX_WRONG)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "all (not debatable)" in result.output
