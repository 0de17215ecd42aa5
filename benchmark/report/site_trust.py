"""The site's trust sections: audio reliance, control flags, instruction robustness and yes-bias.

Rendered from the ``report.trust`` tables of a ``Leaderboard``; every string is escaped.
A section appears only when its table has rows (nothing is shown for runs never made).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from benchmark.report.html import esc as _e
from benchmark.report.html import num as _n
from benchmark.report.tables import Leaderboard

TRUST_DATA = (
    "controls.csv",
    "control_dimensions.csv",
    "control_models.csv",
    "robustness.csv",
    "robustness_models.csv",
    "yes_bias.csv",
)


def _flag(value: bool) -> str:
    return '<span class="flag">yes</span>' if value else "no"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int) -> str:
    """A sortable table in the site's markup; columns from ``numeric_from`` on sort as numbers."""
    head = "".join(
        f'<th data-kind="{"num" if i >= numeric_from else "text"}" tabindex="0">{_e(h)}</th>'
        for i, h in enumerate(headers)
    )
    body = "\n".join(
        "<tr>" + "".join(f'<td data-sort="{_e(_plain(c))}">{c}</td>' for c in row) + "</tr>" for row in rows
    )
    return f'<table class="sortable trust"><thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>'


def _plain(html: str) -> str:
    """The sort key of a cell: its text without tags."""
    out, depth = [], 0
    for ch in html:
        depth += ch == "<"
        if not depth:
            out.append(ch)
        depth -= ch == ">" and depth > 0
    return "".join(out)


def trust_overview(board: Leaderboard) -> str:
    """The index page's flags: dropped audio, text-only shortcuts, robustness and yes-bias per model."""
    parts = []
    if board.control_models:
        rows = [
            [_e(r["model"]), _e(r["control"]), _n(r["identical"]), _flag(r["dropped_audio"])]
            + [_e(r["text_shortcut_tasks"] or "–"), str(r["examples"])]
            for r in board.control_models
        ]
        parts.append(
            "<h3>Audio-reliance controls</h3><p>The same model with its audio replaced by silence or by another "
            "example's clips. <em>Dropped audio</em>: at least 95% of answers unchanged. <em>Text-only "
            "shortcut</em>: the task is solved above chance without the audio.</p>"
            + _table(["model", "control", "identical outputs", "dropped audio", "shortcut tasks", "examples"], rows, 5)
        )
    if board.robustness_models:
        rows = [
            [_e(r["model"]), str(r["tasks"]), _n(r["mean_normalised"], 1), _n(r["worst_normalised"], 1)]
            + [_n(r["spread_normalised"], 1)]
            for r in board.robustness_models
        ]
        parts.append(
            "<h3>Instruction robustness</h3><p>Normalised scores under every instruction variant, averaged over "
            "tasks: the mean, the worst variant and the spread.</p>"
            + _table(["model", "tasks", "mean", "worst variant", "spread"], rows, 1)
        )
    if board.yes_bias:
        parts.append("<h3>Yes-bias</h3>" + _yes_table(board.yes_bias))
    return "<h2>Trust checks</h2>" + "".join(parts) if parts else ""


def _yes_table(rows: Sequence[dict[str, Any]]) -> str:
    body = [
        [_e(r["model"]), _e(r["task"]), str(r["n"]), _n(r["yes_rate"]), _n(r["label_yes_rate"]), _n(r["yes_bias"])]
        + [_n(r["silence_yes_rate"])]
        for r in rows
    ]
    return '<p>On yes/no tasks: how often the model answers "yes", next to how often "yes" is right.</p>' + _table(
        ["model", "task", "n", "yes rate", "labels yes", "yes bias"], body, 2
    )


def trust_model_sections(board: Leaderboard, model: str) -> str:
    """A model page's sections: reliance by dimension, per-task controls, robustness and yes-bias."""
    parts = []
    dims = [r for r in board.control_dimensions if r["model"] == model]
    if dims:
        rows = [
            [_e(r["control"]), _e(r["dimension"]), _n(r["score"], 1), _n(r["control_score"], 1)]
            + [f"{_n(r['reliance'], 1)} [{_n(r['ci_low'], 1)}, {_n(r['ci_high'], 1)}]"]
            for r in dims
        ]
        tasks = [
            [_e(r["control"]), _e(r["task"]), _n(r["value"]), _n(r["control_value"]), _n(r["identical"])]
            + [_flag(r["text_shortcut"])]
            for r in board.controls
            if r["model"] == model
        ]
        parts.append(
            "<h2>Audio reliance</h2><p>Normalised score minus the control's: how much of the score needs the "
            "audio.</p>"
            + _table(["control", "dimension", "score", "control score", "reliance [95% CI]"], rows, 2)
            + "<p>Per task: the metric with and without the audio, and the share of unchanged answers.</p>"
            + _table(["control", "task", "value", "control value", "identical outputs", "shortcut"], tasks, 2)
        )
    robust = [r for r in board.robustness if r["model"] == model]
    if robust:
        rows = [
            [_e(r["task"]), _e(r["metric"]), str(r["variants"]), _n(r["mean"]), _n(r["worst"]), _n(r["spread"])]
            + [f"#{r['worst_instruction']}"]
            for r in robust
        ]
        parts.append(
            "<h2>Instruction robustness</h2>"
            + _table(["task", "metric", "variants", "mean", "worst", "spread", "worst instruction"], rows, 2)
        )
    yes = [r for r in board.yes_bias if r["model"] == model]
    if yes:
        parts.append("<h2>Yes-bias</h2>" + _yes_table(yes))
    return "".join(parts)


def trust_task_section(board: Leaderboard, task: str) -> str:
    """A task page's section: each model's score without the audio and the text-only shortcut flag."""
    rows = [
        [_link(r["model"]), _e(r["control"]), _n(r["value"]), _n(r["control_value"])]
        + [f"[{_n(r['control_ci_low'])}, {_n(r['control_ci_high'])}]", _n(r["chance"]), _flag(r["text_shortcut"])]
        for r in board.controls
        if r["task"] == task
    ]
    if not rows:
        return ""
    return (
        "<h2>Without the audio</h2><p>Models run with their audio replaced (<code>--control</code>). A model "
        "that beats chance here solves the task from the prompt alone: a text-only shortcut in the task.</p>"
        + _table(["model", "control", "value", "control value", "control 95% CI", "chance", "shortcut"], rows, 2)
    )


def _link(model: str) -> str:
    return f'<a href="../models/{_e(model)}.html">{_e(model)}</a>'
