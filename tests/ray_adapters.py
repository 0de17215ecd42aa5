"""Adapters for the Ray tests: importable by name on the workers (the test cluster puts tests/ on PYTHONPATH)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Sequence

import numpy as np

from benchmark.adapters.base import Adapter, AudioAnswer, Query
from benchmark.adapters.baselines import RandomAdapter
from benchmark.task.card import TaskCard


class Slow(RandomAdapter):
    """Seeded random answers after ``delay`` seconds per query (a model-bound stand-in)."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        time.sleep(self.delay * len(batch))
        return super().predict(card, batch)


class DieOnce(RandomAdapter):
    """SIGKILLs its own worker process the first time any worker predicts (``marker`` records that it did)."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        try:
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return super().predict(card, batch)
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")


class DieOn(RandomAdapter):
    """SIGKILLs its worker process whenever it is asked about ``poison`` (``Task/id``), however often it restarts."""

    def __init__(self, poison: str) -> None:
        super().__init__()
        self.poison = poison

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        if any(f"{card.name}/{q.id}" == self.poison for q in batch):
            os.kill(os.getpid(), signal.SIGKILL)
        return super().predict(card, batch)


class NeedsMissingExtra(RandomAdapter):
    """Loads a library that is not installed, like a cluster node without the adapter's extra."""

    def load(self) -> None:
        import speech_benchmark_extra_that_is_not_installed  # noqa: F401


class Echo(Adapter):
    """Speaks back what it heard, at 22.05 kHz (an audio answer the driver must store and score)."""

    answers = frozenset({"audio"})

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[AudioAnswer]:
        out = []
        for q in batch:
            x = q.audio[0]
            resampled = np.interp(np.arange(0, len(x), 16_000 / 22_050), np.arange(len(x)), x).astype(np.float32)
            out.append(AudioAnswer(samples=resampled, rate=22_050, text=f"echo {q.id}"))
        return out
