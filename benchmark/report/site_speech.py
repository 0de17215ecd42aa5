"""The site's speech-output page: one section per audio task, the sanity gates, and the index's link to it.

Rendered from the ``report.speech`` tables of a ``Leaderboard``; every string is
escaped. Nothing is shown (and no page written) when the board has no audio task.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from benchmark.report.html import esc as _e
from benchmark.report.html import num as _n
from benchmark.report.tables import Leaderboard

SPEECH_DATA = ("speech.csv", "speech_metrics.csv", "speech_gates.csv")
SPEECH_PAGE = "speech.html"
_TAG = re.compile(r"<[^>]*>")
_DIRECTION = {"higher": "higher is better", "lower": "lower is better", "target": "|value - target|, lower is better"}

INTRO = (
    "<p>Tasks whose answer is audio. Every reported metric is shown raw (no chance level, no normalisation: "
    "MOS on its 1&ndash;5 scale, SI-SDR in dB, WER pooled over reference words), with a 95% bootstrap "
    "interval over examples; the best value of each column among the non-reference rows is in bold. "
    "<em>valid output</em>: the share of examples whose every clip was usable audio (status ok); "
    "<em>text channel</em>: the share of answers that also hold text (a value marked <em>text</em> beside a WER, CER "
    "or answer accuracy is the same metric on that written answer). <em>reference</em> rows answer with the "
    "task's own reference audio (a ceiling that checks the scorers), <em>floor</em> rows with silence or the "
    "input unchanged. A model that cannot answer with audio has no run: n/a, never 0. These tasks are not part "
    "of the normalised dimension means on the main page.</p>"
)


def _table(headers: Sequence[tuple[str, str]], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f'<th data-kind="{kind}" tabindex="0">{_e(h)}</th>' for h, kind in headers)
    body = "\n".join(
        "<tr>" + "".join(f'<td data-sort="{_e(html.unescape(_TAG.sub("", c)))}">{c}</td>' for c in row) + "</tr>"
        for row in rows
    )
    return f'<table class="sortable speech"><thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>'


def _model(row: dict[str, Any], prefix: str) -> str:
    flag = f' <span class="flag">{_e(row["role"])}</span>' if row["role"] != "model" else ""
    return f'<a href="{prefix}models/{_e(row["model"])}.html">{_e(row["model"])}</a>{flag}'


def _value(row: dict[str, Any] | None) -> str:
    if row is None or row["value"] is None:
        return "n/a"
    text = f'{_n(row["value"])} <span class="ci">[{_n(row["ci_low"])}, {_n(row["ci_high"])}]</span>'
    text = f"<b>{text}</b>" if row["best"] else text
    if row.get("text_value") is not None:  # a model that also writes: the same metric on its text, side by side
        text += f' <span class="ci">text {_n(row["text_value"])}</span>'
    return text


def _gates(board: Leaderboard) -> str:
    rows = [[_e(g["gate"]), _e(g["status"]), _e(g["claim"]), _e(g["reason"])] for g in board.speech_gates]
    return "<h2>Sanity gates</h2>" + _table(
        [("gate", "text"), ("status", "text"), ("claim", "text"), ("reason", "text")], rows
    )


def _task_section(board: Leaderboard, task: str, prefix: str) -> str:
    rows = [r for r in board.speech if r["task"] == task]
    metrics = {(m["model"], m["metric"]): m for m in board.speech_metrics if m["task"] == task}
    names = list(dict.fromkeys(m["metric"] for m in board.speech_metrics if m["task"] == task))
    directions = {m["metric"]: m["direction"] for m in board.speech_metrics if m["task"] == task}
    body = []
    for r in rows:
        if r["n"] == 0:
            body.append([_model(r, prefix), "n/a", "n/a", "n/a", *(["n/a"] * len(names))])
            continue
        body.append(
            [_model(r, prefix), f"{r['n']}/{r['n_test']}", _n(r["valid_rate"]), _n(r["text_rate"])]
            + [_value(metrics.get((r["model"], name))) for name in names]
        )
    legend = "; ".join(f"{_e(n)}: {_e(_DIRECTION.get(directions[n], directions[n]))}" for n in names)
    headers = [("model", "text"), ("n", "num"), ("valid output", "num"), ("text channel", "num")]
    return (
        f'<h2><a href="{prefix}tasks/{_e(task)}.html">{_e(task)}</a></h2>'
        + (f"<p>{legend}</p>" if legend else "")
        + _table(headers + [(n, "num") for n in names], body)
    )


def speech_page(board: Leaderboard) -> str:
    """The body of ``speech.html``: the gates, then one section per audio task."""
    tasks = list(dict.fromkeys(r["task"] for r in board.speech))
    return (
        "<h1>Speech output</h1>"
        + INTRO
        + "<p>download: "
        + " ".join(f'<a href="data/{name}">{name}</a>' for name in SPEECH_DATA)
        + "</p>"
        + _gates(board)
        + "".join(_task_section(board, task, "") for task in tasks)
    )


def speech_link(board: Leaderboard) -> str:
    """For the index: audio tasks are left out of the dimension means; where they are shown instead."""
    if not board.speech:
        return ""
    tasks = ", ".join(_e(t) for t in dict.fromkeys(r["task"] for r in board.speech))
    failed = [g["gate"] for g in board.speech_gates if g["status"] == "fail"]
    warning = f" <b>Failed sanity gates: {_e(', '.join(failed))}.</b>" if failed else ""
    return (
        f"<h2>Speech output</h2><p>Audio tasks ({tasks}) are not part of the dimension means above: their "
        f'metrics have no chance level and scales of their own. See <a href="{SPEECH_PAGE}">speech output</a> '
        f"for their raw numbers and the sanity gates.{warning}</p>"
    )


def speech_task_section(board: Leaderboard, task: str) -> str:
    """An audio task's page: its speech-board section (empty for other tasks)."""
    if not any(r["task"] == task for r in board.speech):
        return ""
    return (
        f'<h2>Speech output</h2><p>Every reported metric, raw; see <a href="../{SPEECH_PAGE}">speech output</a>.</p>'
        + _task_section(board, task, "../").replace("<h2>", "<h3>").replace("</h2>", "</h3>")
    )


def speech_model_section(board: Leaderboard, model: str) -> str:
    """A model page's section: its row on every audio task (n/a where it has no run; empty without audio tasks)."""
    rows = [r for r in board.speech if r["model"] == model]
    if not rows:
        return ""
    metrics: dict[str, list[str]] = {}
    for m in board.speech_metrics:
        if m["model"] == model:
            metrics.setdefault(m["task"], []).append(f"{_e(m['metric'])} {_value(m)}")
    body = [
        [f'<a href="../tasks/{_e(r["task"])}.html">{_e(r["task"])}</a>']
        + (
            [f"{r['n']}/{r['n_test']}", _n(r["valid_rate"]), _n(r["text_rate"]), "; ".join(metrics.get(r["task"], []))]
            if r["n"]
            else ["n/a", "n/a", "n/a", "n/a (no run: the model does not answer with audio)"]
        )
        for r in rows
    ]
    headers = [("task", "text"), ("n", "num"), ("valid output", "num"), ("text channel", "num"), ("metrics", "text")]
    return (
        f'<h2>Speech output</h2><p>Audio tasks, every reported metric raw; see <a href="../{SPEECH_PAGE}">speech '
        "output</a>.</p>" + _table(headers, body)
    )
