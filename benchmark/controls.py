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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np

from benchmark.task.card import Example
from benchmark.task.folder import Task

CONTROLS = ("silence", "shuffled")
UnitKey = tuple[str, int | None]


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
    seed: int = 0
    """Seed of the derangement and of the choice of N instructions."""

    @property
    def name(self) -> str | None:
        """``control-silence``, ``control-shuffled``, ``instructions``, or None for a plain run."""
        if self.control is not None:
            return f"control-{self.control}"
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

    def instruction_choice(self, task: Task) -> list[int]:
        """Indexes of the card instructions this run uses, in run order (empty without ``--instructions``).

        A task whose test examples all carry their own instruction has none to vary.
        """
        if self.instructions is None or all(e.instruction is not None for e in task.split("test")):
            return []
        n = len(task.card.instructions)
        order = [int(i) for i in np.random.default_rng(_seed(task.name, self.seed)).permutation(n)]
        return sorted(order if self.instructions == "all" else order[: self.instructions])

    def units(self, task: Task, examples: Sequence[Example]) -> list[Example]:
        """The examples to run: one per example, or one per (example, instruction) for ``--instructions``.

        Examples with their own instruction have no variants and are left out of an instructions run.
        """
        if self.instructions is None:
            return list(examples)
        texts = [task.card.instructions[i] for i in self.instruction_choice(task)]
        return [e.model_copy(update={"instruction": t}) for e in examples if e.instruction is None for t in texts]

    def instruction_index(self, task: Task, example: Example) -> int | None:
        """The card instruction a unit runs under (``--instructions`` runs), else None."""
        if self.instructions is None or example.instruction is None:
            return None
        return task.card.instructions.index(example.instruction)

    def key(self, task: Task, example: Example) -> UnitKey:
        """The identity of a unit in the run file (resume skips units already recorded)."""
        return (example.id, self.instruction_index(task, example))

    def audio(self, task: Task, example: Example) -> list[np.ndarray]:
        """The clips the model hears for ``example``."""
        if self.control == "shuffled":
            return task.load_audio(_partner(task, example.id, self.seed))
        clips = task.load_audio(example)
        return [np.zeros_like(c) for c in clips] if self.control == "silence" else clips


PLAIN = Variant()
"""The plain run: every test example once, with its own audio and instruction."""


def variant_of(instruction_indexes: Iterable[int | None]) -> Variant:
    """The variant that made records with these instruction indexes, as far as it shapes their count."""
    used = {i for i in instruction_indexes if i is not None}
    return Variant(instructions=len(used)) if used else PLAIN


def _partner(task: Task, example_id: str, seed: int) -> Example:
    test = task.split("test")
    perm = _test_derangement(task.key, len(test), seed)
    return test[perm[[e.id for e in test].index(example_id)]]


@cache
def _test_derangement(task_key: str, n: int, seed: int) -> tuple[int, ...]:
    return tuple(derangement(n, _seed(task_key, "shuffled", seed)))


def make_variant(control: str | None, instructions: str | int | None, *, needs_audio: bool = True) -> Variant:
    """Parse ``--control`` and ``--instructions`` into a variant.

    Raises:
        VariantError: an unknown control, a bad count, both at once, or a control for a model that hears no audio.
    """
    if control is not None and instructions is not None:
        raise VariantError("--control and --instructions are separate runs: pass one of them")
    if control is not None and control not in CONTROLS:
        raise VariantError(f"--control {control!r}: use silence or shuffled")
    if control is not None and not needs_audio:
        raise VariantError(
            f"--control {control} replaces the audio, but this model reads no audio, so its answers cannot change; "
            "run the control with a model that listens"
        )
    if instructions is None:
        return Variant(control=control)  # type: ignore[arg-type]
    if str(instructions) == "all":
        return Variant(instructions="all")
    try:
        count = int(str(instructions))
    except ValueError:
        count = 0
    if count < 1:
        raise VariantError(f"--instructions {instructions!r}: use all, or a number of instructions (1 or more)")
    return Variant(instructions=count)
