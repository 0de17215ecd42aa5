"""Speaker tasks: who speaks, whether two clips share a speaker, and how many speakers take turns."""

from __future__ import annotations

import numpy as np

from benchmark.suite import synth
from benchmark.suite.spec import (
    ADJECTIVES,
    FEMALE,
    MALE,
    NOUNS,
    NUMBER_WORDS,
    SPEECH_NOTE,
    Item,
    SuiteTask,
    classification_instructions,
    opt_in,
    pick,
    pick_voice,
    say,
)


def _gender(rng: np.random.Generator, i: int) -> Item:
    label = ["female", "male"][i % 2]
    words = str(pick(rng, NUMBER_WORDS)) + " " + str(pick(rng, NOUNS))
    audio, key = say(
        words, pick_voice(rng, FEMALE if label == "female" else MALE), rng, pitch=int(rng.integers(35, 65))
    )
    return Item([audio], label, (key,))


SPEAKER_GENDER = SuiteTask(
    name="SpeakerGender",
    dimension="speaker",
    task_type="classification",
    metric="accuracy",
    description="Is the voice female or male?",
    objective="Speaker gender from voice quality (espeak-ng female and male voice variants).",
    how_made=f"{SPEECH_NOTE}; female variants f1-f5 and male variants m1-m7 of en-us and en-gb.",
    instructions=classification_instructions("Is the speaker female or male?", ["female", "male"]),
    make=_gender,
    labels=["female", "male"],
    languages=["en"],
    version="1.1.0",
    constraints=opt_in("upper", "json", "words_max", "ends_with", "language_zh"),
    translations={"zh": {"female": ["女性", "女声"], "male": ["男性", "男声"]}},
)


def _same_speaker(rng: np.random.Generator, i: int) -> Item:
    label = ["yes", "no"][i % 2]
    first = pick_voice(rng)
    pitch = int(rng.integers(30, 70))
    if label == "yes":
        second, pitch2 = first, pitch
    else:
        other_pool = MALE if first in FEMALE else FEMALE  # a clearly different voice
        second, pitch2 = pick_voice(rng, other_pool), int(rng.integers(30, 70))
    a, ka = say(f"{pick(rng, ADJECTIVES)} {pick(rng, NOUNS)}", first, rng, pitch=pitch)
    b, kb = say(f"{pick(rng, ADJECTIVES)} {pick(rng, NOUNS)}", second, rng, pitch=pitch2)
    return Item([a, b], label, (ka, kb))


SAME_SPEAKER = SuiteTask(
    name="SameSpeaker",
    dimension="speaker",
    task_type="classification",
    metric="accuracy",
    description="Do two clips have the same speaker?",
    objective="Speaker verification on pairs: the same voice and pitch, or a voice of the other gender.",
    how_made=f"{SPEECH_NOTE}; two short phrases per example, same or different voice.",
    instructions=classification_instructions("Are the two recordings spoken by the same speaker?", ["yes", "no"]),
    make=_same_speaker,
    labels=["yes", "no"],
    languages=["en"],
    audio_inputs=2,
    version="1.1.0",
    constraints=opt_in("lower", "json", "words_max", "wrap_quotes", "avoid_word"),
)


SPEAKER_SET = ["en-us+f1", "en-us+m3", "en-gb+f4", "en-us+m7", "en-us+f5", "en-gb+m1"]
SPEAKER_PITCH = [75, 25, 60, 40, 90, 10]


def _speaker_count(rng: np.random.Generator, i: int) -> Item:
    count = 1 + i % 4
    chosen = rng.choice(len(SPEAKER_SET), size=count, replace=False)
    parts, key = [], []
    for s in chosen:
        audio, k = say(str(pick(rng, NUMBER_WORDS)), SPEAKER_SET[s], rng, pitch=SPEAKER_PITCH[s])
        parts += [audio, synth.silence(0.15)]
        key.append(k)
    return Item([synth.concat(*parts)], float(count), (tuple(key),))


SPEAKER_COUNT = SuiteTask(
    name="SpeakerCount",
    dimension="speaker",
    task_type="regression",
    metric="mae",
    description="How many different speakers talk in turn?",
    objective="Speaker counting: one to four distinct voices each say one word, one after the other.",
    how_made=f"{SPEECH_NOTE}; six clearly different voices (variant and pitch), each used once per clip.",
    instructions=[
        "How many different speakers do you hear? Answer with a number.",
        "Count the distinct voices in the recording.",
        "How many people speak in this clip?",
        "Give the number of different speakers.",
        "Several voices say one word each. How many voices?",
    ],
    make=_speaker_count,
    languages=["en"],
)


TASKS: list[SuiteTask] = [SPEAKER_GENDER, SAME_SPEAKER, SPEAKER_COUNT]
"""The speaker tasks, in the suite's order."""
