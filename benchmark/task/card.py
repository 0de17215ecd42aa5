"""The task folder contract: ``TaskCard`` (task.json) and ``Example`` (examples.jsonl).

A task is one folder that describes itself::

    tasks/<Name>/task.json        the card (strict: unknown keys are errors)
    tasks/<Name>/examples.jsonl   one example per line
    tasks/<Name>/audio/...        16 kHz mono WAV or FLAC
    tasks/<Name>/README.md        objective, provenance, licence, example, baseline

The pydantic models check the shape of each file; the value rules that need
several fields at once (metric vs task_type, labels, instructions, licence) live
in :func:`card_rules`, a pure function over the raw JSON object, so that
``bench validate`` can report every problem of a broken card in one run and the
models enforce exactly the same rules when they are built in code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from benchmark.scoring.constraint_library import constraint_problems
from benchmark.scoring.metrics import METRICS, TASK_TYPES, TaskType, metrics_for
from benchmark.scoring.speech.metrics import SPEECH_METRICS, scores_language, scores_sources

Dimension = Literal["content", "speaker", "semantics", "paralinguistics", "degradation", "audio", "music"]
Split = Literal["train", "test"]
if TYPE_CHECKING:
    MetricName = str
else:
    # The enum of task.json's "metric" is the metric registry's names (scoring/metrics.py).
    MetricName = Literal[tuple(METRICS)]

DIMENSIONS: tuple[str, ...] = Dimension.__args__  # type: ignore[attr-defined]
METRICS_BY_TASK_TYPE: dict[str, tuple[str, ...]] = {t: metrics_for(t) for t in TASK_TYPES}

NAME_PATTERN = r"^[A-Z][A-Za-z0-9]+$"
# Semantic Versioning 2.0.0, the official pattern (pre-release and build metadata allowed).
SEMVER_PATTERN = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
# BCP-47 language tags as used in practice: language, optional script, region, variants.
BCP47_PATTERN = r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|\d{3}))?(-([a-z0-9]{5,8}|\d[a-z0-9]{3}))*$"
EXAMPLE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"

MIN_INSTRUCTIONS = 5
MAX_INSTRUCTION_CHARS = 1000
MIN_TEST_EXAMPLES = 32

# SPDX ids whose terms permit redistributing the audio and labels (with attribution
# where required). Non-commercial licences permit redistribution, so they are listed;
# "no derivatives" ones are not, because tasks are converted and resampled.
REDISTRIBUTABLE_LICENSES = frozenset(
    (
        "CC0-1.0 CC-BY-3.0 CC-BY-4.0 CC-BY-SA-3.0 CC-BY-SA-4.0 CC-BY-NC-3.0 CC-BY-NC-4.0 CC-BY-NC-SA-3.0 "
        "CC-BY-NC-SA-4.0 MIT Apache-2.0 BSD-2-Clause BSD-3-Clause ISC Unlicense PDDL-1.0 ODC-By-1.0 ODbL-1.0 "
        "CDLA-Permissive-2.0 CDLA-Sharing-1.0 GPL-3.0-only GPL-3.0-or-later LGPL-3.0-only LGPL-3.0-or-later "
    ).split()
)
# Recognised SPDX ids (or SPDX expressions) that do not permit redistribution here.
NON_REDISTRIBUTABLE_LICENSES = frozenset(
    ("CC-BY-ND-4.0 CC-BY-NC-ND-4.0 CC-BY-ND-3.0 CC-BY-NC-ND-3.0 NONE NOASSERTION UNLICENSED proprietary ").split()
)


LOCAL_USE_SUFFIX = "-local-use-only"
"""Ends the ``LicenseRef-`` id of data whose licence is unknown (``bench import-hf --catalog``): usable on this
machine, never redistributed; ``bench validate --strict`` refuses it (T144)."""


def is_local_use(license_id: object) -> bool:
    """A ``LicenseRef-...-local-use-only`` id: data usable here, never redistributed."""
    return (
        isinstance(license_id, str) and license_id.startswith("LicenseRef-") and license_id.endswith(LOCAL_USE_SUFFIX)
    )


class _Strict(BaseModel):
    """Base for user-written files: unknown keys are errors and types are not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, use_attribute_docstrings=True)


class Source(_Strict):
    """Where the data came from, so a reader can trace and cite it."""

    dataset: str = ""
    """Name of the original dataset, or "synthetic" for generated data."""
    url: str = ""
    """Where the original data or the generator lives."""
    citation: str = ""
    """How to cite the original data (BibTeX or a plain reference)."""
    notes: str = ""
    """How the task was made from the source: selection, conversion, generation."""


SPEAKER_MODES = ("prompt", "source", "any")
MAX_SOURCES = 8


class AudioOutput(_Strict):
    """The ``output`` block of an ``audio`` task: what the model's audio answer must be."""

    sources: int = 1
    """Clips per answer: 1 (speech, enhanced speech), or the number of separated sources (1 to 8)."""
    max_seconds: float = 30.0
    """Longest valid answer clip in seconds (at most 60); a longer one is scored as ``too_long``."""
    speaker: Literal["prompt", "source", "any"] = "any"
    """Whose voice: the example's ``speaker_prompt`` (cloning, conversion), the input's own (enhancement,
    separation, a spoken reply in the asker's voice), or any voice (plain TTS)."""
    language: str | None = None
    """BCP-47 code of the speech to produce, where there is speech."""
    metrics: list[str] = Field(default_factory=list)
    """Further metrics reported for the task besides ``metric`` (the leaderboard cell), all of type ``audio``."""


class TaskCard(_Strict):
    """The contents of ``task.json``: what a task measures and how it is scored."""

    schema_url: str | None = Field(default=None, alias="$schema")
    """Optional JSON Schema reference, so editors validate the file as people type."""
    name: str
    """Task name; equals the folder name and matches ``^[A-Z][A-Za-z0-9]+$``."""
    version: str
    """Semantic version; bump it on any change to instructions, labels or examples."""
    description: str
    """One or two sentences saying what the task measures."""
    dimension: Dimension
    """Leaderboard dimension the task belongs to."""
    task_type: TaskType
    """classification (answer is one label), regression (a number), generation (text with a reference), open
    (text for an open-ended prompt, no reference: a judge grades it; constraints are checked without one) or
    audio (the answer is audio: see ``output``)."""
    metric: MetricName
    """Task metric; must suit ``task_type`` (see ``METRICS_BY_TASK_TYPE``)."""
    labels: list[str] | None = None
    """The closed answer set: required for classification, unique, at least two; absent otherwise."""
    instructions: list[str]
    """At least five distinct prompts (<= 1000 characters each); classification prompts name the answers."""
    audio_inputs: int = 1
    """Number of audio clips per example (2 for pair tasks such as "same speaker?"); 0 only for an ``audio``
    task whose input is text (text-to-speech)."""
    license: str
    """SPDX licence id of the audio and labels; it must permit redistribution."""
    source: Source
    """Provenance of the data."""
    languages: list[str]
    """BCP-47 codes of the spoken languages; empty for non-speech audio."""
    authors: list[str]
    """Contributors of the task."""
    constraints: list[dict[str, Any] | list[dict[str, Any]]] | None = None
    """Constraint sets this task opts in to for ``bench run --constraints``: sets of the shared library
    (``{"id": "upper"}``, arguments overridable) or families with ``args`` and five ``phrasings``; a list
    is a combination given in one prompt (see ``benchmark.scoring.constraint_library``)."""
    output: AudioOutput | None = None
    """Required for an ``audio`` task (the answer is audio), absent otherwise: sources, length, voice, language,
    the metrics reported."""
    translations: dict[str, dict[str, str | list[str]]] | None = None
    """Label translations by language code (``{"zh": {"happy": "开心"}}``): language constraints need one
    for every label, and an answer given in that language is mapped back to its label."""

    model_config = ConfigDict(populate_by_name=True)

    @model_validator(mode="after")
    def _value_rules(self, info: ValidationInfo) -> TaskCard:
        # ``bench validate`` runs the rules itself (to report them next to type errors).
        if info.context and info.context.get("skip_rules"):
            return self
        problems = card_rules(self.model_dump(by_alias=True, exclude_none=True))
        if problems:
            raise ValueError("; ".join(f"{p.field}: {p.message}" for p in problems))
        return self

    @property
    def key(self) -> str:
        """``Name@version``, the id of this exact revision of the task."""
        return f"{self.name}@{self.version}"

    @property
    def reported_metrics(self) -> list[str]:
        """The task metric, then the ``output`` block's further metrics (an audio task's speech table)."""
        extra = self.output.metrics if self.output is not None else []
        return [self.metric, *(m for m in extra if m != self.metric)]


class Example(_Strict):
    """One line of ``examples.jsonl``."""

    id: str = Field(pattern=EXAMPLE_ID_PATTERN)
    """Unique id within the task: letters, digits, ``_``, ``.`` and ``-``."""
    split: Split
    """``train`` (for probes and few-shot) or ``test`` (scored)."""
    audio: str | list[str]
    """Path, or list of ``audio_inputs`` paths, relative to the task folder (``[]`` when the input is text)."""
    label: str | int | float
    """A label from the card (classification), a number (regression) or a reference text (generation; for an
    ``audio`` task, the words the answer should say)."""
    text: str | None = None
    """Text the model is given besides the instruction: what to say (text-to-speech), a question."""
    transcript: str | list[str] | None = None
    """What each input clip says, word for word (one per clip): read only by a text-view reference system
    (``cascade`` with ``--model-arg text_view=oracle``), never by a model under evaluation."""
    speaker_prompt: str | None = None
    """``audio`` tasks: a recording in the voice the answer should have (a path in the folder)."""
    reference_audio: str | list[str] | None = None
    """``audio`` tasks: the reference answer: clean speech (enhancement, conversion, TTS), or one clip per
    source (separation)."""
    distractors: list[str] | None = None
    """``audio`` tasks: recordings of other voices, for retrieval against the speaker prompt."""
    instruction: str | None = None
    """Overrides the card's instructions for this example."""
    constraints: list[dict[str, Any]] | None = None
    """Constraints this example's own instruction states (native instruction-following tasks, imports):
    ``{"id": family, "args": {...}}``, all given in one prompt; checked and unwrapped like a constraint run's."""

    @property
    def audio_paths(self) -> list[str]:
        """The example's input audio paths as a list, in order."""
        return [self.audio] if isinstance(self.audio, str) else list(self.audio)

    @property
    def transcripts(self) -> list[str] | None:
        """The oracle transcript of each input clip, in order, or None."""
        t = self.transcript
        return None if t is None else [t] if isinstance(t, str) else list(t)

    @property
    def reference_paths(self) -> list[str]:
        """The reference audio paths (one per source), in order; empty when there is none."""
        ref = self.reference_audio
        return [] if ref is None else [ref] if isinstance(ref, str) else list(ref)

    def audio_fields(self) -> list[tuple[str, str, bool]]:
        """Every audio file the example names: ``(field, path, is_model_input)``, inputs first."""
        if isinstance(self.audio, str) and self.speaker_prompt is self.reference_audio is self.distractors is None:
            return [("audio", self.audio, True)]  # the common case, on every load of every task
        many, refs = not isinstance(self.audio, str), not isinstance(self.reference_audio, str)
        out = [(f"audio[{i}]" if many else "audio", p, True) for i, p in enumerate(self.audio_paths)]
        out += [("speaker_prompt", self.speaker_prompt, False)] if self.speaker_prompt is not None else []
        out += [
            (f"reference_audio[{i}]" if refs else "reference_audio", p, False)
            for i, p in enumerate(self.reference_paths)
        ]
        return out + [(f"distractors[{i}]", p, False) for i, p in enumerate(self.distractors or [])]


class Problem(BaseModel):
    """A value rule broken in a card, before it becomes a located ``Finding``."""

    code: str
    field: str
    message: str


def card_rules(raw: Mapping[str, Any], folder_name: str | None = None) -> list[Problem]:
    """Check the value rules of a card given as its raw JSON object.

    Tolerates fields of the wrong type (those are reported by the schema), so it can
    run on a card that is broken in several ways at once.
    """
    problems: list[Problem] = []
    problems += _name_rules(raw, folder_name)
    problems += _metric_rules(raw)
    problems += _label_rules(raw)
    problems += _instruction_rules(raw.get("instructions"))
    problems += _license_rules(raw.get("license"))
    problems += _language_rules(raw.get("languages"))
    problems += _text_rules(raw)
    problems += _constraint_rules(raw)
    problems += output_rules(raw)
    return problems


def _constraint_rules(raw: Mapping[str, Any]) -> list[Problem]:
    constraints, translations = raw.get("constraints"), raw.get("translations")
    if not isinstance(constraints, list):
        return []
    labels = [x for x in raw.get("labels") or [] if isinstance(x, str)]
    table = translations if isinstance(translations, dict) else {}
    return [
        Problem(code=code, field=where, message=message)
        for code, where, message in constraint_problems(constraints, labels, table)
    ]


def example_constraint_problems(example: Example, card: Mapping[str, Any]) -> list[Problem]:
    """Problems of an example's own constraints (one combination, stated by its instruction: no phrasings)."""
    if not example.constraints:
        return []
    labels = [x for x in card.get("labels") or [] if isinstance(x, str)]
    translations = card.get("translations") if isinstance(card.get("translations"), dict) else {}
    found = constraint_problems([example.constraints], labels, translations, phrasings=False)
    return [
        Problem(code=code, field=where.replace("constraints[0]", "constraints", 1), message=message)
        for code, where, message in found
    ]


def output_rules(raw: Mapping[str, Any]) -> list[Problem]:
    """The ``output`` block: present exactly on ``audio`` tasks, with sane bounds and audio metrics only."""
    audio, output = raw.get("task_type") == "audio", raw.get("output")
    if audio and output is None:
        return [
            Problem(
                code="T150",
                field="output",
                message='an audio task needs an "output" block '
                '(e.g. {"sources": 1, "max_seconds": 20, "speaker": "any", "language": "en"})',
            )
        ]
    if not isinstance(output, dict):
        return []
    if not audio:
        return [
            Problem(
                code="T151",
                field="output",
                message='only an audio task has an "output" block; remove it or set "task_type": "audio"',
            )
        ]
    out = []
    sources, seconds, language = output.get("sources", 1), output.get("max_seconds", 30.0), output.get("language")
    if isinstance(sources, int) and not 1 <= sources <= MAX_SOURCES:
        out.append(Problem(code="T152", field="output.sources", message=f"{sources}; use 1 to {MAX_SOURCES}"))
    if isinstance(seconds, (int, float)) and not 0 < seconds <= 60:
        out.append(Problem(code="T152", field="output.max_seconds", message=f"{seconds}; use more than 0, at most 60"))
    if isinstance(language, str) and not re.match(BCP47_PATTERN, language):
        out.append(Problem(code="T143", field="output.language", message=f"{language!r} is not a BCP-47 tag"))
    return out + _output_metric_rules(raw, output, sources, language)


def _output_metric_rules(raw: Mapping[str, Any], output: dict[str, Any], sources: Any, language: Any) -> list[Problem]:
    """Each reported metric is an audio metric that can score the answer's sources and language."""
    allowed, out = METRICS_BY_TASK_TYPE["audio"], []
    named = [("metric", raw.get("metric"))]
    named += [(f"output.metrics[{i}]", n) for i, n in enumerate(output.get("metrics") or [])]
    for where, name in named:
        if where != "metric" and isinstance(name, str) and name not in allowed:
            message = f"{name!r} is not an audio metric (use one of {', '.join(allowed)})"
            out.append(Problem(code="T116", field=where, message=message))
        elif isinstance(sources, int) and sources > 1 and name in SPEECH_METRICS and not scores_sources(name):
            message = f"{name} scores one clip per answer, and output.sources is {sources}: use SI-SDR or SI-SDRi"
            out.append(Problem(code="T152", field=where, message=message))
        elif name in SPEECH_METRICS and isinstance(language, str) and not scores_language(name, language):
            message = f"{name} reads English; output.language is {language}"
            out.append(Problem(code="T116", field=where, message=message))
    return out


def _name_rules(raw: Mapping[str, Any], folder_name: str | None) -> list[Problem]:
    out = []
    name, version = raw.get("name"), raw.get("version")
    if isinstance(name, str) and not re.match(NAME_PATTERN, name):
        out.append(Problem(code="T111", field="name", message=f"{name!r} does not match {NAME_PATTERN}"))
    if isinstance(name, str) and folder_name is not None and name != folder_name:
        out.append(Problem(code="T110", field="name", message=f"{name!r} differs from the folder name {folder_name!r}"))
    if isinstance(version, str) and not re.match(SEMVER_PATTERN, version):
        out.append(Problem(code="T112", field="version", message=f"{version!r} is not a semantic version"))
    floor = 0 if raw.get("task_type") == "audio" else 1
    if isinstance(raw.get("audio_inputs"), int) and raw["audio_inputs"] < floor:
        out.append(Problem(code="T142", field="audio_inputs", message=f"must be at least {floor}"))
    return out


def _metric_rules(raw: Mapping[str, Any]) -> list[Problem]:
    task_type, metric = raw.get("task_type"), raw.get("metric")
    allowed = METRICS_BY_TASK_TYPE.get(task_type) if isinstance(task_type, str) else None
    if allowed is None or not isinstance(metric, str) or metric in allowed:
        return []
    return [
        Problem(
            code="T116",
            field="metric",
            message=f"{metric!r} does not score a {task_type} task (use one of {', '.join(allowed)})",
        )
    ]


def _label_rules(raw: Mapping[str, Any]) -> list[Problem]:
    task_type, labels = raw.get("task_type"), raw.get("labels")
    if task_type == "classification" and labels is None:
        return [Problem(code="T120", field="labels", message="a classification task needs a labels list")]
    if task_type in ("regression", "generation", "open", "audio") and labels is not None:
        return [Problem(code="T121", field="labels", message=f"a {task_type} task must not have labels")]
    if not isinstance(labels, list):
        return []
    out = []
    strings = [x for x in labels if isinstance(x, str)]
    for i, label in enumerate(strings):
        if not label.strip():
            out.append(Problem(code="T124", field=f"labels[{i}]", message="label is empty"))
    seen: set[str] = set()
    for label in strings:
        key = label.strip().lower()
        if key in seen:
            out.append(Problem(code="T122", field="labels", message=f"label {label!r} appears twice"))
        seen.add(key)
    if len(set(strings)) < 2:
        out.append(Problem(code="T123", field="labels", message=f"{len(labels)} label(s); at least 2 are needed"))
    return out


def _instruction_rules(instructions: Any) -> list[Problem]:
    if not isinstance(instructions, list):
        return []
    out = []
    seen: dict[str, int] = {}
    for i, text in enumerate(instructions):
        if not isinstance(text, str):
            continue
        if not text.strip():
            out.append(Problem(code="T132", field=f"instructions[{i}]", message="instruction is empty"))
            continue
        if len(text) > MAX_INSTRUCTION_CHARS:
            out.append(
                Problem(
                    code="T133",
                    field=f"instructions[{i}]",
                    message=f"{len(text)} characters; at most {MAX_INSTRUCTION_CHARS} are allowed",
                )
            )
        key = " ".join(text.split()).lower()
        if key in seen:
            out.append(
                Problem(
                    code="T131",
                    field=f"instructions[{i}]",
                    message=f"repeats instructions[{seen[key]}]",
                )
            )
        seen.setdefault(key, i)
    if len(seen) < MIN_INSTRUCTIONS:
        out.append(
            Problem(
                code="T130",
                field="instructions",
                message=f"{len(seen)} distinct instruction(s); at least {MIN_INSTRUCTIONS} are needed",
            )
        )
    return out


def _license_rules(license_id: Any) -> list[Problem]:
    if not isinstance(license_id, str):
        return []
    if license_id in REDISTRIBUTABLE_LICENSES or is_local_use(license_id):
        return []  # a local-use id is reported by the folder checks (T144), not refused by the card
    if license_id in NON_REDISTRIBUTABLE_LICENSES or license_id.startswith("LicenseRef-"):
        return [Problem(code="T141", field="license", message=f"{license_id!r} does not permit redistribution")]
    return [Problem(code="T140", field="license", message=f"{license_id!r} is not a recognised SPDX licence id")]


def _language_rules(languages: Any) -> list[Problem]:
    if not isinstance(languages, list):
        return []
    return [
        Problem(code="T143", field=f"languages[{i}]", message=f"{code!r} is not a BCP-47 language tag")
        for i, code in enumerate(languages)
        if isinstance(code, str) and not re.match(BCP47_PATTERN, code)
    ]


def _text_rules(raw: Mapping[str, Any]) -> list[Problem]:
    out = []
    if isinstance(raw.get("description"), str) and not raw["description"].strip():
        out.append(Problem(code="T106", field="description", message="description is empty"))
    authors = raw.get("authors")
    if isinstance(authors, list) and not [a for a in authors if isinstance(a, str) and a.strip()]:
        out.append(Problem(code="T106", field="authors", message="no author is named"))
    return out
