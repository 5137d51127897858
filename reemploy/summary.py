"""The document `python -m reemploy summary` prints: the headline figures per programme and
skills minus mindset raw and adjusted, as JSON-ready values."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd

from reemploy.extracts import Extract
from reemploy.figures.common import DEFAULT_MIN_CELL
from reemploy.figures.compare import adjusted_placement_difference
from reemploy.figures.headline import (
    OBSERVED_BEFORE,
    UNIT_COUNTS,
    first_open_month,
    headline_by_program,
)
from reemploy.filters import Filters

SUMMARY_METRICS = (
    "completion_rate",
    "placement_rate_180d",
    "placement_rate_180d_from_enrollment",
    "employment_rate_q2_after_exit",
    "employment_rate_q4_after_exit",
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
    df = headline_by_program(con, extract, filters, min_cell)
    programs = {}
    for row in df.to_dict("records"):
        entry = {"enrolled": _plain(row["enrolled_count"])}
        for metric in SUMMARY_METRICS:
            entry[metric] = _plain(row[metric])
            entry[f"{metric}_n"] = _plain(row[f"{metric}_n"])
            if f"{metric}_low" in row:
                low, high = _plain(row[f"{metric}_low"]), _plain(row[f"{metric}_high"])
                entry[f"{metric}_ci"] = None if low is None else [low, high]
        entry["enrollment_counts"] = {
            group: {key: _plain(row[column]) for key, column in counts.items()}
            for group, counts in UNIT_COUNTS.items()}
        programs[row["program_type"]] = entry
    comparison = adjusted_placement_difference(con, extract, filters, min_cell)
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
        "exit_rates_count_enrollment_months_before": {
            measure: None if (month := first_open_month(df, column)) is None else month.isoformat()
            for measure, column in OBSERVED_BEFORE.items()},
        "programs": programs,
        "skills_minus_mindset_placement_180d": {
            row["estimate"]: _comparison_entry(row) for row in comparison.to_dict("records")},
    }


def _comparison_entry(row: dict) -> dict:
    """One estimate of the skills-minus-mindset difference as summary prints it."""
    entry = {"method": row["method"], "difference": _plain(row["difference"]),
             "difference_ci": None if pd.isna(row["difference_low"])
             else [_plain(row["difference_low"]), _plain(row["difference_high"])],
             "interval": row["interval"],
             "skills_n": _plain(row["skills_n"]), "mindset_n": _plain(row["mindset_n"])}
    if row["estimate"] != "raw":
        entry["excluded_share"] = _plain(row["excluded_share"])
        entry["reason"] = row["reason"] if isinstance(row.get("reason"), str) else None
    return entry
