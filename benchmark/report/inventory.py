"""What a leaderboard build reads: every submission and run file, used or left out with a reason.

A build never drops a run without a word. Each run file under
``submissions/<model>/runs/`` is either read (its current test records feed the
tables) or named in ``Inventory.left_out`` with why: an unknown task, another
version, a stale (set-aside) file, records of other task files, or a file that
cannot be read. A submission whose ``model.json`` is missing or invalid is left
out the same way.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmark.submission.card import ModelCard, read_model_card
from benchmark.submission.checks import RUN_FILE
from benchmark.submission.records import Record, RunFileError, read_records
from benchmark.task.folder import Task


@dataclass
class Submission:
    """A model card and its folder."""

    card: ModelCard
    folder: Path


@dataclass(frozen=True)
class LeftOut:
    """A run file (or a whole submission) the build did not use, and why."""

    path: Path
    reason: str

    def render(self) -> str:
        """One line for the terminal."""
        return f"left out {self.path}: {self.reason}"


@dataclass
class Inventory:
    """The submissions and records a build uses, and what it leaves out."""

    submissions: list[Submission] = field(default_factory=list)
    records: dict[tuple[str, str], list[Record]] = field(default_factory=dict)
    """``(model name, Task@version)`` -> test records of the task's current files."""
    left_out: list[LeftOut] = field(default_factory=list)


def _candidate_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return [p for p in sorted(root.iterdir()) if p.is_dir() and ((p / "model.json").exists() or (p / "runs").is_dir())]


def load_submissions(root: Path, left_out: list[LeftOut] | None = None) -> list[Submission]:
    """Every ``root/<model>/`` with a valid ``model.json``; the others go to ``left_out`` with the reason."""
    subs = []
    for folder in _candidate_folders(root):
        try:
            subs.append(Submission(read_model_card(folder), folder))
        except FileNotFoundError:
            _note(left_out, folder, "no model.json (write one, or re-run `bench run` into this folder)")
        except (OSError, ValueError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            _note(left_out, folder / "model.json", f"model.json is not a valid model card ({first})")
    return subs


def _note(left_out: list[LeftOut] | None, path: Path, reason: str) -> None:
    if left_out is not None:
        left_out.append(LeftOut(path, reason))


def take_inventory(root: Path, tasks: Sequence[Task], *, read: bool = True) -> Inventory:
    """Read every submission under ``root`` against ``tasks``, recording what is left out and why.

    With ``read=False`` only names and file types are checked (no record is parsed): the
    build then reads the run files whose cells are not cached and names their problems.
    """
    inv = Inventory()
    inv.submissions = load_submissions(root, inv.left_out)
    by_name = {t.name: t for t in tasks}
    for sub in inv.submissions:
        for path, is_file in _run_entries(sub.folder / "runs"):
            task, records, reason = _read_run(path, by_name, read, is_file)
            if reason is not None:
                inv.left_out.append(LeftOut(path, reason))
            if task is not None and records:
                inv.records[(sub.card.name, task.key)] = records
    return inv


def _run_entries(runs: Path) -> list[tuple[Path, bool]]:
    """``runs/*.jsonl`` in name order, each with whether it is a file (from the listing: no stat per file)."""
    if not runs.is_dir():
        return []
    with os.scandir(runs) as it:
        found = sorted((e.name, e.is_file()) for e in it if e.name.endswith(".jsonl"))
    return [(runs / name, is_file) for name, is_file in found]


def _first_bytes(path: Path, limit: int = 200) -> str:
    try:
        with path.open("rb") as f:
            return f.read(limit).decode("utf-8", "replace").strip()
    except OSError:
        return "unreadable note"


def _read_run(
    path: Path, tasks: dict[str, Task], read: bool, is_file: bool
) -> tuple[Task | None, list[Record], str | None]:
    """The task, its usable test records, and why (part of) the file is left out."""
    match = RUN_FILE.match(path.name)
    if ".stale-" in path.name:
        why = path.with_suffix(".why")
        note = f" ({_first_bytes(why)})" if why.is_file() else ""
        return None, [], f"stale: set aside by `bench run`{note}; `bench clean` deletes it"
    if match is None:
        return None, [], "not a run file name (<Task>@<version>.jsonl)"
    task = tasks.get(match["task"])
    if task is None:
        return None, [], f"unknown task {match['task']} (no valid task folder of that name under the tasks root)"
    if match["version"] != task.card.version:
        return None, [], f"other version: records of {match['version']}, the task is now {task.card.version}"
    if not read:
        return task, [], None if is_file else f"unreadable: {path} is not a file"
    records, reason = usable_records(path, task)
    return task, records, reason


def usable_records(path: Path, task: Task) -> tuple[list[Record], str | None]:
    """The test records of ``path`` that count for ``task`` as it is now, and why others do not.

    Never raises: an unreadable file yields no records and the reason.
    """
    try:
        records = read_records(path)
    except RunFileError as exc:
        return [], f"unreadable: {exc}"
    test = [r for r in records if r.split == "test"]
    current = [r for r in test if r.task_hash == task.content_hash and r.task == task.name]
    if len(current) < len(test):
        detail = f"{len(test) - len(current)} of {len(test)} records made on other task files (hash mismatch)"
        return _one_per_test_example(current, task)[0], detail + "; re-run the model on the current files"
    return _one_per_test_example(current, task)


def _one_per_test_example(records: list[Record], task: Task) -> tuple[list[Record], str | None]:
    """Keep the first record of each test unit (example, instruction, constraint set); name duplicates and unknowns."""
    test_ids = {e.id for e in task.split("test")}
    kept: dict[tuple[str, int | None, int | None], Record] = {}
    for r in records:
        if r.id in test_ids:
            kept.setdefault(r.unit, r)
    dropped = len(records) - len(kept)
    if not dropped:
        return records, None
    return list(kept.values()), f"{dropped} duplicate or unknown-example record(s) not counted (first of each kept)"
