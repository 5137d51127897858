"""The filter set shared by every page, the CLI and the exports: from the URL, to SQL parameters."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields, replace
from typing import Iterable, Mapping

from reemploy import i18n
from reemploy.contract import AGE_BANDS, EDUCATION_LEVELS, GENDERS, PROGRAM_TYPES
from reemploy.i18n import _, N_
from reemploy.labels import level_label, program_label

# URL query parameter -> Filters attribute. The URL names are short because officials share links.
URL_KEYS = {
    "district": "districts",
    "sector": "sectors",
    "program": "programs",
    "gender": "genders",
    "age": "age_bands",
    "education": "educations",
}
DATE_KEYS = {"from": "date_from", "to": "date_to"}
# How a notice names a link's parameter: in English its name in the link, in other languages
# what it is.
KEY_LABELS = {"district": N_("district"), "sector": N_("sector"), "program": N_("program"),
              "gender": N_("gender"), "age": N_("age"), "education": N_("education"),
              "from": N_("from"), "to": N_("to")}


def _key(url_key: str) -> str:
    return _(KEY_LABELS[url_key]) if url_key in KEY_LABELS else url_key

# Filters attribute -> how describe() names it, and how each of its values reads (codes become
# labels; districts and sectors are names from the data, shown as they are).
DESCRIBED = {
    "districts": (N_("district"), str),
    "sectors": (N_("prior sector"), str),
    "programs": (N_("programme"), program_label),
    "genders": (N_("gender"), lambda value: level_label("gender", value)),
    "age_bands": (N_("age"), lambda value: level_label("age_band", value)),
    "educations": (N_("education"), lambda value: level_label("education", value)),
}


@dataclass(frozen=True)
class Filters:
    """Which enrollments to count. An empty tuple means no restriction."""

    districts: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    genders: tuple[str, ...] = ()
    age_bands: tuple[str, ...] = ()
    educations: tuple[str, ...] = ()
    # The districts this session may see (reemploy.access): None is the whole city. Part of the
    # filters so that it is part of every cache key, and bound into every query by to_params.
    # Never in a link (to_query_params): a link cannot carry or widen a scope.
    scope: tuple[str, ...] | None = None

    def to_params(self) -> dict:
        """Bound parameters for the queries: `filters`, one STRUCT with a field per filter (NULL
        where a filter is not set; an empty list matches nothing), which
        queries/views/filtered_outcomes.sql applies, and `scope`.

        The scope is applied here, where every question's parameters are made: the districts
        bound are the district filter within the scope (the scope itself when no district is
        chosen), so no page, download or pack can ask for a district outside it; an empty
        intersection binds an empty list, which matches nothing."""
        values = {}
        for f in fields(self):
            if f.name == "scope":
                continue
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                values[f.name] = list(value) if value else None
            else:
                values[f.name] = value
        if self.scope is not None:
            inside = set(self.scope)
            values["districts"] = ([d for d in self.districts if d in inside] if self.districts
                                    else list(self.scope))
        # The scope as its own parameter too, for the one question that counts every view a
        # user could open (query_set_counts): it keeps the rows inside the scope.
        return {"filters": values, "scope": None if self.scope is None else list(self.scope)}

    def is_empty(self) -> bool:
        return self == Filters()

    def previous_period(self) -> "Filters | None":
        """The same filters over the period of equal length just before this one, if a period is set."""
        if self.date_from is None or self.date_to is None:
            return None
        start, end = self.date_from, self.date_to
        if start.day == 1 and (end + dt.timedelta(days=1)).day == 1:
            # Whole calendar months (a quarter, a year): the same number of months before, so
            # 2001 is compared with 2000 whatever the leap days.
            months = (end.year - start.year) * 12 + end.month - start.month + 1
            index = start.year * 12 + start.month - 1 - months
            previous_start = dt.date(index // 12, index % 12 + 1, 1)
        else:
            previous_start = start - dt.timedelta(days=(end - start).days + 1)
        return replace(self, date_from=previous_start, date_to=start - dt.timedelta(days=1))

    def to_query_params(self) -> dict[str, list[str]]:
        """The URL form, the inverse of parse_query_params."""
        out: dict[str, list[str]] = {}
        for url_key, attr in URL_KEYS.items():
            if getattr(self, attr):
                out[url_key] = list(getattr(self, attr))
        for url_key, attr in DATE_KEYS.items():
            if getattr(self, attr):
                out[url_key] = [getattr(self, attr).isoformat()]
        return out

    def describe(self, quote=str) -> str:
        """A short human sentence for captions and export covers, in the current language, with
        labels for the coded filters ("programme: Skills training; gender: Women"); `quote` is
        applied to each value shown (formatting.markdown_text where it is shown as Markdown)."""
        parts = []
        values_separator = _(", ")
        if self.scope is not None:
            parts.append(_("access: {districts}").format(
                districts=values_separator.join(quote(d) for d in self.scope) or _("no district")))
        for attr, (label, shown) in DESCRIBED.items():
            values = getattr(self, attr)
            if values:
                parts.append(_("{filter}: {values}").format(
                    filter=_(label), values=values_separator.join(quote(shown(v)) for v in values)))
        if self.date_from and self.date_to:
            parts.append(_("enrolled {start} to {end}").format(
                start=i18n.date(self.date_from), end=i18n.date(self.date_to)))
        elif self.date_from:
            parts.append(_("enrolled from {start} to the data's cut-off date").format(
                start=i18n.date(self.date_from)))
        elif self.date_to:
            parts.append(_("enrolled up to {end}").format(end=i18n.date(self.date_to)))
        return _("; ").join(parts) if parts else _("all enrollments")

    def slug(self, max_length: int = 60) -> str:
        """A file-name-safe summary of the filters (`all` when none)."""
        pieces = []
        for key, values in self.to_query_params().items():
            pieces.append(f"{key}-{'+'.join(values)}")
        if self.scope is not None and not self.districts:
            pieces.insert(0, f"access-{'+'.join(self.scope) or 'none'}")
        text = "_".join(pieces) or "all"
        safe = "".join(ch if ch.isalnum() or ch in "-+_." else "-" for ch in text)
        return safe[:max_length].rstrip("-_+")


@dataclass
class ParsedFilters:
    filters: Filters
    notices: list[str] = field(default_factory=list)


SHOWN_VALUES = 5


def _shorten(value: str, limit: int = 40) -> str:
    """A piece of a link as a notice shows it: in a code span, so Markdown, HTML, LaTeX or
    Streamlit's :red[...] in a link are printed, never rendered (a notice must not turn a link's
    text into a clickable link of its own); invisible and control characters as escapes
    (\\x00, \\u202e); at most `limit` characters."""
    text = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in value)
    text = text if len(text) <= limit else text[: limit - 3] + "…"
    return "`" + text.replace("`", "\u02cb") + "`" if text else _("(empty)")


def _listed(values: list[str]) -> str:
    """Up to SHOWN_VALUES distinct values, then how many more."""
    distinct = list(dict.fromkeys(values))
    shown = _(", ").join(_shorten(v) for v in distinct[:SHOWN_VALUES])
    more = len(distinct) - SHOWN_VALUES
    if more <= 0:
        return shown
    return _("{values} and {count} more").format(values=shown, count=i18n.number(more))


def _parse_date(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        return None


def _values(raw: Iterable[str] | str) -> list[str]:
    return [raw] if isinstance(raw, str) else list(raw)


def _link_date(url_key: str, raw_values: list[str], date_range, notices: list[str]) -> dt.date | None:
    # A link takes one date per key. A repeated key (a link edited by hand, a parameter appended
    # twice) keeps its last valid date, as Streamlit's st.query_params[key] would, and names the
    # others; invalid or out-of-range values are never used.
    invalid, outside, valid = [], [], []
    for raw_value in raw_values:
        if raw_value == "":
            continue
        parsed = _parse_date(raw_value)
        if parsed is None:
            invalid.append(raw_value)
        elif date_range and not date_range[0] <= parsed <= date_range[1]:
            outside.append(parsed)
        elif parsed not in valid:
            valid.append(parsed)
    if invalid:
        notices.append(_("Ignored invalid {key} date(s) {values} (use YYYY-MM-DD).").format(
            key=_key(url_key), values=_listed(invalid)))
    if outside:
        dates = _(", ").join(i18n.date(d) for d in dict.fromkeys(outside))
        notices.append(_("Ignored {key} date(s) {dates}: the data run from {first} to "
                         "{last}.").format(key=_key(url_key), dates=dates, first=i18n.date(date_range[0]),
                                           last=i18n.date(date_range[1])))
    if len(valid) > 1:
        others = _(", ").join(i18n.date(d) for d in valid[:-1])
        notices.append(_("A link takes one {key} date: used {used}, ignored {others}.").format(
            key=_key(url_key), used=i18n.date(valid[-1]), others=others))
    return valid[-1] if valid else None


def parse_query_params(
    params: Mapping[str, Iterable[str] | str],
    options: Mapping[str, Iterable[str]],
    date_range: tuple[dt.date, dt.date] | None = None,
) -> ParsedFilters:
    """Build Filters from URL query parameters, keeping only known values.

    `options` maps each list attribute (districts, sectors...) to its allowed values; anything else
    is dropped and named in a notice, so a stale or mangled link never fails and never widens into
    a query on user text. Dates outside `date_range` (first enrollment, as_of) are dropped too.
    Whatever a link holds, the notices stay few and short: one per parameter at most, a few
    values each, every value cut to 40 characters and shown verbatim, never rendered.
    """
    notices: list[str] = []
    values: dict = {}
    known_keys = set(URL_KEYS) | set(DATE_KEYS)
    unknown = [key for key in params if key not in known_keys]
    if unknown:
        notices.append(_("Ignored unknown URL parameter(s) {values}.").format(
            values=_listed(unknown)))
    for url_key, attr in URL_KEYS.items():
        if url_key not in params:
            continue
        allowed = list(options.get(attr, ()))
        allowed_set = set(allowed)
        raw_values = _values(params[url_key])
        kept = {value for value in raw_values if value in allowed_set}
        dropped = [value for value in raw_values if value not in allowed_set and value != ""]
        if dropped:
            notices.append(_("Ignored unknown {key} value(s) {values}.").format(
                key=_key(url_key), values=_listed(dropped)))
        # Keep the catalogue order so the same selection always gives the same cache key.
        values[attr] = tuple(v for v in allowed if v in kept)
    for url_key, attr in DATE_KEYS.items():
        if url_key in params:
            values[attr] = _link_date(url_key, _values(params[url_key]), date_range, notices)
    filters = Filters(**values)
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        notices.append(_("Ignored the period: from {start} is after to {end}.").format(
            start=i18n.date(filters.date_from), end=i18n.date(filters.date_to)))
        filters = replace(filters, date_from=None, date_to=None)
    return ParsedFilters(filters, notices)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """The first day of every month from first's month to last's, in order."""
    months, month = [], month_start(first)
    while month <= last:
        months.append(month)
        month = month_end(month) + dt.timedelta(days=1)
    return months


def _months_later(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after day's month (before it when negative)."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class QuickPeriod:
    label: str
    date_from: dt.date
    date_to: dt.date


def quick_periods(first: dt.date, as_of: dt.date) -> list[QuickPeriod]:
    """The periods a review meeting asks for, in whole months the extract has observed to their
    end (as_of is the last day observed): the last full quarter, the last 12 full months, and
    each calendar year, the current one to date. Periods before the first enrollment are left
    out."""
    last_full = as_of if month_end(as_of) == as_of else month_start(as_of) - dt.timedelta(days=1)
    periods = []
    quarter_end = month_end(_months_later(last_full, -(last_full.month % 3)))
    quarter_start = month_start(_months_later(quarter_end, -2))
    if quarter_end >= first:
        quarter = (quarter_end.month - 1) // 3 + 1
        periods.append(QuickPeriod(
            _("Last full quarter: {quarter}").format(quarter=i18n.quarter(quarter_end.year, quarter)),
            quarter_start, quarter_end))
    year_start = month_start(_months_later(last_full, -11))
    if last_full >= first:
        periods.append(QuickPeriod(
            _("Last 12 full months: to {month}").format(month=i18n.month(last_full)),
            year_start, last_full))
    for year in range(as_of.year, first.year - 1, -1):
        end = min(dt.date(year, 12, 31), as_of)
        label = (_("{year}").format(year=year) if end == dt.date(year, 12, 31) else
                 _("{year} to {date}").format(year=year, date=i18n.date(end)))
        periods.append(QuickPeriod(label, dt.date(year, 1, 1), end))
    return periods


def filter_options_from(catalogue: Mapping[str, Iterable[str]]) -> dict[str, tuple[str, ...]]:
    """Allowed values per filter: the data's districts and sectors plus the fixed code lists."""
    return {
        "districts": tuple(catalogue.get("districts", ())),
        "sectors": tuple(catalogue.get("sectors", ())),
        "programs": PROGRAM_TYPES,
        "genders": GENDERS,
        "age_bands": AGE_BANDS + ("unknown",),
        "educations": EDUCATION_LEVELS,
    }
