"""Aggregate submissions into leaderboard tables: per task, per dimension, overall.

Every number is recomputed from the per-example records. Each task cell carries
``n``, a 95% bootstrap interval and the N/A rate. Tasks are put on one scale with
the SUPERB-style normalised score (0 at chance, 1000 at the metric's best value;
``benchmark.scoring.normalised_score`` is the one conversion, for both metric
directions); a dimension's score is the mean of its tasks' normalised scores and
the overall score the mean of the dimension scores. Intervals of those means come
from the same bootstrap replicates, resampled with one index matrix per task so
that models are compared on identical resamples.

Seen and unseen: a task listed in a model's ``trained_on`` is *seen* by it; the
tables are built for all tasks, the seen ones and the unseen ones.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.scoring.aggregate import bootstrap_ci, bootstrap_indices, normalised_score, normalised_scores
from benchmark.scoring.chance import majority_answer
from benchmark.scoring.metrics import METRICS, ScoredSet, scored_set
from benchmark.submission.card import ModelCard, read_model_card
from benchmark.submission.records import Record, read_records, run_path
from benchmark.submission.scorer import make_record, scorer_for
from benchmark.task.card import DIMENSIONS
from benchmark.task.folder import Task

RESAMPLES = 1000
SPLITS = ("all", "seen", "unseen")


@dataclass
class Submission:
    """A model card and its folder."""

    card: ModelCard
    folder: Path


@dataclass
class Cell:
    """One model on one task."""

    model: str
    task: Task
    value: float
    ci: tuple[float, float]
    n: int
    na_rate: float
    tiers: dict[str, int]
    chance: float
    normalised: float
    normalised_reps: np.ndarray
    seen: bool
    seconds: float


def load_submissions(root: Path) -> list[Submission]:
    """Every ``root/<model>/model.json`` (folders without one are not submissions)."""
    if not root.is_dir():
        return []
    return [Submission(read_model_card(p), p) for p in sorted(root.iterdir()) if (p / "model.json").is_file()]


def layer_weights(submission: Path) -> dict[str, list[float]]:
    """Learned probe layer weights saved with runs: ``layers/<Task>@<version>.json`` = ``{"weights": [...]}``."""
    out = {}
    for path in sorted((submission / "layers").glob("*.json")):
        try:
            weights = json.loads(path.read_text(encoding="utf-8"))["weights"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a malformed file is reported by `bench validate`, not fatal for the site
        if isinstance(weights, list) and all(isinstance(w, (int, float)) for w in weights):
            out[path.stem] = [float(w) for w in weights]
    return out


def current_records(submission: Path, task: Task) -> list[Record]:
    """Test records of the task's current version and content hash."""
    path = run_path(submission, task.name, task.card.version)
    return [r for r in read_records(path) if r.split == "test" and r.task_hash == task.content_hash]


def _task_seed(task: Task) -> int:
    return int.from_bytes(hashlib.sha256(task.key.encode()).digest()[:4], "big")


@dataclass(frozen=True)
class Chance:
    """A task's chance level: the majority baseline's scored answers, or a constant without a train split."""

    scored: ScoredSet | None
    constant: float = math.nan

    def value(self, idx: np.ndarray | None = None) -> float:
        """Chance on all test examples, or on the rows ``idx``."""
        if self.scored is None:
            return self.constant
        if self.scored.metric == "pearson":
            return 0.0  # a constant prediction carries no information
        return self.scored.value(idx)

    def replicates(self, idx: np.ndarray) -> np.ndarray:
        """Chance on each resample (paired with the model's resamples)."""
        if self.scored is None or self.scored.metric == "pearson":
            return np.full(len(idx), self.value())
        return self.scored.replicates(idx)


def chance_of(task: Task) -> Chance:
    """Score the majority baseline's answer on every test example (no train split: 1/K or the worst value)."""
    card = task.card
    train = task.split("train")
    if not train:
        return Chance(None, METRICS[card.metric].chance_fallback(len(card.labels or ())))
    answer = majority_answer(card.task_type, [e.label for e in train], card.labels or ())
    score = scorer_for(task)
    records = [make_record(task, e, answer, score(e, answer), 0.0) for e in task.split("test")]
    return Chance(scored_set(card.metric, records, card.labels or ()))


def _cell(sub: Submission, task: Task, records: list[Record], chance: Chance, resamples: int) -> Cell:
    card = task.card
    scored = scored_set(card.metric, records, card.labels or ())
    spec = METRICS[card.metric]
    idx = bootstrap_indices(scored.n, min(resamples, spec.resamples), _task_seed(task))
    reps = scored.replicates(idx)
    # Chance is measured on the same examples as the model (a --limit run scores a prefix).
    positions = {e.id: i for i, e in enumerate(task.split("test"))}
    rows = np.array([positions[r.id] for r in records])
    chance_value = chance.value(rows)
    chance_reps = chance.replicates(rows[idx])
    tiers: dict[str, int] = {}
    for r in records:
        tiers[r.tier] = tiers.get(r.tier, 0) + 1
    value = scored.value()
    return Cell(
        model=sub.card.name,
        task=task,
        value=value,
        ci=bootstrap_ci(reps),
        n=scored.n,
        na_rate=tiers.get("na", 0) / scored.n,
        tiers=tiers,
        chance=chance_value,
        normalised=normalised_score(value, chance_value, spec),
        normalised_reps=normalised_scores(reps, chance_reps, spec),
        seen=task.name in sub.card.trained_on,
        seconds=sum(r.seconds for r in records),
    )


def collect_cells(submissions: Sequence[Submission], tasks: Sequence[Task], resamples: int = RESAMPLES) -> list[Cell]:
    """One cell per (model, task) that has at least one current record."""
    chance = {t.key: chance_of(t) for t in tasks}
    cells = []
    for sub in submissions:
        for task in tasks:
            records = current_records(sub.folder, task)
            if records:
                cells.append(_cell(sub, task, records, chance[task.key], resamples))
    return cells


def _keep(cell: Cell, split: str) -> bool:
    return split == "all" or (split == "seen") == cell.seen


def _r(x: float, digits: int = 6) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits)


def task_rows(cells: Sequence[Cell]) -> list[dict[str, Any]]:
    """The per-task table: one row per model and task."""
    rows = []
    for c in sorted(cells, key=lambda c: (c.task.card.dimension, c.task.name, c.model)):
        spec = METRICS[c.task.card.metric]
        rows.append(
            {
                "model": c.model,
                "task": c.task.name,
                "version": c.task.card.version,
                "dimension": c.task.card.dimension,
                "metric": spec.name,
                "direction": "higher" if spec.higher_is_better else "lower",
                "value": _r(c.value),
                "ci_low": _r(c.ci[0]),
                "ci_high": _r(c.ci[1]),
                "n": c.n,
                "n_test": len(c.task.split("test")),
                "na_rate": _r(c.na_rate),
                "chance": _r(c.chance),
                "normalised": _r(c.normalised, 2),
                "seen": c.seen,
                "tiers": json.dumps(dict(sorted(c.tiers.items()))),
            }
        )
    return rows


def _mean_of(parts: list[tuple[float, np.ndarray]]) -> tuple[float, np.ndarray]:
    """Mean of point scores, and the replicate-wise mean of their bootstrap replicates."""
    width = min(len(r) for _, r in parts)
    return float(np.mean([p for p, _ in parts])), np.nanmean(np.stack([r[:width] for _, r in parts]), axis=0)


def _row(model: str, split: str, dimension: str, score: float, reps: np.ndarray, tasks: int) -> dict[str, Any]:
    lo, hi = bootstrap_ci(reps)
    return {
        "model": model,
        "split": split,
        "dimension": dimension,
        "score": _r(score, 2),
        "ci_low": _r(lo, 2),
        "ci_high": _r(hi, 2),
        "tasks": tasks,
    }


def dimension_rows(cells: Sequence[Cell], models: Sequence[str]) -> list[dict[str, Any]]:
    """Per model, split and dimension: mean normalised score, interval, number of tasks; plus overall."""
    rows = []
    for model in models:
        for split in SPLITS:
            mine = [c for c in cells if c.model == model and _keep(c, split) and math.isfinite(c.normalised)]
            dim_means: list[tuple[float, np.ndarray]] = []
            for dim in DIMENSIONS:
                parts = [(c.normalised, c.normalised_reps) for c in mine if c.task.card.dimension == dim]
                if parts:
                    dim_means.append(_mean_of(parts))
                    rows.append(_row(model, split, dim, *dim_means[-1], tasks=len(parts)))
            if dim_means:
                rows.append(_row(model, split, "overall", *_mean_of(dim_means), tasks=len(mine)))
    return rows


@dataclass
class Leaderboard:
    """The tables, as lists of rows (what every export is made from)."""

    models: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    dimensions: list[dict[str, Any]]
    controls: list[dict[str, Any]] = field(default_factory=list)
    """Per model, control and task: the score without the audio (``report.trust``)."""
    control_dimensions: list[dict[str, Any]] = field(default_factory=list)
    """Per model, control and dimension: normalised score minus the control's."""
    control_models: list[dict[str, Any]] = field(default_factory=list)
    """Per model and control: identical outputs, the dropped-audio and text-shortcut flags."""
    robustness: list[dict[str, Any]] = field(default_factory=list)
    """Per model and task: mean, worst-variant and spread over instruction variants."""
    robustness_models: list[dict[str, Any]] = field(default_factory=list)
    """Per model: the robustness summary."""
    yes_bias: list[dict[str, Any]] = field(default_factory=list)
    """Per model and yes/no task: the "yes" rate next to the label balance."""

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        """Every table by its export name."""
        return {name: getattr(self, name) for name in TABLES}


TABLES = (
    "models",
    "tasks",
    "dimensions",
    "controls",
    "control_dimensions",
    "control_models",
    "robustness",
    "robustness_models",
    "yes_bias",
)


def build_tables(submissions_root: Path, tasks: Sequence[Task], resamples: int = RESAMPLES) -> Leaderboard:
    """Recompute the main tables from the records under ``submissions_root``.

    Control and robustness runs (model cards with a ``base``) are left out here: ``report.trust`` reads them.
    """
    subs = [s for s in load_submissions(submissions_root) if s.card.base is None]
    cells = collect_cells(subs, tasks, resamples)
    models = [s.card.model_dump() for s in subs]
    return Leaderboard(
        models=models, tasks=task_rows(cells), dimensions=dimension_rows(cells, [s.card.name for s in subs])
    )
