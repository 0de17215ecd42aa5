"""What a suite task is, and the pieces the dimension modules share: voices, words, speech and seeding.

A ``SuiteTask`` pairs a task card's fields with a maker, a function that draws one
``Item`` from a seeded ``numpy`` generator. ``draw_items`` seeds that generator
from the task name, so the same task always yields the same examples.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

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

    audio: list[np.ndarray]
    label: str | float
    keys: tuple[tuple[object, ...], ...]
    """Generation parameters of each clip; two clips with the same key would sound the same, so a
    task never repeats a key (no clip is shared between examples, hence none between splits)."""


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
    """Bump when the maker, instructions or labels change (the versioning rule of CONTRIBUTING.md)."""


def pick(rng: np.random.Generator, options: Sequence[object]) -> object:
    """One of ``options``, uniformly."""
    return options[int(rng.integers(len(options)))]


def pick_voice(rng: np.random.Generator, pool: Sequence[str] = VOICES) -> str:
    """One espeak-ng voice of ``pool``, uniformly."""
    return str(pick(rng, pool))


def say(
    text: str, voice: str, rng: np.random.Generator, speed: int | None = None, pitch: int | None = None
) -> tuple[np.ndarray, tuple[object, ...]]:
    """Speak ``text`` at a random peak level, with speed and pitch drawn unless given.

    Returns:
        The clip, and its generation key ``(text, voice, speed, pitch)``.
    """
    speed = int(rng.integers(130, 200)) if speed is None else speed
    pitch = int(rng.integers(30, 70)) if pitch is None else pitch
    return synth.normalise(synth.speak(text, voice, speed, pitch), float(rng.uniform(0.25, 0.6))), (
        text,
        voice,
        speed,
        pitch,
    )


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


def seed(name: str) -> int:
    """The generator seed of a task: a hash of its name, so tasks are independent of each other's order."""
    return int.from_bytes(hashlib.sha256(f"{SEED_SALT}/{name}".encode()).digest()[:8], "big")


def draw_items(spec: SuiteTask) -> list[Item]:
    """Draw N_TRAIN + N_TEST items whose clips all have distinct generation keys (train first)."""
    rng = np.random.default_rng(seed(spec.name))
    items: list[Item] = []
    used: set[tuple[object, ...]] = set()
    for _ in range(50 * (N_TRAIN + N_TEST)):
        item = spec.make(rng, len(items))
        if len(set(item.keys)) == len(item.keys) and not used.intersection(item.keys):
            used.update(item.keys)
            items.append(item)
            if len(items) == N_TRAIN + N_TEST:
                return items
    raise RuntimeError(f"{spec.name}: cannot draw enough distinct examples")
