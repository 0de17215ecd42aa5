"""The shared constraint library, the validation of a task's constraints, and the IFEval import.

A task opts in to constraint sets of :data:`LIBRARY` by id (``{"id": "json"}``), may
override their arguments and phrasings, or names a family with its own arguments and
phrasings. An entry that is a list is a combination: its constraints are given in one
prompt, so they must not conflict. :func:`constraint_problems` returns findings
``(code, field, message)`` with the codes of :data:`CONSTRAINT_CODES`.

Phrasings are templates: ``{max}``, ``{min}``, ``{count}``, ``{phrase}``, ``{open}``,
``{close}``, ``{key}``, ``{keys}``, ``{include}``, ``{exclude}`` and ``{language}`` are
filled from the arguments (nothing else is: a phrasing may show JSON braces). Each
rendered phrasing must state every argument value, so the model is told what is checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from benchmark.findings import CODES
from benchmark.scoring.constraint_args import SCRIPTS, ConstraintArgs
from benchmark.scoring.constraints import FAMILIES, Constraint, norm, word_count

__all__ = [
    "CONSTRAINT_CODES",
    "IFEVAL",
    "LIBRARY",
    "LIBRARY_FILE",
    "IfevalAlias",
    "LibrarySet",
    "Problem",
    "UnsupportedInstruction",
    "constraint_problems",
    "first_error",
    "from_ifeval",
    "library_problems",
    "render_phrasing",
    "resolve_set",
    "ResolvedSet",
]

Problem = tuple[str, str, str]
"""A finding: (code, field, message)."""

# The codes of these findings, declared once in benchmark.findings (their level, rule and fix).
CONSTRAINT_CODES: dict[str, tuple[Literal["error", "warning"], str, str]] = {
    code: CODES[code] for code in ("T170", "T171", "T172", "T173", "T174", "T175")
}
MIN_PHRASINGS = 5


class LibrarySet(BaseModel, extra="forbid", frozen=True):
    """One constraint set of the shared library: a family, default arguments and phrasings."""

    family: str
    """The constraint family (a key of ``constraints.FAMILIES``)."""
    args: dict[str, Any] = {}
    """Default arguments; a task may override them."""
    phrasings: tuple[str, ...]
    """At least five English templates that state every argument value."""


LIBRARY_FILE = Path(__file__).parent / "data" / "constraints.jsonl"
"""The shared library: one set a line, ``{"id", "family", "args", "phrasings"}``."""


def _load_library(path: Path) -> dict[str, LibrarySet]:
    sets = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {s.pop("id"): LibrarySet.model_validate(s) for s in sets}


LIBRARY: dict[str, LibrarySet] = _load_library(LIBRARY_FILE)
"""The shared default library, by set id."""


# --- phrasings ---------------------------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{([a-z_]{1,20})\}")
_NUMBER_WORDS = "zero one two three four five six seven eight nine ten eleven twelve".split()


def _quoted(items: Sequence[str]) -> str:
    return ", ".join(f'"{item}"' for item in items)


def _values(family: str, args: ConstraintArgs) -> dict[str, str]:
    """What each placeholder of a family's phrasing becomes."""
    fields = args.model_dump(exclude_none=True)
    filled = {k: str(v) for k, v in fields.items() if isinstance(v, (str, int)) and not isinstance(v, bool)}
    for name in ("keys", "include", "exclude"):
        if fields.get(name):
            filled[name] = _quoted(fields[name])
    if fields.get("keys"):
        filled["key"] = fields["keys"][0]
    if family == "language":
        filled["language"] = SCRIPTS[fields["lang"]].names[0]
    return filled


def render_phrasing(template: str, constraint_id: str, args: Mapping[str, Any] | ConstraintArgs) -> str:
    """A phrasing with its placeholders filled from the arguments (unknown placeholders are left as written)."""
    family = FAMILIES[constraint_id]
    values = _values(constraint_id, family.parse(args))
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _stated(family: str, args: ConstraintArgs) -> list[tuple[str, ...]]:
    """What a phrasing must state: per argument value, the forms that count (a number as digits or a word)."""
    fields = args.model_dump(exclude_none=True)
    if family == "language":
        return [SCRIPTS[fields["lang"]].names]
    needs: list[tuple[str, ...]] = []
    for value in fields.values():
        if isinstance(value, bool):
            continue  # exact_keys: a rule, not a value to quote
        if isinstance(value, int):
            needs.append((str(value), _NUMBER_WORDS[value]) if value < len(_NUMBER_WORDS) else (str(value),))
        elif isinstance(value, str):
            needs.append((value,))
        else:
            needs.extend((item,) for item in value)
    return needs


def _phrasing_problems(where: str, family: str, args: ConstraintArgs, phrasings: Sequence[str]) -> list[Problem]:
    found = _phrasing_findings(family, json.dumps(args.model_dump(), sort_keys=True), tuple(phrasings))
    return [(code, where + field, message) for code, field, message in found]


@lru_cache(maxsize=1024)
def _phrasing_findings(family: str, args_json: str, phrasings: tuple[str, ...]) -> tuple[Problem, ...]:
    """The phrasing findings of one (family, arguments, phrasings), fields relative to the entry.

    Memoised: the library's sets recur on every card that opts in to them.
    """
    return tuple(_check_phrasings("", family, FAMILIES[family].parse(json.loads(args_json)), phrasings))


def _check_phrasings(where: str, family: str, args: ConstraintArgs, phrasings: Sequence[str]) -> list[Problem]:
    problems: list[Problem] = []
    if len({" ".join(p.split()).casefold() for p in phrasings}) < MIN_PHRASINGS:
        problems.append(("T175", f"{where}.phrasings", f"{len(phrasings)} phrasings, {MIN_PHRASINGS} distinct needed"))
    names = set(_values(family, args))
    for i, template in enumerate(phrasings):
        field = f"{where}.phrasings[{i}]"
        unknown = sorted(set(_PLACEHOLDER.findall(template)) - names)
        if unknown:
            problems.append(("T173", field, f"placeholder {{{unknown[0]}}} is not an argument of {family}"))
            continue
        text = norm(render_phrasing(template, family, args))
        for forms in _stated(family, args):
            if not any(_mentions(text, norm(form)) for form in forms):
                problems.append(("T173", field, f"{template!r} does not state {forms[0]!r}"))
    return problems


def _mentions(text: str, value: str) -> bool:
    """Whether ``value`` stands in ``text``; a number must not be part of a longer one (5 is not in 50)."""
    if not value.isdigit():
        return value in text
    return re.search(rf"(?<!\d){value}(?!\d)", text) is not None


def first_error(err: ValidationError) -> tuple[str, str]:
    """The location and a one-line message of a validation error's first problem."""
    first = err.errors()[0]
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] != "value_error":
        message += f" (got {first['input']!r})"
    return ".".join(str(p) for p in first["loc"]), message


# --- validation --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Resolved:
    field: str
    family: str
    args: ConstraintArgs


def _resolve(where: str, entry: Any) -> tuple[_Resolved | None, list[str], list[Problem]]:
    """An entry's family and validated arguments, and its phrasings, or the findings that prevent it."""
    if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
        return None, [], [("T170", where, 'a constraint is an object with a string "id"')]
    extra = sorted(set(entry) - {"id", "args", "phrasings"})
    if extra:
        return None, [], [("T171", f"{where}.{extra[0]}", f"unknown field {extra[0]!r} (use id, args, phrasings)")]
    cid: str = entry["id"]
    base = LIBRARY.get(cid)
    family = base.family if base else cid
    if family not in FAMILIES:
        known = ", ".join(dict.fromkeys([*LIBRARY, *FAMILIES]))
        return None, [], [("T170", f"{where}.id", f"unknown constraint {cid!r}; known: {known}")]
    given, phrasings = entry.get("args") or {}, entry.get("phrasings") or list(base.phrasings if base else [])
    if not isinstance(given, Mapping):
        return None, [], [("T171", f"{where}.args", "args must be an object")]
    if not isinstance(phrasings, list) or not all(isinstance(p, str) for p in phrasings):
        return None, [], [("T171", f"{where}.phrasings", "phrasings must be a list of strings")]
    args = {**(base.args if base else {}), **given}
    try:
        parsed = FAMILIES[family].parse(args)
    except ValidationError as err:
        loc, message = first_error(err)
        return None, phrasings, [("T171", f"{where}.args" + (f".{loc}" if loc else ""), message)]
    return _Resolved(where, family, parsed), phrasings, []


def _translation_problems(item: _Resolved, labels: Sequence[str], translations: Mapping[str, Any]) -> list[Problem]:
    if item.family != "language" or not labels:
        return []
    lang = item.args.model_dump()["lang"]
    table = translations.get(lang) or {}
    missing = [label for label in labels if not table.get(label)]
    if not missing:
        return []
    return [("T174", f"{item.field}.args.lang", f"no {lang!r} translation of label(s) {_quoted(missing)}")]


def _conflict(a: _Resolved, b: _Resolved) -> str | None:
    """Why two constraints given together cannot both be obeyed (checked in both orders), or None."""
    fa, fb = a.args.model_dump(), b.args.model_dump()
    for rule in _CONFLICTS:
        reason = rule(a.family, fa, b.family, fb)
        if reason:
            return reason
    return None


def _same_family(f1: str, _a1: dict[str, Any], f2: str, _a2: dict[str, Any]) -> str | None:
    return f"two {f1} constraints" if f1 == f2 else None


def _case_vs_script(f1: str, _a1: dict[str, Any], f2: str, a2: dict[str, Any]) -> str | None:
    if f1 in ("upper", "lower") and f2 == "language" and not SCRIPTS[a2["lang"]].cased:
        return f"{f1} case asks for cased letters; {SCRIPTS[a2['lang']].names[0]} has none"
    return None


def _json_vs_shape(f1: str, a1: dict[str, Any], f2: str, _a2: dict[str, Any]) -> str | None:
    if f1 != "json":
        return None
    if f2 in ("words", "wrap", "starts_with", "ends_with", "bullets"):
        return f"a JSON object cannot also satisfy {f2}"
    keys = a1["keys"]
    if (f2 == "upper" and any(k != k.upper() for k in keys)) or (f2 == "lower" and any(k != k.lower() for k in keys)):
        return f"the JSON keys {_quoted(keys)} must be spelled exactly, which breaks {f2} case"
    return None


def _pairwise(f1: str, a1: dict[str, Any], f2: str, a2: dict[str, Any]) -> str | None:
    if {f1, f2} == {"upper", "lower"}:
        return "upper case and lower case"
    if f1 == "words" and f2 in ("starts_with", "ends_with") and a1.get("max") is not None:
        if word_count(a2["phrase"]) > a1["max"]:
            return f"the {f2} phrase alone has more than {a1['max']} words"
    if f1 == "wrap" and f2 == "starts_with" and not norm(a2["phrase"]).startswith(norm(a1["open"])):
        return f"a wrapped answer starts with {a1['open']!r}, not the phrase"
    if f1 == "wrap" and f2 == "ends_with" and a1["close"] != '"' and not norm(a2["phrase"]).endswith(norm(a1["close"])):
        return f"a wrapped answer ends with {a1['close']!r}, not the phrase"
    return None


_CONFLICTS: tuple[Callable[[str, dict[str, Any], str, dict[str, Any]], str | None], ...] = (
    _same_family,
    _case_vs_script,
    _json_vs_shape,
    _pairwise,
)


def _conflict_problems(group: Sequence[_Resolved]) -> list[Problem]:
    problems: list[Problem] = []
    for i, a in enumerate(group):
        for b in group[i + 1 :]:
            reason = _conflict(a, b) or _conflict(b, a)
            if reason:
                problems.append(("T172", b.field, f"conflicts with {a.field}: {reason}"))
    return problems


def constraint_problems(
    constraints: Sequence[Any],
    labels: Sequence[str] = (),
    translations: Mapping[str, Mapping[str, str | Sequence[str]]] | None = None,
    *,
    where: str = "constraints",
    phrasings: bool = True,
) -> list[Problem]:
    """Findings for a task's constraints: unknown ids, bad arguments, conflicts, phrasings, translations.

    Args:
        constraints: entries ``{"id", "args"?, "phrasings"?}``; an entry that is a list is a
            combination given in one prompt (its members must not conflict).
        labels: the task's labels (a language constraint needs a translation of each).
        translations: language code -> canonical label -> its translation(s).
        where: the field path of ``constraints`` in the file, for messages.
        phrasings: whether entries need phrasings (a task's sets do; an example's own constraints are
            stated by its instruction and need none).

    Returns:
        ``(code, field, message)`` for each problem; empty when all is well.
    """
    problems: list[Problem] = []
    for i, entry in enumerate(constraints):
        members = list(enumerate(entry)) if isinstance(entry, list) else [(None, entry)]
        group: list[_Resolved] = []
        for j, member in members:
            field = f"{where}[{i}]" + ("" if j is None else f"[{j}]")
            item, found_phrasings, found = _resolve(field, member)
            problems += found
            if item is not None:
                group.append(item)
                if phrasings:
                    problems += _phrasing_problems(field, item.family, item.args, found_phrasings)
                problems += _translation_problems(item, labels, translations or {})
        problems += _conflict_problems(group)
    return problems


@dataclass(frozen=True)
class ResolvedSet:
    """One constraint set of a task as a run uses it: each member's family and arguments, and the phrasings."""

    constraints: tuple[Constraint, ...]
    """The family id and full arguments of each member (a combination has several)."""
    phrasings: tuple[tuple[str, ...], ...]
    """Each member's phrasings, rendered with its arguments."""


def resolve_set(entry: Any) -> ResolvedSet:
    """A task's constraint entry (one set, or a list combining sets) as families, arguments and phrasings.

    Raises:
        ValueError: the entry has problems (``constraint_problems`` names them; validated cards have none).
    """
    members = entry if isinstance(entry, list) else [entry]
    constraints, phrasings = [], []
    for member in members:
        item, found_phrasings, problems = _resolve("constraint", member)
        if item is None or problems:
            raise ValueError(problems[0][2] if problems else "not a constraint")
        args = item.args.model_dump(exclude_none=True)
        constraints.append(Constraint(id=item.family, args=args))
        phrasings.append(tuple(render_phrasing(p, item.family, args) for p in found_phrasings))
    return ResolvedSet(tuple(constraints), tuple(phrasings))


def library_problems() -> list[Problem]:
    """Findings for the shared library itself (a test keeps this empty)."""
    return constraint_problems([{"id": set_id} for set_id in LIBRARY], where="LIBRARY")


# --- IFEval / Speech-IFEval import ---------------------------------------------------------------------------------


class UnsupportedInstruction(ValueError):
    """An IFEval instruction with no deterministic counterpart here."""


@dataclass(frozen=True)
class IfevalAlias:
    """How one IFEval instruction id maps onto a family, and where the semantics differ."""

    family: str
    """The family it becomes."""
    convert: Callable[[Mapping[str, Any]], dict[str, Any]]
    """IFEval kwargs -> our arguments."""
    differs: str
    """Where IFEval's checker behaves otherwise, and why ours does not copy it."""


def _number_words(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    n, relation = int(kwargs["num_words"]), kwargs.get("relation")
    # IFEval's relations as inclusive bounds: "less than N" is at most N - 1 words.
    bounds = {"less than": {"max": n - 1}, "at most": {"max": n}, "at least": {"min": n}}
    if relation not in bounds:
        raise UnsupportedInstruction(f"number_words relation {relation!r}: use 'less than', 'at most' or 'at least'")
    return bounds[relation]


IFEVAL: dict[str, IfevalAlias] = {
    "detectable_format:json_format": IfevalAlias(
        "json", lambda kw: {}, "IFEval accepts any JSON value; a string, number, null or array fails here"
    ),
    "change_case:english_capital": IfevalAlias(
        "upper", lambda kw: {}, "IFEval also runs langdetect (which calls 'HAPPY' Vietnamese); no detection here"
    ),
    "change_case:english_lowercase": IfevalAlias("lower", lambda kw: {}, "as english_capital: no langdetect"),
    "length_constraints:number_words": IfevalAlias(
        "words", _number_words, "same bounds; a Han run is one IFEval word, each Han character is one here"
    ),
    "language:response_language": IfevalAlias(
        "language", lambda kw: {"lang": kw["language"]}, "langdetect there; script share here (no Latin non-English)"
    ),
    "startend:quotation": IfevalAlias(
        "wrap", lambda kw: {"open": '"', "close": '"'}, 'IFEval passes an empty "" answer; the inside must be non-empty'
    ),
    "startend:end_checker": IfevalAlias(
        "ends_with",
        lambda kw: {"phrase": kw["end_phrase"]},
        "IFEval strips every leading and trailing quote and lower-cases; one quote pair, casefold, curly quotes here",
    ),
    "combination:repeat_prompt": IfevalAlias(
        "starts_with",
        lambda kw: {"phrase": kw["prompt_to_repeat"]},
        "same rule (case-insensitive prefix), with curly quotes folded",
    ),
    "detectable_format:number_bullet_lists": IfevalAlias(
        "bullets",
        lambda kw: {"count": int(kw["num_bullets"])},
        "IFEval counts lines starting * or - (Speech-IFEval also any digit: '3 speakers'); here a marker and a space",
    ),
    "keywords:existence": IfevalAlias(
        "keywords",
        lambda kw: {"include": list(kw["keywords"])},
        "IFEval searches the keyword as a regex anywhere ('sad' in 'sadness'); whole words here, substrings in CJK",
    ),
    "keywords:forbidden_words": IfevalAlias(
        "keywords",
        lambda kw: {"exclude": list(kw["forbidden_words"])},
        r"same whole-word rule (IFEval's \b); CJK words as substrings",
    ),
}
"""IFEval instruction ids that map onto a family. Any other id raises :class:`UnsupportedInstruction`."""


def from_ifeval(instruction_id_list: Sequence[str], kwargs: Sequence[Mapping[str, Any] | None]) -> list[Constraint]:
    """IFEval / Speech-IFEval example constraints (``instruction_id_list`` + ``kwargs``) as library constraints.

    Raises:
        UnsupportedInstruction: an id with no counterpart (``detectable_format:title`` and the
            sentence, paragraph, placeholder, postscript and frequency checks) or bad kwargs.
    """
    if len(kwargs) != len(instruction_id_list):
        raise UnsupportedInstruction(f"{len(instruction_id_list)} instruction ids but {len(kwargs)} kwargs")
    constraints = []
    for position, (iid, kw) in enumerate(zip(instruction_id_list, kwargs, strict=True)):
        alias = IFEVAL.get(iid)
        if alias is None:
            raise UnsupportedInstruction(f"instruction {position} {iid!r} has no deterministic counterpart here")
        kw = {k: v for k, v in (kw or {}).items() if v is not None}
        try:
            args = alias.convert(kw)
            FAMILIES[alias.family].parse(args)
        except ValidationError as err:
            loc, message = first_error(err)
            raise UnsupportedInstruction(f"instruction {position} {iid!r}: {loc} {message}") from err
        except KeyError as err:
            raise UnsupportedInstruction(f"instruction {position} {iid!r}: kwarg {err.args[0]!r} missing") from err
        except (TypeError, ValueError) as err:
            raise UnsupportedInstruction(f"instruction {position} {iid!r}: {err}") from err
        constraints.append(Constraint(id=alias.family, args=args))
    return constraints
