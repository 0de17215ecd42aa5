"""Transcripts cached per clip on disk, so re-runs and several LLMs over one ASR transcribe each clip once.

A transcript is keyed by the SHA-256 of the clip's samples (float32, 16 kHz: the
same audio in two tasks, or under two file names, is one entry) and stored in a
file named after the ASR's identity (backend, version, model folder and weights
stamp, decoding options), so a different model or option never reads another's
transcripts. Files are append-only JSON lines, one ``{"audio": sha, "text": ...}``
each; a cut-short last line is ignored.

Where: ``--model-arg transcripts=DIR``, else ``$BENCH_CACHE_DIR/transcripts``, else
``$XDG_CACHE_HOME/speech-benchmark/transcripts`` (``~/.cache/...``);
``transcripts=off`` disables it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np


class IdentifiedASR(Protocol):
    """An ASR backend that says exactly what it is."""

    identity: str

    def transcribe(self, clips: Sequence[np.ndarray]) -> list[str]:
        """One transcript per 16 kHz mono clip."""


def default_cache_root() -> Path:
    """``$BENCH_CACHE_DIR``, else ``$XDG_CACHE_HOME/speech-benchmark``, else ``~/.cache/speech-benchmark``."""
    if os.environ.get("BENCH_CACHE_DIR"):
        return Path(os.environ["BENCH_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "speech-benchmark"


def clip_hash(clip: np.ndarray) -> str:
    """SHA-256 of a clip's float32 samples."""
    return hashlib.sha256(np.ascontiguousarray(clip, dtype=np.float32).tobytes()).hexdigest()


class CachedASR:
    """Wraps an ASR: clips seen before (by content) are answered from disk; the rest go to the ASR in one call."""

    def __init__(self, asr: IdentifiedASR, folder: Path) -> None:
        self.asr = asr
        name = hashlib.sha256(asr.identity.encode()).hexdigest()[:24]
        self.path = folder / f"{name}.jsonl"
        self.known: dict[str, str] = {}
        self.hits = self.misses = 0
        self._read()

    def _read(self) -> None:
        if not self.path.exists():
            return
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
                self.known[str(entry["audio"])] = str(entry["text"])
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a crash: that clip is transcribed again

    def transcribe(self, clips: Sequence[np.ndarray]) -> list[str]:
        """Transcripts of ``clips``, in order."""
        keys = [clip_hash(c) for c in clips]
        missing = list(dict.fromkeys(k for k in keys if k not in self.known))
        self.hits += len(keys) - sum(1 for k in keys if k in missing)
        if missing:
            first = {k: i for i, k in reversed(list(enumerate(keys)))}
            texts = self.asr.transcribe([clips[first[k]] for k in missing])
            self.misses += len(missing)
            self._store(dict(zip(missing, texts, strict=True)))
        return [self.known[k] for k in keys]

    def _store(self, new: dict[str, str]) -> None:
        self.known.update(new)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            (self.path.parent / f"{self.path.stem}.identity.txt").write_text(self.asr.identity + "\n", encoding="utf-8")
        lines = "".join(json.dumps({"audio": k, "text": v}, ensure_ascii=False) + "\n" for k, v in new.items())
        with self.path.open("a+b") as f:
            f.seek(0, os.SEEK_END)
            if f.tell():
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    lines = "\n" + lines  # end a line a crash cut short, so it does not swallow the next entry
            f.write(lines.encode("utf-8"))
