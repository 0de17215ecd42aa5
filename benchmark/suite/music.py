"""Music tasks on numpy signals: chord quality, timbre and the direction of an interval."""

from __future__ import annotations

import numpy as np

from benchmark.suite import synth
from benchmark.suite.spec import Item, SuiteTask, classification_instructions, opt_in


def _chord(rng: np.random.Generator, i: int) -> Item:
    label = ["major", "minor"][i % 2]
    root = 220.0 * 2 ** (int(rng.integers(0, 12)) / 12)
    inversion = int(rng.integers(0, 2))
    third = 4 if label == "major" else 3
    semitones = [0, third, 7] if not inversion else [0, third, 7, 12]
    seconds = round(float(rng.uniform(0.6, 1.0)), 2)
    x = synth.chord([root * 2 ** (s / 12) for s in semitones], seconds, amp=0.4)
    return Item([synth.apply_fade(x, 0.05)], label, ((label, round(root, 2), inversion, seconds),))


CHORD_QUALITY = SuiteTask(
    name="ChordQuality",
    dimension="music",
    task_type="classification",
    metric="accuracy",
    description="Is the chord major or minor?",
    objective="Harmony: major against minor triads in root position or with the octave added.",
    how_made="Sums of sine tones at equal-tempered intervals (root 220-415 Hz), numpy.",
    instructions=classification_instructions("Is this chord major or minor?", ["major", "minor"]),
    make=_chord,
    labels=["major", "minor"],
    version="1.1.0",
    constraints=opt_in("lower", "json", "words_max", "ends_with", "avoid_word"),
)


def _timbre(rng: np.random.Generator, i: int) -> Item:
    label = ["sine", "square", "sawtooth"][i % 3]
    freq = int(rng.integers(150, 600))
    seconds = round(float(rng.uniform(0.4, 0.7)), 2)
    return Item([synth.tone(freq, seconds, wave=label, amp=0.35)], label, ((label, freq, seconds),))


TIMBRE = SuiteTask(
    name="Timbre",
    dimension="music",
    task_type="classification",
    metric="accuracy",
    description="Is the waveform a sine, square or sawtooth wave?",
    objective="Timbre from harmonic content: none (sine), odd harmonics (square) or all harmonics (sawtooth).",
    how_made="Band-limited additive synthesis with numpy (150-600 Hz).",
    instructions=classification_instructions("Which waveform does this tone have?", ["sine", "square", "sawtooth"]),
    make=_timbre,
    labels=["sine", "square", "sawtooth"],
    version="1.1.0",
    constraints=opt_in("upper", "json", "words_max", "starts_with", "wrap_angle"),
)


def _interval(rng: np.random.Generator, i: int) -> Item:
    label = ["first", "second"][i % 2]
    low = 200.0 * 2 ** (int(rng.integers(0, 24)) / 12)
    high = low * 2 ** (int(rng.integers(1, 13)) / 12)
    f1, f2 = (high, low) if label == "first" else (low, high)
    seconds = round(float(rng.uniform(0.3, 0.6)), 2)
    return Item(
        [synth.tone(f1, seconds, amp=0.4), synth.tone(f2, seconds, amp=0.4)],
        label,
        ((round(f1, 2), seconds), (round(f2, 2), seconds)),
    )


INTERVAL_DIRECTION = SuiteTask(
    name="IntervalDirection",
    dimension="music",
    task_type="classification",
    metric="accuracy",
    description="Which of two tones is higher?",
    objective="Pitch comparison across two clips, 1 to 12 semitones apart.",
    how_made="Two sine tones at equal-tempered pitches (200-800 Hz), numpy.",
    instructions=classification_instructions(
        "Which tone is higher in pitch, the first or the second?", ["first", "second"]
    ),
    make=_interval,
    labels=["first", "second"],
    audio_inputs=2,
    version="1.1.0",
    constraints=opt_in("upper", "json", "words_max", "starts_with", "wrap_quotes"),
)


TASKS: list[SuiteTask] = [CHORD_QUALITY, TIMBRE, INTERVAL_DIRECTION]
"""The music tasks, in the suite's order."""
