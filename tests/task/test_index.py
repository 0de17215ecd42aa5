"""The task index: an unchanged folder loads from it, any change is checked and hashed again."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import make_task, read_examples, tone, write_audio

from benchmark.task import TaskLoadError, load_task
from benchmark.task.index import TaskIndex


def _touch_later(path: Path) -> None:
    """A new mtime even when the rewrite fell within the same filesystem timestamp tick."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def _stored(tmp_path: Path, fmt: str = "flac") -> tuple[Path, Path]:
    folder = make_task(tmp_path / "tasks", fmt=fmt)
    index = TaskIndex(tmp_path / "cache" / "tasks.json", settle_ns=0)
    index.load(folder)
    index.save()
    return folder, tmp_path / "cache" / "tasks.json"


def _forge_hash(path: Path) -> None:
    data = json.loads(path.read_text())
    for entry in data["tasks"].values():
        entry["hash"] = "f" * 64
    path.write_text(json.dumps(data))


def test_an_unchanged_folder_loads_from_the_index(tmp_path: Path) -> None:
    folder, path = _stored(tmp_path)
    full = load_task(folder)
    assert TaskIndex(path).load(folder) == full
    _forge_hash(path)  # proves the hash comes from the index, not from the files
    assert TaskIndex(path).load(folder).content_hash == "f" * 64
    assert TaskIndex(None).load(folder).content_hash == full.content_hash


def test_a_changed_audio_file_is_hashed_again(tmp_path: Path) -> None:
    folder, path = _stored(tmp_path, fmt="wav")
    _forge_hash(path)
    clip = folder / "audio/0003.wav"
    size = clip.stat().st_size
    write_audio(clip, tone(1500.0))  # same length, same size, other samples
    _touch_later(clip)
    assert clip.stat().st_size == size
    task = TaskIndex(path).load(folder)
    assert task.content_hash == load_task(folder).content_hash != "f" * 64


def test_a_broken_examples_file_fails_despite_the_index(tmp_path: Path) -> None:
    folder, path = _stored(tmp_path)
    rows = read_examples(folder)
    with (folder / "examples.jsonl").open("a") as f:
        f.write(json.dumps({**rows[0], "id": "new", "label": "medium"}) + "\n")
    _touch_later(folder / "examples.jsonl")
    with pytest.raises(TaskLoadError, match="T208"):
        TaskIndex(path).load(folder)


def test_an_added_file_is_a_change(tmp_path: Path) -> None:
    folder, path = _stored(tmp_path)
    _forge_hash(path)
    write_audio(folder / "audio/extra.flac", tone(300.0))  # unreferenced: a warning, the task still loads
    assert TaskIndex(path).load(folder).content_hash == load_task(folder).content_hash


def test_files_changed_just_now_are_not_stored(tmp_path: Path) -> None:
    folder = make_task(tmp_path / "tasks")
    index = TaskIndex(tmp_path / "tasks.json")  # default settling time: the files are seconds old at most
    index.load(folder)
    index.save()
    assert not (tmp_path / "tasks.json").exists()


def test_a_folder_with_a_symlink_is_never_stored(tmp_path: Path) -> None:
    folder = make_task(tmp_path / "tasks")
    (folder / "audio/link.flac").symlink_to(folder / "audio/0000.flac")
    index = TaskIndex(tmp_path / "tasks.json", settle_ns=0)
    index.load(folder)
    index.save()
    assert not (tmp_path / "tasks.json").exists()


@pytest.mark.parametrize("text", ["not json", "[]", '{"format": 1, "code": "old", "tasks": {}}', '{"tasks": 3}'])
def test_an_unreadable_index_is_an_empty_one(tmp_path: Path, text: str) -> None:
    folder = make_task(tmp_path / "tasks")
    (tmp_path / "tasks.json").write_text(text)
    assert TaskIndex(tmp_path / "tasks.json").load(folder) == load_task(folder)
