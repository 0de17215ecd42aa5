"""Run headers: the provenance of every invocation that wrote records into a run file.

``runs/<Task>@<version>.header.json`` sits next to the records and holds one
header per ``bench run`` that appended to them: when, with which harness and
library versions, on which device, with which resolver configuration and which
command line. A result without the versions that made it cannot be reproduced.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from benchmark.task import safejson

# Versions recorded for every run; an adapter adds the libraries it runs on (``Adapter.libraries``).
CORE_PACKAGES = ("speech-benchmark", "numpy", "torch", "transformers")


class RunHeader(BaseModel):
    """One invocation of ``bench run`` on one task."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    started: str
    """UTC time the run started (ISO 8601)."""
    harness_version: str
    """``benchmark.__version__``."""
    git_commit: str | None = None
    """Commit of the harness checkout, with ``-dirty`` when it has local changes; None when not a checkout."""
    python: str
    """Python version."""
    packages: dict[str, str] = Field(default_factory=dict)
    """Installed versions of the core and adapter libraries (absent when not installed)."""
    adapter: str
    """Adapter spec."""
    adapter_args: dict[str, str] = Field(default_factory=dict)
    """Adapter arguments (never secrets: keys are read from environment variables)."""
    device: str | None = None
    """Device asked for (``--device``), or None for the adapter's default."""
    dtype: str | None = None
    """Dtype asked for (``--dtype``), or None for the adapter's default."""
    batch_size: int | str
    """Examples per ``predict`` call, or ``auto`` (doubling while batches fit in memory)."""
    mixed_tasks: bool | None = None
    """Whether a batch could hold examples of several tasks (``--mix-tasks``); None in headers that predate it."""
    resolver_version: str | None = None
    """``RESOLVER_VERSION`` of the rule tiers that read the answers (each record also keeps it)."""
    resolvers: list[dict[str, Any]] = Field(default_factory=list)
    """The optional resolution tiers after the rule tiers, with their configuration."""
    command: list[str] = Field(default_factory=list)
    """The command line."""
    examples: int = 0
    """Examples this invocation set out to run for the task."""


def header_path(run_file: Path) -> Path:
    """Where the headers of a run file live."""
    return run_file.with_name(run_file.name.removesuffix(".jsonl") + ".header.json")


def package_versions(extra: Sequence[str] = ()) -> dict[str, str]:
    """Installed versions (read from package metadata, so nothing heavy is imported)."""
    out = {}
    for name in dict.fromkeys([*CORE_PACKAGES, *extra]):
        version = _version(name)
        if version is not None:
            out[name] = version
    return out


@cache
def _version(name: str) -> str | None:
    """One package's version; read once per process (a metadata read costs about a millisecond per package)."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


@cache
def git_commit() -> str | None:
    """The harness checkout's commit (``-dirty`` with local changes), or None outside a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return None
        status = ["git", "status", "--porcelain", "--untracked-files=no"]
        dirty = subprocess.run(status, cwd=here, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def make_header(
    *,
    harness_version: str,
    adapter: str,
    adapter_args: dict[str, str],
    batch_size: int | str,
    mixed_tasks: bool | None = None,
    libraries: Sequence[str] = (),
    resolvers: Sequence[dict[str, Any]] = (),
    examples: int = 0,
    resolver_version: str | None = None,
) -> RunHeader:
    """The header of a run starting now, in this process."""
    return RunHeader(
        started=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        harness_version=harness_version,
        git_commit=git_commit(),
        python=platform.python_version(),
        packages=package_versions(libraries),
        adapter=adapter,
        adapter_args=adapter_args,
        device=adapter_args.get("device"),
        dtype=adapter_args.get("dtype"),
        batch_size=batch_size,
        mixed_tasks=mixed_tasks,
        resolvers=list(resolvers),
        resolver_version=resolver_version,
        command=list(sys.argv),
        examples=examples,
    )


def read_headers(run_file: Path) -> list[RunHeader]:
    """The headers written for a run file, oldest first (none for runs made before headers existed).

    Raises:
        ValueError: the header file is not a list of run headers (or breaks the JSON limits).
    """
    path = header_path(run_file)
    if not os.path.lexists(path):
        return []
    try:
        with path.open("rb") as f:
            data = safejson.loads(safejson.read_capped(f, safejson.MAX_JSON_BYTES * 16))
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    runs = data.get("runs") if isinstance(data, dict) else None
    if not isinstance(runs, list):
        raise ValueError(f"{path}: not a header file (no list under 'runs')")
    return [RunHeader.model_validate(h) for h in runs]


def append_header(run_file: Path, header: RunHeader) -> None:
    """Add a header to the run file's header list (rewritten atomically).

    An unreadable header file is kept beside it as ``.unreadable`` and a new list started,
    so a damaged provenance file never stops a run (and is never silently overwritten).
    """
    path = header_path(run_file)
    try:
        earlier = [h.model_dump() for h in read_headers(run_file)]
    except ValueError:
        os.replace(path, path.with_name(path.name + ".unreadable"))
        earlier = []
    runs = [*earlier, header.model_dump()]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"runs": runs}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
