"""Builders for small synthetic task folders (tones made here; nothing is downloaded)."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

SR = 16_000


def tone(freq: float, seconds: float = 0.25, sr: int = SR, amp: float = 0.3, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    x = (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return x if channels == 1 else np.stack([x] * channels, axis=1)


def write_audio(path: Path, data: np.ndarray, sr: int = SR, fmt: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, data, sr, format=fmt or path.suffix.lstrip(".").upper())


def card(name: str = "ToneHeight", **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": name,
        "version": "1.0.0",
        "description": "Is the tone high or low?",
        "dimension": "audio",
        "task_type": "classification",
        "metric": "accuracy",
        "labels": ["high", "low"],
        "instructions": [
            "Is the tone high or low? Answer high or low.",
            "Listen: is this a high or a low tone?",
            "Answer with high or low: how is the pitch of the tone?",
            "Say whether the tone is high or low.",
            "Classify the tone as high or low.",
        ],
        "audio_inputs": 1,
        "license": "CC0-1.0",
        "source": {"dataset": "synthetic", "url": "", "citation": "", "notes": "sine tones"},
        "languages": [],
        "authors": ["Test Author"],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


README = """# ToneHeight

## Objective
Pitch.

## Data provenance
Synthetic.

## Licence
CC0-1.0.

## Example
high

## Baseline
Chance 0.5.
"""


def make_task(
    root: Path,
    name: str = "ToneHeight",
    *,
    n_train: int = 8,
    n_test: int = 32,
    card_overrides: dict[str, Any] | None = None,
    fmt: str = "flac",
) -> Path:
    """A valid classification task folder: high (880 Hz+) vs low (220 Hz+) tones, all distinct."""
    folder = root / name
    (folder / "audio").mkdir(parents=True)
    (folder / "task.json").write_text(json.dumps(card(name, **(card_overrides or {})), indent=2))
    lines = []
    for i in range(n_train + n_test):
        label = "high" if i % 2 else "low"
        freq = (880.0 if label == "high" else 220.0) + i
        rel = f"audio/{i:04d}.{fmt}"
        write_audio(folder / rel, tone(freq))
        split = "train" if i < n_train else "test"
        lines.append(json.dumps({"id": f"{i:04d}", "split": split, "audio": rel, "label": label}))
    (folder / "examples.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "README.md").write_text(README)
    return folder


def read_examples(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / "examples.jsonl").read_text().splitlines() if line.strip()]


def write_examples(folder: Path, rows: list[dict[str, Any]]) -> None:
    (folder / "examples.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")


def edit_card(folder: Path, **changes: Any) -> None:
    data = json.loads((folder / "task.json").read_text())
    for key, value in changes.items():
        if value is _DELETE:
            data.pop(key, None)
        else:
            data[key] = value
    (folder / "task.json").write_text(json.dumps(data, indent=2))


_DELETE = object()
DELETE = _DELETE


def beeps(n: int, sr: int = SR) -> np.ndarray:
    """``n`` short 1 kHz beeps separated by silence."""
    beep, gap = tone(1000, 0.05, sr), np.zeros(int(0.05 * sr), dtype=np.float32)
    return np.concatenate([np.concatenate([beep, gap]) for _ in range(n)] + [gap])


def make_regression_task(root: Path, name: str = "BeepCount", n_train: int = 12, n_test: int = 32) -> Path:
    """Count the beeps (1 to 6): a regression task scored with MAE."""
    folder = root / name
    (folder / "audio").mkdir(parents=True)
    overrides = {
        "task_type": "regression",
        "metric": "mae",
        "labels": None,
        "dimension": "audio",
        "instructions": [
            "How many beeps?",
            "Count the beeps.",
            "Number of beeps, please.",
            "Tell me how many beeps you hear.",
            "Give the beep count.",
        ],
    }
    (folder / "task.json").write_text(json.dumps(card(name, **overrides), indent=2))
    lines = []
    for i in range(n_train + n_test):
        count = 1 + (i * 7) % 6
        rel = f"audio/{i:04d}.flac"
        # A leading pad of i samples makes every file distinct.
        write_audio(folder / rel, np.concatenate([np.zeros(i + 1, dtype=np.float32), beeps(count)]))
        split = "train" if i < n_train else "test"
        lines.append(json.dumps({"id": f"{i:04d}", "split": split, "audio": rel, "label": count}))
    (folder / "examples.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "README.md").write_text(README)
    return folder


WORDS = ["red green blue", "one two three four", "the quick brown fox", "hello world"]


def make_generation_task(root: Path, name: str = "ColourWords", n_train: int = 8, n_test: int = 32) -> Path:
    """A generation task with reference texts (scored with WER); the audio is a placeholder tone."""
    folder = root / name
    (folder / "audio").mkdir(parents=True)
    overrides = {
        "task_type": "generation",
        "metric": "wer",
        "labels": None,
        "dimension": "content",
        "languages": ["en"],
        "instructions": [
            "Transcribe the audio.",
            "Write down what is said.",
            "What words are spoken?",
            "Give a transcript.",
            "Type out the speech.",
        ],
    }
    (folder / "task.json").write_text(json.dumps(card(name, **overrides), indent=2))
    lines = []
    for i in range(n_train + n_test):
        rel = f"audio/{i:04d}.flac"
        write_audio(folder / rel, tone(300 + 5 * i))
        split = "train" if i < n_train else "test"
        text = WORDS[0] if split == "train" and i % 3 else WORDS[i % len(WORDS)]
        lines.append(json.dumps({"id": f"{i:04d}", "split": split, "audio": rel, "label": text}))
    (folder / "examples.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "README.md").write_text(README)
    return folder


def make_suite(root: Path) -> Path:
    """Three small tasks: classification (audio), regression (audio), generation (content)."""
    make_task(root, "ToneHeight")
    make_regression_task(root)
    make_generation_task(root)
    return root


def tone_wav(text: str, sr: int = 24_000) -> bytes:
    """A 440 Hz tone as 16-bit mono WAV bytes (OpenAI's 24 kHz), 0.2 s plus 0.05 s per character of ``text``."""
    samples = (tone(440.0, 0.2 + 0.05 * len(text), sr) * 32767).astype("<i2")
    buffer = io.BytesIO()
    sf.write(buffer, samples, sr, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


class ChatServer:
    """A loopback HTTP server speaking the OpenAI chat-completions protocol, for client tests.

    ``reply(prompt)`` gives the assistant text for the last message; ``fail_first`` answers the
    first request with HTTP 503 to exercise retries; ``script`` lists raw ``(status, body)`` answers
    given to the first requests (errors, malformed JSON). ``calls`` records request bodies, auth headers
    and paths.

    It speaks too: a chat request with ``"modalities": [..., "audio"]`` gets the reply's text as
    ``message.audio.transcript`` and ``speak(text)`` (WAV bytes; default ``tone_wav``) as base64
    ``message.audio.data``, with ``content`` null, as OpenAI answers; ``speak`` returning None gives a
    reply without audio (the text in ``content``). ``POST .../audio/speech`` answers ``speak(input)``'s bytes.
    """

    def __init__(
        self, reply, fail_first: bool = False, script: list[tuple[int, bytes]] | None = None, speak=None
    ) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        server = self
        speaker = speak or tone_wav
        self.calls: list[dict[str, Any]] = []
        self.fail_first = fail_first
        self.script = list(script or [])

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.calls.append({"body": body, "auth": self.headers.get("Authorization"), "path": self.path})
                if server.fail_first:
                    server.fail_first = False
                    self.send_response(503)
                    self.end_headers()
                    return
                if server.script:
                    status, raw = server.script.pop(0)
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                    return
                if self.path.endswith("/audio/speech"):
                    self._send(speaker(body["input"]) or b"", "audio/wav")
                    return
                text = reply(body["messages"][-1]["content"])
                message: dict[str, Any] = {"role": "assistant", "content": text}
                wav = speaker(text) if "audio" in body.get("modalities", []) else None
                if wav is not None:
                    audio = {"id": "audio_0", "data": base64.b64encode(wav).decode(), "transcript": text}
                    message.update(content=None, audio={**audio, "expires_at": 0})
                self._send(json.dumps({"choices": [{"message": message}]}).encode(), "application/json")

            def _send(self, data: bytes, kind: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> ChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


SHIPPED_TASKS = Path(__file__).resolve().parents[1] / "tasks"


def shipped_version(task: str) -> str:
    """The current version of a shipped task (tests must not pin it: a card change bumps it)."""
    return str(json.loads((SHIPPED_TASKS / task / "task.json").read_text(encoding="utf-8"))["version"])


def shipped_key(task: str) -> str:
    """``Task@version`` of a shipped task."""
    return f"{task}@{shipped_version(task)}"


def make_audio_task(
    root: Path,
    name: str = "CleanTone",
    *,
    n_train: int = 4,
    n_test: int = 32,
    metric: str = "SI-SDR",
    metrics: tuple[str, ...] = ("SI-SDRi", "duration-ratio"),
) -> Path:
    """A valid ``audio`` task: a tone in noise in, the clean tone (the reference) out; numpy metrics only."""
    folder = root / name
    (folder / "audio").mkdir(parents=True)
    rng = np.random.default_rng(7)
    data = card(
        name,
        task_type="audio",
        metric=metric,
        labels=None,
        dimension="degradation",
        languages=[],
        output={"sources": 1, "max_seconds": 5.0, "speaker": "source", "metrics": list(metrics)},
        instructions=[f"Remove the noise from this recording and return the clean sound ({i})." for i in range(5)],
    )
    (folder / "task.json").write_text(json.dumps(data, indent=2))
    lines = []
    for i in range(n_train + n_test):
        clean = tone(300.0 + 7 * i, seconds=0.5)
        noisy = (clean + rng.normal(0, 0.05, clean.shape)).astype(np.float32)
        write_audio(folder / f"audio/{i:04d}.flac", noisy)
        write_audio(folder / f"audio/{i:04d}-clean.flac", clean)
        lines.append(
            json.dumps(
                {
                    "id": f"{i:04d}",
                    "split": "train" if i < n_train else "test",
                    "audio": f"audio/{i:04d}.flac",
                    "label": "",
                    "reference_audio": [f"audio/{i:04d}-clean.flac"],
                }
            )
        )
    (folder / "examples.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "README.md").write_text(README)
    return folder
