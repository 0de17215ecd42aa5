"""The one writer of task folders, used by ``bench new-task``, ``bench import-hf`` and the suite generator.

A folder is written in a temporary sibling and renamed into place, so a crash or
a bad clip never leaves half a task where a task is expected. The formats are
fixed here once: ``task.json`` as the card dumps it (two-space indent, UTF-8),
one example per line in ``examples.jsonl``, 16-bit FLAC clips at 16 kHz.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import numpy as np
import soundfile as sf

from benchmark.task.audio import SAMPLE_RATE
from benchmark.task.card import Example, TaskCard


class TaskFolderExists(Exception):
    """The target folder exists and replacing it was not asked for."""


def card_json(card: TaskCard) -> str:
    """``task.json`` text of a card."""
    return json.dumps(card.model_dump(exclude_none=True, by_alias=True), indent=2, ensure_ascii=False) + "\n"


def examples_jsonl(examples: Sequence[Example]) -> str:
    """``examples.jsonl`` text: one compact object per line."""
    return "".join(json.dumps(e.model_dump(exclude_none=True), ensure_ascii=False) + "\n" for e in examples)


class TaskWriter:
    """Writes one task folder: clips first (streamed), then card, examples and README in ``finish``.

    Use as a context manager; leaving it without ``finish`` (an error) removes the partial folder::

        with TaskWriter(root / "MyTask") as w:
            rel = w.clip("audio/0001.flac", samples)
            w.finish(card, examples, readme)
    """

    def __init__(self, folder: Path, *, replace: bool = False) -> None:
        self.folder = folder
        if folder.exists() and not replace:
            raise TaskFolderExists(f"{folder} already exists")
        folder.parent.mkdir(parents=True, exist_ok=True)
        self.staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        (self.staging / "audio").mkdir()
        self.done = False

    def __enter__(self) -> TaskWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if not self.done:
            shutil.rmtree(self.staging, ignore_errors=True)

    def clip(self, rel: str, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> str:
        """Write one clip as 16-bit FLAC at ``rel`` (relative to the folder); samples are clipped to [-1, 1]."""
        path = self.staging / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, np.clip(samples, -1, 1), sample_rate, format="FLAC", subtype="PCM_16")
        return rel

    def finish(self, card: TaskCard, examples: Sequence[Example], readme: str) -> Path:
        """Write the text files and move the folder into place (replacing the old one if asked to)."""
        (self.staging / "task.json").write_text(card_json(card), encoding="utf-8")
        (self.staging / "examples.jsonl").write_text(examples_jsonl(examples), encoding="utf-8")
        (self.staging / "README.md").write_text(readme, encoding="utf-8")
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.staging.rename(self.folder)
        self.done = True
        return self.folder
