"""What an adapter returns for a task whose answer is speech: :class:`AudioAnswer`.

An answer carries samples and a rate, or encoded bytes and their format, and optionally
the text the model also wrote (a spoken reply's text channel). A separation answer holds
one clip per source. The harness, not the adapter, turns it into files: it writes each
clip once as lossless FLAC, named by its hash, under the submission
(``benchmark.submission.audio_store``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, eq=False)
class AudioAnswer:
    """A model's audio answer to one query.

    Give either ``samples`` with ``rate``, or ``data`` with ``format``. Anything broken
    (None, NaN, silence, a wrong rate, bytes that do not decode) is kept and scored as
    what it is: a status and each metric's worst value, never a skipped example.
    """

    samples: Any = None
    """One clip (a 1-D array, or 2-D with channels on the short axis; float in [-1, 1] or integer PCM), or a
    list of clips, one per source (separation)."""
    rate: int | None = None
    """Sample rate of ``samples`` in Hz (any rate: the harness stores it as it is and resamples to score)."""
    data: bytes | Sequence[bytes] | None = None
    """Encoded audio instead of samples (an API's reply): one file, or one per source."""
    format: str | None = None
    """Format of ``data``: ``wav``, ``flac``, ``mp3``, ``ogg`` (what libsndfile reads)."""
    text: str | None = None
    """The text the model wrote alongside the audio (a spoken reply's transcript channel), if any."""

    def clips(self) -> list[Any]:
        """The answer's clips, in order: arrays (with ``rate``) or encoded files; empty for no audio."""
        if self.data is not None:
            return [self.data] if isinstance(self.data, (bytes, bytearray)) else list(self.data)
        if self.samples is None:
            return []
        if isinstance(self.samples, (list, tuple)) and self.samples and _is_clip(self.samples[0]):
            return list(self.samples)
        return [self.samples]


def _is_clip(item: Any) -> bool:
    """Whether an item of a list is itself a clip (an array or a list of numbers), not a sample."""
    return hasattr(item, "shape") and len(getattr(item, "shape", ())) >= 1 or isinstance(item, (list, tuple))


@dataclass(frozen=True)
class StoredAnswer:
    """An audio answer as the record keeps it: a hash (or None) and a status per clip, and its text channel."""

    hashes: tuple[str | None, ...]
    statuses: tuple[str, ...]
    text: str = ""

    @property
    def status(self) -> str:
        """The answer's status: its first clip that is not ``ok``, else ``ok`` (``missing`` for no clip)."""
        return next((s for s in self.statuses if s != "ok"), "ok" if self.statuses else "missing")
