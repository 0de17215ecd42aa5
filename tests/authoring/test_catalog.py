"""The Dynamic-SUPERB Phase 2 catalog and `bench import-hf --catalog` against a local mirror made here."""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from helpers import make_task, tone
from typer.testing import CliRunner

from benchmark.authoring import catalog as cat
from benchmark.authoring.hf import LOCAL_USE_LICENSE, MARKER
from benchmark.cli import app
from benchmark.findings import strict
from benchmark.task import load_task
from benchmark.task.checks import validate_task

datasets = pytest.importorskip("datasets")
runner = CliRunner()

CATALOG = "dynamic-superb-phase2"
# Real rows of the shipped catalog, one per kind the importer must handle.
CLASSIFICATION = "EnvironmentRecognition_ESC50"
REGRESSION = "AudioDurationPrediction_NTUML2021"
GENERATION = "MultiLingualSpeechRecognition_MLS-en"
MULTI_AUDIO = "SpeakerVerification_VCTK"
OPEN_ENDED = "EmotionChangeDetection"
IMPORTABLE = (CLASSIFICATION, REGRESSION, GENERATION, MULTI_AUDIO, OPEN_ENDED)
# The audio rows (the answer is audio) are imported in test_hf_audio.py.


@pytest.fixture(autouse=True)
def _offline(monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


def _row(instance: str) -> cat.CatalogRow:
    return next(r for r in cat.load_catalog(CATALOG) if r.instance == instance)


# --- the shipped catalog -------------------------------------------------------------------


def test_every_row_is_complete_and_well_formed() -> None:
    rows = cat.load_catalog(CATALOG)
    assert len(rows) == cat.provenance(CATALOG)["confirmed_instances"] == 259
    assert len({r.name for r in rows}) == len({r.hub_path for r in rows}) == len(rows)
    for row in rows:
        assert row.task_type and row.dimension, row.instance
        assert row.metric in cat.KNOWN_METRICS and row.skip_reason is None, row.instance
        assert cat.HUB_PATH.match(row.hub_path) and row.hub_path.startswith("DynamicSuperb/"), row.instance
        assert cat.REVISION.match(row.revision), row.instance


def test_rows_follow_the_documented_rules() -> None:
    for row in cat.load_catalog(CATALOG):
        source = {
            "InstanceName": row.instance,
            "HuggingfacePath": row.hub_path,
            "Version": row.revision,
            "Category": row.ds_category,
            "Note": row.note,
            **{k.title(): str(getattr(row, k)).upper() for k in ("speech", "music", "audio")},
        }
        assert cat.derive_row(source, row.license) == row


def test_provenance_names_the_source() -> None:
    source = cat.provenance(CATALOG)
    assert source["source_repository"] == "https://github.com/figisiwirf/dynamic-superb-utils"
    assert source["source_path"] == "DynamicSUPERB_ConfirmedTasks.csv"
    assert len(str(source["source_commit"])) == 40


@pytest.mark.parametrize(
    ("instance", "task_type", "dimension", "metric", "skip"),
    [
        ("SuperbASR_LibriSpeech-TestClean", "generation", "content", "wer", None),
        ("SuperbOODAsrZh_CommonVoice7-Test", "generation", "content", "cer", None),
        ("SuperbST_CoVoST2-Test", "generation", "semantics", "bleu", None),
        ("SongLyricRecognition_SingSet", "generation", "music", "wer", None),
        ("EmotionChangeDetection", "generation", "paralinguistics", "judge", None),
        ("SingingAutomaticMOSPrediction_SingMOS", "regression", "music", "pearson", None),
        ("PhoneSegmentCounting_VoxAngeles", "regression", "content", "mae", None),
        ("SpeakerVerification_VCTK", "classification", "speaker", "accuracy", None),
        ("NoiseDetection_VCTK_MUSAN-Music", "classification", "degradation", "accuracy", None),
        ("EnvironmentalSoundClassification_ESC50-ExteriorAndUrbanNoises", "classification", "audio", "accuracy", None),
        ("CatEmotionClassification_CatSoundClassificationDataset-V2", "classification", "audio", "accuracy", None),
        ("SuperbER_Iemocap-Session1", "classification", "paralinguistics", "accuracy", None),
        ("IntentClassification_FluentSpeechCommands-Action", "classification", "semantics", "accuracy", None),
        ("SoundEffectDetection_IDMT-SMT-Audio-Effects", "classification", "music", "accuracy", None),
        ("SuperbSE_VoiceBankDEMAND-Test", "audio", "degradation", "PESQ-WB", None),
        ("SuperbSS_Libri2Mix-Test", "audio", "degradation", "SI-SDRi", None),
        ("SongSeparation_SingSet", "audio", "music", "SI-SDRi", None),
        ("EmotionalVoiceConversion_ESD", "audio", "paralinguistics", "F0-mean-diff[pyworld]", None),
        ("SingingVoiceSynthesis_ACEOpencpop", "audio", "music", "F0-mean-diff[pyworld]", None),
    ],
)
def test_mapping_rules(instance, task_type, dimension, metric, skip) -> None:
    row = _row(instance)
    assert (row.task_type, row.dimension, row.metric, row.skip_reason) == (task_type, dimension, metric, skip)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"metric": "bogus"}, "metric 'bogus'"),
        ({"metric": "wer"}, "does not score classification"),
        ({"revision": "main"}, "not a commit id"),
        ({"hub_path": "no-owner"}, "not a hub dataset id"),
        ({"name": "lower"}, "not a task name"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_bad_catalog_line_names_file_and_line(tmp_path, change, message) -> None:
    good = _row(CLASSIFICATION).model_dump()
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(good | change) + "\n")
    with pytest.raises(cat.CatalogError, match=rf"c\.jsonl:2: .*{message}"):
        cat.read_catalog(path)


def test_duplicate_rows_are_refused(tmp_path) -> None:
    line = json.dumps(_row(CLASSIFICATION).model_dump())
    (tmp_path / "c.jsonl").write_text(f"{line}\n{line}\n")
    with pytest.raises(cat.CatalogError, match="appears twice"):
        cat.read_catalog(tmp_path / "c.jsonl")


def test_select_filters() -> None:
    rows = cat.load_catalog(CATALOG)
    assert {r.instance for r in cat.select(rows, only=["SpeakerVerification*"])} == {
        "SpeakerVerification_LibriSpeech-TestClean",
        "SpeakerVerification_VCTK",
    }
    assert [r.name for r in cat.select(rows, only=["SpeakerVerificationVCTK"])] == ["SpeakerVerificationVCTK"]
    music_regression = cat.select(rows, dimension="music", task_type="regression")
    assert [r.instance for r in music_regression] == ["SingingAutomaticMOSPrediction_SingMOS"]
    for bad, message in (({"dimension": "nope"}, "--dimension"), ({"only": ["Zzz*"]}, "matches no instance")):
        with pytest.raises(cat.CatalogError, match=message):
            cat.select(rows, **bad)


def test_list_prints_one_instance_a_line() -> None:
    result = runner.invoke(app, ["import-hf", "--catalog", CATALOG, "--list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 259
    assert all("\tDynamicSuperb/" in line for line in lines)
    result = runner.invoke(app, ["import-hf", "--catalog", CATALOG, "--list", "--only", OPEN_ENDED])
    assert result.output.startswith("EmotionChangeDetection\tDynamicSuperb/EmotionChangeDetection_Ravdess@bf9ea16")
    assert "skipped" not in result.output.splitlines()[0]  # open-ended rows import: a judge grades them


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--catalog", "nope"], "--catalog 'nope' is neither"),
        (["--catalog", CATALOG, "--task-type", "nope"], "--task-type 'nope'"),
        (["--catalog", CATALOG, "--mirror", "/does/not/exist"], "is not a folder"),
        ([], "needs SOURCE, --name, --dimension, --license"),
        (["--catalog", CATALOG, "--license", "MIT"], "--license cannot be used with --catalog"),
        (["x", "--mirror", "."], "--mirror cannot be used without --catalog"),
    ],
)
def test_usage_mistakes_are_one_line(args, message) -> None:
    result = runner.invoke(app, ["import-hf", *args])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_download_estimate() -> None:
    assert cat.download_estimate({"A": (None, None, None)}).startswith("download size: unknown")
    assert cat.download_estimate({"A": (2_000_000_000, None, None), "B": (None, None, None)}) == (
        "download size: about 2.00 GB for 1 instance(s), plus 1 instance(s) of unknown size"
    )


def test_offline_hub_import_says_unknown_size_and_names_the_mirror_route(tmp_path) -> None:
    result = runner.invoke(app, ["import-hf", "--catalog", CATALOG, "--only", MULTI_AUDIO, "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "download size: unknown" in result.output and "--mirror DIR" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "SpeakerVerificationVCTK").exists()


# --- a mirror made by the test ---------------------------------------------------------------


def _wav(data: np.ndarray, sr: int = 22_050) -> dict:
    buf = io.BytesIO()
    sf.write(buf, data, sr, format="WAV")
    return {"bytes": buf.getvalue(), "path": "x.wav"}


KINDS = {
    CLASSIFICATION: (
        ["Is the tone high or low? Answer high or low.", "High or low: which is it?", "Say high or low.",
         "Reply high or low for this tone.", "Decide: high or low?", "Pitch: high or low?"],
        lambda i: "high" if i % 2 else "low",
    ),
    REGRESSION: (
        ["How many seconds long is the clip? Answer with a number.", "Give the duration in seconds.",
         "Answer with a number: the length in seconds.", "What is the clip length, in seconds?",
         "Duration of this audio in seconds?", "State the number of seconds the clip lasts."],
        lambda i: str(0.3 + (i % 5) / 10),
    ),
    GENERATION: (
        ["Transcribe the audio.", "Write down what you hear.", "Give a transcript of the clip.",
         "Transcribe this recording verbatim.", "Please transcribe the speech.", "Type out the words spoken."],
        lambda i: ["one tone", "two tones", "a high tone"][i % 3],
    ),
    MULTI_AUDIO: (
        ["Same speaker in both clips? Answer yes or no.", "yes or no: one speaker?", "Reply yes or no.",
         "Are both clips the same voice, yes or no?", "Same talker? yes or no", "Is it one speaker (yes/no)?"],
        lambda i: "yes" if i % 2 else "no",
    ),
    OPEN_ENDED: (
        [
            "Describe how the emotion changes.",
            "How does the speaker's emotion change over the clip?",
            "Tell how the emotional tone shifts from start to end.",
            "What emotion does the speaker start with, and what does it become?",
            "Explain the change of emotion in the recording.",
            "Describe the emotional change you hear.",
        ],
        lambda i: ("calm then angry", "happy then sad")[i % 2],
    ),
}  # fmt: skip


def _instance(instance: str, n_test: int = 32, n_train: int = 8):
    instructions, label = KINDS[instance]
    struct = {"bytes": datasets.Value("binary"), "path": datasets.Value("string")}
    splits = {}
    for split, n, offset in (("train", n_train, 1000), ("test", n_test, 0)):
        rows: dict[str, list] = {"file": [], "audio": [], "instruction": [], "label": []}
        features = {"file": datasets.Value("string"), "audio": struct}
        if instance == MULTI_AUDIO:
            rows["audio2"], features["audio2"] = [], struct
        for i in range(n):
            k = i + offset
            rows["file"].append(f"{split}_{i}.wav")
            seconds = float(label(i)) if instance == REGRESSION else 0.3
            rows["audio"].append(_wav(tone(200 + 7 * k + (500 if i % 2 else 0), seconds, sr=22_050)))
            if instance == MULTI_AUDIO:
                rows["audio2"].append(_wav(tone(3000 + 11 * k, 0.2, sr=22_050)))
            rows["instruction"].append(instructions[i % len(instructions)])
            rows["label"].append(label(i))
        features |= {"instruction": datasets.Value("string"), "label": datasets.Value("string")}
        ds = datasets.Dataset.from_dict(rows, features=datasets.Features(features))
        for col in [c for c in ds.column_names if c.startswith("audio")]:
            ds = ds.cast_column(col, datasets.Audio(sampling_rate=22_050))
        splits[split] = ds
    return datasets.DatasetDict(splits)


def _mirror(root: Path, licences: dict[str, str | None] | None = None) -> Path:
    """Every KINDS instance under ``root/<hub path>``: save_to_disk for some, the hub's parquet layout for others."""
    licences = licences if licences is not None else dict.fromkeys(KINDS, "cc-by-4.0")
    for instance in KINDS:
        folder = root / _row(instance).hub_path
        dd = _instance(instance)
        if instance in (REGRESSION, GENERATION):
            (folder / "data").mkdir(parents=True)
            for split, ds in dd.items():
                ds.to_parquet(str(folder / "data" / f"{split}-00000-of-00001.parquet"))
        else:
            dd.save_to_disk(str(folder))
        if licences.get(instance):
            (folder / "README.md").write_text(f"---\nlicense: {licences[instance]}\n---\n# {instance}\n")
    return root


def _import(mirror: Path, out: Path, *extra: str):
    only = [a for instance in (*IMPORTABLE, OPEN_ENDED) for a in ("--only", instance)]
    args = ["import-hf", "--catalog", CATALOG, *only, "--mirror", str(mirror), "--out", str(out), *extra]
    return runner.invoke(app, args)


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> Path:
    return _mirror(tmp_path_factory.mktemp("mirror"))


def test_mirror_import_validates_runs_and_builds(tmp_path, mirror) -> None:
    tasks = tmp_path / "tasks"
    result = _import(mirror, tasks)
    assert result.exit_code == 0, result.output
    assert "5 imported, 0 imported for local use only, 0 already present, 0 skipped, 0 failed" in result.output
    names = sorted(p.name for p in tasks.iterdir())
    assert names == sorted(_row(i).name for i in IMPORTABLE)
    pair = load_task(tasks / _row(MULTI_AUDIO).name)
    assert pair.card.audio_inputs == 2 and pair.card.dimension == "speaker"
    reg = load_task(tasks / _row(REGRESSION).name)
    assert (reg.card.task_type, reg.card.metric, reg.card.license) == ("regression", "mae", "CC-BY-4.0")
    assert {e.split for e in reg.examples} == {"train", "test"}
    marker = json.loads((tasks / _row(GENERATION).name / MARKER).read_text())
    assert marker["revision"] == _row(GENERATION).revision and marker["license_from"] == "dataset card"
    assert _row(GENERATION).revision in load_task(tasks / _row(GENERATION).name).card.source.notes

    result = runner.invoke(app, ["validate", "--strict", str(tasks)])
    assert result.exit_code == 0, result.output
    subs = tmp_path / "subs"
    run = ["run", "--model", "majority", "--tasks-root", str(tasks), "--out", str(subs), "--no-semantic"]
    result = runner.invoke(app, run)
    assert result.exit_code == 0, result.output
    assert len(list((subs / "majority" / "runs").glob("*.jsonl"))) == 5
    board = ["leaderboard", "build", "--submissions", str(subs), "--tasks-root", str(tasks)]
    result = runner.invoke(app, [*board, "--out", str(tmp_path / "tables"), "--site", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "site" / "index.html").exists()
    # The open-ended instance runs; without a judge its score is "n/a (needs a judge)", never a made-up number.
    judged = next(r for r in json.loads((tmp_path / "tables" / "leaderboard.json").read_text())["tasks"]
                  if r["task"] == _row(OPEN_ENDED).name)  # fmt: skip
    assert judged["metric"] == "judge" and judged["value"] is None and judged["note"] == "needs a judge"
    assert "n/a (needs a judge)" in (tmp_path / "site" / "tasks" / f"{_row(OPEN_ENDED).name}.html").read_text()
    view = (tmp_path / "tables" / "dynamic_superb.csv").read_text()
    assert "category" in view and "dimension" in view and "overall" in view  # the Dynamic-SUPERB view is exported
    page = (tmp_path / "site" / "dynamic-superb.html").read_text()
    assert "By Dynamic-SUPERB category" in page and "majority" in page


def test_a_second_run_skips_what_is_imported(tmp_path, mirror) -> None:
    tasks = tmp_path / "tasks"
    assert _import(mirror, tasks).exit_code == 0
    before = {p: p.stat().st_mtime_ns for p in tasks.rglob("*")}
    result = _import(mirror, tasks)
    assert result.exit_code == 0, result.output
    assert "0 imported, 0 imported for local use only, 5 already present, 0 skipped" in result.output
    assert {p: p.stat().st_mtime_ns for p in tasks.rglob("*")} == before


def test_licence_from_catalog_card_or_local_use(tmp_path) -> None:
    mirror = _mirror(tmp_path / "m", {CLASSIFICATION: "apache-2.0", REGRESSION: "other"})
    rows = [_row(CLASSIFICATION), _row(REGRESSION), _row(MULTI_AUDIO).model_copy(update={"license": "CC0-1.0"})]
    outcomes = cat.import_catalog(rows, tmp_path / "t", mirror=mirror, progress=False)
    assert [o.status for o in outcomes] == ["imported", "local-use", "imported"]
    cards = {o.row.name: json.loads((tmp_path / "t" / o.row.name / "task.json").read_text()) for o in outcomes}
    assert [c["license"] for c in cards.values()] == ["Apache-2.0", LOCAL_USE_LICENSE, "CC0-1.0"]
    assert outcomes[1].detail == cat.LOCAL_USE_DETAIL
    assert "local use only" in (tmp_path / "t" / _row(REGRESSION).name / "README.md").read_text()
    report = validate_task(tmp_path / "t" / _row(REGRESSION).name)
    assert not report.errors and "T144" in {f.code for f in report.findings}  # loads here, warned as local use
    assert "T144" in {f.code for f in strict(report.findings) if f.level == "error"}  # a pull request refuses it


def test_one_failure_never_stops_the_rest(tmp_path, mirror) -> None:
    (tmp_path / "t" / _row(CLASSIFICATION).name).mkdir(parents=True)  # a hand-made folder is never replaced
    rows = [_row(CLASSIFICATION), _row("NoiseDetection_VCTK_MUSAN-Music"), _row(REGRESSION)]
    outcomes = cat.import_catalog(rows, tmp_path / "t", mirror=mirror, progress=False)
    assert [o.status for o in outcomes] == ["failed", "failed", "imported"]
    assert "was not written by a catalog import" in outcomes[0].detail
    assert "is not in the mirror" in outcomes[1].detail and "hf download" in outcomes[1].detail
    assert not any((tmp_path / "t" / _row(CLASSIFICATION).name).iterdir())


def test_a_mirror_at_another_revision_is_refused(tmp_path) -> None:
    mirror = _mirror(tmp_path / "m")
    meta = mirror / _row(REGRESSION).hub_path / ".cache" / "huggingface" / "download" / "data"
    meta.mkdir(parents=True)
    (meta / "test-00000-of-00001.parquet.metadata").write_text("0123456789abcdef0123456789abcdef01234567\netag\n")
    [outcome] = cat.import_catalog([_row(REGRESSION)], tmp_path / "t", mirror=mirror, progress=False)
    assert outcome.status == "failed" and "--revision def0c06df7cada35286123719714d59ef7901d0f" in outcome.detail


def test_an_interrupted_import_resumes_to_one_valid_copy_each(tmp_path, mirror, monkeypatch) -> None:
    from benchmark.task.writer import TaskWriter

    real_clip, calls = TaskWriter.clip, []

    def interrupted_clip(self, rel, samples, sample_rate=16_000):
        calls.append(self.folder.name)
        if len(set(calls)) == 2:  # the second instance, part-way through its clips
            raise KeyboardInterrupt
        return real_clip(self, rel, samples, sample_rate)

    monkeypatch.setattr(TaskWriter, "clip", interrupted_clip)
    rows = [_row(i) for i in IMPORTABLE]
    with pytest.raises(KeyboardInterrupt):
        cat.import_catalog(rows, tmp_path / "t", mirror=mirror, progress=False)
    assert [p.name for p in (tmp_path / "t").iterdir()] == [rows[0].name]
    monkeypatch.setattr(TaskWriter, "clip", real_clip)
    outcomes = cat.import_catalog(rows, tmp_path / "t", mirror=mirror, progress=False)
    assert [o.status for o in outcomes] == ["present"] + ["imported"] * (len(rows) - 1)
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == sorted(r.name for r in rows)
    for row in rows:
        load_task(tmp_path / "t" / row.name)


def test_a_killed_import_process_resumes(tmp_path, mirror) -> None:
    """SIGKILL part-way through the second instance: no cleanup runs, the staging folder stays behind."""
    out = tmp_path / "t"
    script = textwrap.dedent(
        f"""
        import os, signal
        from benchmark.task.writer import TaskWriter
        real, seen = TaskWriter.clip, []
        def clip(self, rel, samples, sample_rate=16_000):
            seen.append(self.folder.name)
            if len(set(seen)) == 2 and seen.count(self.folder.name) == 3:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(self, rel, samples, sample_rate)
        TaskWriter.clip = clip
        from benchmark.cli import app
        app(["import-hf", "--catalog", "{CATALOG}", "--only", "{CLASSIFICATION}", "--only", "{REGRESSION}",
             "--only", "{MULTI_AUDIO}", "--mirror", r"{mirror}", "--out", r"{out}"])
        """
    )
    env = os.environ | {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr[-2000:]
    left = sorted(p.name for p in out.iterdir())
    assert len([n for n in left if not n.startswith(".")]) == 1 and any(n.startswith(".") for n in left)

    args = ["--only", CLASSIFICATION, "--only", REGRESSION, "--only", MULTI_AUDIO]
    result = runner.invoke(app, ["import-hf", "--catalog", CATALOG, *args, "--mirror", str(mirror), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 imported, 0 imported for local use only, 1 already present" in result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(
        _row(i).name for i in (CLASSIFICATION, REGRESSION, MULTI_AUDIO)
    )
    result = runner.invoke(app, ["validate", "--strict", str(out)])
    assert result.exit_code == 0, result.output


def test_the_dynamic_superb_view_groups_imported_tasks_by_category_and_dimension(tmp_path, mirror) -> None:
    from benchmark.report.dynamic_superb import dynamic_superb_rows, phase2_tasks
    from benchmark.report.tables import collect_cells, load_submissions

    tasks_root, subs = tmp_path / "tasks", tmp_path / "subs"
    assert _import(mirror, tasks_root).exit_code == 0
    make_task(tasks_root, "OwnTone")  # a task of this board, not imported: left out of the view
    tasks = [load_task(p) for p in sorted(tasks_root.iterdir())]
    for model in ("majority", "random"):
        run = ["run", "--model", model, "--tasks-root", str(tasks_root), "--out", str(subs), "--no-semantic"]
        assert runner.invoke(app, run).exit_code == 0
    assert set(phase2_tasks(tasks)) == {load_task(tasks_root / _row(i).name).key for i in IMPORTABLE}
    cells = collect_cells(load_submissions(subs), tasks)
    rows = dynamic_superb_rows(cells, tasks)
    random_all = [r for r in rows if r["model"] == "random" and r["split"] == "all"]
    categories = {r["group"] for r in random_all if r["grouping"] == "category"}
    assert categories <= {"Classification", "Regression", "Text generation"} and len(categories) >= 2
    # A group's score is the mean of the normalised scores of its tasks (the ones the view keeps).
    mine = [c for c in cells if c.model == "random" and c.task.name != "OwnTone" and math.isfinite(c.normalised)]
    overall = next(r for r in random_all if r["grouping"] == "overall")
    assert overall["tasks"] == len(mine) and overall["score"] == round(sum(c.normalised for c in mine) / len(mine), 2)
    assert overall["ci_low"] <= overall["score"] <= overall["ci_high"]
