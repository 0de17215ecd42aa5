"""An evaluation suite for speech foundation models and audio LLMs.

The public Python API::

    from benchmark import Adapter, Query, Task, load_task, evaluate

    summaries = evaluate("probe:fbank", tasks=["dimension:audio"], out="submissions")
    summaries = evaluate(MyAdapter(), tasks="SpeakerGender")

Names are imported on first use, so ``import benchmark`` loads no torch and no
model library; adapters import their heavy dependencies when they are built.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from benchmark.version import __version__

# public name -> module that defines it
_PUBLIC = {
    "Adapter": "benchmark.adapters.base",
    "AdapterError": "benchmark.adapters.base",
    "Query": "benchmark.adapters.base",
    "Task": "benchmark.task.folder",
    "TaskCard": "benchmark.task.card",
    "TaskLoadError": "benchmark.task.folder",
    "load_task": "benchmark.task.folder",
    "evaluate": "benchmark.runner",
    "RunError": "benchmark.runner",
    "TaskSummary": "benchmark.runner",
}

__all__ = [
    "Adapter",
    "AdapterError",
    "Query",
    "RunError",
    "Task",
    "TaskCard",
    "TaskLoadError",
    "TaskSummary",
    "__version__",
    "evaluate",
    "load_task",
]

if TYPE_CHECKING:
    from benchmark.adapters.base import Adapter, AdapterError, Query
    from benchmark.runner import RunError, TaskSummary, evaluate
    from benchmark.task.card import TaskCard
    from benchmark.task.folder import Task, TaskLoadError, load_task


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'benchmark' has no attribute {name!r}")
