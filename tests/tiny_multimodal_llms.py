"""Tiny random-weight multimodal LLMs whose processors or models need torchvision, timm or torchaudio.

Built offline from configs like those in ``tiny_audio_llms`` (byte-level tokenizer
with each model's special tokens at the ids its config is given, the model's chat
template shape); ``tiny_audio_llms.LIBRARIES`` says which library each one needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tiny_parts import byte_tokenizer, save, tiny_qwen2

OMNI_TEMPLATE = (
    "{% set audio_count = namespace(value=0) %}{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}"
    "<|im_end|>\n{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' %}<|vision_bos|><|IMAGE|><|vision_eos|>"
    "{% elif content['type'] == 'audio' %}{% set audio_count.value = audio_count.value + 1 %}"
    "{% if add_audio_id %}Audio {{ audio_count.value }}: {% endif %}<|audio_bos|><|AUDIO|><|audio_eos|>"
    "{% elif content['type'] == 'video' %}<|vision_bos|><|VIDEO|><|vision_eos|>"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
"""The Qwen2.5-Omni template: a default system turn, each part in place (audio between its bos/eos markers)."""


def qwen2_5_omni_thinker() -> tuple[Any, Any]:
    """The Qwen2.5-Omni thinker and its processor (which holds image and video processors too: torchvision)."""
    from transformers import (
        Qwen2_5OmniProcessor,
        Qwen2_5OmniThinkerConfig,
        Qwen2_5OmniThinkerForConditionalGeneration,
        Qwen2TokenizerFast,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
        WhisperFeatureExtractor,
    )

    named = {
        "audio_token": "<|AUDIO|>",
        "audio_bos_token": "<|audio_bos|>",
        "audio_eos_token": "<|audio_eos|>",
        "image_token": "<|IMAGE|>",
        "video_token": "<|VIDEO|>",
        "vision_bos_token": "<|vision_bos|>",
        "vision_eos_token": "<|vision_eos|>",
    }
    tok = byte_tokenizer(
        ["<|endoftext|>", "<|im_start|>", "<|im_end|>", *named.values()],
        Qwen2TokenizerFast,
        pad_token="<|endoftext|>",
        eos_token="<|im_end|>",
        bos_token=None,
        extra_special_tokens=named,
    )
    processor = Qwen2_5OmniProcessor(
        image_processor=Qwen2VLImageProcessor(),
        video_processor=Qwen2VLVideoProcessor(),
        feature_extractor=WhisperFeatureExtractor(feature_size=128),
        tokenizer=tok,
        chat_template=OMNI_TEMPLATE,
    )
    ids = {name: tok.convert_tokens_to_ids(token) for name, token in named.items()}
    text = {**tiny_qwen2(len(tok)), "rope_parameters": {"rope_type": "default", "mrope_section": [2, 2, 4]}}
    cfg = Qwen2_5OmniThinkerConfig(
        audio_config={
            "d_model": 32,
            "encoder_layers": 1,
            "encoder_attention_heads": 2,
            "encoder_ffn_dim": 64,
            "num_mel_bins": 128,
            "output_dim": 32,
        },
        vision_config={
            "depth": 1,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "out_hidden_size": 32,
            "fullatt_block_indexes": [0],
        },
        text_config=text,
        audio_token_index=ids["audio_token"],
        image_token_index=ids["image_token"],
        video_token_index=ids["video_token"],
        audio_start_token_id=ids["audio_bos_token"],
        audio_end_token_id=ids["audio_eos_token"],
        vision_start_token_id=ids["vision_bos_token"],
        vision_end_token_id=ids["vision_eos_token"],
        user_token_id=tok.convert_tokens_to_ids("<|im_start|>"),
    )
    return Qwen2_5OmniThinkerForConditionalGeneration(cfg), processor


def build_qwen2_5_omni_thinker(folder: Path) -> Path:
    """The Qwen2.5-Omni thinker: Whisper-style audio encoder, Qwen2.5-VL vision encoder, Qwen2 decoder with M-RoPE."""
    return save(folder, *qwen2_5_omni_thinker())


def build_qwen2_5_omni(folder: Path) -> Path:
    """The whole Qwen2.5-Omni model as released (config ``qwen2_5_omni``, the thinker's weights under ``thinker.``)."""
    from transformers import Qwen2_5OmniConfig, Qwen2_5OmniForConditionalGeneration

    return whole_omni(folder, Qwen2_5OmniConfig, Qwen2_5OmniForConditionalGeneration, *qwen2_5_omni_thinker())


def whole_omni(folder: Path, config_class: Any, model_class: Any, thinker: Any, processor: Any) -> Path:
    """A whole speaking model around ``thinker``, saved as released, without its talker and vocoder.

    ``enable_audio_output=False`` leaves them out: the adapter loads only the thinker either way.
    """
    model = model_class(config_class(thinker_config=thinker.config.to_dict(), enable_audio_output=False))
    model.thinker.load_state_dict(thinker.state_dict())
    return save(folder, model, processor)


QWEN3_OMNI_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}"
    "{{ message['content'] }}{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'audio' %}<|audio_start|><|audio_pad|><|audio_end|>"
    "{% elif content['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
"""The Qwen3-Omni template: each part in place, audio between its start/end markers."""


def qwen3_omni_moe_thinker() -> tuple[Any, Any]:
    """The Qwen3-Omni thinker and its processor (which holds image and video processors too: torchvision)."""
    from transformers import (
        Qwen2TokenizerFast,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
        Qwen3OmniMoeProcessor,
        Qwen3OmniMoeThinkerConfig,
        Qwen3OmniMoeThinkerForConditionalGeneration,
        WhisperFeatureExtractor,
    )

    named = {
        "audio_token": "<|audio_pad|>",
        "audio_bos_token": "<|audio_start|>",
        "audio_eos_token": "<|audio_end|>",
        "image_token": "<|image_pad|>",
        "video_token": "<|video_pad|>",
        "vision_bos_token": "<|vision_start|>",
        "vision_eos_token": "<|vision_end|>",
    }
    tok = byte_tokenizer(
        ["<|endoftext|>", "<|im_start|>", "<|im_end|>", *named.values()],
        Qwen2TokenizerFast,
        pad_token="<|endoftext|>",
        eos_token="<|im_end|>",
        bos_token=None,
        extra_special_tokens=named,
    )
    processor = Qwen3OmniMoeProcessor(
        image_processor=Qwen2VLImageProcessor(patch_size=16),
        video_processor=Qwen2VLVideoProcessor(patch_size=16),
        feature_extractor=WhisperFeatureExtractor(feature_size=128),
        tokenizer=tok,
        chat_template=QWEN3_OMNI_TEMPLATE,
    )
    ids = {name: tok.convert_tokens_to_ids(token) for name, token in named.items()}
    text = {
        **tiny_qwen2(len(tok)),
        "head_dim": 16,
        "num_experts": 4,
        "num_experts_per_tok": 2,
        "moe_intermediate_size": 16,
        "rope_parameters": {"rope_type": "default", "mrope_section": [4, 2, 2], "mrope_interleaved": True},
    }
    del text["model_type"]
    cfg = Qwen3OmniMoeThinkerConfig(
        audio_config={
            "d_model": 32,
            "encoder_layers": 1,
            "encoder_attention_heads": 2,
            "encoder_ffn_dim": 64,
            "num_mel_bins": 128,
            "output_dim": 32,
            "downsample_hidden_size": 16,
        },
        vision_config={
            "depth": 1,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "out_hidden_size": 32,
            "deepstack_visual_indexes": [0],
        },
        text_config=text,
        audio_token_id=ids["audio_token"],
        image_token_id=ids["image_token"],
        video_token_id=ids["video_token"],
        audio_start_token_id=ids["audio_bos_token"],
        vision_start_token_id=ids["vision_bos_token"],
        user_token_id=tok.convert_tokens_to_ids("<|im_start|>"),
    )
    return Qwen3OmniMoeThinkerForConditionalGeneration(cfg), processor


def build_qwen3_omni_moe_thinker(folder: Path) -> Path:
    """The Qwen3-Omni thinker: chunked audio encoder, Qwen3-VL vision encoder, Qwen3 MoE decoder with M-RoPE."""
    return save(folder, *qwen3_omni_moe_thinker())


def build_qwen3_omni_moe(folder: Path) -> Path:
    """The whole Qwen3-Omni model as released (config ``qwen3_omni_moe``, the thinker's weights under ``thinker.``)."""
    from transformers import Qwen3OmniMoeConfig, Qwen3OmniMoeForConditionalGeneration

    return whole_omni(folder, Qwen3OmniMoeConfig, Qwen3OmniMoeForConditionalGeneration, *qwen3_omni_moe_thinker())


GEMMA3N_TEMPLATE = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}"
    "{% set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' %}{% set loop_messages = messages[1:] %}"
    "{% else %}{% set first_user_prefix = '' %}{% set loop_messages = messages %}{% endif %}"
    "{% for message in loop_messages %}{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}"
    "{{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else '') }}"
    "{% if message['content'] is string %}{{ message['content'] | trim }}{% else %}"
    "{% for item in message['content'] %}{% if item['type'] == 'audio' %}<audio_soft_token>"
    "{% elif item['type'] == 'image' %}<image_soft_token>{% elif item['type'] == 'text' %}{{ item['text'] | trim }}"
    "{% endif %}{% endfor %}{% endif %}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
"""Gemma 3n's template: the system text folded into the first user turn, each part in place."""


def build_gemma3n(folder: Path) -> Path:
    """Gemma 3n: conformer audio encoder, timm vision tower, AltUp/LAuReL decoder with per-layer inputs.

    The token layout is the real one: text vocabulary, then the vision range, then
    the audio range (multimodal soft tokens are embedded by their own tables). The
    vision tower is the tiny timm ViT that transformers' own tests use (timm needs
    torchvision); 188 audio soft tokens per clip, as in the released models.
    """
    from transformers import (
        Gemma3nAudioFeatureExtractor,
        Gemma3nConfig,
        Gemma3nForConditionalGeneration,
        Gemma3nProcessor,
        SiglipImageProcessor,
    )

    text_specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"]
    text_specials += ["<start_of_image>", "<start_of_audio>"]
    vision = ("<end_of_image>", "<image_soft_token>", "<vision_unused_0>", "<vision_unused_1>")
    audio = ("<end_of_audio>", "<audio_soft_token>", "<audio_unused_0>", "<audio_unused_1>")
    named = {
        "image_token": "<image_soft_token>",
        "boi_token": "<start_of_image>",
        "eoi_token": "<end_of_image>",
        "audio_token": "<audio_soft_token>",
        "boa_token": "<start_of_audio>",
        "eoa_token": "<end_of_audio>",
    }
    tok = byte_tokenizer(
        text_specials,
        tail=(*vision, *audio),
        pad_token="<pad>",
        eos_token="<eos>",
        bos_token="<bos>",
        unk_token="<unk>",
        extra_special_tokens=named,
    )
    n_text = len(text_specials) + 256
    processor = Gemma3nProcessor(
        feature_extractor=Gemma3nAudioFeatureExtractor(),
        image_processor=SiglipImageProcessor(),
        tokenizer=tok,
        chat_template=GEMMA3N_TEMPLATE,
    )
    layers = 2
    text = {
        "vocab_size": len(tok),
        "vocab_size_per_layer_input": n_text,
        "hidden_size": 32,
        "hidden_size_per_layer_input": 8,
        "intermediate_size": 64,
        "num_hidden_layers": layers,
        "num_kv_shared_layers": 0,
        "layer_types": ["sliding_attention", "full_attention"],
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "head_dim": 16,
        "altup_num_inputs": 2,
        "laurel_rank": 4,
        "activation_sparsity_pattern": [0.0] * layers,
        "pad_token_id": 0,
        "eos_token_id": [1, tok.convert_tokens_to_ids("<end_of_turn>")],
        "bos_token_id": 2,
    }
    vit = {"embed_dim": 32, "img_size": (20, 20), "depth": 1, "num_heads": 2, "global_pool": ""}
    vit |= {"use_post_transformer_norm": False, "init_values": 0.1, "ref_feat_shape": (1, 1)}
    cfg = Gemma3nConfig(
        text_config=text,
        vision_config={
            "architecture": "vit_pe_core_large_patch14_336",
            "model_args": vit,
            "hidden_size": 32,
            "vocab_size": len(vision),
            "vocab_offset": n_text,
        },
        audio_config={
            "input_feat_size": 128,
            "hidden_size": 32,
            "conf_num_attention_heads": 2,
            "conf_num_hidden_layers": 1,
            "sscp_conv_channel_size": (16, 8),
            "conf_conv_kernel_size": 3,
            "conf_attention_chunk_size": 4,
            "conf_attention_context_left": 5,
            "vocab_size": len(audio),
            "vocab_offset": n_text + len(vision),
        },
        **{f"{key}_id": tok.convert_tokens_to_ids(token) for key, token in named.items()},
    )
    return save(folder, Gemma3nForConditionalGeneration(cfg), processor)


GRANITE_TEMPLATE = (
    "{% for message in messages %}<|start_of_role|>{{ message['role'] }}<|end_of_role|>"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'audio' %}<|audio|>{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|end_of_text|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|start_of_role|>assistant<|end_of_role|>{% endif %}"
)
"""Granite's turn shape, with ``<|audio|>`` where the clip is (the model card puts it before the request)."""


def build_granite_speech(folder: Path) -> Path:
    """Granite Speech: conformer CTC encoder, windowed Q-Former projector, Granite decoder.

    Its feature extractor computes the mel spectrogram with torchaudio. No LoRA
    adapter (the released models ship one for peft; the tiny model has none).
    """
    from transformers import (
        GraniteSpeechConfig,
        GraniteSpeechFeatureExtractor,
        GraniteSpeechForConditionalGeneration,
        GraniteSpeechProcessor,
    )

    tok = byte_tokenizer(
        ["<|end_of_text|>", "<|start_of_role|>", "<|end_of_role|>", "<|audio|>"],
        pad_token="<|end_of_text|>",
        eos_token="<|end_of_text|>",
        bos_token="<|end_of_text|>",
        extra_special_tokens={"audio_token": "<|audio|>"},
    )
    processor = GraniteSpeechProcessor(
        audio_processor=GraniteSpeechFeatureExtractor(), tokenizer=tok, chat_template=GRANITE_TEMPLATE
    )
    cfg = GraniteSpeechConfig(
        # Untied output head: a 1-layer random model with tied embeddings repeats its last (special) input token.
        text_config={**tiny_qwen2(len(tok)), "model_type": "granite", "pad_token_id": 0, "eos_token_id": 0},
        tie_word_embeddings=False,
        encoder_config={
            "input_dim": 160,
            "num_layers": 1,
            "hidden_dim": 32,
            "num_heads": 2,
            "dim_head": 16,
            "output_dim": 8,
        },
        projector_config={
            "model_type": "blip_2_qformer",
            "hidden_size": 32,
            "num_attention_heads": 2,
            "num_hidden_layers": 1,
            "intermediate_size": 64,
            "encoder_hidden_size": 32,
            "cross_attention_frequency": 1,
        },
        audio_token_index=tok.convert_tokens_to_ids("<|audio|>"),
        has_lora_adapter=False,
    )
    return save(folder, GraniteSpeechForConditionalGeneration(cfg), processor)


PHI4_TEMPLATE = (
    "{% for message in messages %}{{ '<|' + message['role'] + '|>' }}{% if message['content'] is string %}"
    "{{ message['content'] }}{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' %}<|image|>{% elif content['type'] == 'audio' %}<|audio|>"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}{% endfor %}{% endif %}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% else %}{{ eos_token }}{% endif %}"
)
"""Phi-4-multimodal's template (transformers' port): ``<|user|>``, the parts in place, ``<|end|><|assistant|>``."""


def build_phi4_multimodal(folder: Path) -> Path:
    """Phi-4-multimodal: conformer audio encoder with speech projection, SigLIP vision encoder, Phi-3 decoder.

    Its processor holds an image processor (torchvision).
    """
    from transformers import (
        Phi4MultimodalConfig,
        Phi4MultimodalFeatureExtractor,
        Phi4MultimodalForCausalLM,
        Phi4MultimodalImageProcessor,
        Phi4MultimodalProcessor,
    )

    specials = ["<|endoftext|>", "<|user|>", "<|assistant|>", "<|system|>", "<|end|>", "<|image|>", "<|audio|>"]
    tok = byte_tokenizer(
        specials,
        pad_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        bos_token="<|endoftext|>",
        extra_special_tokens={"image_token": "<|image|>", "audio_token": "<|audio|>"},
    )
    processor = Phi4MultimodalProcessor(
        image_processor=Phi4MultimodalImageProcessor(),
        audio_processor=Phi4MultimodalFeatureExtractor(),
        tokenizer=tok,
        chat_template=PHI4_TEMPLATE,
    )
    text = {k: v for k, v in tiny_qwen2(len(tok)).items() if k != "model_type"}
    cfg = Phi4MultimodalConfig(
        **text,
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_token_id": tok.convert_tokens_to_ids("<|image|>"),
        },
        audio_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_blocks": 1,
            "num_attention_heads": 2,
            "ext_pw_out_channel": 32,
            "depthwise_separable_out_channel": 32,
            "nemo_conv_channels": 32,
            "audio_token_id": tok.convert_tokens_to_ids("<|audio|>"),
        },
        bos_token_id=0,
        pad_token_id=0,
        eos_token_id=[0, tok.convert_tokens_to_ids("<|end|>")],
    )
    return save(folder, Phi4MultimodalForCausalLM(cfg), processor)
