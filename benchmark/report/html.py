"""HTML text helpers shared by the site's pages: escaping (submissions are untrusted) and number formatting."""

from __future__ import annotations

import math
from html import escape
from typing import Any


def esc(value: object) -> str:
    """``value`` as text safe inside HTML elements and attribute values."""
    return escape(str(value), quote=True)


def num(value: Any, digits: int = 3) -> str:
    """A number for a table cell: fixed digits for floats, a dash for missing or non-finite values."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)
