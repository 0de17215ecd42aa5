"""Task cells computed many at once, and the incremental cell cache of ``bench leaderboard build``.

All cells of one task that ran the same examples share one bootstrap index matrix,
so their replicates come from one call of the metric's ``replicates_many`` (a
matrix product for the linear metrics) instead of one call per model.

The cache keeps, per submission, the numbers of each cell together with the
SHA-256 of the run file they came from, the task's content hash, the number of
resamples, the harness version and a hash of the scoring code. A cell is reused only when all of those
match, so an unchanged run file is never re-read or re-scored; anything else is
recomputed. It lives next to the tables (``<tables>/.cache/``), never in the
checkout's sources, and deleting it only costs one full rebuild.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.scoring.aggregate import bootstrap_indices, normalised_scores
from benchmark.scoring.metrics import METRICS, scored_set
from benchmark.submission.records import Record
from benchmark.version import __version__

CACHE_FORMAT = 2


@dataclass
class CellStats:
    """The numbers of one model on one task (what the cache stores)."""

    value: float
    ci: tuple[float, float]
    n: int
    na_rate: float
    tiers: dict[str, int]
    chance: float
    normalised: float
    normalised_reps: np.ndarray
    seconds: float


def task_seed(task_key: str) -> int:
    """The bootstrap seed of a task: the same resamples for every model."""
    return int.from_bytes(hashlib.sha256(task_key.encode()).digest()[:4], "big")


def percentile_cis(reps: np.ndarray, level: float = 0.95) -> list[tuple[float, float]]:
    """Percentile interval of each row of ``(cells, B)`` replicates, ignoring non-finite replicates."""
    q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
    finite = np.isfinite(reps)
    out = [(math.nan, math.nan)] * len(reps)
    full = finite.all(axis=1) & (reps.shape[1] > 0)
    if full.any():
        lo, hi = np.percentile(reps[full], q, axis=1)
        for i, a, b in zip(np.flatnonzero(full), lo, hi, strict=True):
            out[i] = (float(a), float(b))
    for i in np.flatnonzero(~full):
        row = reps[i][finite[i]]
        if row.size:
            a, b = np.percentile(row, q)
            out[i] = (float(a), float(b))
    return out


def compute_cells(
    task: Any, runs: list[list[Record]], chance: Any, resamples: int, positions: dict[str, int]
) -> list[CellStats]:
    """Cells of one task for several models' current test records (grouped by the examples they ran).

    ``chance`` is the task's :class:`benchmark.report.tables.Chance`; ``positions``
    maps example ids to their row in the task's test split.
    """
    out: list[CellStats | None] = [None] * len(runs)
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, records in enumerate(runs):
        groups.setdefault(tuple(r.id for r in records), []).append(i)
    for ids, members in groups.items():
        group = _group_cells(task, [runs[i] for i in members], chance, resamples, ids, positions)
        for i, stats in zip(members, group, strict=True):
            out[i] = stats
    return [c for c in out if c is not None]


def _group_cells(
    task: Any, runs: list[list[Record]], chance: Any, resamples: int, ids: tuple[str, ...], positions: dict[str, int]
) -> list[CellStats]:
    card = task.card
    spec = METRICS[card.metric]
    sets = [scored_set(card.metric, records, card.labels or ()) for records in runs]
    n = len(ids)
    idx = bootstrap_indices(n, min(resamples, spec.resamples), task_seed(task.key))
    reps = spec.replicates_many(sets, idx)
    values = spec.replicates_many(sets, np.arange(n)[None, :])[:, 0]
    # Chance is measured on the same examples as the model (a --limit run scores a prefix).
    rows = np.array([positions[i] for i in ids])
    chance_value = chance.value(rows)
    chance_reps = chance.replicates(rows[idx])
    normalised_reps = normalised_scores(reps, chance_reps[None, :], spec)
    normalised = normalised_scores(values, np.full(len(values), chance_value), spec)
    cis = percentile_cis(reps)
    cells = []
    for k, records in enumerate(runs):
        tiers: dict[str, int] = {}
        for r in records:
            tiers[r.tier] = tiers.get(r.tier, 0) + 1
        cells.append(
            CellStats(
                value=float(values[k]),
                ci=cis[k],
                n=n,
                na_rate=tiers.get("na", 0) / n,
                tiers=tiers,
                chance=float(chance_value),
                normalised=float(normalised[k]),
                normalised_reps=normalised_reps[k],
                seconds=sum(r.seconds for r in records),
            )
        )
    return cells


# ---------------------------------------------------------------- the cache


def file_digest(path: Path) -> str:
    """SHA-256 of a run file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@functools.cache
def code_stamp() -> str:
    """SHA-256 of the code a cell's numbers come from (scoring, chance, bootstrap): editing it empties the cache."""
    here = Path(__file__).resolve().parent
    files = sorted((here.parent / "scoring").rglob("*.py")) + [here / "cells.py", here / "tables.py"]
    h = hashlib.sha256()
    for path in files:
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def cell_key(run_hash: str, task_hash: str, resamples: int) -> str:
    """Everything a cell's numbers depend on: run file, task files, resamples, harness version and scoring code."""
    return f"{CACHE_FORMAT}/{__version__}/{code_stamp()}/{resamples}/{task_hash}/{run_hash}"


class CellCache:
    """Per-submission cells keyed by run-file hash, each model's dimension rows, and each task's chance level.

    Files, per model: ``<model>.json`` (the cells' numbers and keys, its dimension rows) and
    ``<model>.reps/<sha256>.npy`` (the cells' bootstrap replicates, content-addressed). The replicates are
    memory-mapped, so a model whose cells and dimension rows all come from the cache costs a small JSON read:
    a rebuild reads only what changed. ``chance.json`` keeps each task's chance level by content hash.
    A ``None`` folder disables it.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.loaded: dict[str, dict[str, tuple[str, CellStats]]] = {}
        self.fresh: dict[str, dict[str, tuple[str, CellStats]]] = {}
        self.stat_hashes: dict[str, dict[str, list[Any]]] = {}
        self.dirty: set[str] = set()
        self.dimensions_loaded: dict[str, tuple[str, list[dict[str, Any]]]] = {}
        self.dimensions_fresh: dict[str, tuple[str, list[dict[str, Any]]]] = {}
        self.chances: dict[str, Any] | None = None
        self.chances_dirty = False

    def _path(self, model: str) -> Path:
        return (self.folder or Path(".")) / f"{model}.json"

    def _load(self, model: str) -> dict[str, tuple[str, CellStats]]:
        if model in self.loaded or self.folder is None:
            return self.loaded.setdefault(model, {})
        entries: dict[str, tuple[str, CellStats]] = {}
        try:
            meta = json.loads(self._path(model).read_text(encoding="utf-8"))
            if meta.get("format") == CACHE_FORMAT:
                # A plain-ndarray view of the map: still read lazily, without np.memmap's cost per row slice.
                reps = np.load(self._path(model).with_suffix(".reps") / meta["reps"], mmap_mode="r").view(np.ndarray)
                if reps.ndim != 2 or len(reps) != len(meta["cells"]):
                    raise ValueError("replicates do not match the cells")
                self.stat_hashes[model] = meta["stats"]
                for (task_key, key, stats), row in zip(meta["cells"], reps, strict=True):
                    entries[task_key] = (key, _stats_from_json(stats, row))
                if meta.get("dimensions"):
                    self.dimensions_loaded[model] = (meta["dimensions"]["key"], meta["dimensions"]["rows"])
        except (OSError, ValueError, KeyError, TypeError):
            entries = {}  # missing or unreadable: recompute (the cache is only ever a shortcut)
            self.dimensions_loaded.pop(model, None)
        self.loaded[model] = entries
        return entries

    def run_hash(self, model: str, path: str) -> str:
        """The run file's hash; re-hashed only when its size, mtime or inode changed since the cache was written."""
        self._load(model)
        st = os.stat(path)
        name = os.path.basename(path)
        signature = [st.st_size, st.st_mtime_ns, st.st_ino]
        known = self.stat_hashes.setdefault(model, {}).get(name)
        if known is not None and known[:3] == signature:
            return str(known[3])
        digest = file_digest(Path(path))
        self.stat_hashes[model][name] = [*signature, digest]
        self.dirty.add(model)
        return digest

    def get(self, model: str, task_key: str, key: str) -> CellStats | None:
        """A cached cell, when its key matches."""
        entry = self._load(model).get(task_key)
        if entry is not None and entry[0] == key:
            self.fresh.setdefault(model, {})[task_key] = entry
            return entry[1]
        return None

    def put(self, model: str, task_key: str, key: str, stats: CellStats) -> None:
        """Remember a computed cell."""
        self.fresh.setdefault(model, {})[task_key] = (key, stats)
        self.dirty.add(model)

    def dimensions_key(self, model: str, cells: Sequence[tuple[str, str, bool]]) -> str | None:
        """What a model's dimension rows depend on: its cells' keys, dimensions and seen flags; None uncached."""
        used = self.fresh.get(model, {})
        if self.folder is None or any(task_key not in used for task_key, _, _ in cells):
            return None
        parts = sorted((task_key, used[task_key][0], dimension, seen) for task_key, dimension, seen in cells)
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()

    def dimensions(self, model: str, key: str | None) -> list[dict[str, Any]] | None:
        """A model's cached dimension rows, when ``key`` matches."""
        found = self.dimensions_loaded.get(model)
        if key is None or found is None or found[0] != key:
            return None
        self.dimensions_fresh[model] = found
        return found[1]

    def put_dimensions(self, model: str, key: str | None, rows: list[dict[str, Any]]) -> None:
        """Remember a model's computed dimension rows."""
        if key is not None:
            self.dimensions_fresh[model] = (key, rows)

    def _chances(self) -> dict[str, Any]:
        if self.chances is None:
            try:
                loaded = json.loads(((self.folder or Path(".")) / "chance.json").read_text(encoding="utf-8"))
                self.chances = loaded if isinstance(loaded, dict) and loaded.get("format") == CACHE_FORMAT else {}
            except (OSError, ValueError):
                self.chances = {}
        return self.chances

    def chance(self, task_key: str, key: str) -> Any:
        """A task's cached chance level (as ``put_chance`` stored it), when ``key`` matches; else None."""
        if self.folder is None:
            return None
        entry = self._chances().get(task_key)
        return entry["value"] if isinstance(entry, dict) and entry.get("key") == key else None

    def put_chance(self, task_key: str, key: str, value: Any) -> None:
        """Remember a task's chance level (any JSON value)."""
        if self.folder is not None:
            self._chances()[task_key] = {"key": key, "value": value}
            self.chances_dirty = True

    def save(self) -> None:
        """Write each submission's cells that changed (atomically); cells not used in this build are dropped."""
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        for model, cells in self.fresh.items():
            dims = self.dimensions_fresh.get(model)
            unchanged = model not in self.dirty and cells.keys() == self.loaded.get(model, {}).keys()
            if unchanged and dims == self.dimensions_loaded.get(model):
                continue
            self._save_model(model, cells, dims)
        if self.chances_dirty and self.chances is not None:
            self.chances["format"] = CACHE_FORMAT
            _write_atomic(self.folder / "chance.json", json.dumps(self.chances))

    def _save_model(
        self, model: str, cells: dict[str, tuple[str, CellStats]], dims: tuple[str, list[dict[str, Any]]] | None
    ) -> None:
        keys = sorted(cells)
        reps = [cells[k][1].normalised_reps for k in keys]
        width = max((len(r) for r in reps), default=0)
        matrix = np.full((len(keys), width), np.nan)
        for i, r in enumerate(reps):
            matrix[i, : len(r)] = r
        # Content-addressed: the JSON that names it is replaced last, so a crash never pairs new numbers with old
        # replicates; files no JSON names any more are removed afterwards.
        folder = self._path(model).with_suffix(".reps")
        folder.mkdir(exist_ok=True)
        name = hashlib.sha256(matrix.tobytes() + str(matrix.shape).encode()).hexdigest()[:32] + ".npy"
        if not (folder / name).exists():
            tmp = folder / f".{name}.tmp"
            with tmp.open("wb") as f:
                np.save(f, matrix, allow_pickle=False)
            os.replace(tmp, folder / name)
        meta = {
            "format": CACHE_FORMAT,
            "stats": self.stat_hashes.get(model, {}),
            "cells": [[k, cells[k][0], _stats_to_json(cells[k][1])] for k in keys],
            "reps": name,
            "dimensions": {"key": dims[0], "rows": dims[1]} if dims is not None else None,
        }
        _write_atomic(self._path(model), json.dumps(meta))
        for old in folder.glob("*.npy"):
            if old.name != name:
                old.unlink(missing_ok=True)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _stats_to_json(s: CellStats) -> dict[str, Any]:
    return {
        "value": s.value,
        "ci": list(s.ci),
        "n": s.n,
        "na_rate": s.na_rate,
        "tiers": s.tiers,
        "chance": s.chance,
        "normalised": s.normalised,
        "seconds": s.seconds,
        "width": len(s.normalised_reps),
    }


def _stats_from_json(d: dict[str, Any], row: np.ndarray) -> CellStats:
    return CellStats(
        value=float(d["value"]),
        ci=(float(d["ci"][0]), float(d["ci"][1])),
        n=int(d["n"]),
        na_rate=float(d["na_rate"]),
        tiers={str(k): int(v) for k, v in d["tiers"].items()},
        chance=float(d["chance"]),
        normalised=float(d["normalised"]),
        normalised_reps=row[: int(d["width"])],  # a view of the memory-mapped matrix, read only if used
        seconds=float(d["seconds"]),
    )
