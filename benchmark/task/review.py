"""Checks that protect scores: a task can satisfy the contract and still be unfair to score.

These run after the contract checks of ``checks.py`` on a card that parsed. Their
findings are warnings locally; under ``bench validate --format github`` (pull-request
CI) the codes in ``benchmark.findings.STRICT_CODES`` count as errors. The
Dynamic-SUPERB review rule (T137) stays a warning everywhere.

- T135: a classification instruction must name every label, or the README has a
  section whose heading names both "labels" and "instructions" saying why not.
- T136: a regression instruction states a unit or a numeric answer form; a
  generation instruction states the answer's language or form (not for a judged,
  open-ended metric: the judge reads meaning, not form).
- T213/T214: no label covers more than 80% of the test split; every label has a test example.
- T107/T402: scaffold placeholders (``TODO``) left in the card or the README.
- T137: fewer distinct instructions than max(N/20, 10) for N test examples.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path

from benchmark.findings import Finding, make
from benchmark.scoring.metrics import METRICS
from benchmark.task.card import Example, TaskCard

MAX_LABEL_SHARE = 0.8
PLACEHOLDER = "TODO"

# Words that tell a model which form a numeric answer takes (a unit or a number form).
NUMBER_FORMS = (
    "number", "numeral", "numeric", "digit", "integer", "decimal", "how many", "count", "value",
    "percent", "db", "decibel", "hz", "hertz", "khz", "second", "ms", "millisecond", "minute",
    "hour", "year", "bpm", "semitone", "cent", "per minute", "per second", "metre", "meter",
)  # fmt: skip
# Words that tell a model which form a text answer takes, besides naming its language.
TEXT_FORMS = (
    "transcribe", "transcript", "transcription", "verbatim", "write down", "type out", "word",
    "numeral", "digit", "letter", "spell", "caption", "sentence",
)  # fmt: skip
LANGUAGE_NAMES = {
    "ar": "arabic", "cmn": "mandarin", "de": "german", "en": "english", "es": "spanish", "fr": "french",
    "hi": "hindi", "it": "italian", "ja": "japanese", "ko": "korean", "nl": "dutch", "pl": "polish",
    "pt": "portuguese", "ru": "russian", "sv": "swedish", "tr": "turkish", "uk": "ukrainian",
    "yue": "cantonese", "zh": "chinese",
}  # fmt: skip


def _mentions(text: str, phrase: str, *, plural: bool = False) -> bool:
    """``phrase`` occurs in ``text`` as whole words (optionally plural), ignoring case, ``_`` and ``-``."""
    words = re.sub(r"[_\-\s]+", " ", phrase.lower()).strip()
    tail = "(?:s|es)?" if plural else ""
    pattern = rf"(?<![a-z0-9]){re.escape(words)}{tail}(?![a-z0-9])"
    return re.search(pattern, re.sub(r"[_\-\s]+", " ", text.lower())) is not None


def missing_labels(instruction: str, labels: list[str]) -> list[str]:
    """The labels an instruction does not name."""
    return [label for label in labels if not _mentions(instruction, label)]


def states_format(instruction: str, card: TaskCard) -> bool:
    """Whether a regression or generation instruction says what form the answer takes."""
    text = instruction.lower()
    if card.task_type == "regression":
        return "%" in text or any(_mentions(text, w, plural=True) for w in NUMBER_FORMS)
    names = [LANGUAGE_NAMES.get(code.split("-")[0], code) for code in card.languages]
    return any(w in text for w in TEXT_FORMS) or any(_mentions(text, n) for n in names)


def review_task(root: Path, card: TaskCard, numbered: list[tuple[int, Example]]) -> list[Finding]:
    """Every score-protecting finding for a task whose card and examples parsed."""
    readme = root / "README.md"
    readme_text = readme.read_text(encoding="utf-8", errors="replace") if readme.is_file() else ""
    out = _placeholders(root, card, readme_text)
    out += _instruction_findings(root, card, numbered, readme_text)
    out += _balance(root, card, [ex for _, ex in numbered if ex.split == "test"])
    out += _instruction_count(root, card, [ex for _, ex in numbered if ex.split == "test"])
    return out


def _placeholders(root: Path, card: TaskCard, readme_text: str) -> list[Finding]:
    path = root / "task.json"
    fields = {
        "description": card.description,
        "source.notes": card.source.notes,
        "source.dataset": card.source.dataset,
        **{f"authors[{i}]": a for i, a in enumerate(card.authors)},
    }
    out = [make("T107", path, f"{text[:60]!r}", field=name) for name, text in fields.items() if PLACEHOLDER in text]
    lines = [i for i, line in enumerate(readme_text.splitlines(), start=1) if PLACEHOLDER in line]
    if lines:
        out.append(make("T402", root / "README.md", f"{len(lines)} line(s) hold {PLACEHOLDER}", line=lines[0]))
    return out


def _exempt_from_labels(readme_text: str) -> bool:
    headings = [line.lower() for line in readme_text.splitlines() if line.lstrip().startswith("#")]
    return any("label" in h and "instruction" in h for h in headings)


def _instruction_problem(text: str, card: TaskCard) -> str | None:
    if card.task_type == "classification":
        missing = missing_labels(text, card.labels or [])
        return f"does not name {', '.join(repr(m) for m in missing)}" if missing else None
    if states_format(text, card):
        return None
    if card.task_type == "regression":
        return "states no unit or number form (e.g. 'in seconds', 'answer with a number')"
    languages = ", ".join(card.languages) or "none given"
    return f"states neither the answer's language (languages: {languages}) nor its form (e.g. 'transcribe')"


def _instruction_findings(
    root: Path, card: TaskCard, numbered: list[tuple[int, Example]], readme_text: str
) -> list[Finding]:
    if card.task_type == "classification" and _exempt_from_labels(readme_text):
        return []
    if "judge" in METRICS[card.metric].needs or card.task_type == "audio":
        # A judge grades open-ended answers by their meaning; an audio answer's form is the output block's.
        return []
    code = "T135" if card.task_type == "classification" else "T136"
    out = []
    for i, text in enumerate(card.instructions):
        problem = _instruction_problem(text, card)
        if problem:
            out.append(make(code, root / "task.json", f"{text[:60]!r} {problem}", field=f"instructions[{i}]"))
    own = [(line, ex.instruction) for line, ex in numbered if ex.instruction is not None]
    bad = [(line, text, p) for line, text in own if (p := _instruction_problem(text, card))]
    if bad:
        line, text, problem = bad[0]
        message = f"{len(bad)} example instruction(s) fall short; the first: {text[:60]!r} {problem}"
        out.append(make(code, root / "examples.jsonl", message, field="instruction", line=line))
    return out


def _balance(root: Path, card: TaskCard, test: list[Example]) -> list[Finding]:
    if card.task_type != "classification" or not test:
        return []
    path = root / "examples.jsonl"
    counts = Counter(str(ex.label) for ex in test)
    label, top = counts.most_common(1)[0]
    out = []
    if top / len(test) > MAX_LABEL_SHARE:
        share = f"{top} of {len(test)} test examples ({top / len(test):.0%}) are {label!r}"
        out.append(make("T213", path, share, field="label"))
    missing = [x for x in card.labels or [] if x not in counts]
    if missing:
        out.append(make("T214", path, f"no test example is labelled {', '.join(map(repr, missing))}", field="label"))
    return out


def required_instructions(n_test: int) -> int:
    """Dynamic-SUPERB's review rule: at least max(N/20, 10) distinct instructions for N test examples."""
    return max(math.ceil(n_test / 20), 10)


def _instruction_count(root: Path, card: TaskCard, test: list[Example]) -> list[Finding]:
    seen = {" ".join(ex.instruction.split()).lower() for ex in test if ex.instruction is not None}
    if any(ex.instruction is None for ex in test):
        seen |= {" ".join(text.split()).lower() for text in card.instructions}
    need = required_instructions(len(test))
    if len(seen) >= need:
        return []
    message = f"{len(seen)} distinct instruction(s) for {len(test)} test examples; Dynamic-SUPERB asks for {need}"
    return [make("T137", root / "task.json", message, field="instructions")]
