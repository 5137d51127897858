"""What every figure of the package shares: asking a question of queries/, rates with their
intervals, programme order, Kaplan-Meier per group and suppression of breakdowns."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from reemploy import disclosure, stats
from reemploy.cache import answer
from reemploy.contract import PROGRAM_TYPES
from reemploy.db import query_params, run_query
from reemploy.extracts import Extract
from reemploy.filters import Filters

DEFAULT_MIN_CELL = 10
UNRELIABLE_BELOW = 30
# The two programmes every difference compares, first minus second.
COMPARED_PROGRAMS = ("skills", "mindset")

_PROGRAM_RANK = {p: i for i, p in enumerate(PROGRAM_TYPES)}


@answer
def ask(con: duckdb.DuckDBPyConnection, extract: Extract, filters: Filters, name: str,
        **extra) -> pd.DataFrame:
    """queries/<name>.sql under the filters, with `extra` values bound (tuples bound as lists);
    kept in the result cache, so several figures resting on one question ask it once."""
    bound = {k: list(v) if isinstance(v, tuple) else v for k, v in extra.items()}
    return run_query(con, name, query_params(extract, filters, **bound))


def order_programs(df: pd.DataFrame, column: str = "program_type") -> pd.DataFrame:
    """Rows in the catalogue order of programme types (skills, mindset, combined, none), other
    values and missing ones last; a stable sort."""
    codes, values = pd.factorize(df[column])
    # Code -1 (missing) takes the last entry, the rank of anything not in the catalogue.
    ranks = np.array([_PROGRAM_RANK.get(v, len(_PROGRAM_RANK)) for v in values]
                     + [len(_PROGRAM_RANK)])[codes]
    return df.iloc[np.argsort(ranks, kind="stable")]


def ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    denominator = denominator.astype("float64")
    return numerator.astype("float64").div(denominator.where(denominator > 0))


def add_rate(df: pd.DataFrame, measure: str, successes: str) -> pd.DataFrame:
    """Add `measure`, `measure_low`, `measure_high` (Wilson 95%) from successes / `measure_n`."""
    n = df[f"{measure}_n"].to_numpy(dtype="float64")
    x = df[successes].to_numpy(dtype="float64")
    low, high = stats.wilson_interval(x, n)
    df[measure] = ratio(df[successes], df[f"{measure}_n"])
    df[f"{measure}_low"] = low
    df[f"{measure}_high"] = high
    # Everyone or no one: stats.suppress hides it on a small n, then drops this flag.
    df[f"{measure}_extreme"] = (n > 0) & ((x == 0) | (x == n))
    return df


def kaplan_meier_by_group(durations: pd.DataFrame, group: str = "program_type") -> pd.DataFrame:
    """Kaplan-Meier per group from (group, days, events, censored) counts, with 95% bands."""
    curves = []
    for value, part in durations.groupby(group, sort=False):
        km = stats.kaplan_meier(part["days"], part["events"], part["censored"])
        km.insert(0, group, value)
        curves.append(km)
    if not curves:
        return pd.DataFrame(
            columns=[group, "day", "at_risk", "events", "censored", "survival",
                     "survival_low", "survival_high"]
        )
    return pd.concat(curves, ignore_index=True)


def km_medians(durations: pd.DataFrame, group: str = "program_type") -> pd.DataFrame:
    """Median days to placement per group (None when the curve never reaches 0.5) and its n."""
    rows = []
    for value, part in durations.groupby(group, sort=False):
        rows.append(
            {
                group: value,
                "median_days_to_placement": stats.km_median_days(
                    part["days"].to_numpy(), part["events"].to_numpy(), part["censored"].to_numpy()),
                "median_days_to_placement_n": int(part["events"].sum() + part["censored"].sum()),
            }
        )
    return pd.DataFrame(rows, columns=[group, "median_days_to_placement", "median_days_to_placement_n"])


def km_medians_by(durations: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """km_medians per programme within each value of `dimension` (district)."""
    parts = []
    for value, part in durations.groupby(dimension, sort=False):
        medians = km_medians(part)
        medians.insert(0, dimension, value)
        parts.append(medians)
    if not parts:
        return pd.DataFrame(columns=[dimension, "program_type", "median_days_to_placement",
                                     "median_days_to_placement_n"])
    return pd.concat(parts, ignore_index=True)


# Where the clock of time_to_placement starts -> its column in views/enrollment_outcomes.sql.
CLOCK_ORIGINS = ("enrollment", "exit")


def time_to_placement(con: duckdb.DuckDBPyConnection, extract: Extract, filters: Filters,
                      origin: str = "enrollment", by_district: bool = False) -> pd.DataFrame:
    """Days from enrollment (or exit) to the first job, censored at as_of, as Kaplan-Meier
    counts (queries/time_to_placement.sql): one row per programme x day, or per district x
    programme x day."""
    if origin not in CLOCK_ORIGINS:
        raise ValueError(f"origin must be one of {sorted(CLOCK_ORIGINS)}, not {origin!r}")
    durations = ask(con, extract, filters, "time_to_placement", origin=origin,
                    by_district=by_district)
    return durations if by_district else durations.drop(columns="district")


def suppress_breakdown(df: pd.DataFrame, rates: dict[str, str], min_cell: int,
                       groups: tuple[str, ...] = ("program_type",), withheld=None) -> pd.DataFrame:
    """stats.suppress for a breakdown whose cells add up to a total shown elsewhere (a
    programme's districts, quarters or age bands to its headline figure), then
    stats.complementary_suppress per group of `groups` for each rate in `rates` (measure ->
    numerator), so no hidden cell is the total minus its siblings. Must be the last step: a later
    stats.suppress would forget the complementary cells."""
    numerators = {measure: df[successes].to_numpy() for measure, successes in rates.items()}
    governed = {measure: [successes] for measure, successes in rates.items()}
    df = stats.suppress(df, min_cell=min_cell, unreliable_below=UNRELIABLE_BELOW, extra=governed)
    if withheld is not None and withheld.any():
        # Cells another view would give away by subtraction (disclosure.withheld_cells), hidden
        # before the complementary step so that it covers them too.
        for measure, successes in rates.items():
            df = stats.suppress_cells(df, measure, withheld, reason=disclosure.REASON_DIFFERENCING,
                                      blank=[successes])
    for measure, successes in rates.items():
        df = stats.complementary_suppress(df, groups, measure, min_cell,
                                          successes=numerators[measure], blank=[successes])
    return df

