"""HTML text helpers shared by the site's pages: escaping (submissions are untrusted) and number formatting."""

from __future__ import annotations

import math
import re
from html import escape
from typing import Any

_SPECIAL = re.compile(r"[&<>\"']")


def esc(value: object) -> str:
    """``value`` as text safe inside HTML elements and attribute values."""
    text = str(value)
    # Most cells are numbers and names: one scan finds nothing to replace (escape runs five replaces).
    return escape(text, quote=True) if _SPECIAL.search(text) else text


def num(value: Any, digits: int = 3) -> str:
    """A number for a table cell: fixed digits for floats, a dash for missing or non-finite values."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return "%.*f" % (digits, value) if isinstance(value, float) else str(value)  # noqa: UP031 (faster than format)
