"""The site's Dynamic-SUPERB view: the imported Phase 2 tasks, by Dynamic-SUPERB's category and by dimension.

Rendered from ``Leaderboard.dynamic_superb`` (``report.dynamic_superb``); every string is
escaped. Nothing is shown when no task was imported from the Dynamic-SUPERB catalog.
"""

from __future__ import annotations

from typing import Any

from benchmark.report.html import esc as _e
from benchmark.report.html import num as _n
from benchmark.report.tables import Leaderboard

DS_DATA = ("dynamic_superb.csv",)
DS_PAGE = "dynamic-superb.html"


def _score(row: dict[str, Any]) -> str:
    if row["score"] is None:
        return "n/a"
    return f'{_n(row["score"])} <span class="ci">[{_n(row["ci_low"])}, {_n(row["ci_high"])}]</span>'


def _table(rows: list[dict[str, Any]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in ("model", "group", "tasks", "score [95% CI]"))
    body = "\n".join(
        f'<tr><td><a href="models/{_e(r["model"])}.html">{_e(r["model"])}</a></td><td>{_e(r["group"])}</td>'
        f"<td>{r['tasks']}</td><td>{_score(r)}</td></tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>"


def dynamic_superb_link(board: Leaderboard) -> str:
    """A line on the index pointing to the view (empty without imported Phase 2 tasks)."""
    if not board.dynamic_superb:
        return ""
    return f'<p>Only the imported Dynamic-SUPERB Phase 2 tasks: <a href="{DS_PAGE}">the Dynamic-SUPERB view</a>.</p>'


def dynamic_superb_page(board: Leaderboard) -> str:
    """The page: per model, the mean normalised score over the imported tasks of each group (all tasks)."""
    rows = [r for r in board.dynamic_superb if r["split"] == "all"]
    sections = []
    for grouping, title in (("overall", "All imported tasks"), ("category", "By Dynamic-SUPERB category"),
                            ("dimension", "By dimension")):  # fmt: skip
        mine = [r for r in rows if r["grouping"] == grouping]
        if mine:
            sections.append(f"<h2>{title}</h2>\n{_table(mine)}")
    intro = (
        "<p>The tasks imported with <code>bench import-hf --catalog dynamic-superb-phase2</code>, and only "
        "those: each score is the mean normalised score (0 at chance, 1000 at the metric's best) of the "
        "group's tasks, with a 95% bootstrap interval. Seen and unseen splits are in "
        '<a href="data/dynamic_superb.csv">dynamic_superb.csv</a>.</p>'
    )
    return intro + "\n".join(sections)
