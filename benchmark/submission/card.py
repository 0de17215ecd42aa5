"""``submissions/<model>/model.json``: what was evaluated and how to reproduce it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from benchmark.task import safejson

SUBMISSION_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$"


class ModelCard(BaseModel):
    """``submissions/<model>/model.json``: what was evaluated and how to reproduce it."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    name: str = Field(pattern=SUBMISSION_NAME)
    """Submission name (the folder name)."""
    adapter: str
    """Adapter spec string, e.g. ``majority`` or ``probe:fbank``."""
    adapter_args: dict[str, str] = Field(default_factory=dict)
    """Adapter arguments (``--model-arg k=v``)."""
    parameters: int | None = None
    """Parameter count, when known."""
    description: str = ""
    """What the model is."""
    link: str = ""
    """Paper, code or model card."""
    license: str = ""
    """Licence of the model weights."""
    trained_on: list[str] = Field(default_factory=list)
    """Tasks whose data the model saw in training; they count as "seen" on the leaderboard."""
    origin: str = ""
    """For an adapter object run from Python (``evaluate(MyAdapter())``): where its class was defined, and
    whether ``bench run --model`` can load it again (a class defined in a notebook cannot be)."""
    harness_version: str = ""
    """``benchmark.__version__`` that produced the runs."""
    base: str | None = None
    """For a control or robustness run: the main submission it belongs to (same model, same options)."""
    variant: Literal["control-silence", "control-shuffled", "instructions", "constraints"] | None = None
    """What the run changed: audio replaced by silence or by other examples' clips, every instruction variant,
    or the card's constraint sets added to the prompts (instruction following)."""
    backbone: str | None = None
    """The submission of this model's text backbone (e.g. the cascade over the same LLM reading transcripts):
    instruction following is compared against it (forgetting). None: the board's reference system."""
    reference_system: bool = False
    """A reference system, not a model under evaluation: it reads what a model never gets (the task's reference
    audio, or each example's oracle transcript). The board marks its rows as the ceiling and the sanity check
    of the scorers."""
    floor_system: bool = False
    """A floor, not a model under evaluation: a system that does not attempt the task (silence, the input
    returned unchanged). The speech board lists its rows below the models and the sanity gates compare with it."""
    text_view: str | None = None
    """A cascade's text view: ``oracle`` reads the examples' transcripts where the task has them (forgetting's
    reference: the text backbone without recognition errors)."""
    protocol: str = Field(default="generate", pattern="^(generate|rank|rank-calibrated)$")
    """How classification answers were produced: ``generate`` (free text, resolved to a label), ``rank`` (the
    label with the highest log-likelihood after the prompt) or ``rank-calibrated`` (minus its log-likelihood
    without the evidence). Different protocols are different entries."""


def submission_name(spec: str) -> str:
    """A folder-safe submission name derived from an adapter spec or class name (``probe:fbank`` -> ``probe-fbank``).

    It starts with a letter or digit, as ``SUBMISSION_NAME`` asks (``_MyModel`` -> ``MyModel``).
    """
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", spec).strip("-_.+") or "model"


def read_model_card(submission: Path) -> ModelCard:
    """Load ``model.json`` within the JSON limits of ``benchmark.task.safejson``.

    Raises:
        OSError: the file cannot be read.
        ValueError: it is not a valid model card (``ValidationError`` and ``JsonLimitError`` are ValueErrors).
    """
    with (submission / "model.json").open("rb") as f:
        return ModelCard.model_validate(safejson.loads(safejson.read_capped(f, safejson.MAX_JSON_BYTES)))


def write_model_card(submission: Path, card: ModelCard) -> None:
    """Write ``model.json`` with stable formatting."""
    submission.mkdir(parents=True, exist_ok=True)
    text = json.dumps(card.model_dump(), indent=2, ensure_ascii=False) + "\n"
    (submission / "model.json").write_text(text, encoding="utf-8")
