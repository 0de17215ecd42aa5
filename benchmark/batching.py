"""Feeding a model quickly: audio decoded ahead in a thread, fixed or automatic batch sizes, batches across tasks.

``predict_stream`` is what the runner iterates over for one task::

    examples (file order) -> decode ahead (background thread) -> batches of `size` -> adapter.predict

``predict_pooled`` feeds an adapter that mixes tasks (``Adapter.mixes_tasks``)::

    pending examples of every task, interleaved -> windows of WINDOW, each sorted by input length
    (``Adapter.input_length`` of the instruction and the audio's seconds, read from the file headers)
    -> decode ahead -> batches of `size` -> adapter.predict_mixed

- ``predict_stream`` keeps the file order; ``predict_pooled`` does not, and the
  runner puts each task's answers back in example order before writing them, so
  local run files equal the ones a Ray run merges (``benchmark.scaleout``), record
  for record.
- A background thread decodes the audio of the next examples while the model runs
  on the current batch (decoding FLAC is CPU work the model does not need to wait for).
  A model that hears no audio gets its queries built inline, with no thread.
- ``batch_size="auto"`` starts at 1 and doubles after each batch that fits, up to
  ``AUTO_LIMIT``; a batch that runs out of memory is retried at half the size (the
  decoded clips are kept), so the run settles on the largest batch that fits.
- Sorting by length puts inputs of similar length together, so a batch pads little;
  interleaving the tasks lets one batch hold several tasks' examples, and a small
  task fills another's last batch instead of running a part-empty one.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

import numpy as np

from benchmark.adapters.base import Adapter, AdapterError, Answer, Query, checked_mixed, checked_outputs, query_for
from benchmark.task.audio import AudioError, read_header
from benchmark.task.card import Example
from benchmark.task.folder import Task

AUTO = "auto"
AUTO_LIMIT = 64
"""The largest batch ``auto`` grows to (bigger batches rarely run faster, and records are written per batch)."""
AHEAD = 64
"""Examples decoded ahead of the model at most (bounds the memory held by decoded clips)."""
WINDOW = 256
"""Examples sorted by length together in a pooled run (bounds the answers held back before they can be written)."""

AudioLoader = Callable[[Task, Example], Sequence[np.ndarray]]
"""``(task, example) -> clips``: the task's own audio, or a control's replacement."""
Item = tuple[Task, Example]
"""One example and the task it belongs to."""
Fed = tuple[Task, Example, Query]
"""An example ready for the model: its task, the example, and the query built from it."""


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether a failure means the batch did not fit (CPU or accelerator memory)."""
    return isinstance(exc, MemoryError) or "out of memory" in str(exc).lower()


class DecodeAhead:
    """Queries decoded in a background thread, in order, at most ``ahead`` before they are taken."""

    def __init__(self, items: Iterable[Item], load_audio: AudioLoader, adapter: Adapter, ahead: int = AHEAD) -> None:
        self._items: queue.Queue[Fed | BaseException | None] = queue.Queue(maxsize=ahead)
        self._adapter = adapter
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._decode, args=(items, load_audio), daemon=True)
        self._thread.start()
        self._done = False

    def _put(self, item: Fed | BaseException | None) -> bool:
        while not self._stop.is_set():
            try:
                self._items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _decode(self, items: Iterable[Item], load_audio: AudioLoader) -> None:
        try:
            for task, e in items:
                audio = load_audio(task, e)
                if not self._put((task, e, query_for(task, e, audio, self._adapter))):
                    return
        except Exception as exc:  # handed to the consumer, which raises it in the runner's thread
            self._put(exc)
            return
        self._put(None)

    def take(self, n: int) -> list[Fed]:
        """The next ``n`` decoded examples (fewer at the end; empty when all were taken).

        Raises:
            Exception: whatever decoding an example raised.
        """
        out: list[Fed] = []
        while len(out) < n and not self._done:
            item = self._items.get()
            if item is None:
                self._done = True
            elif isinstance(item, BaseException):
                self._done = True
                raise item
            else:
                out.append(item)
        return out

    def close(self) -> None:
        """Stop the decoding thread (e.g. after the model failed)."""
        self._stop.set()
        self._thread.join(timeout=5)


class Inline:
    """Queries built on demand, for a model that hears no audio (nothing to decode, so no thread to wait on)."""

    def __init__(self, items: Iterable[Item], adapter: Adapter) -> None:
        self._rest = iter(items)
        self._adapter = adapter

    def take(self, n: int) -> list[Fed]:
        """The next ``n`` queries (fewer at the end; empty when all were taken)."""
        return [(t, e, query_for(t, e, (), self._adapter)) for t, e in islice(self._rest, n)]

    def close(self) -> None:
        """Nothing to stop."""


@dataclass
class Batch:
    """One predict call's inputs and outputs."""

    items: list[Item]
    """The examples, each with its task (one task, or several in a pooled run)."""
    outputs: list[Answer]
    seconds: float
    """Model time of the whole batch."""

    @property
    def examples(self) -> list[Example]:
        """The examples of the batch, in the order of ``outputs``."""
        return [e for _, e in self.items]


Predict = Callable[[list[Fed]], list[Answer]]
"""One batch through the model: checked outputs, one per fed example."""


def predict_stream(
    adapter: Adapter,
    task: Task,
    examples: Sequence[Example],
    batch_size: int | str,
    load_audio: AudioLoader = Task.load_audio,
) -> Iterator[Batch]:
    """Run ``adapter`` over ``examples`` batch by batch, in order, decoding ahead.

    ``load_audio(task, example)`` gives an example's clips (a control run passes silence or other clips).

    Raises:
        AdapterError: a single example does not fit in memory even alone.
    """

    def predict(fed: list[Fed]) -> list[Answer]:
        outputs = adapter.predict(task.card, [q for _, _, q in fed])
        return checked_outputs(outputs, len(fed), task.key, task.card.task_type == "audio")

    yield from _batches(adapter, [(task, e) for e in examples], batch_size, load_audio, predict)


def predict_pooled(
    adapter: Adapter,
    items: Sequence[Item],
    batch_size: int | str,
    load_audio: AudioLoader = Task.load_audio,
    window: int = WINDOW,
) -> Iterator[Batch]:
    """Run ``adapter`` over examples of several tasks in batches across tasks, by input length (not in order).

    ``items`` are the pending examples of each task in file order, tasks one after another.

    Raises:
        AdapterError: a single example does not fit in memory even alone, or the adapter's outputs are not
            one string per query.
    """

    def predict(fed: list[Fed]) -> list[Answer]:
        outputs = adapter.predict_mixed([(t.card, q) for t, _, q in fed])
        return checked_mixed(outputs, [t for t, _, _ in fed])

    order = interleaved(items)
    lengths = [  # read here, in this thread, before any batch: headers only, nothing is decoded
        adapter.input_length(task.instruction_for(e), audio_seconds(task, e) if adapter.needs_audio else 0.0)
        for task, e in order
    ]
    yield from _batches(adapter, length_sorted(order, lengths, window), batch_size, load_audio, predict)


def interleaved(items: Sequence[Item]) -> list[Item]:
    """The items with each task spread evenly over the whole run (each task keeps its own order)."""
    sizes: dict[str, int] = {}
    for task, _ in items:
        sizes[task.key] = sizes.get(task.key, 0) + 1
    seen: dict[str, int] = {}
    keyed = []
    for n, (task, e) in enumerate(items):
        j = seen[task.key] = seen.get(task.key, -1) + 1
        keyed.append(((j + 0.5) / sizes[task.key], n, (task, e)))
    return [item for *_, item in sorted(keyed, key=lambda k: (k[0], k[1]))]


def length_sorted(items: Sequence[Item], lengths: Sequence[float], window: int) -> list[Item]:
    """Each window of ``window`` items, longest input first."""
    out: list[Item] = []
    for start in range(0, len(items), window):
        part = range(start, min(start + window, len(items)))
        out += [items[i] for i in sorted(part, key=lambda i: -lengths[i])]
    return out


def audio_seconds(task: Task, example: Example) -> float:
    """The total length of an example's clips, from their headers (0 for an unreadable one: decoding reports it)."""
    try:
        return sum(read_header(p).seconds for p in task.audio_files(example))
    except AudioError:
        return 0.0


def _batches(
    adapter: Adapter, items: Iterable[Item], batch_size: int | str, load_audio: AudioLoader, predict: Predict
) -> Iterator[Batch]:
    """Decode ahead, then predict batches of ``batch_size`` (``auto``: grow while they fit, halve when not)."""
    auto = batch_size == AUTO
    size, ceiling = (1, AUTO_LIMIT) if auto else (int(batch_size), int(batch_size))
    feed: DecodeAhead | Inline = (
        DecodeAhead(items, load_audio, adapter, ahead=max(AHEAD, 2 * size))
        if adapter.needs_audio
        else Inline(items, adapter)
    )
    try:
        pending: list[Fed] = []
        while True:
            pending += feed.take(size - len(pending))
            if not pending:
                return
            start = time.perf_counter()
            try:
                outputs = predict(pending[:size])
            except (RuntimeError, MemoryError) as exc:
                if not (auto and is_out_of_memory(exc)):
                    raise
                if size == 1:
                    task = pending[0][0]
                    raise AdapterError(f"one example of {task.key} does not fit in memory: {exc}") from exc
                size = ceiling = size // 2  # never grow back to a size that did not fit
                continue
            yield Batch([(t, e) for t, e, _ in pending[:size]], outputs, time.perf_counter() - start)
            pending = pending[size:]
            size = min(size * 2, ceiling)
    finally:
        feed.close()
