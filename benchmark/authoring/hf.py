"""Convert Dynamic-SUPERB instances (Hugging Face datasets) to task folders and back.

A Dynamic-SUPERB instance has the columns ``file``, ``audio``, ``instruction`` and
``label`` (and ``audio2``... for multi-audio tasks, or other columns typed ``Audio``). Audio is
read with ``Audio(decode=False)`` and decoded with soundfile, so no torchcodec is needed (``hf_source``).
An instance whose answer is audio (``task_type="audio"``: the ``label`` column holds audio) is
read and written by ``hf_audio``, which documents its columns. The licence and download size of a
hub instance come from its dataset card and file list (``hub_info``); a local copy's licence from
the ``README.md`` front matter next to it.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

from benchmark.authoring import hf_audio
from benchmark.authoring.hf_source import ConversionError, audio_columns, decode, load_source, rows, safe_id
from benchmark.task import METRICS_BY_TASK_TYPE, MIN_INSTRUCTIONS, Example, TaskCard, load_task, safejson
from benchmark.task.audio import SAMPLE_RATE
from benchmark.task.card import NON_REDISTRIBUTABLE_LICENSES, REDISTRIBUTABLE_LICENSES
from benchmark.task.writer import TaskWriter

MARKER = ".import.json"
"""File in a task folder written by a catalog import: the instance, hub path and revision it came from."""
LOCAL_USE_LICENSE = "LicenseRef-DynamicSUPERB-local-use-only"
"""Recorded when neither the catalog nor the dataset card names a licence: not for redistribution."""
_SPDX_BY_LOWER = {x.lower(): x for x in REDISTRIBUTABLE_LICENSES | NON_REDISTRIBUTABLE_LICENSES}
__all__ = ["ConversionError", "export_hf", "import_hf", "load_source"]


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
    roles = None
    if task_type == "audio":  # the answer is audio: see hf_audio for the columns
        roles = hf_audio.column_roles(first.column_names, first.features, source)
        audio_cols = list(roles.inputs)
    else:
        audio_cols = audio_columns(first.column_names, first.features)
        missing = [c for c in ("instruction", "label") if c not in first.column_names]
        if missing or not audio_cols:
            raise ConversionError(f"{source}: missing column(s) {missing or ['audio']}; found {first.column_names}")
    folder = out_root / name
    if folder.exists():
        raise ConversionError(f"{folder} already exists; remove it or choose another --name")
    with TaskWriter(folder) as writer:
        audio_fields = None
        if roles is not None:
            examples, longest = hf_audio.convert_rows(splits, source, roles, writer)
            audio_fields = hf_audio.card_fields(roles, metric, longest, languages)
        else:
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
            audio_fields,
        )
        if roles is not None:
            hf_audio.check_needs(card, examples, source)
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
    for split, i, row in rows(splits):
        where = f"{source} split {split} row {i}"
        ex_id = safe_id(row.get("file") or row.get("file1"), len(used), used)
        paths = []
        for k, col in enumerate(audio_cols):
            rel = f"audio/{ex_id}.flac" if k == 0 else f"audio/{ex_id}_{k + 1}.flac"
            paths.append(writer.clip(rel, decode(row[col], f"{where} column {col}")))
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
    audio_fields: dict[str, Any] | None = None,
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
    } | (audio_fields or {})  # an audio answer's metric and output block (hf_audio.card_fields)
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

{hf_audio.readme_lines(card, first) if card.task_type == "audio" else _example_lines(card, first, chance)}
"""


def _example_lines(card: TaskCard, first: Example, chance: str) -> str:
    return f"""- instruction: "{first.instruction or card.instructions[0]}"
- audio: `{first.audio_paths[0]}`
- label: `{first.label}`

## Baseline

{chance or "Run `bench run --model majority` for the chance level."}"""


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
    """Write a task as Dynamic-SUPERB-style parquet files, one per split, under ``out/data``.

    An audio-answer task's label is audio, with its further columns (``hf_audio.export_layout``).
    """
    import datasets

    task = load_task(task_path)
    audio_cols = ["audio" if k == 1 else f"audio{k}" for k in range(1, task.card.audio_inputs + 1)]
    answer = hf_audio.export_layout(task) if task.card.task_type == "audio" else {"label": "text"}
    sound = audio_cols + [c for c, kind in answer.items() if kind == "audio"]
    # Built as plain {bytes, path} structs, then cast: encoding through the Audio feature
    # would need torchcodec, casting the storage does not.
    struct = {"bytes": datasets.Value("binary"), "path": datasets.Value("string")}
    string = datasets.Value("string")
    features = datasets.Features(
        {
            "file": string,
            **{c: struct for c in audio_cols},
            "instruction": string,
            **{c: struct if kind == "audio" else string for c, kind in answer.items()},
        }
    )
    (out / "data").mkdir(parents=True, exist_ok=True)
    written = []
    for split in ("train", "test"):
        examples = task.split(split)
        if not examples:
            continue
        columns: dict[str, list[Any]] = {c: [] for c in features}
        for ex in examples:
            columns["file"].append(ex.id)
            columns["instruction"].append(task.instruction_for(ex))
            for col, path in zip(audio_cols, task.audio_files(ex), strict=True):
                columns[col].append({"bytes": path.read_bytes(), "path": path.name})
            audio_task = task.card.task_type == "audio"
            cells = hf_audio.export_cells(task, ex, answer) if audio_task else {"label": str(ex.label)}
            for col, value in cells.items():
                columns[col].append(value)
        target = out / "data" / f"{split}-00000-of-00001.parquet"
        ds = datasets.Dataset.from_dict(columns, features=features)
        for col in sound:
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
