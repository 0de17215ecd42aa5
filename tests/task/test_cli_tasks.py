"""The contributor-facing commands: validate, schema, new-task, and the import guards."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import make_task, read_examples, tone, write_audio, write_examples
from typer.testing import CliRunner

from benchmark.cli import app
from benchmark.task import load_task
from benchmark.task.schemas import json_schema, schema_path

runner = CliRunner()


def bench(*args: str, cwd: Path | None = None):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_validate_exit_codes(tmp_path) -> None:
    make_task(tmp_path, "ToneHeight")
    assert bench("validate", str(tmp_path)).exit_code == 0
    bad = make_task(tmp_path, "BrokenTask")
    (bad / "README.md").unlink()
    result = bench("validate", str(tmp_path))
    assert result.exit_code == 1 and "T400" in result.output
    assert bench("validate", str(tmp_path / "nope")).exit_code == 2
    assert bench("validate", "--format", "yaml", str(tmp_path)).exit_code == 2


def test_validate_formats(tmp_path) -> None:
    folder = make_task(tmp_path)
    rows = read_examples(folder)
    rows[2]["label"] = "medium"
    write_examples(folder, rows)
    text = bench("validate", str(folder)).output
    assert f"{folder}/examples.jsonl:3: error T208 [label]" in text
    data = json.loads(bench("validate", "--format", "json", str(folder)).output)
    assert data[0]["code"] == "T208" and data[0]["line"] == 3 and data[0]["field"] == "label"
    gh = bench("validate", "--format", "github", str(folder)).output
    assert f"::error file={folder}/examples.jsonl,line=3,title=T208::label: " in gh


def test_validate_deep_uses_workers(tmp_path) -> None:
    folder = make_task(tmp_path, n_train=40, n_test=40)
    write_audio(folder / "audio/0050.flac", tone(0, 0.5) * 0)  # silent clip, found only by --deep
    rows = read_examples(folder)
    rows[50]["audio"] = "audio/0050.flac"
    write_examples(folder, rows)
    assert "T318" not in bench("validate", str(folder)).output
    result = bench("validate", "--deep", "--workers", "2", str(folder))
    assert result.exit_code == 0 and "T318" in result.output


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_changed_since_validates_only_changed_folders(tmp_path) -> None:
    repo = tmp_path / "repo"
    tasks = repo / "tasks"
    make_task(tasks, "ToneHeight")
    other = make_task(tasks, "OtherTask")
    _git(repo, "init", "-q")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base", "--allow-empty")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "tasks")
    (other / "README.md").unlink()  # an uncommitted change in one task
    (tasks / "ToneHeight" / "task.json").write_text("{")  # and a broken change in the other
    result = bench("validate", "--changed-since", "HEAD", str(tasks))
    assert "T400" in result.output and "T101" in result.output
    _git(repo, "checkout", "--", "tasks/ToneHeight/task.json")
    result = bench("validate", "--changed-since", "HEAD", str(tasks))
    assert "1 task folder(s) and 0 submission(s) checked" in result.output and "OtherTask" in result.output
    assert bench("validate", "--changed-since", "no-such-ref", str(tasks)).exit_code == 2


def test_new_task_scaffold_validates_once_examples_are_added(tmp_path) -> None:
    result = bench(
        "new-task",
        "PitchLevel",
        "--dimension",
        "paralinguistics",
        "--task-type",
        "classification",
        "--labels",
        "high,low",
        "--language",
        "en",
        "--root",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    folder = tmp_path / "PitchLevel"
    codes = {f["code"] for f in json.loads(bench("validate", "--format", "json", str(folder)).output)}
    assert codes == {"T210"}  # only the empty examples file (review checks need parsed examples)
    rows = []
    for i in range(40):
        label = "high" if i % 2 else "low"
        write_audio(folder / f"audio/{i:04d}.flac", tone((900 if i % 2 else 200) + i))
        rows.append(
            {"id": f"{i:04d}", "split": "train" if i < 8 else "test", "audio": f"audio/{i:04d}.flac", "label": label}
        )
    write_examples(folder, rows)
    result = bench("validate", str(folder))
    assert result.exit_code == 0, result.output
    assert load_task(folder).card.metric == "accuracy"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["new-task", "pitch", "--dimension", "audio", "--task-type", "regression"], "must match"),
        (["new-task", "Pitch", "--dimension", "audio", "--task-type", "classification"], "--labels"),
        (["new-task", "Pitch", "--dimension", "vibes", "--task-type", "regression"], "dimension"),
    ],
)
def test_new_task_usage_errors(tmp_path, args, message) -> None:
    result = bench(*args, "--root", str(tmp_path))
    assert result.exit_code == 2 and message in result.output


def test_committed_schemas_match_the_models() -> None:
    for which in ("task", "example"):
        assert json.loads(schema_path(which).read_text()) == json_schema(which)
    printed = json.loads(bench("schema", "task").output)
    assert "additionalProperties" in printed and printed["properties"]["license"]["description"]


def test_committed_schema_rejects_what_validate_rejects(tmp_path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from helpers import card

    schema = json.loads(schema_path("task").read_text())
    jsonschema.validate(card(), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**card(), "colour": "red"}, schema)


def test_import_and_help_load_no_heavy_library() -> None:
    code = (
        "import sys; import benchmark, benchmark.cli, benchmark.validate, benchmark.task\n"
        "from typer.testing import CliRunner\n"
        "CliRunner().invoke(benchmark.cli.app, ['--help'])\n"
        "heavy = [m for m in ('torch', 'transformers', 'datasets', 'pandas') if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
