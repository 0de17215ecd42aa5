"""A plug-in adapter: the first label when the clip's loudest frequency is above a threshold."""

from collections.abc import Sequence

import numpy as np

from benchmark import Adapter, Query, TaskCard


class LoudestPitch(Adapter):
    """High or low from the loudest frequency of the first clip."""

    needs_audio = True

    def __init__(self, spec_argument: str | None = None, threshold: str = "500") -> None:
        self.threshold = float(spec_argument or threshold)

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        """One label per query."""
        labels = card.labels or ["high", "low"]
        out = []
        for q in batch:
            spectrum = np.abs(np.fft.rfft(q.audio[0]))
            peak = np.fft.rfftfreq(len(q.audio[0]), 1 / 16_000)[spectrum.argmax()]
            out.append(labels[0] if peak > self.threshold else labels[-1])
        return out


class NotAnAdapter:
    """Has a predict method but does not subclass Adapter."""

    def predict(self, card, batch):
        return ["high"] * len(batch)
