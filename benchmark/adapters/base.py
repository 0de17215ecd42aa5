"""The adapter interface: one required method, ``predict``; ``fit`` for adapters that train.

An adapter sees what a model may see: ``fit`` gets a task holding its train split
only, ``predict`` gets the task card and the queries (instruction and audio),
never a test label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from benchmark.scoring.speech.answer import AudioAnswer
from benchmark.task.card import Example, TaskCard
from benchmark.task.folder import Task

Answer = str | AudioAnswer
"""What ``predict`` returns per query: text, or for an ``audio`` task an :class:`AudioAnswer`."""


@dataclass(frozen=True)
class Query:
    """One example as a model sees it."""

    id: str
    """Example id (adapters that sample use it as a seed, so reruns answer the same)."""
    instruction: str
    """The prompt for this example."""
    audio: Sequence[np.ndarray] = field(default_factory=tuple)
    """float32 mono 16 kHz clips, in order (empty when the adapter does not read audio)."""
    text: str | None = None
    """Optional text input: the example's ``text`` (what to say, for text-to-speech; a written question)."""
    transcript: Sequence[str] | None = None
    """The example's oracle transcript, one per clip: given only to an adapter whose ``reads_transcripts`` is
    true (a text-view reference system, e.g. ``cascade`` with ``text_view=oracle``)."""
    reference: Sequence[np.ndarray] = field(default_factory=tuple)
    """The example's reference audio, decoded like ``audio``: given only to an adapter that sets
    ``reads_references`` (the reference row, which scores the task's own references as a ceiling)."""


def query_for(task: Task, example: Example, audio: Sequence[np.ndarray], adapter: Adapter) -> Query:
    """What ``adapter`` sees of ``example``: its instruction, the clips given (``audio``) and its ``text``.

    A reference system also gets what it asks for: the oracle transcripts (``reads_transcripts``) or the
    reference audio (``reads_references``).
    """
    return Query(
        id=example.id,
        instruction=task.instruction_for(example),
        audio=audio,
        text=example.text,
        transcript=example.transcripts if adapter.reads_transcripts else None,
        reference=task.load_references(example) if adapter.reads_references else (),
    )


class AdapterError(Exception):
    """A user-facing adapter failure (missing model, unusable option): reported without a traceback."""


class OptionError(AdapterError):
    """An adapter option (``--model-arg``, ``--device``, ``--dtype``) that cannot be used."""


def int_option(name: str, value: object) -> int:
    """An integer ``--model-arg`` (values arrive as strings from the command line)."""
    try:
        return int(str(value))
    except ValueError as exc:
        raise OptionError(f"--model-arg {name}={value!r} must be an integer") from exc


def float_option(name: str, value: object) -> float:
    """A numeric ``--model-arg``."""
    try:
        return float(str(value))
    except ValueError as exc:
        raise OptionError(f"--model-arg {name}={value!r} must be a number") from exc


def offline_hint(source: str, exc: Exception, local_form: str) -> str:
    """Why a model could not be loaded; for a hub id, how to pass a local folder instead."""
    if Path(source).exists():
        return f"cannot load {source}: {exc}"
    return (
        f"cannot load {source!r} ({exc}). The hub is offline here (HF_HUB_OFFLINE=1) or unreachable: "
        f"download the model where there is network and pass its local folder, e.g. {local_form}"
    )


def checked_outputs(outputs: object, expected: int, task_key: str, audio: bool = False) -> list[Answer]:
    """An adapter's outputs for ``expected`` queries, if they are one answer per query.

    A text task takes one string per query; an audio task (``audio``) one :class:`AudioAnswer` per query, or
    a string, which is kept as a text-only answer and scored as missing audio.

    Raises:
        AdapterError: anything else (None, a count mismatch, another type), naming what came back.
    """
    kinds = (str, AudioAnswer) if audio else (str,)
    if isinstance(outputs, list) and len(outputs) == expected and all(isinstance(o, kinds) for o in outputs):
        return outputs
    got = f"{len(outputs)} outputs" if isinstance(outputs, list) else repr(outputs)[:40]
    if isinstance(outputs, list) and len(outputs) == expected:
        wrong = next(o for o in outputs if not isinstance(o, kinds))
        got = f"a {type(wrong).__name__} among its outputs"
    one = "one AudioAnswer" if audio else "one string"
    raise AdapterError(
        f"the adapter returned {got} for {expected} queries of {task_key} "
        f"(predict must return a list with {one} per query)"
    )


def checked_mixed(outputs: object, tasks: Sequence[Task]) -> list[Answer]:
    """``checked_outputs`` for a batch across tasks: each output must suit its own task's answer kind."""
    keys = ", ".join(dict.fromkeys(t.key for t in tasks))
    checked = checked_outputs(outputs, len(tasks), keys, any(t.card.task_type == "audio" for t in tasks))
    for output, task in zip(checked, tasks, strict=True):
        if isinstance(output, AudioAnswer) and task.card.task_type != "audio":
            raise AdapterError(f"the adapter returned an AudioAnswer for a query of {task.key}, whose answer is text")
    return checked


class Adapter:
    """Base class of every model adapter.

    Subclasses implement ``predict``. Adapters that learn from a task's train split
    set ``needs_train = True`` and implement ``fit``; adapters with weights load them
    in ``load``, which the runner calls only after every compatibility check passed; the runner calls ``fit``
    with each task's train split before predicting on it. ``needs_audio = False`` lets
    the runner skip decoding for models that never listen (the baselines).
    ``mixes_tasks = True`` says one batch may hold examples of several tasks: the
    runner then forms batches across tasks from length-sorted examples and calls
    ``predict_mixed`` (an adapter that trains per task never mixes).
    ``default_batch_size`` is the examples per predict call when the user gives none
    (``--batch-size``).
    """

    needs_train: ClassVar[bool] = False
    needs_audio: ClassVar[bool] = True
    mixes_tasks: ClassVar[bool] = False
    default_batch_size: int = 16
    """Examples per predict call when ``--batch-size`` is not given (an instance may set its own)."""
    name: str | None = None
    """The submission name of runs of this adapter object (``evaluate(MyAdapter())``); None: the class name.
    Runs from a spec string are named after the spec (``probe:fbank`` -> ``probe-fbank``)."""
    answers: ClassVar[frozenset[str]] = frozenset({"text"})
    """What the model can answer with: ``text``, ``audio`` (it speaks: ``predict`` returns
    :class:`AudioAnswer`), or both. A task whose answer it cannot give is skipped and shown as n/a, never 0."""
    reads_transcripts: bool = False
    """A text-view reference system that reads each example's oracle ``transcript`` (``Query.transcript``)
    instead of listening; its run is a reference row, never a model under evaluation."""
    reads_references: ClassVar[bool] = False
    """A reference system that is handed each example's reference audio (``Query.reference``); its model card
    says so and the board marks its row. Never set by a model under evaluation."""
    libraries: ClassVar[tuple[str, ...]] = ()
    """Distribution names whose versions go into each run header (e.g. ``("transformers",)``)."""

    def load(self) -> None:
        """Load weights and other heavy state. Constructors stay cheap, so checks run first."""

    def check(self, card: TaskCard, n_train: int) -> str | None:
        """Why this adapter cannot run a task, or None. Runs before any model is loaded."""
        if self.needs_train and n_train == 0:
            return f"{card.name} has no train split, and this adapter learns from it"
        kind = "audio" if card.task_type == "audio" else "text"
        if kind not in self.answers:
            can = " or ".join(sorted(self.answers))
            return f"{card.name} is answered with {kind}, and this model answers with {can}"
        return None

    def fit(self, task: Task) -> None:
        """Learn from ``task``, which holds the train split only, before predicting on it (default: nothing)."""

    def predict(self, card: TaskCard, batch: Sequence[Query]) -> Sequence[Answer]:
        """Answer a batch of queries of the task ``card`` describes.

        One raw text output each, or one :class:`AudioAnswer` each for an ``audio`` task.
        """
        raise NotImplementedError

    def predict_mixed(self, items: Sequence[tuple[TaskCard, Query]]) -> Sequence[Answer]:
        """Answer queries of possibly several tasks, in order; by default one ``predict`` call per task.

        Adapters with ``mixes_tasks = True`` override this so that one forward pass holds them all.

        Raises:
            AdapterError: ``predict`` did not return one string per query.
        """
        groups: dict[str, tuple[TaskCard, list[int]]] = {}
        for i, (card, _) in enumerate(items):
            groups.setdefault(card.key, (card, []))[1].append(i)
        out: list[Answer] = [""] * len(items)
        for card, positions in groups.values():
            batch = [items[i][1] for i in positions]
            answers = checked_outputs(self.predict(card, batch), len(positions), card.key, card.task_type == "audio")
            for i, answer in zip(positions, answers, strict=True):
                out[i] = answer
        return out

    def input_length(self, instruction: str, seconds: float) -> float:
        """The size of an example's model input, to sort batches across tasks so that they pad little.

        ``seconds`` is the length of the example's clips. The default is that length;
        an adapter that knows its input (e.g. tokens per second of audio and the
        instruction's tokens) does better.
        """
        return seconds

    def layer_weights(self, card: TaskCard) -> list[float] | None:
        """Learned layer weights to save with the run (SSL probes); None for other adapters."""
        return None

    def info(self) -> dict[str, object]:
        """Facts for model.json (e.g. ``parameters``); empty by default."""
        return {}
