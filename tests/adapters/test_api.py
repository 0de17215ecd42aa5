"""`api:<model>` against a loopback OpenAI-compatible server that decodes the audio it is sent.

The server answers from the audio itself (the pitch of each clip), so a request that
lost or reordered the audio scores at chance and the tests fail.
"""

from __future__ import annotations

import base64
import io
import json
import wave
from pathlib import Path

import numpy as np
import pytest
from helpers import ChatServer, shipped_key
from typer.testing import CliRunner

from benchmark.cli import app
from benchmark.submission.records import read_records

runner = CliRunner()
TASKS = Path(__file__).resolve().parents[2] / "tasks"


def pitch(part: dict) -> float:
    """Loudest frequency of a base64 WAV ``input_audio`` part (checks the WAV format too)."""
    assert part["input_audio"]["format"] == "wav"
    with wave.open(io.BytesIO(base64.b64decode(part["input_audio"]["data"]))) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16_000, 1, 2)
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32)
    spectrum = np.abs(np.fft.rfft(x))
    return float(np.fft.rfftfreq(len(x), 1 / 16_000)[spectrum.argmax()])


def listening_reply(content: list[dict]) -> str:
    """Answer IntervalDirection from the two clips: which one is higher."""
    clips = [pitch(p) for p in content if p["type"] == "input_audio"]
    assert content[-1]["type"] == "text", "the instruction comes after the clips"
    return "first" if clips[0] > clips[1] else "second"


def bench(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def run_api(server: ChatServer, out: Path, *extra: str, limit: int = 8):
    return bench(
        "run",
        "--model",
        "api:served-audio-model",
        "--model-arg",
        f"base_url={server.url}",
        "--model-arg",
        f"cache_dir={out / 'cache'}",
        "--model-arg",
        "api_key_env=BENCH_TEST_KEY",
        *extra,
        "--tasks",
        "IntervalDirection",
        "--limit",
        str(limit),
        "--tasks-root",
        str(TASKS),
        "--out",
        str(out),
        "--no-semantic",
    )


RUN_FILE = f"api-served-audio-model/runs/{shipped_key('IntervalDirection')}.jsonl"


def test_api_sends_the_audio_and_scores_what_the_server_heard(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BENCH_TEST_KEY", "sk-test-secret-123")
    with ChatServer(listening_reply) as server:
        result = run_api(server, tmp_path, "--model-arg", "concurrency=3")
    assert result.exit_code == 0, result.output
    records = read_records(tmp_path / RUN_FILE)
    assert len(records) == 8 and all(r.score == 1.0 for r in records), [(r.output, r.reference) for r in records]
    assert {c["auth"] for c in server.calls} == {"Bearer sk-test-secret-123"}
    body = server.calls[0]["body"]
    assert body["model"] == "served-audio-model" and body["temperature"] == 0.0
    # The key is never written: not in model.json, records, headers or the cache.
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert "sk-test-secret" not in path.read_text(errors="replace"), path
    card = json.loads((tmp_path / "api-served-audio-model/model.json").read_text())
    assert card["adapter_args"]["api_key_env"] == "BENCH_TEST_KEY"


def test_a_server_that_ignores_the_audio_scores_at_chance(tmp_path: Path) -> None:
    with ChatServer(lambda content: "first") as server:
        result = run_api(server, tmp_path, limit=16)
    assert result.exit_code == 0, result.output
    scores = [r.score for r in read_records(tmp_path / RUN_FILE)]
    assert 0.2 < sum(scores) / len(scores) < 0.8


def test_repeated_run_is_answered_from_the_cache(tmp_path: Path) -> None:
    with ChatServer(listening_reply) as server:
        assert run_api(server, tmp_path / "a").exit_code == 0
        first = len(server.calls)
        # Same requests into a fresh submission folder, same cache: the server is not asked again.
        assert run_api(server, tmp_path / "b", "--model-arg", f"cache_dir={tmp_path / 'a' / 'cache'}").exit_code == 0
    assert first == 8 and len(server.calls) == 8
    again = read_records(tmp_path / "b" / RUN_FILE)
    assert len(again) == 8 and all(r.score == 1.0 for r in again)


def test_another_server_under_the_same_model_name_is_asked_again(tmp_path: Path) -> None:
    cache = f"cache_dir={tmp_path / 'cache'}"
    with ChatServer(listening_reply) as first:
        assert run_api(first, tmp_path / "a", "--model-arg", cache).exit_code == 0
    with ChatServer(listening_reply) as second:  # another port: other weights may hide behind the same name
        assert run_api(second, tmp_path / "b", "--model-arg", cache).exit_code == 0
    assert len(first.calls) == 8 and len(second.calls) == 8


def test_retries_503_then_succeeds(tmp_path: Path) -> None:
    with ChatServer(listening_reply, script=[(503, b"busy"), (429, b"slow down")]) as server:
        result = run_api(server, tmp_path, "--model-arg", "concurrency=1", limit=2)
    assert result.exit_code == 0, result.output
    assert len(server.calls) == 4 and len(read_records(tmp_path / RUN_FILE)) == 2


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ([(400, json.dumps({"error": {"message": "audio input is not supported"}}).encode())], "not supported"),
        ([(200, b"{not json")], "malformed JSON"),
        ([(200, b'{"choices": []}')], "choices[0].message.content"),
    ],
)
def test_refusals_and_bad_json_fail_fast_and_keep_records(tmp_path: Path, script, message) -> None:
    with ChatServer(listening_reply) as server:
        assert run_api(server, tmp_path, "--model-arg", "concurrency=1", "--batch-size", "2", limit=2).exit_code == 0
        server.script = list(script)
        result = run_api(server, tmp_path, "--model-arg", "concurrency=1", "--batch-size", "1", limit=4)
    assert result.exit_code != 0 and message in result.output, result.output
    assert "Traceback" not in result.output
    assert len(server.calls) == 3, "a refusal or malformed reply is not retried"
    assert len(read_records(tmp_path / RUN_FILE)) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model-arg", "base_url=localhost:8000"], "base_url"),
        (["--model-arg", "base_url=http://127.0.0.1:9/v1", "--model-arg", "api_key_env=sk-live-abc"], "api_key_env"),
        (["--model-arg", "base_url=http://127.0.0.1:9/v1", "--model-arg", "concurrency=many"], "integer"),
    ],
)
def test_api_option_errors(tmp_path: Path, args, message) -> None:
    result = bench("run", "--model", "api:m", *args, "--tasks", "IntervalDirection", "--tasks-root", str(TASKS),
                   "--out", str(tmp_path), "--limit", "1", "--no-semantic")
    assert result.exit_code == 2 and message in result.output, result.output
    assert "sk-live-abc" not in result.output and not (tmp_path / "api-m").exists()


def duration(part: dict) -> float:
    """Seconds of a base64 WAV ``input_audio`` part."""
    with wave.open(io.BytesIO(base64.b64decode(part["input_audio"]["data"]))) as w:
        return w.getnframes() / w.getframerate()


def answers_both_tasks(content: list[dict]) -> str:
    """Which clip is higher (IntervalDirection) or lasts longer (DurationComparison), from the audio."""
    clips = [p for p in content if p["type"] == "input_audio"]
    measure = duration if "longer" in content[-1]["text"] else pitch
    return "first" if measure(clips[0]) > measure(clips[1]) else "second"


@pytest.mark.parametrize("mode", ["--mix-tasks", "--per-task"])
def test_batches_across_tasks_send_each_example_its_own_audio(tmp_path: Path, mode: str) -> None:
    with ChatServer(answers_both_tasks) as server:
        result = bench("run", "--model", "api:served-audio-model", "--model-arg", f"base_url={server.url}",
                       "--model-arg", "cache=off", "--tasks", "IntervalDirection,DurationComparison", "--limit", "6",
                       "--batch-size", "4", mode, "--tasks-root", str(TASKS), "--out", str(tmp_path), "--no-semantic")
    assert result.exit_code == 0, result.output
    for task in ("IntervalDirection", "DurationComparison"):
        records = read_records(tmp_path / f"api-served-audio-model/runs/{shipped_key(task)}.jsonl")
        assert len(records) == 6 and all(r.score == 1.0 for r in records), [(r.output, r.reference) for r in records]
    assert len(server.calls) == 12
