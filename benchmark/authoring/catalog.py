"""The Dynamic-SUPERB Phase 2 catalog: its rows, the rules mapping them to our contract, the bulk import.

The rows come from the public ``DynamicSUPERB_ConfirmedTasks.csv`` (see ``data/README.md`` and
``data/dynamic_superb_phase2.provenance.json`` for the repository, path and commit). Each row keeps the
source's own columns (instance name, hub path, pinned revision, category, note, speech/music/audio flags)
and adds what this harness needs, derived by the rules below so that a reader can check every row:

- ``task_type``: the source category. Classification -> ``classification``; Regression ->
  ``regression``; Text generation -> ``generation``; Speech or Audio generation -> ``audio`` (the
  answer is audio; ``hf_audio`` reads its columns).
- ``metric``: classification -> ``accuracy``; regression -> ``pearson`` for human ratings (the name says
  MOS or Scoring), else ``mae``; generation -> ``bleu`` for translation, ``cer`` for transcription of
  Mandarin (Zh, code-switched Mandarin-English), ``wer`` for other transcription (speech, lyric and
  phoneme recognition), else ``judge`` (open-ended answers need an LLM-judged metric); audio -> the first
  of ``hf_audio.default_metrics`` for the shape the family names (``AUDIO_SHAPES``: separation ``SI-SDRi``,
  enhancement ``PESQ-WB``, else ``F0-mean-diff[pyworld]``); the import adds the shape's other metrics.
- ``dimension``: the first rule in ``DIMENSION_RULES`` whose pattern matches the task family (the
  instance name up to its first ``_``), or, for music, a music dataset in the full name; the source's
  Music and Audio flags are honoured first; anything else is ``content``.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from benchmark.authoring.hf_audio import default_metrics
from benchmark.scoring.metrics import METRICS
from benchmark.task import DIMENSIONS, NAME_PATTERN

DATA = Path(__file__).parent / "data"
CATALOGS = {"dynamic-superb-phase2": "dynamic_superb_phase2"}
"""Catalog names accepted by ``bench import-hf --catalog`` -> file stem under ``data/``."""
JUDGE = "judge"
"""Metric name of rows whose answers are open-ended: an LLM judge grades them (``n/a`` without one)."""
KNOWN_METRICS = frozenset(METRICS) | {JUDGE}

Category = Literal["Classification", "Regression", "Text generation", "Speech generation", "Audio generation"]
CatalogTaskType = Literal["classification", "regression", "generation", "audio"]
TASK_TYPES: tuple[str, ...] = CatalogTaskType.__args__  # type: ignore[attr-defined]
HUB_PATH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
# Hub commits are 40 hex digits; the source also holds 7-digit short ids and one 64-digit id, kept as given.
REVISION = re.compile(r"^([0-9a-f]{7,40}|[0-9a-f]{64})?$")

TASK_TYPE_BY_CATEGORY: dict[str, CatalogTaskType] = {
    "Classification": "classification",
    "Regression": "regression",
    "Text generation": "generation",
    "Speech generation": "audio",
    "Audio generation": "audio",
}
MUSIC_FAMILY = re.compile(
    r"Music|Song|Sing|Instrument|Chord|Genre|Beat|Lyric|Opera|Percussion|Pitch|VocalTechnique|Key|MARBLE"
)
MUSIC_DATASET = re.compile(r"Nsynth|GTZAN|IDMT-SMT|VocalSet|MAESTRO|OpenMIC|_CSD|SingSet")
TRANSCRIPTION = re.compile(r"Speech ?Recognition|ASR|Asr|SuperbPR|LyricRecognition")
DIMENSION_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("degradation", re.compile(r"Noise|Reverberation|Enhancement|Spoof|Fake|AudioEditing|Superb(SE|SS)$")),
    ("content", TRANSCRIPTION),
    ("speaker", re.compile(r"Speaker|Gender|Age|Accent|HowFarAreYou|Superb(SV|SD|SID)$")),
    (
        "audio",
        re.compile(
            r"Animal|Bird|Cat[A-Z]|Beehive|Environment|Traffic|Spatial|SoundPosition|SoundEvent|AudioSegment"
            r"|AudioDuration|Multichannel"
        ),
    ),
    (
        "paralinguistics",
        re.compile(
            r"Emotion|Sarcasm|Stress|Stutter|Prosod|L2English|Pronunciation|Disorder|Cough|Scream|VocalSound"
            r"|NonSpeech|VocalImitation|SuperbER"
        ),
    ),
    (
        "semantics",
        re.compile(
            r"Intent|DialogueAct|Sentiment|Semantic|Grammar|NamedEntity|Translation|Conversation|PoS"
            r"|Arithmetic|Fraud|Superb(IC|SF|ST)$"
        ),
    ),
)
"""Ordered (dimension, pattern on the task family); the first match wins, after the music rule."""
AUDIO_SHAPES: tuple[tuple[re.Pattern[str], tuple[int, int, bool]], ...] = (
    (re.compile(r"Separation|SuperbSS$"), (2, 1, False)),  # (references, inputs, distractors)
    (re.compile(r"Enhancement|Denois|SuperbSE$"), (1, 1, False)),
    (re.compile(r"Conversion"), (1, 1, True)),
)  # the first match of an audio row's family wins; else synthesis (1, 0, False)


class CatalogError(Exception):
    """The catalog or a selection from it is unusable; the message names the file or option to fix."""


class CatalogRow(BaseModel):
    """One Dynamic-SUPERB instance: the source's columns, then how this harness imports and scores it."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    name: str
    """Our task (folder) name: the instance name in CamelCase, ``^[A-Z][A-Za-z0-9]+$``."""
    instance: str
    """The instance name exactly as the source writes it."""
    hub_path: str
    """The Hugging Face dataset id, ``owner/name``."""
    revision: str
    """The pinned hub commit; empty where the source pins none (the hub's newest is then imported)."""
    ds_category: Category
    """The source's category."""
    speech: bool
    """The source's Speech flag."""
    music: bool
    """The source's Music flag."""
    audio: bool
    """The source's Audio flag."""
    note: str = ""
    """The source's note on the instance, verbatim."""
    task_type: CatalogTaskType
    """Our task type; the answer of an ``audio`` row is audio."""
    dimension: Literal["content", "speaker", "semantics", "paralinguistics", "degradation", "audio", "music"]
    """Our leaderboard dimension."""
    metric: str
    """A registered metric of the row's task type (an audio metric for ``audio`` rows), or ``judge``."""
    license: str = ""
    """SPDX id of the data where known; empty means: read it from the dataset card at import."""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.match(NAME_PATTERN, value):
            raise ValueError(f"{value!r} is not a task name ({NAME_PATTERN})")
        return value

    @field_validator("hub_path")
    @classmethod
    def _hub_path(cls, value: str) -> str:
        if not HUB_PATH.match(value):
            raise ValueError(f"{value!r} is not a hub dataset id (owner/name)")
        return value

    @field_validator("revision")
    @classmethod
    def _revision(cls, value: str) -> str:
        if not REVISION.match(value):
            raise ValueError(f"{value!r} is not a commit id (7 to 40 or 64 lowercase hex digits, or empty)")
        return value

    @model_validator(mode="after")
    def _metric(self) -> CatalogRow:
        if self.metric not in KNOWN_METRICS:
            raise ValueError(f"metric {self.metric!r} is not one of {sorted(KNOWN_METRICS)}")
        elif METRICS[self.metric].task_type != self.task_type:
            raise ValueError(f"metric {self.metric!r} does not score {self.task_type} tasks")
        return self

    @property
    def skip_reason(self) -> str | None:
        """Why this row cannot be imported yet, or None (every task type is importable today)."""
        return None


def task_name(instance: str) -> str:
    """CamelCase task name of an instance name: words joined, each starting upper case."""
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", instance) if p]
    return "".join(p[0].upper() + p[1:] for p in parts)


def family(instance: str) -> str:
    """The task family: the instance name up to its first ``_``."""
    return instance.split("_", 1)[0]


def derive_task_type(category: str) -> CatalogTaskType:
    """Our task type for a source category."""
    return TASK_TYPE_BY_CATEGORY[category]


def derive_dimension(instance: str, *, music: bool, audio: bool) -> str:
    """Our dimension for an instance (see the module docstring for the rule)."""
    fam = family(instance)
    if music or MUSIC_FAMILY.search(fam) or MUSIC_DATASET.search(instance):
        return "music"
    if audio:
        return "audio"
    return next((dim for dim, pattern in DIMENSION_RULES if pattern.search(fam)), "content")


def derive_metric(instance: str, task_type: str) -> str:
    """Our metric for an instance of ``task_type`` (see the module docstring for the rule)."""
    fam = family(instance)
    if task_type == "classification":
        return "accuracy"
    if task_type == "regression":
        return "pearson" if re.search(r"MOS|[Ss]coring", instance) else "mae"
    if task_type == "audio":
        shape = next((s for pattern, s in AUDIO_SHAPES if pattern.search(fam)), (1, 0, False))
        return default_metrics(*shape)[0]
    if task_type != "generation":
        return ""
    if re.search(r"Translation|SuperbST$", fam):
        return "bleu"
    if TRANSCRIPTION.search(fam):
        return "cer" if re.search(r"Zh|Mandarin|^Code-switch", fam) else "wer"
    return JUDGE


def derive_row(source: dict[str, str], license_id: str = "") -> CatalogRow:
    """Build a row from one line of the source CSV (its column names as keys)."""
    instance = source["InstanceName"].strip()
    music, audio = (source[k].strip().upper() == "TRUE" for k in ("Music", "Audio"))
    task_type = derive_task_type(source["Category"].strip())
    return CatalogRow(
        name=task_name(instance),
        instance=instance,
        hub_path=source["HuggingfacePath"].strip(),
        revision=source["Version"].strip(),
        ds_category=source["Category"].strip(),  # type: ignore[arg-type]
        speech=source["Speech"].strip().upper() == "TRUE",
        music=music,
        audio=audio,
        note=source.get("Note", "").strip(),
        task_type=task_type,
        dimension=derive_dimension(instance, music=music, audio=audio),  # type: ignore[arg-type]
        metric=derive_metric(instance, task_type),
        license=license_id,
    )


def catalog_path(name: str) -> Path:
    """The JSONL file of a catalog name.

    Raises:
        CatalogError: the name is not a shipped catalog.
    """
    if name not in CATALOGS:
        raise CatalogError(f"--catalog {name!r} is unknown; choose one of: {', '.join(CATALOGS)}")
    return DATA / f"{CATALOGS[name]}.jsonl"


@cache
def load_catalog(name: str = "dynamic-superb-phase2") -> tuple[CatalogRow, ...]:
    """Every row of a shipped catalog, checked (unique names and hub paths).

    Raises:
        CatalogError: the name is unknown, or a line of the file breaks the row model.
    """
    return read_catalog(catalog_path(name))


def read_catalog(path: Path) -> tuple[CatalogRow, ...]:
    """Every row of a catalog JSONL file, checked.

    Raises:
        CatalogError: a line is not JSON or breaks the row model, or two rows share a name or hub path.
    """
    rows: list[CatalogRow] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(CatalogRow.model_validate(json.loads(line)))
        except (ValueError, ValidationError) as exc:
            first = str(exc).splitlines()
            raise CatalogError(f"{path}:{lineno}: {' '.join(first[:3])[:300]}") from exc
    for key in ("name", "hub_path"):
        seen: set[str] = set()
        for row in rows:
            value = getattr(row, key)
            if value in seen:
                raise CatalogError(f"{path}: {key} {value!r} appears twice; each instance is listed once")
            seen.add(value)
    return tuple(rows)


def provenance(name: str = "dynamic-superb-phase2") -> dict[str, object]:
    """Where a catalog's rows come from: repository, path, commit, row count."""
    path = catalog_path(name).with_suffix(".provenance.json")
    return dict(json.loads(path.read_text(encoding="utf-8")))


def select(
    rows: Iterable[CatalogRow],
    *,
    only: list[str] | None = None,
    dimension: str | None = None,
    task_type: str | None = None,
) -> list[CatalogRow]:
    """The rows matching every filter given; ``only`` holds names or globs (task or instance name).

    Raises:
        CatalogError: a filter value is unknown, or an ``only`` pattern matches no row.
    """
    rows = list(rows)
    if dimension is not None and dimension not in DIMENSIONS:
        raise CatalogError(f"--dimension {dimension!r} is unknown; choose one of: {', '.join(DIMENSIONS)}")
    if task_type is not None and task_type not in TASK_TYPES:
        raise CatalogError(f"--task-type {task_type!r} is unknown; choose one of: {', '.join(TASK_TYPES)}")
    for pattern in only or []:
        if not any(_matches(row, pattern) for row in rows):
            raise CatalogError(f"--only {pattern!r} matches no instance; see `bench import-hf --catalog NAME --list`")
    return [
        row
        for row in rows
        if (not only or any(_matches(row, p) for p in only))
        and (dimension is None or row.dimension == dimension)
        and (task_type is None or row.task_type == task_type)
    ]


def _matches(row: CatalogRow, pattern: str) -> bool:
    return any(fnmatch.fnmatchcase(value, pattern) for value in (row.name, row.instance, row.hub_path))


Status = Literal["imported", "local-use", "present", "skipped", "failed"]
LOCAL_USE_DETAIL = (
    "no licence in the catalog or the dataset card: recorded as local use only, never to be redistributed; "
    "write the data's SPDX licence into task.json once known (until then `bench validate` warns T144, an error "
    "with --strict)"
)
HubInfo = tuple[int | None, str | None, str | None]
"""(download bytes, SPDX licence, resolved commit) of a hub instance, as ``hf.hub_info`` returns it."""


@dataclass(frozen=True)
class Outcome:
    """What happened to one instance in a catalog import."""

    row: CatalogRow
    status: Status
    detail: str = ""


def imported_revision(folder: Path) -> tuple[str, str] | None:
    """(hub path, catalog revision) recorded in a folder a catalog import wrote, or None."""
    from benchmark.authoring.hf import MARKER

    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        return str(marker["hub_path"]), str(marker["revision"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def pending(rows: Iterable[CatalogRow], out_root: Path) -> list[CatalogRow]:
    """The importable rows not yet imported under ``out_root`` at their catalog revision."""
    return [
        r for r in rows if r.skip_reason is None and imported_revision(out_root / r.name) != (r.hub_path, r.revision)
    ]


def hub_infos(rows: Iterable[CatalogRow]) -> dict[str, HubInfo]:
    """Ask the hub for each row's download size, licence and commit (Nones where it cannot say)."""
    from benchmark.authoring.hf import hub_info

    return {r.name: hub_info(r.hub_path, r.revision or None) for r in rows}


def download_estimate(infos: dict[str, HubInfo]) -> str:
    """One line: the total download the hub reports, and how many instances it could not size."""
    sizes = [size for size, _, _ in infos.values() if size is not None]
    unknown = len(infos) - len(sizes)
    if not sizes:
        return f"download size: unknown ({len(infos)} instance(s); the hub cannot be reached or says nothing)"
    extra = f", plus {unknown} instance(s) of unknown size" if unknown else ""
    return f"download size: about {sum(sizes) / 1e9:.2f} GB for {len(sizes)} instance(s){extra}"


def import_catalog(
    rows: Iterable[CatalogRow],
    out_root: Path,
    *,
    mirror: Path | None = None,
    infos: dict[str, HubInfo] | None = None,
    catalog: str = "dynamic-superb-phase2",
    progress: bool = True,
) -> list[Outcome]:
    """Import every row into ``out_root`` (from ``mirror`` when given, else the hub); one outcome per row.

    Resumable: a folder already imported at the row's revision is kept. One failure never
    stops the rest; its reason is in its outcome.
    """
    from tqdm import tqdm

    rows = list(rows)
    outcomes = []
    for row in tqdm(rows, desc="instances", unit="instance", disable=not progress or not rows):
        outcomes.append(import_row(row, out_root, mirror=mirror, info=(infos or {}).get(row.name), catalog=catalog))
    return outcomes


def import_row(row: CatalogRow, out_root: Path, *, mirror: Path | None, info: HubInfo | None, catalog: str) -> Outcome:
    """Import one row, or say why not (skipped, already present, failed)."""
    from benchmark.authoring.hf import LOCAL_USE_LICENSE, ConversionError, import_hf
    from benchmark.task import TaskLoadError

    if row.skip_reason:
        return Outcome(row, "skipped", row.skip_reason)
    folder = out_root / row.name
    _remove_staging(out_root, row.name)
    done = imported_revision(folder)
    if done == (row.hub_path, row.revision):
        return Outcome(row, "present", f"already imported at revision {row.revision or 'unpinned'}")
    if folder.exists():
        held = f"holds {done[0]}@{done[1] or 'unpinned'}" if done else "was not written by a catalog import"
        return Outcome(row, "failed", f"{folder} {held}; remove it to import {row.hub_path}, or choose another --out")
    try:
        source, license_id, marker = _locate(row, mirror, info, catalog)
        import_hf(
            source,
            name=row.name,
            dimension=row.dimension,
            out_root=out_root,
            license_id=license_id,
            revision=marker["resolved_revision"] or row.revision or None,  # the hub's full id of the pin
            task_type=row.task_type,
            metric=row.metric,
            description=f"Dynamic-SUPERB Phase 2 instance {row.instance} ({row.ds_category}), from {row.hub_path}.",
            marker=marker,
        )
    except TaskLoadError as exc:
        # Until the contract has a local-use licence (see the report on issue 24), T141 is the one
        # finding a local-use copy may carry; anything else means the conversion is broken.
        if not ({f.code for f in exc.findings} == {"T141"} and license_id == LOCAL_USE_LICENSE):
            shutil.rmtree(folder, ignore_errors=True)
            return Outcome(row, "failed", " ".join(str(exc).split())[:500])
    except ConversionError as exc:
        hint = "" if mirror else f" With --catalog: copy it to DIR/{row.hub_path} and pass --mirror DIR."
        return Outcome(row, "failed", f"{exc}{hint}")
    except Exception as exc:  # one broken instance never stops the rest; its folder never counts as done
        shutil.rmtree(folder, ignore_errors=True)
        return Outcome(row, "failed", f"{type(exc).__name__}: {exc}"[:500])
    if license_id == LOCAL_USE_LICENSE:
        return Outcome(row, "local-use", LOCAL_USE_DETAIL)
    return Outcome(row, "imported", f"licence {license_id} ({marker['license_from']})")


def _locate(
    row: CatalogRow, mirror: Path | None, info: HubInfo | None, catalog: str
) -> tuple[str, str, dict[str, str]]:
    """(source for ``import_hf``, licence, marker) of a row, from the mirror or the hub."""
    from benchmark.authoring.hf import LOCAL_USE_LICENSE, ConversionError, card_license

    marker = {
        "catalog": catalog,
        "instance": row.instance,
        "hub_path": row.hub_path,
        "revision": row.revision,
        "ds_category": row.ds_category,  # the board's Dynamic-SUPERB view groups by it
    }
    if mirror is not None:
        folder = next((p for p in (mirror / row.hub_path, mirror / row.hub_path.split("/")[1]) if p.is_dir()), None)
        if folder is None:
            raise ConversionError(
                f"{row.hub_path} is not in the mirror: expected {mirror / row.hub_path} (make it with `hf download "
                f"--repo-type dataset {row.hub_path} --revision {row.revision or 'main'} --local-dir DIR`)"
            )
        _check_mirror_revision(folder, row)
        found, resolved, source = card_license(folder), "", str(folder)
    else:
        _, found, sha = info or (None, None, None)
        resolved, source = sha or "", row.hub_path
    license_id = row.license or found or LOCAL_USE_LICENSE
    origin = "catalog" if row.license else "dataset card" if found else "none: local use only"
    marker |= {"resolved_revision": resolved, "source": "mirror" if mirror else "hub", "license_from": origin}
    return source, license_id, marker


def _check_mirror_revision(folder: Path, row: CatalogRow) -> None:
    """Refuse a mirror made by ``hf download`` at another commit than the catalog pins.

    Raises:
        ConversionError: the download metadata names another commit.
    """
    from benchmark.authoring.hf import ConversionError

    meta = next((folder / ".cache" / "huggingface" / "download").rglob("*.metadata"), None)
    if meta is None or not row.revision:
        return
    commit = meta.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0].strip()
    if commit and not (commit.startswith(row.revision) or row.revision.startswith(commit)):
        raise ConversionError(
            f"{folder} was downloaded at revision {commit[:12]}, the catalog pins {row.revision[:12]}; "
            f"download it again with --revision {row.revision}"
        )


def _remove_staging(out_root: Path, name: str) -> None:
    """Remove staging folders a killed import left (``TaskWriter`` stages in ``.NAME.*`` siblings)."""
    for stale in out_root.glob(f".{name}.*"):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
