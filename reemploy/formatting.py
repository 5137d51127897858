"""Numbers as people read them: percentages, intervals, suppression, changes."""

from __future__ import annotations

import html
import math


def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def suppressed_text(min_cell: int, reason: str = "small") -> str:
    """What a suppressed cell shows: why it is hidden (stats.suppress_cells reasons)."""
    if reason == "complementary":
        return "suppressed (would give a smaller group away)"
    if reason == "extreme":
        return "suppressed (would tell everyone's outcome in a small group)"
    if reason == "differencing":
        return "suppressed (another view minus this one would give a smaller group away)"
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


# ASCII punctuation CommonMark lets a backslash escape: with it no link, emphasis, heading, list,
# table, HTML or code can start from a name. `$` (Streamlit's math) is among them.
_MARKDOWN_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
# A word joiner after each colon: Streamlit turns `:name:` (emoji), `:material/icon:` and
# `:red[...]` into icons and colours from the text *after* backslash escapes are resolved, so an
# escaped colon is not enough; the invisible joiner breaks those patterns and keeps the name legible.
_WORD_JOINER = "\u2060"


def markdown_text(value) -> str:
    """A data-derived string (district, sector, filter values) made inert for Streamlit Markdown
    (st.caption, st.info, st.markdown...): it is shown as written, never as a link, formula,
    colour, icon or emphasis (issue 13)."""
    out = []
    for ch in str(value):
        if ch in _MARKDOWN_PUNCTUATION:
            out.append("\\" + ch)
            if ch == ":":
                out.append(_WORD_JOINER)
        elif ch in "\r\n":
            out.append(" ")  # a line break could start a heading or a list
        else:
            out.append(ch)
    return "".join(out)


def plotly_text(value) -> str:
    """A data-derived string made inert for Plotly's pseudo-HTML (titles, tick labels, hover and
    Sankey labels render <a href>, <b>, <br>...): `<`, `>` and `&` as entities, which Plotly shows
    as the characters."""
    return html.escape(str(value), quote=False)


def plotly_unescape(value: str) -> str:
    """The data string behind a plotly_text (what a chart click hands back)."""
    return html.unescape(value)
