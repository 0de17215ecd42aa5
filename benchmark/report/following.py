"""Instruction-following tables: IF rates, the constraint tax, joint success and forgetting.

Recomputed from records, like every other table. A model's ``--constraints`` run
(``submissions/<model>+constraints/``, model.json ``base`` = the model, ``variant`` =
``constraints``) holds one record per (test example, constraint set) with its
``checks`` and prompt-level ``if_strict`` / ``if_loose``; its plain run holds the same
examples without constraints. Tasks whose examples carry their own constraints (native
IF tasks) are checked in the plain run: their rows come from those records (``source``
``native``) and have no tax, as there is no unconstrained answer to compare with.

Per model and task (``following``):

- **IF** strict and loose, prompt-level: the share of constrained records whose every
  constraint was obeyed, with a 95% bootstrap interval that resamples test examples
  (all constraint records of an example move together; seeded by ``task_seed``, the
  cells' seed); and per constraint: the share of all individual checks passed.
- **Constraint tax**: the task score under constraints minus the plain score, on the
  examples both runs hold, in the metric's units. Each example's constrained score is
  first averaged over its constraint sets, so both sides are per-example means; that is
  the metric itself only for metrics that are a mean of per-example scores
  (``MEAN_METRICS``); for the others the tax is n/a (``tax_note`` says why). Its
  interval is a *paired* bootstrap: each resample draws the same examples for both.
- **Joint success** (accuracy tasks): the share of constrained records that both
  followed every constraint (strict) and were right.
- **Forgetting** ``Δ = (IF − IF_ref) / IF_ref`` (strict): the reference is the model
  card's ``backbone`` submission if set, else the board's reference system, a
  submission whose adapter spec starts with ``cascade`` (the text backbone reading
  transcripts; the first by name when there are several).

Aggregates are plain means of the rows they summarise, so a reader can check them
from the table: a model's IF (``following_models``) is the mean of its per-task IF
values, a dimension's (``following_dimensions``) the mean over its tasks, and a
family's rate over tasks (``following_families``, task ``all``) the mean of its
per-task rates. Their intervals are the replicate-wise means of the tasks' bootstrap
replicates. The tax and joint success are averaged over accuracy tasks only: a tax in
accuracy points and one in seconds of mean absolute error cannot be averaged. The
model-level Δ compares two such means over the tasks both systems ran (the ratio of
the means, not a mean of per-task ratios, which explodes where a reference rarely
follows).

Task scores given by an LLM judge (the ``judge`` metric, and ``judge-open`` on open-ended
prompts, which have no reference answer) are reported apart from rule-scored ones, never
averaged with them: a judge's verdicts carry its own error. A row says how its task was
scored (``scored_by``: ``rules`` or ``judge``); the summaries average the tax and joint
success of rule-scored accuracy tasks (``tax``, ``joint_success``) and, separately, of
judged tasks (``judged_tax``, ``judged_joint_success``). Instruction following itself
is always rule-checked, so IF averages over every task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmark.report.cells import percentile_cis, task_seed
from benchmark.report.inventory import Submission
from benchmark.report.tables import RESAMPLES, Leaderboard, current_records, rounded
from benchmark.scoring.aggregate import bootstrap_indices
from benchmark.scoring.metrics import METRICS
from benchmark.submission.records import Record
from benchmark.task.card import DIMENSIONS
from benchmark.task.folder import Task

MEAN_METRICS = frozenset({"accuracy", "mae"})
"""Metrics whose corpus value is the mean of per-example scores: the tax is computed for these only."""
REFERENCE_ADAPTER = "cascade"
"""Adapter spec prefix of the board's reference systems (an LLM reading transcripts: IF without the audio)."""


@dataclass
class TaskFollowing:
    """One model's instruction following on one task: its table row and the bootstrap replicates behind it."""

    row: dict[str, Any]
    strict_reps: np.ndarray
    loose_reps: np.ndarray
    tax_reps: np.ndarray | None = None
    families: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    """Check id -> (checks, passed strictly, passed loosely)."""


def _by_example(records: Sequence[Record], task: Task) -> dict[str, list[Record]]:
    """Records grouped by example id, in test-split order (so the resamples do not depend on file order)."""
    positions = {e.id: i for i, e in enumerate(task.split("test"))}
    groups: dict[str, list[Record]] = {}
    for r in sorted(records, key=lambda r: positions.get(r.id, len(positions))):
        groups.setdefault(r.id, []).append(r)
    return groups


def _rate(hits: np.ndarray, counts: np.ndarray, idx: np.ndarray) -> tuple[float, np.ndarray]:
    """Share of hits over all records, and on each resample of examples (rows of ``idx``)."""
    return float(hits.sum() / counts.sum()), hits[idx].sum(axis=1) / counts[idx].sum(axis=1)


def _families(records: Sequence[Record]) -> dict[str, tuple[int, int, int]]:
    out: dict[str, list[int]] = {}
    for r in records:
        for c in r.checks or []:
            counts = out.setdefault(str(c.get("id")), [0, 0, 0])
            counts[0] += 1
            counts[1] += bool(c.get("strict"))
            counts[2] += bool(c.get("loose"))
    return {k: (v[0], v[1], v[2]) for k, v in sorted(out.items())}


def _tax(
    task: Task, constrained: dict[str, list[Record]], plain: Sequence[Record], resamples: int
) -> tuple[dict[str, Any], np.ndarray | None]:
    """Plain and constrained score on the examples both runs hold, their difference and its paired interval."""
    if task.card.metric not in MEAN_METRICS and not _judged(task.card.metric):
        return _tax_none(f"n/a: {task.card.metric} is not a mean of per-example scores"), None
    plain_by = _by_example(plain, task)
    shared = [i for i in constrained if i in plain_by]
    if not shared:
        return _tax_none("n/a: no plain run on these examples"), None
    c = np.array([np.mean([r.score for r in constrained[i]]) for i in shared])
    p = np.array([np.mean([r.score for r in plain_by[i]]) for i in shared])
    # Paired: one index matrix draws the same examples for both runs, so example difficulty cancels out.
    idx = bootstrap_indices(len(shared), resamples, task_seed(task.key))
    reps = c[idx].mean(axis=1) - p[idx].mean(axis=1)
    (lo, hi), tax = percentile_cis(reps[None, :])[0], float(c.mean() - p.mean())
    row = {
        "plain_score": rounded(float(p.mean())),
        "constrained_score": rounded(float(c.mean())),
        "tax": rounded(tax),
        "tax_ci_low": rounded(lo),
        "tax_ci_high": rounded(hi),
        "shared_examples": len(shared),
        "tax_note": "",
    }
    return row, reps


def task_following(
    model: str, task: Task, constrained: Sequence[Record], plain: Sequence[Record], resamples: int = RESAMPLES
) -> TaskFollowing | None:
    """A model's following row on one task (None when no record of it was checked against constraints)."""
    followed, source = [r for r in constrained if r.if_strict is not None], "constraints"
    if not followed:
        followed, source = [r for r in plain if r.if_strict is not None], "native"
    if not followed:
        return None
    groups = _by_example(followed, task)
    counts = np.array([len(g) for g in groups.values()], dtype=float)
    strict = np.array([sum(bool(r.if_strict) for r in g) for g in groups.values()], dtype=float)
    loose = np.array([sum(bool(r.if_loose) for r in g) for g in groups.values()], dtype=float)
    idx = bootstrap_indices(len(groups), resamples, task_seed(task.key))
    if_strict, strict_reps = _rate(strict, counts, idx)
    if_loose, loose_reps = _rate(loose, counts, idx)
    (s_lo, s_hi), (l_lo, l_hi) = percentile_cis(np.stack([strict_reps, loose_reps]))
    families = _families(followed)
    checks = sum(n for n, _, _ in families.values())
    if source == "constraints":
        tax, tax_reps = _tax(task, groups, plain, resamples)
    else:
        tax, tax_reps = _tax_none("n/a: the task's own constraints (no unconstrained run)"), None
    right_or_wrong = task.card.metric == "accuracy" or _judged(task.card.metric)  # per-example 1 or 0
    scored = [r for r in followed if r.score == r.score]  # an unjudged answer (NaN) is neither
    joint = sum(bool(r.if_strict) and r.score == 1 for r in scored) / len(scored) if right_or_wrong and scored else None
    row = {
        "model": model,
        "task": task.name,
        "dimension": task.card.dimension,
        "metric": task.card.metric,
        "scored_by": "judge" if _judged(task.card.metric) else "rules",
        "source": source,
        "examples": len(groups),
        "records": len(followed),
        "if_strict": rounded(if_strict),
        "if_strict_ci_low": rounded(s_lo),
        "if_strict_ci_high": rounded(s_hi),
        "if_loose": rounded(if_loose),
        "if_loose_ci_low": rounded(l_lo),
        "if_loose_ci_high": rounded(l_hi),
        "checks": checks,
        "check_strict": rounded(sum(s for _, s, _ in families.values()) / checks) if checks else None,
        "check_loose": rounded(sum(lo for _, _, lo in families.values()) / checks) if checks else None,
        **tax,
        "joint_success": rounded(joint),
    }
    return TaskFollowing(row, strict_reps, loose_reps, tax_reps, families)


def _judged(metric: str) -> bool:
    """Whether a task's score is an LLM judge's verdict (reported apart from rule-scored tasks)."""
    return "judge" in METRICS[metric].needs


def _tax_none(note: str) -> dict[str, Any]:
    keys = ("plain_score", "constrained_score", "tax", "tax_ci_low", "tax_ci_high")
    return {**dict.fromkeys(keys), "shared_examples": 0, "tax_note": note}


# ---------------------------------------------------------------- references (forgetting)


def reference_systems(mains: dict[str, Submission]) -> list[str]:
    """The board's reference systems: cascades (adapter spec ``cascade``, not ``cascade-speak``).

    Those reading oracle transcripts (``text_view`` oracle: no recognition errors) come first, then by name.
    """
    cascades = [s for s in mains.values() if s.card.adapter.partition(":")[0] == REFERENCE_ADAPTER]
    return [s.card.name for s in sorted(cascades, key=lambda s: (s.card.adapter_args.get("text_view") != "oracle",
                                                                  s.card.name))]  # fmt: skip


def reference_of(sub: Submission, board_reference: str | None) -> str | None:
    """Whom a model's IF is compared with: its card's ``backbone``, else the board's reference (never itself)."""
    ref = sub.card.backbone or board_reference
    return None if ref == sub.card.name else ref


def _attach_reference(rows: list[dict[str, Any]], refs: dict[str, str | None]) -> None:
    """Per task: the reference's IF (strict) on the same task and Δ = (IF − IF_ref) / IF_ref."""
    by_key = {(r["model"], r["task"]): r for r in rows}
    for row in rows:
        ref = refs.get(row["model"])
        other = by_key.get((ref or "", row["task"]))
        ref_if = other["if_strict"] if other else None
        row["reference_model"] = ref
        row["reference_if_strict"] = ref_if
        own = row["if_strict"]
        row["forgetting"] = rounded((own - ref_if) / ref_if) if ref_if and own is not None else None


# ---------------------------------------------------------------- aggregates


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return rounded(float(np.mean(present))) if present else None


def _mean_ci(reps: Sequence[np.ndarray]) -> tuple[float | None, float | None]:
    """The interval of a mean over tasks: percentiles of the replicate-wise mean (tasks resampled independently)."""
    if not reps:
        return None, None
    lo, hi = percentile_cis(np.mean(np.stack(list(reps)), axis=0)[None, :])[0]
    return rounded(lo), rounded(hi)


def summary_row(parts: Sequence[TaskFollowing]) -> dict[str, Any]:
    """Means over tasks of the per-task columns (IF, checks, tax and joint success), with intervals."""
    rows = [p.row for p in parts]
    taxed = [p for p in parts if p.row["metric"] == "accuracy" and p.tax_reps is not None]
    judged = [p for p in parts if p.row["scored_by"] == "judge"]
    judged_taxed = [p for p in judged if p.tax_reps is not None and p.row["tax"] is not None]
    s_lo, s_hi = _mean_ci([p.strict_reps for p in parts])
    l_lo, l_hi = _mean_ci([p.loose_reps for p in parts])
    t_lo, t_hi = _mean_ci([p.tax_reps for p in taxed if p.tax_reps is not None])
    j_lo, j_hi = _mean_ci([p.tax_reps for p in judged_taxed if p.tax_reps is not None])
    return {
        "tasks": len(rows),
        "if_strict": _mean([r["if_strict"] for r in rows]),
        "if_strict_ci_low": s_lo,
        "if_strict_ci_high": s_hi,
        "if_loose": _mean([r["if_loose"] for r in rows]),
        "if_loose_ci_low": l_lo,
        "if_loose_ci_high": l_hi,
        "check_strict": _mean([r["check_strict"] for r in rows]),
        "check_loose": _mean([r["check_loose"] for r in rows]),
        "tax_tasks": len(taxed),
        "tax": _mean([p.row["tax"] for p in taxed]),
        "tax_ci_low": t_lo,
        "tax_ci_high": t_hi,
        "joint_success": _mean([r["joint_success"] for r in rows if r["scored_by"] == "rules"]),
        "judged_tasks": len(judged),
        "judged_tax": _mean([p.row["tax"] for p in judged_taxed]),
        "judged_tax_ci_low": j_lo,
        "judged_tax_ci_high": j_hi,
        "judged_joint_success": _mean([p.row["joint_success"] for p in judged]),
    }


def model_rows(parts: Sequence[TaskFollowing], refs: dict[str, str | None], marked: set[str]) -> list[dict[str, Any]]:
    """Per model: ``summary_row`` over its tasks, the reference flag, and Δ against its reference."""
    out = []
    for model in sorted({p.row["model"] for p in parts}):
        mine = [p for p in parts if p.row["model"] == model]
        shared = [p.row for p in mine if p.row["reference_if_strict"] is not None]
        ref_if = _mean([r["reference_if_strict"] for r in shared])
        own_if = _mean([r["if_strict"] for r in shared])
        delta = (own_if - ref_if) / ref_if if ref_if and own_if is not None else None
        out.append(
            {
                "model": model,
                "reference": model in marked,
                **summary_row(mine),
                "reference_model": refs.get(model),
                "reference_tasks": len(shared),
                "if_strict_shared": own_if,
                "reference_if_strict": ref_if,
                "forgetting": rounded(delta),
            }
        )
    return out


def dimension_rows(parts: Sequence[TaskFollowing]) -> list[dict[str, Any]]:
    """Per model and dimension: ``summary_row`` over the dimension's tasks (shown beside the dimension table)."""
    out = []
    for model in sorted({p.row["model"] for p in parts}):
        for dim in DIMENSIONS:
            mine = [p for p in parts if p.row["model"] == model and p.row["dimension"] == dim]
            if mine:
                out.append({"model": model, "dimension": dim, **summary_row(mine)})
    return out


def family_rows(parts: Sequence[TaskFollowing]) -> list[dict[str, Any]]:
    """Per model, task and check family: strict and loose pass rates; task ``all``: their means over tasks."""
    out = []
    for model in sorted({p.row["model"] for p in parts}):
        mine = [p for p in parts if p.row["model"] == model]
        per_family: dict[str, list[dict[str, Any]]] = {}
        for p in mine:
            for family, (n, strict, loose) in p.families.items():
                row = {"model": model, "task": p.row["task"], "family": family, "tasks": 1, "checks": n}
                row |= {"strict": rounded(strict / n), "loose": rounded(loose / n)}
                per_family.setdefault(family, []).append(row)
                out.append(row)
        for family, rows in sorted(per_family.items()):
            out.append(
                {
                    "model": model,
                    "task": "all",
                    "family": family,
                    "tasks": len(rows),
                    "checks": sum(r["checks"] for r in rows),
                    "strict": _mean([r["strict"] for r in rows]),
                    "loose": _mean([r["loose"] for r in rows]),
                }
            )
    return sorted(out, key=lambda r: (r["model"], r["task"] != "all", r["task"], r["family"]))


# ---------------------------------------------------------------- the board


def following_parts(
    mains: dict[str, Submission], derived: Sequence[Submission], tasks: Sequence[Task], resamples: int = RESAMPLES
) -> list[TaskFollowing]:
    """Every (model, task) with checked records: from its ``+constraints`` run, else from native IF tasks."""
    runs = {s.card.base: s for s in derived if s.card.variant == "constraints" and s.card.base in mains}
    parts = []
    for name in sorted(mains):
        main, run = mains[name], runs.get(name)
        for task in tasks:
            constrained = current_records(run.folder, task) if run else []
            part = task_following(name, task, constrained, current_records(main.folder, task), resamples)
            if part is not None:
                parts.append(part)
    return sorted(parts, key=lambda p: (p.row["model"], p.row["dimension"], p.row["task"]))


def attach_following(
    board: Leaderboard,
    mains: dict[str, Submission],
    derived: Sequence[Submission],
    tasks: Sequence[Task],
    resamples: int = RESAMPLES,
) -> None:
    """Fill the board's ``following*`` tables from the records."""
    parts = following_parts(mains, derived, tasks, resamples)
    followed = {p.row["model"] for p in parts}
    board_refs = [name for name in reference_systems(mains) if name in followed]
    refs = {name: reference_of(sub, board_refs[0] if board_refs else None) for name, sub in mains.items()}
    marked = set(board_refs) | {ref for ref in refs.values() if ref is not None and ref in followed}
    _attach_reference([p.row for p in parts], refs)
    board.following = [p.row for p in parts]
    board.following_models = model_rows(parts, refs, marked)
    board.following_dimensions = dimension_rows(parts)
    board.following_families = family_rows(parts)
