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

An ``audio`` task (the answer is speech) asks for a spoken reply, OpenAI style:
``"modalities": ["text", "audio"], "audio": {"voice": VOICE, "format": "wav"}`` (``--model-arg
voice=``, default ``alloy``), and reads ``choices[0].message.audio`` (base64 WAV ``data`` and its
``transcript``). ``--model-arg endpoint=speech`` posts each example's text to ``/audio/speech``
instead (``{"model", "input", "voice", "response_format": "wav"}``: text-to-speech models) and keeps
the bytes. A reply without audio is kept as missing audio with whatever text came.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import os
import re
import wave
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from benchmark.adapters.base import Adapter, AdapterError, Answer, OptionError, Query, float_option, int_option
from benchmark.endpoint import ChatEndpoint, EndpointError, Message, ResponseCache
from benchmark.scoring.speech.answer import AudioAnswer
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
    """The chat for one query: an optional system turn, then the clips in order, the instruction and the text."""
    parts: list[dict[str, object]] = [
        {"type": "input_audio", "input_audio": {"data": wav_base64(clip), "format": "wav"}} for clip in query.audio
    ]
    parts.append({"type": "text", "text": query.instruction})
    if query.text is not None:
        parts.append({"type": "text", "text": query.text})
    head: list[Message] = [{"role": "system", "content": system}] if system else []
    return [*head, {"role": "user", "content": parts}]


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/speech-benchmark/api`` (``~/.cache`` when unset)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "speech-benchmark" / "api"


def _message_parts(raw: bytes) -> str:
    """A spoken chat reply kept as one JSON string: its ``content``, ``audio`` (base64) and ``transcript``.

    Raises:
        EndpointError: the body is not JSON or has no ``choices[0].message``.
    """
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise EndpointError(f"the server returned malformed JSON ({exc}): {raw[:120]!r}") from exc
    try:
        message = data["choices"][0]["message"]
        audio = message.get("audio") or {}
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise EndpointError(f"the server's JSON has no choices[0].message: {str(data)[:160]}") from exc
    audio = audio if isinstance(audio, dict) else {}
    return json.dumps(
        {"content": message.get("content"), "audio": audio.get("data"), "transcript": audio.get("transcript")}
    )


def _speech_bytes(raw: bytes) -> str:
    """An ``/audio/speech`` reply (the audio file itself) kept as one JSON string, its bytes in base64."""
    return json.dumps({"audio": base64.b64encode(raw).decode("ascii")})


class AudioEndpoint(ChatEndpoint):
    """A spoken reply: chat completions with ``modalities`` text and audio, or ``/audio/speech`` (``speech``).

    It shares ``ChatEndpoint``'s body, cache, concurrency and retry policy; a reply is kept (and cached)
    as a JSON string with the reply's parts, which ``audio_answer`` turns into an ``AudioAnswer``.
    """

    def __init__(self, base_url: str, model: str, *, voice: str, speech: bool, **options: Any) -> None:
        super().__init__(base_url, model, **options)
        self.voice, self.speech = voice, speech
        self._reader: Callable[[bytes], str] = _speech_bytes if speech else _message_parts
        if speech:
            self.url = base_url.rstrip("/") + "/audio/speech"

    def read(self, raw: bytes) -> str:
        """The reply's parts (text, audio, transcript), or the spoken file itself, kept as one JSON string."""
        return self._reader(raw)

    def body(self, messages: Sequence[Message]) -> dict[str, Any]:
        """A chat request asking for audio, or (``speech``) the text of the last message to be spoken."""
        if self.speech:
            text = messages[-1]["content"]
            return {"model": self.model, "input": text, "voice": self.voice, "response_format": "wav"}
        return {
            **super().body(messages),
            "modalities": ["text", "audio"],
            "audio": {"voice": self.voice, "format": "wav"},
        }


def audio_answer(reply: str) -> AudioAnswer:
    """The ``AudioAnswer`` of a kept reply: the WAV bytes and the text; no audio: missing, with the text."""
    parts = json.loads(reply)
    text = parts.get("transcript") or parts.get("content")
    encoded = parts.get("audio")
    if not isinstance(encoded, str) or not encoded:
        return AudioAnswer(samples=None, text=text)
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        data = encoded.encode()  # kept as it came: the harness scores bytes that do not decode
    return AudioAnswer(data=data, format="wav", text=text)


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
        voice: str = "alloy",
        endpoint: str = "chat",
        audio_max_tokens: object = 2048,
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
        if endpoint not in ("chat", "speech"):
            raise OptionError(
                f"--model-arg endpoint={endpoint!r}: use chat (chat completions) or speech (/audio/speech)"
            )
        store = ResponseCache(Path(cache_dir) if cache_dir else default_cache_dir()) if cache == "on" else None
        self.model, self.system, self.voice, self.endpoint = spec_argument, system, voice, endpoint
        options: dict[str, Any] = {
            "api_key_env": api_key_env,
            "timeout": float_option("timeout", timeout),
            "retries": int_option("retries", retries),
            "temperature": float_option("temperature", temperature),
            "concurrency": int_option("concurrency", concurrency),
            "cache": store,
        }
        self.client = ChatEndpoint(base_url, spec_argument, max_tokens=int_option("max_tokens", max_tokens), **options)
        # A spoken reply's tokens include its audio's, so it gets its own, larger budget.
        self.speaker = AudioEndpoint(
            base_url,
            spec_argument,
            voice=voice,
            speech=endpoint == "speech",
            max_tokens=int_option("audio_max_tokens", audio_max_tokens),
            **options,
        )

    answers: ClassVar[frozenset[str]] = frozenset({"text", "audio"})
    mixes_tasks = True

    def check(self, card: TaskCard, n_train: int) -> str | None:
        """``endpoint=speech`` only speaks: it cannot answer a text task."""
        if self.endpoint == "speech" and card.task_type != "audio":
            return f"{card.name} is answered with text, and endpoint=speech only speaks"
        return super().check(card, n_train)

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[Answer]:
        """One request per query, ``concurrency`` in flight."""
        return self.predict_mixed([(card, q) for q in batch])

    def predict_mixed(self, items: Sequence[tuple[TaskCard, Query]]) -> list[Answer]:
        """One request per query whatever its task, ``concurrency`` in flight across all of them.

        Text tasks get the reply's text; audio tasks a spoken reply (``AudioAnswer``).
        """
        spoken = [i for i, (card, _) in enumerate(items) if card.task_type == "audio"]
        written = [i for i, (card, _) in enumerate(items) if card.task_type != "audio"]
        out: list[Answer] = [""] * len(items)
        try:
            replies = self.client.complete_many([audio_message(items[i][1], self.system) for i in written])
            for i, reply in zip(written, replies, strict=True):
                out[i] = reply.strip()
            for i, answer in zip(spoken, self._speak([items[i][1] for i in spoken]), strict=True):
                out[i] = answer
        except EndpointError as exc:
            raise AdapterError(str(exc)) from exc
        return out

    def _speak(self, queries: Sequence[Query]) -> list[AudioAnswer]:
        """Spoken replies; with ``endpoint=speech``, each query's text spoken (no text: no audio, no request)."""
        if self.endpoint == "chat":
            return [
                audio_answer(r) for r in self.speaker.complete_many([audio_message(q, self.system) for q in queries])
            ]
        texts = [i for i, q in enumerate(queries) if q.text is not None and q.text.strip()]
        chats: list[list[Message]] = [[{"role": "user", "content": queries[i].text}] for i in texts]
        out = [AudioAnswer(samples=None, text=q.text) for q in queries]
        for i, reply in zip(texts, self.speaker.complete_many(chats), strict=True):
            out[i] = audio_answer(reply)
        return out

    def info(self) -> dict[str, object]:
        """What was evaluated (never the key)."""
        via = "/audio/speech" if self.endpoint == "speech" else "an OpenAI-compatible API"
        voice = f" (spoken replies: voice {self.voice})" if self.voice != "alloy" or self.endpoint == "speech" else ""
        return {"description": f"{self.model} through {via}{voice}"}
