"""Multiple-choice instructions: read the lettered or numbered options, and map answers that name one.

"Which emotion? (A) happy (B) sad (C) angry (D) neutral" lists options; the answers
"(C)", "C", "Answer: C", "Option C", "I choose C." and "(C) angry" then mean
``angry``. Nothing is mapped unless the instruction lists at least two options in
order (A, B, ... or 1, 2, ...) and each names a label.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from benchmark.scoring.text import strip_punct

_MARKER = re.compile(r"(?<![\w(])(?:\(([A-Ha-h]|[1-9])\)|([A-H]|[1-9])[).:])(?=\s)")
_LETTERS = "abcdefgh"


def _key_index(key: str) -> int:
    return int(key) - 1 if key.isdigit() else _LETTERS.index(key.casefold())


def _option_label(text: str, labels: Sequence[str]) -> str | None:
    text = re.split(r"[\n?]", text, maxsplit=1)[0]
    words = strip_punct(text).removesuffix(" or").removeprefix("or ").strip()
    by_form = {strip_punct(label): label for label in labels}
    if words in by_form:
        return by_form[words]
    named = [
        label
        for form, label in by_form.items()
        if re.search(rf"(?<![\w-])(?<!\w'){re.escape(form)}(?![\w-])(?!'\w)", words)
    ]
    return named[0] if len(named) == 1 else None


def parse_options(instruction: str, labels: Sequence[str]) -> dict[str, str]:
    """Option key (``"a"``, ``"b"``... or ``"1"``, ``"2"``...) -> label, read from the instruction; {} if none."""
    if any(len(label.strip()) == 1 for label in labels):
        return {}  # single-character labels are answers in their own right
    markers = [(m.start(), m.end(), m.group(1) or m.group(2)) for m in _MARKER.finditer(instruction)]
    run: list[tuple[int, int, str]] = []
    for marker in markers:
        if _key_index(marker[2]) == len(run):
            run.append(marker)
        elif _key_index(marker[2]) == 0:
            run = [marker]
    if len(run) < 2:
        return {}
    options = {}
    for i, (_, end, key) in enumerate(run):
        stop = run[i + 1][0] if i + 1 < len(run) else len(instruction)
        label = _option_label(instruction[end:stop], labels)
        if label is None:
            return {}
        options[key.casefold()] = label
    return options


def _patterns(numeric: bool) -> list[re.Pattern[str]]:
    key = r"[1-9]" if numeric else r"[A-Ha-h]"
    upper = r"[1-9]" if numeric else r"[A-H]"
    end = r"(?=\s*(?:[.,;:!)/]|$|or\b|and\b))"
    return [
        re.compile(rf"\(({key})\)"),
        re.compile(rf"\b(?:option|choice)\s*:?\s*\(?({key})\)?(?![\w])", re.IGNORECASE),
        # "the correct option is b." (a lower-case letter only where nothing follows it: "is a dog" is a word)
        re.compile(rf"\b(?:option|choice|answer)\s+(?:is|would be|should be)\s+\(?({key})\)?{end}", re.IGNORECASE),
        re.compile(rf"(?<![\w'.,-])({upper}){end}"),
    ]


def substitute_options(output: str, options: dict[str, str]) -> str | None:
    """``output`` with each option reference replaced by its label; None when it names no option.

    A bare lower-case letter counts only as the whole answer ("c"), since "a" is also a word.
    """
    if not options:
        return None
    numeric = next(iter(options)).isdigit()
    whole = re.fullmatch(r"[\s*_`\"'(\[]*([a-h1-9])[\s*_`\"'.)\]]*", output, re.IGNORECASE)
    if whole:
        return options.get(whole.group(1).casefold())
    text, changed = output, False
    for pattern in _patterns(numeric):

        def swap(m: re.Match[str]) -> str:
            nonlocal changed
            label = options.get(m.group(1).casefold())
            if label is None:
                return m.group(0)
            changed = True
            return f" {label} "

        text = pattern.sub(swap, text)
    return text if changed else None


def positional_options(instruction: str, labels: Sequence[str]) -> dict[str, str]:
    """Letters for options the instruction gives unlettered but in order: "a" is the first label, and so on.

    Only when every label appears in the instruction, in the order of ``labels`` (a
    list such as "['Cats meowing', 'Birds chirping', ...]"), so "The answer is B." has a
    position to refer to.
    """
    if not instruction or not 2 <= len(labels) <= len(_LETTERS) or any(len(label.strip()) <= 1 for label in labels):
        return {}
    text, pos = strip_punct(instruction), 0
    for label in labels:
        found = text.find(strip_punct(label), pos)
        if found < 0:
            return {}
        pos = found + len(strip_punct(label))
    return {_LETTERS[i]: label for i, label in enumerate(labels)}


_LETTER_ANSWER = re.compile(
    r"\b(?:answer|option|choice)\s{0,3}(?:is|would be|should be|will be|:)?\s{0,3}(?:option\s{1,3})?"
    r"(?:\(([a-hA-H])\)|\[([a-hA-H])\]|([A-H])(?=\s{0,3}(?:[.,;:!)\]<]|$)))"
)


def letter_answer(text: str, options: dict[str, str]) -> tuple[str, int] | None:
    """The option an explicit letter answer names ("The answer is B.", "answer is (a)"), and where; the last wins."""
    found = None
    for m in _LETTER_ANSWER.finditer(text):
        key = (m.group(1) or m.group(2) or m.group(3)).casefold()
        if key in options:
            found = (options[key], m.start())
    return found
