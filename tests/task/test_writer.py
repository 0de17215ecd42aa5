"""The one task-folder writer: formats fixed once, folders appear whole or not at all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import card, tone

from benchmark.task import Example, TaskCard, load_task
from benchmark.task.writer import TaskFolderExists, TaskWriter

README = "# T\n\n## Objective\nx\n\n## Data provenance\nx\n\n## Licence\nx\n\n## Example\nx\n\n## Baseline\nx\n"


def _examples(writer: TaskWriter, n: int) -> list[Example]:
    out = []
    for i in range(n):
        rel = writer.clip(f"audio/{i:04d}.flac", tone(300.0 + 40 * i) * (1 if i % 2 else 4.0))  # some clips clip
        split = "train" if i < 8 else "test"
        out.append(Example(id=f"{i:04d}", split=split, audio=rel, label="high" if i % 2 else "low"))
    return out


def test_a_written_folder_loads_and_clips_are_clipped_not_wrapped(tmp_path: Path) -> None:
    with TaskWriter(tmp_path / "ToneHeight") as w:
        folder = w.finish(TaskCard.model_validate(card()), _examples(w, 40), README)
    task = load_task(folder)
    assert len(task.split("test")) == 32
    loud = task.load_audio(task.examples[0])[0]
    assert np.max(loud) <= 1.0 and np.min(loud) >= -1.0 and np.max(loud) > 0.99
    assert [p.name for p in tmp_path.iterdir()] == ["ToneHeight"]  # no staging folder left behind


def test_an_error_midway_leaves_no_folder(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), TaskWriter(tmp_path / "ToneHeight") as w:
        _examples(w, 3)
        raise RuntimeError("a clip could not be decoded")
    assert list(tmp_path.iterdir()) == []


def test_existing_folders_are_replaced_only_when_asked(tmp_path: Path) -> None:
    (tmp_path / "ToneHeight").mkdir()
    (tmp_path / "ToneHeight" / "old.txt").write_text("old")
    with pytest.raises(TaskFolderExists):
        TaskWriter(tmp_path / "ToneHeight")
    with TaskWriter(tmp_path / "ToneHeight", replace=True) as w:
        w.finish(TaskCard.model_validate(card()), _examples(w, 40), README)
    assert not (tmp_path / "ToneHeight" / "old.txt").exists()
