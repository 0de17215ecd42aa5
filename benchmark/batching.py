"""Feeding a model quickly: audio decoded ahead in a thread, fixed or automatic batch sizes.

``predict_stream`` is what the runner iterates over for one task::

    examples (file order) -> decode ahead (background thread) -> batches of `size` -> adapter.predict

- Examples keep their file order, so local run files equal the ones a Ray run
  merges (``benchmark.scaleout``), record for record.
- A background thread decodes the audio of the next examples while the model runs
  on the current batch (decoding FLAC is CPU work the model does not need to wait for).
  A model that hears no audio gets its queries built inline, with no thread.
- ``batch_size="auto"`` starts at 1 and doubles after each batch that fits, up to
  ``AUTO_LIMIT``; a batch that runs out of memory is retried at half the size (the
  decoded clips are kept), so the run settles on the largest batch that fits.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

import numpy as np

from benchmark.adapters.base import Adapter, AdapterError, Query, checked_outputs
from benchmark.task.card import Example
from benchmark.task.folder import Task

AUTO = "auto"
AUTO_LIMIT = 64
"""The largest batch ``auto`` grows to (bigger batches rarely run faster, and records are written per batch)."""
AHEAD = 64
"""Examples decoded ahead of the model at most (bounds the memory held by decoded clips)."""

AudioLoader = Callable[[Task, Example], Sequence[np.ndarray]]
"""``(task, example) -> clips``: the task's own audio, or a control's replacement."""


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether a failure means the batch did not fit (CPU or accelerator memory)."""
    return isinstance(exc, MemoryError) or "out of memory" in str(exc).lower()


class DecodeAhead:
    """Queries decoded in a background thread, in order, at most ``ahead`` before they are taken."""

    def __init__(
        self, task: Task, examples: Sequence[Example], load_audio: AudioLoader, ahead: int = AHEAD
    ) -> None:
        self._items: queue.Queue[tuple[Example, Query] | BaseException | None] = queue.Queue(maxsize=ahead)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._decode, args=(task, examples, load_audio), daemon=True)
        self._thread.start()
        self._done = False

    def _put(self, item: tuple[Example, Query] | BaseException | None) -> bool:
        while not self._stop.is_set():
            try:
                self._items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _decode(self, task: Task, examples: Sequence[Example], load_audio: AudioLoader) -> None:
        try:
            for e in examples:
                audio = load_audio(task, e)
                if not self._put((e, Query(id=e.id, instruction=task.instruction_for(e), audio=audio))):
                    return
        except Exception as exc:  # handed to the consumer, which raises it in the runner's thread
            self._put(exc)
            return
        self._put(None)

    def take(self, n: int) -> list[tuple[Example, Query]]:
        """The next ``n`` decoded examples (fewer at the end; empty when all were taken).

        Raises:
            Exception: whatever decoding an example raised.
        """
        out: list[tuple[Example, Query]] = []
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

    def __init__(self, task: Task, examples: Sequence[Example]) -> None:
        self._task = task
        self._rest = iter(examples)

    def take(self, n: int) -> list[tuple[Example, Query]]:
        """The next ``n`` queries (fewer at the end; empty when all were taken)."""
        task = self._task
        return [(e, Query(id=e.id, instruction=task.instruction_for(e), audio=())) for e in islice(self._rest, n)]

    def close(self) -> None:
        """Nothing to stop."""


@dataclass
class Batch:
    """One predict call's inputs and outputs."""

    examples: list[Example]
    outputs: list[str]
    seconds: float
    """Model time of the whole batch."""


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
    auto = batch_size == AUTO
    size, ceiling = (1, AUTO_LIMIT) if auto else (int(batch_size), int(batch_size))
    feed: DecodeAhead | Inline = (
        DecodeAhead(task, examples, load_audio, ahead=max(AHEAD, 2 * size))
        if adapter.needs_audio
        else Inline(task, examples)
    )
    try:
        pending: list[tuple[Example, Query]] = []
        while True:
            pending += feed.take(size - len(pending))
            if not pending:
                return
            start = time.perf_counter()
            try:
                queries = [q for _, q in pending[:size]]
                outputs = checked_outputs(adapter.predict(task.card, queries), len(queries), task.key)
            except (RuntimeError, MemoryError) as exc:
                if not (auto and is_out_of_memory(exc)):
                    raise
                if size == 1:
                    raise AdapterError(f"one example of {task.key} does not fit in memory: {exc}") from exc
                size = ceiling = size // 2  # never grow back to a size that did not fit
                continue
            yield Batch([e for e, _ in pending[:size]], outputs, time.perf_counter() - start)
            pending = pending[size:]
            size = min(size * 2, ceiling)
    finally:
        feed.close()
