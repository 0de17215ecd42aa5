"""API and judge keys never reach records, logs, model.json, run headers, tables or the site."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import ChatServer, make_task
from typer.testing import CliRunner

from benchmark.cli import app
from benchmark.submission.records import read_records

runner = CliRunner()
KEY = "sk-test-9f1c2e7a-DO-NOT-LEAK"


def bench(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_judge_key_is_used_but_never_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_TEST_JUDGE_KEY", KEY)
    tasks, subs = tmp_path / "tasks", tmp_path / "subs"
    make_task(tasks, n_train=4, n_test=32)
    outputs: list[str] = []
    with ChatServer(lambda prompt: "high") as server:
        judge = ["--judge-url", server.url, "--judge-key-env", "BENCH_TEST_JUDGE_KEY", "--no-semantic"]
        result = bench("run", "--model", "random", "--tasks-root", str(tasks), "--out", str(subs), *judge)
        outputs.append(result.output)
        assert result.exit_code == 0, result.output
        run_file = subs / "random" / "runs" / "ToneHeight@1.0.0.jsonl"
        # Answers only the judge can resolve, so `bench score` must call it with the key.
        vague = [r.model_copy(update={"output": f"the kind of tone a {'piccolo' if i % 2 else 'tuba'} makes"})
                 for i, r in enumerate(read_records(run_file))]  # fmt: skip
        run_file.write_text("".join(r.model_dump_json() + "\n" for r in vague))
        result = bench("score", str(subs / "random"), "--tasks-root", str(tasks), *judge)
        outputs.append(result.output)
        assert result.exit_code == 0, result.output
        assert server.calls and all(c["auth"] == f"Bearer {KEY}" for c in server.calls)
    assert {r.tier for r in read_records(run_file)} == {"judge"}
    build = ["leaderboard", "build", "--submissions", str(subs), "--tasks-root", str(tasks)]
    result = bench(*build, "--out", str(tmp_path / "tables"), "--site", str(tmp_path / "site"))
    outputs.append(result.output)
    assert result.exit_code == 0, result.output
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "judge-cache.jsonl" for p in written) and any(p.suffix == ".html" for p in written)
    assert any(p.name.endswith(".header.json") for p in written)
    leaks = [p for p in written if KEY.encode() in p.read_bytes()]
    assert leaks == [] and not any(KEY in out for out in outputs)


def test_a_key_echoed_by_a_failing_server_is_masked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmark.endpoint import ChatEndpoint, EndpointError

    monkeypatch.setenv("BENCH_TEST_KEY", KEY)
    client = ChatEndpoint("http://127.0.0.1:9/v1", "m", api_key_env="BENCH_TEST_KEY", retries=0)
    client.url = f"http://127.0.0.1:9/v1/{KEY}"  # as if the server's error text repeated the key
    with pytest.raises(EndpointError) as err:
        client.complete([{"role": "user", "content": "hi"}])
    assert KEY not in str(err.value) and "***" in str(err.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model-arg", f"api_key={KEY}"], "--model-arg api_key: looks like a secret"),
        (["--model-arg", f"llm_url=https://user:{KEY}@example.org/v1"], "holds a password"),
        (["--model-arg", f"llm_url=https://example.org/v1?key={KEY}"], "its query holds key="),
        (["--judge-url", f"https://user:{KEY}@example.org/v1"], "--judge-url is recorded"),
    ],
)
def test_secrets_in_arguments_are_refused_before_anything_is_written(
    tmp_path: Path, args: list[str], message: str
) -> None:
    make_task(tmp_path / "tasks", n_train=4, n_test=32)
    run = ["run", "--model", "random", "--tasks-root", str(tmp_path / "tasks"), "--out", str(tmp_path / "subs")]
    result = bench(*run, *args, "--no-semantic")
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "subs").exists()
