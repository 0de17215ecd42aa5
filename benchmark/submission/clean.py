"""``bench clean``: find and remove what runs and builds leave behind.

- **stale runs**: ``runs/<Task>@<version>.stale-N.jsonl`` set aside when a task's
  files changed, with their ``.why`` note and ``.header.json`` provenance, and header
  files set aside as ``.unreadable`` when they were damaged;
- **temporary files**: ``*.tmp`` left by an atomic rewrite interrupted by a crash;
- **orphaned judge caches**: a submission folder that holds nothing but
  ``judge-cache.jsonl`` (its model.json and runs were removed);
- **interrupted builds**: ``.<name>.tmp-*`` / ``.<name>.old-*`` folders beside the
  leaderboard's tables and site (see ``benchmark.report.build.staged``).

Records of current runs, model cards, headers and layer weights are never listed.
Each submission is cleaned under its lock, so a running ``bench run`` is left alone.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmark.submission.lock import LOCK_NAME, SubmissionLocked, submission_lock

STALE = re.compile(r"\.stale-\d+(\.jsonl|\.why|\.header\.json)$|\.header\.json\.unreadable$")
BUILD_LEFTOVER = re.compile(r"^\..+\.(tmp|old)-[^/]+$")
JUDGE_CACHE = "judge-cache.jsonl"


@dataclass(frozen=True)
class Leftover:
    """A file or folder ``bench clean`` would remove."""

    path: Path
    kind: str
    """stale run, temporary file, orphaned judge cache or interrupted build."""
    size: int
    """Bytes on disk (a folder: all its files)."""
    owner: Path | None = None
    """The submission folder it belongs to (cleaned under that submission's lock), if any."""


def _size(path: Path) -> int:
    if path.is_dir() and not path.is_symlink():
        return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return path.lstat().st_size


def _submission_leftovers(folder: Path) -> Iterable[Leftover]:
    runs = folder / "runs"
    for path in sorted(runs.iterdir()) if runs.is_dir() else []:
        if STALE.search(path.name):
            yield Leftover(path, "stale run", _size(path), folder)
    for path in sorted(folder.rglob("*.tmp")):
        if path.is_file() or path.is_symlink():
            yield Leftover(path, "temporary file", _size(path), folder)
    contents = {p.name for p in folder.iterdir()} - {LOCK_NAME}
    if contents == {JUDGE_CACHE}:
        yield Leftover(folder, "orphaned judge cache (no model.json, no runs)", _size(folder), folder)


def find_leftovers(submissions: Path, build_roots: Sequence[Path] = ()) -> list[Leftover]:
    """Everything removable under ``submissions`` and, for interrupted builds, in ``build_roots``."""
    found: list[Leftover] = []
    if submissions.is_dir():
        for folder in sorted(p for p in submissions.iterdir() if p.is_dir() and not p.is_symlink()):
            found += _submission_leftovers(folder)
    for root in build_roots:
        if root.is_dir():
            names = sorted(p for p in root.iterdir() if BUILD_LEFTOVER.match(p.name))
            found += [Leftover(p, "interrupted build", _size(p)) for p in names]
    return found


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def remove_leftovers(leftovers: Sequence[Leftover]) -> tuple[list[Leftover], list[str]]:
    """Remove ``leftovers``, each submission's under its lock; returns what was removed and notes on the rest."""
    removed: list[Leftover] = []
    notes: list[str] = []
    owners: dict[Path | None, list[Leftover]] = {}
    for item in leftovers:
        owners.setdefault(item.owner, []).append(item)
    for owner, items in owners.items():
        if owner is None:
            for item in items:
                _remove(item.path)
            removed += items
            continue
        try:
            with submission_lock(owner):
                for item in items:
                    _remove(item.path)
                removed += items
        except SubmissionLocked as exc:
            notes.append(f"skipped {len(items)} item(s): {exc}")
    return removed, notes
