"""What each example of an ``audio`` task must carry for the task's metrics (``Metric.needs``).

A speech metric reads some of: the words the answer should say (``text``: the example's label), a clean
reference (``audio``: one ``reference_audio``), the reference sources (``sources``: one ``reference_audio``
per ``output.sources``), the input it transformed (``source``: an input clip), a voice to match
(``speaker``: ``speaker_prompt``) and other voices (``distractors``). ``bench validate`` checks every
example against every metric the card reports, so a task never fails at scoring time; the files named
are checked like input audio (inside the folder, readable, decoded with ``--deep``, in the content hash).
"""

from __future__ import annotations

from typing import Any

from benchmark.scoring.metrics import METRICS
from benchmark.task.card import Example

REFERENCE_FIELDS = ("speaker_prompt", "reference_audio", "distractors")


def needs_of(raw: dict[str, Any]) -> dict[str, list[str]]:
    """``{need: [metric, ...]}`` over the metrics a (possibly broken) raw card reports."""
    output = raw["output"] if isinstance(raw.get("output"), dict) else {}
    names = [raw.get("metric"), *(output.get("metrics") or [])]
    out: dict[str, list[str]] = {}
    for name in names:
        metric = METRICS.get(name) if isinstance(name, str) else None
        if metric is not None and metric.task_type == "audio":
            for need in metric.needs:
                out.setdefault(need, []).append(name)
    return out


def missing_needs(example: Example, raw: dict[str, Any], audio_inputs: int) -> list[tuple[str, str]]:
    """``(field, message)`` for each thing a metric of the card needs that ``example`` lacks."""
    if raw.get("task_type") != "audio":
        if example.speaker_prompt is None and example.reference_audio is None and example.distractors is None:
            return []  # the common case, once per example of every text task loaded
        return [
            (f, f"{f} is only read by audio tasks; remove it")
            for f in REFERENCE_FIELDS
            if getattr(example, f) is not None
        ]
    output = raw["output"] if isinstance(raw.get("output"), dict) else {}
    sources = output.get("sources", 1) if isinstance(output.get("sources", 1), int) else 1
    refs = example.reference_paths
    have = {
        "text": isinstance(example.label, str) and bool(example.label.strip()),
        "audio": len(refs) == 1,
        "sources": len(refs) == sources,
        "source": audio_inputs >= 1,
        "speaker": example.speaker_prompt is not None,
        "distractors": bool(example.distractors),
    }
    what = {
        "text": ("label", "the words the answer should say, as the label"),
        "audio": ("reference_audio", "one reference_audio clip"),
        "sources": ("reference_audio", f"{sources} reference_audio clip(s), one per source"),
        "source": ("audio", "an input clip (audio_inputs of at least 1)"),
        "speaker": ("speaker_prompt", "a speaker_prompt clip"),
        "distractors": ("distractors", "a list of distractors clips"),
    }
    out = []
    for need, metrics in needs_of(raw).items():
        if not have.get(need, True):
            where, message = what[need]
            out.append((where, f"{', '.join(metrics)} needs {message}"))
    return out
