"""Batches across tasks: the pending examples of every task predicted together, records written in example order.

For an adapter that mixes tasks (``Adapter.mixes_tasks``) in a local run::

    pending examples of every task -> predict_pooled (by input length, across tasks)
    -> answers held per task -> the next examples in order, scored and appended as soon as they are all answered

Each run file still grows in example order, so it equals the file a per-task run or
a Ray run writes, record for record (timing fields aside), and a crash leaves a
prefix of every task that the same command resumes. When the run stops on an error
(or Ctrl-C), the answers held back for an earlier example of their task are saved
as shards (``benchmark.scaleout.shards``), which the next run merges in example
order; a killed process loses them, at most a window (``benchmark.batching.WINDOW``)
of examples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from benchmark.adapters.base import Adapter
from benchmark.batching import predict_pooled
from benchmark.controls import PLAIN, UnitKey, Variant
from benchmark.predicting import Output, to_records
from benchmark.scaleout.shards import in_example_order, write_shard
from benchmark.scoring.labels import LabelResolver
from benchmark.submission.records import append_records, read_records, write_records_atomic
from benchmark.submission.scorer import Scorer, scorer_for
from benchmark.task.card import Example
from benchmark.task.folder import Task

SYNC_SECONDS = 0.5
"""Records reach the file every batch; fsync (power-cut safety) runs at most this often, and when the run ends."""


class Pending(Protocol):
    """What is left of one task (``benchmark.planning.TaskPlan``)."""

    task: Task
    run_file: Path
    pending: list[Example]


@dataclass
class InOrder:
    """One task's answers, appended to its run file in example order as soon as a prefix is complete."""

    plan: Pending
    score: Scorer
    variant: Variant
    held: dict[UnitKey, Output] = field(default_factory=dict)
    written: int = 0
    """How many of the plan's pending examples are in the run file."""

    def hold(self, example: Example, output: Output) -> None:
        """Keep an answer until every earlier pending example of the task has one."""
        self.held[self.variant.key(self.plan.task, example)] = output

    def flush(self) -> None:
        """Score and append the answers that continue the run file's example order."""
        task, pending = self.plan.task, self.plan.pending
        examples, outputs = [], []
        while self.written < len(pending):
            output = self.held.pop(self.variant.key(task, pending[self.written]), None)
            if output is None:
                break
            examples.append(pending[self.written])
            outputs.append(output)
            self.written += 1
        if examples:
            records = to_records(task, examples, outputs, self.score, self.variant)
            append_records(self.plan.run_file, records, sync_every=SYNC_SECONDS)

    def save_held(self) -> None:
        """Write the answers still held back as a shard, for the next run to merge in example order."""
        task, pending = self.plan.task, self.plan.pending
        later = [(i, e) for i, e in enumerate(pending) if self.variant.key(task, e) in self.held]
        if later:
            outputs = [self.held.pop(self.variant.key(task, e)) for _, e in later]
            records = to_records(task, [e for _, e in later], outputs, self.score, self.variant)
            write_shard(self.plan.run_file, later[0][0], records)


def run_pooled(
    adapter: Adapter,
    plans: Sequence[Pending],
    *,
    batch_size: int | str,
    resolvers: Sequence[LabelResolver] = (),
    on_batch: Callable[[int], None] = lambda n: None,
    variant: Variant = PLAIN,
) -> None:
    """Predict the pending examples of every plan in batches across tasks; append each task's records in order.

    Raises:
        AdapterError: the adapter failed; the records appended so far stay, and the answers held back are shards.
    """
    writers = {
        p.task.key: InOrder(p, scorer_for(p.task, resolvers, p.run_file.parent.parent), variant)
        for p in plans
        if p.pending
    }
    items = [(w.plan.task, e) for w in writers.values() for e in w.plan.pending]
    try:
        for batch in predict_pooled(adapter, items, batch_size, variant.audio):
            per_example = batch.seconds / len(batch.items)
            for (task, e), text in zip(batch.items, batch.outputs, strict=True):
                writers[task.key].hold(e, Output(e.id, text, per_example))
            for key in dict.fromkeys(task.key for task, _ in batch.items):
                writers[key].flush()
            on_batch(len(batch.items))
    finally:  # held answers exist only when the run stops early
        for writer in writers.values():
            writer.save_held()
    for writer in writers.values():
        keep_in_order(writer.plan.task, writer.plan.run_file)


def keep_in_order(task: Task, run_file: Path) -> None:
    """Rewrite a run file in example order if it is not (answers a stopped run saved as shards came before).

    A resumed run appends the examples left before those shards' ones; sorting once at the end gives the
    file an uninterrupted run writes.
    """
    records = read_records(run_file)
    ordered = in_example_order(task, records)
    if any(a is not b for a, b in zip(records, ordered, strict=True)):
        write_records_atomic(run_file, ordered)
