"""What the command modules share: the one-line error exit and option enums."""

from __future__ import annotations

from enum import Enum

import typer


class OutputFormat(str, Enum):
    """How ``bench validate`` prints findings."""

    text = "text"
    json = "json"
    github = "github"


class SchemaName(str, Enum):
    """Which file's JSON Schema to print."""

    task = "task"
    example = "example"


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``error: message`` on stderr and return the exit to raise (a user mistake, never a traceback)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)
