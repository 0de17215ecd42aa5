"""A task's outputs -> scored records: binds a task's card and examples to the pure scoring functions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmark.scoring.following import follow
from benchmark.scoring.labels import LabelResolver, Resolution
from benchmark.scoring.score import ExampleScore, score_output
from benchmark.scoring.speech.answer import StoredAnswer
from benchmark.submission.audio_scorer import AudioNotStored, AudioScorer
from benchmark.submission.audio_store import AudioStore, ScoreCache
from benchmark.submission.records import Record
from benchmark.task.card import Example
from benchmark.task.folder import Task

Scorer = Callable[[Example, Any], ExampleScore]
"""``(example, answer) -> ExampleScore``; the answer is text, an ``AudioAnswer``, or a record's ``StoredAnswer``."""


def label_range(task: Task) -> tuple[float, float]:
    """Range of a regression task's labels over both splits (bounds the N/A fill)."""
    values = [float(e.label) for e in task.examples]
    return (min(values), max(values)) if values else (0.0, 0.0)


def scorer_for(
    task: Task, resolvers: Sequence[LabelResolver] = (), submission: Path | None = None, *, one_answer: bool = False
) -> Scorer:
    """A function scoring one raw output for an example of ``task``.

    An ``audio`` task's answers are files the harness writes under ``submission`` (required for one).
    ``one_answer``: the calls score one answer (the chance level's), so each reading of it
    (per instruction) is kept for the next call.
    """
    card = task.card
    if card.task_type == "audio":
        if submission is None:
            raise ValueError(f"scoring {task.key} needs the submission folder its audio answers are stored in")
        audio = submission / "audio"
        return AudioScorer(task, AudioStore(audio), ScoreCache(audio / "scores.jsonl"))
    bounds = label_range(task) if card.task_type == "regression" else (0.0, 0.0)
    readings: dict[tuple[str, str], Resolution] | None = {} if one_answer else None

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
            readings=readings,
        )

    def score(example: Example, output: str) -> ExampleScore:
        if not example.constraints:
            return read(example, output)
        # Following the format and getting the task right are separate numbers: the answer is read unwrapped.
        following = follow(output, example.constraints, card.translations)
        return replace(read(example, following.answer), following=following)

    return score


def answer_of(record: Record) -> Any:
    """A record's answer as the scorer takes it again: its raw text, or its stored audio answer."""
    if record.audio is None:
        return record.output
    return StoredAnswer(tuple(record.audio), tuple(record.audio_statuses or ()), record.output)


def make_record(
    task: Task,
    example: Example,
    output: Any,
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
        output=scored.audio.text if scored.audio is not None else str(output),
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
        **audio_fields(scored),
    )


def audio_fields(scored: ExampleScore) -> dict[str, Any]:
    """An audio answer's clips, their statuses and every reported metric's score (none for a text answer)."""
    if scored.audio is None:
        return {"audio": None, "audio_statuses": None, "speech": None}
    return {"audio": list(scored.audio.hashes), "audio_statuses": list(scored.audio.statuses), "speech": scored.speech}


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
            **audio_fields(scored),
        }
    )


def rescore_record(record: Record, score: Scorer, example: Example) -> Record:
    """A record scored again from its raw output or stored audio; as it was when its audio is not here."""
    try:
        return rescored(record, score(example_as_run(example, record), answer_of(record)))
    except AudioNotStored:
        return record  # a clone holds the records, not the audio: its scores stand (the audio folder is not committed)


def example_as_run(example: Example, record: Record) -> Example:
    """The example as a record saw it, so that re-scoring reads it as the run did.

    An ``--instructions`` or ``--constraints`` record ran under its own prompt, and a constraint run's record
    names the constraints its prompt carried (they are checked and unwrapped again).
    """
    update: dict[str, object] = {}
    if record.instruction_index is not None or record.constraint_index is not None:
        update["instruction"] = record.instruction
    if record.constraint_index is not None and record.checks:
        update["constraints"] = [{"id": c["id"], "args": c["args"]} for c in record.checks]
    return example.model_copy(update=update) if update else example
