"""Hostile parquet imports: oversized cells, damaged files and audio, odd labels are one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import make_task
from typer.testing import CliRunner

from benchmark.cli import app

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
runner = CliRunner()


@pytest.fixture
def parquet(tmp_path: Path) -> Path:
    from benchmark.authoring.hf import export_hf

    export_hf(make_task(tmp_path / "tasks", n_train=2, n_test=32), tmp_path / "pq")
    return tmp_path / "pq" / "data" / "test-00000-of-00001.parquet"


def _edit_row(path: Path, column: str, value: object, row: int = 3) -> None:
    table = pq.read_table(path)
    rows = table.to_pylist()
    rows[row][column] = value
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)


def _import(parquet: Path, *extra: str):
    args = ["import-hf", str(parquet.parents[1]), "--name", "Imported", "--dimension", "audio", "--license", "CC0-1.0"]
    return runner.invoke(app, [*args, "--out", str(parquet.parents[2] / "out"), *extra])


def _cell(parquet: Path) -> dict:
    return dict(pq.read_table(parquet).to_pylist()[3]["audio"])


CASES = [
    ("oversized cell", lambda p: _edit_row(p, "audio", {**_cell(p), "bytes": b"\0" * (21 * 1024 * 1024)}), "T314"),
    ("damaged file", lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "cannot be read"),
    ("noise as audio", lambda p: _edit_row(p, "audio", {**_cell(p), "bytes": b"RIFF" + b"\x13" * 300}), "T310"),
    ("no bytes, a folder", lambda p: _edit_row(p, "audio", {"bytes": None, "path": "/"}), "not a file"),
    ("corrupt frames", lambda p: _edit_row(p, "audio", {**_cell(p), "bytes": _cell(p)["bytes"][:300]}), "T310"),
]


@pytest.mark.parametrize(("what", "damage", "message"), CASES, ids=[c[0] for c in CASES])
def test_hostile_parquet_is_a_one_line_error(parquet: Path, what: str, damage, message: str) -> None:
    damage(parquet)
    result = _import(parquet)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert message in result.output and "Traceback" not in result.output
    assert not (parquet.parents[2] / "out" / "Imported").exists()  # nothing half-written


@pytest.mark.parametrize("label", ["inf", "nan", "1e999"])
def test_non_finite_regression_labels_are_refused(parquet: Path, label: str) -> None:
    _edit_row(parquet, "label", label)
    result = _import(parquet, "--task-type", "regression", "--metric", "mae")
    assert result.exit_code == 1 and "is not a" in result.output
