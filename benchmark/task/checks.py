"""The checks of one task folder against the contract; every problem is reported at once.

Each check appends located :class:`~benchmark.findings.Finding` objects and never
stops at the first problem, so a contributor sees everything wrong with a pull
request in one CI run. ``load_task`` runs the same checks, so a task that
validates is a task that loads.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from benchmark.findings import Finding, make
from benchmark.task import safejson
from benchmark.task.answer_needs import missing_needs
from benchmark.task.audio import FolderIndex, decode_many
from benchmark.task.audio_checks import AudioSink, Decoder, check_audio
from benchmark.task.card import (
    MAX_INSTRUCTION_CHARS,
    MIN_TEST_EXAMPLES,
    Example,
    TaskCard,
    card_rules,
    example_constraint_problems,
    is_local_use,
)
from benchmark.task.review import review_task

README_SECTIONS = {
    "objective": ("objective", "task", "goal"),
    "data provenance": ("data", "provenance", "source"),
    "licence": ("licence", "license"),
    "example": ("example",),
    "baseline": ("baseline", "chance"),
}


@dataclass
class TaskReport:
    """Everything ``validate_task`` found in one folder, plus what it could parse."""

    root: Path
    findings: list[Finding] = field(default_factory=list)
    card: TaskCard | None = None
    examples: list[Example] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        """Findings of level error."""
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        """Findings of level warning."""
        return [f for f in self.findings if f.level == "warning"]


@dataclass
class _CardView:
    """The parts of a possibly broken card that example checks need."""

    task_type: str | None = None
    labels: frozenset[str] | None = None
    audio_inputs: int = 1
    raw: dict[str, Any] = field(default_factory=dict)
    """The card as read (example constraints need its labels and translations)."""

    @classmethod
    def of(cls, raw: dict[str, Any] | None) -> _CardView:
        if raw is None:
            return cls()
        labels = raw.get("labels")
        inputs = raw.get("audio_inputs", 1)
        task_type = raw.get("task_type")
        return cls(
            task_type=task_type if isinstance(task_type, str) else None,
            labels=frozenset(x for x in labels if isinstance(x, str)) if isinstance(labels, list) else None,
            audio_inputs=inputs if isinstance(inputs, int) and inputs >= (0 if task_type == "audio" else 1) else 1,
            raw=raw,
        )


def validate_task(
    root: Path,
    *,
    deep: bool = False,
    decoder: Decoder = decode_many,
    sink: AudioSink | None = None,
    folder: FolderIndex | None = None,
    errors_only: bool = False,
) -> TaskReport:
    """Check one task folder; ``deep`` decodes every audio file with ``decoder``.

    ``sink`` sees the bytes of each audio file read; ``folder`` is a walk of ``root``
    just taken by the caller (None: walk it here). ``errors_only`` skips the checks
    that can only warn (the review, unreferenced files, README sections): loading a
    task for a run needs only to know it breaks nothing.
    """
    report = TaskReport(root=root)
    if not root.is_dir():
        report.findings.append(make("T100", root, "is not a folder"))
        return report
    raw = _check_card(root, report)
    numbered, unparsed_audio = _check_examples(root, _CardView.of(raw), report)
    report.examples = [ex for _, ex in numbered]
    index = folder if folder is not None else FolderIndex.scan(root)
    out, warn = report.findings, not errors_only
    check_audio(root, index, numbered, unparsed_audio, out, deep=deep, decoder=decoder, sink=sink, warn=warn)
    _check_readme(root, report.findings, warn=not errors_only)
    if report.card is not None and not errors_only and not report.errors:
        report.findings += review_task(root, report.card, numbered)
    return report


# ---------------------------------------------------------------- task.json


def _check_card(root: Path, report: TaskReport) -> dict[str, Any] | None:
    path = root / "task.json"
    raw, text = _read_json_object(path, report.findings, missing_code="T100")
    if raw is None:
        return None
    before = len(report.findings)
    report.findings += _schema_findings(raw, path, text)
    for problem in card_rules(raw, folder_name=root.name):
        report.findings.append(
            make(problem.code, path, problem.message, field=problem.field, line=_key_line(text, problem.field))
        )
    for i, instruction in enumerate(raw["instructions"] if isinstance(raw.get("instructions"), list) else []):
        if isinstance(instruction, str) and "TODO" in instruction:
            report.findings.append(
                make(
                    "T134",
                    path,
                    f"{instruction[:60]!r}",
                    field=f"instructions[{i}]",
                    line=_key_line(text, "instructions"),
                )
            )
    if is_local_use(raw.get("license")):
        report.findings.append(
            make("T144", path, f"{raw['license']!r}: local use only", field="license", line=_key_line(text, "license"))
        )
    if not any(f.level == "error" for f in report.findings[before:]):
        # card_rules ran just above (and found nothing): the model need not run them a second time.
        report.card = TaskCard.model_validate(raw, context={"skip_rules": True})
    return raw


def _read_json_object(path: Path, out: list[Finding], *, missing_code: str) -> tuple[dict[str, Any] | None, str]:
    if not path.is_file():
        out.append(make(missing_code, path, "not found"))
        return None, ""
    try:
        with path.open("rb") as f:
            data = safejson.read_capped(f, safejson.MAX_JSON_BYTES)
        text = data.decode("utf-8")
        raw = safejson.loads(text)
    except json.JSONDecodeError as exc:
        out.append(make("T101", path, exc.msg, line=exc.lineno, column=exc.colno))
        return None, ""
    except (safejson.JsonLimitError, UnicodeDecodeError) as exc:  # over a limit, or not UTF-8 text
        out.append(make("T101", path, str(exc)))
        return None, ""
    if not isinstance(raw, dict):
        out.append(make("T102", path, f"top level is a {type(raw).__name__}", line=1))
        return None, text
    return raw, text


_LITERAL_CODES = {"dimension": "T113", "task_type": "T114", "metric": "T115", "split": "T205"}
_UNION_TAG = re.compile(r"[\[\]]|^(str|int|float|bool|none)$")


def _schema_errors(model: type[BaseModel], raw: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """Yield ``(code, field, message)`` for each schema error, one per field."""
    try:
        model.model_validate(raw, context={"skip_rules": True})
        return
    except ValidationError as exc:
        errors = exc.errors()
    seen: set[str] = set()
    for err in errors:
        parts = [str(p) if isinstance(p, int) else p for p in err["loc"] if not _UNION_TAG.search(str(p))]
        name = ".".join(p if not p.isdigit() else f"[{p}]" for p in parts).replace(".[", "[") or "(top level)"
        if name in seen:
            continue  # one finding per field, even when a union produced several errors
        seen.add(name)
        kind = err["type"]
        if kind == "extra_forbidden":
            yield "T103", name, f"unknown field {name!r}"
        elif kind == "missing":
            yield "T104", name, f"required field {name!r} is missing"
        elif kind == "literal_error" and parts and parts[0] in _LITERAL_CODES:
            yield _LITERAL_CODES[parts[0]], name, f"{err['input']!r}: {err['msg']}"
        else:
            yield "T105", name, f"{err['msg']} (got {_type_name(err['input'])} {_short(err['input'])})"


def _schema_findings(raw: dict[str, Any], path: Path, text: str) -> list[Finding]:
    return [
        make(code, path, message, field=name, line=_key_line(text, name))
        for code, name, message in _schema_errors(TaskCard, raw)
    ]


def _type_name(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _key_line(text: str, field_name: str | None) -> int | None:
    """Line of the first ``"key":`` for the field's last key (good enough for annotations)."""
    if not field_name or not text:
        return None
    key = re.split(r"[.\[]", field_name.split(".")[-1])[0]
    match = re.search(rf'"{re.escape(key)}"\s*:', text)
    return text.count("\n", 0, match.start()) + 1 if match else None


# ---------------------------------------------------------------- examples.jsonl


def _check_examples(root: Path, view: _CardView, report: TaskReport) -> tuple[list[tuple[int, Example]], set[str]]:
    """Parse and check every line; also return the audio paths of lines that did not parse."""
    path = root / "examples.jsonl"
    out = report.findings
    if not path.is_file():
        out.append(make("T200", path, "not found"))
        return [], set()
    numbered: list[tuple[int, Example]] = []
    unparsed_audio: set[str] = set()
    first_line: dict[str, int] = {}
    for lineno, obj in _jsonl_objects(path, out):
        example = _parse_example(obj, path, lineno, out)
        if example is None:
            audio = obj.get("audio")
            # Only strings can be paths; anything else (nested lists, numbers) was reported above.
            unparsed_audio.update(a for a in (audio if isinstance(audio, list) else [audio]) if isinstance(a, str))
            continue
        if example.id in first_line:
            out.append(
                make(
                    "T204",
                    path,
                    f"id {example.id!r} already used on line {first_line[example.id]}",
                    field="id",
                    line=lineno,
                )
            )
            continue
        first_line[example.id] = lineno
        out += _example_rules(example, view, path, lineno)
        numbered.append((lineno, example))
    out += _split_rules(numbered, path, has_lines=bool(first_line) or bool(unparsed_audio))
    return numbered, unparsed_audio


def _jsonl_objects(path: Path, out: list[Finding]) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open("rb") as f:
        for lineno, raw_line in safejson.bounded_lines(f, safejson.MAX_EXAMPLE_LINE_BYTES):
            if raw_line is not None and not raw_line.strip():
                continue
            try:
                obj = safejson.loads_line(raw_line, safejson.MAX_EXAMPLE_LINE_BYTES)
            except json.JSONDecodeError as exc:
                out.append(make("T201", path, exc.msg, line=lineno, column=exc.colno))
                continue
            except (safejson.JsonLimitError, UnicodeDecodeError) as exc:  # over a limit, or not UTF-8 text
                out.append(make("T201", path, str(exc), line=lineno))
                continue
            if not isinstance(obj, dict):
                out.append(make("T202", path, f"line holds a {_type_name(obj)}", line=lineno))
                continue
            yield lineno, obj


def _parse_example(obj: dict[str, Any], path: Path, lineno: int, out: list[Finding]) -> Example | None:
    try:
        return Example.model_validate(obj)  # Example has no rules beyond its schema: it fails iff a finding is due
    except ValidationError:
        for code, name, message in _schema_errors(Example, obj):
            out.append(make("T205" if code == "T205" else "T203", path, message, field=name, line=lineno))
        return None


def _example_rules(example: Example, view: _CardView, path: Path, lineno: int) -> list[Finding]:
    out = []
    n = len(example.audio_paths)
    if n != view.audio_inputs:
        out.append(
            make("T207", path, f"{n} audio clip(s) but audio_inputs is {view.audio_inputs}", field="audio", line=lineno)
        )
    if example.transcripts is not None and len(example.transcripts) != n:
        message = f"{len(example.transcripts)} transcript(s) for {n} audio clip(s): give one per clip"
        out.append(make("T207", path, message, field="transcript", line=lineno))
    problem = _label_problem(example.label, view)
    if problem:
        code, message = problem
        out.append(make(code, path, message, field="label", line=lineno))
    for where, message in missing_needs(example, view.raw, view.audio_inputs):
        code = "T153" if view.task_type == "audio" else "T154"
        out.append(make(code, path, message, field=where, line=lineno))
    for found in example_constraint_problems(example, view.raw):
        out.append(make(found.code, path, found.message, field=found.field, line=lineno))
    if example.instruction is not None and not 0 < len(example.instruction.strip()) <= MAX_INSTRUCTION_CHARS:
        out.append(
            make(
                "T212", path, f"instruction has {len(example.instruction)} characters", field="instruction", line=lineno
            )
        )
    return out


def _label_problem(label: object, view: _CardView) -> tuple[str, str] | None:
    if view.task_type == "classification":
        if not isinstance(label, str):
            return "T209", f"classification label must be a string, got {_short(label)}"
        if view.labels is not None and label not in view.labels:
            return "T208", f"{label!r} is not one of {sorted(view.labels)}"
    elif view.task_type == "regression":
        if isinstance(label, bool) or not isinstance(label, (int, float)) or label != label:
            return "T209", f"regression label must be a number, got {_short(label)}"
    elif view.task_type == "generation" and (not isinstance(label, str) or not label.strip()):
        return "T209", f"generation label must be a non-empty reference text, got {_short(label)}"
    elif view.task_type == "open" and label != "":
        return "T209", f'an open-ended task has no reference answer: write "label": "" (got {_short(label)})'
    elif view.task_type == "audio" and not isinstance(label, str):
        return "T209", f"an audio task's label is the text the answer should say (may be empty), got {_short(label)}"
    return None


def _split_rules(numbered: list[tuple[int, Example]], path: Path, *, has_lines: bool) -> list[Finding]:
    if not numbered:
        return [] if has_lines else [make("T210", path, "holds no examples")]
    counts = Counter(ex.split for _, ex in numbered)
    out = []
    if counts["test"] < MIN_TEST_EXAMPLES:
        message = f"{counts['test']} test example(s); at least {MIN_TEST_EXAMPLES} are needed"
        out.append(make("T206", path, message, field="split"))
    if counts["train"] == 0:
        out.append(make("T211", path, "no train examples", field="split"))
    return out


# ---------------------------------------------------------------- README.md


def _check_readme(root: Path, out: list[Finding], warn: bool = True) -> None:
    path = root / "README.md"
    if not path.is_file():
        out.append(make("T400", path, "not found"))
        return
    if not warn:
        return  # every other finding here is a warning
    text = path.read_text(encoding="utf-8", errors="replace").lower()
    headings = " ".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
    missing = [name for name, words in README_SECTIONS.items() if not any(w in headings for w in words)]
    if missing:
        out.append(make("T401", path, f"no heading for: {', '.join(missing)}"))
