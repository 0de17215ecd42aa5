"""The static leaderboard website: plain HTML, one CSS and one script file, inline SVG charts.

No server, CDN or network: the pages link each other and their assets by relative
paths, so the folder works from ``file://`` and on any static host. Everything is
built from the leaderboard tables (recomputed from ``submissions/``) and the task
folders; building twice from the same input writes identical files.

Submissions are untrusted: every string goes through ``html.escape`` and only
http(s) links become hyperlinks.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from benchmark.report.html import esc as _e
from benchmark.report.html import num as _num
from benchmark.report.site_dynamic_superb import DS_DATA, DS_PAGE, dynamic_superb_link, dynamic_superb_page
from benchmark.report.site_following import (
    FOLLOWING_DATA,
    PAGE,
    following_model_section,
    following_overview,
    following_page,
)
from benchmark.report.site_speech import (
    SPEECH_DATA,
    SPEECH_PAGE,
    speech_link,
    speech_model_section,
    speech_page,
    speech_task_section,
)
from benchmark.report.site_trust import TRUST_DATA, trust_model_sections, trust_overview, trust_task_section
from benchmark.report.tables import SPLITS, Leaderboard
from benchmark.scoring.metrics import METRICS
from benchmark.task.card import DIMENSIONS
from benchmark.task.folder import Task

ASSETS = Path(__file__).parent / "site_assets"
EMBED_AUDIO_BYTES = 200_000
TIER_COLOURS = {  # every resolution tier (a test checks): an answer's tier is always drawn
    "exact": "#1b7837",
    "normalised": "#5aae61",
    "option": "#7fbc41",
    "final": "#b8e186",
    "leading": "#d9f0a3",
    "mention": "#a6dba0",
    "lexicon": "#e7d4e8",
    "semantic": "#c2a5cf",
    "judge": "#9970ab",
    "number": "#4393c3",
    "text": "#92c5de",
    "audio": "#2166ac",
    "na": "#d6604d",
}


def _plain(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def _sort_key(value: Any) -> str:
    return "" if value is None else str(value)


def _page(title: str, body: str, depth: int) -> str:
    up = "../" * depth
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<link rel="stylesheet" href="{up}assets/style.css">
</head>
<body>
<header><a class="home" href="{up}index.html">Speech benchmark leaderboard</a></header>
<main>
{body}
</main>
<script src="{up}assets/app.js"></script>
</body>
</html>
"""


def _table(
    headers: Sequence[tuple[str, str]], rows: Iterable[Sequence[tuple[str, str]]], cls: str = "", attrs: str = ""
) -> str:
    """A sortable table; each cell is (html, sort value) and each header (label, kind: num or text)."""
    head = "".join(f'<th data-kind="{kind}" tabindex="0">{_e(label)}</th>' for label, kind in headers)
    body = "\n".join(
        "<tr>" + "".join(f'<td data-sort="{_e(key)}">{cell}</td>' for cell, key in row) + "</tr>" for row in rows
    )
    return f'<table class="sortable {cls}" {attrs}><thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>'


def _link(href: str) -> str:
    return f'<a href="{_e(href)}">{_e(href)}</a>' if href.startswith(("https://", "http://")) else _e(href)


# ---------------------------------------------------------------- charts (inline SVG, no script needed)


def bar_chart(
    items: Sequence[tuple[str, float | None]],
    *,
    lo: float | None = None,
    hi: float | None = None,
    title: str = "",
    width: int = 520,
    digits: int = 1,
) -> str:
    """Horizontal bars with a zero line, values printed with ``digits`` decimals; None is an empty row."""
    values = [v for _, v in items if v is not None and math.isfinite(v)]
    lo = min([0.0, *values]) if lo is None else lo
    hi = max([1.0, *values]) if hi is None else hi
    row, label_w, pad = 22, 130, 8
    plot_w = width - label_w - 60
    height = row * len(items) + 2 * pad + 18

    def x(v: float) -> float:
        return label_w + (v - lo) / (hi - lo) * plot_w if hi > lo else label_w

    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{_e(title)}</title>'
    ]
    for i, (label, v) in enumerate(items):
        y = pad + i * row
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{_e(label)}</text>')
        if v is None or not math.isfinite(v):
            parts.append(f'<text x="{label_w + 4}" y="{y + 15}" class="muted">no result</text>')
            continue
        x0, x1 = sorted((x(0.0), x(v)))
        colour = "#2166ac" if v >= 0 else "#b2182b"
        parts.append(
            f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(x1 - x0, 1):.1f}" height="{row - 6}" '
            f'fill="{colour}"><title>{_e(label)}: {v:.3f}</title></rect>'
        )
        parts.append(f'<text x="{x1 + 4:.1f}" y="{y + 15}">{v:.{digits}f}</text>')
    zero = x(0.0)
    parts.append(f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{pad}" y2="{height - 18}" stroke="#444"/>')
    parts.append(
        f'<text x="{label_w}" y="{height - 4}" class="muted">{lo:g}</text>'
        f'<text x="{label_w + plot_w}" y="{height - 4}" text-anchor="end" class="muted">{hi:g}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def tier_bar(tiers: dict[str, int], width: int = 160) -> str:
    """A stacked bar of answer-resolution tiers, with the counts in its tooltip and legend."""
    total = sum(tiers.values()) or 1
    x, parts = 0.0, []
    for tier, colour in TIER_COLOURS.items():
        n = tiers.get(tier, 0)
        if n:
            w = width * n / total
            parts.append(
                f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="12" fill="{colour}"><title>{tier}: {n}</title></rect>'
            )
            x += w
    text = ", ".join(f"{t} {tiers[t]}" for t in TIER_COLOURS if tiers.get(t))
    return (
        f'<svg class="tiers" viewBox="0 0 {width} 12" width="{width}" height="12" preserveAspectRatio="none" '
        f'role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{_e(text)}</title>{"".join(parts)}</svg> '
        f'<span class="muted small">{_e(text)}</span>'
    )


@functools.lru_cache(maxsize=4096)
def _tier_cell(tiers_json: str) -> tuple[str, str]:
    """The tier bar and N/A count of a task-table ``tiers`` value (a few distinct values repeat across many cells)."""
    tiers = json.loads(tiers_json)
    return tier_bar(tiers), str(tiers.get("na", 0))


# ---------------------------------------------------------------- pages


REFERENCE_TAG = (
    ' <span class="tag" title="a reference system: it reads what a model never gets (oracle transcripts or the'
    ' reference audio); a yardstick, not an entry">reference</span>'
)


def _model_link(name: str, protocol: str, prefix: str = "", reference: bool = False) -> str:
    """A model's name linking to its page, tagged by its protocol (ranking labels) and as a reference system."""
    tag = f' <span class="tag" title="answer=rank: the most likely label, not free text">{_e(protocol)}</span>'
    link = f'<a href="{prefix}models/{_e(name)}.html">{_e(name)}</a>' + (tag if protocol.startswith("rank") else "")
    return link + (REFERENCE_TAG if reference else "")


def _overview(board: Leaderboard, tasks: Sequence[Task]) -> str:
    protocols = {m["name"]: m.get("protocol", "generate") for m in board.models}
    references = {m["name"] for m in board.models if m.get("reference_system")}
    dims = [d for d in DIMENSIONS if any(r["dimension"] == d for r in board.dimensions)]
    tables = []
    for split in SPLITS:
        cells: dict[str, dict[str, dict[str, Any]]] = {}
        for r in board.dimensions:
            if r["split"] == split:
                cells.setdefault(r["model"], {})[r["dimension"]] = r
        rows = []
        for model in sorted(cells):
            row = [(_model_link(model, protocols.get(model, "generate"), reference=model in references), model)]
            for dim in [*dims, "overall"]:
                c = cells[model].get(dim)
                if c is None:
                    row.append(("–", ""))
                else:
                    row.append(
                        (
                            f'<span class="score">{_num(c["score"], 1)}</span> '
                            f'<span class="ci">[{_num(c["ci_low"], 1)}, {_num(c["ci_high"], 1)}]</span>',
                            _sort_key(c["score"]),
                        )
                    )
            rows.append(row)
        headers = [("model", "text"), *[(d, "num") for d in dims], ("overall", "num")]
        hidden = "" if split == "all" else " hidden"
        table = (
            _table(headers, rows, cls="overview", attrs=f'data-split="{split}"')
            if rows
            else (f'<p class="empty" data-split="{split}">No {split} tasks for any model.</p>')
        )
        tables.append(f'<div class="split-view" data-split="{split}"{hidden}>{table}</div>')
    switch = "".join(
        f'<label><input type="radio" name="split" value="{s}"{" checked" if s == "all" else ""}> {s}</label>'
        for s in SPLITS
    )
    task_rows = []
    for t in sorted(tasks, key=lambda t: (t.card.dimension, t.name)):
        spec = METRICS[t.card.metric]
        n_models = len(board.task_rows_by("task").get(t.name, []))
        task_rows.append(
            [
                (f'<a href="tasks/{_e(t.name)}.html">{_e(t.name)}</a>', t.name),
                (_e(t.card.dimension), t.card.dimension),
                (_e(t.card.task_type), t.card.task_type),
                (f"{_e(spec.name)} ({'higher' if spec.higher_is_better else 'lower'} is better)", spec.name),
                (str(len(t.split("test"))), str(len(t.split("test")))),
                (str(n_models), str(n_models)),
            ]
        )
    tasks_table = _table(
        [
            ("task", "text"),
            ("dimension", "text"),
            ("type", "text"),
            ("metric", "text"),
            ("test examples", "num"),
            ("models", "num"),
        ],
        task_rows,
        cls="tasks",
    )
    return f"""<h1>Leaderboard</h1>
<p>Normalised scores per dimension: 0 is chance (the majority baseline on the same examples), 1000 the
metric's best value; brackets give 95% bootstrap intervals. The overall score is the mean of the dimension
scores. A task is <em>seen</em> by a model when the model's <code>trained_on</code> lists it.</p>
<div class="controls">
<fieldset class="split-switch"><legend>tasks</legend>{switch}</fieldset>
<label class="filter">filter <input type="search" id="filter" placeholder="model name"></label>
<span class="downloads">download: <a href="data/leaderboard.json">leaderboard.json</a>
<a href="data/dimensions.csv">dimensions.csv</a> <a href="data/tasks.csv">tasks.csv</a>
<a href="data/models.csv">models.csv</a></span>
</div>
{"".join(tables)}
{following_overview(board)}
{dynamic_superb_link(board)}{speech_link(board)}
<h2>Tasks</h2>
{tasks_table}
{trust_overview(board)}
"""


def _audio_tag(path: Path) -> str:
    if not path.exists() or path.stat().st_size > EMBED_AUDIO_BYTES:
        return ""
    mime = "audio/flac" if path.suffix.lower() == ".flac" else "audio/wav"
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<audio controls preload="none" src="data:{mime};base64,{data}"></audio>'


def _task_page(task: Task, rows: list[dict[str, Any]]) -> str:
    card, spec = task.card, METRICS[task.card.metric]
    example = (task.split("test") or list(task.examples))[0]
    clips = "".join(
        f"<div>{_e(p.relative_to(task.root).as_posix())} {_audio_tag(p)}</div>" for p in task.audio_files(example)
    )
    table_rows = []
    for r in sorted(rows, key=lambda r: r["model"]):
        bar, na = _tier_cell(r["tiers"])
        table_rows.append(
            [
                (_model_link(r["model"], r.get("protocol", "generate"), "../"), r["model"]),
                (
                    f"n/a ({_e(r['note'])})" if r.get("note") and r["value"] is None else _num(r["value"]),
                    _sort_key(r["value"]),
                ),
                (f"[{_num(r['ci_low'])}, {_num(r['ci_high'])}]", _sort_key(r["ci_low"])),
                (f"{r['n']}/{r['n_test']}", str(r["n"])),
                (_num(r["na_rate"]), _sort_key(r["na_rate"])),
                (_num(r["normalised"], 1), _sort_key(r["normalised"])),
                (bar, na),
            ]
        )
    results = (
        _table(
            [
                ("model", "text"),
                (spec.name, "num"),
                ("95% CI", "num"),
                ("n", "num"),
                ("N/A rate", "num"),
                ("normalised", "num"),
                ("answer resolution", "num"),
            ],
            table_rows,
            cls="results",
        )
        if table_rows
        else "<p>No model has results on this version of the task yet.</p>"
    )
    labels = f"<p><b>labels:</b> {', '.join(_e(x) for x in card.labels)}</p>" if card.labels else ""
    instructions = "".join(f"<li>{_e(i)}</li>" for i in card.instructions)
    return f"""<h1>{_e(card.name)} <span class="muted">v{_e(card.version)}</span></h1>
<p>{_e(card.description)}</p>
<dl class="facts">
<dt>dimension</dt><dd>{_e(card.dimension)}</dd>
<dt>task type</dt><dd>{_e(card.task_type)}</dd>
<dt>metric</dt><dd>{_e(spec.name)} ({"higher" if spec.higher_is_better else "lower"} is better; best {spec.best:g})</dd>
<dt>examples</dt><dd>{len(task.split("train"))} train, {len(task.split("test"))} test</dd>
<dt>languages</dt><dd>{_e(", ".join(card.languages) or "none (non-speech audio)")}</dd>
<dt>licence</dt><dd>{_e(card.license)}</dd>
<dt>source</dt><dd>{_e(card.source.dataset)} {_link(card.source.url)} {_e(card.source.notes)}</dd>
</dl>
{labels}
<h2>Instructions</h2>
<ol>{instructions}</ol>
<h2>Example</h2>
<p><b>instruction:</b> {_e(task.instruction_for(example))}<br><b>label:</b> {_e(example.label)}</p>
{clips}
<h2>Results</h2>
{results}
"""


def _model_page(card: dict[str, Any], board: Leaderboard, layers: dict[str, list[float]]) -> str:
    name = card["name"]
    dims = {r["dimension"]: r["score"] for r in board.dimensions if r["model"] == name and r["split"] == "all"}
    present = [d for d in (*DIMENSIONS, "overall") if d in dims]
    chart = (
        bar_chart(
            [(d, dims[d]) for d in present],
            lo=min([0.0, *[dims[d] or 0 for d in present]]),
            hi=max([1000.0, *[dims[d] or 0 for d in present]]),
            title=f"{name}: normalised score by dimension",
        )
        if present
        else "<p>No results yet.</p>"
    )
    rows = []
    for r in sorted(board.task_rows_by("model").get(name, []), key=lambda r: (r["dimension"], r["task"])):
        rows.append(
            [
                (f'<a href="../tasks/{_e(r["task"])}.html">{_e(r["task"])}</a>', r["task"]),
                (_e(r["dimension"]), r["dimension"]),
                (_e(r["metric"]), r["metric"]),
                (
                    f"n/a ({_e(r['note'])})" if r.get("note") and r["value"] is None else _num(r["value"]),
                    _sort_key(r["value"]),
                ),
                (f"[{_num(r['ci_low'])}, {_num(r['ci_high'])}]", _sort_key(r["ci_low"])),
                (f"{r['n']}/{r['n_test']}", str(r["n"])),
                (_num(r["na_rate"]), _sort_key(r["na_rate"])),
                (_num(r["normalised"], 1), _sort_key(r["normalised"])),
                ("yes" if r["seen"] else "no", str(r["seen"])),
            ]
        )
    table = _table(
        [
            ("task", "text"),
            ("dimension", "text"),
            ("metric", "text"),
            ("value", "num"),
            ("95% CI", "num"),
            ("n", "num"),
            ("N/A rate", "num"),
            ("normalised", "num"),
            ("seen", "text"),
        ],
        rows,
        cls="results",
    )
    facts = "".join(
        f"<dt>{_e(k)}</dt><dd>{_link(v) if k == 'link' else _e(_plain(v))}</dd>"
        for k, v in card.items()
        if v not in (None, "", [], {})
    )
    layer_charts = "".join(
        f"<h3>{_e(task)}</h3>"
        + bar_chart(
            [(f"layer {i}", w) for i, w in enumerate(weights)],
            lo=0.0,
            hi=max([*weights, 1e-9]),
            title=f"{task} layer weights",
            digits=3,
        )
        for task, weights in sorted(layers.items())
    )
    layer_section = (
        f"<h2>Learned layer weights</h2><p>Softmax weights of the probe's featurizer.</p>{layer_charts}"
        if layers
        else ""
    )
    return f"""<h1>{_e(name)}</h1>
<dl class="facts">{facts}</dl>
<h2>Scores by dimension</h2>
{chart}
<h2>Tasks</h2>
{table}
{trust_model_sections(board, name)}
{following_model_section(board, name)}
{speech_model_section(board, name)}
{layer_section}
"""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")


def _board_pages(board: Leaderboard, out: Path) -> dict[Path, str]:
    """The pages of the boards beside the main one, each written only when it has rows."""
    pages = {}
    if board.following_models:
        pages[out / PAGE] = _page("Instruction following", following_page(board), 0)
    if board.speech:
        pages[out / SPEECH_PAGE] = _page("Speech output", speech_page(board), 0)
    if board.dynamic_superb:
        pages[out / DS_PAGE] = _page("Dynamic-SUPERB Phase 2", dynamic_superb_page(board), 0)
    return pages


def build_site(
    board: Leaderboard,
    tasks: Sequence[Task],
    out: Path,
    tables_dir: Path,
    layer_weights: dict[str, dict[str, list[float]]] | None = None,
) -> list[Path]:
    """Write the whole site under ``out`` (replacing it); ``tables_dir`` holds the exported tables."""
    if out.exists():
        shutil.rmtree(out)
    layer_weights = layer_weights or {}
    pages: dict[Path, str] = {out / "index.html": _page("Speech benchmark leaderboard", _overview(board, tasks), 0)}
    for task in tasks:
        rows = board.task_rows_by("task").get(task.name, [])
        body = _task_page(task, rows) + trust_task_section(board, task.name) + speech_task_section(board, task.name)
        pages[out / "tasks" / f"{task.name}.html"] = _page(f"{task.name} – task", body, 1)
    pages.update(_board_pages(board, out))
    for card in board.models:
        body = _model_page(card, board, layer_weights.get(card["name"], {}))
        pages[out / "models" / f"{card['name']}.html"] = _page(f"{card['name']} – model", body, 1)
    for path, text in pages.items():
        _write(path, text)
    for asset in sorted(ASSETS.iterdir()):
        _write(out / "assets" / asset.name, asset.read_text(encoding="utf-8"))
    (out / "data").mkdir(parents=True, exist_ok=True)
    exported = (
        "leaderboard.json",
        "tasks.csv",
        "dimensions.csv",
        "models.csv",
        *TRUST_DATA,
        *FOLLOWING_DATA,
        *DS_DATA,
        *SPEECH_DATA,
    )
    for name in exported:
        if (tables_dir / name).exists():
            shutil.copyfile(tables_dir / name, out / "data" / name)
    return sorted(p for p in out.rglob("*") if p.is_file())
