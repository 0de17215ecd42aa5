"""The task contract: one folder that describes itself.

- ``card``: ``TaskCard`` (task.json) and ``Example`` (a line of examples.jsonl), strict pydantic models;
- ``checks``: every check of one folder, reported at once as located findings;
- ``folder``: ``Task`` and ``load_task`` (the same checks, then the loaded task);
- ``index``: the task index, which loads unchanged folders without checking and hashing them again;
- ``audio``: safe audio access (containment, headers, decoding);
- ``discovery``: task folders under a parent, changed since a git ref, or picked by selectors;
- ``writer``: the one writer of task folders (scaffold, Hugging Face import, the shipped suite);
- ``schemas``: the JSON Schemas generated from the models.
"""

from benchmark.task.card import (
    DIMENSIONS,
    METRICS_BY_TASK_TYPE,
    MIN_INSTRUCTIONS,
    MIN_TEST_EXAMPLES,
    NAME_PATTERN,
    Example,
    Source,
    TaskCard,
    card_rules,
)
from benchmark.task.folder import Task, TaskLoadError, instruction_index, load_task

__all__ = [
    "DIMENSIONS",
    "METRICS_BY_TASK_TYPE",
    "MIN_INSTRUCTIONS",
    "MIN_TEST_EXAMPLES",
    "NAME_PATTERN",
    "Example",
    "Source",
    "Task",
    "TaskCard",
    "TaskLoadError",
    "card_rules",
    "instruction_index",
    "load_task",
]
