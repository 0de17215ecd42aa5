"""Dynamic-SUPERB interoperability: a local save_to_disk copy and parquet files, both ways."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import soundfile as sf
from helpers import make_task, tone
from typer.testing import CliRunner

from benchmark.cli import app
from benchmark.task import load_task

datasets = pytest.importorskip("datasets")
runner = CliRunner()

INSTRUCTIONS = [
    "Is the tone high or low? Answer high or low.",
    "Listen and tell me: high or low?",
    "Classify the pitch of this tone as high or low.",
    "Reply with high or low for the tone you hear.",
    "High or low: which describes the tone?",
    "Decide if the pitch is high or low.",
]


def _wav_bytes(data: np.ndarray, sr: int) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, data, sr, format="WAV")
    return buf.getvalue()


def _dynamic_superb_instance(n: int = 36, sr: int = 44_100, pairs: bool = False):
    rows: dict[str, list] = {"file": [], "audio": [], "instruction": [], "label": []}
    if pairs:
        rows["audio2"] = []
    for i in range(n):
        label = "high" if i % 2 else "low"
        stereo = tone((900 if i % 2 else 200) + i, 0.5, sr=sr, channels=2)
        rows["file"].append(f"clip {i}.wav")  # a space: ids must be made safe
        rows["audio"].append({"bytes": _wav_bytes(stereo, sr), "path": f"clip{i}.wav"})
        if pairs:
            rows["audio2"].append({"bytes": _wav_bytes(tone(300 + i, 0.3, sr=sr), sr), "path": f"b{i}.wav"})
        rows["instruction"].append(INSTRUCTIONS[i % len(INSTRUCTIONS)])
        rows["label"].append(label)
    # The hub stores audio as {bytes, path} structs typed Audio; build the structs and cast
    # (encoding through Audio would need torchcodec).
    struct = {"bytes": datasets.Value("binary"), "path": datasets.Value("string")}
    features = {
        "file": datasets.Value("string"),
        "audio": struct,
        "instruction": datasets.Value("string"),
        "label": datasets.Value("string"),
    }
    if pairs:
        features["audio2"] = struct
    ds = datasets.Dataset.from_dict(rows, features=datasets.Features(features))
    for col in ("audio", "audio2") if pairs else ("audio",):
        ds = ds.cast_column(col, datasets.Audio(sampling_rate=sr))
    return ds


def test_import_save_to_disk_copy(tmp_path) -> None:
    src = tmp_path / "instance"
    datasets.DatasetDict({"test": _dynamic_superb_instance()}).save_to_disk(str(src))
    result = runner.invoke(
        app,
        [
            "import-hf",
            str(src),
            "--name",
            "ToneHeight",
            "--dimension",
            "audio",
            "--license",
            "CC-BY-4.0",
            "--revision",
            "abc123",
            "--out",
            str(tmp_path / "t"),
        ],
    )
    assert result.exit_code == 0, result.output
    task = load_task(tmp_path / "t" / "ToneHeight")
    assert task.card.labels == ["high", "low"]
    assert task.card.instructions == INSTRUCTIONS
    assert "abc123" in task.card.source.notes
    first = task.examples[0]
    assert first.id == "clip_0" and first.instruction == INSTRUCTIONS[0] and first.label == "low"
    info = sf.info(task.audio_files(first)[0])
    assert (info.samplerate, info.channels, info.format) == (16_000, 1, "FLAC")
    audio = task.load_audio(first)[0]
    spectrum = np.abs(np.fft.rfft(audio))
    assert abs(np.argmax(spectrum) * 16_000 / len(audio) - 200) < 3  # the tone survived resampling


def test_export_then_import_round_trip(tmp_path) -> None:
    folder = make_task(tmp_path / "tasks", card_overrides={"audio_inputs": 1})
    original = load_task(folder)
    result = runner.invoke(app, ["export-hf", str(folder), str(tmp_path / "hf")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "hf" / "data").iterdir()) == [
        "test-00000-of-00001.parquet",
        "train-00000-of-00001.parquet",
    ]
    result = runner.invoke(
        app,
        [
            "import-hf",
            str(tmp_path / "hf"),
            "--name",
            "ToneHeight",
            "--dimension",
            "audio",
            "--license",
            "CC0-1.0",
            "--out",
            str(tmp_path / "back"),
        ],
    )
    assert result.exit_code == 0, result.output
    back = load_task(tmp_path / "back" / "ToneHeight")
    assert {(e.id, e.split, e.label) for e in back.examples} == {(e.id, e.split, e.label) for e in original.examples}
    for a, b in zip(
        sorted(original.examples, key=lambda e: e.id), sorted(back.examples, key=lambda e: e.id), strict=True
    ):
        assert back.instruction_for(b) == original.instruction_for(a)
        np.testing.assert_allclose(original.load_audio(a)[0], back.load_audio(b)[0], atol=1e-4)


def test_import_multi_audio_from_parquet(tmp_path) -> None:
    (tmp_path / "pq").mkdir()
    _dynamic_superb_instance(pairs=True).to_parquet(str(tmp_path / "pq" / "test.parquet"))
    result = runner.invoke(
        app,
        [
            "import-hf",
            str(tmp_path / "pq"),
            "--name",
            "PairTask",
            "--dimension",
            "audio",
            "--license",
            "CC-BY-4.0",
            "--out",
            str(tmp_path / "t"),
        ],
    )
    assert result.exit_code == 0, result.output
    task = load_task(tmp_path / "t" / "PairTask")
    assert task.card.audio_inputs == 2 and len(task.load_audio(task.examples[0])) == 2


@pytest.mark.parametrize(
    ("extra_args", "mutate", "message"),
    [
        ([], lambda ds: ds.remove_columns("label"), "missing column"),
        ([], lambda ds: ds.map(lambda r: {"instruction": "same"}), "--instruction"),
        (["--task-type", "regression", "--metric", "mae"], lambda ds: ds, "is not a number"),
    ],
)
def test_import_errors_are_clear(tmp_path, extra_args, mutate, message) -> None:
    src = tmp_path / "instance"
    mutate(_dynamic_superb_instance()).save_to_disk(str(src))
    result = runner.invoke(
        app,
        [
            "import-hf",
            str(src),
            "--name",
            "ToneHeight",
            "--dimension",
            "audio",
            "--license",
            "CC-BY-4.0",
            "--out",
            str(tmp_path / "t"),
            *extra_args,
        ],
    )
    assert result.exit_code == 1 and message in result.output
    assert "Traceback" not in result.output


def test_hub_source_offline_names_the_local_path_route(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = runner.invoke(
        app,
        [
            "import-hf",
            "some-org/SomeInstance",
            "--name",
            "SomeTask",
            "--dimension",
            "audio",
            "--license",
            "CC-BY-4.0",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 1 and "--local-dir" in result.output
    assert not (tmp_path / "SomeTask").exists()


def test_regression_labels_are_numbers(tmp_path) -> None:
    ds = _dynamic_superb_instance().map(lambda r, i: {"label": str(i / 2)}, with_indices=True)
    ds.save_to_disk(str(tmp_path / "src"))
    result = runner.invoke(
        app,
        [
            "import-hf",
            str(tmp_path / "src"),
            "--name",
            "Reg",
            "--dimension",
            "audio",
            "--license",
            "CC-BY-4.0",
            "--task-type",
            "regression",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in (tmp_path / "Reg" / "examples.jsonl").read_text().splitlines()]
    assert lines[3]["label"] == 1.5


def test_audio_typed_columns_and_file1_are_read(tmp_path) -> None:
    """Dynamic-SUPERB's SUPERB-style instances name clips `enrollment`/`testing` and ids `file1`."""
    ds = _dynamic_superb_instance(pairs=True).rename_columns(
        {"file": "file1", "audio": "enrollment", "audio2": "testing"}
    )
    ds.save_to_disk(str(tmp_path / "src"))
    args = ["import-hf", str(tmp_path / "src"), "--name", "Pairs", "--dimension", "speaker"]
    result = runner.invoke(app, [*args, "--license", "CC-BY-4.0", "--out", str(tmp_path / "t")])
    assert result.exit_code == 0, result.output
    task = load_task(tmp_path / "t" / "Pairs")
    assert task.card.audio_inputs == 2 and task.examples[0].id == "clip_0"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("cc-by-4.0", "CC-BY-4.0"), (["mit"], "MIT"), ("cc-by-nc-nd-4.0", "CC-BY-NC-ND-4.0"), ("other", None),
     (["mit", "apache-2.0"], None), (None, None)],
)  # fmt: skip
def test_hub_licence_ids_become_spdx(value, expected) -> None:
    from benchmark.authoring.hf import spdx_license

    assert spdx_license(value) == expected


def test_card_licence_of_a_local_copy(tmp_path) -> None:
    from benchmark.authoring.hf import card_license

    assert card_license(tmp_path) is None
    (tmp_path / "README.md").write_text("---\nlicense: cc0-1.0\npretty_name: x\n---\n# x\n")
    assert card_license(tmp_path) == "CC0-1.0"
    (tmp_path / "README.md").write_text("---\nlicense: [unclosed\n---\n")
    assert card_license(tmp_path) is None


def test_hub_info_reads_size_licence_and_commit(monkeypatch) -> None:
    import huggingface_hub
    from huggingface_hub import DatasetCardData

    from benchmark.authoring.hf import hub_info

    class Sibling:
        def __init__(self, size):
            self.size = size

    class Info:
        siblings = [Sibling(1000), Sibling(None), Sibling(24)]
        card_data = DatasetCardData(license="apache-2.0")
        sha = "a" * 40

    calls = []
    monkeypatch.setattr(huggingface_hub.HfApi, "dataset_info", lambda self, *a, **k: calls.append((a, k)) or Info())
    assert hub_info("DynamicSuperb/X", "abc1234") == (1024, "Apache-2.0", "a" * 40)
    assert calls[0][0] == ("DynamicSuperb/X",) and calls[0][1]["revision"] == "abc1234"
    monkeypatch.setattr(huggingface_hub.HfApi, "dataset_info", lambda self, *a, **k: 1 / 0)
    assert hub_info("DynamicSuperb/X", None) == (None, None, None)
