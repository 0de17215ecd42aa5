"""Generation answers: the answer span is extracted, both sides normalised, the record keeps every form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from benchmark.cli import app
from benchmark.scoring import score_output
from benchmark.scoring.extract import extract_answer
from benchmark.scoring.labels import RESOLVER_VERSION
from benchmark.scoring.text import normalise_transcript


@pytest.mark.parametrize(
    ("output", "span"),
    [
        ("The digits are 1 7 8", "1 7 8"),
        ('Transcript: "hello there"', "hello there"),
        ("Sure! Here is the transcription:\n\nhello there", "hello there"),
        ("<think>it sounds like hello</think>The answer is 42", "42"),
        ("<answer>good morning</answer>", "good morning"),
        ('{"transcript": "x", "answer": "good morning"}', "good morning"),
        ("Answer: hello\nUser: again?\nAssistant: bye", "hello"),
        # nothing marked: the output stands, never shortened on a guess
        ("Text messages are fine.", "Text messages are fine."),
        ("Answer the phone, please.", "Answer the phone, please."),
        ('"Hello," she said.', '"Hello," she said.'),
    ],
)
def test_answer_span(output: str, span: str) -> None:
    assert extract_answer(output) == span


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("One seven eight.", "178"),
        ("1 7 8", "178"),
        ("twenty-one apples", "21 apples"),
        ("one hundred and five", "105"),
        ("two thousand three hundred", "2300"),
        ("1,200 people, 3.5 km", "1200 people 3.5 km"),
        ("five oh two", "502"),
        ("Oh, hello!", "oh hello"),
        ("It's a DOG.", "it's a dog"),
        ("21 5", "21 5"),  # only single digits join
    ],
)
def test_normaliser(text: str, normalised: str) -> None:
    assert normalise_transcript(text) == normalised


@pytest.mark.parametrize("metric", ["cer", "wer"])
@pytest.mark.parametrize("output", ["One seven eight.", "The digits are 1 7 8", '"178"', "178"])
def test_spoken_quoted_and_prefaced_numbers_score_as_their_content(metric: str, output: str) -> None:
    scored = score_output(output, "178", task_type="generation", metric=metric)
    assert scored.score == 0.0 and scored.errors == 0
    assert scored.normalised_answer == scored.normalised_reference == "178"
    assert scored.resolver_version == RESOLVER_VERSION


def test_bleu_compares_normalised_forms() -> None:
    reference = "I bought 21 red apples today"
    same = score_output(
        "Transcript: I bought twenty-one red apples today.", reference, task_type="generation", metric="bleu"
    )
    assert same.score == pytest.approx(100.0)
    assert score_output("", reference, task_type="generation", metric="bleu").score == 0.0


def test_empty_and_wrong_answers_still_score_badly() -> None:
    assert score_output("", "178", task_type="generation", metric="cer").score == 1.0
    assert score_output("The digits are 9 9 9", "178", task_type="generation", metric="cer").score == 1.0


def _case(output: str, expected: str | None, category: str = "plain") -> str:
    return json.dumps({"output": output, "labels": ["female", "male"], "expected": expected, "category": category})


def test_resolve_report_saves_and_compares_readings(tmp_path: Path) -> None:
    answers = tmp_path / "set.jsonl"
    answers.write_text("\n".join([_case("female", "female"), _case("a lady", "female", "synonym")]) + "\n")
    saved = tmp_path / "readings.jsonl"
    assert CliRunner().invoke(app, ["resolve-report", str(answers), "--save", str(saved)]).exit_code == 0
    rows = [json.loads(line) for line in saved.read_text().splitlines()]
    assert [r["answer"] for r in rows] == ["female", "female"] and rows[0]["resolver_version"] == RESOLVER_VERSION
    # An older version that read "a lady" as N/A: the comparison lists the one answer that changed.
    rows[1].update(answer=None, tier="na", resolver_version="1")
    saved.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = CliRunner().invoke(app, ["resolve-report", str(answers), "--against", str(saved)])
    assert result.exit_code == 0, result.output
    assert "+ synonym: 'a lady': None [na, v1] -> 'female' [lexicon]" in result.output
    assert "1 of 2 answers read differently" in result.output
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    bad = CliRunner().invoke(app, ["resolve-report", str(answers), "--against", str(tmp_path / "bad.jsonl")])
    assert bad.exit_code == 2 and "not a file of saved readings" in bad.output


def test_records_keep_raw_extracted_and_normalised_forms_and_old_records_still_read() -> None:
    from benchmark.submission.records import Record
    from benchmark.submission.scorer import rescored

    old = Record(
        task="t",
        task_version="1",
        task_hash="h",
        id="1",
        split="test",
        instruction="Say the digits.",
        reference="178",
        output="The digits are 1 7 8",
        answer="The digits are 1 7 8",
        tier="text",
        score=4.0,
    )
    assert old.resolver_version is None and old.normalised_answer is None  # written before these fields existed
    new = rescored(old, score_output(old.output, "178", task_type="generation", metric="cer"))
    assert (new.output, new.answer, new.normalised_answer, new.normalised_reference) == (
        "The digits are 1 7 8",
        "1 7 8",
        "178",
        "178",
    )
    assert new.score == 0.0 and new.resolver_version == RESOLVER_VERSION
    assert Record.model_validate_json(new.model_dump_json()) == new


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("10 minus 2 = 6", "10 minus 2 6"),  # an operator ends a digit run: the answer 6 is not "26"
        ("3 + 4 = 7", "3 4 7"),
        ("2 - 6", "2 6"),
        ("one, seven, eight", "178"),  # spoken digits separated by commas still read as one number
        ("The digits are 1 7 8", "the digits are 178"),
    ],
)
def test_operators_end_digit_runs_but_commas_do_not(text: str, normalised: str) -> None:
    from benchmark.scoring.text import normalise_transcript

    assert normalise_transcript(text) == normalised


@pytest.mark.parametrize(
    ("output", "span"),
    [
        ('The answer to the question is "two"', "two"),
        ("The answer to this sum is 12", "12"),
        ("The answer for the problem is seven.", "seven."),
    ],
)
def test_the_answer_to_the_question_is_a_lead_in(output: str, span: str) -> None:
    from benchmark.scoring.extract import extract_answer

    assert extract_answer(output) == span
