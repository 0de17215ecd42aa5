"""Small real adapters for the control and robustness tests: one listens, one ignores the audio, one reads the prompt.

They are reachable as ``listeners:Pitch`` etc. (the tests folder is on ``sys.path``).
"""

from __future__ import annotations

import hashlib
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
