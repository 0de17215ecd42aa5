r"""The answer span of a generation output (a transcript, a digit string, a translation).

A model often wraps its answer: ``The digits are 1 7 8``, ``Transcript: "hello there"``,
``Sure! Here is the transcription:\n\nhello there``, ``<answer>hello</answer>``, a JSON
object, a reasoning block before it. The metric should score the answer, not the wrapping,
so the span is extracted first, by these rules in order:

1. a reasoning block (``<think>...</think>``) and leaked chat turns are dropped;
2. an ``<answer>`` tag, or the answer field of a JSON object;
3. a short preamble line ending in a colon ("Here is the transcription:") before the text;
4. a lead-in ("The transcript is", "The digits are", "The answer to the question is", "Answer:",
   "Translation:") before the text;
5. then, if the rest is one quoted span, its inside.

Anything else is the answer as it stands: an output is never shortened on a guess.
"""

from __future__ import annotations

import re

from benchmark.scoring.answer import json_answer
from benchmark.scoring.reading import cut_chat_leak, skip_reasoning

_TAG = re.compile(r"<answer>\s{0,20}(.{1,100000}?)\s{0,20}</answer>", re.DOTALL | re.IGNORECASE)
_PREAMBLE_LINE = re.compile(r"^[^\n:]{0,80}:[ \t]*\n+", re.IGNORECASE)
_LEAD_IN = re.compile(
    r"^(?:(?:sure|okay|ok|certainly)[,.!]?\s{1,3})?(?:here(?:'s| is| are)\s{1,3})?(?:the\s{1,3})?(?:final\s{1,3})?"
    r"(?:(?:transcript(?:ion)?|answer(?:\s{1,3}(?:to|for|of)\s{1,3}(?:the|this|that|your)\s{1,3}\w{1,20})?"
    r"|digits?|numbers?|translation)"
    r"(?:\s{1,3}(?:is|are|reads?|would be)\s{0,3}:?\s|\s{0,3}[:-])"
    r"|(?:text|output|result|sentence|words?|utterance)\s{0,3}:)\s{0,3}",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"^[\"\u201c'\u2018`]{1,3}(.{1,100000}?)[\"\u201d'\u2019`]{1,3}[.!]?$", re.DOTALL)


def extract_answer(output: str) -> str:
    """The answer span of a generation output (see the module rules); the output itself when none is marked."""
    text = cut_chat_leak(skip_reasoning(output or "")).strip()
    tag = _TAG.search(text)
    if tag:
        text = tag.group(1).strip()
    elif (value := json_answer(text)) is not None:
        text = value.strip()
    preamble = _PREAMBLE_LINE.match(text)
    if preamble and len(preamble.group(0).split()) <= 10 and text[preamble.end() :].strip():
        text = text[preamble.end() :].strip()
    lead = _LEAD_IN.match(text)
    if lead and text[lead.end() :].strip():
        text = text[lead.end() :].strip()
    quoted = _QUOTED.match(text)
    if quoted and not re.search(r"[\"\u201c\u201d]", quoted.group(1)):
        text = quoted.group(1).strip()
    return text
