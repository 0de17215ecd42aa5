"""Tables that say how far a score can be trusted: audio reliance, instruction robustness, yes-bias.

All of them are recomputed from records, like every other table:

- **Audio reliance** (``bench run --control silence|shuffled``): per model, control
  and dimension, the normalised score minus the control's (how much of the score
  needs the audio). A model whose outputs stay the same when the audio changes
  (``DROPPED_AUDIO`` or more of its answers identical) is flagged: the audio most
  likely never reached it. A task where a model beats chance without its audio
  (the lower end of the control cell's 95% bootstrap interval of the normalised
  score is above 0) is flagged as a text-only shortcut.
- **Instruction robustness** (``--instructions``): per model and task, the metric
  under each instruction variant: mean, worst variant and spread; per model the
  means of those in normalised scores.
- **Yes-bias**: on tasks whose labels are exactly yes and no, how often a model
  answers yes next to how often yes is right.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.report.dynamic_superb import dynamic_superb_rows
from benchmark.report.following import attach_following
from benchmark.report.speech import attach_speech
from benchmark.report.tables import (
    RESAMPLES,
    Cell,
    Leaderboard,
    Submission,
    build_tables,
    chance_of,
    collect_cells,
    current_records,
    load_submissions,
    rounded,
)
from benchmark.scoring.aggregate import bootstrap_ci, normalised_score
from benchmark.scoring.metrics import METRICS, scored_set
from benchmark.submission.records import Record
from benchmark.task.card import DIMENSIONS
from benchmark.task.folder import Task

DROPPED_AUDIO = 0.95
"""Share of identical outputs under a control from which a model is flagged for a dropped-audio bug."""
CONTROL_VARIANTS = {"control-silence": "silence", "control-shuffled": "shuffled"}


@dataclass
class _Pair:
    """A main cell and the same model's control cell on one task."""

    control: str
    main: Cell
    ctrl: Cell
    identical: int
    shared: int


def _outputs(sub: Submission, task: Task) -> dict[str, str]:
    return {r.id: r.output for r in current_records(sub.folder, task)}


def _pairs(
    mains: dict[str, Submission], derived: Sequence[Submission], tasks: Sequence[Task], resamples: int
) -> list[_Pair]:
    pairs = []
    for sub in derived:
        control = CONTROL_VARIANTS.get(sub.card.variant or "")
        main = mains.get(sub.card.base or "")
        if control is None or main is None:
            continue
        main_cells = {c.task.key: c for c in collect_cells([main], tasks, resamples)}
        for ctrl in collect_cells([sub], tasks, resamples):
            cell = main_cells.get(ctrl.task.key)
            if cell is None:
                continue
            a, b = _outputs(main, ctrl.task), _outputs(sub, ctrl.task)
            shared = set(a) & set(b)
            same = sum(a[i].strip() == b[i].strip() for i in shared)
            pairs.append(_Pair(control, cell, ctrl, same, len(shared)))
    return pairs


def _shortcut(ctrl: Cell) -> bool:
    lo, _ = bootstrap_ci(ctrl.normalised_reps)
    return math.isfinite(lo) and lo > 0


def control_task_rows(pairs: Sequence[_Pair]) -> list[dict[str, Any]]:
    """Per model, control and task: score with and without the audio, identical outputs, the shortcut flag."""
    rows = []
    for p in sorted(pairs, key=lambda p: (p.main.model, p.control, p.main.task.card.dimension, p.main.task.name)):
        lo, hi = p.ctrl.ci
        rows.append(
            {
                "model": p.main.model,
                "control": p.control,
                "task": p.main.task.name,
                "dimension": p.main.task.card.dimension,
                "metric": p.main.task.card.metric,
                "value": rounded(p.main.value),
                "control_value": rounded(p.ctrl.value),
                "control_ci_low": rounded(lo),
                "control_ci_high": rounded(hi),
                "chance": rounded(p.ctrl.chance),
                "normalised": rounded(p.main.normalised, 2),
                "control_normalised": rounded(p.ctrl.normalised, 2),
                "reliance": rounded(p.main.normalised - p.ctrl.normalised, 2),
                "identical": rounded(p.identical / p.shared if p.shared else math.nan),
                "text_shortcut": _shortcut(p.ctrl),
            }
        )
    return rows


def _reliance_row(model: str, control: str, dim: str, pairs: Sequence[_Pair]) -> dict[str, Any]:
    main = float(np.mean([p.main.normalised for p in pairs]))
    ctrl = float(np.mean([p.ctrl.normalised for p in pairs]))
    width = min(min(len(p.main.normalised_reps), len(p.ctrl.normalised_reps)) for p in pairs)
    diffs = np.nanmean(
        np.stack([p.main.normalised_reps[:width] - p.ctrl.normalised_reps[:width] for p in pairs]), axis=0
    )
    lo, hi = bootstrap_ci(diffs)
    return {
        "model": model,
        "control": control,
        "dimension": dim,
        "score": rounded(main, 2),
        "control_score": rounded(ctrl, 2),
        "reliance": rounded(main - ctrl, 2),
        "ci_low": rounded(lo, 2),
        "ci_high": rounded(hi, 2),
        "tasks": len(pairs),
    }


def control_dimension_rows(pairs: Sequence[_Pair]) -> list[dict[str, Any]]:
    """Per model, control and dimension (and overall): normalised score, control score, their difference."""
    rows = []
    groups = sorted({(p.main.model, p.control) for p in pairs})
    for model, control in groups:
        mine = [
            p
            for p in pairs
            if (p.main.model, p.control) == (model, control)
            and math.isfinite(p.main.normalised)
            and math.isfinite(p.ctrl.normalised)
        ]
        for dim in DIMENSIONS:
            part = [p for p in mine if p.main.task.card.dimension == dim]
            if part:
                rows.append(_reliance_row(model, control, dim, part))
        if mine:
            rows.append(_reliance_row(model, control, "overall", mine))
    return rows


def control_model_rows(pairs: Sequence[_Pair]) -> list[dict[str, Any]]:
    """Per model and control: the share of identical outputs, the dropped-audio flag, the shortcut tasks."""
    rows = []
    for model, control in sorted({(p.main.model, p.control) for p in pairs}):
        mine = [p for p in pairs if (p.main.model, p.control) == (model, control)]
        shared = sum(p.shared for p in mine)
        identical = sum(p.identical for p in mine) / shared if shared else math.nan
        rows.append(
            {
                "model": model,
                "control": control,
                "examples": shared,
                "identical": rounded(identical),
                "dropped_audio": bool(shared) and identical >= DROPPED_AUDIO,
                "text_shortcut_tasks": ",".join(sorted(p.main.task.name for p in mine if _shortcut(p.ctrl))),
            }
        )
    return rows


def _variant_values(task: Task, records: Sequence[Record]) -> dict[int, tuple[float, float, int]]:
    """Per instruction index: (metric value, normalised score, n)."""
    card, spec = task.card, METRICS[task.card.metric]
    chance = chance_of(task)
    positions = {e.id: i for i, e in enumerate(task.split("test"))}
    by_index: dict[int, list[Record]] = {}
    for r in records:
        if r.instruction_index is not None and r.id in positions:
            by_index.setdefault(r.instruction_index, []).append(r)
    out = {}
    for index, recs in sorted(by_index.items()):
        value = scored_set(card.metric, recs, card.labels or ()).value()
        rows = np.array([positions[r.id] for r in recs])
        out[index] = (value, normalised_score(value, chance.value(rows), spec), len(recs))
    return out


def robustness_rows(
    mains: dict[str, Submission], derived: Sequence[Submission], tasks: Sequence[Task]
) -> list[dict[str, Any]]:
    """Per model and task: the metric's mean, worst variant and spread over the instruction variants."""
    rows = []
    for sub in derived:
        if sub.card.variant != "instructions" or sub.card.base not in mains:
            continue
        for task in tasks:
            values = _variant_values(task, current_records(sub.folder, task))
            if not values:
                continue
            raw = [v for v, _, _ in values.values()]
            norm = [s for _, s, _ in values.values()]
            higher = METRICS[task.card.metric].higher_is_better
            worst = min(raw) if higher else max(raw)
            rows.append(
                {
                    "model": sub.card.base,
                    "task": task.name,
                    "dimension": task.card.dimension,
                    "metric": task.card.metric,
                    "variants": len(values),
                    "n": min(n for _, _, n in values.values()),
                    "mean": rounded(float(np.mean(raw))),
                    "worst": rounded(worst),
                    "worst_instruction": next(i for i, (v, _, _) in values.items() if v == worst),
                    "spread": rounded(max(raw) - min(raw)),
                    "mean_normalised": rounded(float(np.mean(norm)), 2),
                    "worst_normalised": rounded(float(min(norm)), 2),
                    "spread_normalised": rounded(float(max(norm) - min(norm)), 2),
                }
            )
    return sorted(rows, key=lambda r: (r["model"], r["dimension"], r["task"]))


def robustness_model_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per model: the mean over tasks of the mean, worst-variant and spread of normalised scores."""
    out = []
    for model in sorted({r["model"] for r in rows}):
        mine = [r for r in rows if r["model"] == model and r["mean_normalised"] is not None]
        if not mine:
            continue
        out.append(
            {
                "model": model,
                "tasks": len(mine),
                "mean_normalised": rounded(float(np.mean([r["mean_normalised"] for r in mine])), 2),
                "worst_normalised": rounded(float(np.mean([r["worst_normalised"] for r in mine])), 2),
                "spread_normalised": rounded(float(np.mean([r["spread_normalised"] for r in mine])), 2),
            }
        )
    return out


def is_yes_no(task: Task) -> bool:
    """A classification task whose labels are exactly yes and no."""
    return sorted(x.lower() for x in task.card.labels or ()) == ["no", "yes"]


def _rate(records: Sequence[Record], answer: str) -> float:
    hits = sum(isinstance(r.answer, str) and r.answer.lower() == answer for r in records)
    return hits / len(records) if records else math.nan


def yes_bias_rows(
    mains: Sequence[Submission], tasks: Sequence[Task], silent: dict[str, Submission] | None = None
) -> list[dict[str, Any]]:
    """Per model and yes/no task: the rate of "yes" answers next to the rate of "yes" labels.

    With a ``--control silence`` run of the model (``silent``: by main name), also its "yes" rate
    on silent audio: a model that says yes to a question about a clip it cannot hear hallucinates.
    """
    rows = []
    for sub in mains:
        quiet = (silent or {}).get(sub.card.name)
        for task in filter(is_yes_no, tasks):
            records = current_records(sub.folder, task)
            if not records:
                continue
            n = len(records)
            yes, no = _rate(records, "yes"), _rate(records, "no")
            label_yes = sum(str(r.reference).lower() == "yes" for r in records) / n
            rows.append(
                {
                    "model": sub.card.name,
                    "task": task.name,
                    "n": n,
                    "yes_rate": rounded(yes),
                    "no_rate": rounded(no),
                    "na_rate": rounded(1 - yes - no),
                    "label_yes_rate": rounded(label_yes),
                    "yes_bias": rounded(yes - label_yes),
                    "silence_yes_rate": rounded(_rate(current_records(quiet.folder, task), "yes")) if quiet else None,
                }
            )
    return rows


def build_leaderboard(
    submissions_root: Path, tasks: Sequence[Task], resamples: int = RESAMPLES, cache: Path | None = None
) -> Leaderboard:
    """The main tables (``build_tables``, through the cell ``cache``) plus trust, following, Dynamic-SUPERB, speech."""
    board = build_tables(submissions_root, tasks, resamples, cache)
    subs = load_submissions(submissions_root)
    mains = {s.card.name: s for s in subs if s.card.base is None}
    derived = [s for s in subs if s.card.base is not None]
    pairs = _pairs(mains, derived, tasks, resamples)
    board.controls = control_task_rows(pairs)
    board.control_dimensions = control_dimension_rows(pairs)
    board.control_models = control_model_rows(pairs)
    board.robustness = robustness_rows(mains, derived, tasks)
    board.robustness_models = robustness_model_rows(board.robustness)
    silent = {s.card.base or "": s for s in derived if s.card.variant == "control-silence"}
    board.yes_bias = yes_bias_rows(list(mains.values()), tasks, silent)
    attach_following(board, mains, derived, tasks, resamples)
    board.dynamic_superb = dynamic_superb_rows(board.cells, tasks)
    attach_speech(board, mains, tasks, resamples)
    return board
