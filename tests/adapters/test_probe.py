"""SSL probes end to end through `bench run`: built-in features, tiny HF encoders built from configs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import make_task, shipped_key
from typer.testing import CliRunner

from benchmark.adapters.probe import ProbeAdapter
from benchmark.adapters.probe.featurizer import FeatureCache
from benchmark.adapters.probe.upstreams import FilterbankUpstream
from benchmark.cli import app
from benchmark.submission.records import read_records
from benchmark.task import load_task

runner = CliRunner()
TASKS = Path(__file__).resolve().parents[2] / "tasks"


def bench(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def tiny_hubert(tmp_path_factory) -> Path:
    from transformers import HubertConfig, HubertModel, Wav2Vec2FeatureExtractor

    torch.manual_seed(0)
    cfg = HubertConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=(16,) * 7,
        conv_stride=(5, 2, 2, 2, 2, 2, 2),
        conv_kernel=(10, 3, 3, 3, 3, 2, 2),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
    )
    folder = tmp_path_factory.mktemp("tiny-hubert")
    HubertModel(cfg).save_pretrained(folder)
    Wav2Vec2FeatureExtractor().save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_whisper_encoder(tmp_path_factory) -> Path:
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperModel

    torch.manual_seed(0)
    cfg = WhisperConfig(
        d_model=32,
        encoder_layers=2,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        vocab_size=100,
        max_target_positions=32,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=1,
    )
    folder = tmp_path_factory.mktemp("tiny-whisper")
    WhisperModel(cfg).save_pretrained(folder)
    WhisperFeatureExtractor().save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_hubert_layer_norm(tmp_path_factory) -> Path:
    """The hubert-large layout: layer-norm convolutions and stable layer norm, trained with attention masks."""
    from transformers import HubertConfig, HubertModel, Wav2Vec2FeatureExtractor

    torch.manual_seed(0)
    cfg = HubertConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=(16,) * 7,
        conv_stride=(5, 2, 2, 2, 2, 2, 2),
        conv_kernel=(10, 3, 3, 3, 3, 2, 2),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        feat_extract_norm="layer",
        do_stable_layer_norm=True,
    )
    folder = tmp_path_factory.mktemp("tiny-hubert-layer")
    HubertModel(cfg).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(return_attention_mask=True).save_pretrained(folder)
    return folder


def _accuracy(run_file: Path) -> float:
    records = read_records(run_file)
    return sum(r.score for r in records) / len(records)


def test_fbank_probe_learns_a_task_whose_label_is_in_the_features(tmp_path: Path) -> None:
    out = tmp_path / "subs"
    for model in ("majority", "probe:fbank"):
        result = bench("run", "--model", model, "--tasks", "ToneVsNoise", "--tasks-root", str(TASKS), "--out", str(out))
        assert result.exit_code == 0, result.output
    majority = _accuracy(out / f"majority/runs/{shipped_key('ToneVsNoise')}.jsonl")
    probe = _accuracy(out / f"probe-fbank/runs/{shipped_key('ToneVsNoise')}.jsonl")
    assert probe >= majority + 0.3 and probe >= 0.85

    saved = json.loads((out / f"probe-fbank/layers/{shipped_key('ToneVsNoise')}.json").read_text())
    weights = np.array(saved["weights"])
    assert len(weights) == 3 and abs(weights.sum() - 1) < 1e-4 and (weights >= 0).all()
    assert np.abs(weights - 1 / 3).max() > 0.01  # training moved them away from the uniform start
    assert f"{shipped_key('ToneVsNoise')}:" in bench("layers", str(out / "probe-fbank")).output


def test_layer_weights_start_uniform_and_change_with_training() -> None:
    task = load_task(TASKS / "Timbre")
    untrained = ProbeAdapter("fbank", epochs=0)
    untrained.fit(task.train_split())
    assert untrained.layer_weights(task.card) == pytest.approx([1 / 3] * 3)
    trained = ProbeAdapter("fbank", epochs=30)
    trained.fit(task.train_split())
    weights = trained.layer_weights(task.card)
    assert sum(weights) == pytest.approx(1.0, abs=1e-5)
    assert weights != pytest.approx([1 / 3] * 3, abs=1e-3)


def test_cache_changes_nothing_but_time(tmp_path: Path) -> None:
    folder = make_task(tmp_path, n_train=24, n_test=32)
    task = load_task(folder)
    from benchmark.adapters import Query

    queries = [Query(e.id, task.instruction_for(e), tuple(task.load_audio(e))) for e in task.split("test")]
    outputs = []
    for options in ({}, {"cache": "false"}, {"cache_mb": 0}):  # memory, recompute every epoch, spill to disk
        probe = ProbeAdapter("fbank", epochs=15, **options)
        probe.fit(task.train_split())
        outputs.append((probe.predict(task.card, queries), probe.layer_weights(task.card)))
        if options.get("cache_mb") == 0:
            assert probe.cache.disk and not probe.cache.memory
    assert outputs[0] == outputs[1] == outputs[2]


def test_feature_cache_round_trips_exactly(tmp_path: Path) -> None:
    cache = FeatureCache(cap_bytes=10)  # too small for memory: the tensor goes to disk
    x = torch.randn(3, 5)
    cache.put(("a",), x)
    assert ("a",) in cache and torch.equal(cache.get(("a",)), x) and cache.disk


def test_mfcc_upstream_shapes() -> None:
    wav = np.sin(np.linspace(0, 2000, 16_000)).astype(np.float32)
    assert FilterbankUpstream().hidden_states(wav).shape == (3, 101, 80)
    assert FilterbankUpstream(n_mels=40, mfcc=20).hidden_states(wav).shape == (3, 101, 20)


@pytest.mark.parametrize("upstream", ["tiny_hubert", "tiny_whisper_encoder"])
def test_hf_upstream_probe_runs_end_to_end(tmp_path: Path, upstream: str, request) -> None:
    folder = request.getfixturevalue(upstream)
    suite = tmp_path / "tasks"
    make_task(suite, n_train=16, n_test=32)
    result = bench(
        "run",
        "--model",
        f"probe:{folder}",
        "--name",
        "tiny",
        "--tasks-root",
        str(suite),
        "--out",
        str(tmp_path / "subs"),
        "--device",
        "cpu",
        "--model-arg",
        "epochs=20",
    )
    assert result.exit_code == 0, result.output
    records = read_records(tmp_path / "subs/tiny/runs/ToneHeight@1.0.0.jsonl")
    assert len(records) == 32 and all(r.tier == "exact" for r in records)
    card = json.loads((tmp_path / "subs/tiny/model.json").read_text())
    assert card["adapter_args"] == {"device": "cpu", "epochs": "20"}
    n_layers = 3  # embedding output + 2 transformer layers
    assert len(json.loads((tmp_path / "subs/tiny/layers/ToneHeight@1.0.0.json").read_text())["weights"]) == n_layers


@pytest.mark.parametrize(
    ("model", "args", "message"),
    [
        ("probe:s3prl:hubert", [], "torchaudio"),
        ("probe:some-org/not-downloaded", [], "local folder"),
        ("probe:fbank", ["--device", "cuda:3"], "no CUDA GPU"),
        ("probe:fbank", ["--dtype", "float8"], "--dtype"),
        ("probe:fbank", ["--model-arg", "epochs=many"], "integer"),
    ],
)
def test_probe_errors_are_clear(tmp_path: Path, model: str, args: list[str], message: str, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    if "cuda" in " ".join(args) and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    result = bench(
        "run", "--model", model, *args, "--tasks", "ToneVsNoise", "--tasks-root", str(TASKS), "--out", str(tmp_path)
    )
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output


def _clips(lengths: list[int]) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    t = np.arange(max(lengths)) / 16_000
    return [
        (0.3 * np.sin(2 * np.pi * (200 + 37 * i) * t[:n]) + 0.01 * rng.standard_normal(n)).astype(np.float32)
        for i, n in enumerate(lengths)
    ]


@pytest.mark.parametrize(
    ("upstream", "lengths"),
    [
        ("fbank", [1600, 400, 16_000, 5333, 401]),
        ("mfcc", [1600, 400, 16_000, 5333, 401]),
        ("tiny_hubert_layer_norm", [1600, 4000, 16_000, 5333, 8000]),
        ("tiny_hubert", [1600, 4000, 1600, 5333, 4000]),  # group norm: equal lengths share a forward
        ("tiny_whisper_encoder", [1600, 16_000 * 31, 4000]),  # 31 s: two 30-second windows
    ],
)
def test_batched_features_match_one_clip_at_a_time(upstream: str, lengths: list[int], request) -> None:
    """Padding, masks and batch company change no clip's features beyond float tolerance."""
    from benchmark.adapters.probe.upstreams import build_upstream

    spec = upstream if upstream in ("fbank", "mfcc") else str(request.getfixturevalue(upstream))
    up = build_upstream(spec, torch.device("cpu"), torch.float32, batch_size=4)
    clips = _clips(lengths)
    for pooled in (True, False):
        together = up.features(clips, pooled)
        for clip, batched in zip(clips, together, strict=True):
            alone = up.features([clip], pooled)[0]
            assert batched.shape == alone.shape
            assert torch.allclose(batched, alone, atol=1e-4, rtol=1e-4), float((batched - alone).abs().max())
    frames = up.features(clips[:1], pooled=False)[0]
    assert torch.allclose(up.features(clips[:1], pooled=True)[0], frames.mean(dim=1), atol=1e-5)
    if upstream == "tiny_whisper_encoder":
        assert frames.shape[1] == 5 and up.features(clips[1:2], pooled=False)[0].shape[1] == 1500 + 50


def test_a_clip_shared_by_two_tasks_is_extracted_once(tmp_path: Path) -> None:
    """The feature cache is keyed by the clip's samples, not by task or example id."""
    import shutil

    suite = tmp_path / "tasks"
    make_task(suite, "First", n_train=8, n_test=32)
    shutil.copytree(suite / "First", suite / "Second")
    (suite / "Second/task.json").write_text((suite / "Second/task.json").read_text().replace('"First"', '"Second"'))
    probe = ProbeAdapter("fbank", epochs=2)
    probe.load()
    assert probe.upstream is not None
    seen: list[int] = []
    original = probe.upstream.features

    def counting(wavs, pooled):
        seen.append(len(wavs))
        return original(wavs, pooled)

    probe.upstream.features = counting  # type: ignore[method-assign]
    for name in ("First", "Second"):
        probe.fit(load_task(suite / name).train_split())
    assert seen == [8]
