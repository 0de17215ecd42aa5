"""The Dynamic-SUPERB view of the board: the imported Phase 2 tasks only, grouped two ways.

A task folder written by ``bench import-hf --catalog`` carries a marker (``hf.imported_from``)
naming its instance and Dynamic-SUPERB's own category. This view keeps the cells of
those tasks and summarises them per model twice: by Dynamic-SUPERB's category and by
this board's dimensions, each as the mean normalised score of the tasks in the group
with a bootstrap interval from the same replicates as the main tables (so a group's
score is exactly the mean of the task scores it summarises). Tasks not imported from
the catalog are left out; with none imported, the tables are empty.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from benchmark.authoring.hf import imported_from
from benchmark.report.tables import SPLITS, Cell, intervals, keep_split, mean_of, rounded
from benchmark.task.card import DIMENSIONS
from benchmark.task.folder import Task


def phase2_tasks(tasks: Sequence[Task]) -> dict[str, dict[str, str]]:
    """Task key -> its catalog marker, for the tasks a Dynamic-SUPERB catalog import wrote."""
    found = {}
    for task in tasks:
        marker = imported_from(task.root)
        if marker is not None and marker.get("catalog", "").startswith("dynamic-superb"):
            found[task.key] = marker
    return found


def dynamic_superb_rows(cells: Sequence[Cell], tasks: Sequence[Task]) -> list[dict[str, Any]]:
    """Per model, split and group: mean normalised score over the imported Phase 2 tasks, interval, tasks.

    ``grouping`` is ``category`` (Dynamic-SUPERB's own: classification, regression, text
    generation...) or ``dimension`` (this board's), plus one ``overall`` row per model and split.
    """
    imported = phase2_tasks(tasks)
    mine: dict[str, list[Cell]] = {}
    for c in cells:
        if c.task.key in imported and math.isfinite(c.normalised):
            mine.setdefault(c.model, []).append(c)
    pending: list[tuple[str, str, str, str, float, Any, int]] = []
    for model, model_cells in mine.items():
        for split in SPLITS:
            kept = [c for c in model_cells if keep_split(c, split)]
            if not kept:
                continue
            groups = {
                "category": _groups(kept, lambda c: imported[c.task.key].get("ds_category", "unknown")),
                "dimension": _groups(kept, lambda c: c.task.card.dimension),
            }
            for grouping, by_group in groups.items():
                order = DIMENSIONS if grouping == "dimension" else sorted(by_group)
                for group in (g for g in order if g in by_group):
                    parts = [(c.normalised, c.normalised_reps) for c in by_group[group]]
                    pending.append((model, split, grouping, group, *mean_of(parts), len(parts)))
            everything = [(c.normalised, c.normalised_reps) for c in kept]
            pending.append((model, split, "overall", "all", *mean_of(everything), len(kept)))
    cis = intervals([entry[5] for entry in pending])
    return [
        {
            "model": model,
            "split": split,
            "grouping": grouping,
            "group": group,
            "score": rounded(score, 2),
            "ci_low": rounded(cis[i][0], 2),
            "ci_high": rounded(cis[i][1], 2),
            "tasks": n,
        }
        for i, (model, split, grouping, group, score, _, n) in enumerate(pending)
    ]


def _groups(cells: Sequence[Cell], key: Any) -> dict[str, list[Cell]]:
    out: dict[str, list[Cell]] = {}
    for c in cells:
        out.setdefault(key(c), []).append(c)
    return out
