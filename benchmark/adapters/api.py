"""``api:<model>``: any OpenAI-compatible chat-completions server that accepts audio.

Each example becomes one user message: every clip as an ``input_audio`` part
(base64 16 kHz mono 16-bit WAV, in the task's clip order), then the instruction as
a text part. This is how ``vllm serve <model>``, GPT-4o-audio, Gemini's
OpenAI-compatible endpoint and proxies are evaluated::

    vllm serve Qwen/Qwen2-Audio-7B-Instruct
    bench run --model api:Qwen/Qwen2-Audio-7B-Instruct --model-arg base_url=http://127.0.0.1:8000/v1

``base_url`` defaults to ``http://127.0.0.1:8000/v1`` (where ``vllm serve``
listens). The key is read from the environment variable ``api_key_env`` names;
only that name is ever recorded. Replies are cached on disk (under ``cache_dir``, default
``$XDG_CACHE_HOME/speech-benchmark/api``) keyed by the whole request, so a resumed
or repeated run never pays twice.
"""

from __future__ import annotations

import base64
import io
import os
import re
import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmark.adapters.base import Adapter, AdapterError, OptionError, Query, float_option, int_option
from benchmark.endpoint import ChatEndpoint, EndpointError, Message, ResponseCache
from benchmark.task.card import TaskCard

SR = 16_000
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def wav_base64(clip: np.ndarray, sr: int = SR) -> str:
    """A float clip as base64 of a 16-bit PCM mono WAV file."""
    pcm = (np.clip(np.asarray(clip, dtype=np.float32), -1.0, 1.0) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def audio_message(query: Query, system: str | None = None) -> list[Message]:
    """The chat for one query: an optional system turn, then the clips in order and the instruction."""
    parts: list[dict[str, object]] = [
        {"type": "input_audio", "input_audio": {"data": wav_base64(clip), "format": "wav"}} for clip in query.audio
    ]
    parts.append({"type": "text", "text": query.instruction})
    head: list[Message] = [{"role": "system", "content": system}] if system else []
    return [*head, {"role": "user", "content": parts}]


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/speech-benchmark/api`` (``~/.cache`` when unset)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "speech-benchmark" / "api"


class ApiAdapter(Adapter):
    """An OpenAI-compatible endpoint serving an audio chat model."""

    def __init__(
        self,
        spec_argument: str | None = None,
        base_url: str = "http://127.0.0.1:8000/v1",
        api_key_env: str = "OPENAI_API_KEY",
        concurrency: object = 4,
        max_tokens: object = 64,
        temperature: object = 0.0,
        timeout: object = 60.0,
        retries: object = 4,
        system: str | None = None,
        cache: str = "on",
        cache_dir: str | None = None,
    ) -> None:
        if not spec_argument:
            raise OptionError("api needs the served model name: api:<model> --model-arg base_url=http://host:port/v1")
        if not base_url.startswith(("http://", "https://")):
            raise OptionError(f"--model-arg base_url={base_url!r}: give the server's URL, e.g. http://host:8000/v1")
        if not ENV_NAME.match(api_key_env):
            # Never echo the value: a user who pasted the key itself here must not see it in logs.
            raise OptionError("api_key_env names an environment variable holding the key (e.g. OPENAI_API_KEY)")
        if cache not in ("on", "off"):
            raise OptionError(f"--model-arg cache={cache!r}: use on or off")
        store = ResponseCache(Path(cache_dir) if cache_dir else default_cache_dir()) if cache == "on" else None
        self.model, self.system = spec_argument, system
        self.client = ChatEndpoint(
            base_url,
            spec_argument,
            api_key_env=api_key_env,
            timeout=float_option("timeout", timeout),
            retries=int_option("retries", retries),
            max_tokens=int_option("max_tokens", max_tokens),
            temperature=float_option("temperature", temperature),
            concurrency=int_option("concurrency", concurrency),
            cache=store,
        )

    mixes_tasks = True

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        """One request per query, ``concurrency`` in flight."""
        return self.predict_mixed([(card, q) for q in batch])

    def predict_mixed(self, items: Sequence[tuple[TaskCard, Query]]) -> list[str]:
        """One request per query whatever its task, ``concurrency`` in flight across all of them."""
        batch = [q for _, q in items]
        try:
            replies = self.client.complete_many([audio_message(q, self.system) for q in batch])
        except EndpointError as exc:
            raise AdapterError(str(exc)) from exc
        return [r.strip() for r in replies]

    def info(self) -> dict[str, object]:
        """What was evaluated (never the key)."""
        return {"description": f"{self.model} through an OpenAI-compatible API"}
