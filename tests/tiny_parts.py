"""Pieces the tiny random-weight model builders share: a byte-level tokenizer, a tiny Qwen2 text config, saving."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def bytes_to_unicode() -> list[str]:
    """GPT-2's printable stand-in character for each byte value."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    code = {b: b for b in printable}
    for b in range(256):
        if b not in code:
            code[b] = 256 + len(code) - len(printable)
    return [chr(code[b]) for b in range(256)]


def byte_tokenizer(specials: list[str], cls: Any = None, tail: tuple[str, ...] = (), **kwargs: Any) -> Any:
    """A byte-level BPE (no merges) wrapped as a transformers fast tokenizer.

    ``specials`` take ids 0..n-1, the 256 bytes follow, then the ``tail`` specials
    (for models whose multimodal tokens sit after the text vocabulary, e.g. Gemma 3n).
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate([*specials, *bytes_to_unicode(), *tail])}
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    backend.decoder = decoders.ByteLevel()
    backend.add_special_tokens([*specials, *tail])
    return (cls or PreTrainedTokenizerFast)(tokenizer_object=backend, **kwargs)


def tiny_qwen2(vocab: int, hidden: int = 32, layers: int = 1) -> dict[str, Any]:
    """A 1-layer, 32-wide Qwen2 text config (wider and deeper for the throughput benchmark)."""
    return {
        "model_type": "qwen2",
        "vocab_size": vocab,
        "hidden_size": hidden,
        "intermediate_size": 2 * hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": 2,
        "num_key_value_heads": 2,
    }


def save(folder: Path, model: Any, processor: Any) -> Path:
    """Save the model and its processor into ``folder``, as a downloaded model folder."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
