"""Small real adapters for the control and robustness tests: one listens, one ignores the audio, one reads the prompt.

They are reachable as ``listeners:Pitch`` etc. (the tests folder is on ``sys.path``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence

import numpy as np

from benchmark.adapters.base import Adapter, Query
from benchmark.adapters.registry import AdapterEntry
from benchmark.task.card import TaskCard


def dominant_hz(clip: np.ndarray) -> float:
    """The frequency of the strongest FFT bin (0 for silence)."""
    spectrum = np.abs(np.fft.rfft(clip))
    return float(np.argmax(spectrum) * 16_000 / len(clip)) if len(clip) else 0.0


class Pitch(Adapter):
    """Answers high (above 500 Hz) or low from the audio; refuses under instructions that say "Classify"."""

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        out = []
        for q in batch:
            if "Classify" in q.instruction:
                out.append("I cannot tell.")
            else:
                out.append("high" if dominant_hz(q.audio[0]) > 500 else "low")
        return out


class Hears(Adapter):
    """Says yes when it hears a high tone: honest on silence."""

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        return ["Yes." if dominant_hz(q.audio[0]) > 500 else "No." for q in batch]


class Echo(Adapter):
    """Answers a fingerprint of every clip it hears: shows exactly which audio reached it."""

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        return [" ".join(hashlib.sha256(c.tobytes()).hexdigest()[:12] for c in q.audio) for q in batch]


class Deaf(Adapter):
    """A dropped-audio bug: receives the audio and never uses it."""

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        return [(card.labels or ["1"])[0] for _ in batch]


class Reader(Adapter):
    """A text-only shortcut: answers the label the prompt gives away ("... this <label> tone ...")."""

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        return [m.group(1) if (m := re.search(r"this (\w+) tone", q.instruction)) else "?" for q in batch]


class Yes(Adapter):
    """Always says yes (the hallucination the yes-bias table exposes)."""

    needs_audio = False

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        return ["Yes." for _ in batch]


ENTRIES = {
    name: AdapterEntry(name, f"listeners:{cls}", f"test adapter {cls}", name)
    for name, cls in (("pitch", "Pitch"), ("echo", "Echo"), ("deaf", "Deaf"), ("reader", "Reader"), ("yes", "Yes"))
}
"""Registry entries for the CLI tests (``monkeypatch.setattr(registry, "REGISTRY", {**REGISTRY, **ENTRIES})``)."""


# ---------------------------------------------------------------- instruction following (constraint runs)


def pitch_label(q: Query) -> str:
    """The ToneHeight label a listener hears: high above 500 Hz."""
    return "high" if dominant_hz(q.audio[0]) > 500 else "low"


def flip(label: str) -> str:
    """The other ToneHeight label."""
    return "low" if label == "high" else "high"


def dressed(answer: str, instruction: str) -> str:
    """The answer in the format the instruction asks for, as an obedient model writes it."""
    said = instruction.casefold()
    if "json" in said:
        key = re.search(r'"(\w+)"', instruction)
        return json.dumps({key.group(1) if key else "answer": answer})
    if "capital" in said or "upper" in said or "caps" in said:
        return answer.upper()
    if any(w in said for w in ("end", "close", "finish", "last words")) and '"' in instruction:
        return f"It is {answer}. " + instruction.split('"')[-2]
    return answer


class Ignores(Adapter):
    """Hears the tone right, never reads a constraint; rambles about high tones (over a 10-word limit)."""

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        long = ", as far as I can hear it over the hum of the fan in this room"
        return [f"The tone is {pitch_label(q)}{long if pitch_label(q) == 'high' else ''}." for q in batch]


class ObeysButWrong(Adapter):
    """Follows every format to the letter and names the wrong label."""

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        return [dressed(flip(pitch_label(q)), q.instruction) for q in batch]


class Forgets(Adapter):
    """Right without constraints; under constraints it obeys every format and names the wrong label."""

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        plain = set(card.instructions)
        out = []
        for q in batch:
            heard = pitch_label(q)
            out.append(heard if q.instruction in plain else dressed(flip(heard), q.instruction))
        return out


class Obeys(Adapter):
    """Follows the format and answers right."""

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        return [dressed(pitch_label(q), q.instruction) for q in batch]
