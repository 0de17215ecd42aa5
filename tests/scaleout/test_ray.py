"""Distributed runs on a real local Ray cluster (2 CPUs, started once for the module).

Each test compares a distributed run with a local run of the same adapter: the
records must be equal, timing aside, with exactly one record per example, after a
worker is SIGKILLed, and after the driver is SIGKILLed and the command re-run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import make_audio_task, make_regression_task, make_task
from ray_adapters import DieOn, DieOnce, Echo, NeedsMissingExtra, Slow
from typer.testing import CliRunner

from benchmark.adapters.base import Adapter
from benchmark.cli import app
from benchmark.runner import RunError, RunRequest, run
from benchmark.scaleout.options import RayOptions
from benchmark.scaleout.shards import shard_dir

ray = pytest.importorskip("ray")
TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A 2-CPU cluster whose workers can import the test adapters; yields its GCS address.

    The cluster's processes inherit PYTHONPATH at start, so the workers of every driver
    that joins (this process, and the drivers the tests start) find ``ray_adapters``.
    """
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in [str(TESTS), before] if p)
    try:
        ray.init(num_cpus=2, include_dashboard=False)
    finally:
        os.environ.pop("PYTHONPATH") if before is None else os.environ.update(PYTHONPATH=before)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="module")
def tasks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tasks")
    make_task(root, "ToneHeight", n_train=4)
    make_regression_task(root, "BeepCount", n_train=4)
    return root


def _run(tasks: Path, out: Path, adapter: Adapter, ray_options: RayOptions | None, batch: int = 4) -> None:
    spec = f"{type(adapter).__module__}:{type(adapter).__qualname__}"
    run(RunRequest(spec=spec, tasks_root=tasks, out=out, name="m", batch_size=batch, adapter=adapter, ray=ray_options))


def _records(out: Path, name: str = "m") -> dict[str, list[dict]]:
    """Every run file's records without their timing field."""
    files = sorted((out / name / "runs").glob("*.jsonl"))
    return {
        f.name: [{k: v for k, v in json.loads(line).items() if k != "seconds"} for line in f.read_text().splitlines()]
        for f in files
    }


def _assert_complete_and_equal(got: Path, want: Path) -> None:
    records = _records(got)
    assert records == _records(want) and len(records) == 2
    for rows in records.values():
        assert len({r["id"] for r in rows}) == len(rows) == 32
    assert not (got / "m" / "runs" / ".shards").exists()


@pytest.fixture(scope="module")
def local(tasks: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("local")
    _run(tasks, out, Slow(), None)
    return out


def test_distributed_records_equal_local_records(cluster: str, tasks: Path, local: Path, tmp_path: Path) -> None:
    result = run(
        RunRequest(spec="ray_adapters:Slow", tasks_root=tasks, out=tmp_path, name="m", batch_size=4,
                   adapter=Slow(), ray=RayOptions(cluster, workers=2, chunk=8))
    )  # fmt: skip
    _assert_complete_and_equal(tmp_path, local)
    assert sorted(w.index for w in result.workers) == [0, 1]
    assert sum(w.examples for w in result.workers) == 64 and [s.n for s in result.summaries] == [32, 32]


def test_worker_sigkilled_mid_run_is_restarted_and_nothing_is_lost(
    cluster: str, tasks: Path, local: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "killed"
    _run(tasks, tmp_path, DieOnce(str(marker)), RayOptions(cluster, workers=2, chunk=8))
    assert marker.exists()  # a worker really died
    _assert_complete_and_equal(tmp_path, local)


def test_worker_that_keeps_dying_is_reported_and_the_rest_kept(cluster: str, tasks: Path, tmp_path: Path) -> None:
    lost = r"1 units lost after Ray restarted their workers 1 times .*8 examples not run.*re-run"
    with pytest.raises(RunError, match=lost) as err:
        _run(tasks, tmp_path, DieOn("ToneHeight/0010"), RayOptions(cluster, workers=2, chunk=8, retries=1))
    assert "ToneHeight@1.0.0 from example 0004" in str(err.value)
    kept = {name: {r["id"] for r in rows} for name, rows in _records(tmp_path).items()}
    assert "0010" not in kept["ToneHeight@1.0.0.jsonl"] and len(kept["BeepCount@1.0.0.jsonl"]) == 32


def test_worker_that_cannot_import_the_adapter(cluster: str, tasks: Path, tmp_path: Path) -> None:
    with pytest.raises(RunError, match="cannot run the model: cannot import the adapter: No module named"):
        _run(tasks, tmp_path, NeedsMissingExtra(), RayOptions(cluster, workers=1))
    assert not (tmp_path / "m" / "runs").exists()  # no run header for a run that never started


def test_killed_driver_rerun_gives_the_same_result(cluster: str, tasks: Path, local: Path, tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from ray_adapters import Slow; "
        "from benchmark.runner import RunRequest, run; from benchmark.scaleout.options import RayOptions; "
        "run(RunRequest(spec='ray_adapters:Slow', tasks_root=Path(sys.argv[1]), out=Path(sys.argv[2]), name='m', "
        "batch_size=4, adapter=Slow(0.1), ray=RayOptions(sys.argv[3], workers=2, chunk=4)))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    driver = subprocess.Popen([sys.executable, "-c", script, str(tasks), str(tmp_path), cluster], env=env)
    shards = shard_dir(tmp_path / "m" / "runs" / "ToneHeight@1.0.0.jsonl")
    deadline = time.monotonic() + 60
    while not (shards.is_dir() and len(list(shards.glob("*.jsonl"))) >= 2) and time.monotonic() < deadline:
        assert driver.poll() is None, "the driver ended before it could be killed"
        time.sleep(0.05)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    assert shards.is_dir()  # killed mid-run: finished units on disk, the run not complete
    assert not (tmp_path / "m" / "runs" / "ToneHeight@1.0.0.jsonl").exists()  # its last units never came back
    _run(tasks, tmp_path, Slow(0.1), RayOptions(cluster, workers=2, chunk=4))
    _assert_complete_and_equal(tmp_path, local)


def test_instruction_variants_run_distributed_like_locally(cluster: str, tasks: Path, tmp_path: Path) -> None:
    for out, ray_options in [(tmp_path / "local", None), (tmp_path / "ray", RayOptions(cluster, workers=2, chunk=8))]:
        run(
            RunRequest(spec="ray_adapters:Slow", tasks_root=tasks, out=out, name="m", batch_size=4, limit=10,
                       adapter=Slow(), instructions=2, ray=ray_options)
        )  # fmt: skip
    got, want = _records(tmp_path / "ray", "m+instructions"), _records(tmp_path / "local", "m+instructions")
    assert got == want and [len(rows) for rows in got.values()] == [20, 20]
    assert len({(r["id"], r["instruction_index"]) for r in got["ToneHeight@1.0.0.jsonl"]}) == 20


def test_constraint_runs_run_distributed_like_locally(cluster: str, tmp_path: Path) -> None:
    tasks = tmp_path / "tasks"
    make_task(tasks, "ToneHeight", n_train=4, card_overrides={"constraints": [{"id": "upper"}, {"id": "json"}]})
    for out, ray_options in [(tmp_path / "local", None), (tmp_path / "ray", RayOptions(cluster, workers=2, chunk=4))]:
        run(
            RunRequest(spec="ray_adapters:Slow", tasks_root=tasks, out=out, name="m", batch_size=4, limit=6,
                       adapter=Slow(), constraints="all", ray=ray_options)
        )  # fmt: skip
    got, want = _records(tmp_path / "ray", "m+constraints"), _records(tmp_path / "local", "m+constraints")
    (rows,) = got.values()
    assert got == want and len(rows) == 12 and {r["constraint_index"] for r in rows} == {0, 1}
    assert len({(r["id"], r["constraint_index"]) for r in rows}) == 12 and all("checks" in r for r in rows)
    assert not (tmp_path / "ray" / "m+constraints" / "runs" / ".shards").exists()


def test_audio_answers_return_from_the_workers_and_the_driver_stores_them_like_a_local_run(
    cluster: str, tmp_path: Path
) -> None:
    tasks = tmp_path / "tasks"
    make_audio_task(tasks)
    for out, ray_options in [(tmp_path / "local", None), (tmp_path / "ray", RayOptions(cluster, workers=2, chunk=4))]:
        run(
            RunRequest(spec="ray_adapters:Echo", tasks_root=tasks, out=out, name="m", batch_size=4, limit=12,
                       adapter=Echo(), ray=ray_options)
        )  # fmt: skip
    got, want = _records(tmp_path / "ray"), _records(tmp_path / "local")
    (rows,) = got.values()
    assert got == want and len(rows) == 12 and all(r["audio_statuses"] == ["ok"] for r in rows)
    files = {p.relative_to(tmp_path / "ray") for p in (tmp_path / "ray/m/audio").rglob("*.flac")}
    assert files == {p.relative_to(tmp_path / "local") for p in (tmp_path / "local/m/audio").rglob("*.flac")}
    assert len(files) == 12


def test_cli_run_on_ray_prints_one_line_per_worker(cluster: str, tasks: Path, tmp_path: Path) -> None:
    outs = {}
    for label, extra in [("local", []), ("ray", ["--ray", cluster, "--workers", "2"])]:
        args = ["run", "--model", "random", "--tasks-root", str(tasks), "--out", str(tmp_path / label), "--name", "m"]
        result = CliRunner().invoke(app, [*args, *extra])
        assert result.exit_code == 0, result.output
        outs[label] = result.output
    assert _records(tmp_path / "ray") == _records(tmp_path / "local")
    workers = [line for line in outs["ray"].splitlines() if line.startswith("worker ")]
    assert len(workers) == 2 and all("examples, model" in line and "utilisation" in line for line in workers)
    assert sum(int(line.split(": ")[1].split()[0]) for line in workers) == 64
    submission = str(tmp_path / "ray" / "m")
    for command in (["validate", submission], ["score", submission, "--no-semantic"]):  # unchanged commands
        result = CliRunner().invoke(app, [*command, "--tasks-root", str(tasks)])
        assert result.exit_code == 0, result.output
    assert _records(tmp_path / "ray") == _records(tmp_path / "local")


@pytest.mark.parametrize(("cpus", "threads"), [(1, 1), (2, 2), (0.5, 1)])
def test_a_worker_runs_only_as_many_threads_as_its_cpus(cluster: str, cpus: float, threads: int) -> None:
    """Even where the driver's environment asks for more (``OMP_NUM_THREADS=4``), each pool is sized to Ray's share."""
    from benchmark.controls import PLAIN
    from benchmark.scaleout.worker import AdapterSource, Worker

    probe = ray.remote(Worker).options(num_cpus=cpus, runtime_env={"env_vars": {"OMP_NUM_THREADS": "4"}})
    actor = probe.remote(0, AdapterSource("majority"), PLAIN)
    try:
        info = ray.get(actor.ready.remote())
        assert info.error is None and info.threads == threads
        environment = ray.get(actor.__ray_call__.remote(lambda _self: dict(os.environ)))
        assert all(environment[name] == str(threads) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"))
    finally:
        ray.kill(actor)


def test_threads_outside_a_ray_worker_are_left_alone(monkeypatch) -> None:
    from benchmark.scaleout.worker import assigned_cpus, limit_threads

    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    assert assigned_cpus() is None  # the test process is no Ray worker (it may be a driver)
    assert limit_threads(None) is None and os.environ["OMP_NUM_THREADS"] == "7"
