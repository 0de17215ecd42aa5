"""Content tasks: which words, digits, sentence or language are spoken."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from benchmark.suite.spec import (
    DIGITS,
    OBJECTS,
    SPEECH_NOTE,
    VERBS,
    VOICES,
    Item,
    Maker,
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

KEYWORDS = ["yes", "no", "up", "down", "left", "right", "stop", "go"]
GERMAN_COMMANDS = ["ja", "nein", "links", "rechts", "stopp", "weiter"]


def _word_task(words: Sequence[str], voice_pool: Sequence[str]) -> Maker:
    def make(rng: np.random.Generator, i: int) -> Item:
        word = words[i % len(words)]
        audio, key = say(word, pick_voice(rng, voice_pool), rng)
        return Item([audio], word, (key,))

    return make


SPOKEN_DIGITS = SuiteTask(
    name="SpokenDigits",
    dimension="content",
    task_type="classification",
    metric="accuracy",
    description="Recognise a single spoken English digit.",
    objective="Basic word recognition: which digit from zero to nine is spoken.",
    how_made=f"{SPEECH_NOTE}; one digit word per clip.",
    instructions=classification_instructions("Which digit is spoken?", DIGITS),
    make=_word_task(DIGITS, VOICES),
    labels=DIGITS,
    languages=["en"],
    version="1.1.0",
    constraints=opt_in("upper", "json", "words_max", "ends_with", "wrap_angle"),
)

KEYWORD_SPOTTING = SuiteTask(
    name="KeywordSpotting",
    dimension="content",
    task_type="classification",
    metric="accuracy",
    description="Recognise a spoken command keyword.",
    objective="Keyword spotting as in Speech Commands: which of eight command words is spoken.",
    how_made=f"{SPEECH_NOTE}; one keyword per clip.",
    instructions=classification_instructions("Which command word does the speaker say?", KEYWORDS),
    make=_word_task(KEYWORDS, VOICES),
    labels=KEYWORDS,
    languages=["en"],
    version="1.1.0",
    constraints=opt_in("lower", "json", "words_max", "starts_with", "wrap_quotes"),
)

GERMAN_COMMAND_WORDS = SuiteTask(
    name="GermanCommands",
    dimension="content",
    task_type="classification",
    metric="accuracy",
    description="Recognise a spoken German command word.",
    objective="Keyword recognition in German.",
    how_made=f"{SPEECH_NOTE.replace('voice', 'German voice')}.",
    instructions=classification_instructions("Which German word is spoken?", GERMAN_COMMANDS),
    make=_word_task(GERMAN_COMMANDS, ["de", "de+f2", "de+m3", "de+f4", "de+m5", "de+m7"]),
    labels=GERMAN_COMMANDS,
    languages=["de"],
    version="1.1.0",
    constraints=opt_in("upper", "json", "words_max", "ends_with", "avoid_word"),
)


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
    text = f"{pick(rng, SUBJECTS)} {pick(rng, PREDICATES)} {pick(rng, TIMES)}"
    audio, _ = say(
        text, pick_voice(rng, CLEAR_VOICES), rng, speed=int(rng.integers(135, 165)), pitch=int(rng.integers(35, 65))
    )
    return Item([audio], text, ((text,),))  # one example per sentence: no transcript is seen in training


SENTENCE_TRANSCRIPTION = SuiteTask(
    name="SentenceTranscription",
    dimension="content",
    task_type="generation",
    metric="wer",
    description="Transcribe a short spoken English sentence.",
    objective="Automatic speech recognition of short sentences, scored with corpus WER.",
    how_made=f"{SPEECH_NOTE}; natural sentences (subject, predicate, time), each sentence used once.",
    instructions=[
        "Transcribe the speech.",
        "Write down exactly what the speaker says.",
        "What is said in this recording? Give the transcript.",
        "Please provide a transcription.",
        "Listen and type out the spoken sentence.",
    ],
    make=_sentence,
    languages=["en"],
)


def _digit_sequence(rng: np.random.Generator, i: int) -> Item:
    digits = [int(d) for d in rng.integers(0, 10, size=int(rng.integers(3, 6)))]
    audio, key = say(", ".join(DIGITS[d] for d in digits), pick_voice(rng), rng)
    return Item([audio], "".join(str(d) for d in digits), (key,))


DIGIT_SEQUENCE = SuiteTask(
    name="DigitSequence",
    dimension="content",
    task_type="generation",
    metric="cer",
    description="Write down a spoken sequence of three to five digits.",
    objective="Recognition of digit strings, as in phone numbers, scored with CER over the digits.",
    how_made=f"{SPEECH_NOTE}; 3 to 5 digit words separated by short pauses.",
    instructions=[
        "Write the digits you hear as numerals, e.g. 4729.",
        "Which digits are spoken? Answer with numerals only.",
        "Type the spoken digit sequence as a number.",
        "Listen and write down the digits, without spaces.",
        "Transcribe the digits as numerals.",
    ],
    make=_digit_sequence,
    languages=["en"],
)


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


def _spanish_number(rng: np.random.Generator, i: int) -> Item:
    value = int(rng.integers(0, 21))
    audio, key = say(SPANISH_NUMBERS[value], pick_voice(rng, ["es", "es+f2", "es+m3", "es+f4", "es-419", "es+m5"]), rng)
    return Item([audio], float(value), (key,))


SPANISH_NUMBER_VALUES = SuiteTask(
    name="SpanishNumbers",
    dimension="content",
    task_type="regression",
    metric="mae",
    description="Give the value of a spoken Spanish number.",
    objective="Number understanding in Spanish: the value (0 to 20) of a spoken number word.",
    how_made=f"{SPEECH_NOTE.replace('voice', 'Spanish voice')}; one number word per clip.",
    instructions=[
        "What number is spoken (in Spanish)? Answer with digits.",
        "The speaker says a Spanish number. Which value is it?",
        "Write the spoken Spanish number as a numeral.",
        "Which number from 0 to 20 do you hear? Reply with the number.",
        "Listen to the Spanish number and give its value in digits.",
    ],
    make=_spanish_number,
    languages=["es"],
)


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
    voice = base + str(pick(rng, ["", "+f2", "+m3", "+f4", "+m5", "+m7"]))
    audio, key = say(str(pick(rng, sentences)), voice, rng)
    return Item([audio], language, (key,))


LANGUAGE_IDENTIFICATION = SuiteTask(
    name="LanguageIdentification",
    dimension="content",
    task_type="classification",
    metric="accuracy",
    description="Identify the language of a spoken sentence.",
    objective="Spoken language identification among five European languages.",
    how_made=f"{SPEECH_NOTE}; the same six everyday sentences in each language.",
    instructions=classification_instructions("Which language is spoken?", list(LANGUAGE_SENTENCES)),
    make=_language,
    labels=list(LANGUAGE_SENTENCES),
    languages=["en", "de", "fr", "es", "it"],
    version="1.1.0",
    constraints=opt_in("upper", "json", "words_max", "starts_with", "language_zh"),
    translations={
        "zh": {"english": "英语", "german": "德语", "french": "法语", "spanish": "西班牙语", "italian": "意大利语"}
    },
)


ANIMALS = ["dog", "cat", "horse", "cow", "sheep", "goat", "duck", "pig"]
# One request per format family; each states its argument values aloud, as a card's phrasings must.
FORMAT_REQUESTS = [
    Request("Answer in capital letters.", "upper"),
    Request("Answer in lowercase.", "lower"),
    Request("Reply in JSON with the key answer.", "json", {"keys": ["answer"]}),
    Request("End with the word done.", "ends_with", {"phrase": "done"}),
    Request("Start with: my answer is.", "starts_with", {"phrase": "my answer is"}),
    Request("Answer in double quotes.", "wrap", {"open": '"', "close": '"'}),
]


def _format_request(rng: np.random.Generator, i: int) -> Item:
    a, r = crossed(i, len(ANIMALS), len(FORMAT_REQUESTS))
    animal, asked = ANIMALS[a], FORMAT_REQUESTS[r]
    text = f"the {animal} {pick(rng, VERBS)} {pick(rng, OBJECTS)}. Which animal? {asked.text}"
    audio, key = say_briskly(text, rng)
    return Item([audio], animal, (key,), asked.as_json())


SPOKEN_FORMAT_REQUESTS = SuiteTask(
    name="SpokenFormatRequests",
    dimension="content",
    task_type="classification",
    metric="accuracy",
    description="Name the animal in a spoken sentence, in the answer format the speaker asks for.",
    objective=(
        "Native spoken instruction following: the recording holds a sentence, a question and a format request "
        "(capital letters, lowercase, JSON with the key answer, a closing word, an opening phrase or quotation "
        "marks). Accuracy scores the animal named; each example's constraints check the format, so a plain run "
        "reports how often the spoken request was followed."
    ),
    how_made=(
        f"{SPEECH_NOTE}; 'the ANIMAL VERB OBJECT. Which animal?' followed by one of six spoken format "
        "requests, which the example's constraints state"
    ),
    instructions=request_instructions("The animal", ANIMALS),
    make=_format_request,
    labels=ANIMALS,
    languages=["en"],
)


TASKS: list[SuiteTask] = [
    SPOKEN_DIGITS,
    KEYWORD_SPOTTING,
    SENTENCE_TRANSCRIPTION,
    DIGIT_SEQUENCE,
    GERMAN_COMMAND_WORDS,
    SPANISH_NUMBER_VALUES,
    LANGUAGE_IDENTIFICATION,
    SPOKEN_FORMAT_REQUESTS,
]
"""The content tasks, in the suite's order."""
