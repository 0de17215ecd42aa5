"""What a suite task is, and the pieces the dimension modules share: voices, words, speech and seeding.

A ``SuiteTask`` pairs a task card's fields with a maker, a function that draws one
``Item`` from a seeded ``numpy`` generator. ``draw_items`` seeds that generator
from the task name, so the same task always yields the same examples.

Instruction following comes in two forms: a card opts in to constraint sets of the
shared library (``opt_in``) for ``bench run --constraints``, and a native task speaks
a format request (``Request``) in each clip, whose constraints the example carries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmark.suite import synth

N_TRAIN, N_TEST = 64, 32
SEED_SALT = "speech-benchmark-suite-v1"

FEMALE = [f"en-us+f{i}" for i in range(1, 6)] + [f"en-gb+f{i}" for i in range(1, 6)]
MALE = [f"en-us+m{i}" for i in range(1, 8)] + [f"en-gb+m{i}" for i in range(1, 4)]
VOICES = FEMALE + MALE

DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
NUMBER_WORDS = DIGITS + [
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
]

# Short phrases are built from these word lists by several dimensions, so that what is said
# carries no cue about the label a speaker, paralinguistic or degradation task asks for.
ADJECTIVES = ["small", "red", "old", "happy", "quiet", "green", "bright", "cold", "young", "heavy"]
NOUNS = ["dog", "cat", "boy", "girl", "bird", "car", "tree", "horse", "child", "teacher"]
VERBS = ["sees", "likes", "finds", "follows", "helps", "calls", "watches", "pulls", "meets", "hears"]
OBJECTS = [
    "a ball",
    "the door",
    "a book",
    "the river",
    "a box",
    "the garden",
    "a cup",
    "the road",
    "a hat",
    "the window",
]

SPEECH_NOTE = "Speech synthesised with espeak-ng ({espeak}) using several voice variants, speeds and pitches"
"""Start of the ``how_made`` text of speech tasks; ``{espeak}`` becomes the espeak-ng version when written."""


@dataclass
class Item:
    """One generated example before it is written."""

    audio: list[np.ndarray | str]
    """The input clips; a string names a clip of the task's voice bank (``SuiteTask.bank``, audio tasks only)."""
    label: str | float
    keys: tuple[tuple[object, ...], ...]
    """Generation parameters of each clip; two clips with the same key would sound the same, so a
    task never repeats a key (no clip is shared between examples, hence none between splits)."""
    constraints: list[dict[str, Any]] | None = None
    """The constraints a spoken request in the clip states (native instruction-following tasks only)."""
    answer: Answer | None = None
    """What an ``audio`` task's example carries besides its input clips (audio tasks only)."""


@dataclass
class Answer:
    """The references of an ``audio`` task's example: what the answer is scored against, written beside the inputs.

    References are not model inputs: the folder checks let train and test share them, so the voices whose
    prompts serve as distractors are clips of the task's voice bank (``SuiteTask.bank``), written once.
    """

    text: str | None = None
    """Text the model is given besides the instruction (what to say)."""
    prompt_input: int | None = None
    """Index of the input clip that is the speaker prompt (the metrics read the same file again)."""
    reference: list[np.ndarray] = field(default_factory=list)
    """The reference answer: one clip, or one per source."""
    reference_list: bool = False
    """Write ``reference_audio`` as a list even when it holds one clip (so SI-SDR reads it as one source)."""
    distractors: list[str] = field(default_factory=list)
    """Names of voice-bank clips in other voices (retrieval against the speaker prompt)."""


Maker = Callable[[np.random.Generator, int], Item]
"""Draws the ``i``-th item of a task from the task's generator."""


@dataclass(kw_only=True)
class SuiteTask:
    """How one task is made and described."""

    name: str
    dimension: str
    task_type: str
    metric: str
    description: str
    objective: str
    how_made: str
    instructions: list[str]
    make: Maker
    labels: list[str] | None = None
    languages: list[str] = field(default_factory=list)
    audio_inputs: int = 1
    version: str = "1.0.0"
    """Bump when the maker, instructions, labels or constraints change (the versioning rule of CONTRIBUTING.md)."""
    constraints: list[dict[str, Any]] | None = None
    """Constraint sets of the shared library the card opts in to (``opt_in``), for ``bench run --constraints``."""
    translations: dict[str, dict[str, str | list[str]]] | None = None
    """Label translations by language code; a ``language_zh`` set needs one for every label."""
    n_train: int = N_TRAIN
    """Train examples (before the N_TEST test examples); audio tasks keep a few, since they are larger."""
    output: dict[str, Any] | None = None
    """The card's ``output`` block (``audio`` tasks only): sources, length, voice, language, further metrics."""
    bank: Callable[[], dict[str, np.ndarray]] | None = None
    """The task's voice bank (``audio`` tasks only): named reference clips that examples share as distractors."""


def pick(rng: np.random.Generator, options: Sequence[object]) -> object:
    """One of ``options``, uniformly."""
    return options[int(rng.integers(len(options)))]


def pick_voice(rng: np.random.Generator, pool: Sequence[str] = VOICES) -> str:
    """One espeak-ng voice of ``pool``, uniformly."""
    return str(pick(rng, pool))


def say(
    text: str,
    voice: str,
    rng: np.random.Generator,
    speed: int | None = None,
    pitch: int | None = None,
    level: float | None = None,
) -> tuple[np.ndarray, tuple[object, ...]]:
    """Speak ``text`` at a peak ``level``, with speed, pitch and level drawn unless given.

    Returns:
        The clip, and its generation key ``(text, voice, speed, pitch)``.
    """
    speed = int(rng.integers(130, 200)) if speed is None else speed
    pitch = int(rng.integers(30, 70)) if pitch is None else pitch
    level = float(rng.uniform(0.25, 0.6)) if level is None else level
    return synth.normalise(synth.speak(text, voice, speed, pitch), level), (text, voice, speed, pitch)


def choices(labels: Sequence[str]) -> str:
    """``a, b or c``."""
    return ", ".join(labels[:-1]) + f" or {labels[-1]}"


def classification_instructions(question: str, labels: Sequence[str]) -> list[str]:
    """Five phrasings of ``question``, each naming every label (as the card rules ask of classification)."""
    options = choices(labels)
    return [
        f"{question} Answer with {options}.",
        f"Listen to the recording. {question} Reply with one of: {options}.",
        f"{question} Choose from {options}.",
        f"Please answer with a single word ({options}): {question[0].lower() + question[1:]}",
        f"Here is an audio clip. {question} Possible answers: {options}.",
    ]


def opt_in(*set_ids: str) -> list[dict[str, Any]]:
    """Sets of the shared constraint library by id, with the library's arguments and phrasings.

    Each task picks sets its labels can obey: every label is a lower-case word or two, so
    ``upper`` and ``lower`` both fit, ``words_max`` (10) allows the longest label, and no
    label is the word ``avoid_word`` forbids (card validation checks ids and translations).
    """
    return [{"id": set_id} for set_id in set_ids]


@dataclass(frozen=True)
class Request:
    """A format request spoken after the question of a native instruction-following task."""

    text: str
    """What the speaker says, e.g. "Answer in capital letters."."""
    family: str
    """The constraint family it states (``upper``, ``json``, ``words``, ...)."""
    args: dict[str, Any] = field(default_factory=dict)
    """The family's arguments, as the request states them."""

    def as_json(self) -> list[dict[str, Any]]:
        """The constraints as an example carries them: ``[{"id": family, "args": {...}}]`` (a fresh copy)."""
        return [{"id": self.family, "args": dict(self.args)}]


def crossed(i: int, n_labels: int, n_requests: int) -> tuple[int, int]:
    """The label and request indexes of item ``i``: labels in turn, requests shifted by one each round.

    Labels cycle so that every split is balanced; the shift makes every label meet every request
    over the train split and every request appear in the test split (a plain ``i % n_requests``
    would pair labels and requests in lockstep when the two counts share a factor).
    """
    label, rounds = i % n_labels, i // n_labels
    return label, (label + rounds) % n_requests


def say_briskly(text: str, rng: np.random.Generator) -> tuple[np.ndarray, tuple[object, ...]]:
    """``say`` in a random voice, faster and quieter: for the two-sentence clips of native tasks.

    A question followed by a spoken request is two to three times as long as the other clips;
    faster speech at a lower peak level (fewer bits per FLAC sample) keeps them within the
    suite's size budget, and both stay well inside what espeak-ng makes intelligible.
    """
    voice = pick_voice(rng)
    return say(text, voice, rng, speed=int(rng.integers(170, 210)), level=float(rng.uniform(0.15, 0.3)))


def request_instructions(subject: str, labels: Sequence[str]) -> list[str]:
    """Five text instructions of a native task (``subject``: "The animal"); each names every label.

    They say only to follow the spoken request and state no format themselves, so the format
    a model is asked for is the one it hears.
    """
    options = choices(labels)
    return [
        f"Listen to the recording and do what the speaker asks. {subject} is one of {options}.",
        f"The speaker asks a question and says how to answer it; follow the spoken request. Options: {options}.",
        f"Answer the spoken question exactly as the speaker asks you to. Possible answers: {options}.",
        f"Follow the request in the audio. {subject} is {options}.",
        f"Here is a spoken request. Do what it says; the answer is one of: {options}.",
    ]


def seed(name: str) -> int:
    """The generator seed of a task: a hash of its name, so tasks are independent of each other's order."""
    return int.from_bytes(hashlib.sha256(f"{SEED_SALT}/{name}".encode()).digest()[:8], "big")


def draw_items(spec: SuiteTask) -> list[Item]:
    """Draw ``spec.n_train`` + N_TEST items whose clips all have distinct generation keys (train first)."""
    rng = np.random.default_rng(seed(spec.name))
    items: list[Item] = []
    used: set[tuple[object, ...]] = set()
    total = spec.n_train + N_TEST
    for _ in range(50 * total):
        item = spec.make(rng, len(items))
        if len(set(item.keys)) == len(item.keys) and not used.intersection(item.keys):
            used.update(item.keys)
            items.append(item)
            if len(items) == total:
                return items
    raise RuntimeError(f"{spec.name}: cannot draw enough distinct examples")
