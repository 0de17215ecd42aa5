"""Run a model on tasks: select, check, plan, then stream batches into per-example records.

The orchestration reads like the data flow::

    select_tasks -> load_task -> adapter.check -> plan (resume) -> adapter.load
    -> per task: adapter.fit -> batches: predict -> score -> append records
       (or, for an adapter that mixes tasks: batches across tasks by input length
        -> predict_mixed -> score -> append each task's records in example order)
    -> summary recomputed from the records

Everything that can fail because of user input (unknown task, invalid folder,
incompatible adapter) fails before any model is loaded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmark.adapters.base import Adapter, AdapterError
from benchmark.adapters.registry import SpecError, build_adapter, class_origin
from benchmark.batching import AUTO, predict_stream
from benchmark.controls import PLAIN, Variant, VariantError, make_variant, variant_of
from benchmark.planning import RunError, TaskPlan, load_tasks, plan_task, prepare_submission, unanswerable
from benchmark.pooling import SYNC_SECONDS, run_pooled
from benchmark.predicting import Output, to_records
from benchmark.scaleout.driver import DistributedRequest, WorkerSummary, adapter_source, run_distributed
from benchmark.scaleout.options import RayOptions, ScaleOutError, take_ray_args
from benchmark.scaleout.shards import fold_shards
from benchmark.scoring.labels import RESOLVER_VERSION, LabelResolver
from benchmark.scoring.metrics import scored_set
from benchmark.submission.audio_scorer import AudioNotStored
from benchmark.submission.card import SUBMISSION_NAME, submission_name
from benchmark.submission.header import RunHeader, append_header, make_header
from benchmark.submission.lock import guarded
from benchmark.submission.records import (
    Record,
    RunFileError,
    append_records,
    read_records,
    sync_pending,
    write_records_atomic,
)
from benchmark.submission.scorer import rescore_record, scorer_for
from benchmark.task.audio import AudioError
from benchmark.task.discovery import SelectionError, discover_task_dirs, select_tasks
from benchmark.task.folder import Task
from benchmark.task.index import index_path
from benchmark.version import __version__

# ---------------------------------------------------------------- running


def run_task(
    adapter: Adapter,
    plan: TaskPlan,
    *,
    batch_size: int | str,
    resolvers: Sequence[LabelResolver] = (),
    on_batch: Callable[[int], None] = lambda n: None,
    variant: Variant = PLAIN,
) -> None:
    """Fit (if the adapter trains), then predict, score and append records batch by batch."""
    task = plan.task
    if not plan.pending:
        return
    adapter.fit(task.train_split())
    score = scorer_for(task, resolvers, plan.run_file.parent.parent)
    for batch in predict_stream(adapter, task, plan.pending, batch_size, variant.audio):
        per_example = batch.seconds / len(batch.examples)
        outputs = [Output(e.id, o, per_example) for e, o in zip(batch.examples, batch.outputs, strict=True)]
        append_records(
            plan.run_file, to_records(task, batch.examples, outputs, score, variant), sync_every=SYNC_SECONDS
        )
        on_batch(len(batch.examples))


@dataclass(frozen=True)
class TaskSummary:
    """A task's result recomputed from its records."""

    task: str
    version: str
    metric: str
    value: float
    n: int
    expected: int
    na_rate: float
    seconds: float
    if_strict: float | None = None
    """Share of prompts whose every constraint was obeyed as written (None: no prompt had constraints)."""
    if_loose: float | None = None
    """The same, after the loose clean-ups."""


def summarize(task: Task, records: Sequence[Record], variant: Variant = PLAIN) -> TaskSummary:
    """Corpus metric, N/A rate and model time of one task's test records (units of ``variant``)."""
    test = [r for r in records if r.split == "test"]
    value = scored_set(task.card.metric, test, task.card.labels or ()).value() if test else float("nan")
    return TaskSummary(
        task=task.name,
        version=task.card.version,
        metric=task.card.metric,
        value=value,
        n=len(test),
        expected=len(variant.units(task, task.split("test"))),
        na_rate=sum(r.tier == "na" for r in test) / len(test) if test else 0.0,
        seconds=sum(r.seconds for r in test),
        if_strict=_rate([r.if_strict for r in test]),
        if_loose=_rate([r.if_loose for r in test]),
    )


def _rate(flags: Sequence[bool | None]) -> float | None:
    known = [f for f in flags if f is not None]
    return sum(known) / len(known) if known else None


@dataclass
class RunRequest:
    """Everything ``bench run`` was asked to do."""

    spec: str
    args: dict[str, str] = field(default_factory=dict)
    selectors: Sequence[str] = ()
    tasks_root: Path = Path("tasks")
    out: Path = Path("submissions")
    name: str | None = None
    limit: int | None = None
    batch_size: int | str | None = None
    """Examples per predict call, ``"auto"`` (the largest batch that fits; see ``benchmark.batching``),
    or ``None``: the adapter's own default (``Adapter.default_batch_size``, 16 for most)."""
    dry_run: bool = False
    resolvers: Sequence[LabelResolver] = ()
    adapter: Adapter | None = None
    """An adapter object to run instead of building one from ``spec`` (the Python API)."""
    control: str | None = None
    """``silence`` or ``shuffled``: run the audio-reliance control instead (its own submission)."""
    instructions: str | int | None = None
    """``all`` or N: run every test example under all (or N seeded) instructions (its own submission)."""
    constraints: str | int | None = None
    """``all`` or N: run every test example under all (or N seeded) of its card's constraint sets (its own
    submission; instruction following)."""
    ray: RayOptions | None = None
    """Run on Ray workers (``--ray``) instead of in this process."""
    wait: float = 0.0
    """Seconds to wait for another run or score holding the submission's lock (0: fail at once)."""
    mix_tasks: bool = True
    """Form batches across tasks when the adapter can mix them (``Adapter.mixes_tasks``); False: per task."""
    origin: str = ""
    """Where an adapter object's class was defined (``registry.class_origin``), recorded in model.json."""


@dataclass
class RunResult:
    """What a run did: its plans and the summaries recomputed from the records."""

    submission: Path
    plans: list[TaskPlan]
    summaries: list[TaskSummary] = field(default_factory=list)
    workers: list[WorkerSummary] = field(default_factory=list)
    """Per-worker figures of a distributed run (empty for a local run)."""


def check_request(request: RunRequest) -> Adapter:
    """Validate the options and build (not load) the adapter.

    Raises:
        RunError: a bad option or model spec.
    """
    size = request.batch_size
    if size is not None and size != AUTO and (not str(size).isdigit() or int(size) < 1):
        raise RunError(f"--batch-size {request.batch_size!r}: give a number of at least 1, or auto")
    if request.limit is not None and request.limit < 1:
        raise RunError("--limit must be at least 1")
    if request.name is not None and not re.match(SUBMISSION_NAME, request.name):
        raise RunError(f"--name {request.name!r} must match {SUBMISSION_NAME} (it becomes a folder name)")
    if request.ray is not None:
        if request.batch_size == AUTO:
            raise RunError("--batch-size auto sizes batches in this process; give a number with --ray")
        try:
            request.args, request.ray = take_ray_args(request.args, request.ray)
        except ScaleOutError as exc:
            raise RunError(str(exc)) from exc
    try:
        adapter = request.adapter if request.adapter is not None else build_adapter(request.spec, request.args)
    except SpecError as exc:
        raise RunError(str(exc)) from exc
    if request.batch_size is None:
        request.batch_size = adapter.default_batch_size
    return adapter


def batch_size_of(request: RunRequest) -> int | str:
    """The batch size a checked request runs with (``check_request`` puts in the adapter's default)."""
    if request.batch_size is None:
        raise RunError("internal: the batch size is resolved by check_request before a run")
    return request.batch_size


def run(request: RunRequest, progress: Callable[[int], Callable[[int], None]] | None = None) -> RunResult:
    """Check, plan and run; ``progress(total)`` returns a per-batch callback (e.g. a progress bar).

    Raises:
        RunError: a user mistake found before the model is loaded, or an adapter failure.
    """
    adapter = check_request(request)
    try:
        variant = make_variant(
            request.control, request.instructions, request.constraints, needs_audio=adapter.needs_audio
        )
        index = None if request.dry_run else index_path(request.out)
        base = request.name or submission_name(request.spec)
        submission = request.out / variant.submission(base)
        folders, unanswered = unanswerable(select_tasks(request.selectors, request.tasks_root), adapter, submission)
        tasks = load_tasks(folders, index)
    except (SelectionError, VariantError) as exc:
        raise RunError(str(exc)) from exc
    if not tasks:
        why = "; ".join(p.skip or "" for p in unanswered) if unanswered else f"no tasks under {request.tasks_root}"
        raise RunError(f"no tasks to run: {why}")
    if request.control and (adapter.reads_transcripts or adapter.reads_references):
        raise RunError(
            f"--control {request.control}: {request.spec} is a reference system that reads the examples' "
            "transcripts or reference audio, so what it hears changes nothing; run controls on models"
        )
    if problems := [p for t in tasks if (p := variant.problem(t))]:
        raise RunError("\n".join(problems))
    if tasks and all(variant.skip(t) for t in tasks):
        raise RunError(f"--{variant.name}: nothing to run: " + "; ".join(f"{t.key}: {variant.skip(t)}" for t in tasks))
    with guarded(submission, request.wait, RunError, hold=not request.dry_run):  # planning too: see lock.py
        try:
            plans = unanswered + [plan_task(t, adapter, submission, request.limit, variant) for t in tasks]
        except RunFileError as exc:
            raise RunError(f"{exc}; move the file aside to start that task over") from exc
        result = RunResult(submission=submission, plans=plans)
        if not request.dry_run:
            links = variant.card_fields(base) | ({"origin": request.origin} if request.origin else {})
            prepare_submission(submission, request.spec, request.args, adapter, links)
            execute(adapter, request, result, progress, variant)
    return result


def execute(
    adapter: Adapter,
    request: RunRequest,
    result: RunResult,
    progress: Callable[[int], Callable[[int], None]] | None,
    variant: Variant = PLAIN,
) -> None:
    """Load the model once, then run every runnable plan and summarise it from its records.

    Raises:
        RunError: the adapter failed; records written so far stay on disk.
    """
    if request.ray is not None:
        return execute_distributed(adapter, request, request.ray, result, progress, variant)
    runnable = fold_shards([p for p in result.plans if p.skip is None], variant)
    total = sum(len(p.pending) for p in runnable)
    on_batch = progress(total) if progress else (lambda n: None)
    try:
        if total:
            adapter.load()
    except AdapterError as exc:
        raise RunError(f"{request.spec}: {exc}") from exc
    try:
        if request.mix_tasks and adapter.mixes_tasks and not adapter.needs_train:
            _execute_pooled(adapter, request, result, runnable, on_batch, variant)
        else:
            _execute_each(adapter, request, result, runnable, on_batch, variant)
    except AdapterError as exc:
        raise RunError(f"{request.spec}: {exc} (records written so far are kept; re-run to resume)") from exc
    except AudioError as exc:
        raise RunError(f"{exc.code} {exc} (`bench validate --deep` lists such files; records so far are kept)") from exc
    except AudioNotStored as exc:  # an answer just written cannot be read back: the disk, not the model
        raise RunError(f"{exc} (records so far are kept; re-run to resume)") from exc
    finally:
        sync_pending()


def _execute_each(
    adapter: Adapter,
    request: RunRequest,
    result: RunResult,
    plans: Sequence[TaskPlan],
    on_batch: Callable[[int], None],
    variant: Variant,
) -> None:
    """One task after another: fit, batches of its examples in file order, its layer weights and summary."""
    for plan in plans:
        if plan.pending:
            append_header(plan.run_file, _header(adapter, request, len(plan.pending), mixed=False))
        batch_size, resolvers = batch_size_of(request), request.resolvers
        run_task(adapter, plan, batch_size=batch_size, resolvers=resolvers, on_batch=on_batch, variant=variant)
        save_layer_weights(result.submission, plan.task, adapter)
        result.summaries.append(summarize(plan.task, read_records(plan.run_file), variant))


def _execute_pooled(
    adapter: Adapter,
    request: RunRequest,
    result: RunResult,
    plans: Sequence[TaskPlan],
    on_batch: Callable[[int], None],
    variant: Variant,
) -> None:
    """Every task's pending examples at once, in batches across tasks; then each task's layer weights and summary."""
    for plan in plans:
        if plan.pending:
            append_header(plan.run_file, _header(adapter, request, len(plan.pending), mixed=True))
    size, resolvers = batch_size_of(request), request.resolvers
    run_pooled(adapter, plans, batch_size=size, resolvers=resolvers, on_batch=on_batch, variant=variant)
    for plan in plans:
        save_layer_weights(result.submission, plan.task, adapter)
        result.summaries.append(summarize(plan.task, read_records(plan.run_file), variant))


def execute_distributed(
    adapter: Adapter,
    request: RunRequest,
    options: RayOptions,
    result: RunResult,
    progress: Callable[[int], Callable[[int], None]] | None,
    variant: Variant,
) -> None:
    """Fold in shards a killed run left, then run what is pending on Ray workers (``--ray``).

    Raises:
        RunError: the cluster, a worker or a unit failed; finished units are merged and kept.
    """
    runnable = fold_shards([p for p in result.plans if p.skip is None], variant)

    def headers() -> None:
        for plan in (p for p in runnable if p.pending):
            append_header(plan.run_file, _header(adapter, request, len(plan.pending), mixed=False))

    distributed = DistributedRequest(
        source=adapter_source(request.spec, request.args, request.adapter),
        works=runnable,
        variant=variant,
        options=options,
        batch_size=int(batch_size_of(request)),  # check_request refuses auto with --ray
        whole_tasks=adapter.needs_train,
        device=request.args.get("device"),
        resolvers=request.resolvers,
    )
    total = sum(len(p.pending) for p in runnable)
    try:
        outcome = run_distributed(distributed, progress(total) if progress else (lambda n: None), headers)
    except ScaleOutError as exc:
        raise RunError(f"{request.spec}: {exc}") from exc
    except (AudioError, AudioNotStored) as exc:  # a reference the driver's scorer reads, or an answer it wrote
        raise RunError(f"{exc} (`bench validate --deep` lists damaged task files; records so far are kept)") from exc
    result.workers = outcome.workers
    for plan in runnable:
        write_layer_weights(result.submission, plan.task.key, outcome.layer_weights.get(plan.task.key))
        result.summaries.append(summarize(plan.task, read_records(plan.run_file), variant))


def _header(adapter: Adapter, request: RunRequest, examples: int, mixed: bool) -> RunHeader:
    return make_header(
        harness_version=__version__,
        adapter=request.spec,
        adapter_args=request.args,
        batch_size=batch_size_of(request),
        mixed_tasks=mixed,
        libraries=adapter.libraries,
        resolvers=[r.config() for r in request.resolvers],
        examples=examples,
        resolver_version=RESOLVER_VERSION,
    )


def save_layer_weights(submission: Path, task: Task, adapter: Adapter) -> None:
    """Write the adapter's learned layer weights for ``task`` next to its records, if it has any."""
    write_layer_weights(submission, task.key, adapter.layer_weights(task.card))


def write_layer_weights(submission: Path, key: str, weights: list[float] | None) -> None:
    """Write a task's learned layer weights next to its records (nothing when there are none)."""
    if weights is not None:
        path = submission / "layers" / f"{key}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps({"task": key, "upstream_layers": len(weights), "weights": weights}) + "\n", encoding="utf-8"
        )


def evaluate(
    model: str | Adapter,
    tasks: str | Sequence[str] = (),
    out: str | Path = "submissions",
    *,
    tasks_root: str | Path = "tasks",
    name: str | None = None,
    model_args: dict[str, str] | None = None,
    limit: int | None = None,
    batch_size: int | str | None = None,
    resolvers: Sequence[LabelResolver] = (),
    control: str | None = None,
    instructions: str | int | None = None,
    constraints: str | int | None = None,
    ray: str | None = None,
    workers: int | None = None,
    mix_tasks: bool = True,
) -> list[TaskSummary]:
    """Run a model (a spec string such as ``"probe:fbank"``, or an ``Adapter`` object) and return task summaries.

    The Python form of ``bench run``: ``tasks`` takes the same selectors (names, globs,
    ``dimension:D``, folder paths; all tasks when empty), records go under
    ``out/<name>/runs/`` and a second call resumes where the first stopped. An adapter
    object is recorded in model.json as ``module:Class``. ``control`` (silence, shuffled) and
    ``instructions`` (all, N) and ``constraints`` (all, N) run the variants of
    ``bench run --control/--instructions/--constraints``;
    ``ray`` (local, auto, ray://HOST:PORT) and ``workers`` run it on Ray like ``--ray``;
    ``mix_tasks=False`` keeps every batch within one task (see ``RunRequest.mix_tasks``).

    Raises:
        RunError: a bad selector, an invalid task folder, a bad option or an adapter failure.
    """
    adapter = model if isinstance(model, Adapter) else None
    spec = f"{type(model).__module__}:{type(model).__qualname__}" if adapter is not None else str(model)
    if adapter is not None and name is None:
        name = object_name(adapter)
    request = RunRequest(
        spec=spec,
        args=dict(model_args or {}),
        selectors=[tasks] if isinstance(tasks, str) else list(tasks),
        tasks_root=Path(tasks_root),
        out=Path(out),
        name=name,
        origin=class_origin(type(adapter)) if adapter is not None else "",
        limit=limit,
        batch_size=batch_size,
        resolvers=resolvers,
        adapter=adapter,
        control=control,
        instructions=instructions,
        constraints=constraints,
        ray=RayOptions(ray, workers) if ray else None,
        mix_tasks=mix_tasks,
    )
    return run(request).summaries


def object_name(adapter: Adapter) -> str:
    """The submission name of an adapter object: its ``name``, else a slug of its class name.

    Raises:
        RunError: its ``name`` cannot be a folder name (the message says how to fix it).
    """
    if adapter.name is None:
        return submission_name(type(adapter).__name__)
    if not isinstance(adapter.name, str) or not re.match(SUBMISSION_NAME, adapter.name):
        raise RunError(
            f"{type(adapter).__qualname__}.name = {adapter.name!r} cannot name a submission folder: use letters, "
            "digits and _ . + - starting with a letter or digit (e.g. 'my-model'), or pass evaluate(..., name=...)"
        )
    return adapter.name


# ---------------------------------------------------------------- re-scoring


def rescore(
    submission: Path, tasks_root: Path, resolvers: Sequence[LabelResolver] = (), wait: float = 0.0
) -> list[TaskSummary]:
    """Re-score every record of a submission from its raw outputs (no model runs; other task versions untouched).

    Raises:
        RunError: no runs folder, the submission is in use, or a task folder or run file is invalid.
    """
    runs = submission / "runs"
    if not runs.is_dir():
        raise RunError(f"{submission} has no runs/ folder; pass submissions/<model>")
    with guarded(submission, wait, RunError):
        summaries = []
        found = discover_task_dirs([tasks_root]) if tasks_root.is_dir() else []
        tasks = {t.key: t for t in load_tasks(found, index_path(submission.parent))}
        for path in sorted(runs.glob("*.jsonl")):
            if ".stale-" in path.name or path.stem not in tasks:
                continue
            task = tasks[path.stem]
            by_id = {e.id: e for e in task.examples}
            score = scorer_for(task, resolvers, submission)
            try:
                records = [r for r in read_records(path, repair=True) if r.id in by_id]
            except RunFileError as exc:
                raise RunError(f"{exc}; move the file aside (or delete it) and re-run the model on {task.key}") from exc
            try:
                updated = [rescore_record(r, score, by_id[r.id]) for r in records]
            except AudioError as exc:  # a reference an audio metric reads: its header passed, its frames do not
                raise RunError(f"{exc.code} {exc} (`bench validate --deep` lists such files)") from exc
            write_records_atomic(path, updated)
            summaries.append(summarize(task, updated, variant_of(r.unit for r in updated)))
        return summaries
