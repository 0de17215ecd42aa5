"""Systems that answer with audio: espeak-ng text-to-speech, the floors and the reference ceiling.

``tts:espeak[:VOICE]``
    speaks each query's ``text`` with Debian's espeak-ng (``apt-get install espeak-ng``), at its
    native 22050 Hz (the harness resamples); a query without text gets no audio (scored as missing).
``silence``
    about one second of digital silence per source: the floor every speech metric scores as ``silent``.
``copy-input``
    the first input clip, unchanged, once per source: the "do nothing" floor of enhancement,
    separation and conversion.
``reference``
    the example's own reference clips: the ceiling row that checks the scorers (a reference
    system, marked as such on the board; never a model under evaluation).
"""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import ClassVar

import numpy as np
import soundfile as sf

from benchmark.adapters.base import Adapter, AdapterError, OptionError, Query, float_option, int_option
from benchmark.scoring.speech.answer import AudioAnswer
from benchmark.task.card import TaskCard

SR = 16_000
INSTALL = "espeak-ng is not installed: apt-get install espeak-ng"
SPEED = 130
"""Words per minute (espeak-ng's own default is 175). Slower speech is heard better: on 12 sentences,
Whisper tiny.en's WER was 0.11 at 130 against 0.34 at 160 (``--model-arg speed=`` changes it)."""


def sources_of(card: TaskCard) -> int:
    """Clips per answer of an audio task (1 when the card has no ``output`` block)."""
    return card.output.sources if card.output is not None else 1


def per_source(clips: Sequence[np.ndarray], sources: int) -> AudioAnswer:
    """An answer from clips at 16 kHz: one clip as itself, several as a list; none as missing audio."""
    if not clips:
        return AudioAnswer(samples=None)
    return AudioAnswer(samples=clips[0] if len(clips) == 1 and sources == 1 else list(clips), rate=SR)


def _espeak(args: Sequence[str], text: str = "", timeout: float = 60.0) -> bytes:
    """Run espeak-ng with ``text`` on stdin (so a text that starts with ``-`` is never read as an option).

    Raises:
        AdapterError: espeak-ng is missing, failed or ran past ``timeout`` seconds.
    """
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise AdapterError(INSTALL)
    try:
        proc = subprocess.run(  # noqa: S603 (a fixed executable; the text goes to stdin)
            [exe, *args], input=text.encode("utf-8"), capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise AdapterError(f"espeak-ng {' '.join(args)} ran past {timeout:g} s") from exc
    if proc.returncode != 0:
        error = proc.stderr.decode(errors="replace").strip()
        raise AdapterError(f"espeak-ng {' '.join(args)} failed: {error or f'exit status {proc.returncode}'}")
    return proc.stdout


@cache
def espeak_version() -> str:
    """espeak-ng's version, e.g. ``1.51`` (recorded in the model card)."""
    banner = _espeak(["--version"]).decode(errors="replace")  # "eSpeak NG text-to-speech: 1.51  Data at: ..."
    return banner.split(":")[1].split()[0] if ":" in banner else banner.strip()


class Espeak:
    """espeak-ng as a function: text in, float32 samples at its native rate (22050 Hz) out."""

    def __init__(self, voice: str = "en-us", speed: int = SPEED, timeout: float = 60.0) -> None:
        self.voice, self.speed, self.timeout = voice, speed, timeout

    def check(self) -> None:
        """Fail early on a missing espeak-ng or an unknown voice.

        Raises:
            AdapterError: espeak-ng is missing; OptionError: it does not know the voice.
        """
        try:
            self.speak("a")
        except AdapterError as exc:
            if "does not exist" in str(exc):
                raise OptionError(f"espeak-ng has no voice {self.voice!r} (`espeak-ng --voices` lists them)") from exc
            raise

    def speak(self, text: str) -> tuple[np.ndarray, int]:
        """``text`` spoken: mono float32 samples and their rate."""
        wav = _espeak(["-v", self.voice, "-s", str(self.speed), "-b", "1", "--stdout"], text, self.timeout)
        try:
            samples, rate = sf.read(io.BytesIO(wav), dtype="float32", always_2d=False)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise AdapterError(f"espeak-ng returned audio that does not decode ({exc})") from exc
        return samples, int(rate)

    def speak_many(self, texts: Sequence[str | None], workers: int = 4) -> list[AudioAnswer]:
        """One answer per text, ``workers`` espeak-ng processes at a time; no text (or blank): no audio."""

        def one(text: str | None) -> AudioAnswer:
            if text is None or not text.strip():
                return AudioAnswer(samples=None, text=text)
            samples, rate = self.speak(text)
            return AudioAnswer(samples=samples, rate=rate)

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            return list(pool.map(one, texts))

    def describe(self) -> str:
        """The engine, its version and settings, for a model card's description."""
        return f"espeak-ng {espeak_version()} (voice {self.voice}, {self.speed} words per minute)"


def parse_tts(argument: str | None, voice: str | None) -> str:
    """The voice of ``tts:espeak[:VOICE]`` (``tts`` alone: espeak; ``--model-arg voice=``; default ``en-us``)."""
    engine, _, spec_voice = (argument or "espeak").partition(":")
    if engine != "espeak":
        raise OptionError(f"tts:{argument or ''}: the text-to-speech engine here is espeak (tts:espeak[:VOICE])")
    if spec_voice and voice and spec_voice != voice:
        raise OptionError(f"tts:{argument} and --model-arg voice={voice} name two voices; give one")
    return spec_voice or voice or "en-us"


class EspeakAdapter(Adapter):
    """``tts:espeak[:VOICE]``: each query's text spoken by espeak-ng."""

    answers: ClassVar[frozenset[str]] = frozenset({"audio"})
    needs_audio = False
    default_batch_size = 32

    def __init__(
        self,
        spec_argument: str | None = None,
        voice: str | None = None,
        speed: object = SPEED,
        timeout: object = 60.0,
        workers: object = 4,
    ) -> None:
        self.engine = Espeak(
            parse_tts(spec_argument, voice), int_option("speed", speed), float_option("timeout", timeout)
        )
        self.workers = int_option("workers", workers)

    def load(self) -> None:
        """Check that espeak-ng runs and knows the voice."""
        self.engine.check()

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[AudioAnswer]:
        """The text of each query, spoken (a query without text: no audio)."""
        return self.engine.speak_many([q.text for q in batch], self.workers)

    def info(self) -> dict[str, object]:
        """espeak-ng's version and voice (in the description: the model card has no field for a program)."""
        return {"description": f"text-to-speech by {self.engine.describe()}"}


class SilenceAdapter(Adapter):
    """``silence``: digital silence, ``seconds`` long, once per source (the floor)."""

    answers: ClassVar[frozenset[str]] = frozenset({"audio"})
    needs_audio = False
    default_batch_size = 256

    def __init__(self, seconds: object = 1.0) -> None:
        self.seconds = float_option("seconds", seconds)
        if not 0 < self.seconds <= 60:
            raise OptionError(f"--model-arg seconds={seconds}: use more than 0, at most 60")

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[AudioAnswer]:
        """The same silent clip(s) for every query."""
        n = sources_of(card)
        clip = np.zeros(int(round(self.seconds * SR)), dtype=np.float32)
        return [per_source([clip] * n, n) for _ in batch]

    def info(self) -> dict[str, object]:
        """What it is."""
        return {"description": f"{self.seconds:g} s of digital silence per source (floor)", "floor_system": True}


class CopyInputAdapter(Adapter):
    """``copy-input``: the first input clip, unchanged, once per source (the do-nothing floor)."""

    answers: ClassVar[frozenset[str]] = frozenset({"audio"})
    default_batch_size = 64

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[AudioAnswer]:
        """Each query's first clip (no input clip: no audio)."""
        n = sources_of(card)
        return [per_source([q.audio[0]] * n if q.audio else [], n) for q in batch]

    def info(self) -> dict[str, object]:
        """What it is."""
        return {"description": "the first input clip returned unchanged, once per source (floor)", "floor_system": True}


class ReferenceAdapter(Adapter):
    """``reference``: each example's reference clips (the ceiling that checks the scorers)."""

    answers: ClassVar[frozenset[str]] = frozenset({"audio"})
    reads_references: ClassVar[bool] = True
    needs_audio = False
    default_batch_size = 64

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[AudioAnswer]:
        """Each query's reference clips as they are (none: no audio)."""
        return [per_source(list(q.reference), sources_of(card)) for q in batch]

    def info(self) -> dict[str, object]:
        """Marks the row as a reference system."""
        return {"description": "the task's own reference audio (ceiling; not a model)", "reference_system": True}
