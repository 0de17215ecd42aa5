"""The audio checks of one task folder: paths, headers, decoding (``--deep``), duplicates across splits.

Each referenced file is read once: its header is parsed from those bytes, the
duplicate check's quick digest is taken from them, and they are handed to an
optional ``sink`` (``load_task`` hashes them into the task's content hash), so a
full load reads each audio file once instead of three times.
"""

from __future__ import annotations

import os
import posixpath
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from benchmark.findings import Finding, make
from benchmark.task.audio import (
    ANY_AUDIO_SUFFIXES,
    AUDIO_SUFFIXES,
    MAX_FILE_BYTES,
    AudioError,
    DecodeResult,
    FolderIndex,
    header_problems,
    parse_header,
    read_header,
)
from benchmark.task.card import Example

Decoder = Callable[[list[str]], list[DecodeResult]]


class AudioSink(Protocol):
    """Receives the whole bytes of each referenced file, in first-use order (``load_task`` hashes them)."""

    def reserve(self, rel: str, size: int) -> memoryview | None:
        """Room for the next file's ``size`` bytes and one more, to read it into (None: read it anywhere)."""

    def take(self, rel: str, data: bytes | memoryview) -> None:
        """The whole bytes of the file ``rel`` (normalised relative path), read into its room if it had one."""


@dataclass
class _AudioRef:
    line: int
    split: str
    is_input: bool = True
    """A clip the model hears (``audio``), not a reference only the metrics read."""


def check_audio(
    root: Path,
    index: FolderIndex,
    numbered: list[tuple[int, Example]],
    unparsed_audio: set[str],
    out: list[Finding],
    *,
    deep: bool,
    decoder: Decoder,
    sink: AudioSink | None = None,
    warn: bool = True,
) -> None:
    """Append every audio finding of the folder (walked as ``index``) to ``out``; ``sink`` gets each file read.

    ``warn=False`` leaves out the findings that can only be warnings (files no example references).
    """
    refs = _resolve_refs(root, index, numbered, out)
    candidates = set() if deep else _twin_candidates(index, refs)
    readable, digests = _check_headers(root, index, refs, candidates, out, sink)
    pcm_hashes: dict[str, str] = {}
    if deep and readable:
        pcm_hashes = _check_decoded(root, readable, refs, decoder, out)
    out += _duplicate_findings(root, refs, pcm_hashes if deep else digests, exact=deep)
    if warn:
        mentioned = set(refs) | {posixpath.normpath(p) for p in unparsed_audio if isinstance(p, str)}
        out += _unreferenced_findings(root, index, mentioned)


def _resolve_refs(
    root: Path, index: FolderIndex, numbered: list[tuple[int, Example]], out: list[Finding]
) -> dict[str, list[_AudioRef]]:
    examples_path = root / "examples.jsonl"
    refs: dict[str, list[_AudioRef]] = defaultdict(list)
    for lineno, example in numbered:
        for name, rel, is_input in example.audio_fields():
            try:
                norm = index.resolve(rel)
            except AudioError as exc:
                out.append(make(exc.code, examples_path, str(exc), field=name, line=lineno))
                continue
            if not norm.lower().endswith(AUDIO_SUFFIXES):
                message = f"{rel!r} is not a .wav or .flac file"
                out.append(make("T304", examples_path, message, field=name, line=lineno))
                continue
            refs[norm].append(_AudioRef(lineno, example.split, is_input))
    return refs


def _where(refs: list[_AudioRef]) -> str:
    return f"(used on line {refs[0].line} of examples.jsonl)"


def _splits(refs: dict[str, list[_AudioRef]]) -> dict[str, set[str]]:
    """The splits that use each file a model hears somewhere (as an input, in any role elsewhere).

    A file only ever used as a reference (a speaker prompt, a clean target) may be shared by train and test: no model
    hears it. A train input that is a test example's target is a leak, and is reported.
    """
    out = {}
    for rel, uses in refs.items():
        if len(uses) == 1:  # the common case: one use
            if uses[0].is_input:
                out[rel] = {uses[0].split}
        elif any(u.is_input for u in uses):
            out[rel] = {u.split for u in uses}
    return out


def _twin_candidates(index: FolderIndex, refs: dict[str, list[_AudioRef]]) -> set[str]:
    """Files of one split whose size equals a file's of the other split: only they can have a twin there."""
    splits = _splits(refs)
    train = {r for r, s in splits.items() if s == {"train"}}
    test = {r for r, s in splits.items() if s == {"test"}}
    shared = {index.size(r) for r in train} & {index.size(r) for r in test}
    return {r for r in train | test if index.size(r) in shared}


def _check_headers(
    root: Path,
    index: FolderIndex,
    refs: dict[str, list[_AudioRef]],
    candidates: set[str],
    out: list[Finding],
    sink: AudioSink | None,
) -> tuple[list[str], dict[str, str]]:
    """Header-level checks; returns the files whose header was readable and the candidates' quick digests."""
    readable = []
    digests: dict[str, str] = {}
    base = str(root)
    for rel, uses in refs.items():
        size = index.size(rel)
        if size > MAX_FILE_BYTES:
            out.append(make("T314", root / rel, f"is {size / 1e6:.1f} MB {_where(uses)}"))
            if rel in candidates:
                digests[rel] = _quick_digest(root / rel)
            continue
        full = os.path.join(base, rel)
        data = None
        try:
            data = _read_whole(full, size, sink.reserve(rel, size) if sink is not None else None)
            header = parse_header(data, size) if data is not None else None
            if header is None:
                header = read_header(full)  # libsndfile decides (or the file changed since the walk)
        except AudioError as exc:
            out.append(make(exc.code, root / rel, f"{exc} {_where(uses)}"))
            if rel in candidates and data is not None:
                digests[rel] = _digest(data)
            continue
        if data is not None and sink is not None:
            sink.take(rel, data)
        if rel in candidates:
            digests[rel] = _digest(data) if data is not None else _quick_digest(root / rel)
        problems = header_problems(header)
        if problems:
            out += [make(code, root / rel, f"{message} {_where(uses)}") for code, message in problems]
        readable.append(rel)
    return readable, digests


def _read_whole(path: str, size: int, room: memoryview | None = None) -> bytes | memoryview | None:
    """The bytes of ``path``, or None if it no longer has the ``size`` bytes the folder walk saw.

    The first read asks for one byte more than ``size``, so a file that grew since the
    walk is told; a read that stops at ``size`` is taken as the end of the file (one
    that grows at that very moment is read as it was walked, and its next load, which
    sees another size, checks and hashes it again). With ``room`` (``size + 1`` bytes)
    the file is read into it and a view of its first ``size`` bytes returned.

    Raises:
        AudioError: T310 when the file cannot be read.
    """
    try:
        fd = os.open(path, _READ_FLAGS)  # a raw descriptor: no file object, no buffer (one call per file of a suite)
        try:
            if room is not None:
                got = os.readv(fd, [room])
                while got < size:  # a regular file answers at once (``size`` bytes: it ended); a short read
                    n = os.readv(fd, [room[got:]])
                    if not n:
                        break
                    got += n
                return room[:size] if got == size else None
            # No room: new bytes (a new zero-filled room per file costs page faults: 2.4x slower on 5 MB clips).
            data = os.read(fd, size + 1)  # never more than the walk's size (checked against the cap) and one byte
            while len(data) < size:
                more = os.read(fd, size + 1 - len(data))
                if not more:
                    break
                data += more
        finally:
            os.close(fd)
    except OSError as exc:
        raise AudioError("T310", f"cannot be read: {exc}") from exc
    return data if len(data) == size else None


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def _check_decoded(
    root: Path, rels: list[str], refs: dict[str, list[_AudioRef]], decoder: Decoder, out: list[Finding]
) -> dict[str, str]:
    """Decode every file; returns the PCM hash of each file that decoded cleanly."""
    hashes = {}
    for rel, result in zip(rels, decoder([str(root / rel) for rel in rels]), strict=True):
        path, where = root / rel, _where(refs[rel])
        if result.error and result.frames:
            out.append(
                make(
                    "T317",
                    path,
                    f"decoding stopped at frame {result.frames} of {result.header_frames}: {result.error} {where}",
                )
            )
            continue
        if result.error:
            out.append(make("T310", path, f"decoding failed: {result.error} {where}"))
            continue
        if result.frames != result.header_frames:
            out.append(
                make("T317", path, f"decoded {result.frames} frames, header says {result.header_frames} {where}")
            )
        if result.peak == 0.0:
            out.append(make("T318", path, f"every sample is zero {where}"))
        hashes[rel] = result.pcm_sha256
    return hashes


def _duplicate_findings(
    root: Path, refs: dict[str, list[_AudioRef]], digests: dict[str, str], *, exact: bool
) -> list[Finding]:
    """Same audio in train and test: the same path, or the same content under two paths.

    Header mode digests file bytes (size and CRC-32), only for files whose size
    matches a file of the other split, and confirms equal digests byte for byte;
    deep mode (``exact``) compares decoded samples, so re-encoded copies match too.
    """
    out = []
    splits = _splits(refs)
    for rel, in_splits in splits.items():
        if {"train", "test"} <= in_splits:
            out.append(make("T315", root / rel, f"is used by train and test examples {_where(refs[rel])}"))
    train = [r for r, s in splits.items() if s == {"train"}]
    test = [r for r, s in splits.items() if s == {"test"}]
    train_by_digest = {digests[r]: r for r in train if r in digests}
    for rel in test:
        twin = train_by_digest.get(digests.get(rel, ""))
        if twin is not None and (exact or _same_bytes(root / rel, root / twin)):
            out.append(make("T315", root / rel, f"has the same audio as train file {twin} {_where(refs[rel])}"))
    return out


def _digest(data: bytes | memoryview) -> str:
    """Size and CRC-32 of a file's bytes: a cheap first pass; equal digests are confirmed byte for byte."""
    return f"{len(data)}:{zlib.crc32(data):08x}"


def _quick_digest(path: Path) -> str:
    return _digest(path.read_bytes())


def _same_bytes(a: Path, b: Path) -> bool:
    return a.read_bytes() == b.read_bytes()


def _unreferenced_findings(root: Path, index: FolderIndex, refs: set[str]) -> list[Finding]:
    return [
        make("T316", root / rel, "is not referenced by any example")
        for rel in sorted(index.files | index.links)
        if rel not in refs and (rel.lower().endswith(ANY_AUDIO_SUFFIXES) or rel.startswith("audio/"))
    ]
