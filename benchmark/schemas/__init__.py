"""JSON Schemas of the user-written files, generated from the pydantic models.

The generated files are committed next to this module so editors can validate
``task.json`` as people type (point ``"$schema"`` at ``task.schema.json``); a test
keeps them in sync with the models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).parent


def json_schema(which: str) -> dict[str, Any]:
    """The JSON Schema of ``task`` (task.json) or ``example`` (one examples.jsonl line)."""
    from pydantic import BaseModel

    from benchmark.task import Example, TaskCard

    models: dict[str, type[BaseModel]] = {"task": TaskCard, "example": Example}
    model = models[which]
    schema = model.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def schema_path(which: str) -> Path:
    """Where the committed schema file of ``which`` lives."""
    return SCHEMA_DIR / f"{which}.schema.json"
