"""`audiollm:<folder>` for any transformers audio-chat model, through `bench run`, on tiny models built offline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import shipped_key
from tiny_audio_llms import BUILDERS, LIBRARIES, SINGLE_AUDIO_TEMPLATE, build, build_qwen2_audio
from typer.testing import CliRunner

from benchmark.adapters import Query
from benchmark.adapters.audiollm import AudioLLMAdapter, conversation
from benchmark.adapters.ranking import label_token_ids, rank_scores
from benchmark.cli import app
from benchmark.runner import evaluate
from benchmark.submission.records import read_records
from benchmark.task.folder import load_task

runner = CliRunner()
TASKS = Path(__file__).resolve().parents[2] / "tasks"


class TinyModels:
    """Tiny model folders, each built on first use; an architecture whose libraries do not import is skipped."""

    def __init__(self, root: Path) -> None:
        self.root, self.built = root, {}

    def __getitem__(self, arch: str) -> Path:
        for library in LIBRARIES.get(arch, ()):
            pytest.importorskip(library, reason=f"the {arch} processor or model needs {library}")
        if arch not in self.built:
            self.built[arch] = build(arch, self.root / arch)
        return self.built[arch]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> TinyModels:
    """One tiny model folder per verified architecture."""
    return TinyModels(tmp_path_factory.mktemp("tiny-audio-llms"))


def bench_run(model: Path | str, out: Path, task: str, *extra: str, limit: int = 4):
    spec = model if isinstance(model, str) else f"audiollm:{model}"
    return runner.invoke(
        app,
        ["run", "--model", spec, "--name", "tiny", "--tasks", task, "--limit", str(limit), "--batch-size", "2",
         "--tasks-root", str(TASKS), "--out", str(out), "--model-arg", "max_new_tokens=3", "--device", "cpu",
         "--no-semantic", *extra],
        catch_exceptions=False,
    )


def records(out: Path, task: str):
    return read_records(out / f"tiny/runs/{shipped_key(task)}.jsonl")


@pytest.mark.parametrize("arch", list(BUILDERS))
def test_every_verified_architecture_runs_through_bench_run(tmp_path: Path, tiny, arch: str) -> None:
    result = bench_run(tiny[arch], tmp_path, "SpeakerGender")
    assert result.exit_code == 0, result.output
    assert len(records(tmp_path, "SpeakerGender")) == 4
    card = json.loads((tmp_path / "tiny/model.json").read_text())
    assert card["adapter_args"] == {"device": "cpu", "max_new_tokens": "3"} and card["protocol"] == "generate"


@pytest.mark.parametrize("arch", list(BUILDERS))
def test_a_reply_does_not_depend_on_its_batch_neighbour(tiny, arch: str) -> None:
    # Left padding, attention masks and the placement of each row's audio features must line up.
    adapter = AudioLLMAdapter(str(tiny[arch]), device="cpu", max_new_tokens=6)
    rng = np.random.default_rng(0)
    short = Query("1", "Say?", (rng.normal(0, 0.3, 16_000).astype(np.float32),))
    clip = rng.normal(0, 0.3, 40_000).astype(np.float32)
    long = Query("2", "A much longer instruction, so the other row is padded?", (clip,))
    card = load_task(TASKS / "SentenceTranscription").card
    assert adapter.predict(card, [long, short])[1] == adapter.predict(card, [short])[0]


@pytest.mark.parametrize("arch", ["qwen2_5_omni", "qwen3_omni_moe"])
def test_a_model_that_also_speaks_is_evaluated_through_its_thinker(tmp_path: Path, tiny, arch: str) -> None:
    # The released folder holds the whole model; its thinker's weights are those of the thinker-only folder.
    whole = bench_run(tiny[arch], tmp_path / "whole", "SpeakerGender")
    alone = bench_run(tiny[f"{arch}_thinker"], tmp_path / "alone", "SpeakerGender")
    assert whole.exit_code == 0 and alone.exit_code == 0, whole.output + alone.output
    outputs = [[r.output for r in records(tmp_path / run, "SpeakerGender")] for run in ("whole", "alone")]
    assert outputs[0] == outputs[1] and len(outputs[0]) == 4


def test_clips_in_order_then_the_instruction_and_a_system_turn(tiny) -> None:
    adapter = AudioLLMAdapter(str(tiny["qwen2_audio"]), device="cpu", system="You are a careful listener.")
    adapter.load()
    (prompt,) = adapter.prompts([Query("1", "Which is higher?", (np.zeros(1600, np.float32),) * 2)])
    assert prompt.count("<|AUDIO|>") == 2 and prompt.index("Audio 2:") < prompt.index("Which is higher?")
    assert prompt.startswith("<|im_start|>system\nYou are a careful listener.<|im_end|>")
    assert conversation("q", [np.zeros(3)])[0]["content"][-1] == {"type": "text", "text": "q"}


MULTI_CLIP = [
    "qwen2_audio",
    "qwen2_5_omni_thinker",
    "qwen2_5_omni",
    "qwen3_omni_moe_thinker",
    "qwen3_omni_moe",
    "gemma3n",
    "granite_speech",
    "phi4_multimodal",
]
"""Architectures whose template and processor take several clips in one turn."""


@pytest.mark.parametrize("arch", MULTI_CLIP)
def test_two_clip_task_runs_natively_on_a_multi_audio_template(tmp_path: Path, tiny, arch: str) -> None:
    result = bench_run(tiny[arch], tmp_path, "IntervalDirection")
    assert result.exit_code == 0, result.output
    assert "skip" not in result.output and len(records(tmp_path, "IntervalDirection")) == 4


# Audio Flamingo 3's and GLM-ASR's processors take one clip per text ("they must match 1:1").
@pytest.mark.parametrize("arch", ["audioflamingo3", "glmasr", "qwen2_audio-single"])
def test_model_that_cannot_take_two_clips_is_told_and_concat_is_recorded(tmp_path: Path, tiny, arch: str) -> None:
    if arch in BUILDERS:
        folder = tiny[arch]
    else:  # Qwen2-Audio with a template that places one clip only
        torch.manual_seed(0)
        folder = build_qwen2_audio(tmp_path / "single", template=SINGLE_AUDIO_TEMPLATE)
    result = bench_run(folder, tmp_path / "a", "IntervalDirection")
    skipped = f"skip {shipped_key('IntervalDirection')}"
    assert skipped in result.output and "audio_inputs=2" in result.output, result.output
    assert "multi_audio=concat" in result.output and not records(tmp_path / "a", "IntervalDirection")
    result = bench_run(folder, tmp_path / "b", "IntervalDirection", "--model-arg", "multi_audio=concat")
    assert result.exit_code == 0, result.output
    assert len(records(tmp_path / "b", "IntervalDirection")) == 4
    assert json.loads((tmp_path / "b/tiny/model.json").read_text())["adapter_args"]["multi_audio"] == "concat"


@pytest.mark.parametrize("arch", list(BUILDERS))
def test_rank_answers_every_example_with_a_label_and_keeps_the_scores(tmp_path: Path, tiny, arch: str) -> None:
    result = bench_run(tiny[arch], tmp_path, "SpeakerGender", "--model-arg", "answer=rank")
    assert result.exit_code == 0, result.output
    recs = records(tmp_path, "SpeakerGender")
    assert len(recs) == 4 and {r.tier for r in recs} == {"exact"}
    for r in recs:
        assert set(r.label_scores) == {"female", "male"}
        assert r.output == max(r.label_scores, key=r.label_scores.get) and all(v < 0 for v in r.label_scores.values())
    assert json.loads((tmp_path / "tiny/model.json").read_text())["protocol"] == "rank"


@pytest.mark.parametrize("prompt_tokens", [None, 128])
def test_rank_scores_equal_the_log_likelihood_computed_one_label_at_a_time(tiny, prompt_tokens: int | None) -> None:
    # 128 tokens: as many as Qwen2-Audio's mel bins, the second dimension of its audio features.
    adapter = AudioLLMAdapter(str(tiny["qwen2_audio"]), device="cpu")
    adapter.load()
    clip = np.random.default_rng(0).normal(0, 0.1, 8000).astype(np.float32)
    instruction = "Male or female?"
    if prompt_tokens:
        short = adapter.encode(adapter.conversations([Query("1", "", (clip,))]))["input_ids"].shape[1]
        instruction = "x" * (prompt_tokens - short)  # one byte-level token per character
    prompt = adapter.encode(adapter.conversations([Query("1", instruction, (clip,))]))
    assert prompt_tokens in (None, prompt["input_ids"].shape[1])
    labels = ["female", "male", "a much longer label"]
    ids = label_token_ids(adapter.processor.tokenizer, labels)
    batched = rank_scores(adapter.model, prompt, ids, pad_id=0)
    for label_ids, score in zip(ids, batched, strict=True):
        full = torch.cat([prompt["input_ids"], torch.tensor([label_ids])], dim=1)
        extras = {k: v for k, v in prompt.items() if k not in ("input_ids", "attention_mask")}
        with torch.inference_mode():
            logits = adapter.model(input_ids=full, attention_mask=torch.ones_like(full), **extras).logits[0]
        p = prompt["input_ids"].shape[1]
        logp = torch.log_softmax(logits.float(), -1)
        direct = sum(float(logp[p - 1 + j, t]) for j, t in enumerate(label_ids))
        assert score == pytest.approx(direct, abs=1e-3)
    # The audio is part of the prompt: other audio, other scores.
    other = adapter.encode(adapter.conversations([Query("1", instruction, (np.zeros(8000, np.float32),))]))
    assert rank_scores(adapter.model, other, ids, pad_id=0) != pytest.approx(batched, abs=1e-4)


def test_content_free_calibration_subtracts_the_silent_prompt_scores(tiny) -> None:
    folder = str(tiny["qwen2_audio"])
    plain = AudioLLMAdapter(folder, device="cpu", answer="rank")
    calibrated = AudioLLMAdapter(folder, device="cpu", answer="rank", rank_calibration="content-free")
    plain.load()
    calibrated.load()
    clip = np.random.default_rng(1).normal(0, 0.1, 12_000).astype(np.float32)
    labels = ["female", "male"]
    heard = plain.rank(labels, [Query("1", "Male or female?", (clip,))])[0].label_scores
    silent = plain.rank(labels, [Query("1", "Male or female?", (np.zeros_like(clip),))])[0].label_scores
    (answer,) = calibrated.rank(labels, [Query("1", "Male or female?", (clip,))])
    for label in labels:
        assert answer.label_scores[label] == pytest.approx(heard[label] - silent[label], abs=1e-3)
    assert answer == max(answer.label_scores, key=answer.label_scores.get)
    assert calibrated.info()["protocol"] == "rank-calibrated" and plain.info()["protocol"] == "rank"


def test_generation_tasks_still_generate_under_rank(tmp_path: Path, tiny) -> None:
    result = bench_run(tiny["qwen2_audio"], tmp_path, "SentenceTranscription", "--model-arg", "answer=rank")
    assert result.exit_code == 0, result.output
    assert all(r.label_scores is None for r in records(tmp_path, "SentenceTranscription"))


def test_template_kept_only_in_the_tokenizer_config_is_the_models_template(tmp_path: Path, tiny) -> None:
    # Older model folders (and processors that do not load chat_template.jinja) leave it to the tokenizer.
    folder = Path(shutil.copytree(tiny["audioflamingo3"], tmp_path / "tokenizer-template"))
    template = (folder / "chat_template.jinja").read_text()
    (folder / "chat_template.jinja").unlink()
    config = json.loads((folder / "tokenizer_config.json").read_text())
    (folder / "tokenizer_config.json").write_text(json.dumps({**config, "chat_template": template}))
    result = bench_run(folder, tmp_path / "out", "SpeakerGender")
    assert result.exit_code == 0, result.output
    assert len(records(tmp_path / "out", "SpeakerGender")) == 4


@pytest.mark.parametrize(
    ("arch", "part"), [("audioflamingo3", "feature_extractor"), ("granite_speech", "audio_processor")]
)
def test_a_model_that_expects_another_sampling_rate_is_refused(tmp_path: Path, tiny, arch: str, part: str) -> None:
    folder = Path(shutil.copytree(tiny[arch], tmp_path / "rate"))
    config = json.loads((folder / "processor_config.json").read_text())
    config[part]["sampling_rate"] = 24_000
    (folder / "processor_config.json").write_text(json.dumps(config))
    result = bench_run(folder, tmp_path / "out", "SpeakerGender")
    assert result.exit_code == 2 and "expects 24000 Hz audio; tasks are 16 kHz" in result.output, result.output


def _unknown_architecture(tiny, tmp_path: Path) -> Path:
    folder = Path(shutil.copytree(tiny["qwen2_audio"], tmp_path / "bert"))
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": ["BertModel"]}))
    return folder


def _no_template(tiny, tmp_path: Path) -> Path:
    # Audio Flamingo 3's processor has no built-in template (Qwen2-Audio's has one).
    folder = Path(shutil.copytree(tiny["audioflamingo3"], tmp_path / "no-template"))
    (folder / "chat_template.jinja").unlink()
    return folder


def _no_feature_extractor(tiny, tmp_path: Path) -> Path:
    folder = Path(shutil.copytree(tiny["audioflamingo3"], tmp_path / "no-features"))
    config = json.loads((folder / "processor_config.json").read_text())
    del config["feature_extractor"]
    (folder / "processor_config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_unknown_architecture, "unknown architecture: model_type 'bert'"),
        (_no_template, "the processor lacks a chat template"),
        (_no_feature_extractor, "Can't load feature extractor"),
    ],
)
def test_bad_model_folders_get_one_line_errors(tmp_path: Path, tiny, make, message) -> None:
    result = bench_run(make(tiny, tmp_path), tmp_path / "out", "SpeakerGender")
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("model", "args", "message"),
    [
        ("audiollm", [], "needs a model"),
        ("audiollm:some-org/not-here", [], "local folder"),
        ("audiollm:x", ["--model-arg", "backend=tgi"], "backend"),
        ("audiollm:x", ["--model-arg", "max_new_tokens=lots"], "integer"),
        ("audiollm:x", ["--model-arg", "answer=vote"], "answer="),
        ("audiollm:x", ["--model-arg", "multi_audio=mix"], "multi_audio="),
        ("audiollm:x", ["--model-arg", "rank_calibration=pmi"], "rank_calibration="),
    ],
)
def test_audiollm_errors_are_clear(tmp_path: Path, model, args, message, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = bench_run(model, tmp_path, "SpokenDigits", *args, limit=1)
    assert result.exit_code == 2 and message in result.output, result.output


class Counted(AudioLLMAdapter):
    """The real adapter, remembering which tasks each batch across tasks held."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.batches: list[list[str]] = []

    def predict_mixed(self, items):
        self.batches.append([card.name for card, _ in items])
        return super().predict_mixed(items)


MIXED = ["SpeakerGender", "KeywordSpotting", "SentenceTranscription"]


@pytest.mark.parametrize("answer", ["generate", "rank"])
def test_batches_across_tasks_give_the_records_of_per_task_batches(tmp_path: Path, tiny, answer: str) -> None:
    # One generate call holds several tasks' examples (ranked classification examples are ranked per task).
    model = Counted(str(tiny["qwen2_audio"]), device="cpu", max_new_tokens=3, answer=answer)
    evaluate(model, tasks=MIXED, tasks_root=TASKS, out=tmp_path, name="mixed", limit=5, batch_size=4)
    assert any(len(set(batch)) > 1 for batch in model.batches) and len(model.batches) == 4, model.batches
    alone = bench_run(tiny["qwen2_audio"], tmp_path, ",".join(MIXED), "--per-task", "--model-arg", f"answer={answer}",
                      limit=5)
    assert alone.exit_code == 0, alone.output
    for task in MIXED:
        run_file = tmp_path / f"mixed/runs/{shipped_key(task)}.jsonl"
        mixed = [r.model_dump(exclude={"seconds"}) for r in read_records(run_file)]
        assert mixed == [r.model_dump(exclude={"seconds"}) for r in records(tmp_path, task)] and len(mixed) == 5
        assert all((r["label_scores"] is not None) == (answer == "rank" and task != "SentenceTranscription")
                   for r in mixed)


def test_input_length_orders_examples_as_their_prompt_tokens(tiny) -> None:
    # Batches across tasks are sorted by this length: it must follow the prompt's real token count.
    adapter = AudioLLMAdapter(str(tiny["qwen2_audio"]), device="cpu")
    adapter.load()
    cases = [("Say?", 0.5), ("A much longer instruction than the other ones here?", 0.5), ("Say?", 2.0), ("Hm?", 1.3)]
    tokens = []
    for instruction, seconds in cases:
        query = Query("1", instruction, (np.zeros(int(16_000 * seconds), dtype=np.float32),))
        tokens.append(adapter.encode(adapter.conversations([query]))["input_ids"].shape[1])
    lengths = [adapter.input_length(instruction, seconds) for instruction, seconds in cases]
    assert adapter.audio_tokens_per_second() == 25  # Qwen2-Audio: one token per 40 ms
    offsets = [t - n for t, n in zip(tokens, lengths, strict=True)]  # the template's tokens, and frame rounding
    assert max(offsets) - min(offsets) <= 1
    assert sorted(range(4), key=lengths.__getitem__) == sorted(range(4), key=tokens.__getitem__) == [0, 3, 2, 1]


def test_a_tiny_audio_llm_runs_plain_and_constrained_on_a_shipped_task(tmp_path: Path, tiny) -> None:
    model = tiny["qwen2_audio"]
    assert bench_run(model, tmp_path, "SpeakerGender").exit_code == 0
    result = bench_run(model, tmp_path, "SpeakerGender", "--constraints", "2")
    assert result.exit_code == 0, result.output
    constrained = read_records(tmp_path / f"tiny+constraints/runs/{shipped_key('SpeakerGender')}.jsonl")
    assert len(constrained) == 4 * 2 and len({r.constraint_index for r in constrained}) == 2
    assert all(r.checks and r.if_strict is not None and r.checker_version for r in constrained)
    plain = {r.id: r for r in records(tmp_path, "SpeakerGender")}
    for r in constrained:  # the constrained prompt is the plain one plus a phrasing of the set
        assert r.instruction.startswith(plain[r.id].instruction + " ")
    assert "IF strict" in result.output
