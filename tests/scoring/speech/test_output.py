"""check_output / read_output: every produced audio answer gets a status, never a traceback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from benchmark.scoring.speech.output import SAMPLE_RATE, STATUSES, check_output, read_output

RNG = np.random.default_rng(0)


def tone(seconds: float = 1.0, rate: int = SAMPLE_RATE, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def nan_audio() -> np.ndarray:
    x = tone()
    x[100] = np.nan
    return x


def inf_audio() -> np.ndarray:
    x = tone()
    x[5] = np.inf
    return x


CASES = [
    ("mono 16k", tone(), 16_000, "ok"),
    ("None", None, 16_000, "missing"),
    ("empty", np.zeros(0, dtype=np.float32), 16_000, "empty"),
    ("empty stereo", np.zeros((0, 2), dtype=np.float32), 16_000, "empty"),
    ("nan", nan_audio(), 16_000, "non_finite"),
    ("inf", inf_audio(), 16_000, "non_finite"),
    ("silence", np.zeros(16_000, dtype=np.float32), 16_000, "silent"),
    ("near silence", tone() * 1e-4, 16_000, "silent"),
    ("too short", tone(0.05), 16_000, "too_short"),
    ("ten minutes", np.zeros(600 * 16_000, dtype=np.float32), 16_000, "too_long"),
    ("ten minutes at 48k", np.zeros(600 * 48_000, dtype=np.int16), 48_000, "too_long"),
    ("48 kHz", tone(rate=48_000), 48_000, "ok"),
    ("stereo frames x channels", np.stack([tone(), tone()], axis=1), 16_000, "ok"),
    ("stereo channels x frames", np.stack([tone(), tone()]), 16_000, "ok"),
    ("int16", (tone() * 32767).astype(np.int16), 16_000, "ok"),
    ("int16 stereo 44.1k", (np.stack([tone(rate=44_100)] * 2, axis=1) * 32767).astype(np.int16), 44_100, "ok"),
    ("uint8", (tone() * 127 + 128).astype(np.uint8), 16_000, "ok"),
    ("list of floats", tone().tolist(), 16_000, "ok"),
    ("float64 huge values", tone().astype(np.float64) * 1e300, 16_000, "ok"),
    ("string", "hello", 16_000, "unreadable"),
    ("bytes", b"RIFF....", 16_000, "unreadable"),
    ("bool array", np.ones(16_000, dtype=bool), 16_000, "unreadable"),
    ("complex", tone().astype(np.complex64), 16_000, "unreadable"),
    ("3-D", np.zeros((2, 2, 16_000), dtype=np.float32), 16_000, "unreadable"),
    ("wide 2-D", RNG.normal(size=(100, 16_000)).astype(np.float32), 16_000, "unreadable"),
    ("ragged", [[0.1, 0.2], [0.3]], 16_000, "unreadable"),
    ("dict", {"audio": tone()}, 16_000, "unreadable"),
    ("rate zero", tone(), 0, "unreadable"),
    ("rate negative", tone(), -16_000, "unreadable"),
    ("rate nan", tone(), float("nan"), "unreadable"),
    ("rate fractional", tone(), 16_000.5, "unreadable"),
    ("rate huge", tone(), 10**9, "unreadable"),
    ("rate string", tone(), "16000", "unreadable"),
    ("rate None", tone(), None, "unreadable"),
    ("rate bool", tone(), True, "unreadable"),
]


@pytest.mark.parametrize(("samples", "rate", "status"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_every_output_gets_a_status(samples: object, rate: object, status: str) -> None:
    got, audio = check_output(samples, rate, min_seconds=0.1, max_seconds=60.0)
    assert got == status
    assert got in STATUSES
    if status == "ok":
        assert audio is not None and audio.dtype == np.float32 and audio.ndim == 1
        assert np.isfinite(audio).all() and np.abs(audio).max() <= 1.0
        assert abs(len(audio) - SAMPLE_RATE) <= 1  # every ok case above is one second long
    else:
        assert audio is None


def test_resampled_tone_keeps_its_pitch() -> None:
    status, audio = check_output(tone(rate=48_000, freq=1000.0), 48_000, min_seconds=0.1, max_seconds=60)
    assert status == "ok" and audio is not None
    peak_hz = np.argmax(np.abs(np.fft.rfft(audio))) * SAMPLE_RATE / len(audio)
    assert abs(peak_hz - 1000.0) < 2.0


def test_int16_is_scaled_like_soundfile() -> None:
    pcm = np.array([0, 16384, -32768] * 2000, dtype=np.int16)
    _, audio = check_output(pcm, 16_000, min_seconds=0.1, max_seconds=60)
    assert audio is not None
    assert audio[:3].tolist() == [0.0, 0.5, -1.0]


def test_stereo_is_averaged() -> None:
    left, right = tone(), np.zeros(SAMPLE_RATE, dtype=np.float32)
    _, audio = check_output(np.stack([left, right], axis=1), 16_000, min_seconds=0.1, max_seconds=60)
    assert audio is not None
    np.testing.assert_allclose(audio, left / 2, atol=1e-7)


def test_limits_are_the_callers() -> None:
    two_seconds = tone(2.0)
    assert check_output(two_seconds, 16_000, min_seconds=3.0, max_seconds=60)[0] == "too_short"
    assert check_output(two_seconds, 16_000, min_seconds=0.1, max_seconds=1.5)[0] == "too_long"


def test_read_output_files(tmp_path: Path) -> None:
    good, stereo48, long_, junk, silent = (tmp_path / n for n in ("a.wav", "b.flac", "c.wav", "d.wav", "e.wav"))
    sf.write(good, tone(), 16_000)
    sf.write(stereo48, np.stack([tone(rate=48_000)] * 2, axis=1), 48_000)
    sf.write(long_, np.zeros(int(61 * 8_000), dtype=np.int16), 8_000)
    junk.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really")
    sf.write(silent, np.zeros(16_000), 16_000)
    assert read_output(good)[0] == "ok"
    assert read_output(stereo48)[0] == "ok"
    assert read_output(long_, max_seconds=60)[0] == "too_long"
    assert read_output(junk)[0] == "unreadable"
    assert read_output(silent)[0] == "silent"
    assert read_output(tmp_path / "absent.wav")[0] == "missing"
    assert read_output(None)[0] == "missing"
    assert read_output(tmp_path)[0] == "missing"  # a folder is not an answer


def test_the_callers_array_is_handed_on_read_only() -> None:
    samples = tone()
    status, audio = check_output(samples, 16_000, min_seconds=0.1, max_seconds=60)
    assert status == "ok" and audio is not None and not audio.flags.writeable
    assert samples.flags.writeable  # the caller's own array is untouched
    loud = tone() * 4
    _, clipped = check_output(loud, 16_000, min_seconds=0.1, max_seconds=60)
    assert clipped is not None and clipped.max() == 1.0 and loud.max() > 1.9  # clipped into a copy
