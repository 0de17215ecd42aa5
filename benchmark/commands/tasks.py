"""The contributor commands: ``validate``, ``schema``, ``new-task``, ``import-hf``, ``export-hf``, ``generate-suite``.

Plain functions with typer annotations; ``benchmark/cli.py`` registers them on the app.
Heavy libraries are imported inside the commands that need them.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated

import typer

from benchmark.commands.common import OutputFormat, SchemaName, fail

if TYPE_CHECKING:
    from benchmark.authoring.catalog import Outcome


def validate(
    paths: Annotated[list[Path], typer.Argument(help="Task folders, or parents of task folders.")],
    deep: Annotated[bool, typer.Option("--deep", help="Decode every audio file (parallel workers).")] = False,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.text,
    changed_since: Annotated[
        str | None, typer.Option("--changed-since", metavar="REF", help="Only folders changed since a git ref.")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes for --deep (default: all cores).")] = None,
    tasks_root: Annotated[
        Path, typer.Option("--tasks-root", help="Task folders that submissions are checked against.")
    ] = Path("tasks"),
    strict: Annotated[
        bool, typer.Option("--strict", help="Count score-protecting warnings as errors (always with --format github).")
    ] = False,
) -> None:
    """Check task folders (and submissions) against the contract; exit 1 if any error is found."""
    from benchmark.findings import format_findings
    from benchmark.validate import UsageError, validate_paths

    try:
        reports = validate_paths(
            paths,
            deep=deep,
            changed_since=changed_since,
            workers=workers,
            tasks_root=tasks_root,
            strict=strict or fmt is OutputFormat.github,
        )
    except UsageError as exc:
        raise fail(str(exc), code=2) from None
    findings = [f for r in reports for f in r.findings]
    if findings:
        typer.echo(format_findings(findings, fmt.value))
    n_err = sum(f.level == "error" for f in findings)
    n_warn = len(findings) - n_err
    if fmt is not OutputFormat.json:
        n_subs = sum((r.root / "model.json").exists() for r in reports)
        typer.echo(
            f"{len(reports) - n_subs} task folder(s) and {n_subs} submission(s) checked: {n_err} error(s), "
            f"{n_warn} warning(s)",
            err=True,
        )
    raise typer.Exit(1 if n_err else 0)


def schema(
    which: Annotated[SchemaName, typer.Argument(help="task (task.json) or example (a line of examples.jsonl).")] = (
        SchemaName.task
    ),
    write: Annotated[
        bool, typer.Option("--write", help="Regenerate the committed schema files instead (after adding a metric).")
    ] = False,
) -> None:
    """Print the JSON Schema of task.json or of an examples.jsonl line."""
    from benchmark.task.schemas import json_schema, write_schemas

    if write:
        for path in write_schemas():
            typer.echo(f"wrote {path}")
        return
    typer.echo(json.dumps(json_schema(which.value), indent=2))


def new_task(
    name: Annotated[str, typer.Argument(help="CamelCase task name, e.g. SpeakerGender.")],
    dimension: Annotated[
        str, typer.Option(help="content, speaker, semantics, paralinguistics, degradation, audio or music.")
    ],
    task_type: Annotated[
        str, typer.Option(help="classification, regression, generation, open (no reference answer) or audio.")
    ],
    labels: Annotated[str | None, typer.Option(help="Comma-separated labels (classification).")] = None,
    metric: Annotated[str | None, typer.Option(help="Metric (default: the first for the task type).")] = None,
    license_id: Annotated[str, typer.Option("--license", help="SPDX licence id of the data.")] = "CC-BY-4.0",
    language: Annotated[list[str] | None, typer.Option(help="BCP-47 language code (repeatable).")] = None,
    author: Annotated[list[str] | None, typer.Option(help="Author name (repeatable).")] = None,
    audio_inputs: Annotated[int, typer.Option(help="Audio clips per example.")] = 1,
    root: Annotated[Path, typer.Option(help="Where task folders live.")] = Path("tasks"),
) -> None:
    """Scaffold a task folder; add audio and examples, then run `bench validate`."""
    from benchmark.authoring.scaffold import ScaffoldError
    from benchmark.authoring.scaffold import new_task as scaffold

    label_list = [x.strip() for x in labels.split(",") if x.strip()] if labels else None
    try:
        folder = scaffold(
            root,
            name,
            dimension=dimension,
            task_type=task_type,
            labels=label_list,
            metric=metric,
            license_id=license_id,
            languages=language,
            authors=author,
            audio_inputs=audio_inputs,
        )
    except ScaffoldError as exc:
        raise fail(str(exc), code=2) from None
    typer.echo(
        f"created {folder}: add audio under {folder / 'audio'}, one line per example in "
        f"{folder / 'examples.jsonl'}, fill in README.md, then run `bench validate {folder}`"
    )


def import_hf(
    source: Annotated[
        str | None, typer.Argument(help="Hub dataset id, save_to_disk folder, or parquet file(s) folder.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Task name (CamelCase).")] = None,
    dimension: Annotated[
        str | None, typer.Option(help="Leaderboard dimension (with --catalog: import only this dimension).")
    ] = None,
    license_id: Annotated[str | None, typer.Option("--license", help="SPDX licence id of the source data.")] = None,
    revision: Annotated[str | None, typer.Option(help="Hub commit to pin (recorded in task.json).")] = None,
    task_type: Annotated[
        str | None,
        typer.Option(help="classification (default), regression, generation or audio (with --catalog: a filter)."),
    ] = None,
    metric: Annotated[str | None, typer.Option(help="Metric (default: the first for the task type).")] = None,
    description: Annotated[str | None, typer.Option(help="One or two sentences.")] = None,
    language: Annotated[list[str] | None, typer.Option(help="BCP-47 language code (repeatable).")] = None,
    instruction: Annotated[list[str] | None, typer.Option(help="Extra instruction (repeatable).")] = None,
    out: Annotated[Path, typer.Option(help="Where task folders live.")] = Path("tasks"),
    catalog: Annotated[
        str | None,
        typer.Option(help="Import a whole catalog instead: dynamic-superb-phase2 (or a catalog .jsonl file)."),
    ] = None,
    only: Annotated[
        list[str] | None, typer.Option(help="With --catalog: this instance, name or glob only (repeatable).")
    ] = None,
    list_rows: Annotated[bool, typer.Option("--list", help="With --catalog: print the instances and stop.")] = False,
    mirror: Annotated[
        Path | None, typer.Option(help="With --catalog: read instances from this local copy (DIR/owner/name).")
    ] = None,
) -> None:
    """Convert a Dynamic-SUPERB instance (columns file, audio, instruction, label), or a catalog of them."""
    single: dict[str, object] = {"SOURCE": source, "--name": name, "--license": license_id, "--revision": revision}
    single |= {"--metric": metric}
    single |= {"--description": description, "--language": language, "--instruction": instruction}
    bulk: dict[str, object] = {"--only": only, "--list": list_rows, "--mirror": mirror}
    clash = [flag for flag, value in (single if catalog is not None else bulk).items() if value]
    if clash:
        where = "with --catalog (each row sets its own)" if catalog is not None else "without --catalog"
        raise fail(f"{', '.join(clash)} cannot be used {where}", code=2)
    if catalog is not None:
        _import_catalog(catalog, only, dimension, task_type, out, mirror, list_rows)
        return
    from benchmark.authoring.hf import ConversionError
    from benchmark.authoring.hf import import_hf as convert
    from benchmark.task import TaskLoadError

    if not source or not name or not dimension or not license_id:
        given = {"SOURCE": source, "--name": name, "--dimension": dimension, "--license": license_id}
        needed = ", ".join(flag for flag, value in given.items() if not value)
        raise fail(f"import-hf needs {needed} (or --catalog NAME to import a whole catalog)", code=2)
    try:
        folder = convert(
            source,
            name=name,
            dimension=dimension,
            out_root=out,
            license_id=license_id,
            revision=revision,
            task_type=task_type or "classification",
            metric=metric,
            description=description,
            languages=language,
            extra_instructions=instruction,
        )
    except (ConversionError, TaskLoadError) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"wrote {folder}")


def _import_catalog(
    catalog: str,
    only: list[str] | None,
    dimension: str | None,
    task_type: str | None,
    out: Path,
    mirror: Path | None,
    list_rows: bool,
) -> None:
    """``bench import-hf --catalog``: list, or import the selected rows and print a summary."""
    from benchmark.authoring import catalog as cat

    try:
        rows = cat.load_catalog(catalog) if catalog in cat.CATALOGS else cat.read_catalog(_catalog_file(catalog, cat))
        rows = tuple(cat.select(rows, only=only, dimension=dimension, task_type=task_type))
    except (cat.CatalogError, OSError) as exc:
        raise fail(str(exc), code=2) from None
    if list_rows:
        for row in rows:
            rev = row.revision or "unpinned"
            skip = f"  (skipped: {row.skip_reason})" if row.skip_reason else ""
            typer.echo(f"{row.name}\t{row.hub_path}@{rev}\t{row.task_type}/{row.metric or '-'}\t{row.dimension}{skip}")
        return
    if mirror is not None and not mirror.is_dir():
        raise fail(f"--mirror {mirror} is not a folder; make one with `hf download --local-dir DIR/OWNER/NAME`", code=2)
    todo = cat.pending(rows, out)
    infos = None
    if mirror is None:
        infos = cat.hub_infos(todo)
        typer.echo(cat.download_estimate(infos), err=True)
    else:
        typer.echo(f"reading {len(todo)} instance(s) from the mirror {mirror}: no download", err=True)
    outcomes = cat.import_catalog(rows, out, mirror=mirror, infos=infos, catalog=catalog)
    _summary(outcomes)
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(1)


def _catalog_file(catalog: str, cat: ModuleType) -> Path:
    path = Path(catalog)
    if path.suffix != ".jsonl" or not path.is_file():
        names = " nor ".join(cat.CATALOGS)
        raise fail(f"--catalog {catalog!r} is neither {names} nor a catalog .jsonl file", code=2)
    return path


def _summary(outcomes: list[Outcome]) -> None:
    labels = {
        "imported": "imported",
        "local-use": "imported for local use only",
        "present": "already present",
        "skipped": "skipped",
        "failed": "failed",
    }
    counts = {label: sum(o.status == status for o in outcomes) for status, label in labels.items()}
    typer.echo(", ".join(f"{n} {label}" for label, n in counts.items()))
    for o in outcomes:
        if o.status in ("local-use", "skipped", "failed"):
            typer.echo(f"{labels[o.status]}: {o.row.name} ({o.row.hub_path}): {o.detail}")


def export_hf(
    task: Annotated[Path, typer.Argument(help="Task folder.")],
    out: Annotated[Path, typer.Argument(help="Output folder for the parquet files.")],
) -> None:
    """Write a task as Dynamic-SUPERB-style parquet files (file, audio, instruction, label)."""
    from benchmark.authoring.hf import export_hf as export
    from benchmark.task import TaskLoadError

    try:
        written = export(task, out)
    except TaskLoadError as exc:
        raise fail(str(exc)) from None
    for path in written:
        typer.echo(f"wrote {path}")


def generate_suite(
    out: Annotated[Path, typer.Option(help="Where to write the task folders.")] = Path("tasks"),
    only: Annotated[list[str] | None, typer.Option(help="Generate only this task (repeatable).")] = None,
) -> None:
    """Regenerate the shipped synthetic task suite (needs espeak-ng); deterministic."""
    from benchmark.suite import SynthError, generate

    try:
        folders = generate(out, only)
    except (KeyError, SynthError) as exc:
        raise fail(str(exc).strip("'\""), code=2) from None
    for folder in folders:
        typer.echo(f"wrote {folder}")
