"""Content hashes taken on a second core while the checks go on: the buffers and the thread that hashes them.

A full task load reads every audio file once, for its header checks, and the task's
content hash (SHA-256) covers all of those bytes. With a :class:`HashPipeline`, the
checks read each file straight into one of a few large buffers; a full buffer is
handed to one worker thread, which hashes it while the checks read the next files
(SHA-256 releases the GIL on a large buffer, so the two cores work at once). One
hand-off per buffer, not per file: a hand-off per file would cost more in GIL
switches than hashing a file does.

A buffer is written again only after the job hashing it has finished, and one
worker runs the jobs in the order they were given, which is the order of the hash.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")

BUFFER_BYTES = 4 << 20
"""Size of one buffer: files are gathered until the next one does not fit, then the buffer is hashed."""
BUFFERS = 4
"""Buffers at most: what a pipeline holds in memory is about ``BUFFER_BYTES`` times this (a file larger than a
buffer is hashed on the caller's thread, once every queued job is done: see :meth:`HashPipeline.drain`)."""


class HashPipeline:
    """One worker thread that hashes buffers, and the buffers the checks read files into.

    Use it as a context manager (the thread ends with the block), from one thread only.
    """

    def __init__(self, buffer_bytes: int = BUFFER_BYTES, buffers: int = BUFFERS) -> None:
        self.buffer_bytes = buffer_bytes
        self.buffers = buffers
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="task-hash")
        self._idle: list[bytearray] = []
        self._hashing: deque[tuple[bytearray, Future[None]]] = deque()
        self._made = 0

    def __enter__(self) -> HashPipeline:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._executor.shutdown(wait=True, cancel_futures=kind is not None)  # a failed load hashes nothing more

    def buffer(self) -> bytearray:
        """A buffer no job reads: an idle one, the oldest one hashed (waited for at the limit), or a new one."""
        if self._idle:
            return self._idle.pop()
        if self._hashing and (self._hashing[0][1].done() or self._made >= self.buffers):
            buf, job = self._hashing.popleft()
            job.result()
            return buf
        self._made += 1
        return bytearray(self.buffer_bytes)

    def release(self, buf: bytearray) -> None:
        """Give back a buffer that holds nothing to hash."""
        self._idle.append(buf)

    def update(self, h: Any, buf: bytearray, used: int) -> None:
        """Queue ``h.update`` with the first ``used`` bytes of ``buf``; the buffer is reused once that is done."""
        self._hashing.append((buf, self._executor.submit(h.update, memoryview(buf)[:used])))

    def drain(self) -> None:
        """Wait for every queued buffer to be hashed (before hashing on the caller's thread, in order)."""
        while self._hashing:
            buf, job = self._hashing.popleft()
            job.result()
            self._idle.append(buf)

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Queue any other step of a hash (after the updates queued before it)."""
        return self._executor.submit(fn, *args)
