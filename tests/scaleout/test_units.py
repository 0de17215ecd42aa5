"""Work units, shards and worker sizing, without Ray: plain functions on synthetic tasks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import make_task
from typer.testing import CliRunner

from benchmark.adapters.baselines import RandomAdapter
from benchmark.cli import app
from benchmark.controls import PLAIN
from benchmark.planning import plan_task
from benchmark.predicting import Output, queries_for, to_records
from benchmark.runner import RunRequest, run
from benchmark.scaleout.cluster import check_reachable, host_port, placement
from benchmark.scaleout.options import RayOptions, ScaleOutError, take_ray_args
from benchmark.scaleout.shards import merge_shards, shard_dir, write_shard
from benchmark.scaleout.units import chunk_size, make_units
from benchmark.scaleout.worker import AdapterSource, Worker
from benchmark.submission.records import read_records
from benchmark.submission.scorer import scorer_for
from benchmark.task.folder import load_task


@pytest.mark.parametrize(
    ("pending", "batch", "workers", "size"),
    [(40, 16, 2, 16), (24, 2, 2, 4), (10_000, 16, 8, 320), (5, 16, 4, 16)],
)
def test_chunks_are_whole_batches_about_four_per_worker(pending: int, batch: int, workers: int, size: int) -> None:
    assert chunk_size(pending, batch, workers) == size


def test_units_cover_pending_once_in_order_and_trainers_get_whole_tasks(tmp_path: Path) -> None:
    task = load_task(make_task(tmp_path / "tasks", n_train=4))
    plan = plan_task(task, RandomAdapter(), tmp_path / "sub", None)
    plan.pending = plan.pending[3:10]  # resumed: the first three are done; a limit of 10
    units = make_units([plan], batch_size=2, workers=2, whole_tasks=False, chunk=4)
    assert [u.ids for u in units] == [["0007", "0008", "0009", "0010"], ["0011", "0012", "0013"]]
    assert [u.position for u in units] == [7, 11] and units[0].task_dir == str(task.root.resolve())
    whole = make_units([plan], batch_size=2, workers=2, whole_tasks=True)
    assert len(whole) == 1 and len(whole[0].ids) == 7


def test_worker_runs_a_unit_in_process_like_the_local_runner(tmp_path: Path) -> None:
    task = load_task(make_task(tmp_path / "tasks", n_train=4))
    plan = plan_task(task, RandomAdapter(), tmp_path / "sub", 6)
    (unit,) = make_units([plan], batch_size=4, workers=1, whole_tasks=True)
    worker = Worker(0, AdapterSource("random"), PLAIN)
    assert worker.ready().error is None
    result = worker.run_unit(unit)
    expected = RandomAdapter()
    expected.fit(task.train_split())
    queries = queries_for(expected, task, plan.pending, PLAIN)
    assert [o.answer for o in result.outputs] == expected.predict(task.card, queries)
    (task.root / "examples.jsonl").write_text((task.root / "examples.jsonl").read_text() + "\n")
    stale = Worker(1, AdapterSource("random"), PLAIN).run_unit(unit)  # the folder now hashes differently
    assert stale.error is not None and "shared filesystem" in stale.error


def test_worker_reports_an_adapter_it_cannot_import() -> None:
    info = Worker(0, AdapterSource("random", {"no_such_option": "1"}), PLAIN).ready()
    assert info.error is not None and "no_such_option" in info.error
    gone = b"cnosuch_module\nGone\n)\x81."  # a pickled object whose class's module is not installed
    info = Worker(0, AdapterSource("nosuch_module:Gone", blob=gone), PLAIN).ready()
    assert info.error == (
        "cannot import the adapter: No module named 'nosuch_module' "
        "(install it on every node: the package that defines it)"
    )


def test_shards_merge_in_example_order_without_duplicates(tmp_path: Path) -> None:
    task = load_task(make_task(tmp_path / "tasks", n_train=2))
    run_file = tmp_path / "sub" / "runs" / f"{task.key}.jsonl"
    worker = Worker(0, AdapterSource("random"), PLAIN)
    plan = plan_task(task, RandomAdapter(), tmp_path / "sub", 6)
    by_id = {e.id: e for e in task.examples}
    for unit in reversed(make_units([plan], batch_size=2, workers=1, whole_tasks=False, chunk=2)):
        result = worker.run_unit(unit)
        records = to_records(task, [by_id[i] for i in unit.ids], result.outputs, scorer_for(task), PLAIN)
        write_shard(run_file, unit.position, records)
    duplicate = to_records(task, [by_id["0003"]], result.outputs[:1], scorer_for(task), PLAIN)
    write_shard(run_file, 99, duplicate)
    assert merge_shards(task, run_file) == 6
    assert [r.id for r in read_records(run_file)] == [f"{i:04d}" for i in range(2, 8)]
    assert not shard_dir(run_file).exists() and merge_shards(task, run_file) == 0


@pytest.mark.parametrize(
    ("resources", "options", "device", "expected"),
    [
        ({"CPU": 8}, RayOptions("local"), None, (4, 2.0, 0.0)),
        ({"CPU": 2}, RayOptions("local", workers=2), None, (2, 1.0, 0.0)),
        ({"CPU": 2}, RayOptions("local", workers=3), None, (3, 0.6667, 0.0)),
        ({"CPU": 2}, RayOptions("local", workers=1, cpus_per_worker=1), None, (1, 1, 0.0)),
        ({"CPU": 16, "GPU": 4}, RayOptions("auto"), None, (4, 1.0, 1.0)),
        ({"CPU": 16, "GPU": 2}, RayOptions("auto", gpus_per_worker=0.25), None, (8, 1.0, 0.25)),
        ({"CPU": 16, "GPU": 2}, RayOptions("auto"), "cpu", (8, 2.0, 0.0)),
    ],
)
def test_placement(resources: dict[str, float], options: RayOptions, device: str | None, expected: tuple) -> None:
    got = placement(resources, options, device)
    assert (got.workers, got.num_cpus, got.num_gpus) == expected


@pytest.mark.parametrize(
    ("resources", "options", "device", "message"),
    [
        ({"CPU": 2}, RayOptions("auto"), "cuda", "has no GPU"),
        ({"CPU": 2}, RayOptions("auto", gpus_per_worker=0.5), None, "has no GPU"),
        ({"CPU": 8, "GPU": 2}, RayOptions("auto", workers=3), None, "need 3 GPUs and the cluster has 2"),
    ],
)
def test_placement_refuses_gpus_the_cluster_lacks(
    resources: dict[str, float], options: RayOptions, device: str | None, message: str
) -> None:
    with pytest.raises(ScaleOutError, match=message):
        placement(resources, options, device)


def test_addresses_and_gpu_share_argument() -> None:
    assert host_port("local") is None and host_port("ray://head:10001") == ("head", 10001)
    with pytest.raises(ScaleOutError, match="use local, auto"):
        host_port("ray://head")
    with pytest.raises(ScaleOutError, match="cannot reach the Ray cluster at ray://127.0.0.1:1"):
        check_reachable("ray://127.0.0.1:1")
    args, options = take_ray_args({"gpus_per_worker": "0.5", "device": "cuda"}, RayOptions("auto"))
    assert args == {"device": "cuda"} and options.gpus_per_worker == 0.5
    with pytest.raises(ScaleOutError, match="positive number"):
        take_ray_args({"gpus_per_worker": "half"}, RayOptions("auto"))


def _bench(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_cli_bad_ray_input_is_one_line_and_keeps_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_task(tmp_path / "tasks")
    common = ["run", "--model", "majority", "--tasks-root", str(tmp_path / "tasks"), "--out", str(tmp_path / "out")]
    code, output = _bench(*common, "--limit", "3")
    assert code == 0
    code, output = _bench(*common, "--ray", "ray://127.0.0.1:1")
    assert code == 2 and "cannot reach the Ray cluster at ray://127.0.0.1:1" in output and "Traceback" not in output
    assert len(read_records(tmp_path / "out" / "majority" / "runs" / "ToneHeight@1.0.0.jsonl")) == 3
    code, output = _bench(*common, "--workers", "2")
    assert code == 2 and "pass --ray too" in output
    code, output = _bench(*common, "--ray", "local", "--workers", "0")
    assert code == 2 and "--workers must be at least 1" in output
    monkeypatch.setitem(sys.modules, "ray", None)  # Ray not installed
    code, output = _bench(*common, "--ray", "local")
    assert code == 2 and "pip install 'speech-benchmark[ray]'" in output


def test_local_rerun_folds_in_shards_a_killed_distributed_run_left(tmp_path: Path) -> None:
    task = load_task(make_task(tmp_path / "tasks", n_train=2))
    run_file = tmp_path / "out" / "random" / "runs" / f"{task.key}.jsonl"
    done = task.split("test")[:5]
    records = [r.model_copy(update={"output": "kept"}) for r in to_records(
        task, done, [Output(e.id, "high", 7.0) for e in done], scorer_for(task), PLAIN
    )]  # fmt: skip
    write_shard(run_file, 2, records)
    run(RunRequest(spec="random", tasks_root=tmp_path / "tasks", out=tmp_path / "out"))
    got = read_records(run_file)
    assert [r.id for r in got] == [e.id for e in task.split("test")]
    assert [r.output for r in got[:5]] == ["kept"] * 5 and got[5].output != "kept"
    assert not shard_dir(run_file).parent.exists()
