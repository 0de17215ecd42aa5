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
    r"\b(?:not|no|never|neither|nor|cannot|without|unlike|hardly|none|nobody|rather than|instead of|other than"
    r"|exclud(?:e|es|ed|ing)|rul(?:e|es|ed|ing) out|eliminat(?:e|es|ed|ing))\b"
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
# "#" inside a word is part of it ("A#:maj/5", "C#"); elsewhere it is a markdown heading.
_ALTERNATIVE_GAP = re.compile(r"^[\s\w'-]{0,30}?[,;]?\s*(?:or|/)\s*(?:(?:a|an|the|maybe|perhaps|possibly)\s+)*$")
_MARKDOWN = re.compile(r"[*_`\">]|(?<!\w)#")
# After a mention, in its clause: the answer rejects it ("X is less likely", "X doesn't fit").
_POST_NEGATION = re.compile(
    r"^[\s\"'*:)\]]{0,6}(?:(?:is|are|was|were|seems?|sounds?|appears?|would be)\s+"
    r"(?:also\s+|therefore\s+|thus\s+|clearly\s+|probably\s+|very\s+|much\s+)?"
    r"(?:less likely|unlikely|incorrect|wrong|not\b|ruled out|implausible|improbable|excluded|eliminated)"
    r"|(?:is|are|was|were|does|do)n't\b|(?:does|do) not\s+(?:fit|match|apply|align))"
)
_POST_ALTERNATIVE = re.compile(r"^[\s\"')\]]{0,3},?\s{0,3}or\s+(?:maybe|perhaps|possibly|probably|even|rather|not)\b")
# A sentence that lists the options ("The options are: 1. X 2. Y") names them; it does not choose.
_OPTIONS_INTRO = re.compile(
    r"\b(?:options?|choices?)(?:\s+(?:given|provided|listed|available|offered))?\s*(?:are|were|include|:)"
    r"|\b(?:choose|select|pick) (?:the answer )?from\b|\banaly[sz]e (?:each|every|all|the) (?:option|choice)"
)


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

    def clause_end(self, pos: int) -> int:
        i = bisect.bisect_right(self.clause_ends, pos)
        return self.clause_ends[i] if i < len(self.clause_ends) else self.length

    def sentence(self, pos: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.sentence_ends, pos)
        start = self.sentence_ends[i - 1] if i else 0
        return start, self.sentence_ends[i] if i < len(self.sentence_ends) else self.length


def scope_status(text: str, start: int, layout: _Layout | None = None) -> Status:
    """How the clause around position ``start`` of a ``plain`` text uses what stands there."""
    layout = layout or _Layout(text)
    s_start, s_end = layout.sentence(start)
    if text[max(s_start, s_end - 80) : s_end].rstrip().endswith("?"):
        return "question"
    # A cue this far back in one unpunctuated clause is not read (and the search stays linear on 100 kB).
    before = text[max(layout.clause_start(start), start - 300) : start]
    if _NEGATION.search(before):
        return "negated"
    if _DOUBT.search(before):
        return "doubted"
    return "affirmed"


def key_spans(text: str, keys: dict[str, str]) -> list[tuple[int, int, str]]:
    """Whole-word occurrences of each key (lower-case form -> label); CJK keys need no word boundary."""
    spans: list[tuple[int, int, str]] = []
    for form, label in keys.items():
        if form:
            if re.search(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]", form):
                pattern = re.escape(form)
            else:
                pattern = rf"(?<![\w-])(?<!\w'){re.escape(form)}(?![\w-])(?!'\w)"
            spans += [(m.start(), m.end(), label) for m in re.finditer(pattern, text)]
    return spans


def find_mentions(text: str, keys: dict[str, str], extra: list[tuple[int, int, str]] | None = None) -> list[Mention]:
    """Whole-word occurrences in a ``plain`` text of each key (lower-case form -> label), with their status.

    ``extra`` adds spans found otherwise (restatements, synonyms: ``benchmark.scoring.lexicon``).
    A mention covered by a longer one ("high" inside "very high") is dropped; mentions joined
    by or / and / commas, a mention that heads an item ("X: ..."), and mentions in a sentence
    that lists the options are marked ``listed``; a mention the rest of its clause rejects
    ("X is less likely") is ``negated``.
    """
    spans = _uncovered(sorted(set(key_spans(text, keys) + list(extra or ())), key=lambda s: (s[0], -s[1])))
    layout = _Layout(text)
    mentions = [Mention(label, a, b, _status(text, a, b, layout)) for a, b, label in spans]
    return _mark_listed(text, _rejected_lists(text, mentions), layout)


def _uncovered(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Spans (sorted by start, longest first) not inside a longer one; one pass, as answers can hold many."""
    kept, best_start, best_end = [], 0, -1
    for s in spans:
        if not (best_end >= s[1] and best_end - best_start > s[1] - s[0]):
            kept.append(s)
        if s[1] > best_end:
            best_start, best_end = s[0], s[1]
    return sorted(kept)


def statuses_at(text: str, positions: list[int]) -> list[Status]:
    """``scope_status`` at each position of a ``plain`` text, its layout found once."""
    layout = _Layout(text)
    return [scope_status(text, pos, layout) for pos in positions]


def _rejected_lists(text: str, mentions: list[Mention]) -> list[Mention]:
    """A rejection after a list covers the list: "X and Y are less likely" negates X too."""
    out = list(mentions)
    for i in range(len(out) - 2, -1, -1):
        left, right = out[i], out[i + 1]
        gap = text[left.end : right.start]
        if (
            left.status == "affirmed"
            and right.status == "negated"
            and not _NEGATION.search(text[right.start - 60 if right.start > 60 else 0 : right.start])
            and _LISTING_GAP.match(gap)
        ):
            out[i] = Mention(left.key, left.start, left.end, "negated")
    return out


def _status(text: str, start: int, end: int, layout: _Layout) -> Status:
    """``scope_status``, then what follows the mention: a rejection, an item heading, an options list."""
    status = scope_status(text, start, layout)
    if status != "affirmed":
        return status
    clause_end = layout.clause_end(end)
    if _POST_NEGATION.match(text[end : min(clause_end + 40, end + 120)]):
        return "negated"
    if _POST_ALTERNATIVE.match(text[end : end + 40]):
        return "listed"  # "German, or maybe Dutch": another answer is offered beside it
    heading = re.match(r"[\s\"']{0,3}:(?!\w)", text[end : end + 5])
    if heading and not re.search(r"\w\s*$", text[max(0, start - 3) : start].replace("\n", ".")):
        return "listed"  # "- X: a plausible cause" heads an item of an analysis
    s_start, s_end = layout.sentence(start)
    if _OPTIONS_INTRO.search(text[s_start : min(s_end, s_start + 2000)]):
        return "listed"
    return "affirmed"


def _mark_listed(text: str, mentions: list[Mention], layout: _Layout) -> list[Mention]:
    listed: set[int] = set()
    for i in range(len(mentions) - 1):
        left, right = mentions[i], mentions[i + 1]
        both_affirmed = left.status == right.status == "affirmed"
        if both_affirmed and left.key != right.key and _LISTING_GAP.match(text[left.end : right.start]):
            listed.update((i, i + 1))
        # "It might be X, or Y": an alternative offered after a hedge is listed with it.
        hedged = {left.status, right.status} <= {"affirmed", "doubted"} and "doubted" in {left.status, right.status}
        if hedged and left.key != right.key and _ALTERNATIVE_GAP.match(text[left.end : right.start]):
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
    r"<answer>[\s*]*|\b(?:final\s+)?(?:answer|label|prediction|verdict|conclusion|classification|response)\b[\s*]*"
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
