"""Tasks whose answer is audio (``task_type: audio``): speak, clone, convert, enhance, separate, answer aloud.

Each example carries its references beside its inputs (see ``spec.Answer``): the reference answer the
metrics compare with, the speaker prompt and other voices' prompts. Voices that must be told apart by a
speaker encoder come from ``BANK``: espeak-ng variants at pitches far apart, each a fixed voice; the
distractor prompts are the bank's clips, one per voice, written once and shared by the examples (a
reference, never a model input, so train and test may share it). These tasks keep few train examples and
short clips: each holds a reference clip per example besides its inputs.
"""

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
    Answer,
    Item,
    SuiteTask,
    pick,
    pick_voice,
    say,
)

N_TRAIN_AUDIO = 8
"""Train examples of an audio task (the test split has the usual 32)."""
N_TRAIN_LARGE = 4
"""Train examples of an audio task with three clips or more per example (the suite's size budget)."""

BANK: list[tuple[str, int]] = [
    ("en-us+f1", 70),
    ("en-us+m7", 40),
    ("en-us+f5", 85),
    ("en-us+m6", 30),
    ("en-us+m4", 50),
    ("en-us+f3", 70),
    ("en-us+m2", 65),
    ("en-gb+m2", 10),
]
"""Voices (espeak-ng variant, pitch) a speaker encoder can tell apart: the speakers of the voice tasks.

Chosen from 18 candidates as the eight (three to five female) whose GE2E embeddings of a phrase lie closest to
their own prompt by the widest margin over the others' prompts: espeak-ng's variants are near each other to a
speaker encoder, and several en-gb variants sit closer to male voices than to themselves."""
BANK_TEXT = "this is how my voice sounds"
BANK_SPEED, BANK_LEVEL = 190, 0.25
REFERENCE_VOICE = ("en-us+m3", 170, 45)
"""The fixed voice (variant, speed, pitch) of the text-to-speech and spoken-answer references."""


def voice_name(index: int, prefix: str = "") -> str:
    """The bank clip name of voice ``index``: ``en-us_f1_p70`` (``test_en-us_f1_p70`` with a prefix)."""
    variant, pitch = BANK[index]
    return f"{prefix}{variant.replace('+', '_')}_p{pitch}"


def _bank_of(texts: dict[str, str]) -> dict[str, np.ndarray]:
    """Every bank voice saying each text, named ``<prefix><voice>`` by the prefixes ``texts`` maps to."""
    return {
        voice_name(i, prefix): synth.normalise(synth.speak(text, variant, BANK_SPEED, pitch), BANK_LEVEL)
        for prefix, text in texts.items()
        for i, (variant, pitch) in enumerate(BANK)
    }


def bank() -> dict[str, np.ndarray]:
    """One clip per bank voice, all saying ``BANK_TEXT``: the distractor prompts of voice cloning."""
    return _bank_of({"": BANK_TEXT})


PROMPT_TEXTS = {"train_": "my voice sounds like this", "test_": BANK_TEXT}
"""What the shared speaker prompts of voice conversion say, by split (so no input is shared by the splits)."""


def prompt_bank() -> dict[str, np.ndarray]:
    """The speaker prompts of voice conversion: each bank voice once per split.

    A split's examples share them, as the target voice's prompt and as distractors (the source voice and two others).
    """
    return _bank_of(PROMPT_TEXTS)


def _sentence(rng: np.random.Generator) -> str:
    return f"the {_phrase(rng)}"


def _phrase(rng: np.random.Generator) -> str:
    """Four or five words ('red dog sees a ball'): about a second of speech at the speeds used here."""
    return f"{pick(rng, ADJECTIVES)} {pick(rng, NOUNS)} {pick(rng, VERBS)} {pick(rng, OBJECTS)}"


def _short(rng: np.random.Generator) -> str:
    """Four or five words ('the dog sees a ball'); the article halves Whisper tiny's errors on espeak-ng."""
    return f"the {pick(rng, NOUNS)} {pick(rng, VERBS)} {pick(rng, OBJECTS)}"


def _speed(rng: np.random.Generator) -> int:
    return int(rng.integers(195, 221))


def _others(rng: np.random.Generator, exclude: set[int], n: int) -> list[int]:
    pool = [k for k in range(len(BANK)) if k not in exclude]
    return [pool[int(k)] for k in sorted(rng.choice(len(pool), size=n, replace=False))]


def _fixed_voice(text: str) -> np.ndarray:
    variant, speed, pitch = REFERENCE_VOICE
    return synth.normalise(synth.speak(text, variant, speed, pitch), 0.25)


def _level(rng: np.random.Generator) -> float:
    """A peak level; quieter clips take fewer bits per FLAC sample (the suite's size budget)."""
    return float(rng.uniform(0.12, 0.22))


# ---------------------------------------------------------------- text to speech


def _tts(rng: np.random.Generator, i: int) -> Item:
    text = _sentence(rng)
    return Item([], text, (("text", text),), answer=Answer(text=text, reference=[_fixed_voice(text)]))


TEXT_TO_SPEECH = SuiteTask(
    name="TextToSpeech",
    dimension="content",
    task_type="audio",
    metric="WER[whisper-tiny.en]",
    description="Say a short English sentence given as text.",
    objective="Text-to-speech: the answer must say the given words intelligibly (WER of an ASR transcript), with "
    "natural quality (DNSMOS) and a plausible length (duration ratio to a reference rendering).",
    how_made=f"{SPEECH_NOTE}; sentences 'the ADJECTIVE NOUN VERB OBJECT', each used once; the reference is "
    f"espeak-ng's rendering in one fixed voice ({REFERENCE_VOICE[0]}, speed {REFERENCE_VOICE[1]}, "
    f"pitch {REFERENCE_VOICE[2]}).",
    instructions=[
        "Say the following text aloud. Answer with speech only.",
        "Read this sentence out loud and return the recording.",
        "Speak the text below in a clear voice; your answer is the audio.",
        "Convert the following text to speech.",
        "Produce a spoken recording of exactly these words, nothing more.",
    ],
    make=_tts,
    languages=["en"],
    audio_inputs=0,
    n_train=N_TRAIN_AUDIO,
    output={
        "sources": 1,
        "max_seconds": 10.0,
        "speaker": "any",
        "language": "en",
        "metrics": ["CER[whisper-tiny.en]", "DNSMOS-OVRL[speechmos]", "duration-ratio"],
    },
)


# ---------------------------------------------------------------- voice cloning


def _cloning(rng: np.random.Generator, i: int) -> Item:
    target = int(rng.integers(len(BANK)))
    variant, pitch = BANK[target]
    speed, level = _speed(rng), _level(rng)
    prompt_text, text = _phrase(rng), _short(rng)
    prompt, key = say(prompt_text, variant, rng, speed=speed, pitch=pitch, level=level)
    reference, _ = say(text, variant, rng, speed=speed, pitch=pitch, level=level)
    distractors = [voice_name(k) for k in _others(rng, {target}, 3)]
    answer = Answer(text=text, prompt_input=0, reference=[reference], distractors=distractors)
    return Item([prompt], text, (key, ("text", text)), answer=answer)


VOICE_CLONING = SuiteTask(
    name="VoiceCloning",
    dimension="speaker",
    task_type="audio",
    metric="SIM[GE2E]",
    description="Say a given sentence in the voice of a short recorded prompt (zero-shot voice cloning).",
    objective="Zero-shot voice cloning: the answer must sound like the prompt's speaker (GE2E similarity, and "
    "retrieval against three other voices) and say the given words (WER). Returning the prompt itself scores a "
    "perfect similarity and fails WER: read the two together.",
    how_made=f"{SPEECH_NOTE}; eight voices (variant and pitch) far apart; the prompt is the target voice saying "
    "another sentence, the reference the same voice saying the text, the distractors the bank clips of three "
    f"other voices (each voice saying '{BANK_TEXT}').",
    instructions=[
        "Say the following text in the voice of the speaker in the recording. Answer with speech only.",
        "Listen to the voice in the clip, then speak the text below in that same voice.",
        "Clone the speaker's voice from the recording and use it to read this sentence aloud.",
        "Produce audio of the recorded speaker saying the following words.",
        "Imitate the voice you hear as closely as you can while saying this text; return the recording.",
    ],
    make=_cloning,
    languages=["en"],
    n_train=N_TRAIN_LARGE,
    output={
        "sources": 1,
        "max_seconds": 10.0,
        "speaker": "prompt",
        "language": "en",
        "metrics": ["retrieval-acc[GE2E]", "WER[whisper-tiny.en]", "DNSMOS-OVRL[speechmos]"],
    },
    bank=bank,
)


# ---------------------------------------------------------------- voice conversion


def _conversion(rng: np.random.Generator, i: int) -> Item:
    source_voice, target_voice = (int(k) for k in rng.choice(len(BANK), size=2, replace=False))
    (va, pa), (vb, pb) = BANK[source_voice], BANK[target_voice]
    words, speed, level = _short(rng), _speed(rng), _level(rng)
    source, key = say(words, va, rng, speed=speed, pitch=pa, level=level)
    reference, _ = say(words, vb, rng, speed=speed, pitch=pb, level=level)
    split = "train_" if i < N_TRAIN_LARGE else "test_"
    others = _others(rng, {source_voice, target_voice}, 2)
    distractors = [voice_name(k, split) for k in [source_voice, *others]]
    answer = Answer(prompt_input=1, reference=[reference], distractors=distractors)
    return Item([source, voice_name(target_voice, split)], words, (key,), answer=answer)


VOICE_CONVERSION = SuiteTask(
    name="VoiceConversion",
    dimension="speaker",
    task_type="audio",
    metric="SIM[GE2E]",
    description="Make the first recording's words sound as if the second recording's speaker said them.",
    objective="Voice conversion: the answer must keep the source's words (WER) in the target voice (GE2E "
    "similarity to the target prompt, and retrieval against the source voice and two others).",
    how_made=f"{SPEECH_NOTE}; eight voices (variant and pitch) far apart; the source is one voice saying a phrase, "
    "the prompt another voice saying a fixed sentence (one per split, shared by the split's examples with that "
    "target voice), the reference the target voice saying the source's words at the source's speed; the "
    "distractors are the same split's prompts of the source voice and two others.",
    instructions=[
        "Convert the voice of the first recording into the voice of the second recording, keeping the words. "
        "Answer with speech only.",
        "Say what the first speaker says, but in the second speaker's voice; return the audio.",
        "Re-voice the first clip so that it sounds like the speaker of the second clip.",
        "Voice conversion: keep the content of recording one and give it the voice of recording two.",
        "Produce a recording of the second speaker saying exactly the words of the first recording.",
    ],
    make=_conversion,
    languages=["en"],
    audio_inputs=2,
    n_train=N_TRAIN_LARGE,
    output={
        "sources": 1,
        "max_seconds": 10.0,
        "speaker": "prompt",
        "language": "en",
        "metrics": ["retrieval-acc[GE2E]", "WER[whisper-tiny.en]", "DNSMOS-OVRL[speechmos]"],
    },
    bank=prompt_bank,
)


# ---------------------------------------------------------------- speech enhancement

ENHANCEMENT_CONDITIONS = ["noise", "reverb", "noise+reverb"]


def _room(clean: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, tuple[float, float]]:
    """``clean`` in a synthetic room: a unit direct path plus an exponentially decaying tail at a drawn DRR."""
    rt60, drr = round(float(rng.uniform(0.3, 0.7)), 2), round(float(rng.uniform(-3, 6)), 1)
    n = int(rt60 * synth.SR)
    tail = rng.standard_normal(n) * 10 ** (-3 * np.arange(n) / synth.SR / rt60)
    tail[0] = 0.0
    tail *= np.sqrt(10 ** (-drr / 10) / np.sum(tail**2))
    tail[0] = 1.0
    return np.convolve(clean, tail)[: len(clean)].astype(np.float32), (rt60, drr)


def _enhancement(rng: np.random.Generator, i: int) -> Item:
    condition = ENHANCEMENT_CONDITIONS[i % len(ENHANCEMENT_CONDITIONS)]
    words = _short(rng)
    speech, key = say(words, pick_voice(rng), rng, speed=_speed(rng), level=0.5)
    clean = synth.concat(synth.silence(0.1), speech, synth.silence(0.15))
    noisy = clean
    params: list[object] = [condition]
    if "reverb" in condition:
        noisy, room = _room(clean, rng)
        params += room
    if "noise" in condition:
        snr, colour = round(float(rng.uniform(0, 12)), 1), str(pick(rng, ["white", "pink"]))
        noise = synth.noise(colour, len(noisy) / synth.SR, rng, floor_hz=200.0)[: len(noisy)]
        noisy = noisy + noise * np.sqrt(synth.power(speech) / synth.power(noise) / 10 ** (snr / 10))
        params += [snr, colour]
    gain = float(rng.uniform(0.2, 0.35)) / max(float(np.abs(noisy).max()), float(np.abs(clean).max()))
    answer = Answer(reference=[(clean * gain).astype(np.float32)], reference_list=True)
    return Item([(noisy * gain).astype(np.float32)], words, ((*key, *params),), answer=answer)


SPEECH_ENHANCEMENT = SuiteTask(
    name="SpeechEnhancement",
    dimension="degradation",
    task_type="audio",
    metric="PESQ-WB",
    description="Remove the noise and reverberation from a speech recording.",
    objective="Speech enhancement: additive white or pink noise (SNR 0-12 dB), a synthetic room (RT60 0.3-0.7 s, "
    "DRR -3 to 6 dB) or both; the answer is compared with the clean, dry speech (PESQ, ESTOI, SI-SDR and its "
    "improvement over the input), and must keep the words (WER).",
    how_made=f"{SPEECH_NOTE}; the room is a unit direct path plus exponentially decaying noise, the noise shaped in "
    "the frequency domain; the reference is the clean speech at the mixture's scale and timing.",
    instructions=[
        "Remove the background noise and room echo from this recording. Return the cleaned speech as one audio clip.",
        "Enhance the speech: make it clean and dry, keeping the speaker's words and voice. Answer with audio.",
        "Denoise and dereverberate the recording; your answer is the clean speech.",
        "Clean up this degraded speech recording and give back the enhanced audio.",
        "Return the same speech with the noise and reverberation taken out.",
    ],
    make=_enhancement,
    languages=["en"],
    n_train=N_TRAIN_LARGE,
    output={
        "sources": 1,
        "max_seconds": 10.0,
        "speaker": "source",
        "language": "en",
        "metrics": ["ESTOI", "SI-SDR", "SI-SDRi", "WER[whisper-tiny.en]", "DNSMOS-OVRL[speechmos]"],
    },
)


# ---------------------------------------------------------------- two-speaker separation


def _separation(rng: np.random.Generator, i: int) -> Item:
    first, second = (int(k) for k in rng.choice(len(BANK), size=2, replace=False))
    texts = f"the {pick(rng, ADJECTIVES)} {pick(rng, NOUNS)}", f"the {pick(rng, ADJECTIVES)} {pick(rng, NOUNS)}"
    clips, keys = [], []
    for voice, text in zip((first, second), texts, strict=True):
        variant, pitch = BANK[voice]
        clip, key = say(text, variant, rng, speed=_speed(rng), pitch=pitch, level=0.5)
        clips.append(clip / np.sqrt(synth.power(clip)))
        keys.append(key)
    offset, ratio = int(rng.uniform(0.0, 0.25) * synth.SR), round(float(rng.uniform(-3, 3)), 1)
    n = max(len(clips[0]), offset + len(clips[1])) + int(0.05 * synth.SR)
    s1, s2 = np.zeros(n, np.float32), np.zeros(n, np.float32)
    s1[: len(clips[0])] = clips[0]
    s2[offset : offset + len(clips[1])] = clips[1] * 10 ** (ratio / 20)
    mixture = s1 + s2
    gain = float(rng.uniform(0.2, 0.35)) / max(float(np.abs(x).max()) for x in (mixture, s1, s2))
    answer = Answer(reference=[(s1 * gain).astype(np.float32), (s2 * gain).astype(np.float32)])
    keys[1] = (*keys[1], offset, ratio)
    return Item([(mixture * gain).astype(np.float32)], "", tuple(keys), answer=answer)


SPEAKER_SEPARATION = SuiteTask(
    name="SpeakerSeparation",
    dimension="degradation",
    task_type="audio",
    metric="SI-SDRi",
    description="Separate a mixture of two talkers into one clip per talker.",
    objective="Two-speaker separation: two voices of the bank, overlapping (the second starts 0-0.25 s later, "
    "-3 to 3 dB relative level); the answer's two clips are matched to the reference sources in the best order "
    "(SI-SDR, and its improvement over the mixture).",
    how_made=f"{SPEECH_NOTE}; eight voices (variant and pitch) far apart, two different ones per mixture; the "
    "references are the two sources at the mixture's scale and timing, which sum to the mixture. The label is "
    "empty: no metric of the task reads words.",
    instructions=[
        "Two people speak at the same time. Return the two separated speakers as two audio clips.",
        "Separate this mixture into its two talkers, one audio clip per talker.",
        "Split the recording into two clips, each holding only one of the two voices.",
        "Isolate each of the two overlapping speakers; answer with two audio clips.",
        "Speech separation: give back two recordings, one per speaker, with the other voice removed.",
    ],
    make=_separation,
    languages=["en"],
    n_train=N_TRAIN_LARGE,
    output={"sources": 2, "max_seconds": 10.0, "speaker": "source", "language": "en", "metrics": ["SI-SDR"]},
)


# ---------------------------------------------------------------- spoken question answering

FACTS = [
    ("what colour is grass", "green"),
    ("what colour is the sky on a sunny day", "blue"),
    ("what colour is fresh snow", "white"),
    ("what colour is a ripe banana", "yellow"),
    ("what colour is coal", "black"),
    ("what colour is a ripe tomato", "red"),
    ("how many legs does a dog have", "four"),
    ("how many days are there in a week", "seven"),
    ("how many wheels does a bicycle have", "two"),
    ("what day comes after monday", "tuesday"),
    ("what day comes before sunday", "saturday"),
    ("which month comes after june", "july"),
    ("which season comes after winter", "spring"),
    ("what is the opposite of hot", "cold"),
    ("what is the opposite of up", "down"),
    ("what is the opposite of night", "day"),
    ("what do bees make", "honey"),
    ("what is frozen water called", "ice"),
    ("what is the capital of france", "paris"),
    ("which animal says moo", "cow"),
    ("what number comes after ninety nine", "one hundred"),
    ("what is ten times ten", "one hundred"),
    ("what is the day after today called", "tomorrow"),
    ("what do you call a baby cat", "kitten"),
]
"""General-knowledge questions with a one- or two-word answer; each is used once."""


def _question(rng: np.random.Generator, i: int) -> Item:
    if i % 2:
        question, answer = FACTS[int(rng.integers(len(FACTS)))]
    else:
        a, b = int(rng.integers(0, 11)), int(rng.integers(0, 11))
        if rng.random() < 0.5:
            question, answer = f"what is {NUMBER_WORDS[a]} plus {NUMBER_WORDS[b]}", NUMBER_WORDS[a + b]
        else:
            a, b = max(a, b), min(a, b)
            question, answer = f"what is {NUMBER_WORDS[a]} minus {NUMBER_WORDS[b]}", NUMBER_WORDS[a - b]
    audio, key = say(question, pick_voice(rng), rng, speed=_speed(rng), level=_level(rng))
    return Item([audio], answer, (key, ("question", question)), answer=Answer(reference=[_fixed_voice(answer)]))


SPOKEN_QUESTION_ANSWERING = SuiteTask(
    name="SpokenQuestionAnswering",
    dimension="semantics",
    task_type="audio",
    metric="answer-acc[whisper-tiny.en]",
    description="Answer a spoken question out loud, in a word or two.",
    objective="Spoken question answering with a spoken answer: small sums and differences, and general-knowledge "
    "questions with a closed-form answer; the answer's ASR transcript must give the label.",
    how_made=f"{SPEECH_NOTE}; questions 'what is A plus/minus B' (A, B from 0 to 10) and everyday facts, each "
    f"question used once; the reference is the answer said by espeak-ng in one fixed voice ({REFERENCE_VOICE[0]}).",
    instructions=[
        "Listen to the question and answer it out loud in a word or two. Answer with speech only.",
        "Answer the spoken question with a short spoken reply.",
        "Reply to the question you hear by saying the answer; return the audio.",
        "Say the answer to the question in the recording, as briefly as you can.",
        "Give a spoken answer of one or two words to this question.",
    ],
    make=_question,
    languages=["en"],
    n_train=N_TRAIN_AUDIO,
    output={
        "sources": 1,
        "max_seconds": 10.0,
        "speaker": "any",
        "language": "en",
        "metrics": ["WER[whisper-tiny.en]", "DNSMOS-OVRL[speechmos]"],
    },
)


TASKS: list[SuiteTask] = [
    TEXT_TO_SPEECH,
    VOICE_CLONING,
    VOICE_CONVERSION,
    SPEECH_ENHANCEMENT,
    SPEAKER_SEPARATION,
    SPOKEN_QUESTION_ANSWERING,
]
"""The tasks whose answer is audio, in the suite's order."""
