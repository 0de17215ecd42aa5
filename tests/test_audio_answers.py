"""Audio answers through the one orchestrator: stored once by hash, every example scored, re-scored from files."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from helpers import make_audio_task, make_task
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmark.adapters.base import Adapter, AdapterError, Query
from benchmark.runner import RunError, evaluate, rescore
from benchmark.scoring.speech.answer import AudioAnswer
from benchmark.submission.records import read_records
from benchmark.task.card import TaskCard


class Denoiser(Adapter):
    """Returns the reference (a perfect system), at 48 kHz and in stereo: the harness must cope with both."""

    reads_references = True
    answers = frozenset({"audio"})

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[AudioAnswer]:
        out = []
        for q in batch:
            clean = np.interp(np.arange(0, len(q.reference[0]), 1 / 3), np.arange(len(q.reference[0])), q.reference[0])
            out.append(AudioAnswer(samples=np.stack([clean, clean], axis=1).astype(np.float32), rate=48_000))
        return out


class CopyInput(Adapter):
    answers = frozenset({"audio"})

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[AudioAnswer]:
        return [AudioAnswer(samples=q.audio[0], rate=16_000, text="here it is") for q in batch]


class Broken(Adapter):
    """Every kind of broken answer, in turn."""

    answers = frozenset({"audio"})
    KINDS = ("none", "nan", "silent", "rate", "bytes", "huge", "two", "text", "empty")

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[AudioAnswer | str]:
        out: list[AudioAnswer | str] = []
        for q in batch:
            kind = self.KINDS[int(q.id) % len(self.KINDS)]
            clip = q.audio[0]
            out.append(
                {
                    "none": AudioAnswer(),
                    "nan": AudioAnswer(samples=np.full(8000, np.nan, dtype=np.float32), rate=16_000),
                    "silent": AudioAnswer(samples=np.zeros(8000, dtype=np.float32), rate=16_000),
                    "rate": AudioAnswer(samples=clip, rate=-5),
                    "bytes": AudioAnswer(data=b"RIFF not really a wave file", format="wav"),
                    "huge": AudioAnswer(samples=np.zeros((16_000 * 100,), dtype=np.int16), rate=16_000),
                    "two": AudioAnswer(samples=[clip, clip], rate=16_000),
                    "text": "I cannot produce audio.",
                    "empty": AudioAnswer(samples=np.zeros(0, dtype=np.float32), rate=16_000),
                }[kind]
            )
        return out


def _run(tmp_path: Path, model: Adapter | str, name: str) -> list:
    tasks = tmp_path / "tasks"
    if not (tasks / "CleanTone").is_dir():
        make_audio_task(tasks)
    evaluate(model, tasks="CleanTone", out=tmp_path / "subs", tasks_root=tasks, name=name)
    return read_records(tmp_path / "subs" / name / "runs" / "CleanTone@1.0.0.jsonl")


def test_a_perfect_answer_is_stored_once_as_flac_at_its_rate_and_scores_best(tmp_path) -> None:
    records = _run(tmp_path, Denoiser(), "denoiser")
    assert len(records) == 32 and {r.tier for r in records} == {"audio"}
    for r in records:
        assert r.audio_statuses == ["ok"] and r.audio is not None and len(r.audio) == 1
        path = tmp_path / "subs/denoiser/audio" / r.audio[0][:2] / f"{r.audio[0]}.flac"
        info = sf.info(path)
        assert (info.samplerate, info.channels, info.format) == (48_000, 2, "FLAC")
        assert abs(float(np.abs(sf.read(path)[0]).max()) - 0.3) < 1e-3  # the level kept (helpers.tone's amplitude)
        assert set(r.speech) == {"SI-SDR", "SI-SDRi", "duration-ratio"}
        assert r.score == r.speech["SI-SDR"]["value"] > 25  # the reference itself, through 48 kHz and back
        assert abs(r.speech["duration-ratio"]["value"] - 1) < 0.01
    assert len({r.audio[0] for r in records}) == 32  # content-addressed: distinct clips, distinct files


def test_copy_input_scores_below_the_reference_and_keeps_its_text_channel(tmp_path) -> None:
    best = _run(tmp_path, Denoiser(), "denoiser")
    floor = _run(tmp_path, CopyInput(), "copy")
    assert {r.output for r in floor} == {"here it is"}
    assert all(f.score < b.score for f, b in zip(floor, best, strict=True))
    assert all(abs(r.speech["SI-SDRi"]["value"]) < 1e-3 for r in floor)  # the input itself gains nothing


def test_every_broken_answer_gets_a_status_and_the_worst_value_and_nothing_is_skipped(tmp_path) -> None:
    records = _run(tmp_path, Broken(), "broken")
    assert len(records) == 32
    by_kind = {Broken.KINDS[int(r.id) % len(Broken.KINDS)]: r for r in records}
    expected = {
        "none": "missing",
        "nan": "non_finite",
        "silent": "silent",
        "rate": "unreadable",
        "bytes": "unreadable",
        "huge": "too_long",
        "two": "wrong_count",
        "text": "missing",
        "empty": "empty",
    }
    for kind, status in expected.items():
        r = by_kind[kind]
        statuses = {s["status"] for s in r.speech.values()}
        assert statuses == {status}, (kind, r.speech)
        assert r.score == -50.0 and math.isfinite(r.score)
    stored = [p for p in (tmp_path / "subs/broken/audio").rglob("*.flac")]
    assert len(stored) == len({h for r in records for h in r.audio or [] if h})  # only listenable clips written
    assert by_kind["text"].output == "I cannot produce audio."


def test_a_text_model_is_not_run_on_an_audio_task_and_a_speaking_one_not_on_a_text_task(tmp_path) -> None:
    tasks = tmp_path / "tasks"
    make_audio_task(tasks)
    make_task(tasks)
    summaries = evaluate("majority", tasks=["CleanTone", "ToneHeight"], out=tmp_path / "subs", tasks_root=tasks)
    assert [s.task for s in summaries] == ["ToneHeight"]
    assert not (tmp_path / "subs/majority/runs/CleanTone@1.0.0.jsonl").exists()
    summaries = evaluate(CopyInput(), tasks=["CleanTone", "ToneHeight"], out=tmp_path / "subs", tasks_root=tasks)
    assert [s.task for s in summaries] == ["CleanTone"]


def test_rescoring_reads_the_stored_files_hits_the_cache_and_keeps_scores_when_audio_is_absent(tmp_path) -> None:
    records = _run(tmp_path, CopyInput(), "copy")
    submission = tmp_path / "subs/copy"
    run = submission / "runs/CleanTone@1.0.0.jsonl"
    cache = submission / "audio/scores.jsonl"
    lines = cache.read_text().count("\n")
    rescore(submission, tmp_path / "tasks")
    assert read_records(run) == records and cache.read_text().count("\n") == lines  # every score from the cache
    cache.unlink()
    rescore(submission, tmp_path / "tasks")
    assert [r.speech for r in read_records(run)] == [r.speech for r in records]  # recomputed from the FLAC files
    shutil.rmtree(submission / "audio")  # a fresh clone: records, no audio
    rescore(submission, tmp_path / "tasks")
    assert read_records(run) == records


def test_an_adapter_returning_audio_for_a_text_task_is_a_clear_error(tmp_path) -> None:
    class Confused(Adapter):
        answers = frozenset({"text", "audio"})

        def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[AudioAnswer]:
            return [AudioAnswer(samples=np.ones(100), rate=16_000) for _ in batch]

    tasks = tmp_path / "tasks"
    make_task(tasks)
    with pytest.raises((RunError, AdapterError), match="AudioAnswer"):
        evaluate(Confused(), tasks="ToneHeight", out=tmp_path / "subs", tasks_root=tasks)


def test_the_records_say_which_clip_is_which(tmp_path) -> None:
    records = _run(tmp_path, CopyInput(), "copy")
    raw = json.loads((tmp_path / "subs/copy/runs/CleanTone@1.0.0.jsonl").read_text().splitlines()[0])
    assert raw["audio"] == records[0].audio and raw["audio_statuses"] == ["ok"]
    assert raw["speech"]["SI-SDR"]["detail"]["assignment"] == [0]


@st.composite
def _answers(draw) -> AudioAnswer:
    kind = draw(st.sampled_from(["array", "list", "bytes", "sources", "none"]))
    rate = draw(st.one_of(st.sampled_from([8_000, 16_000, 22_050, 44_100, 48_000]), st.integers(-10, 10**6),
                          st.floats(allow_nan=True), st.none(), st.just("16000")))  # fmt: skip
    n = draw(st.integers(0, 3_000))
    dtype = draw(st.sampled_from([np.float32, np.float64, np.int16, np.int32, np.uint8, np.complex64, np.bool_]))
    channels = draw(st.sampled_from([None, 1, 2, 9]))
    shape = (n,) if channels is None else draw(st.sampled_from([(n, channels), (channels, n)]))
    scale = draw(st.sampled_from([0.0, 1e-5, 0.5, 3.0, np.inf, np.nan]))
    samples = (np.random.default_rng(n).normal(size=shape) * scale).astype(dtype)
    if kind == "array":
        return AudioAnswer(samples=samples, rate=rate)
    if kind == "list":
        return AudioAnswer(samples=samples.tolist(), rate=rate)
    if kind == "sources":
        return AudioAnswer(samples=[samples, samples[: n // 2]], rate=rate)
    if kind == "bytes":
        return AudioAnswer(data=draw(st.binary(max_size=64)), format="wav")
    return AudioAnswer(text=draw(st.text(max_size=20)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answer=_answers())
def test_fuzzed_audio_answers_always_get_a_status_and_a_score_never_a_traceback(tmp_path_factory, answer) -> None:
    from benchmark.scoring.speech.output import STATUSES, check_output
    from benchmark.submission.audio_scorer import AudioScorer
    from benchmark.submission.audio_store import AudioStore, ScoreCache
    from benchmark.task import load_task

    root = tmp_path_factory.getbasetemp() / "fuzz"
    if not (root / "CleanTone").is_dir():
        make_audio_task(root)
    task = load_task(root / "CleanTone")
    store = tmp_path_factory.mktemp("store")
    score = AudioScorer(task, AudioStore(store), ScoreCache(store / "scores.jsonl"))
    result = score(task.split("test")[0], answer)
    assert result.audio is not None and set(result.speech) == {"SI-SDR", "SI-SDRi", "duration-ratio"}
    assert {s["status"] for s in result.speech.values()} <= set(STATUSES) | {"unscorable"}
    assert math.isfinite(result.score)
    for digest, status in zip(result.audio.hashes, result.audio.statuses, strict=True):
        clip = answer.clips()[result.audio.hashes.index(digest)] if status == "ok" else None
        arr = np.asarray(clip) if clip is not None else np.zeros(0)
        in_range = clip is not None and (arr.dtype.kind in "iu" or (arr.dtype.kind == "f" and np.abs(arr).max() <= 1))
        if in_range:  # the file holds what was checked: 24-bit PCM of the same samples (each channel clipped first)
            _, direct = check_output(clip, answer.rate)
            _, stored = AudioStore(store).read(digest, max_seconds=60)
            assert direct is not None and stored is not None and np.max(np.abs(direct - stored)) < 1e-3


def test_a_model_never_reads_the_folders_of_tasks_it_cannot_answer(tmp_path) -> None:
    from benchmark.runner import RunRequest, run

    tasks = tmp_path / "tasks"
    audio = make_audio_task(tasks)
    make_task(tasks)
    (audio / "audio/0007.flac").write_bytes(b"not audio")  # a broken folder a text model has no reason to read
    result = run(RunRequest(spec="majority", tasks_root=tasks, out=tmp_path / "subs", name="m", batch_size=8))
    skipped = {p.task.key: p.skip for p in result.plans if p.skip}
    assert skipped == {"CleanTone@1.0.0": "CleanTone is answered with audio, and this model answers with text"}
    with pytest.raises(RunError, match="0007.flac"):  # a model that speaks loads it, and the contract refuses it
        evaluate(CopyInput(), tasks="CleanTone", out=tmp_path / "subs", tasks_root=tasks)


def test_a_record_names_a_stored_clip_by_its_hash_never_by_a_path(tmp_path) -> None:
    _run(tmp_path, CopyInput(), "copy")
    run = tmp_path / "subs/copy/runs/CleanTone@1.0.0.jsonl"
    lines = run.read_text().splitlines()
    first = json.loads(lines[0])
    first["audio"] = [str(tmp_path / "outside")]  # a committed record is untrusted
    run.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    with pytest.raises(RunError, match="not a valid record: String should match pattern"):
        rescore(tmp_path / "subs/copy", tmp_path / "tasks")


def test_a_damaged_stored_clip_is_never_scored_nor_cached(tmp_path) -> None:
    records = _run(tmp_path, CopyInput(), "copy")
    submission = tmp_path / "subs/copy"
    (submission / "audio/scores.jsonl").unlink()
    files = sorted((submission / "audio").rglob("*.flac"))
    saved = {p: p.read_bytes() for p in files}
    for p in files:
        p.write_bytes(saved[p][:200])  # half-copied
    rescore(submission, tmp_path / "tasks")
    assert read_records(submission / "runs/CleanTone@1.0.0.jsonl") == records  # kept as they were
    for p, data in saved.items():
        p.write_bytes(data)
    rescore(submission, tmp_path / "tasks")
    assert read_records(submission / "runs/CleanTone@1.0.0.jsonl") == records  # and nothing wrong was cached


def test_encoded_audio_declaring_too_much_is_refused_before_it_is_decoded(tmp_path) -> None:
    import io

    from benchmark.submission.audio_store import AudioStore

    buffer = io.BytesIO()
    sf.write(buffer, np.zeros((48_000 * 600, 2), dtype=np.float32), 48_000, format="FLAC")  # 10 min, ~100 kB
    stored = AudioStore(tmp_path).put(AudioAnswer(data=buffer.getvalue(), format="flac"), max_seconds=30)
    assert stored.statuses == ("too_long",) and stored.hashes == (None,)


def test_reference_systems_run_no_controls(tmp_path) -> None:
    from benchmark.adapters.cascade import CascadeAdapter

    make_task(tmp_path / "tasks")
    oracle = CascadeAdapter("pocketsphinx+smollm2", text_view="oracle")  # reads transcripts, so hearing is moot
    with pytest.raises(RunError, match="is a reference system"):
        evaluate(oracle, tasks="ToneHeight", out=tmp_path / "subs", tasks_root=tmp_path / "tasks", control="silence")
