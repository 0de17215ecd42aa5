"""General audio tasks on numpy signals (no speech): counting events, tone against noise, noise colour, duration."""

from __future__ import annotations

import numpy as np

from benchmark.suite import synth
from benchmark.suite.spec import Item, SuiteTask, classification_instructions, opt_in, pick


def _beeps(rng: np.random.Generator, i: int) -> Item:
    count = int(rng.integers(1, 9))
    freq = int(rng.integers(500, 1500))
    parts = [synth.silence(float(rng.uniform(0.05, 0.2)))]
    for _ in range(count):
        parts += [
            synth.tone(freq, float(rng.uniform(0.06, 0.12)), amp=0.4),
            synth.silence(float(rng.uniform(0.08, 0.16))),
        ]
    clip = synth.concat(*parts)
    return Item([clip], float(count), ((count, freq, len(clip)),))


BEEP_COUNT = SuiteTask(
    name="BeepCount",
    dimension="audio",
    task_type="regression",
    metric="mae",
    description="Count the beeps.",
    objective="Event counting: one to eight short tone beeps separated by silence.",
    how_made="Sine beeps (500-1500 Hz, 60-120 ms) separated by 80-160 ms of silence, made with numpy.",
    instructions=[
        "How many beeps do you hear? Answer with a number.",
        "Count the beeps in the clip.",
        "How many times does the tone beep?",
        "Give the number of beeps.",
        "Listen and count the short tones.",
    ],
    make=_beeps,
)


def _tone_or_noise(rng: np.random.Generator, i: int) -> Item:
    label = ["tone", "noise"][i % 2]
    seconds = round(float(rng.uniform(0.4, 0.8)), 2)
    if label == "tone":
        freq = int(rng.integers(200, 2000))
        return Item([synth.tone(freq, seconds, amp=0.3)], label, (("tone", freq, seconds),))
    colour = str(pick(rng, ["white", "pink"]))
    clip = synth.apply_fade(synth.normalise(synth.noise(colour, seconds, rng), 0.3), 0.01)
    return Item([clip], label, (("noise", colour, seconds, int(rng.integers(1 << 30))),))


TONE_VS_NOISE = SuiteTask(
    name="ToneVsNoise",
    dimension="audio",
    task_type="classification",
    metric="accuracy",
    description="Is the sound a tone or noise?",
    objective="Periodic against aperiodic sound.",
    how_made="Sine tones (200-2000 Hz) or white/pink noise, numpy.",
    instructions=classification_instructions("Is this sound a pure tone or noise?", ["tone", "noise"]),
    make=_tone_or_noise,
    labels=["tone", "noise"],
    version="1.1.0",
    constraints=opt_in("upper", "json", "words_max", "ends_with", "wrap_quotes"),
)


def _noise_colour(rng: np.random.Generator, i: int) -> Item:
    label = ["white", "pink", "brown"][i % 3]
    seconds = round(float(rng.uniform(0.5, 0.8)), 2)
    x = synth.normalise(synth.noise(label, seconds, rng), 0.25)
    return Item([synth.apply_fade(x, 0.01)], label, ((label, seconds, int(rng.integers(1 << 30))),))


NOISE_COLOUR = SuiteTask(
    name="NoiseColour",
    dimension="audio",
    task_type="classification",
    metric="accuracy",
    description="Is the noise white, pink or brown?",
    objective="Spectral shape of noise: flat (white), 1/f (pink) or 1/f^2 (brown) power spectrum.",
    how_made="Gaussian noise shaped in the frequency domain with numpy.",
    instructions=classification_instructions("What colour is the noise?", ["white", "pink", "brown"]),
    make=_noise_colour,
    labels=["white", "pink", "brown"],
    version="1.1.0",
    constraints=opt_in("upper", "json", "words_max", "starts_with", "avoid_word"),
)


def _duration_pair(rng: np.random.Generator, i: int) -> Item:
    label = ["first", "second"][i % 2]
    short = round(float(rng.uniform(0.2, 0.5)), 2)
    long = round(short * float(rng.uniform(1.5, 2.5)), 2)
    d1, d2 = (long, short) if label == "first" else (short, long)
    freq = int(rng.integers(300, 1200))
    a = synth.concat(synth.silence(0.1), synth.tone(freq, d1, amp=0.4), synth.silence(0.1))
    b = synth.concat(synth.silence(0.1), synth.tone(freq, d2, amp=0.4), synth.silence(0.1))
    return Item([a, b], label, ((freq, d1), (freq, d2)))


DURATION_COMPARISON = SuiteTask(
    name="DurationComparison",
    dimension="audio",
    task_type="classification",
    metric="accuracy",
    description="Which of two tones lasts longer?",
    objective="Duration comparison across two clips (the longer is 1.5-2.5 times the shorter).",
    how_made="Two sine tones of the same pitch with different durations, numpy.",
    instructions=classification_instructions("Which sound lasts longer, the first or the second?", ["first", "second"]),
    make=_duration_pair,
    labels=["first", "second"],
    audio_inputs=2,
    version="1.1.0",
    constraints=opt_in("lower", "json", "words_max", "ends_with", "wrap_angle"),
)


TASKS: list[SuiteTask] = [BEEP_COUNT, TONE_VS_NOISE, NOISE_COLOUR, DURATION_COMPARISON]
"""The general audio tasks, in the suite's order."""
