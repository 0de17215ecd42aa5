"""Audit a resolver on a set of answers with known readings: agreement per category.

An answer set is a JSONL file, one case a line (see :class:`ResolutionCase`). The
shipped set, ``data/resolution_set.jsonl``, holds realistic audio-LLM answers
(hedges, negations, reasoning, option letters, refusals, number words, JSON,
markdown) with the reading a careful grader gives each. ``bench resolve-report``
prints the report of any such file, so a user can audit a resolver version.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from benchmark.scoring.labels import RESOLVER_VERSION, LabelResolver, Resolution, resolve_label
from benchmark.scoring.numbers import parse_number

RESOLUTION_SET = Path(__file__).parent / "data" / "resolution_set.jsonl"
ADVERSARIAL_EXTRA = Path(__file__).parent / "data" / "adversarial_extra.jsonl"
REAL_OUTPUTS = Path(__file__).parent / "data" / "real_outputs"


class AuditFileError(ValueError):
    """An answer-set file that cannot be read; the message names the file, the line and the fix."""


class ResolutionCase(BaseModel):
    """One answer with the reading a careful grader gives it."""

    model_config = ConfigDict(extra="forbid")

    output: str
    """The model's raw answer."""
    labels: list[str] | None = None
    """The task's labels (classification); leave out for a regression answer."""
    task_type: Literal["classification", "regression"] = "classification"
    """``regression`` for answers read as numbers; classification needs ``labels``."""
    instruction: str = ""
    """The instruction the model answered (option lists and answer formats are read from it)."""
    expected: str | float | None
    """The label or number a careful grader reads; null for N/A."""
    category: str = Field(min_length=1)
    """What the case tests (e.g. ``negation``, ``option``, ``number-words``); the report groups by it."""
    debatable: bool = False
    """True when careful graders could disagree; reported apart from the thresholds."""
    source: str = ""
    """Where the output comes from (a published file and example id), for sets of real outputs."""

    @model_validator(mode="after")
    def _consistent(self) -> ResolutionCase:
        if self.task_type == "classification":
            if not self.labels or len(self.labels) < 2:
                raise ValueError("a classification case needs 'labels' with at least two labels")
            if self.expected is not None and self.expected not in self.labels:
                raise ValueError(f"'expected' {self.expected!r} is not one of the labels {self.labels}")
        elif self.expected is not None and isinstance(self.expected, str):
            raise ValueError("a regression case expects a number or null")
        return self


def _explain(exc: ValidationError) -> str:
    """The first problem of a bad row: the field, what is wrong, and for unknown keys the allowed ones."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "row"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message += f" (allowed keys: {', '.join(ResolutionCase.model_fields)})"
    return f"{where}: {message}"


def load_cases(path: Path) -> list[ResolutionCase]:
    """Read an answer set; every bad line is reported with its number and the field at fault.

    Raises:
        AuditFileError: the file is missing, or a line is not valid JSON or not a valid case.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditFileError(f"{path}: cannot read the file ({exc})") from None
    cases, problems = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            cases.append(ResolutionCase.model_validate(json.loads(line)))
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: not valid JSON ({exc.msg}); write one JSON object per line")
        except ValidationError as exc:
            problems.append(f"{path}:{number}: {_explain(exc)}")
    if problems:
        raise AuditFileError("\n".join(problems))
    if not cases:
        raise AuditFileError(f"{path}: no cases; write one JSON object per line (see bench resolve-report --help)")
    return cases


def resolve_case(case: ResolutionCase, resolvers: Sequence[LabelResolver] = ()) -> Resolution:
    """Resolve one case's output the way scoring does for its task type."""
    if case.task_type == "regression":
        return parse_number(case.output, instruction=case.instruction)
    return resolve_label(case.output, case.labels or (), instruction=case.instruction, resolvers=resolvers)


def same_reading(answer: str | float | None, expected: str | float | None) -> bool:
    """Whether two readings agree: the same label or number (within rounding), or both N/A."""
    if answer is None or expected is None:
        return answer is None and expected is None
    if isinstance(expected, str) or isinstance(answer, str):
        return answer == expected
    return math.isclose(float(answer), float(expected), rel_tol=1e-9, abs_tol=1e-9)


@dataclass
class Tally:
    """Counts for one group of cases."""

    n: int = 0
    agree: int = 0
    wrong: int = 0
    """Committed to a label or number other than the expected one (N/A expected included)."""
    missed: int = 0
    """N/A where a label or number was expected."""

    def add(self, answer: str | float | None, expected: str | float | None) -> None:
        """Count one resolved case."""
        self.n += 1
        if same_reading(answer, expected):
            self.agree += 1
        elif answer is None:
            self.missed += 1
        else:
            self.wrong += 1

    @property
    def agreement(self) -> float:
        """Share of cases read as expected."""
        return self.agree / self.n if self.n else float("nan")

    @property
    def wrong_rate(self) -> float:
        """Share of cases committed to a wrong label or number."""
        return self.wrong / self.n if self.n else float("nan")


@dataclass
class AuditReport:
    """Agreement of a resolver with the expected readings, per category and overall."""

    categories: dict[str, Tally] = field(default_factory=dict)
    """Non-debatable cases, by category."""
    overall: Tally = field(default_factory=Tally)
    """All non-debatable cases (the thresholds apply to these)."""
    debatable: Tally = field(default_factory=Tally)
    """Debatable cases, counted apart."""
    disagreements: list[tuple[ResolutionCase, Resolution]] = field(default_factory=list)
    """Every case (debatable ones included) read differently from its expectation."""


def audit(cases: Sequence[ResolutionCase], resolvers: Sequence[LabelResolver] = ()) -> AuditReport:
    """Resolve every case and tally agreement with its expected reading."""
    report = AuditReport()
    for case in cases:
        res = resolve_case(case, resolvers)
        if case.debatable:
            report.debatable.add(res.answer, case.expected)
        else:
            report.categories.setdefault(case.category, Tally()).add(res.answer, case.expected)
            report.overall.add(res.answer, case.expected)
        if not same_reading(res.answer, case.expected):
            report.disagreements.append((case, res))
    return report


def audit_file(
    path: Path, resolvers: Sequence[LabelResolver] = (), show_disagreements: bool = False
) -> tuple[AuditReport, str]:
    """Load an answer set, audit it and format the report (``bench resolve-report``).

    Raises:
        AuditFileError: the file cannot be read or has bad rows.
    """
    report = audit(load_cases(path), resolvers)
    return report, format_report(report, show_disagreements)


def format_report(report: AuditReport, show_disagreements: bool = False) -> str:
    """The report as a plain-text table (one line per category, then totals)."""

    def line(name: str, t: Tally) -> str:
        return f"{name:20} {t.n:5} {t.agreement:9.1%} {t.wrong:6} {t.wrong_rate:7.1%} {t.missed:6}"

    head = f"{'category':20} {'n':>5} {'agreement':>9} {'wrong':>6} {'wrong%':>7} {'missed':>6}"
    rows = [head] + [line(name, t) for name, t in sorted(report.categories.items())]
    rows += [line("all (not debatable)", report.overall)]
    if report.debatable.n:
        rows.append(line("debatable", report.debatable))
    if show_disagreements:
        rows.append("")
        for case, res in report.disagreements:
            flag = " (debatable)" if case.debatable else ""
            reading = f"{res.answer!r} [{res.tier}], expected {case.expected!r}"
            rows.append(f"{case.category}{flag}: {case.output!r} -> {reading}")
    return "\n".join(rows)


# ---------------------------------------------------------------- comparing two resolver versions


def _key(case: ResolutionCase) -> str:
    """A case's identity across files: what the resolver reads (output, labels, instruction, task type)."""
    return json.dumps([case.output, case.labels, case.instruction, case.task_type], ensure_ascii=False)


def readings(cases: Sequence[ResolutionCase], resolvers: Sequence[LabelResolver] = ()) -> list[dict[str, object]]:
    """One JSON row per case: what this resolver version read (``bench resolve-report --save``)."""
    rows: list[dict[str, object]] = []
    for case in cases:
        res = resolve_case(case, resolvers)
        rows.append({"key": _key(case), "answer": res.answer, "tier": res.tier, "resolver_version": RESOLVER_VERSION})
    return rows


def save_readings(path: Path, rows: Sequence[dict[str, object]]) -> None:
    """Write readings as JSONL, so a later resolver version can be compared with ``--against``."""
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def compare_readings(path: Path, cases: Sequence[ResolutionCase], rows: Sequence[dict[str, object]]) -> str:
    """The answers whose reading changed since the readings saved in ``path``, one line each, then a count.

    Raises:
        AuditFileError: the file of previous readings cannot be read.
    """
    try:
        before = {r["key"]: r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines()) if r}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise AuditFileError(f"{path}: not a file of saved readings ({exc}); write one with --save") from None
    lines, changed, unseen = [], 0, 0
    for case, now in zip(cases, rows, strict=True):
        old = before.get(now["key"])
        if old is None:
            unseen += 1
            continue
        if not same_reading(old["answer"], now["answer"]):  # type: ignore[arg-type]
            changed += 1
            now_right = same_reading(now["answer"], case.expected)  # type: ignore[arg-type]
            was_right = same_reading(old["answer"], case.expected)
            mark = "+" if now_right else ("-" if was_right else "~")
            was = f"{old['answer']!r} [{old['tier']}, v{old.get('resolver_version', '?')}]"
            lines.append(f"{mark} {case.category}: {case.output[:120]!r}: {was} -> {now['answer']!r} [{now['tier']}]")
    lines.append(
        f"{changed} of {len(rows) - unseen} answers read differently than in {path} "
        f"(+ now agrees with the expected reading, - no longer agrees, ~ neither); {unseen} not in that file"
    )
    return "\n".join(lines)
