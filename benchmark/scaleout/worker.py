"""The code a Ray actor runs: build and load the adapter once, then turn units into raw outputs.

This is plain Python (the driver wraps it with ``ray.remote``), so it is importable
and testable without Ray. A worker reads only the task folders it is sent, checks
that their content hash is the driver's, and returns outputs through the object
store; the driver scores them and writes the shards.
"""

from __future__ import annotations

import os
import pickle
import socket
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
        return WorkerInfo(self.index, socket.gethostname(), os.getpid(), gpus, round(seconds, 3), error)


def _describe(exc: Exception, spec: str) -> str:
    if isinstance(exc, ImportError):
        family = spec.partition(":")[0]
        fix = f"pip install 'speech-benchmark[{family}]'" if family in EXTRAS else "the package that defines it"
        return f"cannot import the adapter: {exc} (install it on every node: {fix})"
    if isinstance(exc, (AdapterError, UnitError, TaskLoadError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
