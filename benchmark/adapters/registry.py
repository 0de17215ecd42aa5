"""The one registry of model adapters: spec strings such as ``majority`` or ``probe:fbank``.

A spec is ``family`` or ``family:argument``. Each built-in family is listed here
once, with the class that implements it as an import path, so heavy libraries are
imported only when that adapter is built. Outside code plugs in without editing
the package:

- ``path/to/file.py:ClassName`` loads a class from a Python file;
- ``package.module:ClassName`` imports it from an installed module;
- an installed distribution lists ``name = "package.module:ClassName"`` under the
  entry-point group ``speech_benchmark.adapters``, and ``name`` becomes a family.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from benchmark.adapters.base import Adapter, AdapterError
from benchmark.endpoint import secret_argument_problem

ENTRY_POINT_GROUP = "speech_benchmark.adapters"


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
            "any transformers audio-chat model (its own processor and chat template); answer=rank scores labels",
            "audiollm:/models/Qwen2-Audio-7B-Instruct",
            argument="a Hugging Face folder or hub id",
        ),
        AdapterEntry(
            "api",
            "benchmark.adapters.api:ApiAdapter",
            "OpenAI-compatible chat completions with input_audio parts (vllm serve, GPT-4o-audio, Gemini, proxies)",
            "api:Qwen/Qwen2-Audio-7B-Instruct",
            argument="the served model name; --model-arg base_url=... (default http://127.0.0.1:8000/v1, vLLM's)",
        ),
        AdapterEntry(
            "tts",
            "benchmark.adapters.speaking:EspeakAdapter",
            "speaks each example's text with Debian's espeak-ng (audio tasks; apt-get install espeak-ng)",
            "tts:espeak",
            argument="espeak[:VOICE] (e.g. tts:espeak:en-us+f3; default voice en-us)",
        ),
        AdapterEntry(
            "cascade-speak",
            "benchmark.adapters.spoken_cascade:SpokenCascadeAdapter",
            "a spoken reply: cascade's ASR and text LLM, then espeak-ng reads the reply aloud (audio tasks)",
            "cascade-speak",
            argument="<asr>+<llm>, as for cascade",
        ),
        AdapterEntry(
            "silence",
            "benchmark.adapters.speaking:SilenceAdapter",
            "about 1 s of digital silence per source (the floor of audio tasks)",
            "silence",
        ),
        AdapterEntry(
            "copy-input",
            "benchmark.adapters.speaking:CopyInputAdapter",
            "the first input clip unchanged, once per source (do-nothing floor: enhancement, separation)",
            "copy-input",
        ),
        AdapterEntry(
            "reference",
            "benchmark.adapters.speaking:ReferenceAdapter",
            "each example's reference audio (reference system: the ceiling that checks the scorers)",
            "reference",
        ),
    ]
}


class SpecError(ValueError):
    """An adapter spec or argument the registry cannot resolve."""


def plugin_entries() -> dict[str, AdapterEntry]:
    """Adapter families that installed distributions register under ``speech_benchmark.adapters``."""
    found = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in REGISTRY:
            dist = ep.dist.name if ep.dist is not None else "an installed package"
            found[ep.name] = AdapterEntry(ep.name, ep.value, f"plug-in from {dist}", ep.name, argument="optional")
    return found


def parse_spec(spec: str) -> tuple[AdapterEntry, str | None]:
    """Split ``family:argument`` and find the family (built-in first, then entry points).

    Raises:
        SpecError: unknown family, or an argument the family does not take.
    """
    family, _, argument = spec.partition(":")
    entry = REGISTRY.get(family) or plugin_entries().get(family)
    if entry is None:
        names = ", ".join([*REGISTRY, *plugin_entries()])
        raise SpecError(
            f"unknown model {spec!r}; `bench models` lists them ({names}), "
            "or pass your own as path/to/file.py:ClassName or package.module:ClassName"
        )
    if argument and entry.argument is None:
        raise SpecError(f"{family!r} takes no ':' argument (got {spec!r})")
    if not argument and entry.argument is not None and ":" in spec:
        raise SpecError(f"{spec!r} needs {entry.argument} after ':'")
    return entry, argument or None


PLUGIN_SPEC = re.compile(r"^(.+\.py|[A-Za-z_]\w*(\.[A-Za-z_]\w*)*):[A-Za-z_]\w*$")
"""``file.py:Class`` or ``package.module:Class`` (tried after the built-in and entry-point names)."""


def _load_file(path: Path) -> object:
    if not path.is_file():
        raise SpecError(f"{path}: no such file (a plug-in spec is path/to/file.py:ClassName)")
    name = f"bench_plugin_{abs(hash(path.resolve()))}"
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise SpecError(f"{path}: cannot be imported as a Python file")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:  # the user's file may fail in any way; report it in one line
        raise SpecError(f"{path}: importing it failed: {type(exc).__name__}: {exc}") from exc
    return module


def load_class(target: str, origin: str) -> type[Adapter]:
    """The adapter class named by ``module:Class`` or ``file.py:Class``.

    Raises:
        SpecError: the module, file or class is missing, or the class is not an ``Adapter``.
    """
    where, _, class_name = target.rpartition(":")
    if where.endswith(".py"):
        module = _load_file(Path(where))
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as exc:
            raise SpecError(f"{origin}: cannot import {where!r} ({exc})") from exc
    cls = getattr(module, class_name, None)
    if cls is None:
        raise SpecError(f"{origin}: {where} has no {class_name!r}")
    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        raise SpecError(
            f"{origin}: {class_name} is not an Adapter; subclass benchmark.Adapter and implement predict(card, queries)"
        )
    return cls


def class_origin(cls: type) -> str:
    """Where an adapter class was defined, and whether ``bench run --model`` can load it again (for model.json)."""
    where = f"{cls.__module__}:{cls.__qualname__}"
    file = getattr(sys.modules.get(cls.__module__), "__file__", None)
    if "<locals>" in cls.__qualname__:
        return f"{where}: defined inside a function, so it cannot be loaded by name; define it at module level"
    if cls.__module__ != "__main__":
        return f"{where} ({file})" if file else where
    if file:
        return (
            f"{where}: defined in the script {file}, which cannot be imported by module name; "
            f"`bench run --model {file}:{cls.__qualname__}` loads the same class"
        )
    return (
        f"{where}: defined in a notebook or an interactive session, so it cannot be re-imported; "
        f"keep the class in a .py file to re-run it with `bench run --model file.py:{cls.__qualname__}`"
    )


def build_adapter(spec: str, args: dict[str, str] | None = None) -> Adapter:
    """Build (not load) the adapter for ``spec`` with keyword arguments from ``--model-arg``.

    Raises:
        SpecError: unknown spec, arguments the adapter does not accept, or a secret in an argument
            (arguments are recorded in model.json and run headers; keys go in environment variables).
    """
    if problem := secret_argument_problem(args or {}):
        raise SpecError(problem)
    kwargs = dict(args or {})
    family = spec.partition(":")[0]
    if family not in REGISTRY and family not in plugin_entries() and PLUGIN_SPEC.match(spec):
        cls = load_class(spec, spec)
    else:
        entry, argument = parse_spec(spec)
        cls = load_class(entry.target, spec)
        if argument is not None:
            kwargs["spec_argument"] = argument
    try:
        return cls(**kwargs)
    except (TypeError, AdapterError) as exc:
        raise SpecError(f"{spec}: {exc}") from exc
