"""The one registry of model adapters: spec strings such as ``majority`` or ``probe:fbank``.

A spec is ``family`` or ``family:argument``. Each family is listed here once, with
the class that implements it as an import path, so heavy libraries are imported
only when that adapter is built.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from benchmark.adapters.base import Adapter, AdapterError


@dataclass(frozen=True)
class AdapterEntry:
    """One adapter family."""

    family: str
    target: str
    """``module:Class`` implementing it."""
    summary: str
    example: str
    argument: str | None = None
    """What the part after ``:`` means, or None if the family takes none."""


REGISTRY: dict[str, AdapterEntry] = {
    e.family: e
    for e in [
        AdapterEntry(
            "random",
            "benchmark.adapters.baselines:RandomAdapter",
            "seeded uniform label / number in the train range / train text (chance level)",
            "random",
        ),
        AdapterEntry(
            "majority",
            "benchmark.adapters.baselines:MajorityAdapter",
            "train split's most frequent label, mean value or commonest text",
            "majority",
        ),
        AdapterEntry(
            "probe",
            "benchmark.adapters.probe:ProbeAdapter",
            "SUPERB weighted-sum probe on a frozen upstream, trained on the train split",
            "probe:fbank",
            argument="fbank, mfcc, s3prl:NAME, or a Hugging Face folder / hub id",
        ),
        AdapterEntry(
            "cascade",
            "benchmark.adapters.cascade:CascadeAdapter",
            "ASR then a text LLM; `cascade` alone is offline Whisper tiny.en + SmolLM2-135M-Instruct",
            "cascade",
            argument="<asr>+<llm>: asr = faster-whisper[:DIR] | whisper:DIR_OR_ID | pocketsphinx; "
            "llm = smollm2 | hf:DIR_OR_ID | gguf:FILE | openai:MODEL",
        ),
        AdapterEntry(
            "audiollm",
            "benchmark.adapters.audiollm:AudioLLMAdapter",
            "end-to-end audio LLM through transformers (Qwen2-Audio); --model-arg backend=vllm on GPUs",
            "audiollm:/models/Qwen2-Audio-7B-Instruct",
            argument="a Hugging Face folder or hub id",
        ),
    ]
}


class SpecError(ValueError):
    """An adapter spec or argument the registry cannot resolve."""


def parse_spec(spec: str) -> tuple[AdapterEntry, str | None]:
    """Split ``family:argument`` and find the family.

    Raises:
        SpecError: unknown family, or an argument the family does not take.
    """
    family, _, argument = spec.partition(":")
    entry = REGISTRY.get(family)
    if entry is None:
        raise SpecError(f"unknown model {spec!r}; `bench models` lists them: {', '.join(REGISTRY)}")
    if argument and entry.argument is None:
        raise SpecError(f"{family!r} takes no ':' argument (got {spec!r})")
    if not argument and entry.argument is not None and ":" in spec:
        raise SpecError(f"{spec!r} needs {entry.argument} after ':'")
    return entry, argument or None


def build_adapter(spec: str, args: dict[str, str] | None = None) -> Adapter:
    """Build (not load) the adapter for ``spec`` with keyword arguments from ``--model-arg``.

    Raises:
        SpecError: unknown spec or arguments the adapter does not accept.
    """
    entry, argument = parse_spec(spec)
    module_name, _, class_name = entry.target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    kwargs = dict(args or {})
    if argument is not None:
        kwargs["spec_argument"] = argument
    try:
        adapter: Adapter = cls(**kwargs)
    except (TypeError, AdapterError) as exc:
        raise SpecError(f"{spec}: {exc}") from exc
    return adapter
