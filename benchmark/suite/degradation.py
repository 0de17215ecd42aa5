"""Degradation tasks: what happened to the speech signal (noise, reverberation, clipping)."""

from __future__ import annotations

import numpy as np

from benchmark.suite import synth
from benchmark.suite.spec import (
    ADJECTIVES,
    NOUNS,
    NUMBER_WORDS,
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


def _snr(rng: np.random.Generator, i: int) -> Item:
    snr = round(float(rng.uniform(0, 30)), 1)
    speech, key = say(f"{pick(rng, NUMBER_WORDS)} {pick(rng, NOUNS)}", pick_voice(rng), rng)
    colour = str(pick(rng, ["white", "pink"]))
    return Item([synth.add_noise(speech, snr, colour, rng)], snr, ((*key, snr, colour),))


NOISE_SNR = SuiteTask(
    name="NoiseSNR",
    dimension="degradation",
    task_type="regression",
    metric="mae",
    description="Estimate the signal-to-noise ratio in dB.",
    objective="Noise level estimation: speech mixed with white or pink noise at an exact SNR from 0 to 30 dB.",
    how_made=f"{SPEECH_NOTE}; noise added at the drawn SNR (speech power over noise power), with 0.4 s of "
    "noise alone before and after the speech.",
    instructions=[
        "What is the signal-to-noise ratio of this recording in dB?",
        "Estimate the SNR in decibels.",
        "How noisy is the speech? Give the SNR in dB as a number.",
        "Give the ratio of speech to noise power in dB.",
        "Estimate the signal-to-noise ratio (dB).",
    ],
    make=_snr,
    languages=["en"],
)


def _reverb(rng: np.random.Generator, i: int) -> Item:
    label = ["reverberant", "dry"][i % 2]
    speech, key = say(f"{pick(rng, VERBS)} {pick(rng, OBJECTS)}", pick_voice(rng), rng)
    if label == "dry":
        return Item([synth.normalise(speech, 0.5)], label, (key,))
    rt60 = round(float(rng.uniform(0.6, 1.2)), 2)
    return Item([synth.reverb(speech, rt60, rng)], label, ((*key, rt60),))


REVERB_DETECTION = SuiteTask(
    name="ReverbDetection",
    dimension="degradation",
    task_type="classification",
    metric="accuracy",
    description="Is the speech reverberant or dry?",
    objective="Room acoustics: speech convolved with a synthetic room response (RT60 0.6-1.2 s) or left dry.",
    how_made=f"{SPEECH_NOTE}; reverberation by convolution with exponentially decaying noise.",
    instructions=classification_instructions(
        "Was this recorded in a reverberant room or is it dry?", ["reverberant", "dry"]
    ),
    make=_reverb,
    labels=["reverberant", "dry"],
    languages=["en"],
    version="1.1.0",
    constraints=opt_in("upper", "json", "words_max", "ends_with", "wrap_angle"),
)


def _clipping(rng: np.random.Generator, i: int) -> Item:
    label = ["clipped", "clean"][i % 2]
    speech, key = say(f"{pick(rng, ADJECTIVES)} {pick(rng, OBJECTS)}", pick_voice(rng), rng)
    if label == "clean":
        return Item([synth.normalise(speech, 0.5)], label, (key,))
    gain = round(float(rng.uniform(4, 10)), 2)
    return Item([synth.hard_clip(speech, gain)], label, ((*key, gain),))


CLIPPING_DETECTION = SuiteTask(
    name="ClippingDetection",
    dimension="degradation",
    task_type="classification",
    metric="accuracy",
    description="Is the recording clipped or clean?",
    objective="Signal distortion: speech amplified 4-10 times and hard-clipped, or left clean.",
    how_made=f"{SPEECH_NOTE}; clipping by amplifying and limiting at half of full scale.",
    instructions=classification_instructions("Is the audio clipped (distorted) or clean?", ["clipped", "clean"]),
    make=_clipping,
    labels=["clipped", "clean"],
    languages=["en"],
    version="1.1.0",
    constraints=opt_in("lower", "json", "words_max", "starts_with", "avoid_word"),
)


TASKS: list[SuiteTask] = [NOISE_SNR, REVERB_DETECTION, CLIPPING_DETECTION]
"""The degradation tasks, in the suite's order."""
