"""``bench leaderboard build``: tables and site from the records, written atomically.

Each output folder is built next to its destination under a temporary name and
renamed into place only when complete, so a crash or a full disk mid-build leaves
the previous board as it was, and a reader never sees half a site.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from benchmark.report.export import write_tables
from benchmark.report.inventory import LeftOut, load_submissions
from benchmark.report.site import build_site
from benchmark.report.tables import Leaderboard, layer_weights
from benchmark.report.trust import build_leaderboard as recompute
from benchmark.task.folder import Task


class BuildError(Exception):
    """The build was asked to be strict and some runs would be left out (each one named)."""


@dataclass
class BuildResult:
    """What a build wrote and what it left out."""

    board: Leaderboard
    tables: list[Path] = field(default_factory=list)
    site: list[Path] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)


@contextmanager
def staged(out: Path) -> Iterator[Path]:
    """A fresh temporary folder beside ``out`` that replaces ``out`` when the block ends without error."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


def build_leaderboard(
    submissions: Path, tasks: Sequence[Task], tables_out: Path, site_out: Path | None, *, strict: bool = False
) -> BuildResult:
    """Recompute the tables (and the site, unless ``site_out`` is None) and swap them into place.

    Raises:
        BuildError: ``strict`` and some run file or submission would be left out.
    """
    cache = tables_out / ".cache"  # cells of unchanged run files (report/cells.py), carried into the new folder
    board = recompute(submissions, tasks, cache=cache)
    if strict and board.left_out:
        lines = "\n".join(x.render() for x in board.left_out)
        raise BuildError(f"{len(board.left_out)} run file(s) or submission(s) would be left out:\n{lines}")
    result = BuildResult(board=board, left_out=board.left_out)
    with ExitStack() as stack:
        tmp_tables = stack.enter_context(staged(tables_out))
        names = [p.name for p in write_tables(board, tmp_tables)]
        if cache.is_dir():
            os.replace(cache, tmp_tables / ".cache")
        if site_out is not None:
            tmp_site = stack.enter_context(staged(site_out))
            weights = {s.card.name: layer_weights(s.folder) for s in load_submissions(submissions)}
            files = build_site(board, tasks, tmp_site, tmp_tables, weights)
            result.site = [site_out / p.relative_to(tmp_site) for p in files]
    result.tables = [tables_out / n for n in names]
    return result
