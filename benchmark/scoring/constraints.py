r"""Instruction-following constraints: deterministic checks of an answer's format, and unwrapping.

Each family is a pure function of (answer, arguments): no language detection, no
downloads, no state. The pass rules follow ``CONSTRAINTS.md``:

============  ==================  ==========================================================
family        arguments           strict rule (loose extra)
============  ==================  ==========================================================
json          keys, exact_keys    the answer, or its one code fence, parses as a JSON object
                                  holding every key (first balanced ``{...}`` object, keys
                                  compared without case)
upper         -                   a cased character and no lowercase one
lower         -                   a cased character and no uppercase one
words         min, max            Han characters one word each, other ``\w+`` runs one word
language      lang                script share of the letters (en: ASCII >= 0.95, others
                                  >= 0.8 of their script, zh: Han)
starts_with   phrase              casefolded, quotes folded (leading ``" ' * # >`` ignored)
ends_with     phrase              same, one pair of ``"`` around the answer ignored (trailing
                                  ``* _ " '`` ignored, phrase without final ``. ! ?``)
wrap          open, close         answer starts with open, ends with close, text between
keywords      include, exclude    whole words for Latin letters and digits, substrings for CJK
bullets       count | min, max    lines like ``- x``, ``* x``, ``• x``, ``1. x``, ``2) x``
============  ==================  ==========================================================

An empty answer (after ``<think>`` blocks are removed and whitespace stripped) fails
everything. The loose form is IFEval's: the answer passes if any of eight variants (the
answer, without its first line, without its last line, without both, each also with
every ``*`` removed) passes the strict rule or the family's loose extra; strict passing
implies loose passing. :data:`CHECKER_VERSION` changes whenever any rule changes, and
each record stores it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from benchmark.scoring.constraint_args import (
    HAN,
    HANGUL,
    KANA,
    SCRIPTS,
    BulletsArgs,
    Constraint,
    ConstraintArgs,
    JsonArgs,
    KeywordsArgs,
    LanguageArgs,
    NoArgs,
    PhraseArgs,
    WordsArgs,
    WrapArgs,
)

__all__ = [
    "CHECKER_VERSION",
    "CJK_CHARS",
    "FAMILIES",
    "Constraint",
    "Family",
    "bullet_count",
    "check",
    "family_of",
    "loose_variants",
    "preprocess",
    "unwrap",
    "word_count",
]

CHECKER_VERSION = "1.0.0"
"""Version of the checking rules; bumped when any family's pass rule or unwrapping changes."""


# --- text primitives -----------------------------------------------------------------------------------------------

_QUOTES = str.maketrans("\u2018\u2019\u201a\u2032\u201c\u201d\u201e\u2033", "''''\"\"\"\"")
# Combining marks are not \w in Python: without them "हिन्दी" would be three words and a decomposed "é" two.
_MARKS = "\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u064b-\u065f\u0670\u0900-\u0dff\u1ab0-\u1aff\u20d0-\u20ff"
_WORD = re.compile(f"[{HAN}]|(?:[^\\W{HAN}]|[{_MARKS}])+")
CJK_CHARS = re.compile(f"[{HAN}{KANA}{HANGUL}]")
"""Characters of scripts written without spaces between words: a keyword holding one matches as a substring."""
_SCRIPT_CHARS = {lang: re.compile(f"[{s.chars}]") for lang, s in SCRIPTS.items()}
_SCRIPT_REQUIRED = {lang: re.compile(f"[{s.required or s.chars}]") for lang, s in SCRIPTS.items()}


def fold_quotes(text: str) -> str:
    """Typographic quotes and primes as straight ones (one character for one: positions are kept)."""
    return text.translate(_QUOTES)


def norm(text: str) -> str:
    """The form phrases are compared in: quotes folded, casefolded."""
    return fold_quotes(text).casefold()


def word_count(text: str) -> int:
    r"""Words: each Han character is one; any other maximal ``\w+`` run (marks included) is one ("don't" is 2)."""
    return sum(1 for _ in _WORD.finditer(text))


def script_share(text: str, lang: str) -> bool:
    """Whether enough of the letters of ``text`` are in the script of ``lang`` (see ``SCRIPTS``)."""
    letters = sum(map(str.isalpha, text))
    if not letters or _SCRIPT_REQUIRED[lang].search(text) is None:
        return False
    ours = sum(map(str.isalpha, _SCRIPT_CHARS[lang].findall(text)))
    return ours * 100 >= SCRIPTS[lang].percent * letters  # integers: no float edge at the threshold


def has_keyword(body: str, keyword: str) -> bool:
    """Whether a normalised ``body`` holds ``keyword``: a substring for CJK, else a whole word."""
    key = " ".join(norm(keyword).split())
    if CJK_CHARS.search(key):
        return key in body
    return re.search(rf"(?<!\w){re.escape(key)}(?!\w)", body) is not None


# --- pre-processing ---------------------------------------------------------------------------------------------


def preprocess(output: str) -> str:
    """The answer a checker sees: reasoning removed, surrounding whitespace stripped.

    Everything up to and including the first ``</think>`` goes; a ``<think>`` that never
    closes leaves nothing, because the model never reached its answer.
    """
    _, closed, after = output.partition("</think>")
    if closed:
        output = after
    elif "<think>" in output:
        return ""
    return output.strip()


def loose_variants(text: str) -> list[str]:
    """IFEval's eight loose variants of a pre-processed answer, stripped, empty and repeated ones dropped."""
    lines = text.split("\n")
    bases = [text, "\n".join(lines[1:]), "\n".join(lines[:-1]), "\n".join(lines[1:-1])]
    variants = [*bases, *(b.replace("*", "") for b in bases)]
    return [v for v in dict.fromkeys(v.strip() for v in variants) if v]


# --- json --------------------------------------------------------------------------------------------------------

_DECODER = json.JSONDecoder()
# Loose search tries at most this many "{" positions, so prose full of braces costs a bounded number of parses.
_MAX_OBJECT_STARTS = 64


def _unfence(text: str) -> str:
    """The body of an answer that sits wholly in one code fence (```` ``` ```` or ```` ```json ````)."""
    if len(text) < 6 or not (text.startswith("```") and text.endswith("```")) or text.count("```") != 2:
        return text
    body = text[3:-3]
    if body[:4].casefold() == "json":
        body = body[4:]
    return body.strip()


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(_unfence(text))
    except (ValueError, RecursionError):  # RecursionError: deeply nested arrays in a long output
        return None
    return value if isinstance(value, dict) else None


def _first_object(text: str) -> dict[str, Any] | None:
    """The first ``{...}`` substring that parses as a JSON object."""
    start = text.find("{")
    for _ in range(_MAX_OBJECT_STARTS):
        if start < 0:
            return None
        try:
            value, _end = _DECODER.raw_decode(text, start)
        except (ValueError, RecursionError):
            value = None
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
    return None


def _keys_ok(obj: Mapping[str, Any], args: JsonArgs, *, fold: bool) -> bool:
    have = {k.casefold() for k in obj} if fold else set(obj)
    want = {k.casefold() for k in args.keys} if fold else set(args.keys)
    return want <= have and (not args.exact_keys or have == want)


def _json_strict(text: str, args: JsonArgs) -> bool:
    obj = _json_object(text)
    return obj is not None and _keys_ok(obj, args, fold=False)


def _json_loose(text: str, args: JsonArgs) -> bool:
    obj = _first_object(text)
    return obj is not None and _keys_ok(obj, args, fold=True)


def _json_unwrap(text: str, args: JsonArgs, _translations: Mapping[str, Sequence[str]]) -> str:
    """The value of the first named key (or of the only key), from the strict object, else the loose one."""
    strict = _json_object(text)
    obj, fold = (strict, False) if strict is not None else (_first_object(text), True)
    if not obj:
        return text
    if not args.keys:
        value = next(iter(obj.values())) if len(obj) == 1 else None
    else:
        want = args.keys[0].casefold() if fold else args.keys[0]
        value = next((v for k, v in obj.items() if (k.casefold() if fold else k) == want), None)
    if value is None:
        return text
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# --- case, words, language -----------------------------------------------------------------------------------------


def _upper(text: str, _args: NoArgs) -> bool:
    # str.isupper: at least one cased character and none lowercase; Han, digits and marks are uncased.
    return text.isupper()


def _lower(text: str, _args: NoArgs) -> bool:
    return text.islower()


def _words(text: str, args: WordsArgs) -> bool:
    n = word_count(text)
    return (args.min is None or n >= args.min) and (args.max is None or n <= args.max)


def _language(text: str, args: LanguageArgs) -> bool:
    return script_share(text, args.lang)


# Chinese cues of negation, doubt, alternatives and questions: an answer holding one is not mapped to a label
# unless it is the bare label, because the resolver reads scope in English only.
_ZH_CUES = re.compile("[不没沒非无無别別未否吗嗎或？?]|还是|還是|可能|也许|也許|难以|難以")
_CUES = {"zh": _ZH_CUES}
_BARE = " \t\r\n\"'*_`.,!?;:。！？，、；：「」『』（）()[]【】"


def _language_unwrap(text: str, args: LanguageArgs, translations: Mapping[str, Sequence[str]]) -> str:
    """The canonical label for an answer given in the label's translation.

    A bare translation ("开心。") maps everywhere; an answer naming exactly one label maps only in a
    language whose cues of negation and doubt are known (zh) and only when it holds none of them.
    """
    bare = norm(text.strip(_BARE))
    names = {label: [norm(n) for n in (label, *forms)] for label, forms in translations.items()}
    bare_match = [label for label, forms in names.items() if bare in forms]
    if bare_match:
        return bare_match[0] if len(bare_match) == 1 else text  # a translation shared by two labels is no answer
    cues = _CUES.get(args.lang)
    if cues is None or cues.search(text):
        return text
    body = " ".join(norm(text).split())
    named = [label for label, forms in names.items() if any(has_keyword(body, f) for f in forms)]
    return named[0] if len(named) == 1 else text


# --- phrases and marks ---------------------------------------------------------------------------------------------

_LEAD_MARKS = "\"'*#> \t\r\n"
_TRAIL_MARKS = "*_\"' \t\r\n"
_AFTER_PHRASE = " \t\r\n:,;*_-\u2013\u2014"


def _cut_prefix(text: str, phrase: str) -> str | None:
    """``text`` after a leading ``phrase`` (compared normalised), or None.

    ``norm`` works character by character and never shortens one, so the prefix that
    normalises to the phrase is at most ``len(phrase)`` characters long.
    """
    n = len(phrase)
    head = norm(text[:n])
    if head == phrase:
        return text[n:]
    if not head.startswith(phrase):
        return None
    k = next((k for k in range(1, n) if norm(text[:k]) == phrase), None)  # casefold lengthened one (ß -> ss)
    return None if k is None else text[k:]


def _cut_suffix(text: str, phrase: str) -> str | None:
    """``text`` before a trailing ``phrase`` (compared normalised), or None."""
    n = len(phrase)
    tail = norm(text[-n:])
    if tail == phrase:
        return text[:-n]
    if not tail.endswith(phrase):
        return None
    k = next((k for k in range(1, n) if norm(text[-k:]) == phrase), None)
    return None if k is None else text[:-k]


def _phrase(args: PhraseArgs) -> str:
    return norm(args.phrase.strip())


def _starts(text: str, args: PhraseArgs) -> bool:
    return norm(text).startswith(_phrase(args))


def _starts_loose(text: str, args: PhraseArgs) -> bool:
    return norm(text).lstrip(_LEAD_MARKS).startswith(_phrase(args))


def _starts_unwrap(text: str, args: PhraseArgs, _translations: Mapping[str, Sequence[str]]) -> str:
    rest = _cut_prefix(text, _phrase(args))
    if rest is None:
        rest = _cut_prefix(text.lstrip(_LEAD_MARKS), _phrase(args))
    return text if rest is None else rest.lstrip(_AFTER_PHRASE)


def _end_body(text: str) -> str:
    """The answer without surrounding whitespace and one pair of straight double quotes around it all."""
    body = fold_quotes(text).strip()
    if len(body) >= 2 and body[0] == '"' and body[-1] == '"':
        body = body[1:-1].strip()
    return body


def _end_phrases(args: PhraseArgs) -> list[str]:
    """The phrase, and for the loose form the phrase without its final . ! or ?."""
    phrase = _phrase(args)
    short = phrase[:-1].rstrip() if phrase[-1] in ".!?" else ""
    return [phrase, short] if short else [phrase]


def _ends(text: str, args: PhraseArgs) -> bool:
    return norm(_end_body(text)).endswith(_phrase(args))


def _ends_loose(text: str, args: PhraseArgs) -> bool:
    body = norm(_end_body(text)).rstrip(_TRAIL_MARKS)
    return any(body.endswith(p) for p in _end_phrases(args))


def _ends_unwrap(text: str, args: PhraseArgs, _translations: Mapping[str, Sequence[str]]) -> str:
    body = _end_body(text)
    for candidate in (body, body.rstrip(_TRAIL_MARKS)):
        for phrase in _end_phrases(args):
            rest = _cut_suffix(candidate, phrase)
            if rest is not None:
                return rest.rstrip(_AFTER_PHRASE)
    return text


def _wrap_inner(text: str, args: WrapArgs) -> str | None:
    """The text between the marks when the whole answer is wrapped in them (quotes folded), else None."""
    folded, open_, close = fold_quotes(text), fold_quotes(args.open), fold_quotes(args.close)
    if len(folded) < len(open_) + len(close) or not (folded.startswith(open_) and folded.endswith(close)):
        return None
    inner = text[len(open_) : len(text) - len(close)].strip()
    return inner or None


def _wrap(text: str, args: WrapArgs) -> bool:
    return _wrap_inner(text, args) is not None


def _wrap_unwrap(text: str, args: WrapArgs, _translations: Mapping[str, Sequence[str]]) -> str:
    inner = _wrap_inner(text, args)
    return text if inner is None else inner


# --- keywords and bullets ------------------------------------------------------------------------------------------


def _keywords(text: str, args: KeywordsArgs) -> bool:
    body = " ".join(norm(text).split())
    return all(has_keyword(body, k) for k in args.include) and not any(has_keyword(body, k) for k in args.exclude)


# One line at a time (not ^\s* over the whole text): linear on long runs of blank lines.
_BULLET = re.compile(r"\s*(?:[*\-\u2022]|\d+[.)])\s+\S")


def bullet_count(text: str) -> int:
    """Lines that start a bullet or numbered item ("- x", "* x", "• x", "1. x", "2) x"); "3 speakers" is none."""
    return sum(1 for line in text.split("\n") if _BULLET.match(line))


def _bullets(text: str, args: BulletsArgs) -> bool:
    n = bullet_count(text)
    if args.count is not None:
        return n == args.count
    return (args.min is None or n >= args.min) and (args.max is None or n <= args.max)


# --- the registry --------------------------------------------------------------------------------------------------

Check = Callable[[str, Any], bool]
Unwrap = Callable[[str, Any, Mapping[str, Sequence[str]]], str]


@dataclass(frozen=True)
class Family:
    """Every fact about one constraint family, declared once."""

    name: str
    """The constraint id (``json``, ``upper``, ...)."""
    args: type[ConstraintArgs]
    """The argument model; user-written arguments are validated by it (unknown keys rejected)."""
    strict: Check
    """The strict rule on a pre-processed, non-empty answer."""
    summary: str
    """One line for documentation and validation messages."""
    loose_extra: Check | None = None
    """What the loose form accepts beyond the strict rule on each variant."""
    unwrap: Unwrap | None = None
    """The task answer inside an answer that obeys the format; None: the answer itself."""

    def parse(self, args: Mapping[str, Any] | BaseModel | None) -> ConstraintArgs:
        """Validated arguments (raises ``pydantic.ValidationError``, a ``ValueError``, on bad ones)."""
        if isinstance(args, self.args):
            return args
        if isinstance(args, BaseModel):
            args = args.model_dump(exclude_none=True)
        return self.args.model_validate(dict(args or {}))

    def passes_loose(self, variant: str, args: Any) -> bool:
        """The loose rule on one variant: the strict rule or the loose extra."""
        return self.strict(variant, args) or (self.loose_extra is not None and self.loose_extra(variant, args))


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("json", JsonArgs, _json_strict, "a JSON object with the named keys", _json_loose, _json_unwrap),
        Family("upper", NoArgs, _upper, "all cased letters upper case"),
        Family("lower", NoArgs, _lower, "all cased letters lower case"),
        Family("words", WordsArgs, _words, "a number of words (a Han character is one word)"),
        Family("language", LanguageArgs, _language, "written in a language's script", unwrap=_language_unwrap),
        Family("starts_with", PhraseArgs, _starts, "starts with a phrase", _starts_loose, _starts_unwrap),
        Family("ends_with", PhraseArgs, _ends, "ends with a phrase", _ends_loose, _ends_unwrap),
        Family("wrap", WrapArgs, _wrap, "the whole answer wrapped in marks", unwrap=_wrap_unwrap),
        Family("keywords", KeywordsArgs, _keywords, "keywords included or excluded"),
        Family("bullets", BulletsArgs, _bullets, "a number of bullet or numbered lines"),
    )
}
"""Every constraint family, by id. Validation, the library and the IFEval import read from here."""


def family_of(constraint_id: str) -> Family:
    """The family registered under ``constraint_id`` (``ValueError`` naming the known ids otherwise)."""
    family = FAMILIES.get(constraint_id)
    if family is None:
        raise ValueError(f"unknown constraint {constraint_id!r}; known: {', '.join(FAMILIES)}")
    return family


def check(output: str, constraint_id: str, args: Mapping[str, Any] | BaseModel | None = None) -> tuple[bool, bool]:
    """Whether ``output`` obeys a constraint, as ``(strict, loose)``; strict implies loose.

    Raises:
        ValueError: the id is unknown or the arguments fail the family's schema.
    """
    family = family_of(constraint_id)
    parsed = family.parse(args)
    text = preprocess(output)
    if not text:
        return False, False
    if family.strict(text, parsed):
        return True, True
    return False, any(family.passes_loose(v, parsed) for v in loose_variants(text))


def unwrap(
    output: str,
    constraint_id: str,
    args: Mapping[str, Any] | BaseModel | None = None,
    translations: Mapping[str, str | Sequence[str]] | None = None,
) -> str:
    """The task answer inside ``output`` for the resolver, so that obeying the format costs nothing.

    json: the value of the first named key; wrap: the text inside the marks; starts_with /
    ends_with: the answer without the phrase; language: a label's translation mapped back to
    the label (``translations``: canonical label -> its translation or translations). Other
    families, and answers that do not obey, come back pre-processed but otherwise unchanged;
    an answer naming two labels stays as it is, so the resolver still finds it N/A.
    """
    family = family_of(constraint_id)
    parsed = family.parse(args)
    text = preprocess(output)
    if not text or family.unwrap is None:
        return text
    forms = {label: [t] if isinstance(t, str) else list(t) for label, t in (translations or {}).items()}
    return family.unwrap(text, parsed, forms)
