"""Appended records are fsynced in batches: at most every ``sync_every`` seconds, and all at the end."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmark.submission.records import Record, append_records, read_records, sync_pending


def _record(i: int) -> Record:
    return Record(
        task="T", task_version="1", task_hash="h", id=f"{i:03d}", split="test", instruction="Say.",
        reference="a", output="a", answer="a", tier="exact", score=1.0,
    )  # fmt: skip


def test_pending_files_are_all_fsynced_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:  # the real fsync, noting which file it was
        synced.append(os.fstat(fd).st_ino)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    sync_pending()  # start the interval now, with nothing pending
    paths = [tmp_path / f"T{i}@1.jsonl" for i in range(12)]
    for i, path in enumerate(paths):
        append_records(path, [_record(i), _record(i + 100)], sync_every=3600.0)
    assert synced == []  # within the interval: written, not yet fsynced
    sync_pending()
    assert sorted(synced) == sorted(p.stat().st_ino for p in paths)  # every file once, none twice
    assert [len(read_records(p)) for p in paths] == [2] * 12
    sync_pending()
    assert len(synced) == 12  # nothing pending any more
