"""A full load hashes the bytes its checks read; the task index parses an unchanged folder into the same models."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path, PurePosixPath

import pytest
from helpers import make_task, read_examples, write_examples

from benchmark.task import TaskLoadError, load_task
from benchmark.task.audio import FolderIndex
from benchmark.task.folder import Task, open_task, settle
from benchmark.task.hashing import HashPipeline
from benchmark.task.index import TaskIndex


def reference_hash(folder: Path) -> str:
    """The documented content hash, computed here from the files: card, examples, each clip once in example order."""
    h = hashlib.sha256()
    for name in ("task.json", "examples.jsonl"):
        h.update(name.encode() + b"\0" + (folder / name).read_bytes())
    seen: set[str] = set()
    for row in read_examples(folder):
        for rel in [row["audio"]] if isinstance(row["audio"], str) else row["audio"]:
            if rel not in seen:
                seen.add(rel)
                h.update(PurePosixPath(rel).as_posix().encode() + b"\0" + (folder / rel).read_bytes())
    return h.hexdigest()


def _plain(rows: list[dict]) -> list[dict]:
    return rows


def _dotted(rows: list[dict]) -> list[dict]:
    """One path spelled with ./ and a doubled slash: the checks normalise it, the hash keeps pathlib's spelling."""
    rows[3]["audio"] = "./audio//" + rows[3]["audio"].split("/")[1]
    return rows


def _shared(rows: list[dict]) -> list[dict]:
    """Two train examples share a clip: it is hashed once (the clip left unused is only a warning)."""
    rows[1]["audio"] = rows[0]["audio"]
    return rows


def _reordered(rows: list[dict]) -> list[dict]:
    return rows[::-1]


def _same_clip_two_spellings(rows: list[dict]) -> list[dict]:
    """One clip under two spellings: the hash takes it twice, the checks read it once."""
    rows[1]["audio"] = "./" + rows[0]["audio"]
    return rows


@pytest.mark.parametrize("edit", [_plain, _dotted, _shared, _reordered, _same_clip_two_spellings])
def test_a_full_load_hashes_every_file(tmp_path: Path, edit) -> None:
    folder = make_task(tmp_path)
    write_examples(folder, edit(read_examples(folder)))
    task = load_task(folder)
    fresh = Task(root=task.root, card=task.card, examples=task.examples)  # hashes the files again
    assert task.content_hash == fresh.content_hash == reference_hash(folder)


@pytest.mark.parametrize("buffer_bytes", [1000, 3000, 1 << 20])  # clips larger than a buffer; about one; all
@pytest.mark.parametrize("edit", [_plain, _dotted, _shared, _reordered, _same_clip_two_spellings])
def test_the_background_hash_is_the_same_hash(tmp_path: Path, edit, buffer_bytes: int) -> None:
    """Read into buffers hashed on another thread (buffers reused, the oldest waited for): the same digest."""
    folder = make_task(tmp_path)
    write_examples(folder, edit(read_examples(folder)))
    with HashPipeline(buffer_bytes=buffer_bytes, buffers=2) as hasher:
        task, pending = open_task(folder, hasher=hasher)
        # Pending unless a path spelling differs from the hash's (then the property hashes the files again).
        assert (pending is None) == (edit in (_dotted, _same_clip_two_spellings))
        assert "content_hash" not in task.__dict__
        assert (settle(task, pending) if pending else task).content_hash == reference_hash(folder)
        index = TaskIndex(tmp_path / "tasks.json", settle_ns=0, hasher=hasher)
        indexed = index.load(folder)
        index.save()  # settles first: the index stores the hash the background took
    assert indexed.content_hash == reference_hash(folder)
    assert TaskIndex(tmp_path / "tasks.json").load(folder).content_hash == reference_hash(folder)


def test_files_larger_than_a_buffer_are_hashed_in_turn_not_queued(tmp_path: Path) -> None:
    """A clip larger than a buffer is hashed on the loading thread once the queue is done: memory stays bounded."""
    folder = make_task(tmp_path)
    with HashPipeline(buffer_bytes=1000, buffers=2) as hasher:  # every clip is larger than a buffer
        queued: list[str] = []
        submit = hasher.submit
        hasher.submit = lambda fn, *args: queued.append(fn.__name__) or submit(fn, *args)  # type: ignore[method-assign]
        task, pending = open_task(folder, hasher=hasher)
        assert pending is not None and settle(task, pending).content_hash == reference_hash(folder)
    assert queued == ["hexdigest"]


def test_a_copy_with_other_examples_forgets_its_splits_and_hash(tmp_path: Path) -> None:
    task = load_task(make_task(tmp_path))
    train, first = task.split("train"), task.content_hash
    task.instruction_for(task.examples[0])
    copy = task.model_copy(update={"examples": task.examples[:3]})
    assert copy.split("train") == [e for e in task.examples[:3] if e.split == "train"] != train
    assert "content_hash" not in copy.__dict__ and task.split("train") == train and task.content_hash == first
    assert task.model_copy().__dict__.get("content_hash") == first  # a plain copy keeps what it knew


def test_failed_loads_give_their_buffers_back(tmp_path: Path) -> None:
    """A folder that fails its checks mid-way never keeps a buffer: many failures, then the right hash."""
    good = make_task(tmp_path / "good")
    bad = make_task(tmp_path / "bad")
    rows = read_examples(bad)
    rows[-1]["audio"] = "audio/missing.flac"  # the other clips are still read into the buffers before it fails
    write_examples(bad, rows)
    with HashPipeline(buffer_bytes=3000, buffers=2) as hasher:
        for _ in range(5):
            with pytest.raises(TaskLoadError):
                open_task(bad, hasher=hasher)
        task, pending = open_task(good, hasher=hasher)
        assert pending is not None and settle(task, pending).content_hash == reference_hash(good)


def test_a_full_load_hash_sees_every_byte(tmp_path: Path) -> None:
    folder = make_task(tmp_path)
    before = load_task(folder).content_hash
    clip = folder / "audio" / "0005.flac"
    data = bytearray(clip.read_bytes())
    data[-1] ^= 1  # the last byte of one clip: the header checks never look there
    clip.write_bytes(bytes(data))
    after = load_task(folder).content_hash
    assert after != before and after == reference_hash(folder)


def test_the_index_parses_the_models_the_checks_built(tmp_path: Path) -> None:
    folder = make_task(tmp_path, card_overrides={"task_type": "regression", "metric": "mae", "labels": None})
    rows = read_examples(folder)
    for i, row in enumerate(rows):
        row["label"] = [3, 2.5, 4.0, -0.0, 1e-7][i % 5]  # ints stay ints, floats stay floats
    rows[2]["instruction"] = "How high is the tone, in hertz? \u00e9\u4e2d"
    rows[4]["audio"] = [rows[4]["audio"]]
    write_examples(folder, rows)
    (folder / "examples.jsonl").write_text((folder / "examples.jsonl").read_text().replace("\n", "\n\n  \n", 1))
    full = load_task(folder)
    index = TaskIndex(tmp_path / "tasks.json", settle_ns=0)
    index.load(folder)
    index.save()
    quick = TaskIndex(tmp_path / "tasks.json").load(folder)
    assert "content_hash" in quick.__dict__  # it came from the index, not from a full load
    assert quick.card == full.card
    assert [e.model_dump() for e in quick.examples] == [e.model_dump() for e in full.examples]
    assert [(type(e.label), type(e.audio)) for e in quick.examples] == [
        (type(e.label), type(e.audio)) for e in full.examples
    ]
    assert json.dumps([e.label for e in quick.examples]) == json.dumps([e.label for e in full.examples])


def test_the_folder_signature_changes_with_any_file(tmp_path: Path) -> None:
    folder = make_task(tmp_path)
    first = FolderIndex.scan(folder).signature()
    assert first is not None and FolderIndex.scan(folder).signature() == first
    (folder / "notes.txt").write_text("x")
    second = FolderIndex.scan(folder).signature()
    assert second is not None and second[0] != first[0]
    (folder / "link.flac").symlink_to(folder / "audio" / "0000.flac")
    assert FolderIndex.scan(folder).signature() is None


def test_only_the_last_room_counts_as_read_in_place(tmp_path: Path) -> None:
    """A view that is not the last reserved room is hashed as given, never counted as that room's bytes."""
    from benchmark.task.folder import _ReadAlong

    folder = make_task(tmp_path)
    with HashPipeline(buffer_bytes=1 << 16, buffers=2) as hasher:
        read_along = _ReadAlong(folder, hasher)
        room = read_along.reserve("a.wav", 10)
        assert room is not None
        room[:10] = b"0123456789"
        read_along.take("a.wav", room[:10])
        assert read_along.reserve("b.wav", 3) is not None  # its read fails: never taken
        read_along.take("c.wav", room[:5])  # an older view
        read_along._hand_over()
        hasher.drain()
        got = read_along._h.hexdigest()
    h = hashlib.sha256()
    for name in ("task.json", "examples.jsonl"):
        h.update(name.encode() + b"\0" + (folder / name).read_bytes())
    h.update(b"a.wav\0" + b"0123456789" + b"c.wav\0" + b"01234")
    assert got == h.hexdigest()
