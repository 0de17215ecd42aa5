"""The ``bench`` command. Thin: each command parses its options and calls one library function.

Heavy libraries (datasets, torch, transformers) are imported inside the commands
that need them, so ``bench --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from benchmark.commands import tasks as tasks_commands
from benchmark.commands.common import fail as _fail
from benchmark.version import __version__

if TYPE_CHECKING:
    from benchmark.scoring.labels import LabelResolver

app = typer.Typer(
    name="bench",
    help="Evaluate speech foundation models and audio LLMs on community tasks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Evaluate speech foundation models and audio LLMs on community tasks."""


# The contributor commands live in benchmark/commands/tasks.py; registered here, in the order `bench --help` shows.
app.command()(tasks_commands.validate)
app.command()(tasks_commands.schema)
app.command("new-task")(tasks_commands.new_task)
app.command("import-hf")(tasks_commands.import_hf)
app.command("export-hf")(tasks_commands.export_hf)


def _parse_model_args(pairs: list[str] | None) -> dict[str, str]:
    args = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise _fail(f"--model-arg takes key=value, got {pair!r}", code=2)
        args[key.strip()] = value
    return args


@app.command()
def models() -> None:
    """List the model adapters (built-in and installed plug-ins) and their spec strings."""
    from benchmark.adapters.registry import REGISTRY, plugin_entries

    for entry in [*REGISTRY.values(), *plugin_entries().values()]:
        arg = f":<{entry.argument}>" if entry.argument else ""
        typer.echo(f"{entry.family + arg:28} {entry.summary}  (e.g. {entry.example})")
    typer.echo("your own: --model path/to/file.py:ClassName or --model package.module:ClassName")


TasksRoot = Annotated[Path, typer.Option("--tasks-root", help="Folder holding the task folders.")]
Semantic = Annotated[
    bool,
    typer.Option(
        "--semantic/--no-semantic",
        help="Also resolve paraphrases with the offline MiniLM embedder (off by default: it adds wrong commits).",
    ),
]
JudgeUrl = Annotated[
    str | None, typer.Option("--judge-url", help="OpenAI-compatible base URL of an LLM judge (last resolution tier).")
]
JudgeModel = Annotated[str, typer.Option("--judge-model", help="Model name to ask at --judge-url.")]
JudgeKeyEnv = Annotated[str, typer.Option("--judge-key-env", help="Environment variable holding the judge API key.")]


def _resolvers(
    semantic: bool, judge_url: str | None, judge_model: str, key_env: str, cache: Path
) -> list[LabelResolver]:
    from benchmark.scoring.judge import ResolverUnavailable, build_resolvers

    try:
        return build_resolvers(semantic, judge_url, judge_model, key_env, cache)
    except ResolverUnavailable as exc:
        raise _fail(str(exc), code=2) from None


SubmissionsRoot = Annotated[Path, typer.Option("--out", help="Folder holding submissions.")]
Wait = Annotated[
    float, typer.Option("--wait", metavar="SECONDS", help="Wait this long for another run or score on the submission.")
]


@app.command()
def run(
    model: Annotated[str, typer.Option("--model", help="Adapter spec, e.g. majority (see `bench models`).")],
    tasks: Annotated[
        list[str] | None, typer.Option("--tasks", help="Task name, glob, dimension:NAME or folder (repeatable).")
    ] = None,
    model_arg: Annotated[list[str] | None, typer.Option("--model-arg", help="Adapter argument k=v.")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N test examples of each task.")] = None,
    batch_size: Annotated[
        str | None,
        typer.Option(
            help="Examples per predict call, or auto (the largest batch that fits in memory). "
            "Default: the model's own (16; the cascade 256 with its bundled LLM or an endpoint, else 64)."
        ),
    ] = None,
    out: SubmissionsRoot = Path("submissions"),
    name: Annotated[str | None, typer.Option(help="Submission name (default: from the spec).")] = None,
    tasks_root: TasksRoot = Path("tasks"),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and plan; load and run nothing.")] = False,
    device: Annotated[
        str | None, typer.Option(help="auto (a GPU when there is one), cpu, cuda or cuda:N (torch adapters).")
    ] = None,
    dtype: Annotated[str | None, typer.Option(help="float32, bfloat16 or float16 (torch adapters).")] = None,
    ray: Annotated[str | None, typer.Option(help="Run on Ray: local, auto, ray://HOST:PORT or HOST:PORT.")] = None,
    workers: Annotated[int | None, typer.Option(help="Ray workers (default: one per GPU, or per 2 CPUs).")] = None,
    semantic: Semantic = False,
    judge_url: JudgeUrl = None,
    judge_model: JudgeModel = "judge",
    judge_key_env: JudgeKeyEnv = "OPENAI_API_KEY",
    control: Annotated[
        str | None,
        typer.Option(help="silence or shuffled: an audio-reliance control, stored as <name>+control-<kind>."),
    ] = None,
    instructions: Annotated[
        str | None,
        typer.Option(help="all or N: run each example under every (or N seeded) instruction, as <name>+instructions."),
    ] = None,
    constraints: Annotated[
        str | None,
        typer.Option(
            help="all or N: run each example under every (or N seeded) constraint set its task opts in to "
            "(answer in JSON, in capitals, in N words...), as <name>+constraints: instruction following."
        ),
    ] = None,
    wait: Wait = 0.0,
    mix_tasks: Annotated[
        bool,
        typer.Option(
            "--mix-tasks/--per-task",
            help="Batches across tasks, by input length, for models that mix tasks (audiollm, api, cascade).",
        ),
    ] = True,
) -> None:
    """Run a model on tasks, appending one record per example; re-run the same command to resume."""
    from benchmark.endpoint import EndpointError
    from benchmark.runner import RunError, RunRequest
    from benchmark.runner import run as run_model
    from benchmark.scaleout.options import RayOptions
    from benchmark.submission.card import submission_name

    selectors = [s for item in tasks or [] for s in item.split(",") if s]
    cache = out / (name or submission_name(model)) / "judge-cache.jsonl"
    args = _parse_model_args(model_arg)
    args.update({k: v for k, v in (("device", device), ("dtype", dtype)) if v is not None})
    resolvers = _resolvers(semantic, judge_url, judge_model, judge_key_env, cache)
    request = RunRequest(
        spec=model,
        args=args,
        selectors=selectors,
        tasks_root=tasks_root,
        out=out,
        name=name,
        limit=limit,
        batch_size=int(batch_size) if batch_size and batch_size.isdigit() else batch_size,
        dry_run=dry_run,
        resolvers=resolvers,
        control=control,
        instructions=instructions,
        constraints=constraints,
        ray=RayOptions(ray or "", workers) if ray or workers else None,
        wait=wait,
        mix_tasks=mix_tasks,
    )
    try:
        result = run_model(request, progress=_progress_bar)
    except RunError as exc:
        raise _fail(str(exc), code=2) from None
    except EndpointError as exc:
        raise _fail(f"{exc} (records written so far are kept; re-run to resume)") from None
    for plan in result.plans:
        for note in plan.notes:
            typer.echo(f"note: {note}", err=True)
        if plan.skip:
            typer.echo(f"skip {plan.task.key}: {plan.skip}", err=True)
        elif dry_run:
            typer.echo(f"{plan.task.key}: {len(plan.pending)} to run, {plan.done} done -> {plan.run_file}")
    for s in result.summaries:
        following = "" if s.if_strict is None else f"  IF strict {s.if_strict:.1%} loose {s.if_loose:.1%}"
        typer.echo(
            f"{s.task}@{s.version}: {s.metric} {s.value:.4f}  n={s.n}/{s.expected}  "
            f"N/A {s.na_rate:.1%}{following}  model time {s.seconds:.2f}s"
        )
    for worker in result.workers:
        typer.echo(worker.describe(), err=True)
    if not dry_run:
        _judge_summary(resolvers)
        typer.echo(f"records under {result.submission / 'runs'}", err=True)


def _progress_bar(total: int) -> Callable[[int], None]:
    from tqdm import tqdm

    bar = tqdm(total=total, unit="ex", desc="examples", dynamic_ncols=True, disable=total == 0 or None)

    def advance(n: int) -> None:
        bar.update(n)
        if bar.n >= total:
            bar.close()

    return advance


@app.command()
def score(
    path: Annotated[Path, typer.Argument(help="A submission folder, or a folder of them (submissions/).")],
    tasks_root: TasksRoot = Path("tasks"),
    semantic: Semantic = False,
    judge_url: JudgeUrl = None,
    judge_model: JudgeModel = "judge",
    judge_key_env: JudgeKeyEnv = "OPENAI_API_KEY",
    wait: Wait = 0.0,
) -> None:
    """Re-score saved records from their raw outputs (no model is run); rewrites each run file atomically."""
    from benchmark.endpoint import EndpointError
    from benchmark.runner import RunError, rescore

    folders = [path] if (path / "runs").is_dir() else sorted(p for p in path.iterdir() if (p / "runs").is_dir())
    if not folders:
        raise _fail(f"{path} holds no submission (a folder with runs/)", code=2)
    summaries = []
    for folder in folders:
        resolvers = _resolvers(semantic, judge_url, judge_model, judge_key_env, folder / "judge-cache.jsonl")
        try:
            summaries += rescore(folder, tasks_root, resolvers, wait=wait)
        except RunError as exc:
            raise _fail(str(exc), code=2) from None
        except EndpointError as exc:
            raise _fail(str(exc)) from None
        _judge_summary(resolvers)
    for s in summaries:
        typer.echo(f"{s.task}@{s.version}: {s.metric} {s.value:.4f}  n={s.n}/{s.expected}  N/A {s.na_rate:.1%}")


@app.command("resolve-report")
def resolve_report(
    path: Annotated[Path | None, typer.Argument(help="A JSONL answer set (default: the shipped set).")] = None,
    semantic: Semantic = False,
    judge_url: JudgeUrl = None,
    judge_model: JudgeModel = "judge",
    judge_key_env: JudgeKeyEnv = "OPENAI_API_KEY",
    judge_cache: Annotated[Path, typer.Option(help="The judge's reply cache.")] = Path(".cache/judge-cache.jsonl"),
    show: Annotated[bool, typer.Option("--show", help="Also list every answer read differently.")] = False,
    min_agreement: Annotated[float, typer.Option(help="Exit 1 below this agreement (0-1).")] = 0.0,
    max_wrong: Annotated[float, typer.Option(help="Exit 1 above this wrong-commit rate (0-1).")] = 1.0,
    save: Annotated[Path | None, typer.Option(help="Write this version's readings to a JSONL file.")] = None,
    against: Annotated[
        Path | None, typer.Option(help="List the answers read differently than in readings saved with --save.")
    ] = None,
) -> None:
    """Audit answer resolution: agreement with expected readings, per category, for any answer set."""
    from benchmark.scoring.audit import (
        RESOLUTION_SET,
        AuditFileError,
        audit_file,
        compare_readings,
        load_cases,
        readings,
        save_readings,
    )

    resolvers = _resolvers(semantic, judge_url, judge_model, judge_key_env, judge_cache)
    try:
        report, text = audit_file(path or RESOLUTION_SET, resolvers, show)
        if save or against:
            cases = load_cases(path or RESOLUTION_SET)
            rows = readings(cases, resolvers)
            if against:
                text += "\n\n" + compare_readings(against, cases, rows)
            if save:
                save_readings(save, rows)
    except AuditFileError as exc:
        raise _fail(str(exc), code=2) from None
    typer.echo(text)
    _judge_summary(resolvers)
    if report.overall.agreement < min_agreement or report.overall.wrong_rate > max_wrong:
        raise _fail(f"below the thresholds: agreement >= {min_agreement:.1%}, wrong commits <= {max_wrong:.1%}")


def _judge_summary(resolvers: list[LabelResolver]) -> None:
    for line in (r.stats.summary() for r in resolvers if hasattr(r, "stats")):
        typer.echo(line, err=True)


@app.command()
def layers(
    submission: Annotated[Path, typer.Argument(help="A submission folder, submissions/<model>.")],
) -> None:
    """Print the learned layer weights that SSL probes saved with their runs."""
    from benchmark.report.tables import layer_weights

    found = layer_weights(submission)
    if not found:
        raise _fail(f"{submission} has no saved layer weights (only probe:<upstream> runs save them)")
    for key, weights in found.items():
        best = max(range(len(weights)), key=weights.__getitem__)
        typer.echo(f"{key}: " + " ".join(f"{w:.3f}" for w in weights) + f"  (largest: layer {best})")


leaderboard_app = typer.Typer(help="Build leaderboard tables from submissions.", no_args_is_help=True)
app.add_typer(leaderboard_app, name="leaderboard")


@leaderboard_app.command("build")
def leaderboard_build(
    submissions: Annotated[Path, typer.Option(help="Folder of submissions.")] = Path("submissions"),
    tasks_root: TasksRoot = Path("tasks"),
    out: Annotated[Path, typer.Option(help="Where the tables go.")] = Path("leaderboard/tables"),
    site: Annotated[Path | None, typer.Option(help="Where the static website goes.")] = Path("leaderboard/site"),
    no_site: Annotated[bool, typer.Option("--no-site", help="Write the tables only.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail if any run file would be left out.")] = False,
) -> None:
    """Recompute every table from the records; write Markdown, CSV, JSON and the static website."""
    from benchmark.planning import RunError, load_tasks
    from benchmark.report.build import BuildError, build_leaderboard
    from benchmark.task.discovery import SelectionError, select_tasks
    from benchmark.task.index import index_path

    try:
        index = index_path(submissions) if submissions.is_dir() else None  # the index `bench run` keeps
        tasks = load_tasks(select_tasks([], tasks_root), index)
        result = build_leaderboard(submissions, tasks, out, None if no_site else site, strict=strict)
    except (RunError, SelectionError, BuildError) as exc:
        raise _fail(str(exc), code=2) from None
    except OSError as exc:
        raise _fail(f"cannot write the board ({exc}); the previous tables and site are unchanged") from None
    for left in result.left_out:
        typer.echo(f"warning: {left.render()}", err=True)
    for path in result.tables:
        typer.echo(f"wrote {path}")
    if result.site and site is not None:
        typer.echo(f"wrote {len(result.site)} files under {site} (open {site / 'index.html'})")


@app.command()
def clean(
    submissions: Annotated[Path, typer.Option(help="Folder of submissions.")] = Path("submissions"),
    leaderboard: Annotated[Path, typer.Option(help="Folder holding the built tables and site.")] = Path("leaderboard"),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be removed; remove nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Remove without asking (for scripts and CI).")] = False,
) -> None:
    """List set-aside run files, temporary files and orphaned caches, and remove them after confirmation."""
    from benchmark.submission.clean import find_leftovers, remove_leftovers

    found = find_leftovers(submissions, [leaderboard])
    for item in found:
        typer.echo(f"{item.kind:48} {item.size:>12,} B  {item.path}")
    typer.echo(f"{len(found)} item(s), {sum(i.size for i in found):,} bytes", err=True)
    if not found or dry_run:
        return
    if not yes:
        try:
            typer.confirm(f"remove these {len(found)} item(s)?", abort=True)
        except typer.Abort:
            raise _fail("nothing removed (not confirmed; pass --yes to remove without asking)") from None
    removed, notes = remove_leftovers(found)
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    typer.echo(f"removed {len(removed)} item(s), {sum(i.size for i in removed):,} bytes")


app.command("generate-suite")(tasks_commands.generate_suite)


def main() -> None:
    """Entry point of the ``bench`` console script."""
    app(prog_name="bench")


if __name__ == "__main__":
    main()
