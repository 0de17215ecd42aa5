"""Open-ended prompts: a task type without a reference answer, graded by a judge's rubric, constraints checked."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

from helpers import ChatServer, edit_card, make_generation_task, read_examples, write_examples

from benchmark.adapters.base import Adapter, Query
from benchmark.findings import CODES
from benchmark.runner import evaluate
from benchmark.scoring.judge import RUBRIC_PROMPT_VERSION, JudgeResolver, openai_chat
from benchmark.submission.records import read_records
from benchmark.task.card import TaskCard
from benchmark.task.checks import validate_task


def _open_task(root: Path) -> Path:
    folder = make_generation_task(root, "DescribeSound")
    edit_card(
        folder,
        task_type="open",
        metric="judge-open",
        instructions=[f"Describe what you hear in one sentence, answering in capital letters ({i})." for i in range(5)],
    )
    rows = read_examples(folder)
    for row in rows:
        row["label"] = ""
        row["constraints"] = [{"id": "upper"}]
    write_examples(folder, rows)
    return folder


class Talker(Adapter):
    """Even examples: an on-topic answer in capitals; odd ones: a lower-case refusal."""

    needs_audio = False

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        return ["A STEADY TONE HUMS." if int(q.id) % 2 == 0 else "sorry, i cannot help." for q in batch]


def _rubric(prompt: str) -> str:
    assert f"(rubric prompt {RUBRIC_PROMPT_VERSION})" in prompt and "Reference" not in prompt
    return "YES" if "A STEADY TONE" in prompt else "NO"


def test_an_open_task_validates_and_refuses_a_reference_answer(tmp_path: Path) -> None:
    folder = _open_task(tmp_path)
    assert not [f for f in validate_task(folder).findings if f.level == "error"]
    rows = read_examples(folder)
    rows[2]["label"] = "a tone"
    write_examples(folder, rows)
    (found,) = [f for f in validate_task(folder).findings if f.code == "T209"]
    assert (found.line, "no reference answer" in found.message) == (3, True)
    edit_card(folder, labels=["a", "b"])
    assert "T121" in {f.code for f in validate_task(folder).findings}
    assert "open" in CODES["T114"][2]


def test_without_a_judge_the_task_score_is_unscored_but_instruction_following_is_measured(tmp_path: Path) -> None:
    _open_task(tmp_path / "tasks")
    (summary,) = evaluate(Talker(), tasks="DescribeSound", out=tmp_path / "subs", tasks_root=tmp_path / "tasks")
    records = read_records(tmp_path / "subs/Talker/runs/DescribeSound@1.0.0.jsonl")
    assert all(math.isnan(r.score) for r in records) and math.isnan(summary.value)
    assert [r.if_strict for r in records] == [int(r.id) % 2 == 0 for r in records]


def test_a_judge_grades_open_answers_by_a_rubric_without_a_reference(tmp_path: Path) -> None:
    _open_task(tmp_path / "tasks")
    with ChatServer(_rubric) as server:
        judge = JudgeResolver(openai_chat(server.url, "j"), cache=tmp_path / "judge.jsonl")
        evaluate(
            Talker(), tasks="DescribeSound", out=tmp_path / "subs", tasks_root=tmp_path / "tasks", resolvers=[judge]
        )
        asked = len(server.calls)
    records = read_records(tmp_path / "subs/Talker/runs/DescribeSound@1.0.0.jsonl")
    assert [r.score for r in records] == [float(int(r.id) % 2 == 0) for r in records]
    distinct = {(r.instruction, r.output) for r in records}  # one rubric question per distinct answer (cached)
    assert {r.tier for r in records} == {"judge"} and asked == len(distinct) < len(records)
    assert judge.config()["rubric_prompt_version"] == RUBRIC_PROMPT_VERSION
    assert json.loads((tmp_path / "subs/Talker/model.json").read_text())["name"] == "Talker"


def test_probes_and_baselines_do_not_train_on_missing_references(tmp_path: Path) -> None:
    _open_task(tmp_path / "tasks")
    summaries = evaluate("probe:fbank", tasks="DescribeSound", out=tmp_path / "subs", tasks_root=tmp_path / "tasks")
    assert summaries == []
    (majority,) = evaluate("majority", tasks="DescribeSound", out=tmp_path / "subs", tasks_root=tmp_path / "tasks")
    records = read_records(tmp_path / "subs/majority/runs/DescribeSound@1.0.0.jsonl")
    assert {r.output for r in records} == {""} and {r.score for r in records} == {0.0}  # saying nothing is wrong


def test_judged_open_tasks_are_reported_apart_from_rule_scored_ones_on_the_following_board(tmp_path: Path) -> None:
    from helpers import make_task

    from benchmark.planning import load_tasks
    from benchmark.report.trust import build_leaderboard
    from benchmark.task.discovery import discover_task_dirs

    tasks, subs = tmp_path / "tasks", tmp_path / "subs"
    _open_task(tasks)
    make_task(tasks, card_overrides={"constraints": [{"id": "upper"}]})

    class Both(Talker):
        """Answers the tone task right in capitals; the open prompts as Talker does."""

        def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
            return ["LOW" if int(q.id) % 2 == 0 else "HIGH" for q in batch] if card.name == "ToneHeight" else (
                super().predict(card, batch))  # fmt: skip

    with ChatServer(_rubric) as server:
        judge = JudgeResolver(openai_chat(server.url, "j"), cache=tmp_path / "judge.jsonl")
        evaluate(Both(), ["DescribeSound", "ToneHeight"], subs, tasks_root=tasks, resolvers=[judge])
        evaluate(Both(), ["ToneHeight"], subs, tasks_root=tasks, constraints="all")
    board = build_leaderboard(subs, load_tasks(discover_task_dirs([tasks])))
    rows = {r["task"]: r for r in board.following}
    assert rows["DescribeSound"]["scored_by"] == "judge" and rows["ToneHeight"]["scored_by"] == "rules"
    assert rows["DescribeSound"]["joint_success"] == 0.5  # followed and judged right: the even half
    (model,) = board.following_models
    assert model["judged_tasks"] == 1 and model["judged_joint_success"] == 0.5
    assert model["joint_success"] == rows["ToneHeight"]["joint_success"]  # the judged task is not averaged in
    assert model["if_strict"] == round((rows["DescribeSound"]["if_strict"] + rows["ToneHeight"]["if_strict"]) / 2, 4)
