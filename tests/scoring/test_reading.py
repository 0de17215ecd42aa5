"""Resolver version 2: the whole answer prepared, letters by position, the lexicon tier, hedges, yes/no facts."""

from __future__ import annotations

import pytest

from benchmark.scoring import resolve_label
from benchmark.scoring.lexicon import restatement_spans, stem, synonym_keys
from benchmark.scoring.options import letter_answer, positional_options
from benchmark.scoring.reading import is_truncated, prepare_answer

GENDER = ["female", "male"]
EMOTION = ["happy", "sad", "angry", "neutral"]
YESNO = ["yes", "no"]
SOUNDS = ["a train passing", "a dog barking", "people talking", "wind blowing"]
LISTED = "What can be heard? Choose from: ['a train passing', 'a dog barking', 'people talking', 'wind blowing']."
LETTERED = "What can be heard? (A) a train passing (B) a dog barking (C) people talking (D) wind blowing"
LONG = " ".join(f"Step {i}: think about the pitch, the formants and the timbre of this voice." for i in range(5)) + " "

# (output, labels, instruction, expected answer, expected tier): one row per rule, with its counter-case.
CASES = [
    # the whole answer prepared
    ("<think>maybe male, maybe female</think> Female.", GENDER, "", "female", "normalised"),
    ("Answer: female\nUser: and now?\nAssistant: male", GENDER, "", "female", "normalised"),
    ("The speaker is happy. " * 6, EMOTION, "", "happy", "mention"),
    ("(e.g., The answer is happy) Okay, let me think about the emotion and", EMOTION, "", None, "na"),
    (LONG + "Option (a) happy: the voice is bright, which fits, and the", EMOTION, "", None, "na"),
    (LONG + "So the speaker is female", GENDER, "", "female", "mention"),  # only the period is missing
    (LONG + "Answer: sad. Now the next part of the analysis is the", EMOTION, "", "sad", "final"),
    (
        "I'm sorry, but I can't analyze audio. **Happy**: upbeat. **Sad**: slow. Please provide more.",
        EMOTION,
        "",
        None,
        "na",
    ),
    ("None of the options fits; the voice is bored, not happy.", EMOTION, "", None, "na"),
    ("The speaker is female. Let me know if you need anything else!", GENDER, "", "female", "mention"),
    # rejections and analyses
    (
        "- happy: unlikely.\n- sad: the pitch is low and slow.\n- angry: no.\nTherefore, sad.",
        EMOTION,
        "",
        "sad",
        "mention",
    ),
    ('Options like "happy" and "angry" are less likely. The voice is calm.', EMOTION, "", None, "na"),
    ("The speaker is male and not very loud.", GENDER, "", "male", "mention"),
    ("The options are: 1. happy 2. sad", EMOTION, "", None, "na"),
    # letters: position in an unlettered list, lower case, a letter that contradicts its text
    ("I hear a dog in the distance. The answer is B.", SOUNDS, LISTED, "a dog barking", "option"),
    ("the most probable answer is (d).", SOUNDS, LISTED, "wind blowing", "option"),
    ("There is a small dog barking. Therefore, the answer is C.", SOUNDS, LISTED, None, "na"),
    ("The answer is B.", SOUNDS, "", None, "na"),  # no list to count positions in
    ("(c)", SOUNDS, LETTERED, "people talking", "option"),
    ("The correct option is b.", SOUNDS, LETTERED, "a dog barking", "option"),
    ("The answer is a dog barking.", SOUNDS, LETTERED, "a dog barking", "normalised"),
    ("(B) people talking", SOUNDS, LETTERED, None, "na"),
    # restatements, word forms, synonyms, other languages, head words
    ("They could be hearing a train pass by.", SOUNDS, "What could they be hearing?", "a train passing", "lexicon"),
    ("Happiness.", EMOTION, "", "happy", "lexicon"),
    ("It's raining.", ["rain", "thunder", "insect"], "", "rain", "lexicon"),
    ("Insects buzzing.", ["rain", "thunder", "insect"], "", "insect", "lexicon"),
    ("A kettle.", ["boiling kettle", "dog barking", "rain"], "", "boiling kettle", "lexicon"),
    ("A lady's voice.", GENDER, "", "female", "lexicon"),
    ("She sounds overjoyed.", EMOTION, "", "happy", "lexicon"),
    ("Castilian.", ["english", "spanish", "persian"], "", "spanish", "lexicon"),
    ("Farsi.", ["english", "spanish", "persian"], "", "persian", "lexicon"),
    ("说话人是女性。", GENDER, "", "female", "lexicon"),
    ("El hablante está triste.", EMOTION, "", "sad", "lexicon"),
    ("Not a woman.", GENDER, "", None, "na"),
    ("A man and a woman are talking.", GENDER, "", None, "na"),
    ("hyper-female", GENDER, "", None, "na"),
    ("Low quality", ["Poor quality", "Good quality"], "", "Poor quality", "lexicon"),
    # one hedged candidate commits; two do not; a hard doubt abstains
    ("Perhaps a man.", GENDER, "", "male", "lexicon"),
    ("It might be sad.", EMOTION, "", "sad", "mention"),
    ("It might be sad, or happy.", EMOTION, "", None, "na"),
    ("I can't tell whether it is sad.", EMOTION, "", None, "na"),
    (
        "The horse might be on a cobblestone street.",
        ["in a field", "on a cobblestone street"],
        "Where might the horse be?",
        "on a cobblestone street",
        "mention",
    ),
    # yes/no stated as a fact
    ("There is no music in the background.", YESNO, "Is there background music?", "no", "final"),
    ("The speaker sounds happy.", YESNO, "Is the speaker happy?", "yes", "final"),
    ("The first sound is louder than the second.", YESNO, "Is the second sound louder than the first?", None, "na"),
    ("I'm not able to compare the two speakers.", YESNO, "Are the two speakers the same?", None, "na"),
    # numbers as labels: idioms are not answers
    ("Every word has at least one stressed syllable, so I cannot count them.", ["one", "two"], "", None, "na"),
]


@pytest.mark.parametrize(("output", "labels", "instruction", "answer", "tier"), CASES)
def test_reading_rules_of_version_2(output, labels, instruction, answer, tier) -> None:
    res = resolve_label(output, labels, instruction=instruction)
    assert (res.answer, res.tier) == (answer, tier)


def test_prepared_answer_marks_cut_off_reasoning_and_refusals() -> None:
    assert is_truncated(LONG + "1. happy: bright 2.") and is_truncated(LONG + "and the")
    assert not is_truncated(LONG + "so it is happy") and not is_truncated("short and")
    read = prepare_answer("Sure. I cannot analyze audio. Answer: sad")
    assert read.refusal_at == read.text.index("I cannot")
    assert prepare_answer("a" * 100_000).refusal_at == -1  # bounded on long outputs


def test_lexicon_parts() -> None:
    assert stem("passing") == stem("pass") and stem("happiness") == stem("happy") and stem("insects") == "insect"
    assert stem("synthesiser") == stem("synthesizer")
    assert synonym_keys(["female", "male"])["lady"] == "female"
    assert "lady" not in synonym_keys(["female", "woman"])  # two labels for one concept: no synonym
    spans = restatement_spans("created by an electric guitar and a bass guitar", ["Electric guitar and bass guitar"])
    assert [s[2] for s in spans] == ["Electric guitar and bass guitar"]


def test_letters_by_position_need_the_options_in_order() -> None:
    assert positional_options(LISTED, SOUNDS)["c"] == "people talking"
    assert positional_options(LISTED, SOUNDS[::-1]) == {}
    assert letter_answer("So the answer is C.", positional_options(LISTED, SOUNDS)) == ("people talking", 7)
    assert letter_answer("the answer is a dog", positional_options(LISTED, SOUNDS)) is None
