r"""Bounded reading of untrusted JSON: task.json, examples.jsonl, run files, model.json.

Every file a contributor or a submitter hands in is parsed here, with limits, so
that crafted input is a one-line error instead of a crash or an exhausted machine:

- a line (or a whole JSON file) longer than its cap is refused before it is parsed;
- nesting deeper than :data:`MAX_DEPTH` is refused (Python's parser would raise
  ``RecursionError`` a thousand levels down);
- integers of more than :data:`MAX_INT_DIGITS` digits and numbers that overflow to
  infinity are refused (``int()`` raises past 4,300 digits, ``float()`` overflows);
- strings must be valid Unicode (a lone surrogate such as ``"\ud800"`` parses, but
  cannot be written back as UTF-8).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import IO, Any

MAX_DEPTH = 32
"""Deepest nesting accepted; every file of the harness needs at most 4 levels."""
MAX_INT_DIGITS = 18
"""Longest integer accepted (digits); larger values cannot be scored as numbers anyway."""
MAX_JSON_BYTES = 1 << 20
"""Largest task.json or model.json read (1 MiB)."""
MAX_EXAMPLE_LINE_BYTES = 1 << 16
"""Longest examples.jsonl line read (64 KiB: an instruction is at most 1000 characters)."""
MAX_RECORD_LINE_BYTES = 1 << 22
"""Longest run-file line read (4 MiB: a record holds one raw model output)."""


class JsonLimitError(ValueError):
    """Input that is not JSON this harness reads, or that breaks a limit; the message says which."""


def _bounded_int(text: str) -> int:
    digits = text.lstrip("-")
    if len(digits) > MAX_INT_DIGITS:
        raise JsonLimitError(f"integer of {len(digits)} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonLimitError(f"number {text[:20]} is out of range")
    return value


def _no_constant(text: str) -> float:
    raise JsonLimitError(f"{text} is not a JSON number")


def _problem_in(value: Any) -> str | None:
    """The first limit ``value`` breaks (depth, invalid Unicode), walked without recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested more than {MAX_DEPTH} levels deep"
        if isinstance(item, str):
            problem = _unicode_problem(item)
            if problem:
                return problem
        elif isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return None


def _unicode_problem(text: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"holds {text[exc.start]!r}, a lone surrogate that is not valid Unicode"
    return None


def _plain(text: str) -> bool:
    """Whether no value parsed from ``text`` can break a limit: valid Unicode, no escapes, too few brackets to nest."""
    return "\\u" not in text and text.count("[") + text.count("{") < MAX_DEPTH and _unicode_problem(text) is None


_DECODER = json.JSONDecoder(parse_int=_bounded_int, parse_float=_finite_float, parse_constant=_no_constant)
"""Built once: ``json.loads`` with hooks builds a decoder per call, which costs more than parsing a line."""


def _decode(text: str | bytes) -> Any:
    """``json.loads(text, ...)`` with the hooks above, through the shared decoder (it keeps no state between calls)."""
    if isinstance(text, str):
        if text.startswith("\ufeff"):
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    else:
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    return _DECODER.decode(text)


def loads(text: str | bytes) -> Any:
    """Parse JSON within the limits above.

    Raises:
        JsonLimitError: invalid JSON (``json.JSONDecodeError`` is re-raised as is, so
            its line and column stay available) or a broken limit.
    """
    try:
        value = _decode(text)
    except RecursionError:
        raise JsonLimitError(f"nested more than {MAX_DEPTH} levels deep") from None
    except json.JSONDecodeError:
        raise
    except UnicodeDecodeError as exc:
        raise JsonLimitError(f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except ValueError as exc:
        raise JsonLimitError(str(exc)) from None
    if isinstance(text, str) and _plain(text):
        return value  # the walk below could find nothing
    problem = _problem_in(value)
    if problem:
        raise JsonLimitError(problem)
    return value


def loads_line(line: bytes | None, limit: int) -> Any:
    """Parse one line from :func:`bounded_lines` (None: the line was over ``limit`` bytes).

    Raises:
        JsonLimitError: the line was too long or breaks a limit; ``json.JSONDecodeError``
            and ``UnicodeDecodeError`` pass through.
    """
    if line is None:
        raise JsonLimitError(f"line is over {limit} bytes")
    return loads(line.decode("utf-8"))


def read_capped(f: IO[bytes], limit: int) -> bytes:
    """Read a whole file, refusing one over ``limit`` bytes without reading past the cap.

    Raises:
        JsonLimitError: the file is larger than ``limit``.
    """
    data = f.read(limit + 1)
    if len(data) > limit:
        raise JsonLimitError(f"is over {limit} bytes")
    return data


def bounded_lines(f: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | None]]:
    """``(lineno, line)`` for each line; ``line`` is None when it is longer than ``limit`` (skipped unread)."""
    lineno = 0
    while True:
        line = f.readline(limit + 1)
        if not line:
            return
        lineno += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = f.readline(1 << 20)  # skip the rest of the long line in bounded pieces
            yield lineno, None
            continue
        yield lineno, line
