"""A task's outputs -> scored records: binds a task's card and examples to the pure scoring functions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from benchmark.scoring.following import follow
from benchmark.scoring.labels import LabelResolver
from benchmark.scoring.score import ExampleScore, score_output
from benchmark.submission.records import Record
from benchmark.task.card import Example
from benchmark.task.folder import Task

Scorer = Callable[[Example, str], ExampleScore]


def label_range(task: Task) -> tuple[float, float]:
    """Range of a regression task's labels over both splits (bounds the N/A fill)."""
    values = [float(e.label) for e in task.examples]
    return (min(values), max(values)) if values else (0.0, 0.0)


def scorer_for(task: Task, resolvers: Sequence[LabelResolver] = ()) -> Scorer:
    """A function scoring one raw output for an example of ``task``."""
    card = task.card
    bounds = label_range(task) if card.task_type == "regression" else (0.0, 0.0)

    def read(example: Example, output: str) -> ExampleScore:
        return score_output(
            output,
            example.label,
            task_type=card.task_type,
            metric=card.metric,
            labels=card.labels or (),
            label_range=bounds,
            instruction=task.instruction_for(example),
            resolvers=resolvers,
        )

    def score(example: Example, output: str) -> ExampleScore:
        if not example.constraints:
            return read(example, output)
        # Following the format and getting the task right are separate numbers: the answer is read unwrapped.
        following = follow(output, example.constraints, card.translations)
        return replace(read(example, following.answer), following=following)

    return score


def make_record(
    task: Task,
    example: Example,
    output: str,
    scored: ExampleScore,
    seconds: float,
    instruction_index: int | None = None,
    constraint_index: int | None = None,
) -> Record:
    """The record of one answer (``instruction_index``: which card instruction, in ``--instructions`` runs)."""
    return Record(
        task=task.name,
        task_version=task.card.version,
        task_hash=task.content_hash,
        id=example.id,
        split=example.split,
        instruction=task.instruction_for(example),
        instruction_index=instruction_index,
        reference=example.label,
        output=str(output),
        answer=scored.answer,
        tier=scored.tier,
        score=scored.score,
        errors=scored.errors,
        ref_units=scored.ref_units,
        value=scored.value,
        seconds=round(seconds, 6),
        # Ranking adapters return a str subclass carrying every label's score.
        label_scores=getattr(output, "label_scores", None),
        constraint_index=constraint_index,
        **following_fields(scored),
        **reading_fields(scored),
    )


def reading_fields(scored: ExampleScore) -> dict[str, Any]:
    """Which reader version read the answer, and (generation) the normalised forms the metric compared."""
    return {
        "resolver_version": scored.resolver_version,
        "normalised_answer": scored.normalised_answer,
        "normalised_reference": scored.normalised_reference,
    }


def following_fields(scored: ExampleScore) -> dict[str, Any]:
    """The instruction-following fields of a record (none for a prompt without constraints)."""
    f = scored.following
    if f is None:
        return {"checks": None, "if_strict": None, "if_loose": None, "checker_version": None}
    return {
        "checks": [c.as_json() for c in f.checks],
        "if_strict": f.strict,
        "if_loose": f.loose,
        "checker_version": f.version,
    }


def rescored(record: Record, scored: ExampleScore) -> Record:
    """A record with its resolution and score replaced (its raw output is kept)."""
    return record.model_copy(
        update={
            "answer": scored.answer,
            "tier": scored.tier,
            "score": scored.score,
            "errors": scored.errors,
            "ref_units": scored.ref_units,
            "value": scored.value,
            **following_fields(scored),
            **reading_fields(scored),
        }
    )
