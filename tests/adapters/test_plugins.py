"""Outside adapters: `file.py:Class`, `module:Class`, the entry-point group, and CONTRIBUTING's example."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import make_task
from typer.testing import CliRunner

from benchmark.cli import app
from benchmark.submission.records import read_records

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def bench(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def run(model: str, tasks: Path, out: Path, *extra: str):
    return bench("run", "--model", model, *extra, "--tasks", "ToneHeight", "--tasks-root", str(tasks),
                 "--out", str(out), "--name", "plugin", "--no-semantic")


def accuracy(out: Path) -> float:
    records = read_records(out / "plugin/runs/ToneHeight@1.0.0.jsonl")
    assert len(records) == 32
    return sum(r.score for r in records) / len(records)


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory) -> Path:
    """The fixture package, really installed (pip --target) into a folder put on sys.path."""
    work = tmp_path_factory.mktemp("plugin")
    source = shutil.copytree(Path(__file__).parent / "plugin_package", work / "src")
    site = work / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", str(site),
         str(source)],
        check=True,
        capture_output=True,
    )
    return site


@pytest.fixture
def on_path(installed_plugin: Path, monkeypatch):
    monkeypatch.syspath_prepend(str(installed_plugin))
    return installed_plugin


def test_entry_point_plugin_is_listed_and_runs(tmp_path: Path, on_path: Path) -> None:
    listing = bench("models")
    assert re.search(r"^loudest-pitch\b.*bench-plugin-demo", listing.output, re.M), listing.output
    tasks = tmp_path / "tasks"
    make_task(tasks)
    result = run("loudest-pitch", tasks, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert accuracy(tmp_path / "out") == 1.0
    result = run("loudest-pitch:5000", tasks, tmp_path / "out2")  # the argument reaches the class
    assert result.exit_code == 0 and accuracy(tmp_path / "out2") == 0.5


def test_module_class_spec(tmp_path: Path, on_path: Path) -> None:
    tasks = tmp_path / "tasks"
    make_task(tasks)
    result = run("bench_plugin_demo:LoudestPitch", tasks, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert accuracy(tmp_path / "out") == 1.0


def contributing_example() -> str:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    section = text[text.index("## Bring your model") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_contributing_example_runs_as_written(tmp_path: Path) -> None:
    code = contributing_example()
    assert len(code.splitlines()) <= 30 and "from benchmark import" in code
    assert all(not line.startswith(("from benchmark.", "import benchmark.")) for line in code.splitlines())
    (tmp_path / "my_adapter.py").write_text(code)
    tasks = tmp_path / "tasks"
    make_task(tasks)
    result = run(f"{tmp_path / 'my_adapter.py'}:PitchAdapter", tasks, tmp_path / "out", "--model-arg", "threshold=500")
    assert result.exit_code == 0, result.output
    assert accuracy(tmp_path / "out") == 1.0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("not-an-adapter", "not an Adapter"),
        ("bench_plugin_demo:NotAnAdapter", "not an Adapter"),
        ("bench_plugin_demo:Missing", "has no 'Missing'"),
        ("no_such_pkg.mod:Thing", "cannot import 'no_such_pkg.mod'"),
        ("{tmp}/nothere.py:Thing", "no such file"),
        ("{tmp}/broken.py:Thing", "importing it failed: ZeroDivisionError"),
        ("nonsense-model", "unknown model"),
    ],
)
def test_bad_plugins_get_one_line_errors(tmp_path: Path, on_path: Path, spec: str, message: str) -> None:
    (tmp_path / "broken.py").write_text("x = 1 / 0\n")
    tasks = tmp_path / "tasks"
    make_task(tasks)
    result = run(spec.format(tmp=tmp_path), tasks, tmp_path / "out")
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


SILENT = """
from benchmark import Adapter


class Silent(Adapter):
    calls = 0

    def predict(self, card, batch):
        Silent.calls += 1
        return [card.labels[0]] * len(batch) if Silent.calls == 1 else None
"""


def test_a_model_that_returns_nothing_is_a_clear_error_and_keeps_records(tmp_path: Path) -> None:
    (tmp_path / "silent.py").write_text(SILENT)
    tasks = tmp_path / "tasks"
    make_task(tasks)
    result = run(f"{tmp_path / 'silent.py'}:Silent", tasks, tmp_path / "out", "--batch-size", "4")
    assert result.exit_code == 2 and "returned None for 4 queries" in result.output, result.output
    assert len(read_records(tmp_path / "out/plugin/runs/ToneHeight@1.0.0.jsonl")) == 4
