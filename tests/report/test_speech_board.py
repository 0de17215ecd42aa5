"""The speech-output board from real audio runs: raw metrics recomputed from records, n/a rows, the gates."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from helpers import make_audio_task, make_task

from benchmark.adapters.base import Adapter, Query
from benchmark.planning import load_tasks
from benchmark.report.build import build_leaderboard as build_all
from benchmark.report.speech import GATES, metric_rows, role_of, run_gate
from benchmark.report.tables import AUDIO_NOTE, Leaderboard
from benchmark.runner import evaluate
from benchmark.scoring.speech.answer import AudioAnswer
from benchmark.submission.card import read_model_card
from benchmark.submission.records import Record, read_records
from benchmark.task.card import TaskCard
from benchmark.task.discovery import discover_task_dirs

AUDIO = "CleanTone"
RUN = f"{AUDIO}@1.0.0.jsonl"


class Perfect(Adapter):
    """A perfect system: the example's own reference audio; its card marks it a reference system."""

    reads_references = True
    answers = frozenset({"audio"})

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[AudioAnswer]:
        return [AudioAnswer(samples=q.reference[0], rate=16_000) for q in batch]

    def info(self) -> dict[str, object]:
        return {"reference_system": True}


class CopyInputAdapter(Adapter):
    """The do-nothing floor: the noisy input back, with a text channel."""

    answers = frozenset({"audio"})

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[AudioAnswer]:
        return [AudioAnswer(samples=q.audio[0], rate=16_000, text="here it is") for q in batch]

    def info(self) -> dict[str, object]:
        return {"floor_system": True}


class Patchy(Adapter):
    """A model: the clean answer on even examples, no audio on every fourth, the input otherwise."""

    reads_references = True
    answers = frozenset({"audio"})

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[AudioAnswer]:
        out = []
        for q in batch:
            i = int(q.id)
            if i % 4 == 0:
                out.append(AudioAnswer())
            elif i % 2 == 0:
                out.append(AudioAnswer(samples=q.reference[0], rate=16_000))
            else:
                out.append(AudioAnswer(samples=q.audio[0], rate=16_000))
        return out


class BrokenReference(Adapter):
    """A broken reference system: returns silence (its card is marked as the reference below)."""

    answers = frozenset({"audio"})

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[AudioAnswer]:
        return [AudioAnswer(samples=np.zeros_like(q.audio[0]), rate=16_000) for q in batch]


def _tasks(root: Path) -> list:
    return load_tasks(discover_task_dirs([root]))


def _build(subs: Path, tasks: Path, out: Path) -> Leaderboard:
    return build_all(subs, _tasks(tasks), out / "tables", out / "site").board


@pytest.fixture(scope="module")
def boards(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("speech")
    tasks, subs = root / "tasks", root / "subs"
    make_task(tasks)
    evaluate("majority", "ToneHeight", subs, tasks_root=tasks, name="text-only")
    before = _build(subs, tasks, root / "before")
    make_audio_task(tasks)
    evaluate("majority", [AUDIO, "ToneHeight"], subs, tasks_root=tasks, name="text-only")  # cannot speak: skipped
    for name, model in {"ref": Perfect(), "copy": CopyInputAdapter(), "patchy": Patchy()}.items():
        evaluate(model, AUDIO, subs, tasks_root=tasks, name=name)
    after = _build(subs, tasks, root / "after")
    return {"root": root, "subs": subs, "tasks": tasks, "before": before, "after": after}


def _one(rows: list[dict], **match: object) -> dict:
    found = [r for r in rows if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, rows)
    return found[0]


def _records(subs: Path, model: str) -> list[Record]:
    return read_records(subs / model / "runs" / RUN)


def test_rows_have_roles_and_a_model_without_audio_is_na(boards) -> None:
    lb = boards["after"]
    assert not (boards["subs"] / "text-only" / "runs" / RUN).exists()
    roles = {r["model"]: r["role"] for r in lb.speech}
    assert roles == {"ref": "reference", "copy": "floor", "patchy": "model", "text-only": "model"}
    assert [r["model"] for r in lb.speech] == ["ref", "patchy", "text-only", "copy"]  # reference, models, floors
    na = _one(lb.speech, model="text-only")
    assert (na["n"], na["valid_rate"], na["text_rate"]) == (0, None, None) and na["note"].startswith("n/a")
    assert not [m for m in lb.speech_metrics if m["model"] == "text-only"]  # no number, never a 0
    page = (boards["root"] / "after/site/speech.html").read_text()
    row = next(line for line in page.splitlines() if "models/text-only.html" in line)
    assert row.count(">n/a<") == 3 + 3 and ">0<" not in row and ">0.000<" not in row  # n, rates, three metrics


def test_metric_values_are_recomputed_from_the_records(boards) -> None:
    lb, subs = boards["after"], boards["subs"]
    for model in ("ref", "copy", "patchy"):
        records = _records(subs, model)
        for metric in ("SI-SDR", "SI-SDRi", "duration-ratio"):
            values = np.array([r.speech[metric]["value"] for r in records])
            expected = np.abs(values - 1).mean() if metric == "duration-ratio" else values.mean()
            row = _one(lb.speech_metrics, model=model, metric=metric)
            assert row["value"] == pytest.approx(expected, abs=1e-6) and row["n"] == 32
            assert row["ci_low"] <= row["value"] <= row["ci_high"] or row["ci_low"] == row["ci_high"]
        # The task metric's cell in the task table is the same number with the same interval.
        cell = _one(lb.tasks, model=model, task=AUDIO)
        row = _one(lb.speech_metrics, model=model, metric="SI-SDR")
        assert (cell["value"], cell["ci_low"], cell["ci_high"]) == (row["value"], row["ci_low"], row["ci_high"])
        assert row["task_metric"] and cell["normalised"] is None and cell["note"] == AUDIO_NOTE


def test_valid_output_and_text_channel_rates(boards) -> None:
    lb, subs = boards["after"], boards["subs"]
    for model in ("ref", "copy", "patchy"):
        records = _records(subs, model)
        row = _one(lb.speech, model=model)
        ok = np.mean([bool(r.audio_statuses) and all(s == "ok" for s in r.audio_statuses) for r in records])
        assert row["valid_rate"] == pytest.approx(ok) and row["n"] == row["n_test"] == 32
        assert row["text_rate"] == np.mean([bool(r.output) for r in records])
    assert _one(lb.speech, model="patchy")["valid_rate"] == 0.75  # every fourth answer has no audio
    assert _one(lb.speech, model="ref")["valid_rate"] == 1 and _one(lb.speech, model="ref")["text_rate"] == 0
    assert _one(lb.speech, model="copy")["text_rate"] == 1
    assert json.loads(_one(lb.speech, model="patchy")["statuses"]) == {"missing": 8, "ok": 24}


def test_best_per_column_respects_direction_among_the_models_only(boards) -> None:
    lb = boards["after"]
    for metric in ("SI-SDR", "SI-SDRi", "duration-ratio"):
        rows = [r for r in lb.speech_metrics if r["metric"] == metric and r["role"] == "model"]
        pick = min if metric == "duration-ratio" else max
        assert {r["model"] for r in rows if r["best"]} == {
            r["model"] for r in rows if r["value"] == pick(x["value"] for x in rows)
        }
        assert not _one(lb.speech_metrics, model="ref", metric=metric)["best"]
        assert not _one(lb.speech_metrics, model="copy", metric=metric)["best"]  # a floor is a yardstick
    assert _one(lb.speech_metrics, model="patchy", metric="SI-SDR")["best"]  # half clean beats the noisy input


def test_audio_tasks_stay_out_of_the_dimension_tables(boards) -> None:
    before, after, root = boards["before"], boards["after"], boards["root"]
    assert after.dimensions == before.dimensions
    for name in ("dimensions.csv",):
        assert (root / "after/tables" / name).read_bytes() == (root / "before/tables" / name).read_bytes()
    text_rows = [r for r in after.tasks if r["task"] != AUDIO]
    assert text_rows == before.tasks
    before_csv = (root / "before/tables/tasks.csv").read_text().splitlines()
    after_csv = (root / "after/tables/tasks.csv").read_text().splitlines()
    assert [line for line in after_csv if line.split(",")[0] not in ("ref", "copy", "patchy")] == before_csv
    index = (root / "after/site/index.html").read_text()
    assert "not part of the dimension means" in index and 'href="speech.html"' in index
    assert "speech.html" not in (root / "before/site/index.html").read_text()
    assert not (root / "before/site/speech.html").exists() and before.speech == before.speech_gates == []


def test_exports_and_site(boards) -> None:
    root = boards["root"] / "after"
    data = json.loads((root / "tables/leaderboard.json").read_text())
    assert data["speech_gates"] == boards["after"].speech_gates and data["speech"] == boards["after"].speech
    for name in ("speech.csv", "speech_metrics.csv", "speech_gates.csv"):
        assert (root / "tables" / name).is_file() and (root / "site/data" / name).is_file()
    page = (root / "site/speech.html").read_text()
    assert "Sanity gates" in page and "reference-above-worst" in page and "<b>" in page
    assert "Speech output" in (root / f"site/tasks/{AUDIO}.html").read_text()
    assert "n/a (no run" in (root / "site/models/text-only.html").read_text()
    assert "valid output" in (root / "site/models/patchy.html").read_text()
    assert "## Speech output: sanity gates" in (root / "tables/leaderboard.md").read_text()


def test_a_rebuild_without_the_cache_writes_the_same_bytes(boards, tmp_path: Path) -> None:
    _build(boards["subs"], boards["tasks"], tmp_path)
    after = boards["root"] / "after"
    for name in (
        "tables/speech.csv",
        "tables/speech_metrics.csv",
        "tables/speech_gates.csv",
        "tables/leaderboard.json",
    ):
        assert (tmp_path / name).read_bytes() == (after / name).read_bytes(), name
    for name in ("site/speech.html", "site/index.html", f"site/tasks/{AUDIO}.html"):
        assert (tmp_path / name).read_bytes() == (after / name).read_bytes(), name


def test_gates_pass_and_are_reported_not_run_with_a_reason(boards) -> None:
    gates = {g["gate"]: g for g in boards["after"].speech_gates}
    assert set(gates) == {g.id for g in GATES}
    assert gates["reference-above-worst"]["status"] == "pass" and gates["reference-above-worst"]["tasks"] == AUDIO
    for gate in ("reference-wer", "same-speaker-similarity", "clean-dnsmos"):
        assert gates[gate]["status"] == "not run" and gates[gate]["reason"].startswith("no audio task reports")


def test_a_reference_scored_like_a_missing_answer_fails_its_gate(boards, tmp_path: Path) -> None:
    subs, tasks = tmp_path / "subs", boards["tasks"]
    evaluate(BrokenReference(), AUDIO, subs, tasks_root=tasks, name="bad-ref")
    evaluate(CopyInputAdapter(), AUDIO, subs, tasks_root=tasks, name="copy")
    card = json.loads((subs / "bad-ref" / "model.json").read_text())
    (subs / "bad-ref" / "model.json").write_text(json.dumps({**card, "reference_system": True}))
    assert role_of(read_model_card(subs / "bad-ref")) == "reference"
    lb = _build(subs, tasks, tmp_path)
    gate = _one(lb.speech_gates, gate="reference-above-worst")
    assert gate["status"] == "fail" and "bad-ref SI-SDR on CleanTone" in gate["reason"]
    assert "reference-above-worst" in (tmp_path / "site/index.html").read_text()  # failed gates named on the index


def _row(model: str, role: str, metric: str, value: float, task: str = "T") -> dict:
    return {"model": model, "role": role, "task": task, "metric": metric, "task_metric": False, "value": value}


def test_gates_by_family_and_role() -> None:
    wer, retrieval, mos = "WER[whisper-tiny.en]", "retrieval-acc[GE2E]", "DNSMOS-OVRL[speechmos]"
    gate = {g.id: g for g in GATES}
    assert run_gate(gate["reference-wer"], [_row("r", "reference", wer, 0.1)])["status"] == "pass"
    failed = run_gate(gate["reference-wer"], [_row("r", "reference", wer, 0.7)])
    assert failed["status"] == "fail" and "0.700 > 0.6" in failed["reason"]
    no_ref = run_gate(gate["reference-wer"], [_row("m", "model", wer, 0.1)])
    assert no_ref["status"] == "not run" and "no reference row" in no_ref["reason"]
    same = [_row("r", "reference", retrieval, 0.95), _row("c", "floor", retrieval, 1.0)]
    assert run_gate(gate["same-speaker-similarity"], same)["status"] == "pass"  # a floor returning the prompt
    confused = [_row("r", "reference", retrieval, 0.5)]
    assert run_gate(gate["same-speaker-similarity"], confused)["status"] == "fail"
    pesq = _row("r", "reference", "PESQ-WB", 4.5)  # the input is the reference degraded: the gate applies
    noisy = [_row("r", "reference", mos, 3.4), _row("c", "floor", mos, 2.1), pesq]
    assert run_gate(gate["clean-dnsmos"], noisy)["status"] == "pass"
    assert run_gate(gate["clean-dnsmos"], [_row("r", "reference", mos, 3.4), pesq])["reason"] == "T: no floor row"
    clean_input = [_row("r", "reference", mos, 2.2), _row("c", "floor", mos, 2.3)]  # copy-input of clean speech
    assert run_gate(gate["clean-dnsmos"], clean_input)["status"] == "not run"
    other_family = [_row("r", "reference", "DNSMOS-SIG[speechmos]", 1.0), _row("c", "floor", mos, 2.0), pesq]
    assert run_gate(gate["clean-dnsmos"], other_family)["status"] == "not run"  # SIG is not an overall score
    worst = [_row("r", "reference", "SI-SDR", -50.0), _row("r", "reference", "duration-ratio", 0.2)]
    failed = run_gate(gate["reference-above-worst"], worst)
    assert failed["status"] == "fail" and "SI-SDR" in failed["reason"] and "duration" not in failed["reason"]


def test_pooled_wer_stays_pooled() -> None:
    wer = "WER[whisper-tiny.en]"
    task = SimpleNamespace(name="T", key="T@1", card=SimpleNamespace(reported_metrics=[wer], metric=wer, version="1"))
    counts = [(1, 2), (0, 10), (3, 4)]  # per-example rates 0.5, 0, 0.75: their mean is not the pooled rate
    records = [
        Record(
            task="T",
            task_version="1",
            task_hash="h",
            id=str(i),
            split="test",
            instruction="say it",
            reference="words",
            output="",
            tier="audio",
            score=e / u,
            speech={wer: {"value": e / u, "status": "ok", "detail": {"errors": e, "ref_units": u}}},
        )
        for i, (e, u) in enumerate(counts)
    ]
    (row,) = metric_rows("m", "model", task, records)  # type: ignore[arg-type]
    assert row["value"] == pytest.approx(4 / 16) and not math.isclose(row["value"], (0.5 + 0 + 0.75) / 3)
    assert row["direction"] == "lower" and row["ci_low"] <= 0.25 <= row["ci_high"]


def test_a_model_that_also_writes_shows_the_same_metric_on_its_text_side_by_side() -> None:
    wer, acc = "WER[whisper-tiny.en]", "answer-acc[whisper-tiny.en]"
    card = SimpleNamespace(reported_metrics=[acc, wer], metric=acc, version="1")
    task = SimpleNamespace(name="T", key="T@1", card=card)
    said = [("seven", "It's seven.", "seven"), ("two", "", "two"), ("green", "I think it is blue.", "blue")]
    records = [
        Record(
            task="T", task_version="1", task_hash="h", id=str(i), split="test", instruction="answer aloud",
            reference=ref, output=text, tier="audio", score=1.0,
            speech={m: {"value": 1.0 if m == acc else 0.0, "status": "ok",
                        "detail": {"errors": 0, "ref_units": 1, "transcript": heard}} for m in (acc, wer)},
        )
        for i, (ref, text, heard) in enumerate(said)
    ]  # fmt: skip
    rows = {r["metric"]: r for r in metric_rows("m", "model", task, records)}  # type: ignore[arg-type]
    assert rows[acc]["value"] == 1.0 and rows[acc]["text_value"] == pytest.approx(1 / 3)  # only "It's seven."
    assert rows[wer]["text_value"] == pytest.approx((2 + 1 + 5) / 3)  # pooled: insertions, a missing text, a miss
    silent = [r.model_copy(update={"output": ""}) for r in records]
    assert {r["text_value"] for r in metric_rows("m", "model", task, silent)} == {None}  # type: ignore[arg-type]
