"""Planning a run: load the selected tasks, work out what is left per task (resume), prepare the submission.

Everything here happens before a model is loaded; ``benchmark.runner`` plans and
prepares under the submission's lock (``benchmark.submission.lock``), then executes
the plans.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmark.adapters.base import Adapter
from benchmark.controls import PLAIN, Variant
from benchmark.submission.card import ModelCard, read_model_card, write_model_card
from benchmark.submission.records import read_records, run_path, set_aside
from benchmark.task import safejson
from benchmark.task.card import Example, TaskCard
from benchmark.task.folder import Task, TaskLoadError
from benchmark.task.hashing import HashPipeline
from benchmark.task.index import TaskIndex
from benchmark.version import __version__


class RunError(Exception):
    """A problem with what was asked (unknown task, bad spec, conflicting submission): no traceback."""


@dataclass
class TaskPlan:
    """What a run will do for one task."""

    task: Task
    run_file: Path
    pending: list[Example] = field(default_factory=list)
    done: int = 0
    skip: str | None = None
    """Why the adapter cannot run this task, if it cannot."""
    notes: list[str] = field(default_factory=list)


def load_tasks(task_dirs: Sequence[Path], index: Path | None = None) -> list[Task]:
    """Load every selected task, collecting all invalid folders into one error.

    ``index`` is a task index file (``benchmark.task.index``): unchanged folders load
    from it without being checked and hashed again. None loads every folder fully.

    Raises:
        RunError: some folders break the contract (each finding listed).
    """
    tasks, problems = [], []
    # One background thread hashes the audio the checks read while the checks go on (SHA-256 releases the GIL).
    with HashPipeline() as hasher:
        known = TaskIndex(index, hasher=hasher)
        for folder in task_dirs:
            try:
                tasks.append(known.load(folder))
            except TaskLoadError as exc:
                problems.append(str(exc))
        known.save()  # primes every task with its content hash
    if problems:
        raise RunError("\n".join(problems) + "\nfix these (see `bench validate`) or leave the tasks out")
    return tasks


def unanswerable(task_dirs: Sequence[Path], adapter: Adapter, submission: Path) -> tuple[list[Path], list[TaskPlan]]:
    """The folders to load, and a skipped plan for each task whose answer kind the model cannot give.

    Read from ``task.json`` alone, so a text model's run never reads (checks, hashes) the audio of tasks answered
    with audio, nor a speaking model's the audio of text tasks. A card that does not parse is loaded in full, where
    its problems are reported.
    """
    load, skipped = [], []
    for folder in task_dirs:
        raw = _raw_card(folder)
        kind = "audio" if raw.get("task_type") == "audio" else "text"
        card = None if kind in adapter.answers else _valid(raw)  # only a task to skip is validated here
        if card is None:
            load.append(folder)
            continue
        can = " or ".join(sorted(adapter.answers))
        plan = TaskPlan(
            task=Task(root=folder, card=card, examples=()), run_file=run_path(submission, card.name, card.version)
        )
        plan.skip = f"{card.name} is answered with {kind}, and this model answers with {can}"
        skipped.append(plan)
    return load, skipped


def _raw_card(folder: Path) -> dict[str, Any]:
    try:
        with open(folder / "task.json", "rb") as f:
            raw = safejson.loads(safejson.read_capped(f, safejson.MAX_JSON_BYTES))
    except (OSError, ValueError):  # unreadable or malformed: the full load reports it
        return {}
    return raw if isinstance(raw, dict) else {}


def _valid(raw: dict[str, Any]) -> TaskCard | None:
    try:
        return TaskCard.model_validate(raw)
    except ValueError:  # invalid: the full load reports it
        return None


def plan_task(task: Task, adapter: Adapter, submission: Path, limit: int | None, variant: Variant = PLAIN) -> TaskPlan:
    """Work out what is left to do for ``task``, resuming from its run file (per example, or per variant unit)."""
    plan = TaskPlan(task=task, run_file=run_path(submission, task.name, task.card.version))
    plan.skip = adapter.check(task.card, len(task.split("train"))) or variant.skip(task)
    records = read_records(plan.run_file, repair=True)
    if records and any(r.task_hash != task.content_hash for r in records):
        moved = set_aside(
            plan.run_file, f"task files changed: records hash {records[0].task_hash}, task now {task.content_hash}"
        )
        plan.notes.append(f"{task.key} changed since its records were written; old records moved to {moved}")
        records = []
    done = {r.unit for r in records}
    todo = variant.units(task, task.split("test")[:limit] if limit is not None else task.split("test"))
    plan.pending = [e for e in todo if variant.key(task, e) not in done]
    plan.done = len(todo) - len(plan.pending)
    return plan


def prepare_submission(
    submission: Path, spec: str, args: dict[str, str], adapter: Adapter, links: dict[str, str] | None = None
) -> ModelCard:
    """Create model.json, or check that an existing one describes the same model.

    Raises:
        RunError: the folder holds runs of a different adapter or arguments.
    """
    if (submission / "model.json").exists():
        try:
            card = read_model_card(submission)
        except (OSError, ValueError) as exc:
            raise RunError(f"{submission / 'model.json'} is not valid: {exc}") from exc
        if (card.adapter, card.adapter_args) != (spec, args):
            raise RunError(
                f"{submission} holds runs of {card.adapter} {card.adapter_args}, not {spec} {args}; "
                "pass --name to store this model under another name"
            )
        if card.harness_version != __version__:
            card = card.model_copy(update={"harness_version": __version__})
            write_model_card(submission, card)
        return card
    card = ModelCard.model_validate(
        {
            "name": submission.name,
            "adapter": spec,
            "adapter_args": args,
            "harness_version": __version__,
            **adapter.info(),
            **(links or {}),
        }
    )
    write_model_card(submission, card)
    return card
