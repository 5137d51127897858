"""Disclosure control across views: a query-set-size rule that also tests complements.

Small-cell suppression inside one table (reemploy.stats.suppress and complementary_suppress)
cannot stop an official from subtracting two *views*: the Overview filtered to a district minus
that district's row on Districts filtered to a sector gives the district's other sectors, however
few people they are (issue 13). The rule here, the withholding alternative to the ABS
TableBuilder's perturbation (data/README.md, "Threat model"), is checked before anything is shown
or leaves the service:

* **Complements within every parent.** A view, or a cell of a breakdown (a view with one more
  condition), is withheld for a programme when dropping any of its filters (one or several)
  gives a view that holds between 1 and K-1 more people, for any denominator the figures use
  (enrolled, exited, followed 90, 180 and 365 days, first jobs). Two views a user can open then
  never differ by a small group.
* **Every selected value.** With two or more values of one filter selected, each value's share of
  the view, and the view without it, must hold 0 or at least K people: views on nested
  selections ({machinery, coal} and {machinery}) never differ by a small group either.

Figures stay exact: a view either shows its real numbers or is withheld with a notice saying
why. K is the suppression threshold (REEMPLOY_MIN_CELL, floor in reemploy.ui.min_cell).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import duckdb
import numpy as np
import pandas as pd

from reemploy import i18n
from reemploy.cache import answer
from reemploy.db import query_params, run_query
from reemploy.extracts import Extract
from reemploy.filters import Filters
from reemploy.i18n import _, N_
from reemploy.labels import level_label, program_label

# Filter attribute -> the query_set_counts column holding the selected value an enrollment matches.
DIMENSIONS = {
    "districts": "selected_district",
    "sectors": "selected_sector",
    "genders": "selected_gender",
    "age_bands": "selected_age_band",
    "educations": "selected_education",
}
PERIOD = "period"
LABELS = {"districts": N_("district"), "sectors": N_("prior sector"), "genders": N_("gender"),
          "age_bands": N_("age band"), "educations": N_("education"), PERIOD: N_("enrollment period")}
# Filter attribute -> the characteristic whose level labels its values take (the others are names
# from the data, shown as they are).
LEVELS = {"genders": "gender", "age_bands": "age_band", "educations": "education"}
# Every denominator a figure of a view uses (the numerators are within them).
COUNTS = ("enrolled_count", "exited_count", "followed_90d_count", "followed_180d_count",
          "followed_365d_count", "placed_by_as_of_count")
BREAKDOWNS = ("district", "prior_sector")
REASON_DIFFERENCING = "differencing"


@dataclass(frozen=True)
class Risk:
    """Why a view or cell is withheld, for the notice (never a count): `causes` are
    ("without", (filter attributes dropped...)) or ("value", filter attribute, value), each
    against min_cell; `reason` says them in the current language."""

    program_type: str
    cell: str | None
    causes: tuple = ()
    min_cell: int = 0

    @property
    def reason(self) -> str:
        return reason_text(self.causes, self.min_cell)


def _value_label(attr: str, value: str) -> str:
    return level_label(LEVELS[attr], value) if attr in LEVELS else str(value)


def cause_text(cause: tuple, min_cell: int) -> str:
    """One cause of a Risk in words, in the current language."""
    if cause[0] == "without":
        return _("the same view without its {filters} filter differs from it by fewer than "
                 "{min_cell} people").format(filters=i18n.join([_(LABELS[d]) for d in cause[1]]),
                                             min_cell=i18n.number(min_cell))
    _kind, attr, value = cause
    return _("with or without the {filter} {value} the view differs by fewer than {min_cell} "
             "people").format(filter=_(LABELS[attr]), value=_value_label(attr, value),
                              min_cell=i18n.number(min_cell))


def reason_text(causes, min_cell: int) -> str:
    """The causes of a Risk in words, one after the other."""
    return _("; ").join(cause_text(cause, min_cell) for cause in causes)


def _small(counts: np.ndarray, min_cell: int) -> np.ndarray:
    return ((counts > 0) & (counts < min_cell)).any(axis=1)


@answer
def query_set_counts(con: duckdb.DuckDBPyConnection, extract: Extract, filters: Filters,
                     by: str = "") -> pd.DataFrame:
    """queries/query_set_counts.sql: the people of every view the rule compares, per programme
    and cell of the breakdown `by` ("district", "prior_sector" or "" for none)."""
    return run_query(con, "query_set_counts", query_params(extract, filters, by=by))


def differencing_risks(con: duckdb.DuckDBPyConnection, extract: Extract, filters: Filters,
                       min_cell: int, by: str | None = None) -> list[Risk]:
    """The programmes (and, with `by`, the cells of the breakdown by district or prior sector)
    whose figures under `filters` could be subtracted from another view a user can open to give
    a group of 1 to min_cell - 1 people (see the module docstring). Empty when all is safe.
    """
    if by is not None and by not in BREAKDOWNS:
        raise ValueError(f"no breakdown {by!r}; one of {BREAKDOWNS}")
    set_dimensions = [attr for attr in DIMENSIONS if getattr(filters, attr)]
    has_period = filters.date_from is not None or filters.date_to is not None
    if not set_dimensions and not has_period:
        return []  # nothing to drop: the view is everything, its cells are the breakdown itself
    df = query_set_counts(con, extract, filters, by or "")
    if filters.programs:
        df = df[df["program_type"].isin(filters.programs)]
    if df.empty:
        return []
    members = {attr: df[DIMENSIONS[attr]].notna().to_numpy() for attr in set_dimensions}
    if has_period:
        members[PERIOD] = df["in_period"].astype(bool).to_numpy()
    keys = ["program_type", "cell"]
    groups = df.groupby(keys, dropna=False, sort=True).ngroup().to_numpy()
    first = df.assign(_group=groups).drop_duplicates("_group").sort_values("_group")
    labels = list(zip(first["program_type"], first["cell"]))
    counts = df[list(COUNTS)].to_numpy(dtype=np.int64)
    n_groups = int(groups.max()) + 1

    def total(mask: np.ndarray) -> np.ndarray:
        out = np.zeros((n_groups, counts.shape[1]), dtype=np.int64)
        np.add.at(out, groups, counts * mask[:, None])
        return out

    everything = np.ones(len(df), dtype=bool)
    inside = np.logical_and.reduce([everything, *members.values()])
    view = total(inside)
    shown = view.any(axis=1)
    reasons: list[list[tuple]] = [[] for _group in range(n_groups)]
    names = list(members)
    for size in range(1, len(names) + 1):
        for dropped in combinations(names, size):
            parent = np.logical_and.reduce([everything, *(members[m] for m in names if m not in dropped)])
            bad = _small(total(parent) - view, min_cell) & shown
            cause = ("without", tuple(dropped))
            for g in np.flatnonzero(bad):
                reasons[g].append(cause)
    for attr in set_dimensions:
        values = getattr(filters, attr)
        if len(values) < 2:
            continue
        column = df[DIMENSIONS[attr]].to_numpy(dtype=object)
        for value in values:
            part = total(inside & (column == value))
            bad = (_small(part, min_cell) | _small(view - part, min_cell)) & shown
            cause = ("value", attr, value)
            for g in np.flatnonzero(bad):
                reasons[g].append(cause)
    return [Risk(program, None if pd.isna(cell) else cell, tuple(dict.fromkeys(why)), min_cell)
            for (program, cell), why in zip(labels, reasons) if why]


def withheld_text(risks: list[Risk]) -> str | None:
    """The notice's reason for risks of a whole view, in the current language: the first
    risk's causes and the programmes concerned (labels); None when there are none."""
    if not risks:
        return None
    programmes = _(", ").join(program_label(p) for p in dict.fromkeys(r.program_type for r in risks))
    return _("{reason} (programme: {programmes})").format(reason=risks[0].reason,
                                                          programmes=programmes)


@answer
def withheld_view(con: duckdb.DuckDBPyConnection, extract: Extract, filters: Filters,
                  min_cell: int) -> str | None:
    """Why the whole view under `filters` is withheld, or None when it may be shown. An answer
    shared by every session, so always in English (the source language; the command line
    prints it): a page shows withheld_reason, which says it in the page's language."""
    with i18n.using("en"):
        return withheld_text(differencing_risks(con, extract, filters, min_cell))


def withheld_reason(con: duckdb.DuckDBPyConnection, extract: Extract, filters: Filters,
                    min_cell: int) -> str | None:
    """withheld_view in the current language, for the page's notice (not stored: the counts it
    rests on are, see query_set_counts)."""
    return withheld_text(differencing_risks(con, extract, filters, min_cell))


def withheld_cells(con: duckdb.DuckDBPyConnection, extract: Extract, filters: Filters,
                   min_cell: int, by: str, table: pd.DataFrame) -> np.ndarray:
    """A mask over `table`'s rows (columns program_type and `by`): the cells of the breakdown
    that differencing_risks withholds."""
    risky = {(r.program_type, r.cell)
             for r in differencing_risks(con, extract, filters, min_cell, by)}
    if not risky or table.empty:
        return np.zeros(len(table), dtype=bool)
    return np.array([(p, c) in risky for p, c in zip(table["program_type"], table[by])], dtype=bool)
