"""Label resolution: a model's free-form output read as one of the task's labels, in tiers.

==========  ================================================================
tier        rule
==========  ================================================================
exact       equal to a label after case and space normalisation
normalised  equal after stripping punctuation, quotes, markdown, a lead-in
            ("the answer is", "Answer:"), or a JSON object {"answer": ...}
option      the instruction lists options ("(A) happy (B) sad") and the
            answer names one ("(B)", "Answer: B", "Option B")
final       an explicit final answer ("Answer: X", a bold **X**, a JSON
            field) beats labels discussed earlier; else the last sentence
            that names labels, when it affirms exactly one
leading     yes/no tasks: the answer's first word ("Yes, no doubt about it.")
mention     exactly one label affirmed, once negation, doubt, questions
            and lists are read (see ``benchmark.scoring.answer``)
semantic    offline sentence embedding closest to one label, above a calibrated
            similarity threshold and margin; never on an answer that mentions
            a label, negates, doubts or asks (optional resolver)
judge       an LLM judge picked the label (optional resolver, cached)
na          nothing matched: counted as wrong, reported as the N/A rate
==========  ================================================================
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from benchmark.scoring.answer import (
    Mention,
    explicit_segments,
    find_mentions,
    has_cue,
    json_answer,
    json_values,
    plain,
    prepare,
    sentences,
)
from benchmark.scoring.options import parse_options, substitute_options
from benchmark.scoring.text import squash, strip_punct

__all__ = ["NA", "TIERS", "LabelResolver", "Resolution", "RuleAuditor", "Tier", "json_answer", "resolve_label"]

Tier = Literal[
    "exact", "normalised", "option", "final", "leading", "mention", "semantic", "judge", "number", "text", "na"
]
TIERS: tuple[str, ...] = Tier.__args__  # type: ignore[attr-defined]


_LEAD_INS = re.compile(
    r"^(?:(?:so|well|ok|okay|sure)[, ]+)?(?:i think |i believe |i'd say |i would say )?"
    r"(?:the |my )?(?:correct |final )?(?:answer|label|class|category|prediction|response|output)"
    r"(?: is| would be| should be)?\s*[:=-]?\s*",
)
# Tiers that interpret an answer (rather than match it outright): the judge audits these.
_READ_TIERS = ("option", "final", "leading", "mention")
_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_YES = {"yeah", "yep", "yup", "yes indeed", "affirmative", "correct", "indeed", "absolutely", "definitely"}
_NO = {"nope", "nah", "negative", "absolutely not", "definitely not", "certainly not", "of course not"}


@dataclass(frozen=True)
class Resolution:
    """The answer read from an output, and the tier that decided."""

    answer: str | float | None
    tier: Tier


NA = Resolution(None, "na")


class LabelResolver(Protocol):
    """An optional extra tier (semantic match, LLM judge): returns a label or None."""

    tier: Tier

    def __call__(self, output: str, labels: Sequence[str], instruction: str) -> str | None:
        """The label ``output`` means, or None when unsure."""

    def config(self) -> dict[str, object]:
        """The tier and its settings, recorded in each run header."""


@runtime_checkable
class RuleAuditor(Protocol):
    """A resolver that also checks answers the rule tiers decided (the judge), to report agreement."""

    def audit(self, output: str, labels: Sequence[str], instruction: str, rule_answer: str) -> None:
        """Record whether this resolver reads ``output`` as ``rule_answer``."""


def _normalised_candidates(output: str) -> list[str]:
    """Forms of the output that count as stating one answer outright."""
    text = output.strip()
    json_value = json_answer(text)
    if json_value is not None:
        text = json_value
    base = strip_punct(text)
    forms = [base, strip_punct(_LEAD_INS.sub("", squash(text).strip("*_ `\"'")))]
    return [f for f in dict.fromkeys(forms) if f]


def _whole_answer(output: str, labels: Sequence[str]) -> Resolution | None:
    """The exact and normalised tiers: the whole output is a label."""
    by_squash = {squash(label): label for label in labels}
    if squash(output) in by_squash:
        return Resolution(by_squash[squash(output)], "exact")
    if output.rstrip().endswith("?"):
        return None  # "female?" asks back; it does not answer
    by_norm = {strip_punct(label): label for label in labels}
    for form in _normalised_candidates(output):
        if form in by_norm:
            return Resolution(by_norm[form], "normalised")
    if {squash(label) for label in labels} == {"yes", "no"}:
        form = strip_punct(output)
        if form in _YES or form in _NO:
            return Resolution(by_squash["yes" if form in _YES else "no"], "normalised")
    return None


def _digits_as_words(output: str, labels: Sequence[str]) -> str:
    """Digits rewritten as the number-word labels they stand for ("7" -> "seven")."""
    words = {str(i): w for i, w in enumerate(_NUMBER_WORDS) if w in {squash(label) for label in labels}}
    if not words:
        return output
    return re.sub(r"(?<![\w.,-])(10|[0-9])(?![\w]|[.,]\d)", lambda m: words.get(m.group(1), m.group(1)), output)


def _single(mentions: Sequence[Mention]) -> str | None:
    affirmed = {m.key for m in mentions if m.status == "affirmed"}
    return affirmed.pop() if len(affirmed) == 1 else None


def _explicit(text: str, mentions: Sequence[Mention]) -> str | None:
    """The label stated by the last explicit answer (answer line or bold) that names exactly one."""
    for seg in explicit_segments(text):
        inside = [m for m in mentions if seg.start <= m.start and m.end <= seg.end]
        if inside:
            return _single(inside)
    return None


def _yes_no_leading(text: str, labels: Sequence[str]) -> str | None:
    """Yes/no tasks: an answer whose first word is yes or no states it ("No, they differ.")."""
    by_form = {squash(label): label for label in labels}
    if set(by_form) != {"yes", "no"}:
        return None
    m = re.match(r"[\s~]*(yes|no)\b(?!\s*\?)(?!\s*(?:or|and|/)\s*(?:yes|no)\b)", text)
    return by_form[m.group(1)] if m else None


def _without_determiner_no(text: str, mentions: list[Mention]) -> list[Mention]:
    """Yes/no tasks: "no" before a word ("there is no music") is a determiner, not the answer "no"."""
    return [
        m
        for m in mentions
        if not (m.key.casefold() == "no" and re.match(r"\s+[a-z]", text[m.end :]) and text[: m.start].strip(" ~"))
    ]


def _last_sentence(text: str, mentions: Sequence[Mention]) -> str | None:
    """The last sentence naming labels, when it affirms exactly one and lists or doubts none."""
    for start, end in reversed(list(sentences(text))):
        inside = [m for m in mentions if start <= m.start < end and m.status != "question"]
        if inside:
            if any(m.status in ("listed", "doubted") for m in inside):
                return None
            return _single(inside)
    return None


def _rule_tiers(output: str, labels: Sequence[str], instruction: str) -> tuple[Resolution | None, bool]:
    """The rule tiers; also whether the text is clean enough for the semantic tier (no label, no cue)."""
    whole = _whole_answer(output, labels)
    if whole is not None:
        return whole, False
    output = _digits_as_words(output, labels)
    whole = _whole_answer(output, labels)
    if whole is not None:
        return Resolution(whole.answer, "normalised"), False
    substituted = substitute_options(output, parse_options(instruction, labels))
    tier_override: Tier | None = "option" if substituted is not None else None
    prepared = prepare(substituted if substituted is not None else output)
    text = plain(prepared)
    if substituted is not None and (whole := _whole_answer(substituted, labels)) is not None:
        return Resolution(whole.answer, "option"), False
    mentions = _without_determiner_no(text, find_mentions(text, {squash(label): label for label in labels}))
    found = _read(output, prepared, labels, mentions)
    if found is not None:
        return Resolution(found[0], tier_override or found[1]), False
    return None, not mentions and not has_cue(text) and substituted is None


def _read(output: str, prepared: str, labels: Sequence[str], mentions: list[Mention]) -> tuple[str, Tier] | None:
    """Explicit answer, leading yes/no, single affirmed mention, then the last sentence.

    ``prepared`` keeps the markdown (bold answers are found in it); ``mentions`` were
    found in its ``plain`` form, which has the same positions.
    """
    text = plain(prepared)
    for value in [json_answer(output)] + json_values(output):
        if value is not None and (whole := _whole_answer(value, labels)) is not None:
            return str(whole.answer), "final"
    checks: list[tuple[str | None, Tier]] = [
        (_explicit(prepared, mentions), "final"),
        (_yes_no_leading(text, labels), "leading"),
        (_single(mentions), "mention"),
        (_last_sentence(text, mentions), "final"),
    ]
    for label, tier in checks:
        if label is not None:
            return label, tier
    return None


def resolve_label(
    output: str, labels: Sequence[str], *, instruction: str = "", resolvers: Sequence[LabelResolver] = ()
) -> Resolution:
    """Resolve a free-form output to one of ``labels`` (see the module table for the tiers).

    The optional ``resolvers`` run only when the rule tiers find nothing; the semantic
    tier additionally only on answers that name no label and hold no negation, doubt
    or question (its embedding cannot read scope). A resolver that audits the rule
    tiers (the judge) is also shown each answer they resolved by reading it (option,
    final, leading, mention), to report how often the two agree.
    """
    if not output or not output.strip():
        return NA
    resolution, clean = _rule_tiers(output, labels, instruction)
    if resolution is not None:
        if resolution.tier in _READ_TIERS and isinstance(resolution.answer, str):
            for auditor in resolvers:
                if isinstance(auditor, RuleAuditor):
                    auditor.audit(output, labels, instruction, resolution.answer)
        return resolution
    for resolver in resolvers:
        if resolver.tier == "semantic" and not clean:
            continue
        answer = resolver(output, labels, instruction)
        if answer is not None and answer in labels:
            return Resolution(answer, resolver.tier)
    return NA


def mentioned_label(output: str, labels: Sequence[str]) -> str | None:
    """The one label an output affirms (scope of negation, doubt, questions and lists read); else None."""
    text = plain(prepare(output))
    return _single(find_mentions(text, {squash(label): label for label in labels}))
