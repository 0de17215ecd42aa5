"""Validation findings: one stable code per rule, with its level and a one-line fix.

Codes are part of the public interface (contributors search for them, CI logs show
them), so a rule keeps its code forever; retired codes are not reused.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict

Level = Literal["error", "warning"]

# code: (level, what the rule checks, how to fix a breach)
CODES: dict[str, tuple[Level, str, str]] = {
    # task.json
    "T100": ("error", "task.json is missing", "add task.json (`bench new-task` writes a template)"),
    "T101": ("error", "task.json is not valid JSON", "fix the JSON syntax at the given line and column"),
    "T102": ("error", "task.json is not a JSON object", "make the top level a {...} object"),
    "T103": ("error", "unknown field", "remove the field or fix its spelling (see `bench schema`)"),
    "T104": ("error", "required field missing", "add the field (see `bench schema`)"),
    "T105": ("error", "field has the wrong type", "give the field the type `bench schema` shows"),
    "T106": ("error", "field is empty", "write a non-empty value"),
    "T107": ("warning", "scaffold placeholder left in the card", "replace the TODO text with the real value"),
    "T110": ("error", "name differs from the folder name", "rename the folder or the name so they match"),
    "T111": ("error", "name is not CamelCase", "use a name like SpeakerGender: ^[A-Z][A-Za-z0-9]+$"),
    "T112": ("error", "version is not semver", "use MAJOR.MINOR.PATCH, e.g. 1.0.0"),
    "T113": (
        "error",
        "unknown dimension",
        "use one of content, speaker, semantics, paralinguistics, degradation, audio, music",
    ),
    "T114": ("error", "unknown task_type", "use classification, regression, generation, open or audio"),
    "T115": ("error", "unknown metric", "use one of accuracy, macro_f1, mae, rmse, pearson, wer, cer, bleu, chrf"),
    "T116": ("error", "metric does not fit task_type", "pick a metric listed for the task_type"),
    "T120": ("error", "classification task without labels", 'add "labels": [...] with every possible answer'),
    "T121": ("error", "labels on a regression or generation task", 'remove "labels" or change task_type'),
    "T122": ("error", "duplicate label", "list each label once (case-insensitive)"),
    "T123": ("error", "fewer than two labels", "a classification task needs at least two labels"),
    "T124": ("error", "empty label", "remove the empty string from labels"),
    "T130": ("error", "too few distinct instructions", "write at least 5 different instructions"),
    "T131": ("error", "duplicate instruction", "reword or remove the repeated instruction"),
    "T132": ("error", "empty instruction", "remove it or write the instruction"),
    "T133": ("error", "instruction too long", "shorten it to 1000 characters or fewer"),
    "T134": ("warning", "instruction still holds scaffold text", "replace the TODO text with a real instruction"),
    "T135": (
        "warning",
        "classification instruction does not name every label",
        "list every label in the instruction, or add a README section on why the instructions do not name the labels",
    ),
    "T136": (
        "warning",
        "instruction does not state the answer format",
        "say the unit or number form (regression) or the language or form of the text (generation)",
    ),
    "T137": (
        "warning",
        "fewer distinct instructions than Dynamic-SUPERB's review asks",
        "write at least max(N/20, 10) distinct instructions for N test examples",
    ),
    "T140": ("error", "licence is not a recognised SPDX id", "use an SPDX id such as CC-BY-4.0 or CC0-1.0"),
    "T141": (
        "error",
        "licence does not permit redistribution",
        "tasks are redistributed: use data under a licence such as CC-BY-4.0",
    ),
    # Constraint sets of instruction following (benchmark/scoring/constraint_library.py reports them).
    "T170": ("error", "unknown constraint id", "use a set of the constraint library or a constraint family"),
    "T171": ("error", "constraint arguments fail the checker's schema", "give the arguments the family documents"),
    "T172": ("error", "constraints given together conflict", "drop one of them or give them in separate prompts"),
    "T173": ("error", "phrasing does not state its argument values", "use placeholders such as {max} or {phrase}"),
    "T174": ("error", "language constraint without label translations", "add a translation of every label"),
    "T175": ("error", "fewer than five distinct phrasings", "write at least 5 different phrasings"),
    "T144": (
        "warning",
        "licence unknown: imported for local use only",
        "find the data's licence and write its SPDX id into task.json; never publish this folder",
    ),
    "T142": (
        "error",
        "audio_inputs below 1 (below 0 for an audio task)",
        "set audio_inputs to the number of clips per example (0 only when an audio task's input is text)",
    ),
    "T150": ("error", "audio task without an output block", 'add "output": {"sources", "max_seconds", "speaker"}'),
    "T151": ("error", "output block on a task whose answer is text", 'remove "output" or set "task_type": "audio"'),
    "T152": (
        "error",
        "output block value out of range, or a metric that cannot score its sources",
        "use 1 to 8 sources and at most 60 seconds; with several sources, separation metrics (SI-SDR, SI-SDRi)",
    ),
    "T153": (
        "error",
        "an example lacks what a metric of the task needs",
        "add the field the metric reads: label (text), reference_audio, speaker_prompt, distractors or an input",
    ),
    "T154": (
        "error",
        "audio reference field on a task whose answer is text",
        "remove the field or use task_type audio",
    ),
    "T143": ("error", "language is not a BCP-47 tag", "use codes such as en, de, pt-BR, yue"),
    # examples.jsonl
    "T200": ("error", "examples.jsonl is missing", "add examples.jsonl with one JSON object per line"),
    "T201": ("error", "line is not valid JSON", "fix the JSON on that line (one object per line)"),
    "T202": ("error", "line is not a JSON object", 'write each example as {"id": ..., ...}'),
    "T203": (
        "error",
        "example field is unknown, missing or mistyped",
        "examples take id, split, audio, label and optional instruction, constraints (and, for audio tasks, "
        "text, speaker_prompt, reference_audio, distractors)",
    ),
    "T204": ("error", "duplicate example id", "give every example a unique id"),
    "T205": ("error", "unknown split", 'use "train" or "test"'),
    "T206": ("error", "too few test examples", "add test examples: at least 32 are needed"),
    "T207": ("error", "wrong number of audio clips", "give as many audio paths as audio_inputs says"),
    "T208": ("error", "label not in the card's labels", "use one of the labels in task.json, or add it there"),
    "T209": (
        "error",
        "label has the wrong type for the task_type",
        "regression labels are numbers, generation labels non-empty strings, classification labels strings",
    ),
    "T210": ("error", "no examples", "add examples to examples.jsonl"),
    "T211": ("warning", "no train split", "add train examples so probes can be trained on this task"),
    "T212": ("error", "example instruction empty or too long", "write 1 to 1000 characters, or drop the field"),
    "T213": (
        "warning",
        "one label covers more than 80% of the test split",
        "balance the test split, so a constant answer cannot score well",
    ),
    "T214": ("warning", "a label has no test example", "add test examples of that label, or remove the label"),
    # audio paths and files
    "T300": ("error", "audio path is absolute", "use a path relative to the task folder, e.g. audio/0001.flac"),
    "T301": ("error", "audio path escapes the folder", "keep audio inside the task folder, without `..`"),
    "T302": ("error", "symlink points outside the folder", "copy the file into the task folder instead of linking"),
    "T303": ("error", "audio file missing", "add the file or fix the path"),
    "T304": ("error", "audio is not WAV or FLAC", "convert it, e.g. `sox in.mp3 -r 16000 -c 1 out.flac`"),
    "T310": ("error", "audio cannot be decoded", "re-encode the file as 16 kHz mono FLAC"),
    "T311": ("error", "sample rate is not 16 kHz", "resample, e.g. `sox in.wav -r 16000 out.flac`"),
    "T312": ("error", "audio is not mono", "downmix, e.g. `sox in.wav -c 1 out.flac`"),
    "T313": ("error", "duration outside 0.1 s to 60 s", "trim or split the clip"),
    "T314": ("error", "audio file over 20 MB", "shorten the clip or encode it as FLAC"),
    "T315": ("error", "same audio in train and test", "remove the duplicate from one split"),
    "T316": ("warning", "audio file not referenced by any example", "delete it or reference it in examples.jsonl"),
    "T317": ("error", "audio is truncated or corrupt part-way", "re-encode or re-export the file"),
    "T318": ("warning", "audio is digital silence", "check the clip: every sample is zero"),
    # folder
    "T400": ("error", "README.md is missing", "add README.md (objective, provenance, licence, example, baseline)"),
    "T401": (
        "warning",
        "README.md lacks a required section",
        "add headings for objective, data, licence, example and baseline",
    ),
    "T402": ("warning", "README.md still holds scaffold text (TODO)", "replace every TODO with the real text"),
    # submissions
    "S100": ("error", "model.json is missing or invalid", "write model.json with the fields of ModelCard"),
    "S101": ("error", "run record is invalid", "records are written by `bench run`: re-run instead of editing"),
    "S102": ("error", "run file names no existing task", "remove the file, or add the task to the tasks folder"),
    "S103": ("warning", "run is of an older task version", "re-run on the current version (the leaderboard skips it)"),
    "S104": ("warning", "run does not cover every test example", "finish it by re-running the same `bench run`"),
    "S105": (
        "error",
        "records made on other task files of the same version",
        "re-run the model; if the task changed, bump its version",
    ),
}

# Score-protecting warnings that pull-request CI (`bench validate --format github`, or `--strict`) counts as errors.
STRICT_CODES = frozenset({"T107", "T134", "T135", "T136", "T144", "T213", "T214", "T401", "T402"})


class Finding(BaseModel):
    """One broken rule, located precisely enough to fix it without reading the code."""

    model_config = ConfigDict(frozen=True)

    code: str
    """Stable rule code, e.g. ``T203``."""
    level: Level
    """``error`` fails validation; ``warning`` does not."""
    path: str
    """The file (or folder) at fault."""
    message: str
    """What is wrong, with the offending value."""
    fix: str
    """One line saying how to fix it."""
    field: str | None = None
    """The JSON field at fault, e.g. ``instructions[2]`` or ``label``."""
    line: int | None = None
    """1-based line in ``path``, when known."""
    column: int | None = None
    """1-based column in ``path``, when known."""

    def location(self) -> str:
        """``path:line:column`` with the parts that are known."""
        loc = self.path
        if self.line is not None:
            loc += f":{self.line}"
            if self.column is not None:
                loc += f":{self.column}"
        return loc

    def render(self) -> str:
        """One human-readable line."""
        where = f" [{self.field}]" if self.field else ""
        return f"{self.location()}: {self.level} {self.code}{where} {self.message} (fix: {self.fix})"

    def github(self) -> str:
        """A GitHub Actions workflow command that annotates the file in a pull request."""
        props = [f"file={self.path}"]
        if self.line is not None:
            props.append(f"line={self.line}")
        if self.column is not None:
            props.append(f"col={self.column}")
        props.append(f"title={self.code}")
        where = f"{self.field}: " if self.field else ""
        text = f"{where}{self.message}. Fix: {self.fix}"
        return f"::{self.level} {','.join(props)}::{_gh_escape(text)}"


def _gh_escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def make(
    code: str,
    path: object,
    message: str,
    *,
    field: str | None = None,
    line: int | None = None,
    column: int | None = None,
    fix: str | None = None,
) -> Finding:
    """Build a finding whose level and default fix come from the code table."""
    level, _, default_fix = CODES[code]
    return Finding(
        code=code,
        level=level,
        path=str(path),
        message=message,
        fix=fix or default_fix,
        field=field,
        line=line,
        column=column,
    )


def strict(findings: list[Finding]) -> list[Finding]:
    """The findings with the score-protecting warnings (``STRICT_CODES``) raised to errors."""
    return [f.model_copy(update={"level": "error"}) if f.code in STRICT_CODES else f for f in findings]


def format_findings(findings: list[Finding], fmt: str) -> str:
    """Render findings as ``text``, ``json`` or ``github`` annotations."""
    if fmt == "json":
        return json.dumps([f.model_dump() for f in findings], indent=2)
    if fmt == "github":
        return "\n".join(f.github() for f in findings)
    return "\n".join(f.render() for f in findings)
