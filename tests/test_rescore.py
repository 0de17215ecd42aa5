"""`bench score` re-reads old records under the current resolution rules, with no model run."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import ChatServer, make_regression_task, make_task
from typer.testing import CliRunner

from benchmark.cli import app
from benchmark.submission.records import read_records

runner = CliRunner()

# (raw output, what the previous resolver recorded, what the current rules read)
OLD_CLASSIFICATION = [
    ("I can't tell whether the tone is high.", "high", None),
    ("It's not a low tone.", "high", None),  # the semantic tier used to read negated answers
    ("Low or high? The pitch is clearly up there: high.", None, "high"),
    ("The tone could be low, but the final answer is **high**.", None, "high"),
    ("(B)", None, "low"),
    ("high", "high", "high"),
]
OLD_REGRESSION = [("None.", None, 0.0), ("three or four", 3.0, None), ("2kHz", None, 2.0), ('{"beeps": 5}', 5.0, 5.0)]


def _old_records(path: Path, rows: list[tuple[str, object, object]]) -> None:
    """Rewrite a run file as an older resolver left it: same examples, other outputs and readings."""
    records = read_records(path)[: len(rows)]
    old = [
        r.model_copy(update={"output": out, "answer": answer, "tier": "mention" if answer is not None else "na"})
        for r, (out, answer, _) in zip(records, rows, strict=True)
    ]
    path.write_text("".join(r.model_dump_json() + "\n" for r in old))


def test_bench_score_rereads_old_records(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks"
    choices = [f"{q} (A) high (B) low" for q in ("Pitch?", "Tone?", "How high?", "Which?", "High or low?")]
    make_task(tasks, card_overrides={"instructions": choices})
    make_regression_task(tasks)
    out = tmp_path / "subs"
    run = runner.invoke(app, ["run", "--model", "random", "--tasks-root", str(tasks), "--out", str(out)])
    assert run.exit_code == 0, run.output
    tone, beeps = out / "random/runs/ToneHeight@1.0.0.jsonl", out / "random/runs/BeepCount@1.0.0.jsonl"
    _old_records(tone, OLD_CLASSIFICATION)
    _old_records(beeps, OLD_REGRESSION)
    before = tone.read_text()

    result = runner.invoke(app, ["score", str(out), "--tasks-root", str(tasks), "--no-semantic"])
    assert result.exit_code == 0, result.output
    assert [r.answer for r in read_records(tone)] == [row[2] for row in OLD_CLASSIFICATION]
    assert [r.answer for r in read_records(beeps)] == [row[2] for row in OLD_REGRESSION]
    assert [r.output for r in read_records(tone)] == [row[0] for row in OLD_CLASSIFICATION]  # raw outputs kept
    for r in read_records(tone):
        assert r.score == float(r.answer == r.reference)
    assert [json.loads(line)["id"] for line in before.splitlines()] == [r.id for r in read_records(tone)]
    assert "ToneHeight@1.0.0: accuracy" in result.output and "n=6/32" in result.output


def test_bench_score_with_a_judge_reports_agreement(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks"
    make_task(tasks)
    out = tmp_path / "subs"
    run = runner.invoke(app, ["run", "--model", "random", "--tasks-root", str(tasks), "--out", str(out)])
    assert run.exit_code == 0, run.output
    path = out / "random/runs/ToneHeight@1.0.0.jsonl"
    _old_records(path, [("The tone is high.", None, None), ("a piercing beep", None, None)])

    def judge(prompt: str) -> str:
        options = dict(line.split(") ", 1)[::-1] for line in prompt.splitlines() if line[:3] in ("A) ", "B) "))
        return options["high"]

    with ChatServer(judge) as server:
        args = ["score", str(out), "--tasks-root", str(tasks), "--no-semantic", "--judge-url", server.url]
        result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert [(r.answer, r.tier) for r in read_records(path)] == [("high", "mention"), ("high", "judge")]
    assert "judge: agreed with the rule tiers on 1 of 1 rule-resolved answers (100.0%)" in result.output
    assert (out / "random/judge-cache.jsonl").exists()
