"""The shipped task suite: a seeded generator that writes every task folder under ``tasks/``.

Run ``bench generate-suite`` (needs Debian's ``espeak-ng``). Each task draws its
examples from a ``numpy`` generator seeded by the task name, so re-running the
generator reproduces the same ids, labels and audio. Every label is a property
of the audio itself: the voice, words, rate or pitch espeak-ng was asked for, or
the exact signal that was synthesised.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from benchmark import synth
from benchmark.synth import SR

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
SPANISH_NUMBERS = [
    "cero",
    "uno",
    "dos",
    "tres",
    "cuatro",
    "cinco",
    "seis",
    "siete",
    "ocho",
    "nueve",
    "diez",
    "once",
    "doce",
    "trece",
    "catorce",
    "quince",
    "dieciséis",
    "diecisiete",
    "dieciocho",
    "diecinueve",
    "veinte",
]


@dataclass
class Item:
    """One generated example before it is written."""

    audio: list[np.ndarray]
    label: str | float
    keys: tuple[tuple[object, ...], ...]
    """Generation parameters of each clip; two clips with the same key would sound the same, so a
    task never repeats a key (no clip is shared between examples, hence none between splits)."""


Maker = Callable[[np.random.Generator, int], Item]


@dataclass
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


def _pick(rng: np.random.Generator, options: Sequence[object]) -> object:
    return options[int(rng.integers(len(options)))]


def _voice(rng: np.random.Generator, pool: Sequence[str] = VOICES) -> str:
    return str(_pick(rng, pool))


def _say(
    text: str, voice: str, rng: np.random.Generator, speed: int | None = None, pitch: int | None = None
) -> tuple[np.ndarray, tuple[object, ...]]:
    speed = int(rng.integers(130, 200)) if speed is None else speed
    pitch = int(rng.integers(30, 70)) if pitch is None else pitch
    return synth.normalise(synth.speak(text, voice, speed, pitch), float(rng.uniform(0.25, 0.6))), (
        text,
        voice,
        speed,
        pitch,
    )


# ---------------------------------------------------------------- content


def _word_task(words: Sequence[str], voice_pool: Sequence[str]) -> Maker:
    def make(rng: np.random.Generator, i: int) -> Item:
        word = words[i % len(words)]
        audio, key = _say(word, _voice(rng, voice_pool), rng)
        return Item([audio], word, (key,))

    return make


def _digit_sequence(rng: np.random.Generator, i: int) -> Item:
    digits = [int(d) for d in rng.integers(0, 10, size=int(rng.integers(3, 6)))]
    audio, key = _say(", ".join(DIGITS[d] for d in digits), _voice(rng), rng)
    return Item([audio], "".join(str(d) for d in digits), (key,))


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


# Transcription measures content, so its sentences are natural and its voices the clearer variants at a
# moderate rate and pitch; robustness to unusual voices is what the speaker and paralinguistic tasks probe.
CLEAR_VOICES = ["en-us", "en-us+m2", "en-us+m3", "en-us+f2", "en-gb+f3", "en-us+m7"]
SUBJECTS = [
    "my brother",
    "the children",
    "our teacher",
    "the old man",
    "her sister",
    "the little girl",
    "my friend",
    "the doctor",
]
PREDICATES = [
    "bought a new car",
    "read a long book",
    "cooked dinner for everyone",
    "painted the kitchen wall",
    "found a lost dog",
    "wrote a letter to a friend",
    "opened the front door",
    "played football in the park",
]
TIMES = ["last week", "this morning", "after school", "on sunday", "every evening", "yesterday afternoon"]


def _sentence(rng: np.random.Generator, i: int) -> Item:
    text = f"{_pick(rng, SUBJECTS)} {_pick(rng, PREDICATES)} {_pick(rng, TIMES)}"
    audio, _ = _say(
        text, _voice(rng, CLEAR_VOICES), rng, speed=int(rng.integers(135, 165)), pitch=int(rng.integers(35, 65))
    )
    return Item([audio], text, ((text,),))  # one example per sentence: no transcript is seen in training


GERMAN_COMMANDS = ["ja", "nein", "links", "rechts", "stopp", "weiter"]


def _spanish_number(rng: np.random.Generator, i: int) -> Item:
    value = int(rng.integers(0, 21))
    audio, key = _say(SPANISH_NUMBERS[value], _voice(rng, ["es", "es+f2", "es+m3", "es+f4", "es-419", "es+m5"]), rng)
    return Item([audio], float(value), (key,))


LANGUAGE_SENTENCES = {
    "english": (
        "en-us",
        [
            "the weather is nice today",
            "where is the train station",
            "I would like a cup of tea",
            "my brother lives in a small town",
            "please close the window",
            "we are going home now",
        ],
    ),
    "german": (
        "de",
        [
            "das Wetter ist heute schön",
            "wo ist der Bahnhof",
            "ich möchte eine Tasse Tee",
            "mein Bruder wohnt in einer kleinen Stadt",
            "bitte schließ das Fenster",
            "wir gehen jetzt nach Hause",
        ],
    ),
    "french": (
        "fr",
        [
            "il fait beau aujourd'hui",
            "où est la gare",
            "je voudrais une tasse de thé",
            "mon frère habite dans une petite ville",
            "ferme la fenêtre s'il te plaît",
            "nous rentrons à la maison",
        ],
    ),
    "spanish": (
        "es",
        [
            "hace buen tiempo hoy",
            "dónde está la estación",
            "quisiera una taza de té",
            "mi hermano vive en un pueblo pequeño",
            "cierra la ventana por favor",
            "ahora vamos a casa",
        ],
    ),
    "italian": (
        "it",
        [
            "oggi il tempo è bello",
            "dov'è la stazione",
            "vorrei una tazza di tè",
            "mio fratello vive in una piccola città",
            "chiudi la finestra per favore",
            "adesso andiamo a casa",
        ],
    ),
}


def _language(rng: np.random.Generator, i: int) -> Item:
    language = list(LANGUAGE_SENTENCES)[i % len(LANGUAGE_SENTENCES)]
    base, sentences = LANGUAGE_SENTENCES[language]
    voice = base + str(_pick(rng, ["", "+f2", "+m3", "+f4", "+m5", "+m7"]))
    audio, key = _say(str(_pick(rng, sentences)), voice, rng)
    return Item([audio], language, (key,))


# ---------------------------------------------------------------- speaker


def _gender(rng: np.random.Generator, i: int) -> Item:
    label = ["female", "male"][i % 2]
    words = str(_pick(rng, NUMBER_WORDS)) + " " + str(_pick(rng, NOUNS))
    audio, key = _say(words, _voice(rng, FEMALE if label == "female" else MALE), rng, pitch=int(rng.integers(35, 65)))
    return Item([audio], label, (key,))


def _same_speaker(rng: np.random.Generator, i: int) -> Item:
    label = ["yes", "no"][i % 2]
    first = _voice(rng)
    pitch = int(rng.integers(30, 70))
    if label == "yes":
        second, pitch2 = first, pitch
    else:
        other_pool = MALE if first in FEMALE else FEMALE  # a clearly different voice
        second, pitch2 = _voice(rng, other_pool), int(rng.integers(30, 70))
    a, ka = _say(f"{_pick(rng, ADJECTIVES)} {_pick(rng, NOUNS)}", first, rng, pitch=pitch)
    b, kb = _say(f"{_pick(rng, ADJECTIVES)} {_pick(rng, NOUNS)}", second, rng, pitch=pitch2)
    return Item([a, b], label, (ka, kb))


SPEAKER_SET = ["en-us+f1", "en-us+m3", "en-gb+f4", "en-us+m7", "en-us+f5", "en-gb+m1"]
SPEAKER_PITCH = [75, 25, 60, 40, 90, 10]


def _speaker_count(rng: np.random.Generator, i: int) -> Item:
    count = 1 + i % 4
    chosen = rng.choice(len(SPEAKER_SET), size=count, replace=False)
    parts, key = [], []
    for s in chosen:
        audio, k = _say(str(_pick(rng, NUMBER_WORDS)), SPEAKER_SET[s], rng, pitch=SPEAKER_PITCH[s])
        parts += [audio, synth.silence(0.15)]
        key.append(k)
    return Item([synth.concat(*parts)], float(count), (tuple(key),))


# ---------------------------------------------------------------- semantics

INTENTS = {
    "play music": ["play some {x} music", "put on a {x} song", "I want to hear {x} music", "start my {x} playlist"],
    "set alarm": [
        "wake me up at {n}",
        "set an alarm for {n}",
        "I need an alarm at {n} tomorrow",
        "ring the alarm at {n}",
    ],
    "weather": [
        "will it rain {d}",
        "what is the weather like {d}",
        "how cold is it going to be {d}",
        "is it sunny {d}",
    ],
    "call": ["call {p}", "phone {p} please", "ring {p} for me", "I want to talk to {p} on the phone"],
}
FILL = {
    "x": ["jazz", "rock", "quiet", "happy", "classical", "dance"],
    "n": ["six", "seven", "eight", "nine", "ten thirty", "five fifteen"],
    "d": ["today", "tomorrow", "tonight", "this weekend", "on monday", "in london"],
    "p": ["my mother", "anna", "the office", "doctor smith", "my brother", "peter"],
}


def _intent(rng: np.random.Generator, i: int) -> Item:
    label = list(INTENTS)[i % len(INTENTS)]
    template = str(_pick(rng, INTENTS[label]))
    slot = template[template.index("{") + 1]
    text = template.format(**{slot: _pick(rng, FILL[slot])})
    audio, key = _say(text, _voice(rng), rng)
    return Item([audio], label, (key,))


POSITIVE = [
    "I really love this {t}",
    "what a wonderful {t}",
    "this {t} makes me so happy",
    "the {t} was excellent",
    "I enjoyed the {t} very much",
]
NEGATIVE = [
    "I really hate this {t}",
    "what a terrible {t}",
    "this {t} makes me so sad",
    "the {t} was awful",
    "I did not enjoy the {t} at all",
]
TOPICS = ["movie", "meal", "hotel", "concert", "book", "trip", "game", "weather"]


def _sentiment(rng: np.random.Generator, i: int) -> Item:
    label = ["positive", "negative"][i % 2]
    text = str(_pick(rng, POSITIVE if label == "positive" else NEGATIVE)).format(t=_pick(rng, TOPICS))
    audio, key = _say(text, _voice(rng), rng)
    return Item([audio], label, (key,))


def _arithmetic(rng: np.random.Generator, i: int) -> Item:
    a, b = int(rng.integers(0, 11)), int(rng.integers(0, 11))
    if i % 2:
        text, answer = f"what is {NUMBER_WORDS[a]} plus {NUMBER_WORDS[b]}", a + b
    else:
        a, b = max(a, b), min(a, b)
        text, answer = f"what is {NUMBER_WORDS[a]} minus {NUMBER_WORDS[b]}", a - b
    audio, key = _say(text, _voice(rng), rng)
    return Item([audio], NUMBER_WORDS[answer], (key,))


# ---------------------------------------------------------------- paralinguistics

RATE_SENTENCES = ["the quick brown fox jumps high", "she sells shells by the shore", "a rose grows in the garden"]


def _speaking_rate(rng: np.random.Generator, i: int) -> Item:
    wpm = int(rng.integers(80, 281))
    audio, key = _say(str(_pick(rng, RATE_SENTENCES)), _voice(rng), rng, speed=wpm)
    return Item([audio], float(wpm), (key,))


PITCH_LEVELS = {"low": (0, 15), "medium": (45, 55), "high": (85, 99)}


def _pitch_level(rng: np.random.Generator, i: int) -> Item:
    label = list(PITCH_LEVELS)[i % 3]
    lo, hi = PITCH_LEVELS[label]
    audio, key = _say(
        f"{_pick(rng, ADJECTIVES)} {_pick(rng, NOUNS)}", _voice(rng, MALE), rng, pitch=int(rng.integers(lo, hi + 1))
    )
    return Item([audio], label, (key,))


def _whisper(rng: np.random.Generator, i: int) -> Item:
    label = ["whispered", "voiced"][i % 2]
    voice = (
        str(_pick(rng, ["en-us+whisper", "en-us+female_whisper", "en-gb+whisper"]))
        if label == "whispered"
        else _voice(rng)
    )
    audio, key = _say(f"{_pick(rng, VERBS)} {_pick(rng, OBJECTS)}", voice, rng)
    return Item([audio], label, (key,))


# ---------------------------------------------------------------- degradation


def _snr(rng: np.random.Generator, i: int) -> Item:
    snr = round(float(rng.uniform(0, 30)), 1)
    speech, key = _say(f"{_pick(rng, NUMBER_WORDS)} {_pick(rng, NOUNS)}", _voice(rng), rng)
    colour = str(_pick(rng, ["white", "pink"]))
    return Item([synth.add_noise(speech, snr, colour, rng)], snr, ((*key, snr, colour),))


def _reverb(rng: np.random.Generator, i: int) -> Item:
    label = ["reverberant", "dry"][i % 2]
    speech, key = _say(f"{_pick(rng, VERBS)} {_pick(rng, OBJECTS)}", _voice(rng), rng)
    if label == "dry":
        return Item([synth.normalise(speech, 0.5)], label, (key,))
    rt60 = round(float(rng.uniform(0.6, 1.2)), 2)
    return Item([synth.reverb(speech, rt60, rng)], label, ((*key, rt60),))


def _clipping(rng: np.random.Generator, i: int) -> Item:
    label = ["clipped", "clean"][i % 2]
    speech, key = _say(f"{_pick(rng, ADJECTIVES)} {_pick(rng, OBJECTS)}", _voice(rng), rng)
    if label == "clean":
        return Item([synth.normalise(speech, 0.5)], label, (key,))
    gain = round(float(rng.uniform(4, 10)), 2)
    return Item([synth.hard_clip(speech, gain)], label, ((*key, gain),))


# ---------------------------------------------------------------- audio


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


def _tone_or_noise(rng: np.random.Generator, i: int) -> Item:
    label = ["tone", "noise"][i % 2]
    seconds = round(float(rng.uniform(0.4, 0.8)), 2)
    if label == "tone":
        freq = int(rng.integers(200, 2000))
        return Item([synth.tone(freq, seconds, amp=0.3)], label, (("tone", freq, seconds),))
    colour = str(_pick(rng, ["white", "pink"]))
    clip = synth.apply_fade(synth.normalise(synth.noise(colour, seconds, rng), 0.3), 0.01)
    return Item([clip], label, (("noise", colour, seconds, int(rng.integers(1 << 30))),))


def _noise_colour(rng: np.random.Generator, i: int) -> Item:
    label = ["white", "pink", "brown"][i % 3]
    seconds = round(float(rng.uniform(0.5, 0.8)), 2)
    x = synth.normalise(synth.noise(label, seconds, rng), 0.25)
    return Item([synth.apply_fade(x, 0.01)], label, ((label, seconds, int(rng.integers(1 << 30))),))


def _duration_pair(rng: np.random.Generator, i: int) -> Item:
    label = ["first", "second"][i % 2]
    short = round(float(rng.uniform(0.2, 0.5)), 2)
    long = round(short * float(rng.uniform(1.5, 2.5)), 2)
    d1, d2 = (long, short) if label == "first" else (short, long)
    freq = int(rng.integers(300, 1200))
    a = synth.concat(synth.silence(0.1), synth.tone(freq, d1, amp=0.4), synth.silence(0.1))
    b = synth.concat(synth.silence(0.1), synth.tone(freq, d2, amp=0.4), synth.silence(0.1))
    return Item([a, b], label, ((freq, d1), (freq, d2)))


# ---------------------------------------------------------------- music


def _chord(rng: np.random.Generator, i: int) -> Item:
    label = ["major", "minor"][i % 2]
    root = 220.0 * 2 ** (int(rng.integers(0, 12)) / 12)
    inversion = int(rng.integers(0, 2))
    third = 4 if label == "major" else 3
    semitones = [0, third, 7] if not inversion else [0, third, 7, 12]
    seconds = round(float(rng.uniform(0.6, 1.0)), 2)
    x = synth.chord([root * 2 ** (s / 12) for s in semitones], seconds, amp=0.4)
    return Item([synth.apply_fade(x, 0.05)], label, ((label, round(root, 2), inversion, seconds),))


def _timbre(rng: np.random.Generator, i: int) -> Item:
    label = ["sine", "square", "sawtooth"][i % 3]
    freq = int(rng.integers(150, 600))
    seconds = round(float(rng.uniform(0.4, 0.7)), 2)
    return Item([synth.tone(freq, seconds, wave=label, amp=0.35)], label, ((label, freq, seconds),))


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


# ---------------------------------------------------------------- the suite


def _choices(labels: Sequence[str]) -> str:
    return ", ".join(labels[:-1]) + f" or {labels[-1]}"


def _classification_instructions(question: str, labels: Sequence[str]) -> list[str]:
    options = _choices(labels)
    return [
        f"{question} Answer with {options}.",
        f"Listen to the recording. {question} Reply with one of: {options}.",
        f"{question} Choose from {options}.",
        f"Please answer with a single word ({options}): {question[0].lower() + question[1:]}",
        f"Here is an audio clip. {question} Possible answers: {options}.",
    ]


SPEECH_NOTE = "Speech synthesised with espeak-ng ({espeak}) using several voice variants, speeds and pitches"


def _tasks() -> list[SuiteTask]:
    digits = DIGITS
    keywords = ["yes", "no", "up", "down", "left", "right", "stop", "go"]
    cls = "classification"
    return [
        SuiteTask(
            "SpokenDigits",
            "content",
            cls,
            "accuracy",
            "Recognise a single spoken English digit.",
            "Basic word recognition: which digit from zero to nine is spoken.",
            f"{SPEECH_NOTE}; one digit word per clip.",
            _classification_instructions("Which digit is spoken?", digits),
            _word_task(digits, VOICES),
            labels=digits,
            languages=["en"],
        ),
        SuiteTask(
            "KeywordSpotting",
            "content",
            cls,
            "accuracy",
            "Recognise a spoken command keyword.",
            "Keyword spotting as in Speech Commands: which of eight command words is spoken.",
            f"{SPEECH_NOTE}; one keyword per clip.",
            _classification_instructions("Which command word does the speaker say?", keywords),
            _word_task(keywords, VOICES),
            labels=keywords,
            languages=["en"],
        ),
        SuiteTask(
            "SentenceTranscription",
            "content",
            "generation",
            "wer",
            "Transcribe a short spoken English sentence.",
            "Automatic speech recognition of short sentences, scored with corpus WER.",
            f"{SPEECH_NOTE}; natural sentences (subject, predicate, time), each sentence used once.",
            [
                "Transcribe the speech.",
                "Write down exactly what the speaker says.",
                "What is said in this recording? Give the transcript.",
                "Please provide a transcription.",
                "Listen and type out the spoken sentence.",
            ],
            _sentence,
            languages=["en"],
        ),
        SuiteTask(
            "DigitSequence",
            "content",
            "generation",
            "cer",
            "Write down a spoken sequence of three to five digits.",
            "Recognition of digit strings, as in phone numbers, scored with CER over the digits.",
            f"{SPEECH_NOTE}; 3 to 5 digit words separated by short pauses.",
            [
                "Write the digits you hear as numerals, e.g. 4729.",
                "Which digits are spoken? Answer with numerals only.",
                "Type the spoken digit sequence as a number.",
                "Listen and write down the digits, without spaces.",
                "Transcribe the digits as numerals.",
            ],
            _digit_sequence,
            languages=["en"],
        ),
        SuiteTask(
            "GermanCommands",
            "content",
            cls,
            "accuracy",
            "Recognise a spoken German command word.",
            "Keyword recognition in German.",
            f"{SPEECH_NOTE.replace('voice', 'German voice')}.",
            _classification_instructions("Which German word is spoken?", GERMAN_COMMANDS),
            _word_task(GERMAN_COMMANDS, ["de", "de+f2", "de+m3", "de+f4", "de+m5", "de+m7"]),
            labels=GERMAN_COMMANDS,
            languages=["de"],
        ),
        SuiteTask(
            "SpanishNumbers",
            "content",
            "regression",
            "mae",
            "Give the value of a spoken Spanish number.",
            "Number understanding in Spanish: the value (0 to 20) of a spoken number word.",
            f"{SPEECH_NOTE.replace('voice', 'Spanish voice')}; one number word per clip.",
            [
                "What number is spoken (in Spanish)? Answer with digits.",
                "The speaker says a Spanish number. Which value is it?",
                "Write the spoken Spanish number as a numeral.",
                "Which number from 0 to 20 do you hear? Reply with the number.",
                "Listen to the Spanish number and give its value in digits.",
            ],
            _spanish_number,
            languages=["es"],
        ),
        SuiteTask(
            "LanguageIdentification",
            "content",
            cls,
            "accuracy",
            "Identify the language of a spoken sentence.",
            "Spoken language identification among five European languages.",
            f"{SPEECH_NOTE}; the same six everyday sentences in each language.",
            _classification_instructions("Which language is spoken?", list(LANGUAGE_SENTENCES)),
            _language,
            labels=list(LANGUAGE_SENTENCES),
            languages=["en", "de", "fr", "es", "it"],
        ),
        SuiteTask(
            "SpeakerGender",
            "speaker",
            cls,
            "accuracy",
            "Is the voice female or male?",
            "Speaker gender from voice quality (espeak-ng female and male voice variants).",
            f"{SPEECH_NOTE}; female variants f1-f5 and male variants m1-m7 of en-us and en-gb.",
            _classification_instructions("Is the speaker female or male?", ["female", "male"]),
            _gender,
            labels=["female", "male"],
            languages=["en"],
        ),
        SuiteTask(
            "SameSpeaker",
            "speaker",
            cls,
            "accuracy",
            "Do two clips have the same speaker?",
            "Speaker verification on pairs: the same voice and pitch, or a voice of the other gender.",
            f"{SPEECH_NOTE}; two short phrases per example, same or different voice.",
            _classification_instructions("Are the two recordings spoken by the same speaker?", ["yes", "no"]),
            _same_speaker,
            labels=["yes", "no"],
            languages=["en"],
            audio_inputs=2,
        ),
        SuiteTask(
            "SpeakerCount",
            "speaker",
            "regression",
            "mae",
            "How many different speakers talk in turn?",
            "Speaker counting: one to four distinct voices each say one word, one after the other.",
            f"{SPEECH_NOTE}; six clearly different voices (variant and pitch), each used once per clip.",
            [
                "How many different speakers do you hear? Answer with a number.",
                "Count the distinct voices in the recording.",
                "How many people speak in this clip?",
                "Give the number of different speakers.",
                "Several voices say one word each. How many voices?",
            ],
            _speaker_count,
            languages=["en"],
        ),
        SuiteTask(
            "IntentClassification",
            "semantics",
            cls,
            "accuracy",
            "What does the speaker want the assistant to do?",
            "Spoken language understanding: the intent of a voice-assistant request.",
            f"{SPEECH_NOTE}; four request templates per intent with varied slot values.",
            _classification_instructions("What is the intent of the request?", list(INTENTS)),
            _intent,
            labels=list(INTENTS),
            languages=["en"],
        ),
        SuiteTask(
            "SentimentClassification",
            "semantics",
            cls,
            "accuracy",
            "Is the spoken opinion positive or negative?",
            "Sentiment of the words spoken (the voice itself is neutral).",
            f"{SPEECH_NOTE}; five positive and five negative opinion templates about everyday topics.",
            _classification_instructions("Is the opinion expressed positive or negative?", ["positive", "negative"]),
            _sentiment,
            labels=["positive", "negative"],
            languages=["en"],
        ),
        SuiteTask(
            "SpokenArithmetic",
            "semantics",
            "generation",
            "wer",
            "Answer a spoken addition or subtraction question.",
            "Spoken question answering that needs the content of the question: small sums and differences.",
            f"{SPEECH_NOTE}; questions 'what is A plus/minus B' with A, B from 0 to 10.",
            [
                "Answer the spoken question with the number written as a word, e.g. seven.",
                "Solve the arithmetic question you hear. Reply with the result in words.",
                "What is the answer to the question? Write the number as an English word.",
                "Listen to the question and answer it with one number word.",
                "Compute the answer and spell it out in English.",
            ],
            _arithmetic,
            languages=["en"],
        ),
        SuiteTask(
            "SpeakingRate",
            "paralinguistics",
            "regression",
            "mae",
            "How fast is the speaker talking, in words per minute?",
            "Speaking-rate estimation: espeak-ng's words-per-minute setting (80-280).",
            f"{SPEECH_NOTE}; three fixed six-word sentences, rate drawn uniformly from 80 to 280 words per minute.",
            [
                "Estimate the speaking rate in words per minute.",
                "How many words per minute is the speaker saying? Answer with a number.",
                "Give the speech rate (words per minute).",
                "What is the speaking speed in words per minute?",
                "Listen and estimate the words per minute.",
            ],
            _speaking_rate,
            languages=["en"],
        ),
        SuiteTask(
            "PitchLevel",
            "paralinguistics",
            cls,
            "accuracy",
            "Is the voice low, medium or high pitched?",
            "Pitch level of the same male voices at three espeak-ng pitch settings.",
            f"{SPEECH_NOTE}; male variants at pitch 0-15 (low), 45-55 (medium) or 85-99 (high).",
            _classification_instructions("How high is the speaker's voice?", list(PITCH_LEVELS)),
            _pitch_level,
            labels=list(PITCH_LEVELS),
            languages=["en"],
        ),
        SuiteTask(
            "WhisperDetection",
            "paralinguistics",
            cls,
            "accuracy",
            "Is the speech whispered or voiced?",
            "Phonation type: whispered speech against normal voiced speech.",
            f"{SPEECH_NOTE}; whisper variants against ordinary variants.",
            _classification_instructions(
                "Is the speaker whispering or speaking normally (voiced)?", ["whispered", "voiced"]
            ),
            _whisper,
            labels=["whispered", "voiced"],
            languages=["en"],
        ),
        SuiteTask(
            "NoiseSNR",
            "degradation",
            "regression",
            "mae",
            "Estimate the signal-to-noise ratio in dB.",
            "Noise level estimation: speech mixed with white or pink noise at an exact SNR from 0 to 30 dB.",
            f"{SPEECH_NOTE}; noise added at the drawn SNR (speech power over noise power), with 0.4 s of "
            "noise alone before and after the speech.",
            [
                "What is the signal-to-noise ratio of this recording in dB?",
                "Estimate the SNR in decibels.",
                "How noisy is the speech? Give the SNR in dB as a number.",
                "Give the ratio of speech to noise power in dB.",
                "Estimate the signal-to-noise ratio (dB).",
            ],
            _snr,
            languages=["en"],
        ),
        SuiteTask(
            "ReverbDetection",
            "degradation",
            cls,
            "accuracy",
            "Is the speech reverberant or dry?",
            "Room acoustics: speech convolved with a synthetic room response (RT60 0.6-1.2 s) or left dry.",
            f"{SPEECH_NOTE}; reverberation by convolution with exponentially decaying noise.",
            _classification_instructions(
                "Was this recorded in a reverberant room or is it dry?", ["reverberant", "dry"]
            ),
            _reverb,
            labels=["reverberant", "dry"],
            languages=["en"],
        ),
        SuiteTask(
            "ClippingDetection",
            "degradation",
            cls,
            "accuracy",
            "Is the recording clipped or clean?",
            "Signal distortion: speech amplified 4-10 times and hard-clipped, or left clean.",
            f"{SPEECH_NOTE}; clipping by amplifying and limiting at half of full scale.",
            _classification_instructions("Is the audio clipped (distorted) or clean?", ["clipped", "clean"]),
            _clipping,
            labels=["clipped", "clean"],
            languages=["en"],
        ),
        SuiteTask(
            "BeepCount",
            "audio",
            "regression",
            "mae",
            "Count the beeps.",
            "Event counting: one to eight short tone beeps separated by silence.",
            "Sine beeps (500-1500 Hz, 60-120 ms) separated by 80-160 ms of silence, made with numpy.",
            [
                "How many beeps do you hear? Answer with a number.",
                "Count the beeps in the clip.",
                "How many times does the tone beep?",
                "Give the number of beeps.",
                "Listen and count the short tones.",
            ],
            _beeps,
        ),
        SuiteTask(
            "ToneVsNoise",
            "audio",
            cls,
            "accuracy",
            "Is the sound a tone or noise?",
            "Periodic against aperiodic sound.",
            "Sine tones (200-2000 Hz) or white/pink noise, numpy.",
            _classification_instructions("Is this sound a pure tone or noise?", ["tone", "noise"]),
            _tone_or_noise,
            labels=["tone", "noise"],
        ),
        SuiteTask(
            "NoiseColour",
            "audio",
            cls,
            "accuracy",
            "Is the noise white, pink or brown?",
            "Spectral shape of noise: flat (white), 1/f (pink) or 1/f^2 (brown) power spectrum.",
            "Gaussian noise shaped in the frequency domain with numpy.",
            _classification_instructions("What colour is the noise?", ["white", "pink", "brown"]),
            _noise_colour,
            labels=["white", "pink", "brown"],
        ),
        SuiteTask(
            "DurationComparison",
            "audio",
            cls,
            "accuracy",
            "Which of two tones lasts longer?",
            "Duration comparison across two clips (the longer is 1.5-2.5 times the shorter).",
            "Two sine tones of the same pitch with different durations, numpy.",
            _classification_instructions("Which sound lasts longer, the first or the second?", ["first", "second"]),
            _duration_pair,
            labels=["first", "second"],
            audio_inputs=2,
        ),
        SuiteTask(
            "ChordQuality",
            "music",
            cls,
            "accuracy",
            "Is the chord major or minor?",
            "Harmony: major against minor triads in root position or with the octave added.",
            "Sums of sine tones at equal-tempered intervals (root 220-415 Hz), numpy.",
            _classification_instructions("Is this chord major or minor?", ["major", "minor"]),
            _chord,
            labels=["major", "minor"],
        ),
        SuiteTask(
            "Timbre",
            "music",
            cls,
            "accuracy",
            "Is the waveform a sine, square or sawtooth wave?",
            "Timbre from harmonic content: none (sine), odd harmonics (square) or all harmonics (sawtooth).",
            "Band-limited additive synthesis with numpy (150-600 Hz).",
            _classification_instructions("Which waveform does this tone have?", ["sine", "square", "sawtooth"]),
            _timbre,
            labels=["sine", "square", "sawtooth"],
        ),
        SuiteTask(
            "IntervalDirection",
            "music",
            cls,
            "accuracy",
            "Which of two tones is higher?",
            "Pitch comparison across two clips, 1 to 12 semitones apart.",
            "Two sine tones at equal-tempered pitches (200-800 Hz), numpy.",
            _classification_instructions(
                "Which tone is higher in pitch, the first or the second?", ["first", "second"]
            ),
            _interval,
            labels=["first", "second"],
            audio_inputs=2,
        ),
    ]


SUITE: dict[str, SuiteTask] = {t.name: t for t in _tasks()}


def _seed(name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{SEED_SALT}/{name}".encode()).digest()[:8], "big")


def draw_items(spec: SuiteTask) -> list[Item]:
    """Draw N_TRAIN + N_TEST items whose clips all have distinct generation keys (train first)."""
    rng = np.random.default_rng(_seed(spec.name))
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


def _how_made(spec: SuiteTask, espeak: str) -> str:
    return spec.how_made.format(espeak=espeak).rstrip(".") + "."


def _readme(spec: SuiteTask, first: dict[str, Any], chance: str, espeak: str) -> str:
    return f"""# {spec.name}

{spec.description}

## Objective

{spec.objective}

## Data provenance

Generated by `bench generate-suite` (module `benchmark/suite.py`), seeded by the task
name, so re-running the generator reproduces every clip and label. {_how_made(spec, espeak)}
All audio is 16 kHz mono FLAC. {N_TRAIN} train and {N_TEST} test examples; no clip is shared between
the splits.

## Licence

CC0-1.0: the audio and labels are synthetic and dedicated to the public domain.

## Example

- instruction: "{spec.instructions[0]}"
- audio: `{first["audio"]}`
- label: `{first["label"]}`

## Baseline

{chance}
"""


def write_task(spec: SuiteTask, root: Path) -> Path:
    """Generate one task folder (replacing an existing one)."""
    folder = root / spec.name
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "audio").mkdir(parents=True)
    espeak = synth.espeak_version() if spec.languages else ""
    lines: list[dict[str, Any]] = []
    for n, item in enumerate(draw_items(spec)):
        ex_id = f"{n:04d}"
        paths = []
        for k, clip in enumerate(item.audio):
            rel = f"audio/{ex_id}.flac" if len(item.audio) == 1 else f"audio/{ex_id}_{k + 1}.flac"
            sf.write(folder / rel, np.clip(clip, -1, 1), SR, format="FLAC", subtype="PCM_16")
            paths.append(rel)
        lines.append(
            {
                "id": ex_id,
                "split": "train" if n < N_TRAIN else "test",
                "audio": paths[0] if len(paths) == 1 else paths,
                "label": item.label,
            }
        )
    card = {
        "name": spec.name,
        "version": "1.0.0",
        "description": spec.description,
        "dimension": spec.dimension,
        "task_type": spec.task_type,
        "metric": spec.metric,
        **({"labels": spec.labels} if spec.labels else {}),
        "instructions": spec.instructions,
        "audio_inputs": spec.audio_inputs,
        "license": "CC0-1.0",
        "source": {
            "dataset": "synthetic",
            "url": "",
            "citation": "",
            "notes": f"Generated by bench generate-suite (benchmark/suite.py). {_how_made(spec, espeak)}",
        },
        "languages": spec.languages,
        "authors": ["speech-benchmark maintainers"],
    }
    (folder / "task.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / "examples.jsonl").write_text(
        "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8"
    )
    (folder / "README.md").write_text(_readme(spec, lines[0], _chance_text(spec, lines), espeak), encoding="utf-8")
    return folder


def _chance_text(spec: SuiteTask, lines: list[dict[str, Any]]) -> str:
    train = [x["label"] for x in lines if x["split"] == "train"]
    test = [x["label"] for x in lines if x["split"] == "test"]
    if spec.task_type == "classification":
        counts = Counter(str(x) for x in test)
        top = max(counts.values()) / len(test)
        return (
            f"Chance: {1 / len(spec.labels or [1]):.3f} accuracy for a uniform guess over "
            f"{len(spec.labels or [])} labels; the most frequent test label covers {top:.3f}. "
            "Run `bench run --model majority` for the majority baseline."
        )
    if spec.task_type == "regression":
        mean = float(np.mean([float(x) for x in train]))
        mae = float(np.mean([abs(float(x) - mean) for x in test]))
        return f"Chance: predicting the train mean ({mean:.2f}) gives MAE {mae:.2f} on test."
    return (
        "Chance: an empty answer scores an error rate of 1.0; `bench run --model majority` answers the most "
        "common train reference."
    )


def generate(root: Path, only: Sequence[str] | None = None) -> list[Path]:
    """Write the suite (or the named tasks of it) under ``root``."""
    unknown = set(only or []) - set(SUITE)
    if unknown:
        raise KeyError(f"unknown suite task(s): {', '.join(sorted(unknown))}; known: {', '.join(SUITE)}")
    return [write_task(spec, root) for name, spec in SUITE.items() if not only or name in only]
