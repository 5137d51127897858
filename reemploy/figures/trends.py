"""Trends: placement per quarterly enrollment cohort and its changes against the quarter before
and a year earlier."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from reemploy import stats
from reemploy.cache import answer
from reemploy.extracts import Extract
from reemploy.figures.common import (
    DEFAULT_MIN_CELL,
    UNRELIABLE_BELOW,
    add_rate,
    ask,
    order_programs,
    suppress_breakdown,
)
from reemploy.filters import Filters

# cohort measure -> (its numerator, the flag saying the cohort is fully observed for it)
COHORT_MEASURES = {
    "placement_rate_180d": ("placed_180d_count", "is_complete"),
    "placement_rate_365d": ("placed_365d_count", "is_complete_365d"),
}


COHORT_RATES = {measure: successes for measure, (successes, _) in COHORT_MEASURES.items()}


@answer
def placement_rate_by_cohort(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """Placement within 180 and within 365 days of exit per quarterly cohort and programme, with
    Wilson intervals; `is_complete` (180 days) and `is_complete_365d` are False for cohorts not
    yet followed for that long after exit, `is_open_quarter` for a quarter still running at
    as_of. Numerators are suppressed with their rates, and a programme's quarters add up to its
    headline figure, so suppression is complementary (suppress_breakdown)."""
    return suppress_breakdown(_cohort_rates(con, extract, filters), COHORT_RATES, min_cell)


@answer
def _cohort_rates(con, extract: Extract, filters: Filters) -> pd.DataFrame:
    """The cohort rates before suppression: placement_rate_changes compares them."""
    df = ask(con, extract, filters, "placement_rate_by_cohort")
    for measure, (successes, complete) in COHORT_MEASURES.items():
        df = add_rate(df, measure, successes)
        # Enrollments whose exit was never recorded are left out of the rates for good
        # (views/enrollment_outcomes.sql), so they do not keep a cohort open.
        df[complete] = df[f"{measure}_n"] == df["enrolled_count"] - df["exit_unrecorded_count"]
    return order_programs(df).reset_index(drop=True)


# change column -> months back to the cohort it is compared with
CHANGE_LAGS = {"change_vs_previous_quarter": 3, "change_vs_year_earlier": 12}


@answer
def placement_rate_changes(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
    measure: str = "placement_rate_180d",
    quarters: int = 8,
) -> pd.DataFrame:
    """Period-over-period changes of a cohort placement rate (COHORT_MEASURES): per programme
    its last `quarters` fully observed enrollment quarters (programmes in catalogue order, newest
    quarter first), with the change against the previous quarter and against the same quarter a
    year earlier (proportions; x 100 = pp), each with Newcombe's 95% interval.

    Quarters after a programme's latest fully observed one are left out: their rates are not
    known yet. A change is computed only between two fully observed cohorts
    (`<change>_available`); its `<change>_n` is the smaller of the two denominators, so it is
    suppressed whenever either rate is. A quarter that placement_rate_by_cohort hides as a
    complementary cell is hidden here too, with every change it takes part in.
    """
    successes, complete = COHORT_MEASURES[measure]
    cohorts = _cohort_rates(con, extract, filters)
    # A dict, not .loc on a MultiIndex: it is looked up twice per quarter shown.
    keyed = {(r["program_type"], r["cohort_start"]): r for r in cohorts.to_dict("records")}
    protected = placement_rate_by_cohort(con, extract, filters, min_cell)
    hidden = set(map(tuple, protected.loc[protected[f"{measure}_suppressed"],
                                          ["program_type", "cohort_start"]].to_numpy()))
    columns = ["program_type", "cohort_start", "enrolled_count", measure, f"{measure}_n",
               f"{measure}_low", f"{measure}_high", successes, complete]
    rows, pairs = [], []
    for program, part in cohorts.groupby("program_type", sort=False):
        observed = part.loc[part[complete], "cohort_start"]
        if observed.empty:
            continue
        latest = observed.max()
        window = part[part["cohort_start"].between(latest - pd.DateOffset(months=3 * (quarters - 1)),
                                                   latest)]
        for current in window[columns].to_dict("records"):
            row = dict(current)
            row["hidden"] = (program, current["cohort_start"]) in hidden
            for change, months in CHANGE_LAGS.items():
                key = (program, current["cohort_start"] - pd.DateOffset(months=months))
                row[f"{change}_hidden"] = row["hidden"] or key in hidden
                before = keyed.get(key)
                available = before is not None and bool(current[complete]) and bool(before[complete])
                if available:
                    pairs.append((len(rows), change, current, before))
                row.update({
                    change: np.nan,
                    f"{change}_low": np.nan,
                    f"{change}_high": np.nan,
                    f"{change}_n": np.nan if before is None else min(current[f"{measure}_n"],
                                                                     before[f"{measure}_n"]),
                    f"{change}_available": available,
                })
            rows.append(row)
    # Every difference in one vectorised call.
    if pairs:
        differences = zip(*stats.newcombe_differences(
            *zip(*((c[successes], c[f"{measure}_n"], b[successes], b[f"{measure}_n"])
                   for _, _, c, b in pairs))))
        for (index, change, _, _), (difference, low, high) in zip(pairs, differences):
            rows[index].update({change: difference, f"{change}_low": low, f"{change}_high": high})
    change_columns = [f"{c}{s}" for c in CHANGE_LAGS for s in ("", "_low", "_high", "_n", "_available")]
    marks = ["hidden", *(f"{c}_hidden" for c in CHANGE_LAGS)]
    df = pd.DataFrame(rows, columns=columns + change_columns + marks)
    if not df.empty:
        df = order_programs(df.sort_values("cohort_start", ascending=False))
    df = stats.suppress(df.reset_index(drop=True), min_cell=min_cell,
                        unreliable_below=UNRELIABLE_BELOW, extra={measure: [successes]})
    df = stats.suppress_cells(df, measure, df.pop("hidden").to_numpy(dtype=bool), blank=[successes])
    for change in CHANGE_LAGS:
        df = stats.suppress_cells(df, change, df.pop(f"{change}_hidden").to_numpy(dtype=bool))
    return df
