"""How a careful grader reads an answer: scope of negation and doubt, questions, lists, explicit answers.

Shared by label resolution (``labels``) and number reading (``numbers``). Everything
works on one prepared text (:func:`prepare`) so that positions found by one rule can
be checked against another: a bold answer counts only where the whole-text reading
does not negate or doubt it.

Scope rules, each with an example:

- a negation cue (not, no, never, neither, nor, n't, cannot, without, unlike, rather
  than, instead of) negates every mention after it up to the end of its clause
  ("It's not a male voice.", "not male, female" -> only female is affirmed);
- a doubt cue (whether, if, maybe, perhaps, possibly, might/could/may be, unclear,
  unsure, hard to tell) makes the mentions after it in its clause doubts, not answers
  ("I can't tell whether the speaker is happy.", "It might be male.");
- clauses end at , ; : . ! ? new lines and at but, however, though, although, yet,
  whereas, so, therefore, thus, instead, overall;
- a sentence that ends in "?" asks, it does not answer ("Happy or sad? Sad.");
- labels joined by or / and / a comma / between ... and are listed, not chosen
  ("male or female"), and so is a label repeated in the clause of a list; a label
  affirmed in a later clause is chosen ("Between male and female, I'd say female.");
- idioms that only look negative are neutralised first ("no doubt", "without a doubt").
"""

from __future__ import annotations

import bisect
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

Status = Literal["affirmed", "negated", "doubted", "listed", "question"]

_IDIOMS = re.compile(r"\b(?:no doubt|without (?:a |any )?doubt|no question|not only)\b")
_NEGATION = re.compile(
    r"\b(?:not|no|never|neither|nor|cannot|without|unlike|hardly|none|nobody|rather than|instead of|other than)\b"
    r"|n't\b"
)
_DOUBT = re.compile(
    r"\b(?:whether|if|maybe|perhaps|possibly|unclear|unsure|uncertain|unknown|unable|impossible"
    r"|(?:might|could|may)(?: well)?(?: also)? be|hard to (?:tell|say)|difficult to (?:tell|say))\b"
)
_CLAUSE_END = re.compile(
    r"[,;:.!?\n\u2014]|\b(?:but|however|though|although|yet|whereas|so|therefore|thus|instead|overall|hence)\b"
)
# A period after a lone character ("1. low", "option B.") ends no sentence: option lists are one sentence.
_SENTENCE_END = re.compile(r"(?<!\b\w)[.!?]+(?=\s|$)|\n+")
# Between two listed labels: a separator, possibly after other short list items ("A, set an alarm, and B").
_LISTING_GAP = re.compile(
    r"^\s*(?:,\s*(?:(?:and|or)\s+)?[\w'-]+(?:\s+[\w'-]+){0,3}\s*)*(?:,\s*)?(?:or|and|/|vs\.?|versus|,)\s*"
    r"(?:(?:a|an|the|maybe|perhaps|possibly|either)\s+)*$"
)
_MARKDOWN = re.compile(r"[*_`\"#>]")


def prepare(text: str) -> str:
    """NFKC, case-folded, typographic apostrophes straightened; same layout otherwise."""
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'")
    return text.casefold()


def plain(prepared: str) -> str:
    """Markdown characters blanked (same length, so positions stay valid) and idioms neutralised."""
    blanked = _MARKDOWN.sub(" ", prepared)
    return _IDIOMS.sub(lambda m: "~" * len(m.group(0)), blanked)


@dataclass(frozen=True)
class Mention:
    """One occurrence of a label (or a number) in an answer, and how the answer uses it."""

    key: str
    """What was mentioned: the label, or the number's text."""
    start: int
    end: int
    status: Status


class _Layout:
    """Where the clauses and sentences of a text end, found once (answers can be long)."""

    def __init__(self, text: str) -> None:
        self.length = len(text)
        self.clause_ends = [m.end() for m in _CLAUSE_END.finditer(text)]
        self.sentence_ends = [m.end() for m in _SENTENCE_END.finditer(text)]

    def clause_start(self, pos: int) -> int:
        i = bisect.bisect_right(self.clause_ends, pos)
        return self.clause_ends[i - 1] if i else 0

    def sentence(self, pos: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.sentence_ends, pos)
        start = self.sentence_ends[i - 1] if i else 0
        return start, self.sentence_ends[i] if i < len(self.sentence_ends) else self.length


def scope_status(text: str, start: int, layout: _Layout | None = None) -> Status:
    """How the clause around position ``start`` of a ``plain`` text uses what stands there."""
    layout = layout or _Layout(text)
    s_start, s_end = layout.sentence(start)
    if text[s_start:s_end].rstrip().endswith("?"):
        return "question"
    before = text[layout.clause_start(start) : start]
    if _NEGATION.search(before):
        return "negated"
    if _DOUBT.search(before):
        return "doubted"
    return "affirmed"


def find_mentions(text: str, keys: dict[str, str]) -> list[Mention]:
    """Whole-word occurrences in a ``plain`` text of each key (lower-case form -> label), with their status.

    A mention covered by a longer one ("high" inside "very high") is dropped;
    mentions joined by or / and / commas are marked ``listed`` unless negated or doubted.
    """
    spans: list[tuple[int, int, str]] = []
    for form, label in keys.items():
        if form:
            pattern = rf"(?<![\w-])(?<!\w'){re.escape(form)}(?![\w-])(?!'\w)"
            spans += [(m.start(), m.end(), label) for m in re.finditer(pattern, text)]
    spans = [s for s in spans if not any(o[0] <= s[0] and s[1] <= o[1] and o[1] - o[0] > s[1] - s[0] for o in spans)]
    spans.sort()
    layout = _Layout(text)
    mentions = [Mention(label, a, b, scope_status(text, a, layout)) for a, b, label in spans]
    return _mark_listed(text, mentions, layout)


def _mark_listed(text: str, mentions: list[Mention], layout: _Layout) -> list[Mention]:
    listed: set[int] = set()
    for i in range(len(mentions) - 1):
        left, right = mentions[i], mentions[i + 1]
        both_affirmed = left.status == right.status == "affirmed"
        if both_affirmed and left.key != right.key and _LISTING_GAP.match(text[left.end : right.start]):
            listed.update((i, i + 1))
    # A label repeated in the clause of a list is part of it ("play music, or weather the weather").
    list_clauses = {layout.clause_start(mentions[i].start) for i in listed}
    return [
        Mention(m.key, m.start, m.end, "listed")
        if i in listed or (m.status == "affirmed" and layout.clause_start(m.start) in list_clauses)
        else m
        for i, m in enumerate(mentions)
    ]


def has_cue(text: str) -> bool:
    """Whether a ``plain`` text holds any negation or doubt cue, or asks a question."""
    return bool(_NEGATION.search(text) or _DOUBT.search(text) or "?" in text)


# ---------------------------------------------------------------- explicit answers

_ANSWER_KEYS = ("answer", "label", "prediction", "output", "class", "category", "response", "value", "result")
_MARKER = re.compile(
    r"\b(?:final\s+)?(?:answer|label|prediction|verdict|conclusion|classification|response)\b[\s*]*"
    r"(?::|=|-|\u2013|\bis\b|\bwould be\b|\bshould be\b|\bwill be\b)[\s*]*"
)
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__", re.DOTALL)


def json_object(text: str) -> tuple[dict[str, object], int] | None:
    """The first JSON object in ``text`` and where it starts, if there is one."""
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if not match:
        return None
    try:
        obj = json.loads(match.group(0))
    except json.JSONDecodeError:
        return None
    return (obj, match.start()) if isinstance(obj, dict) else None


def json_answer(text: str) -> str | None:
    """The value of an ``answer``-like key of a JSON object in ``text``, if there is one."""
    found = json_object(text)
    if found is None:
        return None
    for key in _ANSWER_KEYS:
        for k, v in found[0].items():
            if k.casefold() == key and isinstance(v, (str, int, float)) and not isinstance(v, bool):
                return str(v)
    return None


def json_values(text: str) -> list[str]:
    """Every string or number value of a JSON object in ``text`` (its fields, in order)."""
    found = json_object(text)
    if found is None:
        return []
    return [str(v) for v in found[0].values() if isinstance(v, (str, int, float)) and not isinstance(v, bool)]


@dataclass(frozen=True)
class Segment:
    """A stretch of a prepared answer that states the answer explicitly."""

    start: int
    end: int
    kind: Literal["marker", "bold"]


def explicit_segments(text: str) -> list[Segment]:
    """Answer lines ("Answer: X", "the final answer is X") and bold spans of a prepared text, last first."""
    segments = []
    for m in _MARKER.finditer(text):
        newline = text.find("\n", m.end())
        segments.append(Segment(m.end(), newline if newline >= 0 else len(text), "marker"))
    for m in _BOLD.finditer(text):
        group = 1 if m.group(1) is not None else 2
        segments.append(Segment(m.start(group), m.end(group), "bold"))
    return sorted(segments, key=lambda s: s.start, reverse=True)


def sentences(text: str) -> Iterator[tuple[int, int]]:
    """Start and end of each sentence of a text."""
    start = 0
    for m in _SENTENCE_END.finditer(text):
        yield start, m.end()
        start = m.end()
    if start < len(text):
        yield start, len(text)
