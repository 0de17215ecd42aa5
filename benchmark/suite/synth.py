"""Deterministic signal synthesis for the shipped task suite: speech (espeak-ng) and signals (numpy).

Everything returns float32 mono arrays at 16 kHz and takes its randomness from a
``numpy.random.Generator`` passed in, so a seeded generator reproduces every clip.
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess

import numpy as np
import soundfile as sf

from benchmark.task.audio import SAMPLE_RATE, resample

SR = SAMPLE_RATE


class SynthError(Exception):
    """espeak-ng is missing or failed."""


def espeak_version() -> str:
    """The espeak-ng version string (recorded in the task provenance)."""
    return _espeak(["--version"]).decode().split(":")[0].strip()


def _espeak(args: list[str]) -> bytes:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SynthError("espeak-ng is not installed: apt-get install espeak-ng")
    proc = subprocess.run([exe, *args], capture_output=True, check=False)
    if proc.returncode != 0:
        raise SynthError(f"espeak-ng {' '.join(args)} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


@functools.lru_cache(maxsize=4096)
def speak(text: str, voice: str = "en-us", speed: int = 160, pitch: int = 50, gap: int = 0) -> np.ndarray:
    """Synthesise ``text`` with espeak-ng (``voice`` such as ``en-us+f3``), trimmed and at 16 kHz."""
    wav = _espeak(["-v", voice, "-s", str(speed), "-p", str(pitch), "-g", str(gap), "--stdout", text])
    data, rate = sf.read(io.BytesIO(wav), dtype="float32")
    return trim(resample(data, rate, SR))


def trim(x: np.ndarray, threshold: float = 0.01, pad: float = 0.05) -> np.ndarray:
    """Cut leading and trailing near-silence, keeping ``pad`` seconds each side."""
    loud = np.flatnonzero(np.abs(x) > threshold * max(float(np.abs(x).max()), 1e-9))
    if loud.size == 0:
        return x
    p = int(pad * SR)
    return x[max(0, loud[0] - p) : loud[-1] + p]


def normalise(x: np.ndarray, peak: float = 0.5) -> np.ndarray:
    """Scale to a peak amplitude."""
    m = float(np.abs(x).max())
    return (x * (peak / m)).astype(np.float32) if m > 0 else x.astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    """Digital silence."""
    return np.zeros(int(round(seconds * SR)), dtype=np.float32)


def concat(*parts: np.ndarray) -> np.ndarray:
    """Join clips end to end."""
    return np.concatenate(parts).astype(np.float32)


def tone(freq: float, seconds: float, wave: str = "sine", amp: float = 0.5, fade: float = 0.01) -> np.ndarray:
    """A periodic tone (sine, square or sawtooth, band-limited) with short fades."""
    t = np.arange(int(round(seconds * SR))) / SR
    if wave == "sine":
        x = np.sin(2 * np.pi * freq * t)
    else:
        # Additive synthesis up to Nyquist, so there is no aliasing.
        x = np.zeros_like(t)
        for k in range(1, int((SR / 2) // freq) + 1):
            if wave == "square" and k % 2 == 0:
                continue
            x += np.sin(2 * np.pi * k * freq * t) / k
        x /= np.abs(x).max()
    return apply_fade(amp * x, fade).astype(np.float32)


def apply_fade(x: np.ndarray, seconds: float) -> np.ndarray:
    """Raised-cosine fade in and out."""
    n = min(int(seconds * SR), len(x) // 2)
    if n > 0:
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n))
        x = x.copy()
        x[:n] *= ramp
        x[-n:] *= ramp[::-1]
    return x


def chord(freqs: list[float], seconds: float, amp: float = 0.5) -> np.ndarray:
    """Sum of sine tones, scaled to ``amp`` peak."""
    return normalise(sum(tone(f, seconds, amp=1.0) for f in freqs), amp)  # type: ignore[arg-type]


def noise(colour: str, seconds: float, rng: np.random.Generator, floor_hz: float = 20.0) -> np.ndarray:
    """White, pink (1/f power) or brown (1/f^2 power) noise with unit RMS, shaped in the frequency domain.

    The spectrum is flat below ``floor_hz`` (a higher floor makes short-time power steadier).
    """
    n = int(round(seconds * SR))
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.fft.rfftfreq(n, 1 / SR), floor_hz)
    exponent = {"white": 0.0, "pink": 0.5, "brown": 1.0}[colour]
    x = np.fft.irfft(spectrum / f**exponent, n)
    return (x / np.sqrt(np.mean(x**2))).astype(np.float32)


def power(x: np.ndarray) -> float:
    """Mean square."""
    return float(np.mean(np.asarray(x, dtype=np.float64) ** 2))


def add_noise(
    speech: np.ndarray, snr_db: float, colour: str, rng: np.random.Generator, lead: float = 0.4
) -> np.ndarray:
    """Speech with ``lead`` seconds of noise before and after, at an exact SNR.

    SNR is the speech power (over the speech clip) over the noise power; the
    noise-only lead and tail let anyone re-measure it from the mixture.
    """
    padded = concat(silence(lead), speech, silence(lead))
    n = noise(colour, len(padded) / SR, rng, floor_hz=200.0)
    n *= np.sqrt(power(speech) / power(n) / 10 ** (snr_db / 10))
    return normalise(padded + n, 0.7)


def reverb(x: np.ndarray, rt60: float, rng: np.random.Generator, wet: float = 0.6) -> np.ndarray:
    """Convolve with an exponentially decaying noise impulse response of the given RT60."""
    n = int(rt60 * SR)
    t = np.arange(n) / SR
    ir = rng.standard_normal(n) * 10 ** (-3 * t / rt60)  # -60 dB at rt60
    ir[0] = 1.0 / wet
    y = np.convolve(x, ir * wet)
    return normalise(y.astype(np.float32), 0.5)


def hard_clip(x: np.ndarray, gain: float, level: float = 0.5) -> np.ndarray:
    """Amplify by ``gain`` and clip at +-``level``."""
    return np.clip(normalise(x, 0.5) * gain, -level, level).astype(np.float32)
