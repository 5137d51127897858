"""The figures every consumer shows: queries turned into rates, intervals and medians, suppressed.

Pages, the CLI, downloads and exports all call these functions, so suppression and the metric
definitions (data/README.md, Metrics) are applied once, the same way everywhere.
"""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd

from reemploy import stats
from reemploy.contract import PROGRAM_TYPES
from reemploy.db import query_params, run_query
from reemploy.extracts import Extract
from reemploy.filters import Filters

DEFAULT_MIN_CELL = 10
UNRELIABLE_BELOW = 30


def order_programs(df: pd.DataFrame, column: str = "program_type") -> pd.DataFrame:
    """Rows in the catalogue order of programme types (skills, mindset, combined, none)."""
    rank = {p: i for i, p in enumerate(PROGRAM_TYPES)}
    return df.sort_values(column, key=lambda s: s.map(rank).fillna(len(rank)), kind="stable")


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    denominator = denominator.astype("float64")
    return numerator.astype("float64").div(denominator.where(denominator > 0))


def add_rate(df: pd.DataFrame, measure: str, successes: str) -> pd.DataFrame:
    """Add `measure`, `measure_low`, `measure_high` (Wilson 95%) from successes / `measure_n`."""
    n = df[f"{measure}_n"].to_numpy(dtype="float64")
    x = df[successes].to_numpy(dtype="float64")
    low, high = stats.wilson_interval(x, n)
    df[measure] = _ratio(df[successes], df[f"{measure}_n"])
    df[f"{measure}_low"] = low
    df[f"{measure}_high"] = high
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
        km = stats.kaplan_meier(part["days"], part["events"], part["censored"])
        rows.append(
            {
                group: value,
                "median_days_to_placement": stats.km_median(km),
                "median_days_to_placement_n": int(part["events"].sum() + part["censored"].sum()),
            }
        )
    return pd.DataFrame(rows, columns=[group, "median_days_to_placement", "median_days_to_placement_n"])


def headline_figures(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """One row per programme type with every headline metric, its interval, denominator and
    suppression flags."""
    params = query_params(extract, filters)
    df = run_query(con, "headline_by_program", params)
    df = add_rate(df, "completion_rate", "completed_count")
    df = add_rate(df, "placement_rate_180d", "placed_180d_count")
    df = add_rate(df, "retention_12m", "retained_12m_count")
    df["cost_per_placement_n"] = df["placed_180d_count"]
    df["cost_per_placement"] = _ratio(df["cost_observed_180d"], df["placed_180d_count"])
    durations = run_query(con, "time_to_placement_by_program", params)
    df = df.merge(km_medians(durations), on="program_type", how="left")
    df["median_days_to_placement_n"] = df["median_days_to_placement_n"].fillna(0).astype("int64")
    df = order_programs(df).reset_index(drop=True)
    return stats.suppress(df, min_cell=min_cell, unreliable_below=UNRELIABLE_BELOW)


def placement_rate_by_cohort(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """Placement within 180 days per quarterly cohort and programme, with Wilson intervals;
    `is_complete` is False for cohorts not yet followed for 180 days after exit."""
    df = run_query(con, "placement_rate_by_cohort", query_params(extract, filters))
    df = add_rate(df, "placement_rate_180d", "placed_180d_count")
    df["is_complete"] = df["placement_rate_180d_n"] == df["enrolled_count"]
    df = order_programs(df).reset_index(drop=True)
    return stats.suppress(df, min_cell=min_cell, unreliable_below=UNRELIABLE_BELOW)


def extract_profile(con: duckdb.DuckDBPyConnection) -> dict:
    """Row counts and date span of the whole extract."""
    return run_query(con, "extract_profile", {}).iloc[0].to_dict()


def filter_catalogue(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, ...]]:
    """The districts and prior sectors present in the extract, sorted."""
    df = run_query(con, "filter_values", {})
    return {
        name: tuple(sorted(part["value"].astype(str)))
        for name, part in df.groupby("filter_name", sort=True)
    }


SUMMARY_METRICS = (
    "completion_rate",
    "placement_rate_180d",
    "median_days_to_placement",
    "retention_12m",
    "median_monthly_wage",
    "median_wage_replacement",
    "cost_per_placement",
)


def _plain(value):
    """JSON-ready scalar: NaN/NA -> None, numpy numbers -> Python numbers."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def summary(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
) -> dict:
    """The headline figures as the JSON document `python -m reemploy summary` prints."""
    df = headline_figures(con, extract, filters, min_cell)
    programs = {}
    for row in df.to_dict("records"):
        entry = {"enrolled": _plain(row["enrolled_count"])}
        for metric in SUMMARY_METRICS:
            entry[metric] = _plain(row[metric])
            entry[f"{metric}_n"] = _plain(row[f"{metric}_n"])
            if f"{metric}_low" in row:
                low, high = _plain(row[f"{metric}_low"]), _plain(row[f"{metric}_high"])
                entry[f"{metric}_ci"] = None if low is None else [low, high]
        programs[row["program_type"]] = entry
    return {
        "as_of": extract.as_of.isoformat(),
        "filters": {
            "districts": list(filters.districts),
            "sectors": list(filters.sectors),
            "programs": list(filters.programs),
            "from": filters.date_from.isoformat() if filters.date_from else None,
            "to": filters.date_to.isoformat() if filters.date_to else None,
            "genders": list(filters.genders),
            "age_bands": list(filters.age_bands),
            "educations": list(filters.educations),
        },
        "suppression_threshold": min_cell,
        "programs": programs,
    }
