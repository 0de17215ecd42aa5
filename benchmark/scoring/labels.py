"""Label resolution: a model's free-form output read as one of the task's labels, in tiers.

==========  ================================================================
tier        rule
==========  ================================================================
exact       equal to a label after case and space normalisation
normalised  equal after stripping punctuation, quotes, markdown, a lead-in
            ("the answer is", "Answer:"), or a JSON object {"answer": ...}
mention     exactly one label mentioned as a whole word or phrase, not negated
            ("not male") and no second label mentioned
semantic    offline sentence embedding closest to one label, above a calibrated
            similarity threshold and margin (optional resolver)
judge       an LLM judge picked the label (optional resolver, cached)
na          nothing matched: counted as wrong, reported as the N/A rate
==========  ================================================================
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from benchmark.scoring.text import squash, strip_punct

Tier = Literal["exact", "normalised", "mention", "semantic", "judge", "number", "text", "na"]
TIERS: tuple[str, ...] = Tier.__args__  # type: ignore[attr-defined]


_LEAD_INS = re.compile(
    r"^(?:(?:so|well|ok|okay|sure)[, ]+)?(?:i think |i believe |i'd say |i would say )?"
    r"(?:the |my )?(?:correct |final )?(?:answer|label|class|category|prediction|response|output)"
    r"(?: is| would be| should be)?\s*[:=-]?\s*",
)
_ANSWER_KEYS = ("answer", "label", "prediction", "output", "class", "category", "response")
_NEGATION = re.compile(
    r"(?:\bnot|\bno|n't|\bnever|\bneither|\bnor|\bwithout|\bisn't|\brather than)\s+(?:a |an |the )?$"
)


def json_answer(text: str) -> str | None:
    """The value of an ``answer``-like key of a JSON object in ``text``, if there is one."""
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if not match:
        return None
    try:
        obj = json.loads(match.group(0))
    except json.JSONDecodeError:
        return None
    if isinstance(obj, dict):
        for key in _ANSWER_KEYS:
            for k, v in obj.items():
                if k.casefold() == key and isinstance(v, (str, int, float)) and not isinstance(v, bool):
                    return str(v)
    return None


def _normalised_candidates(output: str) -> list[str]:
    """Forms of the output that count as stating one answer outright."""
    text = output.strip()
    json_value = json_answer(text)
    if json_value is not None:
        text = json_value
    base = strip_punct(text)
    forms = [base, strip_punct(_LEAD_INS.sub("", squash(text).strip("*_ `\"'")))]
    return [f for f in dict.fromkeys(forms) if f]


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


def resolve_label(
    output: str, labels: Sequence[str], *, instruction: str = "", resolvers: Sequence[LabelResolver] = ()
) -> Resolution:
    """Resolve a free-form output to one of ``labels`` (see the module table for the tiers)."""
    if not output or not output.strip():
        return NA
    by_squash = {squash(label): label for label in labels}
    if squash(output) in by_squash:
        return Resolution(by_squash[squash(output)], "exact")
    by_norm = {strip_punct(label): label for label in labels}
    for form in _normalised_candidates(output):
        if form in by_norm:
            return Resolution(by_norm[form], "normalised")
    mentioned = mentioned_label(output, labels)
    if mentioned is not None:
        return Resolution(mentioned, "mention")
    for resolver in resolvers:
        answer = resolver(output, labels, instruction)
        if answer is not None and answer in labels:
            return Resolution(answer, resolver.tier)
    return NA


def mentioned_label(output: str, labels: Sequence[str]) -> str | None:
    """The one label mentioned as a whole word, not negated; None if none or several.

    A label inside a longer mentioned label ("high" in "very high") does not count
    separately; a negated mention ("not male", "isn't a dog") is not an answer.
    """
    # Punctuation is kept, so "No, happy" is an interjection and not a negation of "happy".
    text = re.sub(r"[*_`\"]", " ", squash(output).replace("\u2019", "'"))
    spans: list[tuple[int, int, str]] = []
    for label in labels:
        key = squash(label)
        if not key:
            continue
        for m in re.finditer(rf"(?<![\w'-]){re.escape(key)}(?![\w'-])", text):
            spans.append((m.start(), m.end(), label))
    # Drop mentions covered by a longer one.
    kept = [s for s in spans if not any(o[0] <= s[0] and s[1] <= o[1] and (o[1] - o[0]) > (s[1] - s[0]) for o in spans)]
    affirmed = {label for start, _, label in kept if not _NEGATION.search(text[:start])}
    negated = {label for start, _, label in kept if _NEGATION.search(text[:start])}
    if len(affirmed) == 1 and not (affirmed & negated):
        return affirmed.pop()
    return None
