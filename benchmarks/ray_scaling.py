"""Benchmark: Ray scale-out. Throughput with 1 vs 2 workers on a model-bound adapter, and the
per-example overhead of ``--ray local --workers 1`` over a plain local run on ``majority``.

Not a test. Run (needs the ray and cascade extras):

    python benchmarks/ray_scaling.py [--model cascade] [--task IntentClassification] [--limit 32]

Throughput: the same examples run on a 2-CPU local cluster with 1 worker, then 2
workers (each a separate model replica; CPUs are split evenly, so 1 worker gets 2
torch threads and each of 2 workers gets 1), then 1 worker with 1 CPU (so the last
ratio is what replicas add at equal threads per replica). Only the distributed phase is timed,
from the first unit handed out to the last one back; model loading is excluded. Each
measurement of the cascade starts with an empty transcript cache, so each one transcribes.

A control runs alongside: the same pure-Python loop twice in a row, then in two
processes side by side. On a machine shared with other jobs it says how much
parallelism the CPUs actually offered, which bounds the 2-worker figure.

Overhead: ``bench run --model majority`` over every shipped task, in this process,
without Ray and with ``--ray local --workers 1``, end to end (the Ray figure
includes starting and stopping the local cluster and the worker), and once more
on a cluster that is already running (as with ``--ray auto``). Best of
``--repeat`` rounds each.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import ray

from benchmark.adapters.registry import build_adapter
from benchmark.controls import PLAIN
from benchmark.planning import load_tasks, plan_task
from benchmark.runner import RunRequest, run
from benchmark.scaleout.driver import DistributedRequest, adapter_source, run_distributed
from benchmark.scaleout.options import RayOptions
from benchmark.task.discovery import select_tasks


def throughput(
    model: str, tasks_root: Path, task: str, limit: int, batch: int, workers: int, cpus: float | None = None
) -> float:
    """Examples per second of the distributed phase with ``workers`` replicas of ``cpus`` CPUs (threads) each."""
    adapter = build_adapter(model)
    with tempfile.TemporaryDirectory() as tmp:
        plans = [plan_task(t, adapter, Path(tmp), limit) for t in load_tasks(select_tasks([task], tasks_root))]
        # A fresh transcript cache for every measurement: with the shared one, only the first would transcribe
        # and the others would time the LLM alone (which made 1 worker on 1 CPU look faster than on 2).
        args = {"transcripts": str(Path(tmp) / "transcripts")} if model.startswith("cascade") else {}
        request = DistributedRequest(
            source=adapter_source(model, args, None),
            works=plans,
            variant=PLAIN,
            options=RayOptions("local", workers=workers, cpus_per_worker=cpus),
            batch_size=batch,
            whole_tasks=adapter.needs_train,
        )
        outcome = run_distributed(request, lambda n: None)
    return outcome.examples / outcome.wall_seconds


class Spinner:
    def spin(self, n: int) -> int:
        total = 0
        for i in range(n):
            total += i
        return total


def available_parallelism(n: int = 10_000_000) -> float:
    """What 2 processes get over 1 on this machine right now: a pure-Python loop, twice in a row vs side by side."""
    spinners = [ray.remote(num_cpus=1)(Spinner).remote() for _ in range(2)]
    ray.get([s.spin.remote(1000) for s in spinners])  # both processes started
    start = time.perf_counter()
    for _ in range(2):
        ray.get(spinners[0].spin.remote(n))
    serial = time.perf_counter() - start
    start = time.perf_counter()
    ray.get([s.spin.remote(n) for s in spinners])
    return serial / (time.perf_counter() - start)


def majority_seconds(tasks_root: Path, ray_options: RayOptions | None) -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = run(RunRequest(spec="majority", tasks_root=tasks_root, out=Path(tmp), ray=ray_options))
        return sum(s.n for s in result.summaries), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="cascade")
    parser.add_argument("--task", default="IntentClassification")
    parser.add_argument("--tasks", type=Path, default=Path("tasks"))
    parser.add_argument("--limit", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    ray.init(num_cpus=2, include_dashboard=False)
    measure = [args.model, args.tasks, args.task, args.limit, args.batch_size]
    rates = {w: throughput(*measure, w) for w in (1, 2)}
    one_thread = throughput(*measure, 1, cpus=1)
    control = available_parallelism()
    ray.shutdown()
    print(f"{args.model} on {args.task} ({args.limit} examples, batch {args.batch_size}, 2-CPU local cluster):")
    print(f"  1 worker  {rates[1]:.2f} examples/s (2 CPUs: 2 torch threads)")
    print(f"  2 workers {rates[2]:.2f} examples/s (1 CPU each)  -> {rates[2] / rates[1]:.2f}x")
    print(f"  1 worker, 1 CPU {one_thread:.2f} examples/s  -> 2 workers {rates[2] / one_thread:.2f}x (replicas alone)")
    print(f"  control: a pure-Python loop in 2 processes vs 1 ran {control:.2f}x (what the shared CPUs allowed)")

    local = min((majority_seconds(args.tasks, None) for _ in range(args.repeat)), key=lambda r: r[1])
    ray_run = min(
        (majority_seconds(args.tasks, RayOptions("local", workers=1)) for _ in range(args.repeat)), key=lambda r: r[1]
    )
    ray.init(num_cpus=2, include_dashboard=False)
    joined = min(
        (majority_seconds(args.tasks, RayOptions("auto", workers=1)) for _ in range(args.repeat)), key=lambda r: r[1]
    )
    ray.shutdown()
    n = local[0]
    print(f"majority over {n} examples: local {local[1]:.2f}s, --ray local --workers 1 {ray_run[1]:.2f}s, ")
    print(f"  on a cluster already running {joined[1]:.2f}s")
    print(f"  overhead {(ray_run[1] - local[1]) / n * 1e3:.2f} ms/example end to end (cluster start included)")
    print(f"  overhead {(joined[1] - local[1]) / n * 1e3:.2f} ms/example on a running cluster (worker start included)")


if __name__ == "__main__":
    main()
