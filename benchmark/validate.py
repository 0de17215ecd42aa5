"""``bench validate``: paths -> the checks of each task folder or submission they name.

A task folder gets the contract checks of ``benchmark.task.checks`` (``--deep``
decodes every clip in worker processes); a submission gets the checks of
``benchmark.submission.checks`` against the current tasks.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from benchmark.findings import strict as strict_findings
from benchmark.submission.checks import is_submission, validate_submission
from benchmark.task.audio import DecodeResult, decode_many
from benchmark.task.checks import Decoder, TaskReport, validate_task
from benchmark.task.discovery import SelectionError, changed_task_dirs, discover_task_dirs

UsageError = SelectionError
"""A mistake in how validation was asked for (bad path, bad git ref): exit code 2."""


def validate_paths(
    paths: list[Path],
    *,
    deep: bool = False,
    changed_since: str | None = None,
    workers: int | None = None,
    tasks_root: Path = Path("tasks"),
    strict: bool = False,
) -> list[TaskReport]:
    """Validate every task folder and submission named by ``paths`` (deep mode decodes in worker processes).

    ``strict`` (pull-request CI) counts the score-protecting warnings as errors.
    """
    reports = _validate(paths, deep=deep, changed_since=changed_since, workers=workers, tasks_root=tasks_root)
    if strict:
        for report in reports:
            report.findings = strict_findings(report.findings)
    return reports


def _validate(
    paths: list[Path], *, deep: bool, changed_since: str | None, workers: int | None, tasks_root: Path
) -> list[TaskReport]:
    folders = discover_task_dirs(paths)
    if changed_since is not None:
        folders = changed_task_dirs(folders, changed_since)
    submissions = [d for d in folders if is_submission(d)]
    reports = [TaskReport(root=d, findings=validate_submission(d, tasks_root)) for d in submissions]
    task_dirs = [d for d in folders if d not in submissions]
    if not deep:
        return reports + [validate_task(d) for d in task_dirs]
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        return reports + [validate_task(d, deep=True) for d in task_dirs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        decoder = _pool_decoder(pool, workers)
        return reports + [validate_task(d, deep=True, decoder=decoder) for d in task_dirs]


def _pool_decoder(pool: ProcessPoolExecutor, workers: int) -> Decoder:
    def decode(paths: list[str]) -> list[DecodeResult]:
        if len(paths) < 64:
            return decode_many(paths)
        size = max(16, len(paths) // (workers * 4))
        chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
        return [r for chunk in pool.map(decode_many, chunks) for r in chunk]

    return decode
