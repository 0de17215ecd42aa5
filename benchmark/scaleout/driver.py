"""The Ray driver: start one actor per model replica, hand out units, write shards, merge, summarise.

Units go to workers as they free up, one at a time each (a worker that dies loses
only the unit it was running). Each finished unit is scored here and written as a shard; a task's
shards are merged into its run file as soon as its last unit is in. Ray restarts a
killed worker and retries its units ``retries`` times; after that the loss is
reported, and everything finished so far is merged and kept.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmark.adapters.base import Adapter
from benchmark.predicting import Variant, to_records
from benchmark.scaleout.cluster import Placement, connect, placement
from benchmark.scaleout.options import RayOptions, ScaleOutError
from benchmark.scaleout.shards import merge_shards, write_shard
from benchmark.scaleout.units import Unit, Work, make_units
from benchmark.scaleout.worker import AdapterSource, UnitResult, Worker, WorkerInfo
from benchmark.scoring.labels import LabelResolver
from benchmark.submission.scorer import Scorer, scorer_for

IN_FLIGHT = 1
"""Units per worker at a time: one, so a worker that dies loses only the unit it was running."""


@dataclass
class WorkerSummary:
    """What one worker did."""

    index: int
    node: str
    gpus: str
    load_seconds: float
    examples: int = 0
    model_seconds: float = 0.0
    """Sum of the examples' model time (``predict`` only)."""
    utilisation: float = 0.0
    """Model seconds over the wall time of the distributed phase."""
    died: bool = False

    def describe(self) -> str:
        """One line for the end of a run."""
        return (
            f"worker {self.index} on {self.node}{' GPU ' + self.gpus if self.gpus else ''}: {self.examples} examples, "
            f"model {self.model_seconds:.2f}s, utilisation {self.utilisation:.0%}{' (died)' if self.died else ''}"
        )


@dataclass
class Distributed:
    """The outcome of a distributed run."""

    workers: list[WorkerSummary] = field(default_factory=list)
    wall_seconds: float = 0.0
    """From the first unit handed out to the last one back (model loading excluded)."""
    examples: int = 0
    layer_weights: dict[str, list[float]] = field(default_factory=dict)
    """Learned layer weights per task key (probes)."""


@dataclass
class DistributedRequest:
    """What to run and how."""

    source: AdapterSource
    works: Sequence[Work]
    variant: Variant
    """What the run changes about each example (``benchmark.controls.PLAIN`` for a plain run)."""
    options: RayOptions
    batch_size: int
    whole_tasks: bool
    """Adapters that train get one unit per task (training is not split)."""
    device: str | None = None
    resolvers: Sequence[LabelResolver] = ()


def adapter_source(spec: str, args: dict[str, str], adapter: Adapter | None) -> AdapterSource:
    """How the workers get the adapter: an object given to the Python API travels pickled."""
    if adapter is None:
        return AdapterSource(spec, dict(args))
    import ray.cloudpickle

    return AdapterSource(spec, dict(args), ray.cloudpickle.dumps(adapter))


def run_distributed(
    request: DistributedRequest, on_examples: Callable[[int], None], on_ready: Callable[[], None] = lambda: None
) -> Distributed:
    """Run every pending example on Ray workers; shards are merged into the run files even on failure.

    ``on_ready`` is called once every worker has loaded the model (the runner writes run headers then).

    Raises:
        ScaleOutError: the cluster cannot be reached or lacks resources, a worker cannot load the
            adapter, a unit failed, or workers died more often than ``retries`` allows.
    """
    import ray

    if not any(w.pending for w in request.works):
        return Distributed()
    started = connect(request.options.address)
    actors: list[Any] = []
    try:
        place = placement(ray.cluster_resources(), request.options, request.device)
        actors = _start_workers(ray, request, place)
        infos = _wait_ready(ray, actors, request.options, place)
        on_ready()
        return _Dispatch(ray, actors, infos, request).run(on_examples)
    finally:
        for work in request.works:
            merge_shards(work.task, work.run_file)
        _stop(ray, actors)
        if started:
            ray.shutdown()


def _stop(ray: Any, actors: list[Any]) -> None:
    for actor in actors:
        try:
            ray.kill(actor, no_restart=True)
        except Exception:  # noqa: BLE001 - the cluster may be gone already; nothing is left to stop
            continue


def _start_workers(ray: Any, request: DistributedRequest, place: Placement) -> list[Any]:
    cls = ray.remote(Worker).options(
        num_cpus=place.num_cpus,
        num_gpus=place.num_gpus,
        max_restarts=request.options.retries,
        max_task_retries=request.options.retries,
    )
    return [cls.remote(i, request.source, request.variant) for i in range(place.workers)]


def _wait_ready(ray: Any, actors: list[Any], options: RayOptions, place: Placement) -> list[WorkerInfo]:
    refs = [a.ready.remote() for a in actors]
    done, waiting = ray.wait(refs, num_returns=len(refs), timeout=options.start_timeout)
    if waiting:
        raise ScaleOutError(
            f"{len(waiting)} of {len(refs)} workers were not running after {options.start_timeout:g}s: "
            f"each asks for {place.num_cpus:g} CPU and {place.num_gpus:g} GPU (see `ray status`); "
            "lower --workers, or the model takes longer to load"
        )
    try:
        infos: list[WorkerInfo] = ray.get(refs)
    except ray.exceptions.RayError as exc:
        raise ScaleOutError(f"a worker died while loading the model: {_first_line(exc)}") from exc
    for info in infos:
        if info.error:
            raise ScaleOutError(f"worker {info.index} on {info.node} cannot run the model: {info.error}")
    return infos


class _Dispatch:
    """The loop that keeps every live worker busy until no unit is left."""

    def __init__(self, ray: Any, actors: list[Any], infos: list[WorkerInfo], request: DistributedRequest) -> None:
        self.ray, self.actors, self.request = ray, actors, request
        self.works = {w.task.key: w for w in request.works}
        self.scorers: dict[str, Scorer] = {}
        self.units = deque(
            make_units(
                request.works,
                batch_size=request.batch_size,
                workers=len(actors),
                whole_tasks=request.whole_tasks,
                chunk=request.options.chunk,
            )
        )
        self.left = {key: sum(u.task_key == key for u in self.units) for key in self.works}
        self.inflight: dict[Any, tuple[int, Unit]] = {}
        self.lost: list[tuple[Unit, str]] = []
        self.failure: str | None = None
        self.result = Distributed(workers=[WorkerSummary(i.index, i.node, i.gpus, i.load_seconds) for i in infos])

    def run(self, on_examples: Callable[[int], None]) -> Distributed:
        start = time.perf_counter()
        for worker in range(len(self.actors)):
            for _ in range(IN_FLIGHT):
                self._submit(worker)
        while self.inflight and self.failure is None:
            (ref,), _ = self.ray.wait(list(self.inflight), num_returns=1)
            worker, unit = self.inflight.pop(ref)
            result = self._get(ref, worker, unit)
            if result is None or self.failure is not None:
                continue
            self._finish(unit, result)
            on_examples(len(unit.ids))
            self._submit(worker)
        self._summarise(time.perf_counter() - start)
        self._raise_losses()
        return self.result

    def _submit(self, worker: int) -> None:
        if self.units and not self.result.workers[worker].died:
            unit = self.units.popleft()
            self.inflight[self.actors[worker].run_unit.remote(unit)] = (worker, unit)

    def _get(self, ref: Any, worker: int, unit: Unit) -> UnitResult | None:
        try:
            result: UnitResult = self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:
            self.result.workers[worker].died = True
            self.lost.append((unit, _first_line(exc)))
            return None
        if result.error is not None:
            where = f"{unit.task_key} (examples {unit.ids[0]}..{unit.ids[-1]}) on worker {worker}"
            self.failure = f"{where}: {result.error}"
        return result

    def _finish(self, unit: Unit, result: UnitResult) -> None:
        work = self.works[unit.task_key]
        if unit.task_key not in self.scorers:  # audio answers are written under the submission, by the driver
            self.scorers[unit.task_key] = scorer_for(work.task, self.request.resolvers, work.run_file.parent.parent)
        score = self.scorers[unit.task_key]
        records = to_records(work.task, unit.examples, result.outputs, score, self.request.variant)
        write_shard(work.run_file, unit.position, records)
        summary = self.result.workers[result.worker]
        summary.examples += len(result.outputs)
        summary.model_seconds += sum(o.seconds for o in result.outputs)
        self.result.examples += len(result.outputs)
        if result.layer_weights is not None:
            self.result.layer_weights[unit.task_key] = result.layer_weights
        self.left[unit.task_key] -= 1
        if self.left[unit.task_key] == 0:
            merge_shards(work.task, work.run_file)

    def _summarise(self, wall: float) -> None:
        self.result.wall_seconds = wall
        for summary in self.result.workers:
            summary.utilisation = summary.model_seconds / wall if wall > 0 else 0.0

    def _raise_losses(self) -> None:
        kept = "records of finished units are kept; re-run the same command to run only the missing examples"
        if self.failure is not None:
            raise ScaleOutError(f"{self.failure} ({kept})")
        if self.lost:
            missing = sum(len(u.ids) for u, _ in self.lost) + sum(len(u.ids) for u in self.units)
            unit, cause = self.lost[0]
            raise ScaleOutError(
                f"{len(self.lost)} units lost after Ray restarted their workers {self.request.options.retries} times "
                f"(first: {unit.task_key} from example {unit.ids[0]}: {cause}); {missing} examples not run; {kept}"
            )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
