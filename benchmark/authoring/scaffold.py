"""``bench new-task``: a task folder that validates once audio and examples are added."""

from __future__ import annotations

import re
from pathlib import Path

from benchmark.task.card import METRICS_BY_TASK_TYPE, NAME_PATTERN, TaskCard
from benchmark.task.writer import TaskWriter

README_TEMPLATE = """\
# {name}

{description}

## Objective

TODO: what ability the task measures and why it matters for speech models.

## Data provenance

TODO: where the audio comes from, how it was selected, recorded or generated, and
how the labels were made. Name the original dataset and link it in task.json.

## Licence

{license}. TODO: state the terms of the original data and any attribution required.

## Example

- instruction: "{instruction}"
- audio: `audio/0001.flac`
- label: TODO

## Baseline

TODO: chance level (e.g. majority class) and any model scores you measured with
`bench run`.
"""


def default_instructions(task_type: str, labels: list[str] | None) -> list[str]:
    """Five generic, valid instructions to start from; contributors make them task-specific."""
    if task_type == "classification" and labels:
        options = ", ".join(labels[:-1]) + f" or {labels[-1]}" if len(labels) > 1 else labels[0]
        return [
            f"Listen to the audio and answer with one of: {options}.",
            f"Which of these best describes the recording: {options}?",
            f"Choose the correct answer for this clip ({options}).",
            f"After listening, reply with exactly one word from this list: {options}.",
            f"Classify the audio. Possible answers: {options}.",
        ]
    if task_type == "regression":
        return [
            "Listen to the audio and answer with a single number.",
            "Estimate the value for this recording and reply with a number only.",
            "What is the value for this clip? Answer with a number.",
            "Give your numeric estimate for the audio.",
            "Reply with one number describing this recording.",
        ]
    if task_type == "audio":
        return [
            "Listen to the audio and answer with speech: return your answer as audio.",
            "Respond to the recording out loud; your answer is an audio clip.",
            "Produce the audio this clip calls for.",
            "After listening, speak your answer (return audio, not text).",
            "Return one audio clip that answers the recording.",
        ]
    return [
        "Listen to the audio and write your answer as text.",
        "Respond to the recording in writing.",
        "Write the answer for this audio clip.",
        "After listening, give your answer as a short text.",
        "Produce the text this audio calls for.",
    ]


class ScaffoldError(Exception):
    """The scaffold cannot be written (bad name, folder exists, missing labels)."""


def new_task(
    root: Path,
    name: str,
    *,
    dimension: str,
    task_type: str,
    labels: list[str] | None = None,
    metric: str | None = None,
    license_id: str = "CC-BY-4.0",
    languages: list[str] | None = None,
    authors: list[str] | None = None,
    audio_inputs: int = 1,
) -> Path:
    """Write ``root/name`` with task.json, an empty examples.jsonl, audio/ and a README.

    Raises:
        ScaffoldError: the name is not valid, the folder exists, or the card would not validate.
    """
    if not re.match(NAME_PATTERN, name):
        raise ScaffoldError(f"task name {name!r} must match {NAME_PATTERN}, e.g. SpeakerGender")
    folder = root / name
    if folder.exists():
        raise ScaffoldError(f"{folder} already exists")
    if task_type == "classification" and not labels:
        raise ScaffoldError("a classification task needs --labels, e.g. --labels male,female")
    if task_type not in METRICS_BY_TASK_TYPE:
        raise ScaffoldError(f"unknown task type {task_type!r}")
    description = f"TODO: one or two sentences on what {name} measures."
    card_data = {
        "name": name,
        "version": "0.1.0",
        "description": description,
        "dimension": dimension,
        "task_type": task_type,
        "metric": metric or METRICS_BY_TASK_TYPE[task_type][0],
        **({"labels": labels} if task_type == "classification" else {}),
        "instructions": default_instructions(task_type, labels),
        "audio_inputs": audio_inputs,
        "license": license_id,
        "source": {"dataset": "", "url": "", "citation": "", "notes": "TODO: how the data was made"},
        "languages": languages or [],
        "authors": authors or ["TODO: your name"],
        # An audio answer: one clip of at most 30 s in any voice; edit sources, speaker and metrics to the task.
        **({"output": {"sources": 1, "max_seconds": 30.0, "speaker": "any"}} if task_type == "audio" else {}),
    }
    try:
        card = TaskCard.model_validate(card_data)
    except ValueError as exc:
        raise ScaffoldError(str(exc)) from exc
    readme = README_TEMPLATE.format(
        name=name, description=description, license=license_id, instruction=card.instructions[0]
    )
    with TaskWriter(folder) as writer:
        return writer.finish(card, [], readme)
