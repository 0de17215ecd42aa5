"""Convert Dynamic-SUPERB instances (Hugging Face datasets) to task folders and back.

A Dynamic-SUPERB instance has the columns ``file``, ``audio``, ``instruction`` and
``label`` (and ``audio2``... for multi-audio tasks, or other columns typed ``Audio``). Audio is
read with ``Audio(decode=False)`` and decoded with soundfile, so no torchcodec is needed. The
licence and download size of a hub instance come from its dataset card and file list
(``hub_info``); a local copy's licence from the ``README.md`` front matter next to it.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.task import METRICS_BY_TASK_TYPE, MIN_INSTRUCTIONS, Example, TaskCard, load_task, safejson
from benchmark.task.audio import MAX_FILE_BYTES, MAX_SECONDS, SAMPLE_RATE, AudioError, read_audio
from benchmark.task.card import NON_REDISTRIBUTABLE_LICENSES, REDISTRIBUTABLE_LICENSES
from benchmark.task.writer import TaskWriter

AUDIO_COLUMN = re.compile(r"^audio(\d*)$")
HF_SPLIT_TO_OURS = {"train": "train", "test": "test", "validation": "test", "dev": "test"}
MARKER = ".import.json"
"""File in a task folder written by a catalog import: the instance, hub path and revision it came from."""
LOCAL_USE_LICENSE = "LicenseRef-DynamicSUPERB-local-use-only"
"""Recorded when neither the catalog nor the dataset card names a licence: not for redistribution."""
_SPDX_BY_LOWER = {x.lower(): x for x in REDISTRIBUTABLE_LICENSES | NON_REDISTRIBUTABLE_LICENSES}


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


def _audio_columns(columns: list[str], features: Any = None) -> list[str]:
    """``audio``, ``audio2``... in order, then any other column typed ``Audio`` (e.g. ``enrollment``)."""
    found = sorted(
        (c for c in columns if AUDIO_COLUMN.match(c)),
        key=lambda c: int(AUDIO_COLUMN.match(c).group(1) or 1),  # type: ignore[union-attr]
    )
    features = features or {}
    typed = [c for c in columns if c not in found and type(features.get(c)).__name__ == "Audio"]
    return found + typed


def _decode(cell: dict[str, Any] | None, where: str) -> np.ndarray:
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


def _safe_id(file_value: Any, index: int, used: set[str]) -> str:
    stem = Path(str(file_value)).stem if file_value else ""
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", stem).strip("._-")[:100] or f"{index:05d}"
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base}-{n}"
    used.add(candidate)
    return candidate


def _label(value: Any, task_type: str, where: str) -> str | float:
    if task_type == "regression":
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ConversionError(f"{where}: label {str(value)[:60]!r} is not a number (regression task)") from exc
        if not math.isfinite(number):
            raise ConversionError(f"{where}: label {value!r} is not a finite number (regression task)")
        return number
    try:
        return str(value).strip()
    except ValueError as exc:  # e.g. an integer too long to print
        raise ConversionError(f"{where}: label cannot be read as text ({exc})") from exc


def _rows(splits: dict[str, Any]) -> Iterator[tuple[str, int, dict[str, Any]]]:
    import datasets

    for hf_split, ds in splits.items():
        ours = HF_SPLIT_TO_OURS.get(hf_split, "test")
        for col in _audio_columns(ds.column_names, ds.features):
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


def import_hf(
    source: str,
    *,
    name: str,
    dimension: str,
    out_root: Path,
    license_id: str,
    revision: str | None = None,
    task_type: str = "classification",
    metric: str | None = None,
    description: str | None = None,
    languages: list[str] | None = None,
    extra_instructions: list[str] | None = None,
    marker: dict[str, str] | None = None,
) -> Path:
    """Convert a Dynamic-SUPERB instance into ``out_root/name`` and check that it loads.

    ``marker``, when given, is written as ``MARKER`` inside the folder before it is moved into
    place, so a folder that has one is complete.

    Raises:
        ConversionError: the source lacks a column, a row cannot be converted, or the
            result would break the task contract.
    """
    splits = load_source(source, revision)
    first = next(iter(splits.values()))
    audio_cols = _audio_columns(first.column_names, first.features)
    missing = [c for c in ("instruction", "label") if c not in first.column_names]
    if missing or not audio_cols:
        raise ConversionError(f"{source}: missing column(s) {missing or ['audio']}; found {first.column_names}")
    folder = out_root / name
    if folder.exists():
        raise ConversionError(f"{folder} already exists; remove it or choose another --name")
    with TaskWriter(folder) as writer:
        examples = _convert_rows(splits, source, audio_cols, task_type, writer)
        card = _card(
            source,
            revision,
            name,
            dimension,
            task_type,
            metric,
            license_id,
            description,
            languages,
            examples,
            extra_instructions or [],
            len(audio_cols),
        )
        if marker is not None:
            (writer.staging / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        writer.finish(card, examples, _readme(card, examples, source, revision))
    load_task(folder)  # raises TaskLoadError with every finding if the result breaks the contract
    return folder


def _convert_rows(
    splits: dict[str, Any], source: str, audio_cols: list[str], task_type: str, writer: TaskWriter
) -> list[Example]:
    """Write every row's clips and return its examples (ids made safe and unique)."""
    examples: list[Example] = []
    used: set[str] = set()
    for split, i, row in _rows(splits):
        where = f"{source} split {split} row {i}"
        ex_id = _safe_id(row.get("file") or row.get("file1"), len(used), used)
        paths = []
        for k, col in enumerate(audio_cols):
            rel = f"audio/{ex_id}.flac" if k == 0 else f"audio/{ex_id}_{k + 1}.flac"
            paths.append(writer.clip(rel, _decode(row[col], f"{where} column {col}")))
        examples.append(
            Example(
                id=ex_id,
                split=split,  # type: ignore[arg-type]
                audio=paths[0] if len(paths) == 1 else paths,
                label=_label(row["label"], task_type, where),
                instruction=str(row["instruction"]).strip() or None,
            )
        )
    return examples


def _card(
    source: str,
    revision: str | None,
    name: str,
    dimension: str,
    task_type: str,
    metric: str | None,
    license_id: str,
    description: str | None,
    languages: list[str] | None,
    examples: list[Example],
    extra: list[str],
    audio_inputs: int,
) -> TaskCard:
    instructions = list(dict.fromkeys([e.instruction for e in examples if e.instruction] + extra))[:20]
    if len(instructions) < MIN_INSTRUCTIONS:
        raise ConversionError(
            f"{source} has {len(instructions)} distinct instruction(s); the contract needs "
            f'{MIN_INSTRUCTIONS}. Add more with --instruction "..." (repeatable).'
        )
    hub = not Path(source).exists()
    rev = revision or ("unpinned (pass --revision SHA)" if hub else "local copy")
    data = {
        "name": name,
        "version": "1.0.0",
        "description": description or f"Converted from the Dynamic-SUPERB instance {source}.",
        "dimension": dimension,
        "task_type": task_type,
        "metric": metric or METRICS_BY_TASK_TYPE.get(task_type, ("accuracy",))[0],
        "instructions": instructions,
        "audio_inputs": audio_inputs,
        "license": license_id,
        "source": {
            "dataset": source if hub else Path(source).name,
            "url": f"https://huggingface.co/datasets/{source}" if hub else "",
            "citation": "",
            "notes": f"Imported with `bench import-hf` from {source} at revision {rev}; audio "
            f"converted to {SAMPLE_RATE} Hz mono FLAC; per-example instructions kept.",
        },
        "languages": languages or [],
        "authors": ["Dynamic-SUPERB contributors"],
    }
    if task_type == "classification":
        data["labels"] = sorted({str(e.label) for e in examples})
    local_use = license_id == LOCAL_USE_LICENSE
    try:
        # A local-use copy is checked like any card, then marked: the contract (T141) keeps it from
        # being redistributed or run until its real licence is written into task.json.
        card = TaskCard.model_validate(data | {"license": "CC0-1.0"} if local_use else data)
    except ValueError as exc:
        raise ConversionError(f"the converted card would not validate: {exc}") from exc
    return card.model_copy(update={"license": license_id}) if local_use else card


def _readme(card: TaskCard, examples: list[Example], source: str, revision: str | None) -> str:
    first = examples[0]
    test_labels = Counter(str(e.label) for e in examples if e.split == "test")
    chance = ""
    if card.task_type == "classification" and test_labels:
        label, count = test_labels.most_common(1)[0]
        chance = f"Majority class ({label!r}) accuracy on test: {count / sum(test_labels.values()):.3f}."
    return f"""# {card.name}

{card.description}

## Objective

See the original Dynamic-SUPERB instance `{source}` for the task's motivation.

## Data provenance

{card.source.notes}
Revision: {revision or "not pinned"}.

## Licence

{_licence_text(card.license)}

## Example

- instruction: "{first.instruction or card.instructions[0]}"
- audio: `{first.audio_paths[0]}`
- label: `{first.label}`

## Baseline

{chance or "Run `bench run --model majority` for the chance level."}
"""


def spdx_license(value: Any) -> str | None:
    """The SPDX id of a dataset card's ``license`` value (hub ids are lower case), or None if unknown."""
    values = value if isinstance(value, list) else [value]
    found = [_SPDX_BY_LOWER.get(str(v).strip().lower()) for v in values if v]
    return found[0] if len(found) == 1 else None  # several licences: a person has to choose


def card_license(folder: Path) -> str | None:
    """The SPDX licence in the ``README.md`` front matter of a local dataset copy, or None."""
    from huggingface_hub.repocard import metadata_load

    readme = folder / "README.md"
    if not readme.is_file() or readme.stat().st_size > 1_000_000:
        return None
    try:
        meta = metadata_load(readme) or {}
    except Exception:  # a broken card is a card without a licence
        return None
    return spdx_license(meta.get("license"))


def hub_info(hub_path: str, revision: str | None) -> tuple[int | None, str | None, str | None]:
    """(download bytes, SPDX licence, resolved commit) of a hub dataset; Nones where the hub cannot say."""
    try:
        from huggingface_hub import HfApi

        info = HfApi().dataset_info(hub_path, revision=revision or None, files_metadata=True, timeout=20)
    except Exception:  # offline, unknown repo, rate limit: the hub cannot say
        return None, None, None
    sizes = [s.size for s in info.siblings or [] if s.size is not None]
    card = info.card_data.to_dict() if info.card_data is not None else {}
    return (sum(sizes) if sizes else None), spdx_license(card.get("license")), info.sha


def _licence_text(license_id: str) -> str:
    if license_id == LOCAL_USE_LICENSE:
        return (
            f"{license_id}: neither the catalog nor the dataset card names a licence. This copy is for "
            "local use only and must not be redistributed; write the data's SPDX licence into task.json "
            "once it is known."
        )
    return f"{license_id}, as declared for the source data."


def export_hf(task_path: Path, out: Path) -> list[Path]:
    """Write a task as Dynamic-SUPERB-style parquet files, one per split, under ``out/data``."""
    import datasets

    task = load_task(task_path)
    n_audio = task.card.audio_inputs
    audio_cols = ["audio"] + [f"audio{k}" for k in range(2, n_audio + 1)]
    # Built as plain {bytes, path} structs, then cast: encoding through the Audio feature
    # would need torchcodec, casting the storage does not.
    struct = {"bytes": datasets.Value("binary"), "path": datasets.Value("string")}
    features = datasets.Features(
        {
            "file": datasets.Value("string"),
            **{c: struct for c in audio_cols},
            "instruction": datasets.Value("string"),
            "label": datasets.Value("string"),
        }
    )
    (out / "data").mkdir(parents=True, exist_ok=True)
    written = []
    for split in ("train", "test"):
        rows = task.split(split)
        if not rows:
            continue
        columns: dict[str, list[Any]] = {"file": [], "instruction": [], "label": []}
        columns.update({c: [] for c in audio_cols})
        for ex in rows:
            columns["file"].append(ex.id)
            columns["instruction"].append(task.instruction_for(ex))
            columns["label"].append(str(ex.label))
            for col, path in zip(audio_cols, task.audio_files(ex), strict=True):
                columns[col].append({"bytes": path.read_bytes(), "path": path.name})
        target = out / "data" / f"{split}-00000-of-00001.parquet"
        ds = datasets.Dataset.from_dict(columns, features=features)
        for col in audio_cols:
            ds = ds.cast_column(col, datasets.Audio(sampling_rate=SAMPLE_RATE, decode=False))
        ds.to_parquet(str(target))
        written.append(target)
    return written


def imported_from(task_root: Path) -> dict[str, str] | None:
    """The marker a catalog import wrote in a task folder (instance, hub path, category), else None."""
    try:
        with (task_root / MARKER).open("rb") as f:
            found = safejson.loads(safejson.read_capped(f, safejson.MAX_JSON_BYTES))
    except (OSError, ValueError):
        return None
    if not isinstance(found, dict) or not all(isinstance(v, str) for v in found.values()):
        return None
    return found
