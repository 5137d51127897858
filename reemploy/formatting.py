"""Numbers as people read them: percentages, intervals, suppression, changes."""

from __future__ import annotations

import math


def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def suppressed_text(min_cell: int, reason: str = "small") -> str:
    """What a suppressed cell shows: why it is hidden (stats.suppress_cells reasons)."""
    if reason == "complementary":
        return "suppressed (would give a smaller group away)"
    return f"suppressed (n < {min_cell})"


def percent(value, digits: int = 1) -> str:
    return "–" if is_missing(value) else f"{value * 100:.{digits}f}%"


def interval(low, high, digits: int = 1) -> str:
    if is_missing(low) or is_missing(high):
        return ""
    return f"95% CI {low * 100:.{digits}f}–{high * 100:.{digits}f}%"


def number(value, digits: int = 0, unit: str = "") -> str:
    if is_missing(value):
        return "–"
    text = f"{value:,.{digits}f}"
    return f"{text} {unit}".strip()


def change(current, previous, kind: str = "rate", unit: str = "") -> str | None:
    """The change against the previous period in the metric's unit (percentage points for rates,
    else `unit`), or None if either is missing."""
    if is_missing(current) or is_missing(previous):
        return None
    difference = (current - previous) * 100 if kind == "rate" else current - previous
    digits = 1 if kind == "rate" else 0
    if round(difference, digits) == 0:
        difference = 0.0  # no "-0.0"
    suffix = " pp" if kind == "rate" else (f" {unit}" if unit else "")
    return f"{difference:+,.{digits}f}{suffix}"


def day(value) -> str:
    """A date as YYYY-MM-DD; "–" when missing (None, NaN, NaT)."""
    if value is None or value != value:
        return "–"
    return f"{value:%Y-%m-%d}"
