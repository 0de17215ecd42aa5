"""Instruction following of one answer: every constraint of its prompt checked, and the task answer unwrapped.

Following a constraint and getting the task right are separate numbers. :func:`follow`
checks each constraint (strict and loose, ``constraints.check``), and unwraps the answer
from the format the constraints asked for (the JSON value, the wrapped text, the answer
after a phrase, a translated label mapped back), so that the resolver scores what the
model answered, not how it was told to dress it. A prompt is followed when every one of
its constraints is (IFEval's prompt-level accuracy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from benchmark.scoring.constraints import CHECKER_VERSION, check, unwrap

Translations = Mapping[str, Mapping[str, str | Sequence[str]]]
"""Language code -> canonical label -> its translation(s)."""


@dataclass(frozen=True)
class Check:
    """One constraint of a prompt and whether the answer obeyed it."""

    id: str
    """The constraint family (``json``, ``upper``, ``words``, ...)."""
    args: dict[str, Any]
    """Its full arguments."""
    strict: bool
    """Obeyed as written."""
    loose: bool
    """Obeyed after IFEval's loose clean-ups (strict implies loose)."""

    def as_json(self) -> dict[str, Any]:
        """The check as a record stores it."""
        return {"id": self.id, "args": self.args, "strict": self.strict, "loose": self.loose}


@dataclass(frozen=True)
class Following:
    """How one answer followed the constraints of its prompt."""

    checks: tuple[Check, ...]
    """Each constraint, in prompt order."""
    answer: str
    """The output with the format unwrapped: what the resolver reads."""
    version: str = CHECKER_VERSION
    """The checker set that judged it."""

    @property
    def strict(self) -> bool:
        """Every constraint obeyed as written (prompt-level strict)."""
        return all(c.strict for c in self.checks)

    @property
    def loose(self) -> bool:
        """Every constraint obeyed loosely (prompt-level loose)."""
        return all(c.loose for c in self.checks)


def _constraint(entry: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(entry, Mapping):
        return str(entry["id"]), dict(entry.get("args") or {})
    return str(entry.id), dict(entry.args)


def follow(output: str, constraints: Sequence[Any], translations: Translations | None = None) -> Following:
    """Check ``output`` against each constraint (``{"id": family, "args": {...}}``) and unwrap its answer.

    Raises:
        ValueError: a constraint id or its arguments are unknown (validated tasks have none such).
    """
    checks = []
    answer = output or ""
    for entry in constraints:
        family, args = _constraint(entry)
        strict, loose = check(output or "", family, args)
        checks.append(Check(family, args, strict, loose))
        lang = args.get("lang")
        table = (translations or {}).get(lang, {}) if isinstance(lang, str) else {}
        answer = unwrap(answer, family, args, table)
    return Following(tuple(checks), answer)
