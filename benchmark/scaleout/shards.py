"""Shards: one file of records per finished work unit, merged into the run file in example order.

::

    runs/<Task>@<version>.jsonl                       the run file every command reads
    runs/.shards/<Task>@<version>/<position>[-<instruction>].jsonl   one finished unit, written in one rename

A shard is complete or absent (written to a temporary name, fsynced, renamed), so
a driver killed at any moment leaves only whole units behind. Merging keeps the
run file's records, adds the shards' records of examples not yet there, writes
the result in the task's example order in one rename, then removes the merged
shards. Records of another task hash are never merged and never deleted.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from benchmark.predicting import Variant
from benchmark.scaleout.units import Work
from benchmark.submission.records import Record, read_records, write_records_atomic
from benchmark.task.folder import Task

W = TypeVar("W", bound=Work)


def shard_dir(run_file: Path) -> Path:
    """Where the shards of one run file live."""
    return run_file.parent / ".shards" / run_file.name.removesuffix(".jsonl")


def write_shard(run_file: Path, position: int, records: Sequence[Record]) -> Path:
    """Write one unit's records as a shard named by its first record: example position, instruction (atomic)."""
    folder = shard_dir(run_file)
    folder.mkdir(parents=True, exist_ok=True)
    first = records[0] if records else None
    suffix = "".join(
        f"-{tag}{value}"
        for tag, value in (("", first and first.instruction_index), ("c", first and first.constraint_index))
        if value is not None
    )
    path = folder / f"{position:08d}{suffix}.jsonl"
    write_records_atomic(path, records)
    return path


def merge_shards(task: Task, run_file: Path) -> int:
    """Fold finished shards into the run file, in example order; returns how many records were added.

    A shard whose records carry another task hash stays where it is (it is not this
    task's revision); every merged shard is removed after the run file is replaced.
    """
    folder = shard_dir(run_file)
    paths = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    if not paths:
        return 0
    records = read_records(run_file, repair=True)
    before = len(records)
    seen = {r.unit for r in records}
    merged = []
    for path in paths:
        shard = read_records(path)
        if any(r.task_hash != task.content_hash for r in shard):
            continue
        records += [r for r in shard if r.unit not in seen]
        seen.update(r.unit for r in shard)
        merged.append(path)
    if merged:
        write_records_atomic(run_file, in_example_order(task, records))
        for path in merged:
            path.unlink()
    _remove_empty(folder)
    return len(records) - before


def fold_shards(works: list[W], variant: Variant) -> list[W]:
    """Merge the shards a killed distributed run left into the run files; drop what they hold from ``pending``."""
    for work in works:
        if merge_shards(work.task, work.run_file):
            done = {r.unit for r in read_records(work.run_file)}
            work.pending = [e for e in work.pending if variant.key(work.task, e) not in done]
    return works


def in_example_order(task: Task, records: Sequence[Record]) -> list[Record]:
    """Records sorted by example position, then instruction and constraint set (unknown ids last, as they were)."""
    position = {e.id: i for i, e in enumerate(task.examples)}

    def key(r: Record) -> tuple[int, int, int]:
        index = -1 if r.instruction_index is None else r.instruction_index
        return position.get(r.id, len(position)), index, -1 if r.constraint_index is None else r.constraint_index

    return sorted(records, key=key)


def _remove_empty(folder: Path) -> None:
    for path in (folder, folder.parent):
        try:
            os.rmdir(path)
        except OSError:
            return
