"""Numbers as people read them: percentages, intervals, suppression, changes.

Every text here goes through gettext (reemploy.i18n) and every number through its Babel
formatting, so a table, a card or a sentence reads in the language of the session. One interval
format for the whole project (issue 16):

- a rate: "95% CI 25.8–28.6%" (interval(low, high));
- a difference of rates: "95% CI -2.6 to +1.3 pp" (interval(low, high, kind="difference"));
- a difference in days or yuan: "95% CI -12 to +3 days", "95% CI -120 to +40 yuan";
- a value with its interval: "27.1% (95% CI 25.8–28.6%)" (with_interval).

A change that rounds to zero is written without a sign ("0.0 pp"): `unchanged` says so without
reading the text.
"""

from __future__ import annotations

import html
import math

from reemploy import i18n
from reemploy.i18n import _, N_

MISSING = "–"

# Units a number can carry -> how a value in that unit reads ("{value} yuan" / "{value}元").
UNIT_TEMPLATES = {
    "yuan": N_("{value} yuan"),
    "days": N_("{value} days"),
    "pp": N_("{value} pp"),
    "people": N_("{value} people"),
}
# The interval kinds: (digits, signed ends, template).
INTERVAL_KINDS = {
    # A rate (a share 0..1), as percentages.
    "rate": (1, False, N_("95% CI {low}–{high}%")),
    # A difference of two rates (shares), in percentage points.
    "difference": (1, True, N_("95% CI {low} to {high} pp")),
    # A difference in days, or in yuan.
    "days": (0, True, N_("95% CI {low} to {high} days")),
    "yuan": (0, True, N_("95% CI {low} to {high} yuan")),
    # A level in days or yuan (a median and its interval).
    "days_level": (0, False, N_("95% CI {low}–{high} days")),
    "yuan_level": (0, False, N_("95% CI {low}–{high} yuan")),
}
# Kinds whose values are shares, written as percentages or percentage points.
_SHARES = {"rate", "difference"}


def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def suppressed_text(min_cell: int, reason: str = "small") -> str:
    """What a suppressed cell shows: why it is hidden (stats.suppress_cells reasons)."""
    if reason == "complementary":
        return _("suppressed (would give a smaller group away)")
    if reason == "extreme":
        return _("suppressed (would tell everyone's outcome in a small group)")
    if reason == "differencing":
        return _("suppressed (another view minus this one would give a smaller group away)")
    return _("suppressed (n < {min_cell})").format(min_cell=i18n.number(min_cell))


def unreliable_text(threshold: int) -> str:
    """The flag beside a figure with few people in its denominator."""
    return _("unreliable (n < {threshold})").format(threshold=i18n.number(threshold))


def n_text(n) -> str:
    """"n = 1,234" with non-breaking spaces, so a table cell never wraps between "n =" and the
    number; "" when missing."""
    if is_missing(n):
        return ""
    return _("n\u00a0=\u00a0{n}").format(n=i18n.number(int(n)))


def percent(value, digits: int = 1) -> str:
    return MISSING if is_missing(value) else i18n.percent(value, digits)


def _unit(text: str, unit: str) -> str:
    if not unit:
        return text
    template = UNIT_TEMPLATES.get(unit)
    return _(template).format(value=text) if template else f"{text} {unit}"


def number(value, digits: int = 0, unit: str = "") -> str:
    """A number grouped for the language, with its unit ("1,234 yuan" / "1,234元")."""
    if is_missing(value):
        return MISSING
    return _unit(i18n.number(value, digits), unit)


def days(value) -> str:
    """A number of days ("123 days" / "123天")."""
    return number(value, 0, "days")


def ratio(value, digits: int = 2) -> str:
    """A ratio such as a wage replacement (0.88)."""
    return MISSING if is_missing(value) else i18n.number(value, digits)


def points(value, digits: int = 1) -> str:
    """A difference of two shares in percentage points, signed ("+1.5 pp", "0.0 pp");
    `value` is the difference of the shares (0.015)."""
    if is_missing(value):
        return MISSING
    return _unit(i18n.signed(value * 100, digits), "pp")


def signed(value, digits: int = 0, unit: str = "") -> str:
    """A change in `unit` ("days", "yuan" or none), signed; no sign when it rounds to zero."""
    if is_missing(value):
        return MISSING
    return _unit(i18n.signed(value, digits), unit)


def interval(low, high, digits: int | None = None, kind: str = "rate") -> str:
    """The 95% interval in the project's one format (module docstring); "" when an end is
    missing. `kind`: "rate" (shares, shown as %), "difference" (of shares, in pp), "days" and
    "yuan" (differences), "days_level" and "yuan_level" (a median's interval)."""
    if is_missing(low) or is_missing(high):
        return ""
    default_digits, signs, template = INTERVAL_KINDS[kind]
    digits = default_digits if digits is None else digits
    scale = 100 if kind in _SHARES else 1
    write = i18n.signed if signs else i18n.number
    return _(template).format(low=write(low * scale, digits), high=write(high * scale, digits))


def with_interval(value_text: str, interval_text: str) -> str:
    """A value followed by its interval: "27.1% (95% CI 25.8–28.6%)"; the value alone when
    there is no interval."""
    if not interval_text:
        return value_text
    return _("{value} ({interval})").format(value=value_text, interval=interval_text)


def difference_change(current, previous, kind: str = "rate") -> float | None:
    """The change as a number in the unit it is shown in (percentage points for rates), rounded
    as shown: 0.0 exactly when the text says no change; None if either is missing."""
    if is_missing(current) or is_missing(previous):
        return None
    difference = (current - previous) * 100 if kind == "rate" else current - previous
    digits = 1 if kind == "rate" else 0
    rounded = round(difference, digits)
    return 0.0 if rounded == 0 else rounded


def unchanged(current, previous, kind: str = "rate") -> bool:
    """True when change() would read "0.0 pp" / "0 days": no arrow, no colour for no change."""
    return difference_change(current, previous, kind) == 0.0


def change(current, previous, kind: str = "rate", unit: str = "") -> str | None:
    """The change against the previous period in the metric's unit (percentage points for rates,
    else `unit`), or None if either is missing. A change that rounds to zero has no sign
    ("0.0 pp", "0 days"); see `unchanged`."""
    if is_missing(current) or is_missing(previous):
        return None
    difference = (current - previous) * 100 if kind == "rate" else current - previous
    digits = 1 if kind == "rate" else 0
    return _unit(i18n.signed(difference, digits), "pp" if kind == "rate" else unit)


def day(value) -> str:
    """A date as the language writes it (2002-12-31 / 2002年12月31日); "–" when missing (None,
    NaN, NaT)."""
    if value is None or value != value:
        return MISSING
    return i18n.date(value)


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
