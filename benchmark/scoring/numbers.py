"""Number reading for regression answers: digits first, then English number words."""

from __future__ import annotations

import math
import re

from benchmark.scoring.labels import NA, Resolution, json_answer

_NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1000}
_NUMERIC = re.compile(r"(?<![\w.])[-+\u2212]?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?(?![\w])")


def _words_to_number(text: str) -> float | None:
    """The first number written in English words ("minus twelve point five", "a hundred")."""
    words = re.findall(r"[a-z]+", text.casefold().replace("-", " "))
    total, current, found, sign, i = 0.0, 0.0, False, 1.0, 0
    while i < len(words):
        w = words[i]
        if w in _NUMBER_WORDS:
            current += _NUMBER_WORDS[w]
            found = True
        elif w in _SCALES and (found or (i > 0 and words[i - 1] == "a")):
            current = max(current, 1) * _SCALES[w]
            total, current, found = total + current, 0.0, True
        elif w in ("minus", "negative") and not found:
            sign = -1.0
        elif w == "point" and found and i + 1 < len(words) and words[i + 1] in _NUMBER_WORDS:
            digits = []
            while i + 1 < len(words) and words[i + 1] in _NUMBER_WORDS and _NUMBER_WORDS[words[i + 1]] < 10:
                i += 1
                digits.append(str(_NUMBER_WORDS[words[i]]))
            return sign * (total + current + float("0." + "".join(digits)))
        elif w in ("and", "a") or not found:
            pass
        else:
            break
        i += 1
    return sign * (total + current) if found else None


def parse_number(output: str) -> Resolution:
    """Read one number from an output: digits first, then English number words; else N/A.

    Two different numbers ("between 3 and 5") are ambiguous and resolve to N/A.
    """
    if not output or not output.strip():
        return NA
    text = output.strip()
    json_value = json_answer(text)
    if json_value is not None:
        text = json_value
    values = []
    for m in _NUMERIC.finditer(text):
        raw = m.group(0).replace("\u2212", "-")
        raw = raw.replace(",", "") if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+", raw) else raw.replace(",", ".")
        try:
            values.append(float(raw))
        except ValueError:
            continue
    if values:
        if len(set(values)) > 1:
            return NA
        return Resolution(values[0], "number") if math.isfinite(values[0]) else NA
    word_value = _words_to_number(text)
    return Resolution(word_value, "number") if word_value is not None else NA
