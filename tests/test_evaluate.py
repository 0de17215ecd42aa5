"""The Python API: evaluate() with a spec string or an Adapter object, and what an adapter may see."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from helpers import make_regression_task, make_task

import benchmark
from benchmark import Adapter, Query, RunError, Task, TaskCard, evaluate
from benchmark.submission import read_headers, read_model_card, read_records, run_path


class LoudnessAdapter(Adapter):
    """Answers "high" when the clip's zero-crossing rate is high: a real (if tiny) model of the tone task.

    It also remembers everything the harness showed it, so the test can check what it saw.
    """

    def __init__(self) -> None:
        self.fit_splits: list[set[str]] = []
        self.cards: list[TaskCard] = []
        self.queries: list[Query] = []

    def fit(self, task: Task) -> None:
        self.fit_splits.append({e.split for e in task.examples})

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        self.cards.append(card)
        self.queries += batch
        return ["high" if np.mean(np.abs(np.diff(np.sign(q.audio[0])))) > 0.12 else "low" for q in batch]


def test_evaluate_runs_an_adapter_object_that_sees_no_test_label(tmp_path: Path) -> None:
    make_task(tmp_path / "tasks")
    model = LoudnessAdapter()
    (summary,) = evaluate(model, tasks="ToneHeight", out=tmp_path / "subs", tasks_root=tmp_path / "tasks")
    assert summary.value == 1.0 and summary.n == 32  # 880 Hz vs 220 Hz tones are told apart by their crossings
    assert model.fit_splits == [{"train"}]  # fit sees the train split only
    assert all(isinstance(c, TaskCard) for c in model.cards)
    assert not any(hasattr(q, "label") for q in model.queries)
    (folder,) = (tmp_path / "subs").iterdir()
    card = read_model_card(folder)
    assert card.adapter == f"{LoudnessAdapter.__module__}:LoudnessAdapter"  # the module:Class spec form


def test_evaluate_takes_the_cli_selectors_and_resumes(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks"
    make_task(tasks)
    make_regression_task(tasks)
    first = evaluate("majority", tasks=["dimension:audio"], out=tmp_path / "subs", tasks_root=tasks, limit=4)
    assert sorted(s.task for s in first) == ["BeepCount", "ToneHeight"] and {s.n for s in first} == {4}
    again = evaluate("majority", tasks=["Tone*", str(tasks / "BeepCount")], out=tmp_path / "subs", tasks_root=tasks)
    assert {s.n for s in again} == {32}
    records = read_records(run_path(tmp_path / "subs" / "majority", "ToneHeight", "1.0.0"))
    assert len(records) == len({r.id for r in records}) == 32


def test_evaluate_reports_user_mistakes_as_run_errors(tmp_path: Path) -> None:
    make_task(tmp_path / "tasks")
    with pytest.raises(RunError, match="matches no task"):
        evaluate("majority", tasks="NoSuchTask", out=tmp_path / "subs", tasks_root=tmp_path / "tasks")
    with pytest.raises(RunError, match="unknown model"):
        evaluate("no-such-model", out=tmp_path / "subs", tasks_root=tmp_path / "tasks")


def test_every_run_writes_a_provenance_header(tmp_path: Path) -> None:
    make_task(tmp_path / "tasks")
    evaluate("majority", out=tmp_path / "subs", tasks_root=tmp_path / "tasks", limit=8, batch_size=4)
    evaluate("majority", out=tmp_path / "subs", tasks_root=tmp_path / "tasks", batch_size=4)
    evaluate("majority", out=tmp_path / "subs", tasks_root=tmp_path / "tasks")  # nothing left: no header
    run_file = run_path(tmp_path / "subs" / "majority", "ToneHeight", "1.0.0")
    first, second = read_headers(run_file)
    assert (first.examples, second.examples) == (8, 24)
    assert first.harness_version == benchmark.__version__ and first.batch_size == 4 and first.adapter == "majority"
    assert first.started.endswith("+00:00") and first.python.count(".") == 2
    assert {"speech-benchmark", "numpy"} <= set(first.packages)
    assert first.command  # the command line that made the records


def test_model_card_keeps_the_latest_harness_version(tmp_path: Path) -> None:
    make_task(tmp_path / "tasks")
    evaluate("majority", out=tmp_path / "subs", tasks_root=tmp_path / "tasks", limit=4)
    path = tmp_path / "subs" / "majority" / "model.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "harness_version": "0.0.1"}))
    evaluate("majority", out=tmp_path / "subs", tasks_root=tmp_path / "tasks")
    assert json.loads(path.read_text())["harness_version"] == benchmark.__version__


SCRIPT = '''
import sys
from benchmark import Adapter, evaluate


class FirstLabel(Adapter):
    """A model defined in a script, as a user would in a notebook cell."""

    needs_audio = False

    def predict(self, card, batch):
        return [card.labels[0] for _ in batch]


if __name__ == "__main__":
    (summary,) = evaluate(FirstLabel(), tasks="ToneHeight", out=sys.argv[1], tasks_root=sys.argv[2])
    print("examples", summary.n)
'''


def test_a_script_that_defines_its_adapter_writes_a_valid_submission(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    make_task(tmp_path / "tasks")
    script = tmp_path / "my_eval.py"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "subs"), str(tmp_path / "tasks")],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "examples 32" in done.stdout
    card = read_model_card(tmp_path / "subs" / "FirstLabel")  # named after the class, not "__main__-FirstLabel"
    assert card.name == "FirstLabel" and card.adapter == "__main__:FirstLabel"
    assert str(script) in card.origin and f"--model {script}:FirstLabel" in card.origin
    assert len(read_records(run_path(tmp_path / "subs" / "FirstLabel", "ToneHeight", "1.0.0"))) == 32


class NamedAdapter(LoudnessAdapter):
    name = "loudness-v2"


class BadlyNamedAdapter(LoudnessAdapter):
    name = "my model!"


def test_an_adapter_object_is_named_by_its_name_or_a_one_line_error(tmp_path: Path) -> None:
    make_task(tmp_path / "tasks")
    evaluate(NamedAdapter(), tasks="ToneHeight", out=tmp_path / "subs", tasks_root=tmp_path / "tasks", limit=2)
    assert read_model_card(tmp_path / "subs" / "loudness-v2").origin.startswith(f"{NamedAdapter.__module__}:")
    with pytest.raises(RunError) as err:
        evaluate(BadlyNamedAdapter(), tasks="ToneHeight", out=tmp_path / "subs", tasks_root=tmp_path / "tasks")
    message = str(err.value)
    assert "\n" not in message and "'my model!'" in message and "name=" in message


def test_a_class_from_a_notebook_is_recorded_as_not_reimportable(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    from benchmark.adapters.registry import class_origin

    monkeypatch.setitem(__import__("sys").modules, "__main__", types.ModuleType("__main__"))  # no __file__
    cls = type("CellModel", (Adapter,), {"__module__": "__main__"})
    assert "cannot be re-imported" in class_origin(cls)

    def factory() -> type:
        class Local(Adapter):
            pass

        return Local

    assert "inside a function" in class_origin(factory())
