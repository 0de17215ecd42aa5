"""Semantic tasks: what the words mean (intent, sentiment, the answer to a spoken question)."""

from __future__ import annotations

import numpy as np

from benchmark.suite.spec import (
    NUMBER_WORDS,
    SPEECH_NOTE,
    Item,
    SuiteTask,
    classification_instructions,
    pick,
    pick_voice,
    say,
)

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
    template = str(pick(rng, INTENTS[label]))
    slot = template[template.index("{") + 1]
    text = template.format(**{slot: pick(rng, FILL[slot])})
    audio, key = say(text, pick_voice(rng), rng)
    return Item([audio], label, (key,))


INTENT_CLASSIFICATION = SuiteTask(
    name="IntentClassification",
    dimension="semantics",
    task_type="classification",
    metric="accuracy",
    description="What does the speaker want the assistant to do?",
    objective="Spoken language understanding: the intent of a voice-assistant request.",
    how_made=f"{SPEECH_NOTE}; four request templates per intent with varied slot values.",
    instructions=classification_instructions("What is the intent of the request?", list(INTENTS)),
    make=_intent,
    labels=list(INTENTS),
    languages=["en"],
)


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
    text = str(pick(rng, POSITIVE if label == "positive" else NEGATIVE)).format(t=pick(rng, TOPICS))
    audio, key = say(text, pick_voice(rng), rng)
    return Item([audio], label, (key,))


SENTIMENT_CLASSIFICATION = SuiteTask(
    name="SentimentClassification",
    dimension="semantics",
    task_type="classification",
    metric="accuracy",
    description="Is the spoken opinion positive or negative?",
    objective="Sentiment of the words spoken (the voice itself is neutral).",
    how_made=f"{SPEECH_NOTE}; five positive and five negative opinion templates about everyday topics.",
    instructions=classification_instructions(
        "Is the opinion expressed positive or negative?", ["positive", "negative"]
    ),
    make=_sentiment,
    labels=["positive", "negative"],
    languages=["en"],
)


def _arithmetic(rng: np.random.Generator, i: int) -> Item:
    a, b = int(rng.integers(0, 11)), int(rng.integers(0, 11))
    if i % 2:
        text, answer = f"what is {NUMBER_WORDS[a]} plus {NUMBER_WORDS[b]}", a + b
    else:
        a, b = max(a, b), min(a, b)
        text, answer = f"what is {NUMBER_WORDS[a]} minus {NUMBER_WORDS[b]}", a - b
    audio, key = say(text, pick_voice(rng), rng)
    return Item([audio], NUMBER_WORDS[answer], (key,))


SPOKEN_ARITHMETIC = SuiteTask(
    name="SpokenArithmetic",
    dimension="semantics",
    task_type="generation",
    metric="wer",
    description="Answer a spoken addition or subtraction question.",
    objective="Spoken question answering that needs the content of the question: small sums and differences.",
    how_made=f"{SPEECH_NOTE}; questions 'what is A plus/minus B' with A, B from 0 to 10.",
    instructions=[
        "Answer the spoken question with the number written as a word, e.g. seven.",
        "Solve the arithmetic question you hear. Reply with the result in words.",
        "What is the answer to the question? Write the number as an English word.",
        "Listen to the question and answer it with one number word.",
        "Compute the answer and spell it out in English.",
    ],
    make=_arithmetic,
    languages=["en"],
)


TASKS: list[SuiteTask] = [INTENT_CLASSIFICATION, SENTIMENT_CLASSIFICATION, SPOKEN_ARITHMETIC]
"""The semantic tasks, in the suite's order."""
