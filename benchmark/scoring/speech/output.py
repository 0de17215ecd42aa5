"""Checking a produced audio answer before any metric sees it.

A model's audio output is untrusted: it may be missing, the wrong type, NaN, silent,
stereo, at any rate, or hours long. :func:`check_output` turns whatever came back into
one status and, when the status is ``ok``, a mono float32 array at 16 kHz. Every check
that bounds the work (the length) runs before any copy, downmix or resampling, so a
huge output costs no more than a short one.
"""

from __future__ import annotations

import math
import os
from typing import Any, Literal

import numpy as np

SAMPLE_RATE = 16_000
"""The rate every metric in :mod:`benchmark.scoring.speech` reads."""
MIN_RATE, MAX_RATE = 1_000, 384_000
"""Declared rates outside this range are not audio a model meant to produce."""
MAX_CHANNELS = 8
SILENCE_PEAK = 1e-3
"""A peak below -60 dBFS is silence: nothing a listener or a metric could use."""
MAX_FILE_BYTES = 200 * 1024 * 1024

Status = Literal["ok", "missing", "unreadable", "empty", "silent", "too_short", "too_long", "non_finite", "wrong_count"]
"""``wrong_count``: an answer with another number of clips than the task's sources (set by the harness)."""
STATUSES: tuple[str, ...] = Status.__args__  # type: ignore[attr-defined]


def check_output(
    samples: Any, rate: Any, *, min_seconds: float = 0.1, max_seconds: float = 60.0, resample: bool = True
) -> tuple[Status, np.ndarray | None]:
    """Check one audio answer and bring it to mono float32 at 16 kHz.

    Args:
        samples: What the model returned: a 1-D array, or 2-D with channels on the short axis
            (``(frames, channels)`` as soundfile reads it, or ``(channels, frames)``); float in
            [-1, 1] or integer PCM. None means the model gave no audio.
        rate: Its sample rate in Hz.
        min_seconds: Shorter outputs are ``too_short``.
        max_seconds: Longer outputs are ``too_long``; checked before anything is copied.
        resample: False when only the status is wanted (the harness storing an answer at its own rate): an
            ``ok`` answer is then returned mono at its own rate, not resampled.

    Returns:
        ``(status, audio)``; ``audio`` is None unless ``status`` is ``ok``, and read-only (a
        float32 mono answer at 16 kHz is handed on without a copy). Samples beyond [-1, 1]
        are clipped, as writing the answer to a file would clip them.
    """
    if samples is None:
        return "missing", None
    array = _as_array(samples)
    if array is None or not _valid_rate(rate):
        return "unreadable", None
    if array.size == 0:
        return "empty", None
    frames, channels = _layout(array)
    if channels is None:
        return "unreadable", None
    seconds = frames / float(rate)
    if seconds > max_seconds:
        return "too_long", None
    mono = _to_mono(array, channels)
    # One pass each for min and max: NaN propagates through both and inf shows as itself, so this is
    # the finiteness check, the silence check and the clipping check at once, with no temporary arrays.
    lo, hi = float(mono.min()), float(mono.max())
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "non_finite", None
    if seconds < min_seconds:
        return "too_short", None
    if max(-lo, hi) < SILENCE_PEAK:
        return "silent", None
    if lo < -1.0 or hi > 1.0:
        mono = np.clip(mono, -1.0, 1.0)
    return "ok", _resample(mono, int(rate)) if resample else mono


def read_output(
    path: str | os.PathLike[str] | None, *, min_seconds: float = 0.1, max_seconds: float = 60.0
) -> tuple[Status, np.ndarray | None]:
    """Read an audio answer from a file and :func:`check_output` it.

    The header is read first: a file larger than 200 MiB, or declaring more than
    ``max_seconds``, is rejected before its samples are decoded.

    Returns:
        ``(status, audio)`` as :func:`check_output`; ``missing`` for no path or no file,
        ``unreadable`` for a file libsndfile cannot open.
    """
    import soundfile as sf

    if path is None or not os.path.isfile(path):
        return "missing", None
    try:
        if os.path.getsize(path) > MAX_FILE_BYTES:
            return "too_long", None
        with sf.SoundFile(path) as f:
            if f.samplerate <= 0 or f.frames / f.samplerate > max_seconds:
                return ("too_long" if f.samplerate > 0 else "unreadable"), None
            data = f.read(dtype="float32", always_2d=True)
            rate = f.samplerate
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError, OSError):
        return "unreadable", None
    return check_output(data, rate, min_seconds=min_seconds, max_seconds=max_seconds)


def _as_array(samples: Any) -> np.ndarray | None:
    """A numeric array view of ``samples`` (no copy for an ndarray), or None when it is not audio."""
    try:
        array = np.asarray(samples)
    except (ValueError, TypeError, OverflowError):
        return None  # ragged lists and the like
    if array.dtype.kind not in "fiu" or array.ndim not in (1, 2):
        return None
    return array


def _valid_rate(rate: Any) -> bool:
    if isinstance(rate, bool) or not isinstance(rate, (int, float, np.integer, np.floating)):
        return False
    return bool(np.isfinite(rate)) and float(rate) == int(rate) and MIN_RATE <= int(rate) <= MAX_RATE


def _layout(array: np.ndarray) -> tuple[int, int | None]:
    """``(frames, channel axis)``: the channel axis of a 2-D array is the short one (None when neither is)."""
    if array.ndim == 1:
        return array.shape[0], -1
    rows, cols = array.shape
    if cols <= MAX_CHANNELS and cols <= rows:
        return rows, 1
    if rows <= MAX_CHANNELS:
        return cols, 0
    return max(rows, cols), None


def _to_mono(array: np.ndarray, channel_axis: int) -> np.ndarray:
    """Mono float samples: integer PCM scaled by its full scale (as soundfile reads it), channels averaged.

    A 1-D float array is returned as it is (no copy); nothing downstream writes to it.
    """
    if array.dtype.kind == "i":
        array = array.astype(np.float64) / -float(np.iinfo(array.dtype).min)
    elif array.dtype.kind == "u":
        half = (float(np.iinfo(array.dtype).max) + 1) / 2  # unsigned PCM is centred on half its range
        array = (array.astype(np.float64) - half) / half
    if channel_axis == -1:
        return array
    # Averaged in float64: float32 would overflow to inf on huge finite samples and read as non-finite.
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(array.mean(axis=channel_axis, dtype=np.float64))


def _resample(mono: np.ndarray, rate: int) -> np.ndarray:
    if rate == SAMPLE_RATE:
        out = mono.astype(np.float32, copy=False).view()
        out.flags.writeable = False  # it may be the caller's array: no metric may change it
        return out
    import soxr

    out = soxr.resample(np.ascontiguousarray(mono, dtype=np.float32), rate, SAMPLE_RATE, quality="HQ")
    return np.clip(out, -1.0, 1.0).astype(np.float32, copy=False)
