"""The site's instruction-following views: a page of its own, a table beside the dimensions, a model section.

Rendered from the ``report.following`` tables of a ``Leaderboard``; every string is
escaped. Nothing is shown when no model has a ``--constraints`` run or a native IF task.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from benchmark.report.html import esc as _e
from benchmark.report.html import num as _n
from benchmark.report.tables import Leaderboard

FOLLOWING_DATA = ("following.csv", "following_models.csv", "following_dimensions.csv", "following_families.csv")
PAGE = "following.html"
TEXT_COLUMNS = frozenset({"model", "task", "dimension", "metric", "constraints", "family", "vs"})
"""Columns sorted as text; the others sort by the number their cell starts with (a missing one sorts last)."""
_TAG = re.compile(r"<[^>]*>")

INTRO = (
    "<p>Each test example is run again with the task's constraint sets added to its prompt "
    "(<code>bench run --constraints</code>). <em>IF</em>: the share of prompts whose every constraint was "
    "obeyed (strict: as written; loose: after IFEval's clean-ups), with a 95% bootstrap interval over "
    "examples; <em>per check</em>: the share of single constraints obeyed. <em>Tax</em>: the task score "
    "with constraints minus without, on the same examples (a paired bootstrap interval); <em>joint</em>: "
    "followed and right. <em>Forgetting</em>: (IF &minus; IF of the reference) / IF of the reference, where "
    "the reference is the model's text backbone, or the board's reference system (a cascade: the LLM "
    "reading transcripts). A model's and a dimension's numbers are the means over their tasks; tax and "
    "joint success over accuracy tasks.</p>"
)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A sortable table in the site's markup (``app.js`` sorts by each cell's ``data-sort``: its text)."""
    head = "".join(
        f'<th data-kind="{"text" if h in TEXT_COLUMNS else "num"}" tabindex="0">{_e(h)}</th>' for h in headers
    )
    body = "\n".join(
        "<tr>" + "".join(f'<td data-sort="{_e(_TAG.sub("", c))}">{c}</td>' for c in row) + "</tr>" for row in rows
    )
    return f'<table class="sortable following"><thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>'


def _ci(row: dict[str, Any], col: str) -> str:
    if row[col] is None:
        return "n/a"
    return f'{_n(row[col])} <span class="ci">[{_n(row[col + "_ci_low"])}, {_n(row[col + "_ci_high"])}]</span>'


def _model(name: str, prefix: str) -> str:
    return f'<a href="{prefix}models/{_e(name)}.html">{_e(name)}</a>'


def _reference(row: dict[str, Any]) -> str:
    return '<span class="flag">reference</span>' if row["reference"] else ""


def following_overview(board: Leaderboard) -> str:
    """Beside the index's dimension tables: IF (strict) and tax per model and dimension, and the page link."""
    if not board.following_dimensions:
        return ""
    rows = [
        [_model(r["model"], ""), _e(r["dimension"]), str(r["tasks"]), _ci(r, "if_strict"), _ci(r, "tax")]
        for r in board.following_dimensions
    ]
    return (
        f'<h2>Instruction following by dimension</h2><p>Means over each dimension\'s tasks; see <a href="{PAGE}">'
        "instruction following</a> for the per-model and per-task numbers.</p>"
        + _table(["model", "dimension", "tasks", "IF strict", "tax"], rows)
    )


def _model_rows(rows: Sequence[dict[str, Any]], prefix: str) -> list[list[str]]:
    return [
        [_model(r["model"], prefix) + " " + _reference(r), str(r["tasks"]), _ci(r, "if_strict"), _ci(r, "if_loose")]
        + [_n(r["check_strict"]), _n(r["check_loose"]), _ci(r, "tax"), _n(r["joint_success"])]
        + [_judged(r), _n(r["forgetting"]), _e(r["reference_model"] or "–")]
        for r in rows
    ]


MODEL_HEADERS = ["model", "tasks", "IF strict", "IF loose", "per check strict", "per check loose", "tax", "joint"]
MODEL_HEADERS += ["judged tasks: tax, joint"]


def _judged(r: dict[str, Any]) -> str:
    """Tasks scored by an LLM judge, apart from the rule-scored columns: their tax and joint success."""
    if not r["judged_tasks"]:
        return "–"
    return f"{r['judged_tasks']} task(s): {_ci(r, 'judged_tax')}, {_n(r['judged_joint_success'])}"


def _task_rows(rows: Sequence[dict[str, Any]], prefix: str) -> list[list[str]]:
    return [
        [_model(r["model"], prefix), f'<a href="{prefix}tasks/{_e(r["task"])}.html">{_e(r["task"])}</a>']
        + [_e(r["metric"] + (" (judge)" if r["scored_by"] == "judge" else "")), _e(r["source"])]
        + [_ci(r, "if_strict"), _ci(r, "if_loose"), _n(r["check_strict"])]
        + [
            _n(r["plain_score"]),
            _n(r["constrained_score"]),
            _ci(r, "tax") if r["tax"] is not None else _e(r["tax_note"]),
        ]
        + [_n(r["joint_success"]), _n(r["forgetting"])]
        for r in rows
    ]


FAMILY_HEADERS = ["model", "family", "tasks", "checks", "strict", "loose"]
TASK_HEADERS = ["model", "task", "metric", "constraints", "IF strict", "IF loose", "per check", "plain"]
TASK_HEADERS += ["constrained", "tax", "joint", "forgetting"]


def _family_rows(rows: Sequence[dict[str, Any]], prefix: str) -> list[list[str]]:
    return [
        [_model(r["model"], prefix), _e(r["family"]), str(r["tasks"]), str(r["checks"]), _n(r["strict"])]
        + [_n(r["loose"])]
        for r in rows
        if r["task"] == "all"
    ]


def following_page(board: Leaderboard) -> str:
    """The body of ``following.html``: per model, per dimension, per constraint family and per task."""
    if not board.following_models:
        return "<h1>Instruction following</h1><p>No model has a <code>--constraints</code> run yet.</p>"
    dims = [
        [_model(r["model"], ""), _e(r["dimension"]), str(r["tasks"]), _ci(r, "if_strict"), _ci(r, "if_loose")]
        + [_ci(r, "tax"), _n(r["joint_success"])]
        for r in board.following_dimensions
    ]
    return (
        "<h1>Instruction following</h1>"
        + INTRO
        + "<p>download: "
        + " ".join(f'<a href="data/{name}">{name}</a>' for name in FOLLOWING_DATA)
        + "</p>"
        + "<h2>By model</h2>"
        + _table([*MODEL_HEADERS, "forgetting", "vs"], _model_rows(board.following_models, ""))
        + "<h2>By dimension</h2>"
        + _table(["model", "dimension", "tasks", "IF strict", "IF loose", "tax", "joint"], dims)
        + "<h2>By constraint family</h2><p>Share of checks passed, averaged over tasks.</p>"
        + _table(FAMILY_HEADERS, _family_rows(board.following_families, ""))
        + "<h2>By task</h2>"
        + _table(TASK_HEADERS, _task_rows(board.following, ""))
    )


def following_model_section(board: Leaderboard, model: str) -> str:
    """A model page's section: its summary, per-family and per-task following (empty without such runs)."""
    summary = [r for r in board.following_models if r["model"] == model]
    if not summary:
        return ""
    families = [r for r in board.following_families if r["model"] == model]
    tasks = [r for r in board.following if r["model"] == model]
    return (
        f'<h2>Instruction following</h2><p>See <a href="../{PAGE}">instruction following</a> for how these '
        "numbers are made and how other models compare.</p>"
        + _table([*MODEL_HEADERS, "forgetting", "vs"], _model_rows(summary, "../"))
        + _table(FAMILY_HEADERS, _family_rows(families, "../"))
        + _table(TASK_HEADERS, _task_rows(tasks, "../"))
    )
