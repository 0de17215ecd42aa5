"""Batches across tasks (`Adapter.mixes_tasks`): mixed and length-sorted; run files as a per-task run writes them."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import pytest
from helpers import make_task, read_examples, tone, write_audio

from benchmark.adapters.base import Adapter, AdapterError, Query
from benchmark.batching import predict_pooled
from benchmark.planning import RunError
from benchmark.runner import evaluate
from benchmark.submission import read_headers, read_records, run_path
from benchmark.task.card import TaskCard
from benchmark.task.folder import load_task

SIZES = {"ToneA": 37, "ToneB": 33, "ToneC": 34}
"""Test examples per task: none a multiple of the batch size, so a per-task run ends each task on a part batch."""


def tasks_of_varied_lengths(root: Path) -> Path:
    """Three tone tasks whose test clips last 0.1 s to 1.6 s, in no particular file order."""
    for t, (name, n) in enumerate(SIZES.items()):
        folder = make_task(root, name, n_test=n)
        for i, row in enumerate(r for r in read_examples(folder) if r["split"] == "test"):
            seconds = 0.1 + 0.05 * ((i * 7 + t * 3) % 31)
            hz = (880.0 if row["label"] == "high" else 220.0) + 50 + i  # above the train tones: no duplicates
            write_audio(folder / row["audio"], tone(hz, seconds))
    return root


class Echo(Adapter):
    """Answers with its task, the instruction and a fingerprint of each clip: shows what reached which example.

    Remembers each predict_mixed call's tasks and clip lengths; with ``fail_at`` set, fails on that call.
    """

    mixes_tasks = True

    def __init__(self, fail_at: int | None = None, fits: int | None = None) -> None:
        self.fail_at, self.fits = fail_at, fits
        self.calls: list[list[str]] = []
        self.lengths: list[list[int]] = []
        self.predicted: list[str] = []

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> list[str]:
        self.predicted.append(card.name)
        prints = [" ".join(hashlib.sha256(c.tobytes()).hexdigest()[:12] for c in q.audio) for q in batch]
        return [f"{card.name} | {q.instruction} | {p}" for q, p in zip(batch, prints, strict=True)]

    def predict_mixed(self, items: Sequence[tuple[TaskCard, Query]]) -> list[str]:
        if self.fits is not None and len(items) > self.fits:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        if self.fail_at is not None and len(self.calls) == self.fail_at:
            raise AdapterError("the model server went away")
        self.calls.append([card.name for card, _ in items])
        self.lengths.append([sum(len(c) for c in q.audio) for _, q in items])
        return super().predict_mixed(items)  # the default: one predict call per task of the batch


def run(adapter: Adapter, root: Path, name: str, **options) -> list:
    return evaluate(adapter, tasks=list(SIZES), tasks_root=root / "tasks", out=root / "subs", name=name, **options)


def records(root: Path, name: str, task: str) -> list[dict]:
    """A run file's records apart from the timing field."""
    path = root / "subs" / name / "runs" / f"{task}@1.0.0.jsonl"
    return [r.model_dump(exclude={"seconds"}) for r in read_records(path)]


def test_batches_mix_tasks_and_run_files_equal_a_per_task_run(tmp_path: Path) -> None:
    tasks_of_varied_lengths(tmp_path / "tasks")
    mixed, alone = Echo(), Echo()
    run(mixed, tmp_path, "mixed", batch_size=4)
    run(alone, tmp_path, "alone", batch_size=4, mix_tasks=False)
    assert any(len(set(call)) > 1 for call in mixed.calls), "some batch holds examples of several tasks"
    assert len(mixed.calls) == 26 < len(alone.predicted) == 10 + 9 + 9  # 104 examples: no part batch per task
    for task, n in SIZES.items():
        got = records(tmp_path, "mixed", task)
        assert got == records(tmp_path, "alone", task) and len(got) == n
        assert [r["id"] for r in got] == [e.id for e in load_task(tmp_path / "tasks" / task).split("test")]
        for name, mixes in (("mixed", True), ("alone", False)):  # the header says which it was
            (header,) = read_headers(run_path(tmp_path / "subs" / name, task, "1.0.0"))
            assert header.mixed_tasks is mixes


def test_examples_are_sorted_by_audio_length_within_a_window(tmp_path: Path) -> None:
    tasks_of_varied_lengths(tmp_path / "tasks")
    tasks = [load_task(tmp_path / "tasks" / name) for name in SIZES]
    items = [(t, e) for t in tasks for e in t.split("test")]
    adapter = Echo()
    batches = list(predict_pooled(adapter, items, 4, window=12))
    assert sorted((t.key, e.id) for b in batches for t, e in b.items) == sorted((t.key, e.id) for t, e in items)
    seen = [n for lengths in adapter.lengths for n in lengths]
    windows = [seen[start : start + 12] for start in range(0, len(seen), 12)]
    assert all(w == sorted(w, reverse=True) for w in windows) and seen != sorted(seen, reverse=True)
    assert {t.name for t, _ in items[:12]} == {"ToneA"}  # in file order the first window would be one task...
    assert len({name for call in adapter.calls[:3] for name in call}) == 3  # ...but the tasks are interleaved


@pytest.mark.parametrize(
    "options",
    [{}, {"control": "shuffled"}, {"control": "silence"}, {"instructions": 2}, {"batch_size": "auto"}],
    ids=["plain", "shuffled", "silence", "instructions", "auto"],
)
def test_variants_give_the_records_of_a_per_task_run(tmp_path: Path, options: dict) -> None:
    tasks_of_varied_lengths(tmp_path / "tasks")
    options = {"batch_size": 3, **options}
    run(Echo(), tmp_path, "mixed", **options)
    run(Echo(), tmp_path, "alone", mix_tasks=False, **options)
    folders = [p.name for p in (tmp_path / "subs").iterdir()]  # a variant's name: mixed+control-shuffled etc.
    mixed, alone = (next(f for f in folders if f.startswith(name)) for name in ("mixed", "alone"))
    for task in SIZES:
        assert records(tmp_path, mixed, task) == records(tmp_path, alone, task) != []


def test_auto_batch_size_halves_a_mixed_batch_that_does_not_fit(tmp_path: Path) -> None:
    tasks_of_varied_lengths(tmp_path / "tasks")
    adapter = Echo(fits=6)
    run(adapter, tmp_path, "auto", batch_size="auto")
    assert [len(c) for c in adapter.calls[:4]] == [1, 2, 4, 4] and max(len(c) for c in adapter.calls) == 4
    assert sum(len(records(tmp_path, "auto", task)) for task in SIZES) == sum(SIZES.values())


def test_a_crash_keeps_each_task_in_order_and_the_same_command_resumes(tmp_path: Path) -> None:
    tasks_of_varied_lengths(tmp_path / "tasks")
    run(Echo(), tmp_path, "whole", batch_size=2)
    with pytest.raises(RunError, match="the model server went away"):
        run(Echo(fail_at=6), tmp_path, "crashed", batch_size=2)
    kept = {task: records(tmp_path, "crashed", task) for task in SIZES}
    for task, part in kept.items():
        assert part == records(tmp_path, "whole", task)[: len(part)], "a prefix of the task, in example order"
    # The 6 batches answered before the failure: some are in the run files, the rest were held back for
    # an earlier example of their task and saved as shards, which the next run merges in example order.
    shards = sorted((tmp_path / "subs/crashed/runs/.shards").rglob("*.jsonl"))
    held = sum(len(read_records(p)) for p in shards)
    assert held > 0 and sum(map(len, kept.values())) + held == 12
    resumed = Echo()
    run(resumed, tmp_path, "crashed", batch_size=2)
    assert sum(map(len, resumed.lengths)) == sum(SIZES.values()) - 12, "nothing answered twice"
    assert not (tmp_path / "subs/crashed/runs/.shards").exists()
    for task in SIZES:
        assert records(tmp_path, "crashed", task) == records(tmp_path, "whole", task)


class Trains(Echo):
    """Learns per task: never mixed, whatever ``mixes_tasks`` says."""

    needs_train = True

    def fit(self, task) -> None:
        self.predicted.append(f"fit {task.name}")


def test_an_adapter_that_trains_runs_task_by_task(tmp_path: Path) -> None:
    tasks_of_varied_lengths(tmp_path / "tasks")
    adapter = Trains()
    run(adapter, tmp_path, "trains", batch_size=4)
    assert adapter.calls == [] and adapter.predicted[:4] == ["fit ToneA", "ToneA", "ToneA", "ToneA"]
