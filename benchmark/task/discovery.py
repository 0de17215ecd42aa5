"""Finding task folders: under a parent, changed since a git ref, or picked by ``--tasks`` selectors."""

from __future__ import annotations

import fnmatch
import json
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from benchmark.task.card import DIMENSIONS


class SelectionError(Exception):
    """A mistake in which folders were asked for (bad path, bad git ref, a selector matching nothing)."""


def is_task_folder(path: Path) -> bool:
    """Whether ``path`` looks like a task folder rather than a parent of task folders."""
    return any((path / name).exists() for name in ("task.json", "examples.jsonl"))


def discover_task_dirs(paths: Iterable[Path]) -> list[Path]:
    """Task folders named by ``paths``: each path is a task folder or a parent of some.

    Raises:
        SelectionError: a path does not exist or is not a folder.
    """
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            raise SelectionError(f"{path} is not a folder; pass task folders or a parent such as tasks/")
        if is_task_folder(path) or (path / "model.json").exists():
            found.append(path)
        else:
            found += sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    return found


def changed_task_dirs(task_dirs: list[Path], ref: str) -> list[Path]:
    """The task folders with a file changed since git ``ref`` (committed, staged, unstaged or new).

    Raises:
        SelectionError: not inside a git work tree, or ``ref`` is unknown.
    """
    cwd = task_dirs[0] if task_dirs else Path.cwd()
    top = Path(_git(["rev-parse", "--show-toplevel"], cwd).strip())
    changed = _git(["diff", "--name-only", "-z", ref, "--"], top).split("\0")
    changed += _git(["ls-files", "--others", "--exclude-standard", "-z"], top).split("\0")
    changed_abs = [(top / p).resolve() for p in changed if p]
    return [d for d in task_dirs if any(p.is_relative_to(d.resolve()) for p in changed_abs)]


def _git(args: list[str], cwd: Path) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise SelectionError("--changed-since needs git on PATH") from exc
    if proc.returncode != 0:
        raise SelectionError(f"git {' '.join(args[:2])} failed: {proc.stderr.strip()}")
    return proc.stdout


def select_tasks(selectors: Sequence[str], tasks_root: Path) -> list[Path]:
    """Task folders matching names, globs, ``dimension:NAME`` or folder paths (all tasks if none).

    Raises:
        SelectionError: a selector matches nothing.
    """
    available = discover_task_dirs([tasks_root]) if tasks_root.is_dir() else []
    if not selectors:
        return available
    chosen: dict[Path, None] = {}
    for selector in selectors:
        matched = _match(selector, available)
        if not matched:
            names = ", ".join(p.name for p in available) or f"none under {tasks_root}"
            raise SelectionError(f"--tasks {selector!r} matches no task (available: {names})")
        chosen.update(dict.fromkeys(matched))
    return list(chosen)


def _match(selector: str, available: list[Path]) -> list[Path]:
    path = Path(selector)
    if path.is_dir() and is_task_folder(path):
        return [path]
    if selector.startswith("dimension:"):
        dimension = selector.partition(":")[2]
        if dimension not in DIMENSIONS:
            raise SelectionError(f"unknown dimension {dimension!r}; use one of {', '.join(DIMENSIONS)}")
        return [p for p in available if _card_field(p, "dimension") == dimension]
    return [p for p in available if fnmatch.fnmatchcase(p.name, selector)]


def _card_field(folder: Path, key: str) -> object:
    try:
        return json.loads((folder / "task.json").read_text(encoding="utf-8")).get(key)
    except (OSError, ValueError, AttributeError):
        return None
