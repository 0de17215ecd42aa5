"""The shipped task suite: a seeded generator that writes every task folder under ``tasks/``.

Run ``bench generate-suite`` (needs Debian's ``espeak-ng``). Each task draws its
examples from a ``numpy`` generator seeded by the task name, so re-running the
generator reproduces the same ids, labels and audio. Every label is a property
of the audio itself: the voice, words (or what they mean), rate or pitch espeak-ng
was asked for, or the exact signal that was synthesised.

- ``synth``: the signals (espeak-ng speech, numpy tones and noise, degradations);
- ``spec``: ``SuiteTask``, ``Item``, the shared voices, words and instructions, seeded drawing, and
  instruction following: library constraint sets a card opts in to (``opt_in``) and the format
  requests native tasks speak (``Request``), whose constraints their examples carry;
- ``content``, ``speaker``, ``semantics``, ``paralinguistics``, ``degradation``, ``audio``, ``music``:
  one module per leaderboard dimension, each maker next to the tasks it makes, listed in ``TASKS``;
- ``speech_out``: the tasks whose answer is audio (``task_type: audio``) across dimensions: text-to-speech,
  voice cloning and conversion, enhancement, two-speaker separation, spoken answers; their examples carry
  references (``spec.Answer``) and share a voice bank of distractor prompts;
- ``build``: ``SUITE`` in order, and ``write_task`` / ``generate`` through the shared ``TaskWriter``.
"""

from benchmark.suite.build import SUITE, generate, write_task
from benchmark.suite.spec import Item, SuiteTask
from benchmark.suite.synth import SynthError

__all__ = ["SUITE", "Item", "SuiteTask", "SynthError", "generate", "write_task"]
