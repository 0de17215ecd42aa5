"""Number reading for regression answers.

Rules, each with an example:

- an explicit answer wins: a JSON field (``{"count": 3}``), the last answer line
  ("... Answer: 3"), a bold number;
- digits, with units glued on ("3kHz", "120wpm", "-3dB"), thousands ("1,200") and
  decimal commas ("7,5");
- English number words ("twenty-one", "one hundred and twenty", "three point five",
  "minus five", "a single speaker");
- "none", "zero", "no one", "nobody", "nothing" and "no" before a plural noun
  ("no beeps") mean 0;
- a number after "not" is not the answer ("3 beeps, not 4" -> 3; "It's not 3." -> N/A);
- a number in parentheses restates another ("150 wpm (2.5 words per second)" -> 150), and one in a
  compound adjective describes ("3 beeps in a 2-second clip" -> 3); a hedging parenthesis stays ("3 (maybe 4)");
- ranges ("3-5", "3 to 5", "between 3 and 5") are N/A, unless the instruction asks
  for a range ("Answer with a range such as 20-30"): then their midpoint;
- alternatives ("three or four", "3, maybe 4") are N/A;
- among several numbers, the one that counts what the question asks ("How many speakers?": "a 10
  second clip in which two people speak" -> 2); a number with a unit the question does not ask
  about describes ("3 beeps within 2 seconds" -> 3); otherwise two different numbers are N/A;
- a JSON object without an answer field: the field named like what is asked (``{"speakers": 2,
  "duration": 5.2}`` -> 2) or ``count``/``number``/``total``;
- "How many speakers/people/voices?": people listed one by one count ("First a man, then a
  woman." -> 2);
- the whole answer is prepared first as for labels (``reading``): reasoning blocks, leaked chat
  turns, loops and echoed examples are skipped; cut-off reasoning and refusals commit only through
  an explicit answer.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from benchmark.scoring.answer import Segment, explicit_segments, json_answer, json_object, json_values, prepare
from benchmark.scoring.labels import NA, Resolution
from benchmark.scoring.lexicon import stem
from benchmark.scoring.reading import prepare_answer

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "single": 1, "dozen": 12,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_DIGITS = re.compile(r"(?<![\w.])(?:(minus|negative)\s+)?([-+\u2212]?)(\d+(?:[.,]\d+)*(?:[eE][-+]?\d+)?)(?!\d)")
_ZERO = re.compile(
    r"\b(?:none|nobody|nothing|no one|zero|no(?:\s+[a-z]+)?\s+(?!(?:is|was|has|does|this|thus)\b)[a-z]{2,}s)\b"
)
_WORD = re.compile(r"[a-z]+")
_RANGE_GAP = re.compile(r"^\s*(?:-|\u2013|\u2014|to|and)\s*$")
_ALTERNATIVE_GAP = re.compile(r"^\s*,?\s*(?:or|/|maybe|perhaps|possibly|or maybe|or perhaps)\s*$")
_RANGE_FORMAT = re.compile(r"\b(?:range|interval)\b", re.IGNORECASE)
_HEDGE = re.compile(r"\b(?:or|maybe|perhaps|possibly|might|could|about)\b")
_HOW_MANY = re.compile(
    r"\b(?:how many|number of|count(?: the)?)\s+(?:(?:different|distinct|separate|individual|unique|total|"
    r"times (?:does|do|is|are) the)\s+)*([a-z]+)"
)
_PERSON_KINDS = {"speaker", "people", "person", "voic", "talker", "individual"}
_SAME_KIND = {k: _PERSON_KINDS | {"man", "men", "woman", "women"} for k in _PERSON_KINDS}
_UNIT = re.compile(
    r"^[\s-]{0,2}(seconds?|secs?|minutes?|mins?|hours?|milliseconds?|ms|hz|khz|db|decibels?|wpm|bpm|percent|%)\b"
)
_ONE_PERSON = re.compile(r"\b(?:a|an|another|one)\s+(?:\w+\s+)?(?:man|woman|child|girl|boy|person|speaker|voice)\b")
_PLURAL_PEOPLE = re.compile(r"\b(?:people|persons|speakers|voices|men|women|children|crowd|several|many|group)\b")
_NEGATED = re.compile(r"(?:\bnot|n't|\bnever)\s+(?:\w+\s+)?$")


@dataclass(frozen=True)
class _Number:
    value: float
    start: int
    end: int


def _digit_value(sign: str, body: str) -> float | None:
    if re.fullmatch(r"\d{1,3}(,\d{3})+", body):
        body = body.replace(",", "")
    elif body.count(",") + body.count(".") > 1:
        return None
    try:
        value = float(body.replace(",", "."))
    except ValueError:
        return None
    return -value if sign else value


def _digit_numbers(text: str) -> list[_Number]:
    found = []
    for m in _DIGITS.finditer(text):
        value = _digit_value(m.group(1) or m.group(2).replace("+", ""), m.group(3))
        if value is not None and math.isfinite(value):
            found.append(_Number(value, m.start(), m.end()))
    return found


def _joins(current: float, value: int) -> bool:
    """Whether a number word continues the number read so far ("twenty" + "one"), or starts a new one."""
    return current == 0 or (value < 10 and current % 10 == 0 and current % 100 >= 20)


def _word_numbers(text: str) -> list[_Number]:
    """Each run of English number words, read as one number ("one hundred and twenty" -> 120)."""
    found: list[_Number] = []
    words = list(_WORD.finditer(text.replace("-", " ")))
    i = 0
    while i < len(words):
        start_i = i
        total, current, seen, sign = 0.0, 0.0, False, 1.0
        if words[i].group(0) in ("minus", "negative") and i + 1 < len(words) and words[i + 1].group(0) in _UNITS:
            sign, i = -1.0, i + 1
        while i < len(words):
            w = words[i].group(0)
            if w in _UNITS and _joins(current, _UNITS[w]):
                current += _UNITS[w]
            elif w in _SCALES and (seen or (i > 0 and words[i - 1].group(0) == "a")):
                total, current = total + max(current, 1) * _SCALES[w], 0.0
            elif w == "and" and total and not current and i + 1 < len(words) and words[i + 1].group(0) in _UNITS:
                pass
            elif w == "point" and seen and i + 1 < len(words) and words[i + 1].group(0) in _UNITS:
                digits = []
                while i + 1 < len(words) and _UNITS.get(words[i + 1].group(0), 10) < 10:
                    i += 1
                    digits.append(str(_UNITS[words[i].group(0)]))
                current += float("0." + "".join(digits))
            else:
                break
            seen, i = True, i + 1
        if seen:
            end = words[i - 1].end()
            after_a = start_i > 0 and words[start_i - 1].group(0) == "a"
            begin = words[start_i - 1 if after_a else start_i].start()
            found.append(_Number(sign * (total + current), begin, end))
        else:
            i = start_i + 1
    return found


def _mentions(text: str) -> list[_Number]:
    """Every number in a prepared text, zero words included, overlaps resolved in favour of the earliest."""
    zeros = [_Number(0.0, m.start(), m.end()) for m in _ZERO.finditer(text)]
    candidates = sorted(zeros + _digit_numbers(text) + _word_numbers(text), key=lambda n: (n.start, -n.end))
    kept: list[_Number] = []
    for n in candidates:
        if not kept or n.start >= kept[-1].end:
            kept.append(n)
    return kept


def _asides_dropped(text: str, numbers: list[_Number]) -> list[_Number]:
    """Numbers that state the answer, when others restate or describe.

    A parenthesis that restates ("150 wpm (2.5 words per second)") and a number in
    a compound adjective ("a 2-second clip") are dropped when other numbers remain;
    a parenthesis that hedges ("3 (maybe 4)") is kept, so the answer stays ambiguous.
    """
    kept = []
    for n in numbers:
        opened = text.rfind("(", 0, n.start)
        inside = opened > text.rfind(")", 0, n.start)
        hedged = inside and _HEDGE.search(text[opened : n.start])
        compound = re.match(r"-[a-z]", text[n.end : n.end + 2])
        if not ((inside and not hedged) or compound):
            kept.append(n)
    return kept or numbers


def _read(text: str, instruction: str) -> float | None:
    """One number from a prepared text, or None (none, several, a range, an alternative)."""
    numbers = _asides_dropped(text, _mentions(text))
    for left, right in zip(numbers, numbers[1:], strict=False):
        gap = text[left.end : right.start]
        if _ALTERNATIVE_GAP.match(gap):
            return None
        if _RANGE_GAP.match(gap) and left.value != right.value:
            if len(numbers) == 2 and _RANGE_FORMAT.search(instruction):
                return (left.value + right.value) / 2
            return None
    affirmed = [n for n in numbers if not _NEGATED.search(text[max(0, n.start - 40) : n.start])]
    values = {n.value for n in affirmed}
    if len(values) > 1 and not _HEDGE.search(text):  # "3 beeps, maybe 4" stays ambiguous
        values = {n.value for n in _focus(text, affirmed, instruction)}
    return values.pop() if len(values) == 1 else None


def _asked(instruction: str) -> str | None:
    """The stem of what a counting question asks about ("How many distinct speakers?" -> "speaker")."""
    m = _HOW_MANY.search(instruction[-2000:].casefold())
    return stem(m.group(1)) if m else None


def _focus(text: str, numbers: list[_Number], instruction: str) -> list[_Number]:
    """Of several numbers, those that count what is asked; else those without a unit nobody asked about."""
    asked = _asked(instruction)
    if asked is not None:
        kinds = {asked} | _SAME_KIND.get(asked, set())
        counting = [n for n in numbers if {stem(w) for w in _WORD.findall(text[n.end : n.end + 30])[:3]} & kinds]
        if counting:
            return counting
    asked_units = {stem(w) for w in _WORD.findall(instruction.casefold())}
    plain = [
        n for n in numbers if not ((u := _UNIT.match(text[n.end : n.end + 25])) and stem(u.group(1)) not in asked_units)
    ]
    return plain or numbers


def _people(text: str, instruction: str) -> float | None:
    """For "How many speakers?": people introduced one by one ("First a man, then a woman.") -> their number."""
    asked = _asked(instruction)
    if asked not in _PERSON_KINDS or len(_WORD.findall(text)) > 30 or _PLURAL_PEOPLE.search(text):
        return None
    if re.search(r"\b(?:not|no|never|maybe|perhaps|possibly|might|could|or)\b|n't|\?", text):
        return None
    found = _ONE_PERSON.findall(text)
    return float(len(found)) if found else None


def _json_candidates(output: str, instruction: str = "") -> list[str]:
    """The JSON answer field, a field named like what is asked or a count, or else the one field with a number."""
    answer = json_answer(output)
    if answer is not None:
        return [answer]
    found = json_object(output)
    asked = _asked(instruction)
    if found is not None:
        named = [
            str(v)
            for k, v in found[0].items()
            if isinstance(v, (int, float, str))
            and not isinstance(v, bool)
            and (stem(k.casefold()) == asked or k.casefold() in ("count", "number", "total", "num", "n"))
        ]
        if len(named) == 1:
            return named
    numeric = [v for v in json_values(output) if _read(prepare(v), "") is not None]
    return numeric if len(numeric) == 1 else []


def _numeric_segments(text: str, instruction: str) -> list[Segment]:
    """Answer lines, last first; bold spans only when every bold number agrees ("**3** or **4**" is no answer)."""
    segments = explicit_segments(text)
    bold = {_read(text[s.start : s.end], instruction) for s in segments if s.kind == "bold"} - {None}
    return [s for s in segments if s.kind == "marker" or len(bold) == 1]


def parse_number(output: str, *, instruction: str = "") -> Resolution:
    """Read one number from an output (see the module rules); else N/A."""
    if not output or not output.strip():
        return NA
    read = prepare_answer(output)
    output = read.text
    text = prepare(output)
    for value in _json_candidates(output, instruction):
        number = _read(prepare(value), instruction)
        if number is not None:
            return Resolution(number, "number")
    for seg in _numeric_segments(text, instruction):
        number = _read(text[seg.start : seg.end], instruction)
        if number is not None and seg.kind == "marker" and seg.start > read.refusal_at:
            return Resolution(number, "number")
        if number is not None and not read.truncated and read.refusal_at < 0:
            return Resolution(number, "number")
    if read.truncated or read.refusal_at >= 0:
        return NA
    number = _read(text, instruction)
    if number is None:
        number = _people(text, instruction)
    return Resolution(number, "number") if number is not None else NA
