"""The code a Ray actor runs: build and load the adapter once, then turn units into raw outputs.

This is plain Python (the driver wraps it with ``ray.remote``), so it is importable
and testable without Ray. A worker reads only the task folders it is sent, checks
that their content hash is the driver's, and returns outputs through the object
store; the driver scores them and writes the shards.
"""

from __future__ import annotations

import math
import os
import pickle
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmark.adapters.base import Adapter, AdapterError
from benchmark.adapters.registry import build_adapter
from benchmark.predicting import Output, Variant, predict_batch
from benchmark.scaleout.units import Unit
from benchmark.task.folder import Task, TaskLoadError, load_task

EXTRAS = ("probe", "cascade", "audiollm")
"""Adapter families with an extra of the same name in pyproject.toml."""

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
"""What thread pools read at start; the adapters size CTranslate2 and torch from ``OMP_NUM_THREADS`` too."""


class UnitError(Exception):
    """A unit the worker cannot run (a task folder that differs from the driver's)."""


@dataclass(frozen=True)
class AdapterSource:
    """How a worker gets its adapter: built from the spec, or a pickled adapter object (the Python API)."""

    spec: str
    """Adapter spec, e.g. ``cascade``."""
    args: dict[str, str] = field(default_factory=dict)
    """``--model-arg`` values."""
    blob: bytes | None = None
    """A pickled, not yet loaded ``Adapter`` to use instead of building one from ``spec``."""

    def build(self) -> Adapter:
        """The adapter, not loaded."""
        if self.blob is not None:
            adapter = pickle.loads(self.blob)
            if not isinstance(adapter, Adapter):
                raise AdapterError(f"the pickled adapter is a {type(adapter).__name__}, not an Adapter")
            return adapter
        return build_adapter(self.spec, self.args)


@dataclass(frozen=True)
class WorkerInfo:
    """Where a worker runs, and why it cannot run, if it cannot."""

    index: int
    node: str
    pid: int
    gpus: str
    """``CUDA_VISIBLE_DEVICES`` as Ray set it (empty: CPU only)."""
    load_seconds: float = 0.0
    error: str | None = None
    threads: int | None = None
    """The threads each of its thread pools may run (``limit_threads``); None outside a Ray actor."""


@dataclass(frozen=True)
class UnitResult:
    """What a worker sends back for one unit."""

    unit: int
    worker: int
    outputs: list[Output] = field(default_factory=list)
    busy_seconds: float = 0.0
    """Wall time of the unit on the worker (audio decoding, fitting and predicting)."""
    layer_weights: list[float] | None = None
    error: str | None = None


class Worker:
    """One model replica: loads the adapter once and keeps it for every unit it is given."""

    def __init__(self, index: int, source: AdapterSource, variant: Variant) -> None:
        self.threads = limit_threads(assigned_cpus())
        self.index = index
        self.source = source
        self.variant = variant
        self.adapter: Adapter | None = None
        self.tasks: dict[str, Task] = {}
        self.fitted: str | None = None

    def ready(self) -> WorkerInfo:
        """Build and load the adapter; the info says why not when that fails (never raises)."""
        start = time.perf_counter()
        try:
            self._adapter()
        except Exception as exc:  # noqa: BLE001 - any failure here is reported to the driver as one line
            return self._info(0.0, _describe(exc, self.source.spec))
        return self._info(time.perf_counter() - start, None)

    def run_unit(self, unit: Unit) -> UnitResult:
        """Fit on the unit's task if not done yet, then predict its examples batch by batch."""
        start = time.perf_counter()
        try:
            outputs, weights = self._run(unit)
        except Exception as exc:  # noqa: BLE001 - reported by the driver, which keeps the records so far
            return UnitResult(unit.index, self.index, error=_describe(exc, self.source.spec))
        return UnitResult(unit.index, self.index, outputs, time.perf_counter() - start, weights)

    def _run(self, unit: Unit) -> tuple[list[Output], list[float] | None]:
        adapter = self._adapter()
        task = self._task(unit)
        if self.fitted != unit.task_key:
            adapter.fit(task.train_split())
            self.fitted = unit.task_key
        examples = unit.examples
        outputs: list[Output] = []
        for start in range(0, len(examples), unit.batch_size):
            outputs += predict_batch(adapter, task, examples[start : start + unit.batch_size], self.variant)
        return outputs, adapter.layer_weights(task.card)

    def _adapter(self) -> Adapter:
        # Built lazily: after Ray restarts a killed worker, its first retried unit loads the model again.
        if self.adapter is None:
            adapter = self.source.build()
            adapter.load()
            self.adapter = adapter
        return self.adapter

    def _task(self, unit: Unit) -> Task:
        task = self.tasks.get(unit.task_dir)
        if task is None:
            task = load_task(Path(unit.task_dir))
            if task.content_hash != unit.task_hash:
                raise UnitError(
                    f"{unit.task_dir} on {socket.gethostname()} differs from the driver's copy of {unit.task_key}: "
                    "every node must see the same task folders at the same path (a shared filesystem)"
                )
            self.tasks[unit.task_dir] = task
        return task

    def _info(self, seconds: float, error: str | None) -> WorkerInfo:
        gpus = os.environ.get("CUDA_VISIBLE_DEVICES", "")
        return WorkerInfo(self.index, socket.gethostname(), os.getpid(), gpus, round(seconds, 3), error, self.threads)


def assigned_cpus() -> float | None:
    """The CPUs Ray assigned this actor; None outside a Ray worker process."""
    try:
        import ray
    except ImportError:
        return None
    if not ray.is_initialized():
        return None
    context = ray.get_runtime_context()
    if context.worker.mode != ray.WORKER_MODE:
        return None  # the driver: its CPUs are not an actor's share
    cpus = context.get_assigned_resources().get("CPU")
    return float(cpus) if cpus is not None else None


def limit_threads(cpus: float | None) -> int | None:
    """Size every thread pool of this process to ``cpus`` (whole, at least 1); returns that count.

    Two replicas on two cores must each run one thread: one with a pool per core would make four
    threads take turns on two cores. Ray sets ``OMP_NUM_THREADS`` only when the driver has not (a
    user's ``OMP_NUM_THREADS=4`` would reach every worker), and nothing for OpenBLAS, so this sets
    them all from the actor's share. Libraries already loaded in the actor (numpy's OpenBLAS, torch)
    read no environment again: they are resized through threadpoolctl and ``torch.set_num_threads``.
    """
    if cpus is None:
        return None
    threads = max(1, math.floor(cpus))
    for variable in THREAD_VARIABLES:
        os.environ[variable] = str(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        pass
    else:
        threadpool_limits(limits=threads)
    torch = sys.modules.get("torch")  # imported only if the actor already did: majority needs no torch
    if torch is not None and hasattr(torch, "set_num_threads"):
        torch.set_num_threads(threads)
    return threads


def _describe(exc: Exception, spec: str) -> str:
    if isinstance(exc, ImportError):
        family = spec.partition(":")[0]
        fix = f"pip install 'speech-benchmark[{family}]'" if family in EXTRAS else "the package that defines it"
        return f"cannot import the adapter: {exc} (install it on every node: {fix})"
    if isinstance(exc, (AdapterError, UnitError, TaskLoadError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
