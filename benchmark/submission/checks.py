"""Checks of a submission folder: ``model.json`` and its run records against the current tasks."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import ValidationError

from benchmark.findings import Finding, make
from benchmark.submission.card import read_model_card
from benchmark.submission.records import RunFileError, read_records
from benchmark.task.folder import Task, TaskLoadError, load_task

RUN_FILE = re.compile(r"^(?P<task>[A-Za-z0-9]+)@(?P<version>[0-9A-Za-z.+-]+?)\.jsonl$")


def is_submission(path: Path) -> bool:
    """Whether ``path`` is a submission folder."""
    return (path / "model.json").is_file() or (path / "runs").is_dir()


def validate_submission(folder: Path, tasks_root: Path) -> list[Finding]:
    """Check model.json and every run file of a submission."""
    out: list[Finding] = []
    try:
        read_model_card(folder)
    except FileNotFoundError:
        out.append(make("S100", folder / "model.json", "not found"))
    except OSError as exc:
        out.append(make("S100", folder / "model.json", f"cannot be read ({exc.strerror or exc})"))
    except (ValidationError, ValueError) as exc:
        out.append(make("S100", folder / "model.json", str(exc).splitlines()[0]))
    runs = folder / "runs"
    for path in sorted(runs.glob("*.jsonl")) if runs.is_dir() else []:
        if ".stale-" not in path.name:
            out += _check_run_file(path, tasks_root)
    return out


def _current_task(tasks_root: Path, name: str) -> Task | None:
    try:
        return load_task(tasks_root / name)
    except TaskLoadError:
        return None


def _check_run_file(path: Path, tasks_root: Path) -> list[Finding]:
    match = RUN_FILE.match(path.name)
    task = _current_task(tasks_root, match["task"]) if match and (tasks_root / match["task"]).is_dir() else None
    if match is None or task is None:
        return [make("S102", path, f"no valid task folder {tasks_root / (match['task'] if match else path.stem)}")]
    try:
        records = read_records(path)
    except RunFileError as exc:
        return [make("S101", path, str(exc))]
    wrong = [r for r in records if (r.task, r.task_version) != (match["task"], match["version"])]
    if wrong:
        return [make("S101", path, f"record {wrong[0].id!r} is of {wrong[0].task}@{wrong[0].task_version}")]
    if match["version"] != task.card.version:
        return [make("S103", path, f"records are of version {match['version']}, the task is now {task.card.version}")]
    if any(r.task_hash != task.content_hash for r in records):
        return [make("S105", path, f"records hash differs from the current files of {task.key}")]
    test_ids = {e.id for e in task.split("test")}
    unknown = {r.id for r in records} - {e.id for e in task.examples}
    if unknown:
        return [make("S101", path, f"records for unknown example ids: {sorted(unknown)[:5]}")]
    missing = test_ids - {r.id for r in records}
    if missing:
        return [make("S104", path, f"{len(test_ids) - len(missing)} of {len(test_ids)} test examples done")]
    return []
