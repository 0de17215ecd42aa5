"""Safe audio access for task folders: path containment, header reads, decoding, resampling.

Task folders are untrusted input. A path in ``examples.jsonl`` must stay inside its
folder (no absolute paths, no ``..``, no symlink pointing out), and a file is read
only after its size is checked.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf

SAMPLE_RATE = 16_000
MIN_SECONDS = 0.1
MAX_SECONDS = 60.0
MAX_FILE_BYTES = 20 * 1024 * 1024
AUDIO_SUFFIXES = (".wav", ".flac")
# Suffixes of audio files that may be left lying in a folder without being referenced.
ANY_AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".aiff", ".aif")
ALLOWED_FORMATS = ("WAV", "FLAC")


class AudioError(Exception):
    """An audio file that cannot be used; ``code`` is the validation finding code."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class FolderIndex:
    """All files under a task folder, found with one ``scandir`` walk (no symlinks followed)."""

    root: Path
    files: frozenset[str]
    """Relative POSIX paths of regular files reached without crossing a symlink."""
    links: frozenset[str]
    """Relative POSIX paths of symlinks (to files or folders)."""
    sizes: dict[str, int]
    """Size in bytes of each regular file."""
    stats: tuple[tuple[str, os.stat_result], ...] = ()
    """``(relative path, stat)`` of every entry that is neither a folder nor a symlink, as the walk found it."""

    @classmethod
    def scan(cls, root: Path) -> FolderIndex:
        """Walk ``root`` once."""
        files: set[str] = set()
        links: set[str] = set()
        sizes: dict[str, int] = {}
        stats: list[tuple[str, os.stat_result]] = []
        stack = [""]
        while stack:
            rel_dir = stack.pop()
            with os.scandir(root / rel_dir if rel_dir else root) as it:
                for entry in it:
                    rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                    if entry.is_symlink():
                        links.add(rel)
                    elif entry.is_dir():
                        stack.append(rel)
                    else:
                        st = entry.stat(follow_symlinks=False)
                        stats.append((rel, st))
                        if entry.is_file():
                            files.add(rel)
                            sizes[rel] = st.st_size
        return cls(root=root, files=frozenset(files), links=frozenset(links), sizes=sizes, stats=tuple(stats))

    def signature(self) -> tuple[str, int] | None:
        """Digest of every file's path, size, mtime, ctime and inode, and the newest timestamp; None with a symlink.

        Two walks with the same signature saw the same files, unchanged (as git's index
        trusts a file whose stat is unchanged); ``benchmark.task.index`` relies on it.
        """
        if self.links:
            return None
        entries = []
        newest = 0
        for rel, st in self.stats:
            entries.append(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}")
            newest = max(newest, st.st_mtime_ns, st.st_ctime_ns)
        entries.sort()
        return hashlib.sha256("\n".join(entries).encode()).hexdigest(), newest

    def resolve(self, rel: str) -> str:
        """Check that ``rel`` names a file inside the folder and return its normalised form.

        Raises:
            AudioError: T300 absolute path, T301 ``..`` escape, T302 symlink out of the
                folder, T303 missing file.
        """
        if rel.startswith(("/", "\\")) or (len(rel) > 1 and rel[1] == ":") or "\\" in rel:
            raise AudioError("T300", f"{rel!r} is absolute or not a POSIX relative path")
        norm = posixpath.normpath(rel)
        if norm == ".." or norm.startswith("../"):
            raise AudioError("T301", f"{rel!r} points outside the task folder")
        if norm in self.files:
            return norm
        full = self.root / norm
        if not os.path.lexists(full):
            raise AudioError("T303", f"{rel!r} does not exist")
        # A symlink somewhere on the way: allowed only if it stays inside the folder.
        real, root_real = os.path.realpath(full), os.path.realpath(self.root)
        if os.path.commonpath([real, root_real]) != root_real:
            raise AudioError("T302", f"{rel!r} is a link to {real}, outside the task folder")
        if not os.path.isfile(real):
            raise AudioError("T303", f"{rel!r} is not a file")
        return norm

    def size(self, rel: str) -> int:
        """File size in bytes (follows an in-folder symlink)."""
        size = self.sizes.get(rel)
        return size if size is not None else os.path.getsize(self.root / rel)


@dataclass(frozen=True)
class AudioHeader:
    """What a file's header says, read without decoding the samples."""

    format: str
    samplerate: int
    channels: int
    frames: int

    @property
    def seconds(self) -> float:
        """Duration in seconds."""
        return self.frames / self.samplerate if self.samplerate else 0.0


HEAD_BYTES = 4096
"""How much of a file the direct header parse looks at."""


def read_header(path: str | os.PathLike[str]) -> AudioHeader:
    """Read an audio header: a plain FLAC or PCM WAV header is parsed directly, anything else by libsndfile.

    The direct parse reads 4 KiB and accepts only headers it fully understands (the
    answer libsndfile gives for them; tests compare the two), which makes header
    checks of a large suite several times faster.

    Raises:
        AudioError: T310 when libsndfile cannot open the file.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
            size = os.fstat(f.fileno()).st_size
    except OSError as exc:
        raise AudioError("T310", f"cannot be read: {exc}") from exc
    return parse_header(head, size) or sf_header(path)


def parse_header(data: bytes | memoryview, size: int) -> AudioHeader | None:
    """The header of a plain FLAC or PCM WAV file from its first bytes (``data``) and ``size``, else None.

    Only the first :data:`HEAD_BYTES` of ``data`` are used, so a caller that read the
    whole file gets the answer :func:`read_header` gives.
    """
    if data[:4] == b"fLaC":
        return _flac_header(data)  # reads only the first 42 bytes
    return _wav_header(data[:HEAD_BYTES], size)


def sf_header(path: str | os.PathLike[str]) -> AudioHeader:
    """The header as libsndfile reads it.

    Raises:
        AudioError: T310 when libsndfile cannot open the file.
    """
    try:
        with sf.SoundFile(path) as f:
            return AudioHeader(f.format, f.samplerate, f.channels, f.frames)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioError("T310", f"cannot be decoded as audio: {exc}") from exc


def _flac_header(head: bytes | memoryview) -> AudioHeader | None:
    """STREAMINFO of a FLAC file that starts with it (no ID3 tag, known length), else None."""
    if len(head) < 42 or head[4] & 0x7F != 0 or int.from_bytes(head[5:8], "big") != 34:
        return None
    info = int.from_bytes(head[18:26], "big")  # rate:20 channels-1:3 bits-1:5 samples:36
    rate, channels, samples = info >> 44, ((info >> 41) & 0x7) + 1, info & ((1 << 36) - 1)
    if rate == 0 or samples == 0:
        return None  # libsndfile decides what an unknown length or rate means
    return AudioHeader("FLAC", rate, channels, samples)


_WAV_SAMPLE_BITS = {1: (8, 16, 24, 32), 3: (32, 64)}  # PCM, IEEE float


def _wav_header(head: bytes | memoryview, size: int) -> AudioHeader | None:
    """A canonical RIFF/WAVE PCM or float header whose chunks fit the file, else None."""
    if (
        len(head) < 44
        or head[:4] != b"RIFF"
        or head[8:12] != b"WAVE"
        or int.from_bytes(head[4:8], "little") + 8 != size
    ):
        return None
    pos, fmt = 12, None
    while pos + 8 <= len(head):
        kind, length = head[pos : pos + 4], int.from_bytes(head[pos + 4 : pos + 8], "little")
        if kind == b"fmt " and length >= 16 and pos + 24 <= len(head):
            fmt = head[pos + 8 : pos + 24]
        elif kind == b"data":
            return _wav_from_fmt(fmt, length) if pos + 8 + length <= size else None
        pos += 8 + length + (length & 1)
    return None


def _wav_from_fmt(fmt: bytes | memoryview | None, data_bytes: int) -> AudioHeader | None:
    if fmt is None:
        return None
    tag, channels, rate = (
        int.from_bytes(fmt[0:2], "little"),
        int.from_bytes(fmt[2:4], "little"),
        int.from_bytes(fmt[4:8], "little"),
    )
    align, bits = int.from_bytes(fmt[12:14], "little"), int.from_bytes(fmt[14:16], "little")
    if bits not in _WAV_SAMPLE_BITS.get(tag, ()) or channels == 0 or rate == 0 or align != channels * bits // 8:
        return None
    if data_bytes % align:
        return None
    return AudioHeader("WAV", rate, channels, data_bytes // align)


def header_problems(header: AudioHeader) -> list[tuple[str, str]]:
    """The contract rules a header breaks, as ``(code, message)`` pairs."""
    out = []
    if header.format not in ALLOWED_FORMATS:
        out.append(("T304", f"is {header.format}, not WAV or FLAC"))
    if header.samplerate != SAMPLE_RATE:
        out.append(("T311", f"sample rate is {header.samplerate} Hz, not {SAMPLE_RATE} Hz"))
    if header.channels != 1:
        out.append(("T312", f"has {header.channels} channels, not 1 (mono)"))
    if not MIN_SECONDS <= header.seconds <= MAX_SECONDS:
        out.append(("T313", f"lasts {header.seconds:.3f} s, outside {MIN_SECONDS} s to {MAX_SECONDS:.0f} s"))
    return out


@dataclass(frozen=True)
class DecodeResult:
    """What decoding a whole file found (used by ``bench validate --deep``)."""

    path: str
    error: str | None = None
    frames: int = 0
    header_frames: int = 0
    peak: float = 0.0
    pcm_sha256: str = ""


def decode_check(path: str) -> DecodeResult:
    """Decode every sample of ``path``; runs in worker processes, so it takes a plain string.

    Decodes block by block, so a file that breaks part-way reports how far it got.
    """
    try:
        # Whole-file read first: one libsndfile call (task clips are at most a minute). A file that fails is
        # decoded again block by block below, to report how far it got.
        with sf.SoundFile(path) as f:
            header_frames = f.frames
            if not 0 < f.channels <= MAX_CHANNELS:
                return DecodeResult(path=path, error=f"declares {f.channels} channels", header_frames=header_frames)
            if header_frames > (MAX_SECONDS + 1) * max(f.samplerate, 1):
                return _decode_blocks(path)  # a crafted length must not size one huge buffer: stream it
            data = f.read(dtype="float32", always_2d=True)
        if data.size and not np.isfinite(data).all():
            return DecodeResult(path=path, error="contains NaN or infinite samples", frames=len(data))
        return DecodeResult(
            path=path,
            frames=len(data),
            header_frames=header_frames,
            peak=float(np.abs(data).max()) if data.size else 0.0,
            pcm_sha256=hashlib.sha256(np.ascontiguousarray(data).tobytes()).hexdigest(),
        )
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
        pass
    return _decode_blocks(path)


def _decode_blocks(path: str) -> DecodeResult:
    h = hashlib.sha256()
    frames, header_frames, peak, finite = 0, 0, 0.0, True
    try:
        with sf.SoundFile(path) as f:
            header_frames = f.frames
            for block in f.blocks(blocksize=1 << 14, dtype="float32", always_2d=True):
                frames += block.shape[0]
                finite = finite and bool(np.isfinite(block).all())
                peak = max(peak, float(np.abs(block).max()) if block.size else 0.0)
                h.update(np.ascontiguousarray(block).tobytes())
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        return DecodeResult(path=path, error=str(exc), frames=frames, header_frames=header_frames)
    if not finite:
        return DecodeResult(path=path, error="contains NaN or infinite samples", frames=frames)
    return DecodeResult(path=path, frames=frames, header_frames=header_frames, peak=peak, pcm_sha256=h.hexdigest())


def decode_many(paths: list[str]) -> list[DecodeResult]:
    """Decode a chunk of files (one worker task, to keep inter-process traffic small)."""
    return [decode_check(p) for p in paths]


def read_audio(
    path: str | os.PathLike[str] | BinaryIO, target_rate: int = SAMPLE_RATE, max_seconds: float = MAX_SECONDS
) -> np.ndarray:
    """Decode a file (or file-like object) as float32 mono at ``target_rate``, within limits.

    The size cap is checked before reading, and the header's declared length, rate and
    channels before any sample buffer is allocated, so a 100-byte file that declares
    days of audio is refused instead of exhausting memory.

    Raises:
        AudioError: too large (T314), too long (T313), not decodable or corrupt part-way (T310).
    """
    name = path if isinstance(path, (str, os.PathLike)) else "audio bytes"
    size = _source_size(path)
    if size > MAX_FILE_BYTES:
        raise AudioError("T314", f"{name} is {size} bytes, over the {MAX_FILE_BYTES} byte cap")
    try:
        with sf.SoundFile(path) as f:
            _check_declared(f, name, max_seconds)
            data = f.read(frames=f.frames, dtype="float32", always_2d=True)
            rate = f.samplerate
    except AudioError:
        raise
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError, OverflowError) as exc:
        raise AudioError("T310", f"{name} cannot be decoded: {exc}") from exc
    if not np.isfinite(data).all():
        raise AudioError("T310", f"{name} holds NaN or infinite samples")
    return resample(to_mono(data), rate, target_rate)


MAX_CHANNELS = 8
MAX_RATE = 384_000


def _source_size(source: str | os.PathLike[str] | BinaryIO) -> int:
    if isinstance(source, (str, os.PathLike)):
        return os.path.getsize(source)
    here = source.tell()
    end = source.seek(0, os.SEEK_END)
    source.seek(here)
    return end - here


def _check_declared(f: sf.SoundFile, name: object, max_seconds: float) -> None:
    if not 0 < f.samplerate <= MAX_RATE or not 0 < f.channels <= MAX_CHANNELS:
        raise AudioError("T310", f"{name} declares {f.samplerate} Hz and {f.channels} channels")
    if f.frames > max_seconds * f.samplerate + 1:
        raise AudioError("T313", f"{name} declares {f.frames / f.samplerate:.1f} s, over the {max_seconds:g} s cap")


def resample(signal: np.ndarray, rate: int, target_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Resample a mono float signal with soxr (very high quality); a no-op at the same rate."""
    signal = np.asarray(signal, dtype=np.float32)
    if rate == target_rate:
        return signal
    import soxr

    return soxr.resample(signal, rate, target_rate, quality="VHQ").astype(np.float32)


def to_mono(data: np.ndarray) -> np.ndarray:
    """Average the channels of a ``(frames, channels)`` or 1-D array."""
    return data if data.ndim == 1 else data.mean(axis=1)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
