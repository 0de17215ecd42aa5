"""Semantic tasks: what the words mean (intent, sentiment, the answer to a spoken question or request)."""

from __future__ import annotations

import numpy as np

from benchmark.suite.spec import (
    NUMBER_WORDS,
    SPEECH_NOTE,
    Item,
    Request,
    SuiteTask,
    classification_instructions,
    crossed,
    opt_in,
    pick,
    pick_voice,
    request_instructions,
    say,
    say_briskly,
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
    version="1.1.0",
    constraints=opt_in("upper", "json", "words_max", "starts_with", "wrap_angle"),
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
    version="1.1.0",
    constraints=opt_in("upper", "json", "words_max", "ends_with", "language_zh"),
    translations={"zh": {"positive": ["积极", "正面"], "negative": ["消极", "负面"]}},
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


# Things whose colour is common knowledge; no name holds a colour word, so a full-sentence answer
# ("a ripe banana is yellow") names one label only.
COLOUR_OF = {
    "red": ["a ripe tomato", "a strawberry", "blood"],
    "yellow": ["a ripe banana", "a lemon", "a sunflower"],
    "green": ["fresh grass", "a lime", "a cucumber"],
    "blue": ["the sky on a clear day", "a sapphire", "the sea on a sunny day"],
    "white": ["fresh snow", "milk", "a polar bear"],
    "black": ["coal", "a crow", "tar"],
}
# Length requests (words family): bounds below and above the one-word answer, so a model must listen to obey.
LENGTH_REQUESTS = [
    Request("One word only.", "words", {"max": 1}),
    Request("At most two words.", "words", {"max": 2}),
    Request("At most three words.", "words", {"max": 3}),
    Request("Answer in at least five words.", "words", {"min": 5}),
    Request("Use at least eight words.", "words", {"min": 8}),
    Request("Use four to six words.", "words", {"min": 4, "max": 6}),
]


def _length_request(rng: np.random.Generator, i: int) -> Item:
    c, r = crossed(i, len(COLOUR_OF), len(LENGTH_REQUESTS))
    colour, asked = list(COLOUR_OF)[c], LENGTH_REQUESTS[r]
    text = f"What colour is {pick(rng, COLOUR_OF[colour])}? {asked.text}"
    audio, key = say_briskly(text, rng)
    return Item([audio], colour, (key,), asked.as_json())


SPOKEN_LENGTH_REQUESTS = SuiteTask(
    name="SpokenLengthRequests",
    dimension="semantics",
    task_type="classification",
    metric="accuracy",
    description="Answer a spoken question about the colour of a thing, in as many words as the speaker asks for.",
    objective=(
        "Native spoken instruction following: the recording asks the colour of a familiar thing and how long "
        "the answer must be (one word, at most two or three, at least five or eight, four to six). Accuracy "
        "scores the colour; each example's word-count constraint checks the length, so a plain run reports how "
        "often the spoken request was followed."
    ),
    how_made=(
        f"{SPEECH_NOTE}; 'What colour is THING?' (three things per colour) followed by one of six spoken length "
        "requests, which the example's constraint states"
    ),
    instructions=request_instructions("The colour", list(COLOUR_OF)),
    make=_length_request,
    labels=list(COLOUR_OF),
    languages=["en"],
)


TASKS: list[SuiteTask] = [INTENT_CLASSIFICATION, SENTIMENT_CLASSIFICATION, SPOKEN_ARITHMETIC, SPOKEN_LENGTH_REQUESTS]
"""The semantic tasks, in the suite's order."""
