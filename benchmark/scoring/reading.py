r"""The whole answer before it is read: what a careful grader skips, and answers that commit to nothing.

Rules, each with an example:

- a reasoning block (``<think>...</think>``) is skipped when an answer follows it;
- a chat turn that leaks after the answer ("... Answer: B\nUser: ... Assistant: C") is cut:
  the first answer stands;
- a degenerate loop (the same sentence over and over) is read once;
- an echoed prompt example ("(e.g., The answer is Music)") is not the model's answer;
- an answer that is cut off mid-sentence after a long reasoning ("... * (d) dependent: 'dependent'
  contains the") committed to nothing unless it stated an explicit answer;
- a refusal ("I'm sorry, but I can't analyze audio", "Could you clarify ...?", "Please provide
  ...") and a rejection of every option ("none of the options fits", "the count does not match
  any of the options") commit to nothing, unless an explicit answer line follows them.

Every pattern is bounded: outputs can be 100 kB.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_THINK = re.compile(r"<think(?:ing)?>.{0,200000}?</think(?:ing)?>", re.DOTALL | re.IGNORECASE)
_THINK_OPEN_ONLY = re.compile(r"^.{0,200000}</think(?:ing)?>", re.DOTALL | re.IGNORECASE)
_CHAT_TURN = re.compile(
    r"(?:^|\n)\s{0,8}(?:user|human|assistant|system|<\|im_start\|>|<\|user\|>|<\|assistant\|>)\s{0,3}[:>\n|]",
    re.IGNORECASE,
)
_ECHO = re.compile(
    r"\(\s{0,3}(?:e\.\s?g\.|for example|for instance|example)\s{0,3},?[^()]{0,300}?(?:\)|(?=</answer>)|(?<=[.!?])\s)"
    r"|(?:^|(?<=[.!?]\s))\s{0,3}(?:e\.\s?g\.|for example)[,:]\s[^.!?\n]{0,300}[.!?]?",
    re.IGNORECASE,
)
_CLOSING = re.compile(r"(?:\s|</?[a-z_]{1,20}>|[`*_\"'\])}>\u201d])*$", re.IGNORECASE)
_REFUSAL = re.compile(
    r"\b(?:i(?:'m| am)? (?:sorry|unable)|i(?: can(?:no|')t| could ?n(?:o|')t| am not able to|'m not able to)"
    r" (?:analy[sz]e|listen|hear|access|process|play|determine|make|identify|tell|provide|help|answer|compare"
    r"|judge|say|decide|detect|recogni[sz]e|distinguish)"
    r"|(?:please|kindly) (?:provide|share|upload|clarify|describe)"
    r"|could you (?:please )?(?:provide|share|clarify|describe|upload|specify)"
    r"|without (?:access to|hearing|listening to|the (?:actual )?audio)"
    r"|(?:we|i) (?:can(?:no|')t|could(?:n't| not)) (?:directly )?(?:count|analy[sz]e|determine|tell|know)"
    r"|(?:we|i)(?:'ll| will) proceed only|as an ai\b|no (?:audio|recording|sound) (?:was|is|has been)"
    r" (?:provided|attached|shared))",
    re.IGNORECASE,
)
_NONE_FITS = re.compile(
    r"\b(?:none of (?:the |these |those )?(?:given |provided |listed |above )?(?:options|choices|answers|above)"
    r"|none of them (?:fits?|match(?:es)?|is correct|appl(?:y|ies)|explicitly|answers?)"
    r"|(?:is|are|was) not (?:among|in|one of|listed (?:in|among)) the (?:given |provided |listed )?(?:options|choices)"
    r"|(?:does|do)(?: not|n't) (?:match|correspond to|fit|appear in|align with) (?:any|one) (?:of )?(?:the )?"
    r"(?:given |provided |listed )?(?:options?|choices?)|(?:no|neither) (?:option|choice) (?:fits|matches|is correct)"
    r"|options provided do not match|not (?:match|among) (?:any|the) (?:provided |given )?options"
    r"|(?:answer|option|choice|it) (?:is|was)(?: not|n't) (?:listed|provided|included|available|given|offered)"
    r"|(?:is|are)(?: not|n't) (?:among|in|one of|part of) (?:the |these |those )?(?:given |provided |listed )?"
    r"(?:options|choices)|not any of (?:the|these|those)"
    r"|no (?:correct|valid|suitable|matching|right|fitting) (?:option|answer|choice)"
    r"|(?:all|both) (?:of )?(?:the )?(?:options|choices|answers) (?:are|seem|appear) (?:wrong|incorrect)"
    r"|(?:neither|none) (?:option|choice|answer) (?:is|seems) (?:correct|right))",
    re.IGNORECASE,
)
_OPEN_END = re.compile(
    r"\b(?:the|a|an|of|to|in|on|at|by|for|from|with|and|or|but|is|are|was|were|be|that|this|which|its|their"
    r"|contains?|has|have|as|than|into|between|because|so|if|like|very)$",
    re.IGNORECASE,
)
_STOP_OR_LINE = re.compile(r"(?<!\d)[.!?][*_\"')\]]*\s|\n")
_LIST_ITEM = re.compile(r"\s*(?:\d{1,3}[.)]|[-*\u2022]|\(?[a-h]\))\s")
_LONG = 280  # a reasoning answer this long that stops mid-sentence was cut off, not finished


@dataclass(frozen=True)
class Prepared:
    """An answer as a grader reads it, and what it says about itself."""

    text: str
    """The answer with skipped parts removed (reasoning block, leaked turns, loops, echoed examples)."""
    truncated: bool
    """Cut off mid-sentence after a long reasoning: only an explicit answer commits."""
    refusal_at: int
    """Where the last refusal or rejection of every option starts in ``text``; -1 when none."""


def skip_reasoning(text: str) -> str:
    """The part after a closed reasoning block, when something follows it."""
    after = _THINK.sub(" ", text)
    if after.strip():
        text = after
    closed = _THINK_OPEN_ONLY.match(text)  # "...reasoning</think> answer" without the opening tag
    if closed and text[closed.end() :].strip():
        text = text[closed.end() :]
    return text


def cut_chat_leak(text: str) -> str:
    """The answer before a leaked chat turn, when it has one (the first answer stands)."""
    for m in _CHAT_TURN.finditer(text):
        if text[: m.start()].strip():
            return text[: m.start()]
    return text


def _once(text: str) -> str:
    """A degenerate loop read once: the text up to the third time a sentence repeats."""
    seen: dict[str, int] = {}
    for m in re.finditer(r"[^.!?\n]{8,400}[.!?\n]", text):
        key = " ".join(m.group(0).split()).casefold()
        seen[key] = seen.get(key, 0) + 1
        if seen[key] >= 3:
            return text[: m.start()]
    return text


def is_truncated(text: str) -> bool:
    """Whether a long answer stops mid-sentence (after a word, a comma, an open list item)."""
    if len(text) < _LONG:
        return False
    body = text[: _CLOSING.search(text).start()]  # type: ignore[union-attr]  # the pattern matches "" at the end
    if not body:
        return False
    if re.search(r"(?:^|\s)(?:\d{1,2}\.|\(?[a-h]\)|[-*\u2022])$", body[-6:]):
        return True  # an open list item: "... 2." or "(c)" with nothing after it
    if body[-1] in ".!?\u3002":
        return False
    ends = list(_STOP_OR_LINE.finditer(body[-2000:]))
    tail = body[-2000:][ends[-1].end() :] if ends else body[-2000:]
    if _LIST_ITEM.match(tail):
        return True  # the last piece is an item of an enumeration still under way
    # No final stop: cut off only after a word that cannot end a sentence, or mid-punctuation. A last
    # sentence that merely lacks its period ("... so the speaker is female") is finished.
    return not body[-1].isalnum() or bool(_OPEN_END.search(body[-20:]))


def prepare_answer(output: str) -> Prepared:
    """The answer a grader reads (see the module rules)."""
    text = cut_chat_leak(skip_reasoning(output))
    text = _once(text)
    text = _ECHO.sub(" ", text)
    truncated = is_truncated(text)
    refusal_at = max((m.start() for m in _REFUSAL.finditer(text)), default=-1)
    refusal_at = max(refusal_at, max((m.start() for m in _NONE_FITS.finditer(text)), default=-1))
    return Prepared(text, truncated, refusal_at)
