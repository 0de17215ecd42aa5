"""End-to-end audio LLM through `bench run`, with a tiny Qwen2-Audio built from a config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from benchmark.adapters.audiollm import AudioLLMAdapter, conversation
from benchmark.cli import app
from benchmark.submission.records import read_records

runner = CliRunner()
TASKS = Path(__file__).resolve().parents[2] / "tasks"
# The shape of Qwen2-Audio's own template: it numbers the audio items itself.
CHAT_TEMPLATE = (
    "{% set audio_count = namespace(value=0) %}{% for m in messages %}<|im_start|> {{ m['role'] }} "
    "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for c in m['content'] %}"
    "{% if c['type'] == 'audio' %}{% set audio_count.value = audio_count.value + 1 %}"
    "Audio {{ audio_count.value }}: <|audio_bos|> <|AUDIO|> <|audio_eos|> {% else %}{{ c['text'] }} {% endif %}"
    "{% endfor %}{% endif %} <|im_end|> {% endfor %}{% if add_generation_prompt %}<|im_start|> assistant {% endif %}"
)


@pytest.fixture(scope="module")
def tiny_qwen2_audio(tmp_path_factory) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        Qwen2AudioConfig,
        Qwen2AudioForConditionalGeneration,
        Qwen2AudioProcessor,
        Qwen2TokenizerFast,
        WhisperFeatureExtractor,
    )

    words = [
        "<pad>",
        "<|im_start|>",
        "<|im_end|>",
        "<unk>",
        "<|audio_bos|>",
        "<|AUDIO|>",
        "<|audio_eos|>",
        "yes",
        "no",
        "first",
        "second",
        "Audio",
        "1:",
        "2:",
        "user",
        "assistant",
    ]
    backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok = Qwen2TokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", eos_token="<|im_end|>", unk_token="<unk>", bos_token=None
    )
    tok.add_special_tokens({"additional_special_tokens": ["<|audio_bos|>", "<|AUDIO|>", "<|audio_eos|>"]})
    processor = Qwen2AudioProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=128), tokenizer=tok, chat_template=CHAT_TEMPLATE
    )
    cfg = Qwen2AudioConfig(
        audio_config={
            "d_model": 32,
            "encoder_layers": 1,
            "encoder_attention_heads": 2,
            "encoder_ffn_dim": 64,
            "num_mel_bins": 128,
        },
        text_config={
            "model_type": "qwen2",
            "vocab_size": len(tok),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "num_key_value_heads": 2,
        },
        audio_token_index=tok.convert_tokens_to_ids("<|AUDIO|>"),
    )
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-qwen2-audio")
    Qwen2AudioForConditionalGeneration(cfg).save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def test_multi_audio_prompt_numbers_each_clip(tiny_qwen2_audio: Path) -> None:
    adapter = AudioLLMAdapter(str(tiny_qwen2_audio), device="cpu")
    adapter.load()
    from benchmark.adapters import Query

    (prompt,) = adapter.prompts([Query("1", "Which is higher?", (torch.zeros(10).numpy(),) * 2)])
    assert prompt.count("<|AUDIO|>") == 2 and "Audio 1:" in prompt and "Audio 2:" in prompt
    assert prompt.index("Audio 2:") < prompt.index("Which is higher?")
    assert conversation("q", 1)[0]["content"][-1] == {"type": "text", "text": "q"}


@pytest.mark.parametrize("task", ["SpeakerGender", "IntervalDirection"])  # one clip, two clips per example
def test_tiny_qwen2_audio_runs_end_to_end(tmp_path: Path, tiny_qwen2_audio: Path, task: str) -> None:
    result = runner.invoke(
        app,
        [
            "run",
            "--model",
            f"audiollm:{tiny_qwen2_audio}",
            "--name",
            "tiny-qwen",
            "--tasks",
            task,
            "--limit",
            "4",
            "--batch-size",
            "2",
            "--tasks-root",
            str(TASKS),
            "--out",
            str(tmp_path),
            "--model-arg",
            "max_new_tokens=3",
            "--device",
            "cpu",
            "--no-semantic",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    records = read_records(tmp_path / f"tiny-qwen/runs/{task}@1.0.0.jsonl")
    assert len(records) == 4
    card = json.loads((tmp_path / "tiny-qwen/model.json").read_text())
    assert card["adapter_args"] == {"device": "cpu", "max_new_tokens": "3"}


@pytest.mark.parametrize(
    ("model", "args", "message"),
    [
        ("audiollm", [], "needs a model"),
        ("audiollm:some-org/not-here", [], "local folder"),
        ("audiollm:x", ["--model-arg", "backend=tgi"], "backend"),
        ("audiollm:x", ["--model-arg", "max_new_tokens=lots"], "integer"),
    ],
)
def test_audiollm_errors_are_clear(tmp_path: Path, model, args, message, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = runner.invoke(
        app,
        [
            "run",
            "--model",
            model,
            *args,
            "--tasks",
            "SpokenDigits",
            "--limit",
            "1",
            "--tasks-root",
            str(TASKS),
            "--out",
            str(tmp_path),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 2 and message in result.output, result.output
