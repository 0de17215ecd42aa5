"""Label resolution: a model's free-form output read as one of the task's labels, in tiers.

Before the reading tiers, the whole answer is prepared as a grader reads it
(``benchmark.scoring.reading``): reasoning blocks, leaked chat turns, loops and echoed
prompt examples are skipped; cut-off reasoning, refusals and "none of the options"
commit only through an explicit answer that follows them.

==========  ================================================================
tier        rule
==========  ================================================================
exact       equal to a label after case and space normalisation
normalised  equal after stripping punctuation, quotes, markdown, a lead-in
            ("the answer is", "Answer:"), or a JSON object {"answer": ...}
option      the instruction lists options ("(A) happy (B) sad") and the
            answer names one ("(B)", "Answer: B", "Option B"); or the options
            are listed unlettered, in order, and an answer line gives a
            letter ("The answer is C." = the third), unless its text
            concludes with another option
final       an explicit final answer ("Answer: X", a bold **X**, a JSON
            field) beats labels discussed earlier; else the last sentence
            that names labels, when it affirms exactly one
leading     yes/no tasks: the answer's first word ("Yes, no doubt about it.");
            a fact about what is asked ("No music can be heard." -> no) is final
mention     exactly one label affirmed, once negation, doubt, questions
            and lists are read (see ``benchmark.scoring.answer``); one
            candidate offered with a soft hedge ("Perhaps male.")
lexicon     no label named verbatim: the same reading over restatements,
            word forms, synonyms and translations of the labels
            (``benchmark.scoring.lexicon``)
semantic    offline sentence embedding closest to one label, above a calibrated
            similarity threshold and margin; never on an answer that mentions
            a label, negates, doubts or asks (optional resolver, off by
            default: on real outputs it adds wrong commits, "four" -> three)
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
    key_spans,
    plain,
    prepare,
    sentences,
    statuses_at,
)
from benchmark.scoring.lexicon import head_spans, partial_restatement_spans, restatement_spans, stem, synonym_keys
from benchmark.scoring.options import letter_answer, parse_options, positional_options, substitute_options
from benchmark.scoring.reading import Prepared, prepare_answer
from benchmark.scoring.text import squash, strip_punct

__all__ = ["NA", "TIERS", "LabelResolver", "Resolution", "RuleAuditor", "Tier", "json_answer", "resolve_label"]

RESOLVER_VERSION = "2"
"""Version of the rule tiers (bumped whenever a rule changes how an answer reads); recorded with every record.

1: reading rules of ``answer`` (scope of negation and doubt, lists, explicit answers).
2: the whole answer prepared first (``reading``: reasoning blocks, leaked chat turns, loops, echoed examples,
cut-off reasoning, refusals, "none of the options"); letters by position for unlettered options; rejections
after a mention; the ``lexicon`` tier (restatements, word forms, synonyms, other languages); one hedged
candidate commits; yes/no stated as a fact.
"""

Tier = Literal[
    "exact",
    "normalised",
    "option",
    "final",
    "leading",
    "mention",
    "lexicon",
    "semantic",
    "judge",
    "number",
    "text",
    "audio",
    "na",
]
TIERS: tuple[str, ...] = Tier.__args__  # type: ignore[attr-defined]


_LEAD_INS = re.compile(
    r"^(?:(?:so|well|ok|okay|sure)[, ]+)?(?:i think |i believe |i'd say |i would say )?"
    r"(?:the |my )?(?:correct |final )?(?:answer|label|class|category|prediction|response|output)"
    r"(?: is| would be| should be)?\s*[:=-]?\s*",
)
# Tiers that interpret an answer (rather than match it outright): the judge audits these.
_READ_TIERS = ("option", "final", "leading", "mention", "lexicon")
_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_YES = {"yeah", "yep", "yup", "yes indeed", "affirmative", "correct", "indeed", "absolutely", "definitely"}
_NUMBER_IDIOM_BEFORE = re.compile(r"\b(?:at least|at most|more than|less than|fewer than|no|each|any|every|which)\s+$")
_NUMBER_IDIOM_AFTER = re.compile(r"\s+(?:of\b|or more\b|another\b|by one\b|and only\b)")
_CONCLUSION = re.compile(
    r"\b(?:so|therefore|thus|hence|overall|in conclusion|in summary|finally|ultimately|i'd say|i would say|i think"
    r"|i believe|answer|final|most likely|best|closest|correct|choose|pick|select|go with|conclude|actually|but"
    r"|wait|i mean|rather|on second thought|correction|sorry)\b"
)
_SOFT_HEDGE = re.compile(r"\b(?:maybe|perhaps|possibly|probably|(?:might|could|may)(?: well)?(?: also)? be)\b")
_HARD_DOUBT = re.compile(r"\b(?:whether|if|unclear|unsure|uncertain|unknown|unable|impossible|hard to|difficult to)\b")
_NEGATION = re.compile(r"\b(?:not|no|never|neither|nor|cannot|without|none)\b|n't\b")
_QUESTION_WORDS = frozenset(
    "is are was were does do did can could would will has have there any a an the this that it of in to".split()
)
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
    """The one label affirmed; a label whose last mention rejects it ("... would exclude X") is not chosen."""
    last = {m.key: m.status for m in mentions}
    affirmed = {m.key for m in mentions if m.status == "affirmed" and last[m.key] != "negated"}
    return affirmed.pop() if len(affirmed) == 1 else None


def _explicit(text: str, mentions: Sequence[Mention], bold: bool) -> tuple[str, int] | None:
    """The label stated by the last explicit answer (answer line, or bold) that names exactly one, and where."""
    for seg in explicit_segments(text):
        if seg.kind == "bold" and not bold:
            continue
        inside = [m for m in mentions if seg.start <= m.start and m.end <= seg.end]
        if inside:
            label = _single(inside)
            return (label, seg.start) if label is not None else None
    return None


def _bold_is_formatting(text: str, mentions: Sequence[Mention]) -> bool:
    """Bold that names several labels is formatting of an analysis ("**Largo** ... **Presto**"), not an answer."""
    named = {
        m.key
        for seg in explicit_segments(text)
        if seg.kind == "bold"
        for m in mentions
        if seg.start <= m.start and m.end <= seg.end
    }
    return len(named) > 1


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


def _without_number_idioms(text: str, mentions: list[Mention]) -> list[Mention]:
    """Number-word labels: "at least one", "one of the", "one or more" use the word; they do not answer with it."""
    kept = []
    for m in mentions:
        if m.key.casefold() in _NUMBER_WORDS:
            before, after = text[max(0, m.start - 14) : m.start], text[m.end : m.end + 12]
            if _NUMBER_IDIOM_BEFORE.search(before) or _NUMBER_IDIOM_AFTER.match(after):
                continue
        kept.append(m)
    return kept


def _last_sentence(text: str, mentions: Sequence[Mention]) -> str | None:
    """The last sentence naming labels, when it affirms exactly one and lists or doubts none.

    When an earlier sentence affirms another label, the last one decides only if it concludes
    ("So, female."); "Female voice. Male voice in background." states two answers.
    """
    for start, end in reversed(list(sentences(text))):
        inside = [m for m in mentions if start <= m.start < end and m.status != "question"]
        if inside:
            if any(m.status in ("listed", "doubted") for m in inside):
                return None
            label = _single(inside)
            earlier = {m.key for m in mentions if m.start < start and m.status == "affirmed"} - {label}
            if earlier and not _CONCLUSION.search(text[start:end]):
                return None
            return label
    return None


def _rival_hedged(text: str, mentions: Sequence[Mention], label: str) -> bool:
    """Whether another label is offered as possible ("It's a boy, though it could be a girl.")."""
    return any(
        m.status == "doubted" and m.key != label and _SOFT_HEDGE.search(text[max(0, m.start - 40) : m.start])
        for m in mentions
    )


def _one_hedged(text: str, mentions: Sequence[Mention]) -> str | None:
    """One candidate offered with a soft hedge and nothing else ("Perhaps a man.") is still a commitment."""
    keys = {m.key for m in mentions}
    if len(keys) != 1 or any(m.status != "doubted" for m in mentions):
        return None
    if not _SOFT_HEDGE.search(text) or _HARD_DOUBT.search(text) or _NEGATION.search(text):
        return None
    return keys.pop()


def _yes_no_fact(text: str, labels: Sequence[str], instruction: str) -> str | None:
    """Yes/no tasks: a statement of fact about what the question asks.

    "There is no music in the background." answers "Is there background music?" with no
    (the question's last content word, negated); "The speaker sounds happy." answers "Is
    the speaker happy?" with yes (all its content words, in order, affirmed, no cue at all).
    """
    by_form = {squash(label): label for label in labels}
    questions = re.findall(r"[^?.!\n]{3,300}\?", instruction[-2000:])
    if set(by_form) != {"yes", "no"} or not questions:
        return None
    asked = [stem(w) for w in re.findall(r"[a-z]+", questions[-1].casefold()) if w not in _QUESTION_WORDS]
    if not asked:
        return None
    found = [(m.start(), stem(m.group(0))) for m in re.finditer(r"[a-z]+", text[:20000])]
    heads = [pos for pos, st in found if st == asked[-1]]
    statuses = set(statuses_at(text, heads))
    anywhere = set(statuses_at(text, [pos for pos, st in found if st in asked]))
    if statuses == {"negated"} or (not statuses and anywhere == {"negated"}):
        return by_form["no"]
    stems_in_order = iter(st for _, st in found)
    if statuses == {"affirmed"} and all(a in stems_in_order for a in asked) and not has_cue(text):
        return by_form["yes"]
    return None


def _conclusion_differs(text: str, letter: tuple[str, int], labels: Sequence[str]) -> bool:
    """Whether the conclusion before a letter answer restates exactly one other option than the letter names.

    "... the first speaker vaguely remembers the manager's reaction. The answer is C." with C
    another option: the letter and its text disagree, so the answer is N/A.
    """
    bounds = [s for s, _ in sentences(text[: letter[1] + 1])]
    start = bounds[-2] if len(bounds) > 1 else 0
    window = plain(prepare(text[start : letter[1]]))
    near = find_mentions(window, {}, partial_restatement_spans(window, labels))
    named = {m.key for m in near if m.status == "affirmed"}
    return len(named) == 1 and named != {letter[0]}


def _question_modals(text: str, instruction: str) -> str:
    """A hedge that repeats the question's own modal ("What could cause X?" -> "it could be X") commits.

    Blanked to the same length, so positions stay valid.
    """
    modals = [w for w in ("could", "might", "may") if re.search(rf"\b{w}\b", instruction, re.IGNORECASE)]
    if re.search(r"\b(?:most )?(?:likely|probabl[ey])\b", instruction, re.IGNORECASE):
        modals.append("likely")
    for modal in modals:
        pattern = rf"\b{modal}(?: well)?(?: also)? be\b" if modal != "likely" else r"\b(?:most )?likely\b"
        text = re.sub(pattern, lambda m: "~" * len(m.group(0)), text)
    return text


def _mentions(text: str, labels: Sequence[str], lexicon: bool) -> list[Mention]:
    """Label mentions in a ``plain`` text: verbatim, or (``lexicon``) restated, synonyms, translations."""
    if not lexicon:
        found = find_mentions(text, {squash(label): label for label in labels})
    else:
        extra = restatement_spans(text, labels) + key_spans(text, synonym_keys(labels)) + head_spans(text, labels)
        found = find_mentions(text, {}, extra)
    return _without_number_idioms(text, _without_determiner_no(text, found))


def _rule_tiers(output: str, labels: Sequence[str], instruction: str) -> tuple[Resolution | None, bool]:
    """The rule tiers; also whether the text is clean enough for the semantic tier (no label, no cue)."""
    whole = _whole_answer(output, labels)
    if whole is not None:
        return whole, False
    read = prepare_answer(output)
    body = _digits_as_words(read.text, labels)
    whole = _whole_answer(body, labels)
    if whole is not None:
        return Resolution(whole.answer, "normalised"), False
    options = parse_options(instruction, labels)
    substituted = substitute_options(body, options)
    if substituted is not None and (whole := _whole_answer(substituted, labels)) is not None:
        return Resolution(whole.answer, "option"), False
    prepared = prepare(substituted if substituted is not None else body)
    text = _question_modals(plain(prepared), instruction)
    positional = letter_answer(read.text, positional_options(instruction, labels)) if not options else None
    mentions = _mentions(text, labels, lexicon=False)
    found = _read(body, prepared, text, labels, mentions, read, instruction)
    lexicon = found is None and not any(m.status == "affirmed" for m in mentions)
    if lexicon:
        mentions = _mentions(text, labels, lexicon=True)
        found = _read(body, prepared, text, labels, mentions, read, instruction)
    if positional is not None:
        # A letter that names an option by position stands, unless the text chooses another option.
        agrees = (found is None or found[0] == positional[0]) and not _conclusion_differs(read.text, positional, labels)
        if agrees and not (read.refusal_at > positional[1] or (read.truncated and positional[1] < len(text) - 300)):
            return Resolution(positional[0], "option"), False
        return NA, False
    if found is not None:
        tier: Tier = "option" if substituted is not None else ("lexicon" if lexicon else found[1])
        return Resolution(found[0], tier), False
    return None, not mentions and not has_cue(text) and substituted is None and read.refusal_at < 0


def _read(
    body: str,
    prepared: str,
    text: str,
    labels: Sequence[str],
    mentions: list[Mention],
    read: Prepared,
    instruction: str,
) -> tuple[str, Tier] | None:
    """Explicit answer, leading yes/no, single affirmed mention, then the last sentence.

    ``prepared`` keeps the markdown (bold answers are found in it); ``mentions`` were
    found in its ``plain`` form ``text``, which has the same positions. A cut-off answer
    commits only through an explicit answer; after a refusal or a rejection of every
    option, only an explicit answer that follows it commits.
    """
    for value in [json_answer(body)] + json_values(body):
        if value is not None and (whole := _whole_answer(value, labels)) is not None:
            return str(whole.answer), "final"
    bold = not read.truncated and not _bold_is_formatting(prepared, mentions)
    explicit = _explicit(prepared, mentions, bold)
    if explicit is not None and explicit[1] > read.refusal_at:
        return explicit[0], "final"
    if read.truncated or read.refusal_at >= 0:
        return None
    checks: list[tuple[str | None, Tier]] = [
        (_yes_no_leading(text, labels), "leading"),
        (_single(mentions), "mention"),
        (_last_sentence(text, mentions), "final"),
        (_one_hedged(text, mentions), "mention"),
        (_yes_no_fact(text, labels, instruction), "final"),
    ]
    for label, tier in checks:
        if label is not None and not (tier in ("mention", "final") and _rival_hedged(text, mentions, label)):
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
