"""Paralinguistic tasks: how the words are spoken (rate, pitch, phonation), whatever they are."""

from __future__ import annotations

import numpy as np

from benchmark.suite.spec import (
    ADJECTIVES,
    MALE,
    NOUNS,
    OBJECTS,
    SPEECH_NOTE,
    VERBS,
    Item,
    SuiteTask,
    classification_instructions,
    opt_in,
    pick,
    pick_voice,
    say,
)

RATE_SENTENCES = ["the quick brown fox jumps high", "she sells shells by the shore", "a rose grows in the garden"]


def _speaking_rate(rng: np.random.Generator, i: int) -> Item:
    wpm = int(rng.integers(80, 281))
    audio, key = say(str(pick(rng, RATE_SENTENCES)), pick_voice(rng), rng, speed=wpm)
    return Item([audio], float(wpm), (key,))


SPEAKING_RATE = SuiteTask(
    name="SpeakingRate",
    dimension="paralinguistics",
    task_type="regression",
    metric="mae",
    description="How fast is the speaker talking, in words per minute?",
    objective="Speaking-rate estimation: espeak-ng's words-per-minute setting (80-280).",
    how_made=f"{SPEECH_NOTE}; three fixed six-word sentences, rate drawn uniformly from 80 to 280 words per minute.",
    instructions=[
        "Estimate the speaking rate in words per minute.",
        "How many words per minute is the speaker saying? Answer with a number.",
        "Give the speech rate (words per minute).",
        "What is the speaking speed in words per minute?",
        "Listen and estimate the words per minute.",
    ],
    make=_speaking_rate,
    languages=["en"],
)


PITCH_LEVELS = {"low": (0, 15), "medium": (45, 55), "high": (85, 99)}


def _pitch_level(rng: np.random.Generator, i: int) -> Item:
    label = list(PITCH_LEVELS)[i % 3]
    lo, hi = PITCH_LEVELS[label]
    audio, key = say(
        f"{pick(rng, ADJECTIVES)} {pick(rng, NOUNS)}", pick_voice(rng, MALE), rng, pitch=int(rng.integers(lo, hi + 1))
    )
    return Item([audio], label, (key,))


PITCH_LEVEL = SuiteTask(
    name="PitchLevel",
    dimension="paralinguistics",
    task_type="classification",
    metric="accuracy",
    description="Is the voice low, medium or high pitched?",
    objective="Pitch level of the same male voices at three espeak-ng pitch settings.",
    how_made=f"{SPEECH_NOTE}; male variants at pitch 0-15 (low), 45-55 (medium) or 85-99 (high).",
    instructions=classification_instructions("How high is the speaker's voice?", list(PITCH_LEVELS)),
    make=_pitch_level,
    labels=list(PITCH_LEVELS),
    languages=["en"],
    version="1.1.0",
    constraints=opt_in("lower", "json", "words_max", "ends_with", "avoid_word"),
)


def _whisper(rng: np.random.Generator, i: int) -> Item:
    label = ["whispered", "voiced"][i % 2]
    voice = (
        str(pick(rng, ["en-us+whisper", "en-us+female_whisper", "en-gb+whisper"]))
        if label == "whispered"
        else pick_voice(rng)
    )
    audio, key = say(f"{pick(rng, VERBS)} {pick(rng, OBJECTS)}", voice, rng)
    return Item([audio], label, (key,))


WHISPER_DETECTION = SuiteTask(
    name="WhisperDetection",
    dimension="paralinguistics",
    task_type="classification",
    metric="accuracy",
    description="Is the speech whispered or voiced?",
    objective="Phonation type: whispered speech against normal voiced speech.",
    how_made=f"{SPEECH_NOTE}; whisper variants against ordinary variants.",
    instructions=classification_instructions(
        "Is the speaker whispering or speaking normally (voiced)?", ["whispered", "voiced"]
    ),
    make=_whisper,
    labels=["whispered", "voiced"],
    languages=["en"],
    version="1.1.0",
    constraints=opt_in("upper", "json", "words_max", "starts_with", "wrap_quotes"),
)


TASKS: list[SuiteTask] = [SPEAKING_RATE, PITCH_LEVEL, WHISPER_DETECTION]
"""The paralinguistic tasks, in the suite's order."""
