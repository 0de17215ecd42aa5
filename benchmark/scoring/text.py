"""Text normalisation shared by answer resolution and the text metrics (WER, CER, BLEU, chrF)."""

from __future__ import annotations

import re
import unicodedata


def squash(text: str) -> str:
    """Case-fold, NFKC-normalise and collapse whitespace."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


_PUNCT = re.compile(r"[^\w\s'-]|_", re.UNICODE)


def strip_punct(text: str) -> str:
    """``squash`` and drop punctuation except in-word apostrophes and hyphens."""
    text = squash(text).replace("\u2019", "'")
    text = _PUNCT.sub(" ", text)
    text = re.sub(r"(?<!\w)['-]|['-](?!\w)", " ", text)
    return " ".join(text.split())


_UNITS = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_TENS_HYPHEN = re.compile(r"(?<=ty)-(?=(?:one|two|three|four|five|six|seven|eight|nine)\b)")
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[^\W_]+(?:['-][^\W_]+)*")
_OPERATOR = re.compile(r"[=+\u00d7\u00f7*/<>]|\s[-\u2212]\s")


def _numbers_as_digits(words: list[str]) -> list[str]:
    """Runs of English number words as digits ("twenty one" -> "21", "one hundred and five" -> "105").

    "oh" is a zero only inside a run of digits ("five oh two"); a lone "oh" is a word.
    """
    out: list[str] = []
    i = 0
    while i < len(words):
        total, current, scaled, j = 0, -1, False, i
        while j < len(words):
            w = words[j]
            if w in _UNITS and (w != "oh" or current >= 0 or (j + 1 < len(words) and words[j + 1] in _UNITS)):
                value = _UNITS[w]
                if current < 0 or (current == 0 and scaled):
                    current = value
                elif value < 10 and current % 100 >= 20 and current % 10 == 0:
                    current += value  # "twenty one"
                else:
                    break  # "one seven": a new number
            elif w in _SCALES and current >= 0:
                total, current, scaled = total + max(current, 1) * _SCALES[w], 0, True
            elif w == "and" and scaled and j + 1 < len(words) and words[j + 1] in _UNITS:
                pass
            else:
                break
            j += 1
        if j == i:
            out.append(words[i])
            i += 1
        else:
            out.append(str(total + max(current, 0)))
            i = j
    return out


def _join_digit_runs(tokens: list[str]) -> list[str]:
    """A run of single digits is one number ("1 7 8" -> "178"), as a spoken digit string is read; "21 5" stays."""
    out: list[str] = []
    run = False
    for tok in tokens:
        single = len(tok) == 1 and tok.isdigit()
        if single and run:
            out[-1] += tok
        else:
            out.append(tok)
        run = single
    return out


def normalise_transcript(text: str) -> str:
    """Text normalisation for WER, CER, BLEU and chrF, applied identically to references and hypotheses.

    NFKC, case-folded, punctuation removed (in-word apostrophes and hyphens kept), thousands
    separators dropped ("1,200" -> "1200"), English number words written as digits ("One seven
    eight." -> "178", "twenty-one" -> "21") and runs of single digits joined ("1 7 8" -> "178"),
    so a number reads the same however it is written. This is the number part of Whisper's
    English normaliser, built here (no spelling mapping: "colour" and "color" still differ).
    """
    text = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = _TENS_HYPHEN.sub(" ", text)
    out: list[str] = []
    # An operator ends a digit run ("10 minus 2 = 6" keeps 2 and 6 apart); commas and spaces between spoken
    # digits do not ("one, seven, eight" is 178).
    for part in _OPERATOR.split(text):
        out += _join_digit_runs(_numbers_as_digits(_TOKEN.findall(part)))
    return " ".join(out)
