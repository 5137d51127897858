"""The filter set shared by every page, the CLI and the exports: from the URL, to SQL parameters."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields, replace
from typing import Iterable, Mapping

from reemploy.contract import AGE_BANDS, EDUCATION_LEVELS, GENDERS, PROGRAM_TYPES

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

    def to_params(self) -> dict:
        """Bound parameters for the queries: NULL where a filter is not set (empty lists match nothing)."""
        params = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                params[f.name] = list(value) if value else None
            else:
                params[f.name] = value
        return params

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

    def describe(self) -> str:
        """A short human sentence for captions and export covers."""
        parts = []
        labels = {
            "districts": "district",
            "sectors": "prior sector",
            "programs": "programme",
            "genders": "gender",
            "age_bands": "age",
            "educations": "education",
        }
        for attr, label in labels.items():
            values = getattr(self, attr)
            if values:
                parts.append(f"{label}: {', '.join(values)}")
        if self.date_from or self.date_to:
            start = self.date_from.isoformat() if self.date_from else "start"
            end = self.date_to.isoformat() if self.date_to else "as_of"
            parts.append(f"enrolled {start} to {end}")
        return "; ".join(parts) if parts else "all enrollments"

    def slug(self, max_length: int = 60) -> str:
        """A file-name-safe summary of the filters (`all` when none)."""
        pieces = []
        for key, values in self.to_query_params().items():
            pieces.append(f"{key}-{'+'.join(values)}")
        text = "_".join(pieces) or "all"
        safe = "".join(ch if ch.isalnum() or ch in "-+_." else "-" for ch in text)
        return safe[:max_length].rstrip("-_+")


@dataclass
class ParsedFilters:
    filters: Filters
    notices: list[str] = field(default_factory=list)


def _clean(value: str) -> str:
    return "".join(ch for ch in value if ch.isprintable()).strip()


def _parse_date(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        return None


def parse_query_params(
    params: Mapping[str, Iterable[str] | str],
    options: Mapping[str, Iterable[str]],
    date_range: tuple[dt.date, dt.date] | None = None,
) -> ParsedFilters:
    """Build Filters from URL query parameters, keeping only known values.

    `options` maps each list attribute (districts, sectors...) to its allowed values; anything else
    is dropped and named in a notice, so a stale or mangled link never fails and never widens into
    a query on user text. Dates outside `date_range` (first enrollment, as_of) are dropped too.
    """
    notices: list[str] = []
    values: dict = {}
    known_keys = set(URL_KEYS) | set(DATE_KEYS)
    for key in params:
        if key not in known_keys:
            notices.append(f"Ignored unknown URL parameter “{_shorten(key)}”.")
    for url_key, attr in URL_KEYS.items():
        if url_key not in params:
            continue
        raw = params[url_key]
        raw_values = [raw] if isinstance(raw, str) else list(raw)
        allowed = list(options.get(attr, ()))
        allowed_set = set(allowed)
        kept, dropped = [], []
        for value in raw_values:
            if value in allowed_set:
                if value not in kept:
                    kept.append(value)
            elif value != "":
                dropped.append(value)
        if dropped:
            shown = ", ".join(f"“{_shorten(v)}”" for v in dropped[:5])
            more = f" and {len(dropped) - 5} more" if len(dropped) > 5 else ""
            notices.append(f"Ignored unknown {url_key} value(s) {shown}{more}.")
        # Keep the catalogue order so the same selection always gives the same cache key.
        values[attr] = tuple(v for v in allowed if v in kept)
    for url_key, attr in DATE_KEYS.items():
        if url_key not in params:
            continue
        raw = params[url_key]
        raw_list = [raw] if isinstance(raw, str) else list(raw)
        raw_value = raw_list[-1] if raw_list else ""
        parsed = _parse_date(raw_value) if raw_value else None
        if raw_value and parsed is None:
            notices.append(f"Ignored invalid {url_key} date “{_shorten(raw_value)}” (use YYYY-MM-DD).")
        elif parsed and date_range and not date_range[0] <= parsed <= date_range[1]:
            notices.append(f"Ignored {url_key} date {parsed}: the data run from {date_range[0]} "
                           f"to {date_range[1]}.")
            parsed = None
        values[attr] = parsed
    filters = Filters(**values)
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        notices.append(
            f"Ignored the period: from {filters.date_from} is after to {filters.date_to}."
        )
        filters = replace(filters, date_from=None, date_to=None)
    return ParsedFilters(filters, notices)


def _shorten(value: str) -> str:
    value = _clean(value)
    return value if len(value) <= 40 else value[:37] + "…"


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
