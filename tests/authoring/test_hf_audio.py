"""Dynamic-SUPERB instances whose answer is audio: import, validate, export, import again, run and score."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from benchmark.adapters.base import Adapter, Query
from benchmark.authoring import catalog as cat
from benchmark.authoring.hf_audio import DISTRACTOR_COLUMN, REFERENCE_COLUMN, column_roles
from benchmark.cli import app
from benchmark.runner import evaluate
from benchmark.scoring.speech.answer import AudioAnswer
from benchmark.submission.records import read_records
from benchmark.task import load_task
from benchmark.task.card import TaskCard
from benchmark.task.checks import validate_task

datasets = pytest.importorskip("datasets")
runner = CliRunner()
SR = 22_050  # the source's rate: the import resamples to 16 kHz
LICENCE = "CC-BY-4.0"
DNSMOS, F0, PESQ = "DNSMOS-OVRL[speechmos]", "F0-mean-diff[pyworld]", "PESQ-WB"
LYRICS = ["la la la", "sing a song", "the moon is bright", "twinkle little star"]


def _voice(seed: int, seconds: float = 1.0, sr: int = SR) -> np.ndarray:
    """A voiced, syllable-like harmonic signal (F0 110-190 Hz): PESQ, DNSMOS and WORLD can all read it."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 110 + 60 * rng.random() + 20 * np.sin(2 * np.pi * (1 + rng.random()) * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    x = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = (0.5 * (1 - np.cos(2 * np.pi * (3 + rng.random()) * t))) ** 2
    return (0.45 * x * envelope / np.abs(x).max()).astype(np.float32)


def _cell(samples: np.ndarray, name: str = "x.wav") -> dict:
    buf = io.BytesIO()
    sf.write(buf, samples, SR, format="WAV")
    return {"bytes": buf.getvalue(), "path": name}


INSTRUCTIONS = {
    "separation": "Separate the two speakers of this mixture ({}).",
    "enhancement": "Remove the noise from this recording ({}).",
    "conversion": "Say this again, sounding happy ({}).",
    "synthesis": "Sing the following lyrics ({}).",
}


def _rows(kind: str, i: int) -> dict:
    """One row of an instance of ``kind`` (the columns Dynamic-SUPERB's audio-generation instances use)."""
    seconds = 1.0 + (i % 5) / 10
    clean = _voice(i, seconds)
    row = {"file": f"{kind}_{i}.wav", "instruction": INSTRUCTIONS[kind].format(i % 6)}
    if kind == "separation":
        other = _voice(10_000 + i, seconds)
        row |= {"audio": _cell(clean + other), "label": _cell(clean), "label2": _cell(other)}
    elif kind == "enhancement":
        noisy = clean + np.random.default_rng(i).normal(0, 0.02, clean.shape).astype(np.float32)
        row |= {"audio": _cell(noisy), "label": _cell(clean), "label_transcription": LYRICS[i % 4]}
    elif kind == "conversion":
        row |= {"audio": _cell(_voice(20_000 + i, seconds)), "label": _cell(clean)}
        row |= {f"wrong_label_{k}": _cell(_voice(30_000 + 10 * i + k, seconds)) for k in (1, 2, 3)}
    else:
        row |= {"label": _cell(clean), "text": LYRICS[i % 4]}
    return row


def _instance(kind: str, n_test: int = 32, n_train: int = 4, edit=None):
    struct = {"bytes": datasets.Value("binary"), "path": datasets.Value("string")}
    splits = {}
    for split, n, offset in (("train", n_train, 1000), ("test", n_test, 0)):
        table = [_rows(kind, i + offset) for i in range(n)]
        if edit is not None:
            edit(split, table)
        columns = {c: [r[c] for r in table] for c in table[0]}
        features = {c: struct if isinstance(v[0], dict) else datasets.Value("string") for c, v in columns.items()}
        ds = datasets.Dataset.from_dict(columns, features=datasets.Features(features))
        for col in [c for c, f in features.items() if f is struct and c != "label2"]:  # label2 stays a plain struct
            ds = ds.cast_column(col, datasets.Audio(sampling_rate=SR))
        splits[split] = ds
    return datasets.DatasetDict(splits)


def _save(kind: str, folder: Path) -> Path:
    """save_to_disk for some kinds, the hub's parquet layout for the others."""
    dd = _instance(kind)
    if kind in ("separation", "synthesis"):
        (folder / "data").mkdir(parents=True)
        for split, ds in dd.items():
            ds.to_parquet(str(folder / "data" / f"{split}-00000-of-00001.parquet"))
    else:
        dd.save_to_disk(str(folder))
    return folder


def _import(source: Path, name: str, out: Path, *extra: str):
    args = ["import-hf", str(source), "--name", name, "--dimension", "degradation", "--license", LICENCE]
    return runner.invoke(app, [*args, "--task-type", "audio", "--out", str(out), *extra])


NAMES = {"separation": "TwoSpeakers", "enhancement": "Denoise", "conversion": "HappyVoice", "synthesis": "SingLyrics"}


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sources")
    return {kind: _save(kind, root / kind) for kind in NAMES}


@pytest.fixture(scope="module")
def tasks(sources, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tasks")
    for kind, name in NAMES.items():
        result = _import(sources[kind], name, out)
        assert result.exit_code == 0, result.output
    return out


def _checked(folder: Path):
    report = validate_task(folder, deep=True)
    assert not report.errors, [str(f) for f in report.errors]
    return load_task(folder)


def test_separation_has_one_reference_per_label_column_and_scores_si_sdri(tasks) -> None:
    task = _checked(tasks / "TwoSpeakers")
    card = task.card
    assert (card.task_type, card.metric, card.audio_inputs, card.labels) == ("audio", "SI-SDRi", 1, None)
    assert card.output is not None and card.output.model_dump(exclude_none=True) == {
        "sources": 2, "max_seconds": 4.0, "speaker": "source", "metrics": ["SI-SDR"]
    }  # fmt: skip
    first = task.split("train")[0]
    assert first.id == "separation_1000"
    assert first.reference_paths == ["audio/reference/separation_1000.flac", "audio/reference2/separation_1000.flac"]
    assert first.label == "" and first.text is None and first.distractors is None
    mixture, (s1, s2) = task.load_audio(first)[0], task.load_references(first)
    np.testing.assert_allclose(mixture, s1 + s2, atol=2e-3)  # the sources survived resampling, in order
    assert "SI-SDRi" in (task.root / "README.md").read_text()


def test_enhancement_keeps_the_label_words_out_of_the_input(tasks) -> None:
    task = _checked(tasks / "Denoise")
    assert (task.card.metric, task.card.output.metrics) == (PESQ, ["ESTOI", DNSMOS])  # type: ignore[union-attr]
    assert task.card.output.sources == 1  # type: ignore[union-attr]
    first = task.split("test")[0]
    assert first.label == LYRICS[0] and first.text is None  # label_transcription: the label, not given
    assert first.reference_audio == "audio/reference/enhancement_0.flac"


def test_conversion_reads_distractor_columns(tasks) -> None:
    task = _checked(tasks / "HappyVoice")
    assert (task.card.metric, task.card.output.metrics) == (F0, ["duration-ratio", DNSMOS])  # type: ignore[union-attr]
    first = task.split("test")[0]
    assert first.distractors == [f"audio/distractor{k}/conversion_0.flac" for k in (1, 2, 3)]
    assert task.card.audio_inputs == 1 and isinstance(first.reference_audio, str)


def test_synthesis_has_no_audio_input_and_the_text_is_what_to_sing(tasks) -> None:
    task = _checked(tasks / "SingLyrics")
    card = task.card
    assert (card.audio_inputs, card.metric, card.output.speaker) == (0, F0, "any")  # type: ignore[union-attr]
    first = task.split("test")[1]
    assert first.audio == [] and first.text == first.label == LYRICS[1]
    assert "none (the input is text)" in (task.root / "README.md").read_text()


def test_metric_overrides_the_task_metric_and_a_missing_need_is_refused(sources, tmp_path) -> None:
    result = _import(sources["synthesis"], "SungWords", tmp_path, "--metric", "WER[whisper-tiny.en]")
    assert result.exit_code == 0, result.output
    card = _checked(tmp_path / "SungWords").card
    assert card.metric == "WER[whisper-tiny.en]" and card.output.metrics == [F0, "duration-ratio", DNSMOS]  # type: ignore[union-attr]
    result = _import(sources["synthesis"], "Cloned", tmp_path, "--metric", "SIM[GE2E]")
    assert result.exit_code == 1 and "SIM[GE2E] needs a speaker_prompt clip" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "Cloned").exists()


def test_an_empty_reference_cell_is_a_one_line_error(tmp_path) -> None:
    def drop(split: str, table: list[dict]) -> None:
        if split == "test":
            table[3]["label2"] = None

    _instance("separation", edit=drop).save_to_disk(str(tmp_path / "src"))
    result = _import(tmp_path / "src", "Broken", tmp_path / "out")
    assert result.exit_code == 1 and "row 3 column label2: the audio cell is empty" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out" / "Broken").exists()


def test_a_text_label_is_refused_for_an_audio_task(tmp_path) -> None:
    from helpers import make_task

    from benchmark.authoring.hf import export_hf

    export_hf(make_task(tmp_path / "t"), tmp_path / "pq")
    result = _import(tmp_path / "pq", "Wrong", tmp_path / "out")
    assert result.exit_code == 1 and "the label column holds Value, not audio" in result.output


@pytest.mark.parametrize(
    ("column", "role"),
    [("label", "reference"), ("label2", "reference"), ("label_3", "reference"), ("Label1", "reference"),
     ("distractor1", "distractor"), ("distractors_2", "distractor"), ("negative1", "distractor"),
     ("option2", "distractor"), ("wrong_label_3", "distractor"), ("WrongLabel", "distractor"),
     ("label_transcription", None), ("labels", None), ("optional", None), ("audio2", None)],
)  # fmt: skip
def test_column_patterns(column, role) -> None:
    found = "reference" if REFERENCE_COLUMN.match(column) else "distractor" if DISTRACTOR_COLUMN.match(column) else None
    assert found == role


def test_columns_are_sorted_into_roles() -> None:
    audio = datasets.Audio()
    names = ["file", "audio2", "label2", "enrollment", "instruction", "label", "distractor2", "negative1",
             "speaker_prompt", "audio", "sentence", "label_text", "wrong_label_1"]  # fmt: skip
    features = {n: datasets.Value("string") if n in ("file", "instruction", "sentence", "label_text") else audio
                for n in names}  # fmt: skip
    roles = column_roles(names, features, "x")
    assert roles.inputs == ("audio", "audio2", "enrollment") and roles.references == ("label", "label2")
    assert roles.distractors == ("negative1", "wrong_label_1", "distractor2")
    assert (roles.speaker_prompt, roles.text, roles.label_text) == ("speaker_prompt", "sentence", "label_text")


def test_export_then_import_round_trips(tasks, tmp_path) -> None:
    for name in NAMES.values():
        original = load_task(tasks / name)
        result = runner.invoke(app, ["export-hf", str(tasks / name), str(tmp_path / "hf" / name)])
        assert result.exit_code == 0, result.output
        result = _import(tmp_path / "hf" / name, name, tmp_path / "back", *_languages(original.card))
        assert result.exit_code == 0, result.output
        back = _checked(tmp_path / "back" / name)
        keep = {"metric", "audio_inputs", "output", "task_type", "labels"}
        assert back.card.model_dump(include=keep) == original.card.model_dump(include=keep)
        assert sorted(back.card.instructions) == sorted(original.card.instructions)  # the order of the splits read
        assert len(back.examples) == len(original.examples)
        by_id = {e.id: e for e in back.examples}
        for a in original.examples:
            b = by_id[a.id]
            assert a.model_dump(exclude={"audio", "reference_audio", "distractors"}) == b.model_dump(
                exclude={"audio", "reference_audio", "distractors"}
            )
            assert (len(a.audio_paths), len(a.reference_paths)) == (len(b.audio_paths), len(b.reference_paths))
            for x, y in zip(
                [*a.audio_paths, *a.reference_paths, *(a.distractors or [])],
                [*b.audio_paths, *b.reference_paths, *(b.distractors or [])],
                strict=True,
            ):
                np.testing.assert_allclose(original.load_file(x), back.load_file(y), atol=1e-4)


def _languages(card: TaskCard) -> list[str]:
    return [a for code in card.languages for a in ("--language", code)]


class ReferenceVoice(Adapter):
    """Answers with the example's own reference (one clip, or one per source): every metric can read it."""

    reads_references = True
    answers = frozenset({"audio"})

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[AudioAnswer]:
        return [
            AudioAnswer(samples=q.reference[0] if len(q.reference) == 1 else list(q.reference), rate=16_000)
            for q in batch
        ]


def test_imported_tasks_run_end_to_end_and_every_metric_scores(tasks, tmp_path) -> None:
    # Four test examples a task: DNSMOS takes about two seconds a clip on a CPU.
    evaluate(ReferenceVoice(), list(NAMES.values()), tmp_path / "subs", tasks_root=tasks, name="ref", limit=4)
    for name in NAMES.values():
        card = load_task(tasks / name).card
        records = read_records(tmp_path / "subs" / "ref" / "runs" / f"{card.key}.jsonl")
        assert len(records) == 4
        for r in records:
            assert set(r.speech) == set(card.reported_metrics)
            assert {s["status"] for s in r.speech.values()} == {"ok"}, (name, r.speech)
        values = {m: [r.speech[m]["value"] for r in records] for m in card.reported_metrics}
        if "SI-SDR" in values:
            assert min(values["SI-SDR"]) > 25  # the references themselves, through FLAC
        if PESQ in values:
            assert min(values[PESQ]) > 4
        if F0 in values:
            assert max(values[F0]) < 5  # cents


# --- the catalog's audio rows ----------------------------------------------------------------

KIND_OF_ROW = {
    "SuperbSS_Libri2Mix-Test": "separation",
    "SongSeparation_SingSet": "separation",
    "SuperbSE_VoiceBankDEMAND-Test": "enhancement",
    "EmotionalVoiceConversion_ESD": "conversion",
    "SingingVoiceSynthesis_ACEOpencpop": "synthesis",
}


def test_the_catalog_lists_and_imports_its_audio_rows(tmp_path) -> None:
    rows = {r.instance: r for r in cat.load_catalog("dynamic-superb-phase2") if r.task_type == "audio"}
    assert set(rows) == set(KIND_OF_ROW)
    result = runner.invoke(app, ["import-hf", "--catalog", "dynamic-superb-phase2", "--task-type", "audio", "--list"])
    assert result.exit_code == 0 and len(result.output.splitlines()) == 5 and "skipped" not in result.output
    mirror = tmp_path / "mirror"
    for instance, kind in KIND_OF_ROW.items():
        folder = _save(kind, mirror / rows[instance].hub_path)
        (folder / "README.md").write_text(f"---\nlicense: cc-by-4.0\n---\n# {instance}\n")
    args = ["import-hf", "--catalog", "dynamic-superb-phase2", "--task-type", "audio", "--mirror", str(mirror)]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "tasks")])
    assert result.exit_code == 0, result.output
    assert "5 imported, 0 imported for local use only, 0 already present, 0 skipped, 0 failed" in result.output
    expected = {"separation": "SI-SDRi", "enhancement": PESQ, "conversion": F0, "synthesis": F0}
    for instance, kind in KIND_OF_ROW.items():
        task = _checked(tmp_path / "tasks" / rows[instance].name)
        assert task.card.metric == rows[instance].metric == expected[kind]
        assert json.loads((task.root / ".import.json").read_text())["instance"] == instance


@pytest.mark.parametrize(("metric", "message"), [("", "metric ''"), ("wer", "does not score audio"), ("SI-SDR", None)])
def test_an_audio_row_names_an_audio_metric(metric, message) -> None:
    row = next(r for r in cat.load_catalog("dynamic-superb-phase2") if r.task_type == "audio").model_dump()
    if message is None:
        assert cat.CatalogRow.model_validate(row | {"metric": metric}).metric == metric
    else:
        with pytest.raises(ValueError, match=message):
            cat.CatalogRow.model_validate(row | {"metric": metric})
