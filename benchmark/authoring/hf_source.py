"""Reading a Dynamic-SUPERB instance: the source (save_to_disk, parquet, hub id), its rows, its audio cells.

Shared by the text-answer import (``hf``) and the audio-answer import (``hf_audio``). Audio is read
with ``Audio(decode=False)`` and decoded with soundfile, so no torchcodec is needed.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.task.audio import MAX_FILE_BYTES, MAX_SECONDS, SAMPLE_RATE, AudioError, read_audio

AUDIO_COLUMN = re.compile(r"^audio(\d*)$")
HF_SPLIT_TO_OURS = {"train": "train", "test": "test", "validation": "test", "dev": "test"}


class ConversionError(Exception):
    """The source cannot be converted; the message says what to change."""


def load_source(source: str, revision: str | None = None) -> dict[str, Any]:
    """Load every split of ``source``: a ``save_to_disk`` folder, parquet files, or a hub id.

    Raises:
        ConversionError: datasets is not installed, or the hub cannot be reached.
    """
    try:
        import datasets
    except ImportError as exc:
        raise ConversionError("this needs the hf extra: pip install 'speech-benchmark[hf]'") from exc
    path = Path(source)
    if path.exists():
        try:
            return _load_local(datasets, path)
        except ConversionError:
            raise
        except Exception as exc:  # pyarrow and datasets raise many types for a damaged file
            first = str(exc).splitlines()[0][:300] if str(exc) else ""
            cause = exc.__cause__
            detail = f"{type(exc).__name__}: {first}" + (f" ({type(cause).__name__}: {cause})" if cause else "")
            raise ConversionError(f"{source}: cannot be read as a dataset ({detail[:500]})") from exc
    try:
        loaded = datasets.load_dataset(source, revision=revision)
    except Exception as exc:  # the hub client raises many types; all mean "not reachable here"
        raise ConversionError(
            f"cannot load {source!r} from the hub ({type(exc).__name__}: {exc}). Offline, download it "
            f"first (`hf download --repo-type dataset {source} --local-dir DIR`) and pass DIR."
        ) from exc
    return dict(loaded)


def _load_local(datasets: Any, path: Path) -> dict[str, Any]:
    if path.is_dir() and any((path / n).exists() for n in ("dataset_dict.json", "state.json")):
        loaded = datasets.load_from_disk(str(path))
        return dict(loaded) if isinstance(loaded, datasets.DatasetDict) else {"test": loaded}
    files = [path] if path.is_file() else sorted(path.rglob("*.parquet"))
    if not files:
        raise ConversionError(f"{path} holds neither a save_to_disk dataset nor parquet files")
    by_split: dict[str, list[str]] = {}
    for f in files:
        split = next((s for s in HF_SPLIT_TO_OURS if f.name.startswith(s)), "test")
        by_split.setdefault(split, []).append(str(f))
    return dict(datasets.load_dataset("parquet", data_files=by_split))


def is_audio_feature(feature: Any) -> bool:
    """A column typed ``Audio``, or a plain ``{bytes, path}`` struct (parquet written without the HF schema)."""
    if type(feature).__name__ == "Audio":
        return True
    return isinstance(feature, dict) and {"bytes", "path"} <= set(feature)


def audio_columns(columns: list[str], features: Any = None) -> list[str]:
    """``audio``, ``audio2``... in order, then any other column typed ``Audio`` (e.g. ``enrollment``)."""
    found = sorted(
        (c for c in columns if AUDIO_COLUMN.match(c)),
        key=lambda c: int(AUDIO_COLUMN.match(c).group(1) or 1),  # type: ignore[union-attr]
    )
    features = features or {}
    typed = [c for c in columns if c not in found and type(features.get(c)).__name__ == "Audio"]
    return found + typed


def decode(cell: dict[str, Any] | None, where: str) -> np.ndarray:
    """Decode an audio cell (bytes, or a path to a regular file) within the limits of ``read_audio``."""
    if not isinstance(cell, dict) or (cell.get("bytes") is None and not cell.get("path")):
        raise ConversionError(f"{where}: the audio cell is empty")
    data, path = cell.get("bytes"), cell.get("path")
    if data is not None and not isinstance(data, bytes):
        raise ConversionError(f"{where}: the audio cell holds {type(data).__name__}, not bytes")
    if data is None and not (isinstance(path, str) and os.path.isfile(path)):
        raise ConversionError(f"{where}: the audio cell names {str(path)[:200]!r}, which is not a file")
    source: io.BytesIO | str = io.BytesIO(data) if data is not None else str(path)
    try:
        return read_audio(source, SAMPLE_RATE, MAX_SECONDS)
    except AudioError as exc:
        raise ConversionError(f"{where}: {exc.code} {exc}") from exc


def safe_id(file_value: Any, index: int, used: set[str]) -> str:
    """An example id from the row's ``file`` value: safe characters, unique among ``used`` (which it joins)."""
    stem = Path(str(file_value)).stem if file_value else ""
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", stem).strip("._-")[:100] or f"{index:05d}"
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base}-{n}"
    used.add(candidate)
    return candidate


def rows(
    splits: dict[str, Any], columns: Callable[[list[str], Any], list[str]] = audio_columns
) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """``(our split, row index, row)`` of every split, the audio ``columns`` of each read undecoded.

    Raises:
        ConversionError: a column is not audio, or a cell is over the size cap.
    """
    import datasets

    for hf_split, ds in splits.items():
        ours = HF_SPLIT_TO_OURS.get(hf_split, "test")
        for col in columns(ds.column_names, ds.features):
            try:
                ds = ds.cast_column(col, datasets.Audio(decode=False))
            except Exception as exc:  # pyarrow raises many types for a column of the wrong shape
                raise ConversionError(f"split {hf_split} column {col} is not an audio column ({exc})"[:500]) from exc
            _check_cell_sizes(ds, col, hf_split)
        for i, row in enumerate(ds):
            yield ours, i, row


def _check_cell_sizes(ds: Any, col: str, split: str) -> None:
    """Refuse an audio cell over the size cap before any row is turned into Python bytes.

    Raises:
        ConversionError: a cell holds more than ``MAX_FILE_BYTES`` bytes.
    """
    import pyarrow.compute as pc

    sizes = pc.binary_length(pc.struct_field(ds.data.column(col), "bytes"))
    biggest = pc.max(sizes).as_py()
    if biggest is not None and biggest > MAX_FILE_BYTES:
        row = pc.index(sizes, biggest).as_py()
        raise ConversionError(
            f"split {split} row {row} column {col}: the audio cell holds {biggest} bytes, over the "
            f"{MAX_FILE_BYTES} byte cap (T314); shorten the clip or encode it as FLAC"
        )
