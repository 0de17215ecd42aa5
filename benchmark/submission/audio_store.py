"""Audio answers on disk: each clip written once, as lossless FLAC at the model's rate, named by its hash.

::

    submissions/<model>/audio/<h[:2]>/<h>.flac     one clip of an answer (git-ignored: not committed)
    submissions/<model>/audio/scores.jsonl         speech scores by (clips, example, metric, scorer identity)

The harness, not the adapter, owns the files. An answer is checked before anything is written
(``check_output``: missing, unreadable, empty, non-finite, too long), so a broken or huge output
costs no disk; a valid clip (silent and too-short ones included: they are what the model said)
is quantised to 24-bit PCM, hashed over its rate, channel count and samples, and written once.
Records keep the hashes, so ``bench score`` re-scores from the files, and the score cache
answers again for the same clip, example and scorer without loading a model.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.scoring.speech.answer import AudioAnswer, StoredAnswer
from benchmark.scoring.speech.output import MAX_CHANNELS, MAX_FILE_BYTES, STATUSES, check_output, read_output

_HASH = re.compile(r"^[0-9a-f]{64}$")
_FULL_SCALE = 2**23 - 1  # 24-bit PCM, FLAC's lossless depth for float audio in [-1, 1]
NOT_STORED = ("missing", "unreadable", "empty", "non_finite", "too_long")
"""Statuses of clips that are not audio anyone could listen to: nothing is written for them."""


class AudioStore:
    """The content-addressed audio files of one submission."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        """Where the clip with hash ``digest`` lives.

        FLAC, or WAV (equally lossless) for a rate FLAC's header cannot state: above 65535 Hz and not a
        multiple of 10.
        """
        if not _HASH.match(digest):  # a record's hash names a file here, never a path (records are untrusted)
            raise ValueError(f"{digest[:80]!r} is not an audio hash")
        flac = self.root / digest[:2] / f"{digest}.flac"
        wav = flac.with_suffix(".wav")
        return wav if not flac.is_file() and wav.is_file() else flac

    def put(self, answer: AudioAnswer | str, *, max_seconds: float) -> StoredAnswer:
        """Write the clips of an answer (each once) and return what the record keeps.

        A text answer to an audio task is kept as its text channel with status ``missing``.
        """
        if isinstance(answer, str):
            return StoredAnswer((), (), answer)
        hashes: list[str | None] = []
        statuses: list[str] = []
        for clip in answer.clips():
            samples, rate, status = _decoded(clip, answer.rate, max_seconds)
            if status is None:
                status, _ = check_output(samples, rate, min_seconds=0.1, max_seconds=max_seconds, resample=False)
            if status in NOT_STORED:
                hashes.append(None)
            else:
                hashes.append(self._write(samples, int(rate)))
            statuses.append(status)
        return StoredAnswer(tuple(hashes), tuple(statuses), answer.text or "")

    def read(self, digest: str | None, *, max_seconds: float) -> tuple[str, np.ndarray | None]:
        """A stored clip checked and brought to mono 16 kHz (``read_output``), or ``missing``."""
        return read_output(None if digest is None else self.path(digest), max_seconds=max_seconds)

    def has(self, digest: str) -> bool:
        """Whether the clip's file is here (a fresh clone of a submission has records but no audio)."""
        return self.path(digest).is_file()

    def _write(self, samples: Any, rate: int) -> str:
        pcm = _pcm24(samples)
        digest = hashlib.sha256(f"{rate}:{pcm.shape[1]}:".encode() + pcm.tobytes()).hexdigest()
        if self.has(digest):
            return digest
        import soundfile as sf

        path = self.path(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            sf.write(tmp, pcm << 8, rate, format="FLAC", subtype="PCM_24")  # int32 is read as 32-bit full scale
        except sf.LibsndfileError:  # FLAC's header cannot state this rate: keep it as it is, in WAV
            tmp.unlink(missing_ok=True)
            path = path.with_suffix(".wav")
            sf.write(tmp, pcm << 8, rate, format="WAV", subtype="PCM_24")
        os.replace(tmp, path)
        return digest


def _decoded(clip: Any, rate: int | None, max_seconds: float) -> tuple[Any, Any, str | None]:
    """``(samples, rate, status)``: encoded bytes decoded (status ``unreadable`` when they do not decode).

    The header's length is checked first: a small file that declares hours of audio is ``too_long`` before a
    sample is decoded.
    """
    if not isinstance(clip, (bytes, bytearray)):
        return clip, rate, None
    if len(clip) == 0:
        return None, rate, "empty"
    if len(clip) > MAX_FILE_BYTES:
        return None, rate, "too_long"
    import soundfile as sf

    try:
        with sf.SoundFile(io.BytesIO(bytes(clip))) as f:
            if f.samplerate <= 0 or f.channels > MAX_CHANNELS:
                return None, rate, "unreadable"
            if f.frames / f.samplerate > max_seconds:
                return None, rate, "too_long"
            data, sr = f.read(dtype="float32", always_2d=True), f.samplerate
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
        return None, rate, "unreadable"
    return data, sr, None


def _pcm24(samples: Any) -> np.ndarray:
    """``(frames, channels)`` int32 holding 24-bit PCM: what the FLAC file holds, sample for sample."""
    array = np.asarray(samples)
    if array.ndim == 1:
        array = array[:, None]
    elif array.shape[0] < array.shape[1]:
        array = array.T  # channels on the short axis (check_output accepted the layout)
    if array.dtype.kind == "i":  # integer PCM scaled by its full scale, as check_output and soundfile read it
        scaled = array.astype(np.float64) / -float(np.iinfo(array.dtype).min)
    elif array.dtype.kind == "u":  # unsigned PCM is centred on half its range
        half = (float(np.iinfo(array.dtype).max) + 1) / 2
        scaled = (array.astype(np.float64) - half) / half
    else:
        scaled = array.astype(np.float64)
    return np.ascontiguousarray(np.round(np.clip(scaled, -1.0, 1.0) * _FULL_SCALE).astype(np.int32))


class ScoreCache:
    """Speech scores by (clips, task content, example, metric, scorer identity), appended as JSON lines.

    A cache is only a shortcut to the same numbers: the key holds everything a score depends on,
    so a changed clip, reference, task or scoring model misses and is scored again.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._known: dict[str, dict[str, Any]] | None = None

    @staticmethod
    def key(hashes: Sequence[str | None], task_hash: str, example_id: str, metric: str, identity: str) -> str:
        """The cache key of one metric's score of one answer."""
        parts = json.dumps([list(hashes), task_hash, example_id, metric, identity])
        return hashlib.sha256(parts.encode()).hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        """A cached score (``value``, ``status``, ``detail``), or None."""
        return self._load().get(key)

    def put(self, entries: Mapping[str, dict[str, Any]]) -> None:
        """Append scores (one line each)."""
        if not entries:
            return
        known = self._load()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            for key, entry in entries.items():
                f.write(json.dumps({"key": key, **entry}, allow_nan=True) + "\n")
                known[key] = entry

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._known is None:
            self._known = {}
            if self.path.is_file():
                for line in self.path.read_text(encoding="utf-8").splitlines():
                    try:
                        entry = json.loads(line)
                        self._known[entry.pop("key")] = entry
                    except (ValueError, KeyError, AttributeError):
                        continue  # a line cut short by a crash: that score is computed again
        return self._known


__all__ = ["NOT_STORED", "STATUSES", "AudioStore", "ScoreCache", "StoredAnswer"]
