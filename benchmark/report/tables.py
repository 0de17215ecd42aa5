"""Aggregate submissions into leaderboard tables: per task, per dimension, overall.

Every number is recomputed from the per-example records. Each task cell carries
``n``, a 95% bootstrap interval and the N/A rate. Tasks are put on one scale with
the SUPERB-style normalised score (0 at chance, 1000 at the metric's best value;
``benchmark.scoring.normalised_score`` is the one conversion, for both metric
directions); a dimension's score is the mean of its tasks' normalised scores and
the overall score the mean of the dimension scores. Intervals of those means come
from the same bootstrap replicates, resampled with one index matrix per task so
that models are compared on identical resamples.

Audio tasks (the answer is audio) have a row in the task table but stay out of the
dimension and overall means: their speech metrics have no chance level and scales of
their own (MOS, dB, error rates), so ``report.speech`` shows them raw on a board of
their own.

Seen and unseen: a task listed in a model's ``trained_on`` is *seen* by it; the
tables are built for all tasks, the seen ones and the unseen ones.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from benchmark.report.cells import CellCache, CellStats, cell_key, code_stamp, compute_cells, percentile_cis
from benchmark.report.inventory import LeftOut, Submission, take_inventory, usable_records
from benchmark.report.inventory import load_submissions as load_submissions  # re-exported: it used to live here
from benchmark.scoring.chance import majority_answer
from benchmark.scoring.metrics import METRICS, Metric, ScoredSet, scored_set
from benchmark.scoring.score import ExampleScore
from benchmark.submission.records import Record, run_path
from benchmark.submission.scorer import scorer_for
from benchmark.task.card import DIMENSIONS
from benchmark.task.folder import Task

RESAMPLES = 1000
SPLITS = ("all", "seen", "unseen")


@dataclass
class Cell(CellStats):
    """One model on one task: its numbers (``CellStats``, what the cell cache stores) and who and how."""

    model: str
    task: Task
    seen: bool
    protocol: str = "generate"
    """How the model answered classification tasks (``generate`` or ``rank``): part of its identity."""


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
    """Test records of the task's current version and content hash (none from an unreadable file)."""
    return usable_records(run_path(submission, task.name, task.card.version), task)[0]


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


def cached_chance(task: Task, store: CellCache) -> Chance:
    """``chance_of`` through the cell cache (keyed by the task's content hash and the scoring code)."""
    key = f"{task.content_hash}/{code_stamp()}"
    found = store.chance(task.key, key)
    if isinstance(found, dict):
        if "constant" in found:
            return Chance(None, math.nan if found["constant"] is None else float(found["constant"]))
        rows = [ScoredRow(*row) for row in found["rows"]]
        return Chance(scored_set(task.card.metric, rows, task.card.labels or ()))
    chance = chance_of(task)
    if chance.scored is None:
        store.put_chance(task.key, key, {"constant": chance.constant if math.isfinite(chance.constant) else None})
    else:
        s = chance.scored
        columns = (s.references, s.answers, s.scores.tolist(), s.errors.tolist(), s.ref_units.tolist(), _values(s))
        store.put_chance(task.key, key, {"rows": [list(r) for r in zip(*columns, strict=True)]})
    return chance


def _values(s: ScoredSet) -> list[float | None]:
    return [None if math.isnan(v) else v for v in s.values.tolist()]


def chance_of(task: Task) -> Chance:
    """Score the majority baseline's answer on every test example (no train split: 1/K or the worst value)."""
    card = task.card
    train = task.split("train")
    if not train or card.task_type in ("audio", "open"):  # floors are systems (silence, copy-input), or a judge
        return Chance(None, METRICS[card.metric].chance_fallback(len(card.labels or ())))
    answer = majority_answer(card.task_type, [e.label for e in train], card.labels or ())
    score = scorer_for(task, one_answer=True)
    scored = []
    seen: dict[tuple[Any, str], ExampleScore] = {}  # one answer for all: its score depends on label and instruction
    for e in task.split("test"):
        key = (e.label, task.instruction_for(e))
        s = seen[key] if key in seen else seen.setdefault(key, score(e, answer))
        scored.append(ScoredRow(e.label, s.answer, s.score, s.errors, s.ref_units, s.value))
    return Chance(scored_set(card.metric, scored, card.labels or ()))


class ScoredRow(NamedTuple):
    """The fields of a record that ``scored_set`` reads (chance and the speech board need no full record)."""

    reference: Any
    answer: Any
    score: float
    errors: int | None
    ref_units: int | None
    value: float | None


_STATS_FIELDS = tuple(f.name for f in fields(CellStats))


def _make_cell(sub: Submission, task: Task, stats: CellStats) -> Cell:
    numbers = {name: getattr(stats, name) for name in _STATS_FIELDS}
    seen = task.name in sub.card.trained_on
    return Cell(**numbers, model=sub.card.name, task=task, seen=seen, protocol=sub.card.protocol)


def collect_cells(
    submissions: Sequence[Submission],
    tasks: Sequence[Task],
    resamples: int = RESAMPLES,
    cache: Path | None = None,
    left_out: list[LeftOut] | None = None,
    store: CellCache | None = None,
) -> list[Cell]:
    """One cell per (model, task) that has at least one current record.

    All models of a task are bootstrapped together; with ``cache`` (a folder), cells
    of run files that did not change since the last build are read back instead. Run
    files read here that hold records that do not count are named in ``left_out``.
    With ``store`` (an open cell cache) the caller saves it when done, instead.
    """
    own = store is None
    store = store if store is not None else CellCache(cache)
    cache = store.folder
    cells: dict[tuple[int, str], Cell] = {}
    run_files = [_run_files(sub.folder) for sub in submissions]
    for task in tasks:
        task_key = task.key
        todo: list[tuple[int, str, list[Record]]] = []
        for i, sub in enumerate(submissions):
            found = run_files[i].get(f"{task_key}.jsonl")
            if found is None:
                continue
            key = cell_key(store.run_hash(sub.folder.name, found), task.content_hash, resamples) if cache else ""
            cached = store.get(sub.folder.name, task_key, key) if cache else None
            if cached is not None:
                cells[(i, task_key)] = _make_cell(sub, task, cached)
                continue
            path = Path(found)
            records, reason = usable_records(path, task)
            if reason is not None and left_out is not None:
                left_out.append(LeftOut(path, reason))
            if records:
                todo.append((i, key, records))
        if todo:
            positions = {e.id: j for j, e in enumerate(task.split("test"))}
            chance = cached_chance(task, store)
            computed = compute_cells(task, [r for _, _, r in todo], chance, resamples, positions)
            for (i, key, _), stats in zip(todo, computed, strict=True):
                store.put(submissions[i].folder.name, task.key, key, stats)
                cells[(i, task.key)] = _make_cell(submissions[i], task, stats)
    if own:
        store.save()
    return [cells[(i, t.key)] for i in range(len(submissions)) for t in tasks if (i, t.key) in cells]


def _run_files(submission: Path) -> dict[str, str]:
    """The run files of a submission by file name (one directory listing; plain string paths, as there are many)."""
    runs = submission / "runs"
    if not runs.is_dir():
        return {}
    return {e.name: e.path for e in os.scandir(runs) if e.name.endswith(".jsonl") and e.is_file()}


def keep_split(cell: Cell, split: str) -> bool:
    """Whether a cell belongs to the ``all``, ``seen`` or ``unseen`` tables."""
    return split == "all" or (split == "seen") == cell.seen


def rounded(x: float | None, digits: int = 6) -> float | None:
    """A number as the tables write it: rounded, and None when missing or not finite."""
    return None if x is None or not math.isfinite(x) else round(float(x), digits)


def task_rows(cells: Sequence[Cell]) -> list[dict[str, Any]]:
    """The per-task table: one row per model and task."""
    rows = []
    n_test = {t.key: len(t.split("test")) for t in {id(c.task): c.task for c in cells}.values()}
    for c in sorted(cells, key=lambda c: (c.task.card.dimension, c.task.name, c.model)):
        spec = METRICS[c.task.card.metric]
        rows.append(
            {
                "model": c.model,
                "protocol": c.protocol,
                "task": c.task.name,
                "version": c.task.card.version,
                "dimension": c.task.card.dimension,
                "metric": spec.name,
                "direction": "higher" if spec.higher_is_better else "lower",
                "value": rounded(c.value),
                "ci_low": rounded(c.ci[0]),
                "ci_high": rounded(c.ci[1]),
                "n": c.n,
                "n_test": n_test[c.task.key],
                "na_rate": rounded(c.na_rate),
                "chance": rounded(c.chance),
                "normalised": rounded(c.normalised, 2),
                "seen": c.seen,
                "tiers": json.dumps(dict(sorted(c.tiers.items()))),
                "note": _note(c, spec),
            }
        )
    return rows


AUDIO_NOTE = "audio answer: raw on the speech-output board, not in the dimension means"


def _note(c: Cell, spec: Metric) -> str:
    if c.task.card.task_type == "audio":
        return AUDIO_NOTE
    # A metric that needs a scoring model nobody gave (the judge) has no value: say why, never guess.
    return f"needs a {spec.needs[0]}" if spec.needs and not math.isfinite(c.value) else ""


def mean_of(parts: list[tuple[float, np.ndarray]]) -> tuple[float, np.ndarray]:
    """Mean of point scores, and the replicate-wise mean of their bootstrap replicates."""
    width = min(len(r) for _, r in parts)
    stacked = np.stack([r[:width] for _, r in parts])
    # A replicate where every task is NaN (e.g. chance equals the best value) stays NaN, without nanmean's warning.
    counts = np.isfinite(stacked).sum(axis=0)
    sums = np.where(np.isfinite(stacked), stacked, 0.0).sum(axis=0)
    reps = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return float(np.mean([p for p, _ in parts])), reps


def _row(model: str, split: str, dimension: str, score: float, ci: tuple[float, float], tasks: int) -> dict[str, Any]:
    return {
        "model": model,
        "split": split,
        "dimension": dimension,
        "score": rounded(score, 2),
        "ci_low": rounded(ci[0], 2),
        "ci_high": rounded(ci[1], 2),
        "tasks": tasks,
    }


def dimension_rows(
    cells: Sequence[Cell], models: Sequence[str], store: CellCache | None = None
) -> list[dict[str, Any]]:
    """Per model, split and dimension: mean normalised score, interval, number of tasks; plus overall.

    A model's rows depend on its own cells only; with ``store`` they are reused while its cells are unchanged.
    """
    by_model: dict[str, list[Cell]] = {}
    for c in cells:
        if c.task.card.task_type != "audio":  # raw speech metrics, no chance level: the speech board shows them
            by_model.setdefault(c.model, []).append(c)
    rows: list[dict[str, Any]] = []
    for model in models:
        mine = by_model.get(model, [])
        used = [(c.task.key, c.task.card.dimension, c.seen) for c in mine]
        key = store.dimensions_key(model, used) if store else None
        cached = store.dimensions(model, key) if store else None
        if cached is None:
            cached = _model_dimension_rows(model, [c for c in mine if math.isfinite(c.normalised)])
            if store:
                store.put_dimensions(model, key, cached)
        rows += cached
    return rows


def _model_dimension_rows(model: str, cells: Sequence[Cell]) -> list[dict[str, Any]]:
    pending: list[tuple[str, str, float, np.ndarray, int]] = []
    for split in SPLITS:
        mine = [c for c in cells if keep_split(c, split)]
        by_dim: dict[str, list[tuple[float, np.ndarray]]] = {}
        for c in mine:
            by_dim.setdefault(c.task.card.dimension, []).append((c.normalised, c.normalised_reps))
        dim_means: list[tuple[float, np.ndarray]] = []
        for dim in DIMENSIONS:
            parts = by_dim.get(dim, [])
            if parts:
                dim_means.append(mean_of(parts))
                pending.append((split, dim, *dim_means[-1], len(parts)))
        if dim_means:
            pending.append((split, "overall", *mean_of(dim_means), len(mine)))
    cis = intervals([entry[3] for entry in pending])
    return [_row(model, split, dim, score, cis[i], n) for i, (split, dim, score, _, n) in enumerate(pending)]


def intervals(replicates: list[np.ndarray]) -> list[tuple[float, float]]:
    """Percentile intervals, one ``np.percentile`` call per replicate width (one call, usually)."""
    cis: list[tuple[float, float]] = [(math.nan, math.nan)] * len(replicates)
    by_width: dict[int, list[int]] = {}
    for i, reps in enumerate(replicates):
        by_width.setdefault(len(reps), []).append(i)
    for width, rows in by_width.items():
        matrix = np.stack([replicates[i] for i in rows]) if width else np.zeros((len(rows), 0))
        for i, ci in zip(rows, percentile_cis(matrix), strict=True):
            cis[i] = ci
    return cis


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
    following: list[dict[str, Any]] = field(default_factory=list)
    """Per model and task: IF strict/loose, the constraint tax, joint success, forgetting (``report.following``)."""
    following_models: list[dict[str, Any]] = field(default_factory=list)
    """Per model: the means over tasks of the ``following`` columns, the reference flag and forgetting."""
    following_dimensions: list[dict[str, Any]] = field(default_factory=list)
    """Per model and dimension: the means over the dimension's tasks of the ``following`` columns."""
    following_families: list[dict[str, Any]] = field(default_factory=list)
    """Per model, task and constraint family: strict and loose pass rates (task ``all``: the mean over tasks)."""
    dynamic_superb: list[dict[str, Any]] = field(default_factory=list)
    """The imported Dynamic-SUPERB Phase 2 tasks per model, by its category and by dimension."""
    speech: list[dict[str, Any]] = field(default_factory=list)
    """Per model and audio task: role, valid-output rate, text-channel share; n/a without a run (``report.speech``)."""
    speech_metrics: list[dict[str, Any]] = field(default_factory=list)
    """Per model, audio task and reported metric: the raw corpus value with its interval, the column's best."""
    speech_gates: list[dict[str, Any]] = field(default_factory=list)
    """The speech board's sanity gates: pass, fail or not run, each with a one-line reason."""
    left_out: list[LeftOut] = field(default_factory=list)
    """Run files and submissions the build did not use, with why (not an exported table)."""

    cells: list[Cell] = field(default_factory=list, repr=False, compare=False)
    """The task cells the tables were made from (views computed later, such as Dynamic-SUPERB's, read them)."""
    _groups: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict, repr=False, compare=False)

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        """Every table by its export name."""
        return {name: getattr(self, name) for name in TABLES}

    def task_rows_by(self, column: str) -> dict[str, list[dict[str, Any]]]:
        """Rows of the task table grouped by ``column`` (``task`` or ``model``), in table order; built once."""
        if column not in self._groups:
            groups: dict[str, list[dict[str, Any]]] = {}
            for row in self.tasks:
                groups.setdefault(row[column], []).append(row)
            self._groups[column] = groups
        return self._groups[column]


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
    "following",
    "following_models",
    "following_dimensions",
    "following_families",
    "dynamic_superb",
    "speech",
    "speech_metrics",
    "speech_gates",
)


def build_tables(
    submissions_root: Path, tasks: Sequence[Task], resamples: int = RESAMPLES, cache: Path | None = None
) -> Leaderboard:
    """Recompute the main tables from the records under ``submissions_root`` (reusing ``cache`` for unchanged runs).

    Control and robustness runs (model cards with a ``base``) are left out here: ``report.trust`` reads them.
    """
    inventory = take_inventory(submissions_root, tasks, read=False)
    subs = [s for s in inventory.submissions if s.card.base is None]
    store = CellCache(cache)
    cells = collect_cells(subs, tasks, resamples, left_out=inventory.left_out, store=store)
    models = [s.card.model_dump() for s in subs]
    board = Leaderboard(
        models=models,
        tasks=task_rows(cells),
        dimensions=dimension_rows(cells, [s.card.name for s in subs], store),
        left_out=inventory.left_out,
        cells=cells,
    )
    store.save()
    return board
