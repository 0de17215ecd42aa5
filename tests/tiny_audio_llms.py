"""Tiny random-weight audio LLMs built offline from configs, one builder per architecture.

Each builder saves a model folder (config, weights, processor: tokenizer, feature
extractor, chat template) that ``audiollm:<folder>`` loads like a downloaded one.
The tokenizer is byte-level (every text is representable, decoding is exact) with
the model's special tokens at the ids its config is given. The chat templates have
the shape of each model's own (audio placeholders where the model puts them).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from tiny_multimodal_llms import (
    build_gemma3n,
    build_granite_speech,
    build_phi4_multimodal,
    build_qwen2_5_omni,
    build_qwen2_5_omni_thinker,
    build_qwen3_omni_moe,
    build_qwen3_omni_moe_thinker,
)
from tiny_parts import byte_tokenizer, save, tiny_qwen2

CHATML_AUDIO = (
    "{% set audio_count = namespace(value=0) %}{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'audio' %}{% set audio_count.value = audio_count.value + 1 %}"
    "Audio {{ audio_count.value }}: <|audio_bos|><|AUDIO|><|audio_eos|>\n"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
"""Qwen2-Audio's template: each clip numbered, then the text."""

AF3_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for content in message['content'] %}{% if content['type'] == 'audio' %}<sound>{% endif %}{% endfor %}"
    "{% for content in message['content'] %}{% if content['type'] == 'text' %}{{ content['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
"""Audio Flamingo 3's template: the sound placeholders first, then the text."""

SINGLE_AUDIO_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}"
    "{{ message['content'] }}{% else %}{% set ns = namespace(done=false) %}{% for content in message['content'] %}"
    "{% if content['type'] == 'audio' and not ns.done %}<|audio_bos|><|AUDIO|><|audio_eos|>{% set ns.done = true %}"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
"""A template that places only the first clip (a model trained on one clip per turn)."""


QWEN_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|audio_bos|>", "<|AUDIO|>", "<|audio_eos|>"]


def build_qwen2_audio(folder: Path, template: str = CHATML_AUDIO, hidden: int = 32, layers: int = 1) -> Path:
    """Qwen2-Audio: Whisper-style encoder, projector, Qwen2 decoder; ``<|AUDIO|>`` expanded per clip."""
    from transformers import (
        Qwen2AudioConfig,
        Qwen2AudioForConditionalGeneration,
        Qwen2AudioProcessor,
        Qwen2TokenizerFast,
        WhisperFeatureExtractor,
    )

    tok = byte_tokenizer(
        QWEN_SPECIALS, Qwen2TokenizerFast, pad_token="<|endoftext|>", eos_token="<|im_end|>", bos_token=None
    )
    processor = Qwen2AudioProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=128), tokenizer=tok, chat_template=template
    )
    audio = {"d_model": 32, "encoder_layers": 1, "encoder_attention_heads": 2, "encoder_ffn_dim": 64}
    cfg = Qwen2AudioConfig(
        audio_config={**audio, "num_mel_bins": 128},
        text_config=tiny_qwen2(len(tok), hidden, layers),
        audio_token_index=tok.convert_tokens_to_ids("<|AUDIO|>"),
    )
    cfg.text_config.eos_token_id = cfg.text_config.pad_token_id = None
    return save(folder, Qwen2AudioForConditionalGeneration(cfg), processor)


def build_audio_flamingo3(folder: Path) -> Path:
    """Audio Flamingo 3: Whisper-style encoder, pooling projector, Qwen2 decoder; ``<sound>`` placeholders."""
    from transformers import (
        AudioFlamingo3Config,
        AudioFlamingo3ForConditionalGeneration,
        AudioFlamingo3Processor,
        Qwen2TokenizerFast,
        WhisperFeatureExtractor,
    )

    tok = byte_tokenizer(
        ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<sound>"],
        Qwen2TokenizerFast,
        pad_token="<|endoftext|>",
        eos_token="<|im_end|>",
        bos_token=None,
    )
    processor = AudioFlamingo3Processor(
        feature_extractor=WhisperFeatureExtractor(feature_size=128), tokenizer=tok, chat_template=AF3_TEMPLATE
    )
    cfg = AudioFlamingo3Config(
        audio_config={
            "hidden_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "intermediate_size": 64,
            "num_mel_bins": 128,
        },
        text_config=tiny_qwen2(len(tok)),
        audio_token_id=tok.convert_tokens_to_ids("<sound>"),
    )
    return save(folder, AudioFlamingo3ForConditionalGeneration(cfg), processor)


GLM_TEMPLATE = (
    "[gMASK]<sop>{% for message in messages %}<|{{ message['role'] }}|>\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'audio' %}<|begin_of_audio|><|pad|><|end_of_audio|>"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}{% endfor %}{% endif %}\n"
    "{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
"""GLM-ASR's template: audio between begin/end markers, then the text."""


def build_glmasr(folder: Path) -> Path:
    """GLM-ASR: Whisper-style encoder, projector, Llama decoder; ``<|pad|>`` audio placeholders."""
    from transformers import GlmAsrConfig, GlmAsrForConditionalGeneration, GlmAsrProcessor, WhisperFeatureExtractor

    specials = ["<|endoftext|>", "[gMASK]", "<sop>", "<|user|>", "<|assistant|>", "<|system|>"]
    tok = byte_tokenizer(
        [*specials, "<|begin_of_audio|>", "<|pad|>", "<|end_of_audio|>"],
        pad_token="<|endoftext|>",
        eos_token="<|user|>",
    )
    processor = GlmAsrProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=128), tokenizer=tok, chat_template=GLM_TEMPLATE
    )
    text = {**tiny_qwen2(len(tok)), "model_type": "llama", "eos_token_id": [tok.eos_token_id], "pad_token_id": 0}
    cfg = GlmAsrConfig(
        audio_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "num_mel_bins": 128,
        },
        text_config=text,
        audio_token_id=tok.convert_tokens_to_ids("<|pad|>"),
    )
    return save(folder, GlmAsrForConditionalGeneration(cfg), processor)


BUILDERS: dict[str, Callable[[Path], Path]] = {
    "qwen2_audio": build_qwen2_audio,
    "audioflamingo3": build_audio_flamingo3,
    "glmasr": build_glmasr,
    "qwen2_5_omni_thinker": build_qwen2_5_omni_thinker,
    "qwen2_5_omni": build_qwen2_5_omni,
    "qwen3_omni_moe_thinker": build_qwen3_omni_moe_thinker,
    "qwen3_omni_moe": build_qwen3_omni_moe,
    "gemma3n": build_gemma3n,
    "granite_speech": build_granite_speech,
    "phi4_multimodal": build_phi4_multimodal,
}
"""model_type -> builder, for every architecture verified through ``bench run``."""

LIBRARIES: dict[str, tuple[str, ...]] = {
    "qwen2_5_omni_thinker": ("torchvision",),  # its processor holds Qwen2-VL image and video processors
    "qwen2_5_omni": ("torchvision",),
    "qwen3_omni_moe_thinker": ("torchvision",),
    "qwen3_omni_moe": ("torchvision",),
    "gemma3n": ("torchvision", "timm"),  # its vision tower is a timm model
    "granite_speech": ("torchaudio",),  # its feature extractor computes mel spectrograms with torchaudio
    "phi4_multimodal": ("torchvision",),  # its image processor
}
"""What a builder needs beyond torch and transformers (the architecture's processor or model imports it)."""


def build(arch: str, folder: Path, seed: int = 0) -> Path:
    """Build one tiny model with a fixed seed."""
    torch.manual_seed(seed)
    return BUILDERS[arch](folder)
