"""The speech-output board: tasks whose answer is audio, each reported metric raw, and its sanity gates.

Recomputed from records, like every other table. An ``audio`` task's record holds, per
reported metric (``card.reported_metrics``: the task metric, then the ``output`` block's),
the value, status and detail in ``speech``; each example's number is what the metric
registry's per-example scorer makes of it (the value; for duration ratio the distance
from 1), and the corpus value is the registry's aggregate (pooled edit errors over
reference words for WER and CER, a mean otherwise), with a 95% percentile bootstrap
interval drawn like the task cells' (same seed, same resamples, so the task metric's
interval equals the one of the task table). Numbers are shown raw: a speech metric has
no chance level, so audio tasks never enter the normalised dimension means.

Per model and audio task (``speech``): the role of the row (``reference``: a reference
system that answers with the task's own reference audio; ``floor``: silence or the
input returned unchanged; ``model`` otherwise), the share of examples whose every clip
was readable speech-length audio (status ``ok``), the share of answers that also carry a
text channel, and the clip statuses; a model with no run on the task has an ``n/a``
row, never a number. Per reported metric (``speech_metrics``): value, interval and
whether it is the best of its column among the non-reference rows.

The sanity gates (``speech_gates``) check the scorers against the rows whose answer is
known, by metric family and row role (never by task name), and each is reported as
``pass``, ``fail`` or ``not run`` with a one-line reason.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark.report.cells import percentile_cis, task_seed
from benchmark.report.inventory import Submission
from benchmark.report.tables import RESAMPLES, Leaderboard, ScoredRow, current_records, rounded
from benchmark.scoring.aggregate import bootstrap_indices
from benchmark.scoring.metrics import METRICS, scored_set
from benchmark.scoring.speech.metrics import SPEECH_METRICS, TEXT_READ, SpeechScore, text_channel_scores
from benchmark.submission.card import ModelCard
from benchmark.submission.records import Record
from benchmark.task.folder import Task

ROLES = ("reference", "model", "floor")
"""Row roles, in the order the board lists them."""
WER_CEILING = 0.6
"""The most WER a reference row may have. Whisper tiny.en reads espeak-ng's synthetic speech of random word strings
(the shipped tasks' references) at 0.3 to 0.55 WER; a broken recogniser or normaliser gives 1 or more."""
RETRIEVAL_FLOOR = 0.9
"""The least retrieval accuracy of a reference row: the prompt's own speaker must be closest to it."""


def role_of(card: ModelCard) -> str:
    """``reference``, ``floor`` or ``model``: what the card says (``reference_system``, ``floor_system``)."""
    return "reference" if card.reference_system else "floor" if card.floor_system else "model"


def _scored(metric: str, r: Record) -> ScoredRow:
    """One record's number for ``metric`` through the registry's per-example scorer (NaN when not scored)."""
    entry = (r.speech or {}).get(metric)
    if not isinstance(entry, dict) or not isinstance(entry.get("value"), (int, float)):
        return ScoredRow(r.reference, r.answer, math.nan, None, None, None)
    detail = entry.get("detail")
    detail = detail if isinstance(detail, dict) else {}
    got = METRICS[metric].example(SpeechScore(float(entry["value"]), str(entry.get("status")), detail), r.reference)
    return ScoredRow(r.reference, r.answer, got.score, got.errors, got.ref_units, None)


def direction(metric: str) -> str:
    """``higher``, ``lower`` or ``target`` (scored as the distance from the target, lower is better)."""
    speech = SPEECH_METRICS.get(metric)
    if speech is not None:
        return speech.direction
    return "higher" if METRICS[metric].higher_is_better else "lower"


def _ok(r: Record) -> bool:
    return bool(r.audio_statuses) and all(s == "ok" for s in r.audio_statuses or [])


def _statuses(records: Sequence[Record]) -> str:
    counts: dict[str, int] = {}
    for r in records:
        for s in r.audio_statuses or ["missing"]:
            counts[s] = counts.get(s, 0) + 1
    return json.dumps(dict(sorted(counts.items())))


def metric_rows(
    model: str, role: str, task: Task, records: Sequence[Record], resamples: int = RESAMPLES
) -> list[dict[str, Any]]:
    """One row per reported metric: corpus value and bootstrap interval from the records (as the task cells draw)."""
    n = len(records)
    rows = []
    for metric in task.card.reported_metrics:
        spec = METRICS[metric]
        scored = scored_set(metric, [_scored(metric, r) for r in records])
        idx = bootstrap_indices(n, min(resamples, spec.resamples), task_seed(task.key))
        value = float(spec.replicates_many([scored], np.arange(n)[None, :])[0, 0]) if n else math.nan
        low, high = percentile_cis(spec.replicates_many([scored], idx))[0] if n else (math.nan, math.nan)
        rows.append(
            {
                "model": model,
                "role": role,
                "task": task.name,
                "version": task.card.version,
                "metric": metric,
                "task_metric": metric == task.card.metric,
                "direction": direction(metric),
                "value": rounded(value),
                "ci_low": rounded(low),
                "ci_high": rounded(high),
                "n": n,
                "best": False,
                **_text_channel(metric, records),
            }
        )
    return rows


def _text_channel(metric: str, records: Sequence[Record]) -> dict[str, Any]:
    """A word-reading metric on the model's text channel, beside its value on the speech (models that write too).

    Each answer's text is read as a transcript is (Whisper-normalised); an answer without text counts as saying
    nothing. None where the metric reads no words or no answer carries text.
    """
    if metric not in TEXT_READ or not any(r.output.strip() for r in records):
        return {"text_value": None}
    spec = METRICS[metric]
    per = [text_channel_scores([metric], r.output, str(r.reference))[metric] for r in records]
    numbers = [_numbers(spec.example(s, r.reference)) for r, s in zip(records, per, strict=True)]
    rows = [ScoredRow(r.reference, None, *n, None) for r, n in zip(records, numbers, strict=True)]
    value = spec.replicates_many([scored_set(metric, rows)], np.arange(len(rows))[None, :])[0, 0]
    return {"text_value": rounded(float(value))}


def _numbers(per: Any) -> tuple[float, int | None, int | None]:
    return per.score, per.errors, per.ref_units


def _mark_best(rows: list[dict[str, Any]]) -> None:
    """Per task and metric: the best value among the models (a reference is a ceiling, a floor a yardstick)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        if r["role"] == "model" and r["value"] is not None:  # a ceiling and the floors are yardsticks, not entries
            groups.setdefault((r["task"], r["metric"]), []).append(r)
    for (_, metric), group in groups.items():
        pick = max if METRICS[metric].higher_is_better else min
        best = pick(r["value"] for r in group)
        for r in group:
            r["best"] = r["value"] == best


def speech_tables(
    mains: Sequence[Submission], tasks: Sequence[Task], resamples: int = RESAMPLES
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``speech`` rows (per model and audio task, ``n/a`` without a run) and the ``speech_metrics`` rows."""
    subs = sorted(mains, key=lambda s: (ROLES.index(role_of(s.card)), s.card.name))
    rows: list[dict[str, Any]] = []
    metrics: list[dict[str, Any]] = []
    for task in sorted((t for t in tasks if t.card.task_type == "audio"), key=lambda t: t.name):
        n_test = len(task.split("test"))
        for sub in subs:
            role = role_of(sub.card)
            records = current_records(sub.folder, task)
            n = len(records)
            rows.append(
                {
                    "model": sub.card.name,
                    "role": role,
                    "task": task.name,
                    "version": task.card.version,
                    "n": n,
                    "n_test": n_test,
                    "valid_rate": rounded(sum(map(_ok, records)) / n) if n else None,
                    "text_rate": rounded(sum(bool(r.output.strip()) for r in records) / n) if n else None,
                    "statuses": _statuses(records) if n else "{}",
                    "note": "" if n else "n/a: no run on this task (the model does not answer with audio)",
                }
            )
            if n:
                metrics += metric_rows(sub.card.name, role, task, records, resamples)
    _mark_best(metrics)
    return rows, metrics


# ---------------------------------------------------------------- sanity gates


@dataclass(frozen=True)
class Gate:
    """A check of the scorers on rows whose answer is known: by metric family and row role."""

    id: str
    claim: str
    family: str | None
    """The speech metric family it reads (``asr``, ``ge2e``...); None: every reported metric."""
    prefixes: tuple[str, ...]
    """Metric names it reads start with one of these."""
    check: str
    """``ceiling``: every reference row at most ``threshold``; ``at-least``: every reference row at least
    ``threshold``; ``above-floors``: every reference row better than every floor row (by the metric's
    direction); ``above-worst``: every reference row better than the metric's worst value (a broken answer's)."""
    threshold: float = math.nan
    requires: tuple[str, ...] = ()
    """Run only on tasks that also report a metric starting with one of these (e.g. an intrusive quality metric:
    the input is the reference degraded)."""

    def reads(self, row: dict[str, Any]) -> bool:
        """Whether a ``speech_metrics`` row is one this gate checks."""
        speech = SPEECH_METRICS.get(row["metric"])
        if self.family is None:
            return speech is not None
        return speech is not None and speech.family == self.family and row["metric"].startswith(self.prefixes)


GATES = (
    Gate(
        "reference-wer",
        f"the reference row's WER is at most {WER_CEILING:g} (the ASR scorer understands the reference speech)",
        "asr",
        ("WER",),
        "ceiling",
        WER_CEILING,
    ),
    Gate(
        "same-speaker-similarity",
        f"the reference (the prompt's speaker) is closer to the prompt than every other speaker's clip on at least "
        f"{RETRIEVAL_FLOOR:.0%} of examples (speaker similarity is higher for the same speaker than for others)",
        "ge2e",
        ("retrieval-acc",),
        "at-least",
        RETRIEVAL_FLOOR,
    ),
    Gate(
        "clean-dnsmos",
        "clean reference speech has a higher DNSMOS than the floors (the degraded input, silence), on tasks whose "
        "input is the reference degraded (they report PESQ or ESTOI)",
        "dnsmos",
        ("DNSMOS-OVRL", "DNSMOS-P808"),
        "above-floors",
        requires=("PESQ", "ESTOI"),
    ),
    Gate(
        "reference-above-worst",
        "the reference row scores better than a missing answer on every reported metric (no scorer is broken)",
        None,
        ("",),
        "above-worst",
    ),
)


def _worst(metric: str) -> float:
    """A missing answer's per-example number for ``metric`` (what the registry makes of its worst value)."""
    speech = SPEECH_METRICS[metric]
    return METRICS[metric].example(SpeechScore(speech.worst, "missing", {"errors": 1, "ref_units": 1}), "").score


def _better(metric: str, a: float, b: float) -> bool:
    return a > b if METRICS[metric].higher_is_better else a < b


def _where(row: dict[str, Any]) -> str:
    return f"{row['model']} {row['metric']} on {row['task']}"


def _failures(gate: Gate, refs: Sequence[dict[str, Any]], floors: Sequence[dict[str, Any]]) -> list[str]:
    """What fails the gate on one task and metric: each reference row against the threshold or each floor row."""
    out = []
    for ref in refs:
        if gate.check == "ceiling":
            if not ref["value"] <= gate.threshold:
                out.append(f"{_where(ref)} = {ref['value']:.3f} > {gate.threshold:g}")
            continue
        if gate.check == "at-least":
            if not ref["value"] >= gate.threshold:
                out.append(f"{_where(ref)} = {ref['value']:.3f} < {gate.threshold:g}")
            continue
        if gate.check == "above-worst":
            if not _better(ref["metric"], ref["value"], _worst(ref["metric"])):
                out.append(f"{_where(ref)} = {ref['value']:.3f}, no better than a missing answer")
            continue
        out += [
            f"{_where(ref)} = {ref['value']:.3f}, not better than {floor['model']}'s {floor['value']:.3f}"
            for floor in floors
            if not _better(ref["metric"], ref["value"], floor["value"])
        ]
    return out


def run_gate(gate: Gate, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One gate over the ``speech_metrics`` rows: its status (pass, fail, not run) and a one-line reason."""
    reported: dict[str, set[str]] = {}
    for r in rows:
        reported.setdefault(r["task"], set()).add(r["metric"])
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        required = not gate.requires or any(m.startswith(gate.requires) for m in reported[r["task"]])
        if gate.reads(r) and r["value"] is not None and required:
            groups.setdefault((r["task"], r["metric"]), []).append(r)
    what = "a metric" if gate.family is None else f"a {'/'.join(gate.prefixes)} metric ({gate.family})"
    if not groups:
        return _gate_row(gate, "not run", f"no audio task reports {what} with a scored run", [])
    checked: list[str] = []
    failures: list[str] = []
    missing: list[str] = []
    for (task, _), group in sorted(groups.items()):
        refs = [r for r in group if r["role"] == "reference"]
        floors = [r for r in group if r["role"] == "floor"]
        if not refs or (gate.check == "above-floors" and not floors):
            missing.append(f"{task}: no {'reference' if not refs else 'floor'} row")
            continue
        checked.append(task)
        failures += _failures(gate, refs, floors)
    tasks = sorted(set(checked))
    if not checked:
        return _gate_row(gate, "not run", "; ".join(missing), [])
    if failures:
        return _gate_row(gate, "fail", "; ".join(failures), tasks)
    skipped = f" (not run on {'; '.join(missing)})" if missing else ""
    return _gate_row(gate, "pass", f"held on {len(tasks)} task(s): {', '.join(tasks)}{skipped}", tasks)


def _gate_row(gate: Gate, status: str, reason: str, tasks: list[str]) -> dict[str, Any]:
    return {"gate": gate.id, "claim": gate.claim, "status": status, "reason": reason, "tasks": ", ".join(tasks)}


def gate_rows(rows: Sequence[dict[str, Any]], tasks: Sequence[Task]) -> list[dict[str, Any]]:
    """Every gate on every build (none at all on a board without audio tasks)."""
    if not any(t.card.task_type == "audio" for t in tasks):
        return []
    return [run_gate(gate, rows) for gate in GATES]


def attach_speech(
    board: Leaderboard, mains: dict[str, Submission], tasks: Sequence[Task], resamples: int = RESAMPLES
) -> None:
    """Fill the board's ``speech``, ``speech_metrics`` and ``speech_gates`` tables from the main submissions."""
    board.speech, board.speech_metrics = speech_tables(list(mains.values()), tasks, resamples)
    board.speech_gates = gate_rows(board.speech_metrics, tasks)
