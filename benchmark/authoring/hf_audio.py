"""Dynamic-SUPERB instances whose answer is audio (``task_type: "audio"``), both ways.

In such an instance the ``label`` column holds audio: the answer. The columns are read by name (case
does not matter); the audio ones are columns typed ``Audio`` or plain ``{bytes, path}`` structs:

- **references**: ``label``, then ``label2``, ``label3``... (also written ``label1``, ``label_2``): one
  reference clip per source, so a separation instance has one per speaker; ``output.sources`` is their
  count. Each example's ``reference_audio`` (a path for one source, a list for several).
- **distractors**: audio columns named ``distractor``, ``negative``, ``wrong_label`` or ``option``, singular
  or plural, with an optional ``_`` and number (``distractor1``, ``distractors_2``, ``negative1``,
  ``wrong_label_3``, ``option2``), in number order: the example's ``distractors`` (e.g. the wrong targets
  of a conversion instance). An empty cell is left out.
- **speaker prompt**: an audio column ``speaker_prompt``: the voice the answer should have.
- **inputs**: ``audio``, ``audio2``... then every other audio column, in column order. There may be none:
  the instruction and the text are the whole input (synthesis, ``audio_inputs: 0``).
- **text**: the first string column of ``TEXT_COLUMNS`` (``text``, ``transcript``, ``transcription``,
  ``sentence``, ``lyrics``, ``score``) is what the model is given (what to say or sing): the example's
  ``text``, and its label (the words the answer should say, for WER). A string column of
  ``LABEL_TEXT_COLUMNS`` (``label_transcription``, ``label_transcript``, ``label_text``) holds the words of
  the reference without giving them to the model: it is the label. Neither: the label is ``""``.

The metrics come from the shape, never from the instance's name (``default_metrics``): several
references -> SI-SDRi and SI-SDR (SI-SDR alone without an input); one reference and an input ->
PESQ-WB, ESTOI and DNSMOS-OVRL (enhancement), unless there are distractors (conversion); conversion
and no input (synthesis) -> F0-mean-diff, duration-ratio and DNSMOS-OVRL. A metric given (``--metric``,
a catalog row's) becomes the task metric; the other defaults stay as the card's further metrics.
``output.max_seconds`` is twice the longest reference plus one second (a slower voice or a sung answer is
not cut off as ``too_long``), rounded up to whole seconds, at most 60.

``bench export-hf`` writes the same columns back (``label``, ``label2``..., ``distractor1``...,
``speaker_prompt``, ``text``, ``label_transcription``), so importing an export gives the task back.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from benchmark.authoring.hf_source import AUDIO_COLUMN, ConversionError, decode, is_audio_feature, rows, safe_id
from benchmark.task import Example, TaskCard
from benchmark.task.answer_needs import missing_needs
from benchmark.task.audio import SAMPLE_RATE
from benchmark.task.folder import Task
from benchmark.task.writer import TaskWriter

REFERENCE_COLUMN = re.compile(r"^label(?:_?(\d+))?$", re.IGNORECASE)
DISTRACTOR_COLUMN = re.compile(r"^(?:distractors?|negatives?|wrong_?labels?|options?)_?(\d*)$", re.IGNORECASE)
SPEAKER_PROMPT_COLUMN = "speaker_prompt"
TEXT_COLUMNS = ("text", "transcript", "transcription", "sentence", "lyrics", "score")
"""String columns given to the model (what to say or sing), first found wins; also the label."""
LABEL_TEXT_COLUMNS = ("label_transcription", "label_transcript", "label_text")
"""String columns holding the words of the reference answer, not given to the model: the label."""
SEPARATION = ("SI-SDRi", "SI-SDR")
ENHANCEMENT = ("PESQ-WB", "ESTOI", "DNSMOS-OVRL[speechmos]")
GENERATION = ("F0-mean-diff[pyworld]", "duration-ratio", "DNSMOS-OVRL[speechmos]")
MAX_OUTPUT_SECONDS = 60


@dataclass(frozen=True)
class Columns:
    """What each column of an audio-answer instance is (see the module docstring)."""

    inputs: tuple[str, ...]
    references: tuple[str, ...]
    distractors: tuple[str, ...] = ()
    speaker_prompt: str | None = None
    text: str | None = None
    label_text: str | None = None

    @property
    def audio(self) -> list[str]:
        """Every audio column, inputs first."""
        prompt = [self.speaker_prompt] if self.speaker_prompt else []
        return [*self.inputs, *self.references, *self.distractors, *prompt]


def _number(pattern: re.Pattern[str], column: str) -> int:
    found = pattern.match(column)
    return int(found.group(1) or 1) if found else 0


def _is_text(feature: Any) -> bool:
    return type(feature).__name__ == "Value" and str(getattr(feature, "dtype", "")) in ("string", "large_string")


def column_roles(columns: list[str], features: Any, source: str) -> Columns:
    """Sort an instance's columns into inputs, references, distractors, speaker prompt and text.

    Raises:
        ConversionError: no ``instruction`` column, or no ``label`` column holding audio.
    """
    features = features or {}
    audio = [c for c in columns if is_audio_feature(features.get(c))]
    if "instruction" not in columns or "label" not in columns:
        missing = [c for c in ("instruction", "label") if c not in columns]
        raise ConversionError(f"{source}: missing column(s) {missing}; found {columns}")
    if "label" not in audio:
        kind = type(features.get("label")).__name__
        raise ConversionError(
            f"{source}: the label column holds {kind}, not audio; an audio-answer instance (--task-type audio) "
            "has the reference answer as audio in label (label2... for further sources)"
        )
    refs = sorted((c for c in audio if REFERENCE_COLUMN.match(c)), key=lambda c: (_number(REFERENCE_COLUMN, c), c))
    wrong = sorted((c for c in audio if DISTRACTOR_COLUMN.match(c)), key=lambda c: (_number(DISTRACTOR_COLUMN, c), c))
    prompt = next((c for c in audio if c.lower() == SPEAKER_PROMPT_COLUMN), None)
    taken = {*refs, *wrong, prompt}
    numbered = sorted((c for c in audio if AUDIO_COLUMN.match(c)), key=lambda c: _number(AUDIO_COLUMN, c))
    inputs = numbered + [c for c in audio if c not in taken and c not in numbered]
    text = {c.lower(): c for c in columns if _is_text(features.get(c))}
    return Columns(
        inputs=tuple(inputs),
        references=tuple(refs),
        distractors=tuple(wrong),
        speaker_prompt=prompt,
        text=next((text[n] for n in TEXT_COLUMNS if n in text), None),
        label_text=next((text[n] for n in LABEL_TEXT_COLUMNS if n in text), None),
    )


def default_metrics(references: int, inputs: int, distractors: bool) -> tuple[str, ...]:
    """The metrics of an audio-answer task of this shape, the task metric first (see the module docstring)."""
    if references > 1:
        return SEPARATION if inputs else SEPARATION[1:]
    if inputs and not distractors:
        return ENHANCEMENT
    return GENERATION


def _text(value: Any, where: str) -> str:
    if value is None:
        return ""
    try:
        return str(value).strip()
    except ValueError as exc:  # e.g. an integer too long to print
        raise ConversionError(f"{where}: the text cannot be read ({exc})") from exc


def convert_rows(
    splits: dict[str, Any], source: str, roles: Columns, writer: TaskWriter
) -> tuple[list[Example], float]:
    """Write every row's clips; return its examples and the longest reference in seconds.

    Raises:
        ConversionError: an input or reference cell is empty or cannot be decoded.
    """
    examples: list[Example] = []
    used: set[str] = set()
    longest = 0.0
    for split, i, row in rows(splits, lambda names, _: [c for c in roles.audio if c in names]):
        where = f"{source} split {split} row {i}"
        ex_id = safe_id(row.get("file") or row.get("file1"), len(used), used)

        def clip(col: str, rel: str, cells: dict[str, Any] = row, at: str = where) -> str:
            return writer.clip(rel, decode(cells.get(col), f"{at} column {col}"))

        inputs = [
            clip(c, f"audio/{ex_id}_{k + 1}.flac" if k else f"audio/{ex_id}.flac") for k, c in enumerate(roles.inputs)
        ]
        refs = []
        for k, col in enumerate(roles.references):
            samples = decode(row.get(col), f"{where} column {col}")
            longest = max(longest, len(samples) / SAMPLE_RATE)
            refs.append(writer.clip(f"audio/reference{k + 1 if k else ''}/{ex_id}.flac", samples))
        wrong = []
        for k, col in enumerate(roles.distractors):
            if row.get(col) is not None:  # an empty distractor cell is left out
                wrong.append(clip(col, f"audio/distractor{k + 1}/{ex_id}.flac"))
        prompt = roles.speaker_prompt
        text = _text(row.get(roles.text), where) if roles.text else ""
        examples.append(
            Example(
                id=ex_id,
                split=split,  # type: ignore[arg-type]
                audio=inputs[0] if len(inputs) == 1 else inputs,
                label=_text(row.get(roles.label_text), where) if roles.label_text else text,
                text=text or None,
                speaker_prompt=clip(prompt, f"audio/speaker_prompt/{ex_id}.flac") if prompt else None,
                reference_audio=refs[0] if len(refs) == 1 else refs,
                distractors=wrong or None,
                instruction=str(row["instruction"]).strip() or None,
            )
        )
    return examples, longest


def card_fields(roles: Columns, metric: str | None, longest: float, languages: list[str] | None) -> dict[str, Any]:
    """The ``metric`` and ``output`` of the card of an instance with these columns."""
    defaults = default_metrics(len(roles.references), len(roles.inputs), bool(roles.distractors))
    chosen = metric or defaults[0]
    speaker = "prompt" if roles.speaker_prompt else "source" if roles.inputs else "any"
    output: dict[str, Any] = {
        "sources": len(roles.references),
        "max_seconds": float(min(MAX_OUTPUT_SECONDS, math.ceil(2 * longest + 1))),
        "speaker": speaker,
        "metrics": [m for m in defaults if m != chosen],
    }
    if languages and len(languages) == 1:
        output["language"] = languages[0]
    return {"metric": chosen, "output": output}


def check_needs(card: TaskCard, examples: Iterable[Example], source: str) -> None:
    """Refuse a conversion whose examples lack what a metric of the card reads (``bench validate``'s T153).

    Raises:
        ConversionError: naming the example, the metric and what it needs.
    """
    raw = card.model_dump(by_alias=True, exclude_none=True)
    for example in examples:
        for field, message in missing_needs(example, raw, card.audio_inputs):
            raise ConversionError(
                f"{source} example {example.id}: {message} ({field}); choose another --metric, or add the column"
            )


def readme_lines(card: TaskCard, example: Example) -> str:
    """The README's example and baseline lines of an audio-answer task."""
    lines = [f'- instruction: "{example.instruction or card.instructions[0]}"']
    lines += [f"- audio: `{p}`" for p in example.audio_paths] or ["- audio: none (the input is text)"]
    if example.text:
        lines.append(f'- text: "{example.text}"')
    lines += [f"- reference answer: `{p}`" for p in example.reference_paths]
    lines += [f"- distractor: `{p}`" for p in example.distractors or []]
    metrics = ", ".join(card.reported_metrics)
    return (
        "\n".join(lines)
        + f"\n\n## Baseline\n\nThe answer is audio, scored with {metrics}; "
        + ("the references themselves give the ceiling.")
    )


# --- export ------------------------------------------------------------------------------------


def export_layout(task: Task) -> dict[str, str]:
    """The answer columns of an audio task's export, in order: ``{column: "audio" | "text"}``."""
    examples = task.examples
    refs = max((len(e.reference_paths) for e in examples), default=1)
    wrong = max((len(e.distractors or []) for e in examples), default=0)
    out = {"label" if k == 0 else f"label{k + 1}": "audio" for k in range(max(refs, 1))}
    out |= {f"distractor{k + 1}": "audio" for k in range(wrong)}
    if any(e.speaker_prompt for e in examples):
        out[SPEAKER_PROMPT_COLUMN] = "audio"
    if any(e.text for e in examples):
        out["text"] = "text"
    if any(str(e.label) != (e.text or "") for e in examples):
        out[LABEL_TEXT_COLUMNS[0]] = "text"
    return out


def export_cells(task: Task, example: Example, layout: dict[str, str]) -> dict[str, Any]:
    """One example's answer columns (``layout``): audio cells as ``{bytes, path}``, absent ones None."""

    def cell(rel: str | None) -> dict[str, Any] | None:
        if rel is None:
            return None
        path = task.root / rel
        return {"bytes": path.read_bytes(), "path": path.name}

    refs, wrong = example.reference_paths, example.distractors or []
    out: dict[str, Any] = {}
    for col in layout:
        if REFERENCE_COLUMN.match(col):
            k = _number(REFERENCE_COLUMN, col) - 1
            out[col] = cell(refs[k] if k < len(refs) else None)
        elif DISTRACTOR_COLUMN.match(col):
            k = _number(DISTRACTOR_COLUMN, col) - 1
            out[col] = cell(wrong[k] if k < len(wrong) else None)
    if SPEAKER_PROMPT_COLUMN in layout:
        out[SPEAKER_PROMPT_COLUMN] = cell(example.speaker_prompt)
    if "text" in layout:
        out["text"] = example.text or ""
    if LABEL_TEXT_COLUMNS[0] in layout:
        out[LABEL_TEXT_COLUMNS[0]] = str(example.label)
    return out
