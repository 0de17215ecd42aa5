"""Run variants: audio-reliance controls (``--control``) and instruction robustness (``--instructions``).

A variant changes what the model is given, never how it is scored, and is stored as
its own submission next to the main one (``submissions/<model>+control-silence/``,
``+control-shuffled/``, ``+instructions/``) whose model.json names the main one in
``base``. The report reads those links:

- ``silence``: each clip becomes zeros of the same length;
- ``shuffled``: each test example gets the clips of another test example of the same
  task (a seeded derangement, so no example keeps its own audio; clip k of a
  multi-clip example becomes clip k of its partner);
- ``--instructions all`` or ``N``: each test example runs under every instruction of
  its card, or under the same N seeded ones; a record carries ``instruction_index``
  and resume works per (example, instruction).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np

from benchmark.scoring.constraint_args import Constraint
from benchmark.scoring.constraint_library import ResolvedSet, resolve_set
from benchmark.task.card import Example
from benchmark.task.folder import Task

CONTROLS = ("silence", "shuffled")
UnitKey = tuple[str, int | None, int | None]
"""A unit's identity in its run file: example id, instruction index, constraint set index."""


class VariantError(Exception):
    """A variant that cannot run as asked (bad option, or a task or model it does not fit)."""


def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:8], "big")


def derangement(n: int, seed: int) -> list[int]:
    """A seeded permutation of ``range(n)`` with no fixed point (Sattolo's algorithm: one n-cycle)."""
    rng = np.random.default_rng(seed)
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        j = int(rng.integers(0, i))
        perm[i], perm[j] = perm[j], perm[i]
    return perm


@dataclass(frozen=True)
class Variant:
    """What a run changes about each test example; the default changes nothing."""

    control: Literal["silence", "shuffled"] | None = None
    """Replace the audio with silence of the same length, or with another example's clips."""
    instructions: int | Literal["all"] | None = None
    """Run every example under all of its card's instructions, or under N seeded ones."""
    constraints: int | Literal["all"] | None = None
    """Run every example under all of its card's constraint sets, or under N seeded ones (instruction following)."""
    seed: int = 0
    """Seed of the derangement and of the choice of N instructions."""

    @property
    def name(self) -> str | None:
        """``control-silence``, ``control-shuffled``, ``instructions``, or None for a plain run."""
        if self.control is not None:
            return f"control-{self.control}"
        if self.constraints is not None:
            return "constraints"
        return "instructions" if self.instructions is not None else None

    def submission(self, base: str) -> str:
        """The submission folder name of this variant of ``base``."""
        return f"{base}+{self.name}" if self.name else base

    def card_fields(self, base: str) -> dict[str, str]:
        """The model.json fields that link a variant to its main submission."""
        return {"base": base, "variant": self.name} if self.name else {}

    def problem(self, task: Task) -> str | None:
        """Why this variant cannot run on ``task``, or None."""
        if self.instructions is not None and not self.instruction_choice(task):
            return (
                f"{task.key}: every test example carries its own instruction, so there are no instruction "
                "variants to run; leave the task out of --instructions runs"
            )
        return None

    def skip(self, task: Task) -> str | None:
        """Why this variant has nothing to run on ``task`` (the task is skipped, not refused), or None."""
        if self.constraints is None:
            return None
        if not task.card.constraints:
            return "its card opts in to no constraint sets (task.json 'constraints')"
        if all(e.constraints is not None for e in task.split("test")):
            return "every test example carries its own constraints (they are checked in the plain run)"
        return None

    def instruction_choice(self, task: Task) -> list[int]:
        """Indexes of the card instructions this run uses, in run order (empty without ``--instructions``).

        A task whose test examples all carry their own instruction has none to vary.
        """
        if self.instructions is None or all(e.instruction is not None for e in task.split("test")):
            return []
        n = len(task.card.instructions)
        order = [int(i) for i in np.random.default_rng(_seed(task.name, self.seed)).permutation(n)]
        return sorted(order if self.instructions == "all" else order[: self.instructions])

    def constraint_choice(self, task: Task) -> list[int]:
        """Indexes of the card's constraint sets this run uses (empty without ``--constraints``)."""
        n = len(task.card.constraints or [])
        if self.constraints is None or not n:
            return []
        order = [int(i) for i in np.random.default_rng(_seed(task.name, "constraints", self.seed)).permutation(n)]
        return sorted(order if self.constraints == "all" else order[: self.constraints])

    def units(self, task: Task, examples: Sequence[Example]) -> list[Example]:
        """The examples to run: one each, or one per (example, instruction or constraint set) in such runs.

        Examples with their own instruction have no instruction variants, and examples with their own
        constraints no constraint variants: both are left out of such runs.
        """
        if self.constraints is not None:
            return self._constrained(task, examples)
        if self.instructions is None:
            return list(examples)
        texts = [task.card.instructions[i] for i in self.instruction_choice(task)]
        return [e.model_copy(update={"instruction": t}) for e in examples if e.instruction is None for t in texts]

    def _constrained(self, task: Task, examples: Sequence[Example]) -> list[Example]:
        sets = _resolved_sets(task)
        out = []
        for e in examples:
            if e.constraints is not None:
                continue
            base = task.instruction_for(e)
            for i in self.constraint_choice(task):
                # One seeded phrasing per constraint of the set: every run of this example reads the same prompt.
                rng = np.random.default_rng(_seed(task.name, e.id, i, self.seed))
                said = [phrasings[int(rng.integers(len(phrasings)))] for phrasings in sets[i].phrasings]
                constraints = [c.model_dump() for c in sets[i].constraints]
                out.append(e.model_copy(update={"instruction": " ".join([base, *said]), "constraints": constraints}))
        return out

    def constraint_index(self, task: Task, example: Example) -> int | None:
        """The card constraint set a unit's prompt carries (``--constraints`` runs), else None."""
        if self.constraints is None or not example.constraints:
            return None
        carried = tuple(Constraint.model_validate(c) for c in example.constraints)
        return next(i for i, s in enumerate(_resolved_sets(task)) if s.constraints == carried)

    def instruction_index(self, task: Task, example: Example) -> int | None:
        """The card instruction a unit runs under (``--instructions`` runs), else None."""
        if self.instructions is None or example.instruction is None:
            return None
        return task.card.instructions.index(example.instruction)

    def key(self, task: Task, example: Example) -> UnitKey:
        """The identity of a unit in the run file (resume skips units already recorded)."""
        return (example.id, self.instruction_index(task, example), self.constraint_index(task, example))

    def audio(self, task: Task, example: Example) -> list[np.ndarray]:
        """The clips the model hears for ``example``."""
        if self.control == "shuffled":
            return task.load_audio(_partner(task, example.id, self.seed))
        clips = task.load_audio(example)
        return [np.zeros_like(c) for c in clips] if self.control == "silence" else clips


PLAIN = Variant()
"""The plain run: every test example once, with its own audio and instruction."""


def variant_of(units: Iterable[UnitKey]) -> Variant:
    """The variant that made records with these identities (``Record.unit``), as far as it shapes their count."""
    units = list(units)
    constraint_sets = {c for _, _, c in units if c is not None}
    if constraint_sets:
        return Variant(constraints=len(constraint_sets))
    used = {i for _, i, _ in units if i is not None}
    return Variant(instructions=len(used)) if used else PLAIN


def _resolved_sets(task: Task) -> tuple[ResolvedSet, ...]:
    """The card's constraint sets as families, arguments and rendered phrasings (resolved once per card)."""
    return _resolve_sets(json.dumps(task.card.constraints or [], sort_keys=True))


@cache
def _resolve_sets(constraints_json: str) -> tuple[ResolvedSet, ...]:
    return tuple(resolve_set(entry) for entry in json.loads(constraints_json))


def _partner(task: Task, example_id: str, seed: int) -> Example:
    test = task.split("test")
    perm = _test_derangement(task.key, len(test), seed)
    return test[perm[[e.id for e in test].index(example_id)]]


@cache
def _test_derangement(task_key: str, n: int, seed: int) -> tuple[int, ...]:
    return tuple(derangement(n, _seed(task_key, "shuffled", seed)))


def _count(option: str, value: str | int) -> int | Literal["all"]:
    if str(value) == "all":
        return "all"
    try:
        count = int(str(value))
    except ValueError:
        count = 0
    if count < 1:
        raise VariantError(f"{option} {value!r}: use all, or a number (1 or more)")
    return count


def make_variant(
    control: str | None,
    instructions: str | int | None,
    constraints: str | int | None = None,
    *,
    needs_audio: bool = True,
) -> Variant:
    """Parse ``--control``, ``--instructions`` and ``--constraints`` into a variant.

    Raises:
        VariantError: an unknown control, a bad count, two at once, or a control for a model that hears no audio.
    """
    if sum(x is not None for x in (control, instructions, constraints)) > 1:
        raise VariantError("--control, --instructions and --constraints are separate runs: pass one of them")
    if constraints is not None:
        return Variant(constraints=_count("--constraints", constraints))
    if control is not None and control not in CONTROLS:
        raise VariantError(f"--control {control!r}: use silence or shuffled")
    if control is not None and not needs_audio:
        raise VariantError(
            f"--control {control} replaces the audio, but this model reads no audio, so its answers cannot change; "
            "run the control with a model that listens"
        )
    if instructions is None:
        return Variant(control=control)  # type: ignore[arg-type]
    return Variant(instructions=_count("--instructions", instructions))
