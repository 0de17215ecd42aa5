"""JSON Schemas of the user-written files, generated from the pydantic models.

The generated files are committed next to this module so editors can validate
``task.json`` as people type (point ``"$schema"`` at ``task.schema.json``); a test
keeps them in sync with the models.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from benchmark.task.card import Example, TaskCard

SCHEMA_DIR = Path(__file__).parent


def json_schema(which: str) -> dict[str, Any]:
    """The JSON Schema of ``task`` (task.json) or ``example`` (one examples.jsonl line)."""
    models: dict[str, type[BaseModel]] = {"task": TaskCard, "example": Example}
    model = models[which]
    schema = model.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def schema_path(which: str) -> Path:
    """Where the committed schema file of ``which`` lives."""
    return SCHEMA_DIR / f"{which}.schema.json"


def write_schemas() -> list[Path]:
    """Regenerate the committed schema files from the models (run after changing the card or the metrics)."""
    paths = []
    for which in ("task", "example"):
        path = schema_path(which)
        path.write_text(json.dumps(json_schema(which), indent=2) + "\n", encoding="utf-8")
        paths.append(path)
    return paths
