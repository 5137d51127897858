"""The headline figures per programme (Overview, Compare's profile, the pack, `summary`) and
skills minus mindset on every clock."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from reemploy import stats
from reemploy.cache import answer
from reemploy.extracts import Extract
from reemploy.figures.common import (
    COMPARED_PROGRAMS,
    DEFAULT_MIN_CELL,
    UNRELIABLE_BELOW,
    add_rate,
    ask,
    km_medians,
    order_programs,
    ratio,
    time_to_placement,
)
from reemploy.filters import Filters

# Placement from enrollment and the status measures after exit beside the headline placement
# rate (measure -> its numerator), so the Overview shows which way each clock points.
CLOCK_MEASURES = {
    "placement_rate_180d_from_enrollment": "placed_180d_from_enrollment_count",
    "employment_rate_q2_after_exit": "employed_q2_after_exit_count",
    "employment_rate_q4_after_exit": "employed_q4_after_exit_count",
}
# Headline measure -> the columns that would give a suppressed value back (numerator / n). The
# placement count doubles as cost_per_placement_n, so it goes with the placement rate too.
HEADLINE_NUMERATORS = {
    **{measure: [successes] for measure, successes in CLOCK_MEASURES.items()},
    "completion_rate": ["completed_count"],
    "placement_rate_180d": ["placed_180d_count", "cost_per_placement_n"],
    "retention_6m": ["retained_6m_count"],
    "retention_12m": ["retained_12m_count"],
    "cost_per_placement": ["cost_observed_180d"],
    "monthly_wage": [f"monthly_wage_p{q}" for q in (10, 25, 50, 75, 90)],
    "wage_replacement": [f"wage_replacement_p{q}" for q in (25, 50, 75)],
}
# Enrollments of note per programme, summary key -> headline column (data/README.md, "the
# unit"): those every figure keeps though they are not a person's first, and those the
# exit-based rates leave out. The groups overlap, so they do not add up.
UNIT_COUNTS = {
    "kept_in_every_figure": {
        "repeat_enrollments": "repeat_enrollment_count",
        "begun_while_holding_an_earlier_job": "enrolled_while_employed_count",
    },
    "left_out_of_exit_based_rates": {
        "no_exit_by_as_of": "not_exited_count",
        "of_which_no_exit_recorded_a_year_after_enrolling": "exit_unrecorded_count",
        "followed_180d_but_enrollment_month_not_fully_observed": "followed_180d_not_counted_count",
    },
}
# Each exit-based measure -> the first enrollment month not fully observed for its horizon.
OBSERVED_BEFORE = {
    "placement_rate_180d": "observed_before_180d",
    "employment_rate_q2_after_exit": "observed_before_182d",
    "employment_rate_q4_after_exit": "observed_before_365d",
}
# The measures whose skills-minus-mindset difference the Overview and the pack set side by side:
# measure -> (its numerator in headline_by_program, the clock it is read on).
DIFFERENCE_MEASURES = {
    "placement_rate_180d": ("placed_180d_count", "from exit"),
    "placement_rate_180d_from_enrollment": ("placed_180d_from_enrollment_count", "from enrollment"),
    "employment_rate_q2_after_exit": ("employed_q2_after_exit_count", "from exit"),
    "employment_rate_q4_after_exit": ("employed_q4_after_exit_count", "from exit"),
}


@answer
def _unsuppressed_headline(con, extract: Extract, filters: Filters) -> pd.DataFrame:
    df = ask(con, extract, filters, "headline_by_program")
    for measure, successes in {"completion_rate": "completed_count",
                               "placement_rate_180d": "placed_180d_count",
                               "retention_12m": "retained_12m_count",
                               **CLOCK_MEASURES}.items():
        df = add_rate(df, measure, successes)
    df["cost_per_placement_n"] = df["placed_180d_count"]
    df["cost_per_placement"] = ratio(df["cost_observed_180d"], df["placed_180d_count"])
    df = df.merge(km_medians(time_to_placement(con, extract, filters)), on="program_type", how="left")
    df["median_days_to_placement_n"] = df["median_days_to_placement_n"].fillna(0).astype("int64")
    df = add_rate(df, "retention_6m", "retained_6m_count")
    return order_programs(df).reset_index(drop=True)


@answer
def headline_by_program(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """One row per programme type with every headline figure (queries/headline_by_program.sql):
    rates with Wilson intervals, Kaplan-Meier median days to the first job, the first-job wage
    and wage replacement quantiles, cost per placement, each with its denominator and
    suppression flags; and the counts of enrollments the figures keep or leave aside."""
    return stats.suppress(_unsuppressed_headline(con, extract, filters), min_cell=min_cell,
                          unreliable_below=UNRELIABLE_BELOW, extra=HEADLINE_NUMERATORS)


@answer
def enrollment_count_by_program(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """Enrollments per programme type under the filters (no rates, so nothing to suppress: the
    pages show these counts as n already); empty when nothing matches."""
    return order_programs(ask(con, extract, filters, "enrollment_count_by_program"))


def first_open_month(headline: pd.DataFrame, column: str = "observed_before_180d") -> dt.date | None:
    """The first enrollment month not fully observed for a horizon (headline_by_program's
    `column`), or None when every month is (the view marks that with 9999-12-01)."""
    months = headline[column].dropna() if column in headline else pd.Series(dtype="object")
    if months.empty or pd.Timestamp(months.min()).year >= 9999:
        return None
    return pd.Timestamp(months.min()).date()


@answer
def program_differences(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """Skills minus mindset on every clock, one row per measure and estimate: the raw difference
    of each DIFFERENCE_MEASURES rate (Newcombe 95%), then the standardised difference of
    placement within 180 days of exit (adjusted_placement_difference without the models).
    Columns: ``measure, estimate, method, interval, clock, skills_rate, mindset_rate, skills_n,
    mindset_n, difference, difference_low, difference_high, difference_n, excluded_share``; a
    difference is suppressed when either programme has fewer than `min_cell` in its
    denominator."""
    from reemploy.figures.compare import adjusted_placement_difference

    headline = {row["program_type"]: row
                for row in _unsuppressed_headline(con, extract, filters).to_dict("records")}
    first, second = COMPARED_PROGRAMS
    rows = []
    for measure, (successes, clock) in DIFFERENCE_MEASURES.items():
        sides = [headline.get(program, {}) for program in COMPARED_PROGRAMS]
        n = [int(side.get(f"{measure}_n", 0) or 0) for side in sides]
        x = [int(side.get(successes, 0) or 0) for side in sides]
        difference, low, high = stats.newcombe_difference(x[0], n[0], x[1], n[1])
        rows.append({
            "measure": measure, "estimate": "raw", "method": "raw difference",
            "interval": "Newcombe hybrid score, 95%", "clock": clock,
            f"{first}_rate": x[0] / n[0] if n[0] else np.nan,
            f"{second}_rate": x[1] / n[1] if n[1] else np.nan,
            f"{first}_n": n[0], f"{second}_n": n[1],
            "difference": difference, "difference_low": low, "difference_high": high,
            "excluded_share": 0.0,
        })
    # The standardised difference only: the model-based ones are on Compare and in summary.
    adjusted = adjusted_placement_difference(con, extract, filters, min_cell, models=False)
    for row in adjusted[adjusted["estimate"] != "raw"].to_dict("records"):
        rows.append({"measure": "placement_rate_180d", "clock": "from exit",
                     **{k: row[k] for k in ("estimate", "method", "interval", f"{first}_rate",
                                            f"{second}_rate", f"{first}_n", f"{second}_n",
                                            "difference", "difference_low", "difference_high",
                                            "excluded_share", "reason")}})
    df = pd.DataFrame(rows)
    df["difference_n"] = df[[f"{first}_n", f"{second}_n"]].min(axis=1)
    return stats.suppress(df, min_cell=min_cell, unreliable_below=UNRELIABLE_BELOW,
                          extra={"difference": [f"{first}_rate", f"{second}_rate"]})
