"""Leaderboard exports: Markdown, CSV and JSON tables written from a ``Leaderboard``."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmark.report.tables import SPLITS, Leaderboard
from benchmark.task.card import DIMENSIONS


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _fmt(x: Any, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}" if isinstance(x, float) else str(x)


def to_markdown(board: Leaderboard) -> str:
    """Dimension tables (one per split) and the per-task table, as Markdown."""
    out = [
        "# Leaderboard",
        "",
        "Normalised scores: 0 is chance (the majority baseline), 1000 the metric's best value; "
        "[95% bootstrap interval].",
        "",
    ]
    dims = [d for d in (*DIMENSIONS, "overall") if any(r["dimension"] == d for r in board.dimensions)]
    for split in SPLITS:
        rows = [r for r in board.dimensions if r["split"] == split]
        if not rows:
            continue
        by_model: dict[str, dict[str, str]] = {}
        for r in rows:
            by_model.setdefault(r["model"], {})[r["dimension"]] = (
                f"{_fmt(r['score'], 1)} [{_fmt(r['ci_low'], 1)}, {_fmt(r['ci_high'], 1)}]"
            )
        body = [[m, *[cells.get(d, "-") for d in dims]] for m, cells in by_model.items()]
        out += [f"## By dimension ({split} tasks)", "", _markdown_table(["model", *dims], body), ""]
    body = [
        [
            r["task"],
            r["dimension"],
            r["model"],
            f"{r['metric']} ({r['direction']} is better)",
            f"{_fmt(r['value'])} [{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]",
            f"{r['n']}/{r['n_test']}",
            _fmt(r["na_rate"]),
            _fmt(r["normalised"], 1),
        ]
        for r in board.tasks
    ]
    out += [
        "## By task",
        "",
        _markdown_table(
            ["task", "dimension", "model", "metric", "value [95% CI]", "n", "N/A rate", "normalised"], body
        ),
        "",
    ]
    return "\n".join(out + trust_markdown(board) + following_markdown(board) + speech_markdown(board))


def _section(title: str, intro: str, header: list[str], rows: list[list[str]]) -> list[str]:
    return [f"## {title}", "", intro, "", _markdown_table(header, rows), ""] if rows else []


def _flag(value: bool) -> str:
    return "**yes**" if value else "no"


def trust_markdown(board: Leaderboard) -> list[str]:
    """The audio-reliance, instruction-robustness and yes-bias sections (empty when nothing was run)."""
    out = _section(
        "Audio reliance",
        "Normalised score minus the score of the same model with its audio replaced (`--control`); "
        "[95% bootstrap interval of the difference]. Dropped audio: answers unchanged on at least 95% of examples.",
        ["model", "control", "dimension", "score", "control score", "reliance [95% CI]"],
        [
            [r["model"], r["control"], r["dimension"], _fmt(r["score"], 1), _fmt(r["control_score"], 1)]
            + [f"{_fmt(r['reliance'], 1)} [{_fmt(r['ci_low'], 1)}, {_fmt(r['ci_high'], 1)}]"]
            for r in board.control_dimensions
        ],
    )
    out += _section(
        "Control flags",
        "Text-only shortcut: the task is solved above chance without the audio (control interval above chance).",
        ["model", "control", "examples", "identical outputs", "dropped audio", "text-only shortcut tasks"],
        [
            [r["model"], r["control"], str(r["examples"]), _fmt(r["identical"])]
            + [_flag(r["dropped_audio"]), r["text_shortcut_tasks"] or "-"]
            for r in board.control_models
        ],
    )
    out += _section(
        "Instruction robustness",
        "The task metric under each instruction variant (`--instructions`): mean, worst variant, spread.",
        ["model", "task", "metric", "variants", "mean", "worst", "spread", "worst normalised"],
        [
            [r["model"], r["task"], r["metric"], str(r["variants"]), _fmt(r["mean"]), _fmt(r["worst"])]
            + [_fmt(r["spread"]), _fmt(r["worst_normalised"], 1)]
            for r in board.robustness
        ],
    )
    out += _section(
        "Robustness by model",
        "Means over tasks of the normalised scores: mean over variants, worst variant, spread.",
        ["model", "tasks", "mean", "worst variant", "spread"],
        [
            [r["model"], str(r["tasks"]), _fmt(r["mean_normalised"], 1), _fmt(r["worst_normalised"], 1)]
            + [_fmt(r["spread_normalised"], 1)]
            for r in board.robustness_models
        ],
    )
    out += _section(
        "Yes-bias",
        "On yes/no tasks: how often the model answers yes, next to how often yes is the right answer "
        "(and, with a `--control silence` run, how often it says yes to audio it cannot hear).",
        ["model", "task", "n", "yes rate", "no rate", "N/A rate", "labels yes", "yes bias", "yes rate on silence"],
        [
            [r["model"], r["task"], str(r["n"]), _fmt(r["yes_rate"]), _fmt(r["no_rate"]), _fmt(r["na_rate"])]
            + [_fmt(r["label_yes_rate"]), _fmt(r["yes_bias"]), _fmt(r["silence_yes_rate"])]
            for r in board.yes_bias
        ],
    )
    return out


def _ci(row: dict[str, Any], col: str, digits: int = 3) -> str:
    return f"{_fmt(row[col], digits)} [{_fmt(row[col + '_ci_low'], digits)}, {_fmt(row[col + '_ci_high'], digits)}]"


def following_markdown(board: Leaderboard) -> list[str]:
    """The instruction-following sections: per model, per dimension and per task (empty without such runs)."""
    out = _section(
        "Instruction following",
        "Prompt-level IF (every constraint obeyed; strict, loose) [95% bootstrap interval over examples]; "
        "tax = task score with constraints minus without, on the same examples (accuracy tasks; paired interval); "
        "joint = followed and right; forgetting = (IF - IF of the reference) / IF of the reference. "
        "Model and dimension rows are means over their tasks.",
        ["model", "reference", "tasks", "IF strict", "IF loose", "tax", "joint", "forgetting", "vs"],
        [
            [r["model"], _flag(r["reference"]), str(r["tasks"]), _ci(r, "if_strict"), _ci(r, "if_loose")]
            + [_ci(r, "tax"), _fmt(r["joint_success"]), _fmt(r["forgetting"]), r["reference_model"] or "-"]
            for r in board.following_models
        ],
    )
    out += _section(
        "Instruction following by dimension",
        "Means over the dimension's tasks.",
        ["model", "dimension", "tasks", "IF strict", "IF loose", "tax", "joint"],
        [
            [r["model"], r["dimension"], str(r["tasks"]), _ci(r, "if_strict"), _fmt(r["if_loose"]), _ci(r, "tax")]
            + [_fmt(r["joint_success"])]
            for r in board.following_dimensions
        ],
    )
    out += _section(
        "Instruction following by task",
        "Plain and constrained scores are per-example means on the examples both runs hold.",
        ["model", "task", "metric", "IF strict", "IF loose", "plain", "constrained", "tax", "joint"],
        [
            [r["model"], r["task"], r["metric"], _ci(r, "if_strict"), _ci(r, "if_loose"), _fmt(r["plain_score"])]
            + [_fmt(r["constrained_score"]), _ci(r, "tax") if r["tax"] is not None else r["tax_note"]]
            + [_fmt(r["joint_success"])]
            for r in board.following
        ],
    )
    return out


def speech_markdown(board: Leaderboard) -> list[str]:
    """The speech-output sections: sanity gates and per model, audio task and metric (empty without audio tasks)."""
    if not board.speech:
        return []
    out = _section(
        "Speech output: sanity gates",
        "Checks of the speech scorers on rows whose answer is known (reference and floor systems).",
        ["gate", "status", "reason"],
        [
            [g["gate"], f"**{g['status']}**" if g["status"] == "fail" else g["status"], g["reason"]]
            for g in board.speech_gates
        ],
    )
    out += _section(
        "Speech output",
        "Audio tasks (not in the dimension means): valid output = share of examples whose clips are all ok; "
        "text channel = share of answers that also hold text. n/a: no run (the model does not answer with audio).",
        ["task", "model", "role", "n", "valid output", "text channel"],
        [
            [r["task"], r["model"], r["role"], f"{r['n']}/{r['n_test']}" if r["n"] else "n/a"]
            + [_fmt(r["valid_rate"]), _fmt(r["text_rate"])]
            for r in board.speech
        ],
    )
    out += _section(
        "Speech output by metric",
        "Raw corpus values [95% bootstrap interval]; best = best of the column among non-reference rows; "
        "text channel = the same metric on the model's written answer (models that return both).",
        ["task", "model", "role", "metric", "value [95% CI]", "best", "text channel"],
        [
            [r["task"], r["model"], r["role"], f"{r['metric']} ({r['direction']})"]
            + [f"{_fmt(r['value'])} [{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]", _flag(r["best"])]
            + [_fmt(r.get("text_value"))]
            for r in board.speech_metrics
        ],
    )
    return out


def _csv_column(values: list[Any]) -> list[str]:
    """Cells of one CSV column, written as pandas writes them (an int column with gaps is written as floats)."""
    kinds = set(map(type, values))
    if kinds <= {str, bool} or kinds == {int}:
        return [str(v) for v in values]  # the common columns, decided without looking at each value twice
    if kinds == {float}:
        return [repr(v) if v == v else "" for v in values]  # NaN is the only float unequal to itself
    present = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    numeric = [v for v in present if isinstance(v, (int, float)) and not isinstance(v, bool)]
    as_float = (
        bool(numeric)
        and len(numeric) == len(present)
        and (len(present) < len(values) or any(isinstance(v, float) for v in numeric))
    )
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out.append("")
        elif as_float:
            out.append(repr(float(v)))
        else:
            out.append(str(v))
    return out


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """Rows as CSV: columns in order of first appearance, missing cells empty (no pandas: it costs a second)."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    cells = [_csv_column([row.get(c) for row in rows]) for c in columns]
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)  # an empty table is one empty line, as pandas wrote it
        writer.writerows(zip(*cells, strict=True))


_SCALARS = (str, int, float, bool, type(None))


def _row_json(row: dict[str, Any], encode: Callable[[Any], str]) -> str:
    """One row as ``json.dumps(indent=2, sort_keys=True)`` writes it two levels deep."""
    if all(isinstance(v, _SCALARS) for v in row.values()):
        if not row:
            return "{}"
        # A flat row: the C encoder with the indented item separator writes the same text, much faster.
        return "{\n      " + encode(row)[1:-1] + "\n    }"
    return json.dumps(row, indent=2, sort_keys=True).replace("\n", "\n    ")


def tables_json(tables: dict[str, list[dict[str, Any]]]) -> str:
    """The text ``json.dumps(tables, indent=2, sort_keys=True)`` gives, without its pure-Python encoder."""
    encode = json.JSONEncoder(sort_keys=True, separators=(",\n      ", ": ")).encode
    parts = []
    for name in sorted(tables):
        rows = tables[name]
        body = ",\n    ".join(_row_json(row, encode) for row in rows)
        parts.append(f"  {json.dumps(name)}: " + (f"[\n    {body}\n  ]" if rows else "[]"))
    return "{\n" + ",\n".join(parts) + "\n}" if parts else "{}"


def write_tables(board: Leaderboard, out: Path) -> list[Path]:
    """Write tasks/dimensions as CSV, everything as JSON, and a Markdown page, under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    tables = board.tables()
    tables["models"] = [
        {k: json.dumps(v) if k in ("adapter_args", "trained_on") else v for k, v in row.items()} for row in board.models
    ]
    for name, rows in tables.items():
        path = out / f"{name}.csv"
        write_csv(rows, path)
        written.append(path)
    path = out / "leaderboard.json"
    path.write_text(tables_json(board.tables()) + "\n", encoding="utf-8")
    written.append(path)
    path = out / "leaderboard.md"
    path.write_text(to_markdown(board), encoding="utf-8")
    written.append(path)
    return written
