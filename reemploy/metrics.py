"""The figures every consumer shows: queries turned into rates, intervals and medians, suppressed.

Pages, the CLI, downloads and exports all call these functions, so suppression and the metric
definitions (data/README.md, Metrics) are applied once, the same way everywhere.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import math
import os
import threading
from collections import OrderedDict

import duckdb
import numpy as np
import pandas as pd

from reemploy import disclosure, stats
from reemploy.contract import AGE_BANDS, EDUCATION_LEVELS, EMPLOYER_TYPES, GENDERS, PROGRAM_TYPES
from reemploy.db import derived_dir, load_sql, query_params, run_query
from reemploy.extracts import Extract
from reemploy.filters import Filters

DEFAULT_MIN_CELL = 10
UNRELIABLE_BELOW = 30


_PROGRAM_RANK = {p: i for i, p in enumerate(PROGRAM_TYPES)}


def order_programs(df: pd.DataFrame, column: str = "program_type") -> pd.DataFrame:
    """Rows in the catalogue order of programme types (skills, mindset, combined, none), other
    values and missing ones last; a stable sort. Ranks each distinct value once (a sort_values
    key mapping every row took 3 ms for a page's 7,000 curve rows)."""
    codes, values = pd.factorize(df[column])
    # code -1 (missing) takes the last entry, the rank of anything not in the catalogue
    ranks = np.array([_PROGRAM_RANK.get(v, len(_PROGRAM_RANK)) for v in values]
                     + [len(_PROGRAM_RANK)])[codes]
    return df.iloc[np.argsort(ranks, kind="stable")]


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


def headline_figures(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """One row per programme type with every headline metric, its interval, denominator and
    suppression flags."""
    return stats.suppress(_headline(con, extract, filters, "headline_by_program"),
                          min_cell=min_cell, unreliable_below=UNRELIABLE_BELOW,
                          extra=HEADLINE_NUMERATORS)


def _headline(con, extract: Extract, filters: Filters, query: str) -> pd.DataFrame:
    """The headline figures before suppression, from `query`: headline_by_program or a question
    that returns the same columns and more (profile_by_program)."""
    df = _query(con, extract, filters, query)
    df = add_rate(df, "completion_rate", "completed_count")
    df = add_rate(df, "placement_rate_180d", "placed_180d_count")
    df = add_rate(df, "retention_12m", "retained_12m_count")
    if "placement_rate_180d_from_enrollment_n" in df:
        for measure, successes in CLOCK_MEASURES.items():
            df = add_rate(df, measure, successes)
    df["cost_per_placement_n"] = df["placed_180d_count"]
    df["cost_per_placement"] = _ratio(df["cost_observed_180d"], df["placed_180d_count"])
    durations = _query(con, extract, filters, "time_to_placement_by_program")
    df = df.merge(km_medians(durations), on="program_type", how="left")
    df["median_days_to_placement_n"] = df["median_days_to_placement_n"].fillna(0).astype("int64")
    return order_programs(df).reset_index(drop=True)


# Headline measure -> the columns that would give a suppressed value back (numerator / n). The
# placement count doubles as cost_per_placement_n, so it goes with the placement rate too.
# Placement from enrollment and the status measures after exit beside the headline placement
# rate (measure -> its numerator), so the Overview shows which way each clock points.
CLOCK_MEASURES = {
    "placement_rate_180d_from_enrollment": "placed_180d_from_enrollment_count",
    "employment_rate_q2_after_exit": "employed_q2_after_exit_count",
    "employment_rate_q4_after_exit": "employed_q4_after_exit_count",
}

HEADLINE_NUMERATORS = {
    **{measure: [successes] for measure, successes in CLOCK_MEASURES.items()},
    "completion_rate": ["completed_count"],
    "placement_rate_180d": ["placed_180d_count", "cost_per_placement_n"],
    "retention_12m": ["retained_12m_count"],
    "cost_per_placement": ["cost_observed_180d"],
}


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
        # before the complementary step so that it covers them too (issue 13).
        for measure, successes in rates.items():
            df = stats.suppress_cells(df, measure, withheld, reason=disclosure.REASON_DIFFERENCING,
                                      blank=[successes])
    for measure, successes in rates.items():
        df = stats.complementary_suppress(df, groups, measure, min_cell,
                                          successes=numerators[measure], blank=[successes])
    return df


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
    # Remembered: the Trends page draws these and then works out their changes from them.
    return _remember(
        (str(extract.path), extract.version, "metrics.placement_rate_by_cohort", filters, min_cell),
        lambda: suppress_breakdown(_cohort_rates(con, extract, filters), COHORT_RATES, min_cell))


# cohort measure -> (its numerator, the flag saying the cohort is fully observed for it)
COHORT_MEASURES = {
    "placement_rate_180d": ("placed_180d_count", "is_complete"),
    "placement_rate_365d": ("placed_365d_count", "is_complete_365d"),
}
COHORT_RATES = {measure: successes for measure, (successes, _) in COHORT_MEASURES.items()}


def _cohort_rates(con, extract: Extract, filters: Filters) -> pd.DataFrame:
    # Remembered: placement_rate_changes reads these unsuppressed rates and the suppressed ones.
    def compute() -> pd.DataFrame:
        df = _query(con, extract, filters, "placement_rate_by_cohort")
        for measure, (successes, complete) in COHORT_MEASURES.items():
            df = add_rate(df, measure, successes)
            # Enrollments whose exit was never recorded are left out of the rates for good
            # (views/enrollment_outcomes.sql), so they do not keep a cohort open.
            df[complete] = df[f"{measure}_n"] == df["enrolled_count"] - df["exit_unrecorded_count"]
        return order_programs(df).reset_index(drop=True)

    return _remember((str(extract.path), extract.version, "metrics._cohort_rates", filters), compute)


def enrollment_counts(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """Enrollments per programme type under the filters (no rates, so nothing to suppress: the
    pages show these counts as n already); empty when nothing matches."""
    return order_programs(_query(con, extract, filters, "enrollment_count_by_program"))


def extract_profile(con: duckdb.DuckDBPyConnection) -> dict:
    """Row counts and date span of the whole extract."""
    return run_query(con, "extract_profile", {}).iloc[0].to_dict()


CATALOGUE_FILE = "catalogue-{definition}.json"


def extract_catalogue(con: duckdb.DuckDBPyConnection, extract: Extract) -> dict:
    """{"catalogue": filter_catalogue, "profile": extract_profile} for this extract version, read
    from the version's derived folder when an earlier run (or the import) wrote it: the distinct
    count of people alone reads every enrollment (1.2 s at 10M), once per version is enough."""
    definition = hashlib.sha256("".join(load_sql(name) for name in ("filter_values", "extract_profile"))
                                .encode("utf-8")).hexdigest()[:12]
    path = derived_dir(extract) / CATALOGUE_FILE.format(definition=definition)
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        return {
            "catalogue": {name: tuple(values) for name, values in stored["catalogue"].items()},
            "profile": {key: pd.Timestamp(value) if key.endswith("_on") else value
                        for key, value in stored["profile"].items()},
        }
    except (OSError, ValueError, KeyError, TypeError):
        pass
    info = {"catalogue": filter_catalogue(con), "profile": extract_profile(con)}
    stored = {
        "catalogue": {name: list(values) for name, values in info["catalogue"].items()},
        "profile": {key: (None if pd.isna(value) else pd.Timestamp(value).isoformat())
                    if key.endswith("_on") else int(value)
                    for key, value in info["profile"].items()},
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        partial.write_text(json.dumps(stored, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, path)
    except OSError:
        pass  # a read-only place: answer from the query, as before
    return info


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


def first_open_month(headline: pd.DataFrame, column: str = "observed_before_180d") -> dt.date | None:
    """The first enrollment month not fully observed for a horizon (headline_figures' `column`),
    or None when every month is (the view marks that with 9999-12-01)."""
    months = headline[column].dropna() if column in headline else pd.Series(dtype="object")
    if months.empty or pd.Timestamp(months.min()).year >= 9999:
        return None
    return pd.Timestamp(months.min()).date()


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


# --------------------------------------------------------------------------- Compare programmes

COMPARED_PROGRAMS = ("skills", "mindset")
PLACEMENT_HORIZONS_DAYS = (90, 180, 365)
# Where the clock starts for the re-employment curves -> the query that counts the days.
CURVE_ORIGINS = {
    "enrollment": "time_to_placement_by_program",
    "exit": "time_to_placement_after_exit_by_program",
}
# Who enrolled: the strata of the direct standardisation (missing values are a level "unknown").
STRATA_COLUMNS = ("age_band", "gender", "education", "prior_sector", "district")


def _durations(con, extract: Extract, filters: Filters, origin: str) -> pd.DataFrame:
    if origin not in CURVE_ORIGINS:
        raise ValueError(f"origin must be one of {sorted(CURVE_ORIGINS)}, not {origin!r}")
    return _query(con, extract, filters, CURVE_ORIGINS[origin])


def reemployment_curves(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
    origin: str = "enrollment",
) -> pd.DataFrame:
    """Share re-employed by days since enrollment (origin="enrollment") or since exit ("exit"):
    1 - Kaplan-Meier per programme with its 95% band, one row per programme x day.

    `reemployed_n` is the number still at risk that day; the tail of each curve where fewer than
    `min_cell` remain at risk is suppressed (the estimate there rests on a handful of people and
    could identify them).
    """
    km = kaplan_meier_by_group(_durations(con, extract, filters, origin))
    km["origin"] = origin
    km["reemployed"] = 1.0 - km["survival"].astype("float64")
    # 1 - S flips the band: the upper survival limit is the lower re-employment limit.
    km["reemployed_low"] = 1.0 - km["survival_high"].astype("float64")
    km["reemployed_high"] = 1.0 - km["survival_low"].astype("float64")
    km["reemployed_n"] = km["at_risk"]
    km = km.drop(columns=["survival", "survival_low", "survival_high"])
    km = order_programs(km).reset_index(drop=True)
    return stats.suppress(km, min_cell=min_cell, unreliable_below=UNRELIABLE_BELOW,
                          extra={"reemployed": ["events", "censored"]})


def reemployment_logrank(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
    origin: str = "enrollment",
) -> pd.DataFrame:
    """Log-rank test of skills against mindset re-employment curves (one row); suppressed when
    either programme has fewer than `min_cell` people."""
    durations = _durations(con, extract, filters, origin)
    pair = durations[durations["program_type"].isin(COMPARED_PROGRAMS)]
    sizes = pair.groupby("program_type")[["events", "censored"]].sum().sum(axis=1)
    chi2, p_value = stats.logrank_test(pair.rename(columns={"program_type": "group", "days": "day"}))
    row = {
        "origin": origin,
        "comparison": " vs ".join(COMPARED_PROGRAMS),
        "logrank_chi2": chi2,
        "logrank_p_value": p_value,
        "logrank_chi2_n": int(min(sizes.get(p, 0) for p in COMPARED_PROGRAMS)),
    }
    for program in COMPARED_PROGRAMS:
        row[f"{program}_n"] = int(sizes.get(program, 0))
    return stats.suppress(pd.DataFrame([row]), min_cell=min_cell, unreliable_below=UNRELIABLE_BELOW,
                          extra={"logrank_chi2": ["logrank_p_value"]})


RESTRICTED_MEAN_DAYS = (180, 365, 730)


def days_without_job(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
    origin: str = "enrollment",
    horizons: tuple[int, ...] = RESTRICTED_MEAN_DAYS,
) -> pd.DataFrame:
    """Restricted mean days without a job: of the first `tau` days since enrollment (or exit),
    how many skills and mindset enrollees spent before their first job, on average, from the
    Kaplan-Meier curves (adjustment.restricted_mean_difference), and skills minus mindset with
    its 95% interval; one row per tau. Where the curves cross, this says who is ahead when, which
    the log-rank test does not. A raw comparison; suppressed when either programme has fewer
    than `min_cell` people; `reason` where a curve is not followed for tau days."""
    from reemploy import adjustment

    durations = _durations(con, extract, filters, origin)
    first, second = COMPARED_PROGRAMS
    rows = []
    for tau in horizons:
        result = adjustment.restricted_mean_difference(durations, tau, first, second)
        reasons = [r for r in (result["treated_reason"], result["control_reason"]) if r]
        rows.append({
            "origin": origin,
            "tau_days": int(tau),
            f"{first}_days": result["treated_rmst"],
            f"{second}_days": result["control_rmst"],
            f"{first}_n": int(result["treated_n"]),
            f"{second}_n": int(result["control_n"]),
            "difference": result["difference"],
            "difference_low": result["difference_low"],
            "difference_high": result["difference_high"],
            "reason": "; ".join(reasons) if reasons else None,
        })
    df = pd.DataFrame(rows)
    df["difference_n"] = df[[f"{first}_n", f"{second}_n"]].min(axis=1)
    return stats.suppress(df, min_cell=min_cell, unreliable_below=UNRELIABLE_BELOW,
                          extra={"difference": [f"{first}_days", f"{second}_days"]})


def curves_cross(curves: pd.DataFrame, margin: float = 0.01) -> bool:
    """Whether the skills and mindset curves (reemployment_curves) cross: each is ahead of the
    other by more than `margin` on some day where both are drawn."""
    wide = curves[curves["program_type"].isin(COMPARED_PROGRAMS)
                  & curves["reemployed"].notna()].pivot_table(
        index="day", columns="program_type", values="reemployed", aggfunc="first")
    if any(p not in wide for p in COMPARED_PROGRAMS):
        return False
    # Step functions: carry each curve forward to the other's days, only while both are drawn.
    wide = wide.ffill().dropna()
    gap = wide[COMPARED_PROGRAMS[0]] - wide[COMPARED_PROGRAMS[1]]
    return bool((gap > margin).any() and (gap < -margin).any())


def _placement_by_horizon(con, extract, filters, horizons) -> pd.DataFrame:
    return _query(con, extract, filters, "placement_rate_by_program_and_horizon",
                  horizons_days=tuple(int(h) for h in horizons))


def placement_rate_by_horizon(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
    horizons: tuple[int, ...] = PLACEMENT_HORIZONS_DAYS,
) -> pd.DataFrame:
    """Placement within h days of exit per programme and horizon h, with Wilson intervals.

    The denominator `placement_rate_n` is everyone followed for h days after exit, so it shrinks
    as h grows; at h = 180 the figures equal the headline placement rate.
    """
    df = add_rate(_placement_by_horizon(con, extract, filters, horizons), "placement_rate",
                  "placed_count")
    df = order_programs(df).reset_index(drop=True)
    return stats.suppress(df, min_cell=min_cell, unreliable_below=UNRELIABLE_BELOW,
                          extra={"placement_rate": ["placed_count"]})


def placement_difference_by_horizon(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
    horizons: tuple[int, ...] = PLACEMENT_HORIZONS_DAYS,
) -> pd.DataFrame:
    """Skills minus mindset placement rate within h days of exit, per horizon, with Newcombe's
    95% interval; suppressed when either programme has fewer than `min_cell` followed."""
    counts = _placement_by_horizon(con, extract, filters, horizons)
    first, second = COMPARED_PROGRAMS
    rows = []
    for horizon in horizons:
        at_horizon = counts[counts["horizon_days"] == horizon].set_index("program_type")
        row = {"horizon_days": int(horizon), "comparison": f"{first} - {second}"}
        for program in COMPARED_PROGRAMS:
            n = int(at_horizon["placement_rate_n"].get(program, 0))
            x = int(at_horizon["placed_count"].get(program, 0))
            row[f"{program}_n"] = n
            row[f"{program}_rate"] = x / n if n else np.nan
            row[f"{program}_placed"] = x
        difference, low, high = stats.newcombe_difference(
            row[f"{first}_placed"], row[f"{first}_n"], row[f"{second}_placed"], row[f"{second}_n"]
        )
        row.update(difference=difference, difference_low=low, difference_high=high,
                   difference_n=min(row[f"{first}_n"], row[f"{second}_n"]))
        rows.append(row)
    governed = [f"{p}_{c}" for p in COMPARED_PROGRAMS for c in ("rate", "placed")]
    return stats.suppress(pd.DataFrame(rows), min_cell=min_cell, unreliable_below=UNRELIABLE_BELOW,
                          extra={"difference": governed})


def programme_profile(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """The headline figures plus retention at 6 months and the wage distribution at the first
    job (10th, 25th, 50th, 75th, 90th percentiles, computed in SQL) and the wage replacement
    quartiles; one row per programme. One question (profile_by_program) answers all of it."""
    df = add_rate(_headline(con, extract, filters, "profile_by_program"),
                  "retention_6m", "retained_6m_count")
    governed = {
        **HEADLINE_NUMERATORS,
        "retention_6m": ["retained_6m_count"],
        "monthly_wage": [f"monthly_wage_p{q}" for q in (10, 25, 50, 75, 90)],
        "wage_replacement": [f"wage_replacement_p{q}" for q in (25, 50, 75)],
    }
    return stats.suppress(df, min_cell=min_cell, unreliable_below=UNRELIABLE_BELOW, extra=governed)


def employer_mix(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """Share of first jobs by employer type per programme (every type listed, zeros included),
    with Wilson intervals; a programme with fewer than `min_cell` first jobs is suppressed whole."""
    counts = _query(con, extract, filters, "employer_mix_by_program")
    programs = list(dict.fromkeys(counts["program_type"]))
    grid = pd.MultiIndex.from_product([programs, EMPLOYER_TYPES],
                                      names=["program_type", "employer_type"])
    df = (counts.set_index(["program_type", "employer_type"])["placement_count"]
          .reindex(grid, fill_value=0).astype("int64").reset_index())
    df["employer_share_n"] = df.groupby("program_type")["placement_count"].transform("sum")
    df = add_rate(df, "employer_share", "placement_count").drop(columns="employer_share_extreme")
    df = order_programs(df).reset_index(drop=True)
    df = stats.suppress(df, min_cell=min_cell, unreliable_below=UNRELIABLE_BELOW,
                        extra={"employer_share": ["placement_count"]})
    # The shares add up to 100%, so hiding one type's share hides nothing: a programme whose mix
    # names a small group (a type with 1 to min_cell - 1 first jobs), or puts everyone of a
    # small n in one type, is hidden whole (issue 13). A threshold of 1 hides nothing.
    count, n = df["placement_count"].to_numpy(dtype=float), df["employer_share_n"].to_numpy(dtype=float)
    small = (count > 0) & (count < min_cell)
    everyone = (count == n) & (n < stats.EXTREME_FACTOR * min_cell) & (min_cell > 1)
    risky = pd.Series(small | everyone).groupby(df["program_type"].to_numpy()).transform("any").to_numpy()
    return stats.suppress_cells(df, "employer_share", risky & ~df["employer_share_suppressed"].to_numpy(bool),
                                reason=stats.SUPPRESSED_EXTREME, blank=["placement_count"])


# Several figures of one page rest on the same question under the same filters (the headline
# counts under the profile, the durations under the curves and the log-rank test, the strata
# under the adjusted difference and the balance table): remember the last few answers so each
# is asked once (and a few figures computed from them, named "metrics.<function>"). Keyed by the
# extract's folder and version, the question, its filters and extras,
# so a new extract or import never reuses them; clear_memo() forgets them (the benchmark measures
# every interaction cold).
_QUERY_MEMO: OrderedDict = OrderedDict()
_QUERY_MEMO_SIZE = 32
_QUERY_LOCK = threading.Lock()


def clear_memo() -> None:
    with _QUERY_LOCK:
        _QUERY_MEMO.clear()


def _remember(key: tuple, compute, copy=lambda answer: answer.copy()):
    """compute(), or its answer from the memo under `key`; a copy, so callers may change it."""
    with _QUERY_LOCK:
        if key in _QUERY_MEMO:
            _QUERY_MEMO.move_to_end(key)
            return copy(_QUERY_MEMO[key])
    answer = compute()
    with _QUERY_LOCK:
        _QUERY_MEMO[key] = answer
        while len(_QUERY_MEMO) > _QUERY_MEMO_SIZE:
            _QUERY_MEMO.popitem(last=False)
    return copy(answer)


def _query(con, extract: Extract, filters: Filters, name: str, **extra) -> pd.DataFrame:
    """run_query(name) under the filters, answered from the memo when asked already."""
    # Extras are hashable here (tuples); DuckDB binds lists.
    bound = {k: list(v) if isinstance(v, tuple) else v for k, v in extra.items()}
    return _remember((str(extract.path), extract.version, name, filters, tuple(sorted(extra.items()))),
                     lambda: run_query(con, name, query_params(extract, filters, **bound)))


def _withheld_cells(con, extract, filters, min_cell, by, table) -> np.ndarray:
    """disclosure.withheld_cells with its counts asked once per page run (the map and the gap
    chart rest on the same breakdown)."""
    return disclosure.withheld_cells(
        con, extract, filters, min_cell, by, table,
        fetch=lambda dimension: _query(con, extract, filters, "query_set_counts", by=dimension))


def _strata(con, extract, filters) -> pd.DataFrame:
    """Placement within 180 days per programme x stratum, with the stratum's STRATA_COLUMNS."""
    counts = _query(con, extract, filters, "placement_180d_by_program_and_stratum")
    return counts.merge(_stratum_labels(con, extract), on="stratum", how="left")


# What the stratum numbers stand for depends on the extract version only (like the filter
# catalogue), so it is kept per version rather than in the query memo that clear_memo empties.
_LABELS: OrderedDict = OrderedDict()


def _stratum_labels(con, extract: Extract) -> pd.DataFrame:
    key = (str(extract.path), extract.version)
    with _QUERY_LOCK:
        if key in _LABELS:
            return _LABELS[key]
    labels = run_query(con, "stratum_labels", query_params(extract, Filters()))
    with _QUERY_LOCK:
        _LABELS[key] = labels
        while len(_LABELS) > 4:
            _LABELS.popitem(last=False)
    return labels


# The bootstrap of the standardised difference draws one Poisson count per cell and replicate:
# 200 replicates, fewer (never under 50) where the strata are many, so a page waits a bounded time.
BOOTSTRAP_CELL_DRAWS = 2_000_000

STANDARDISATION_METHOD = ("direct standardisation to the pooled skills and mindset enrollees "
                          "over age band x gender x education x prior sector x district")


def adjusted_placement_difference(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
    models: bool = True,
) -> pd.DataFrame:
    """Skills minus mindset placement within 180 days of exit, raw and adjusted for who enrolled.

    One row per `estimate`:
    - "raw": the difference of the two rates (Newcombe interval);
    - "adjusted": direct standardisation to the pooled skills + mindset population over age band
      x gender x education x prior sector x district, strata present in both programmes only,
      with a seeded bootstrap over enrollees that re-estimates the mix and the common support in
      every replicate (adjustment.bootstrap_standardised_difference);
    - "ipw", "regression", "doubly_robust": a logistic model of who enrolled in skills
      (propensity weighting), of who was placed (g-computation), and both together
      (adjustment.propensity_adjusted_differences), normal intervals from influence functions.
    Adjusted differences, not causal effects: they remove only the listed differences in who
    enrolled. `excluded_share` is the share of people in strata without common support (direct
    standardisation only); `difference_n` is the smaller programme's n (in the common support
    for the standardised row); `reason` says why an estimate could not be made. With
    models=False only the raw and standardised rows (the Overview's, without the model fits).
    """
    from reemploy import adjustment

    strata = _strata(con, extract, filters)
    first, second = COMPARED_PROGRAMS
    cells = strata.rename(columns={"placement_rate_180d_n": "n", "placed_180d_count": "x"})
    # The stratum number stands for its STRATA_COLUMNS: the same strata, grouped by one integer.
    result = stats.adjusted_difference(strata, "placement_rate_180d_n", "placed_180d_count",
                                       "program_type", ["stratum"], first, second)
    raw = stats.newcombe_difference(result["treated_x"], result["treated_n"],
                                    result["control_x"], result["control_n"])
    boot = adjustment.bootstrap_standardised_difference(cells, first, second,
                                                     max_cells_draws=BOOTSTRAP_CELL_DRAWS)
    rows = [
        {
            "estimate": "raw",
            "method": "raw difference",
            "interval": "Newcombe hybrid score, 95%",
            f"{first}_rate": result["raw_treated"],
            f"{second}_rate": result["raw_control"],
            f"{first}_n": int(result["treated_n"]),
            f"{second}_n": int(result["control_n"]),
            "difference": raw[0],
            "difference_low": raw[1],
            "difference_high": raw[2],
            "excluded_share": 0.0,
            "strata_used": np.nan,
            "reason": None,
        },
        {
            "estimate": "adjusted",
            "method": STANDARDISATION_METHOD,
            "interval": f"bootstrap over enrollees ({boot['replicates']} seeded replicates), "
                        "normal, 95%",
            f"{first}_rate": result["adjusted_treated"],
            f"{second}_rate": result["adjusted_control"],
            f"{first}_n": int(result["treated_n_common"]),
            f"{second}_n": int(result["control_n_common"]),
            "difference": result["adjusted_difference"],
            "difference_low": boot["low"],
            "difference_high": boot["high"],
            "excluded_share": result["excluded_share"],
            "strata_used": result["strata_used"],
            "reason": None,
        },
    ]
    weighted = _propensity_differences(con, extract, filters, cells) if models else {}
    for estimate, key in MODEL_ESTIMATES if models else ():
        rows.append({
            "estimate": estimate,
            "method": MODEL_METHODS[estimate],
            "interval": "normal, from the influence function, 95%",
            f"{first}_rate": weighted[f"{key}_treated"],
            f"{second}_rate": weighted[f"{key}_control"],
            f"{first}_n": int(result["treated_n_common"]),
            f"{second}_n": int(result["control_n_common"]),
            "difference": weighted[f"{key}_difference"],
            "difference_low": weighted[f"{key}_low"],
            "difference_high": weighted[f"{key}_high"],
            "excluded_share": result["excluded_share"],
            "strata_used": result["strata_used"],
            "reason": weighted[f"{key}_reason"],
        })
    df = pd.DataFrame(rows)
    df["difference_n"] = df[[f"{first}_n", f"{second}_n"]].min(axis=1)
    return stats.suppress(df, min_cell=min_cell, unreliable_below=UNRELIABLE_BELOW,
                          extra={"difference": [f"{first}_rate", f"{second}_rate"]})


# estimate -> its prefix in adjustment.propensity_adjusted_differences
MODEL_ESTIMATES = (("ipw", "ipw"), ("regression", "regression"), ("doubly_robust", "dr"))
MODEL_METHODS = {
    "ipw": "inverse-probability weighting: a logistic model of enrolling in skills rather than "
           "mindset (main effects of age band, gender, education, prior sector, district)",
    "regression": "regression adjustment: a logistic model of placement per programme, averaged "
                  "over the pooled skills and mindset enrollees",
    "doubly_robust": "doubly robust (augmented inverse-probability weighting): both models",
}


def _propensity_differences(con, extract: Extract, filters: Filters, cells: pd.DataFrame) -> dict:
    """adjustment.propensity_adjusted_differences on the strata both programmes have (the common
    support of the standardisation: a group only one programme has would make the propensity
    model separate and leave no model estimate), asked once per page run (the adjusted
    difference and the balance table both read it)."""
    from reemploy import adjustment

    return _remember(
        (str(extract.path), extract.version, "metrics._propensity_differences", filters),
        lambda: adjustment.propensity_adjusted_differences(_common_support(cells),
                                                           STRATA_COLUMNS, *COMPARED_PROGRAMS),
        copy=copy.deepcopy)


def _common_support(cells: pd.DataFrame) -> pd.DataFrame:
    """The rows of the strata in which both compared programmes have somebody (`n` > 0)."""
    present = cells[cells["n"] > 0].groupby("stratum")["program_type"].agg(set)
    common = present[present.map(set(COMPARED_PROGRAMS).issubset)].index
    return cells[cells["stratum"].isin(common)]


def covariate_balance(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """Who enrolled in skills vs mindset (among people followed 180 days after exit): per
    covariate level the shares and the standardized difference before adjustment
    (stats.balance_table); suppressed when either programme has fewer than `min_cell`."""
    strata = _strata(con, extract, filters)
    first, second = COMPARED_PROGRAMS
    df = stats.balance_table(strata, "program_type", STRATA_COLUMNS, "placement_rate_180d_n",
                             first, second)
    df = df.rename(columns={"share_treated": f"share_{first}", "share_control": f"share_{second}"})
    # After inverse-probability weighting (the "ipw" row of adjusted_placement_difference): a
    # level still far from 0 says the propensity model did not balance it.
    cells = strata.rename(columns={"placement_rate_180d_n": "n", "placed_180d_count": "x"})
    weighted = _propensity_differences(con, extract, filters, cells)["balance"]
    if len(weighted):
        after = weighted.set_index(["covariate", "level"])["std_diff_after_weighting"]
        df["std_diff_weighted"] = [after.get((c, lv), np.nan)
                                   for c, lv in zip(df["covariate"], df["level"])]
    else:
        df["std_diff_weighted"] = np.nan
    totals = strata.groupby("program_type")["placement_rate_180d_n"].sum()
    df["std_diff_raw_n"] = int(min(totals.get(p, 0) for p in COMPARED_PROGRAMS))
    return stats.suppress(df, min_cell=min_cell, unreliable_below=UNRELIABLE_BELOW,
                          extra={"std_diff_raw": [f"share_{first}", f"share_{second}",
                                                  "share_pooled", "std_diff_weighted"]})


# The measures whose skills-minus-mindset difference the Overview and the pack set side by side:
# measure -> (its numerator in headline_figures, the clock it is read on).
DIFFERENCE_MEASURES = {
    "placement_rate_180d": ("placed_180d_count", "from exit"),
    "placement_rate_180d_from_enrollment": ("placed_180d_from_enrollment_count", "from enrollment"),
    "employment_rate_q2_after_exit": ("employed_q2_after_exit_count", "from exit"),
    "employment_rate_q4_after_exit": ("employed_q4_after_exit_count", "from exit"),
}


def program_differences(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """Skills minus mindset on every clock, one row per measure and estimate: the raw difference
    of each DIFFERENCE_MEASURES rate (Newcombe 95%), then the standardised difference of
    placement within 180 days of exit (adjusted_placement_difference without the models). Columns: ``measure, estimate,
    method, interval, clock, skills_rate, mindset_rate, skills_n, mindset_n, difference,
    difference_low, difference_high, difference_n, excluded_share``; a difference is suppressed
    when either programme has fewer than `min_cell` in its denominator."""
    headline = {row["program_type"]: row
                for row in _headline(con, extract, filters, "headline_by_program").to_dict("records")}
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


# --------------------------------------------------------------------------- Trends

# change column -> months back to the cohort it is compared with
CHANGE_LAGS = {"change_vs_previous_quarter": 3, "change_vs_year_earlier": 12}


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
    # A dict, not .loc on a MultiIndex: looked up twice per quarter shown (7 ms of the page).
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
    # Every difference in one vectorised call (one call per pair took 6 ms of the page).
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


# --------------------------------------------------------------------------- Who benefits

# The characteristics compared on Who benefits and their levels in display order.
CHARACTERISTIC_LEVELS = {
    "age_band": AGE_BANDS + ("unknown",),
    "gender": GENDERS + ("unknown",),
    "education": EDUCATION_LEVELS + ("unknown",),
}
# measure -> its numerator; None for the median wage, whose interval comes from the query.
CHARACTERISTIC_MEASURES = {
    "placement_rate_180d": "placed_180d_count",
    "retention_12m": "retained_12m_count",
    "median_monthly_wage": None,
}


def _characteristic_outcomes(con, extract: Extract, filters: Filters) -> pd.DataFrame:
    df = _query(con, extract, filters, "outcomes_by_characteristic")
    for measure, successes in CHARACTERISTIC_MEASURES.items():
        if successes:
            df = add_rate(df, measure, successes)
    return _order_levels(order_programs(df))


def _order_levels(df: pd.DataFrame) -> pd.DataFrame:
    """Rows by characteristic, then level, in CHARACTERISTIC_LEVELS order (stable otherwise)."""
    names = list(CHARACTERISTIC_LEVELS)

    def rank(characteristic: str, level: str) -> int:
        levels = CHARACTERISTIC_LEVELS.get(characteristic, ())
        return (names.index(characteristic) if characteristic in names else len(names)) * 100 + (
            levels.index(level) if level in levels else 99)

    ranks = [rank(c, level) for c, level in zip(df["characteristic"], df["level"])]
    return df.iloc[np.argsort(ranks, kind="stable")].reset_index(drop=True)


def outcomes_by_characteristic(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """Placement within 180 days of exit, retention at 12 months (Wilson intervals) and the median
    wage of the first job (order-statistic interval) per programme x characteristic (age band,
    gender, education) x level; one row per cell, in display order; numerators suppressed with
    their rates. A programme's levels of one characteristic add up to its headline figure, so
    the rates' suppression is complementary (suppress_breakdown); medians do not add up."""
    rates = {m: s for m, s in CHARACTERISTIC_MEASURES.items() if s}
    return suppress_breakdown(_characteristic_outcomes(con, extract, filters), rates, min_cell,
                              groups=("program_type", "characteristic"))


def program_gaps_by_characteristic(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
    measure: str = "placement_rate_180d",
) -> pd.DataFrame:
    """Skills minus mindset for one measure of CHARACTERISTIC_MEASURES at every characteristic x
    level where both programmes have people: `gap` with its 95% interval (Newcombe for rates;
    for the median wage, stats.difference_from_intervals on the two medians' intervals).

    A raw difference within the level, not a causal effect. `gap_n` is the smaller programme's
    denominator, so the gap is suppressed whenever either programme's figure is.
    """
    return characteristic_gaps(outcomes_by_characteristic(con, extract, filters, min_cell),
                               measure, min_cell)


def adjusted_gaps_by_characteristic(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """Skills minus mindset placement within 180 days of exit within each age band, gender and
    education level, adjusted for who enrolled within the group: direct standardisation over the
    strata (the other characteristics, prior sector, district) of that level, with the seeded
    bootstrap interval of adjusted_placement_difference. Same columns as characteristic_gaps
    (`gap` etc.), so the same sentences read it. A gap is suppressed where the group's raw gap is
    (too small, or a side hidden as a complementary cell), and where either programme has fewer
    than `min_cell` people in the group's common support."""
    from reemploy import adjustment

    first, second = COMPARED_PROGRAMS
    cells = _strata(con, extract, filters).rename(
        columns={"placement_rate_180d_n": "n", "placed_180d_count": "x"})
    raw = characteristic_gaps(outcomes_by_characteristic(con, extract, filters, min_cell),
                              "placement_rate_180d", min_cell)
    raw_hidden = {(r["characteristic"], r["level"]) for r in raw.to_dict("records")
                  if r["gap_suppressed"]}
    levels = {"age_band": cells["age_band"], "gender": cells["gender"],
              "education": cells["education"]}
    rows = []
    for characteristic, column in levels.items():
        for level in CHARACTERISTIC_LEVELS[characteristic]:
            part = cells[column == level]
            if part.empty or not part["program_type"].isin([first]).any() \
                    or not part["program_type"].isin([second]).any():
                continue
            # A quarter of the page budget per group: the page asks for fourteen of them.
            result = adjustment.bootstrap_standardised_difference(
                part, first, second, max_cells_draws=BOOTSTRAP_CELL_DRAWS // 4)
            supported = _common_support(part).groupby("program_type")["n"].sum()
            n_first, n_second = (int(supported.get(p, 0)) for p in COMPARED_PROGRAMS)
            rows.append({
                "characteristic": characteristic, "level": level,
                "measure": "placement_rate_180d",
                f"{first}_placement_rate_180d": result["adjusted_treated"],
                f"{second}_placement_rate_180d": result["adjusted_control"],
                f"{first}_n": n_first, f"{second}_n": n_second,
                "gap": result["adjusted_difference"], "gap_low": result["low"],
                "gap_high": result["high"], "gap_n": min(n_first, n_second),
                "excluded_share": result["excluded_share"],
                "side_hidden": (characteristic, level) in raw_hidden,
            })
    columns = ["characteristic", "level", "measure", f"{first}_placement_rate_180d",
               f"{second}_placement_rate_180d", f"{first}_n", f"{second}_n", "gap", "gap_low",
               "gap_high", "gap_n", "excluded_share"]
    df = _order_levels(pd.DataFrame(rows, columns=columns + ["side_hidden"]))
    sides = [f"{first}_placement_rate_180d", f"{second}_placement_rate_180d"]
    df = stats.suppress(df, min_cell=min_cell, unreliable_below=UNRELIABLE_BELOW,
                        extra={"gap": sides})
    return stats.suppress_cells(df, "gap", df.pop("side_hidden").to_numpy(dtype=bool), blank=sides)


def characteristic_gaps(cells: pd.DataFrame, measure: str,
                        min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """program_gaps_by_characteristic from an outcomes_by_characteristic result, so a page that
    has loaded the cells does not query again. A gap is suppressed whenever either programme's
    cell is (too small, or hidden as a complementary cell): the gap and one side give the other."""
    successes = CHARACTERISTIC_MEASURES[measure]
    first, second = COMPARED_PROGRAMS
    values = [measure, f"{measure}_low", f"{measure}_high", f"{measure}_n", f"{measure}_suppressed"]
    values += [successes] if successes else []
    # Both programmes' columns even when the filters leave one of them without anybody.
    wide = (cells[cells["program_type"].isin(COMPARED_PROGRAMS)]
            .pivot(index=["characteristic", "level"], columns="program_type", values=values)
            .reindex(columns=pd.MultiIndex.from_product([values, COMPARED_PROGRAMS])))
    rows = []
    for (characteristic, level), cell in wide.iterrows():
        if any(pd.isna(cell[(f"{measure}_n", p)]) for p in COMPARED_PROGRAMS):
            continue
        a, b = ({k: cell[(k, p)] for k in values} for p in COMPARED_PROGRAMS)
        if successes:
            gap = stats.newcombe_difference(a[successes], a[f"{measure}_n"],
                                            b[successes], b[f"{measure}_n"])
        else:
            gap = stats.difference_from_intervals(
                *(a[k] for k in (measure, f"{measure}_low", f"{measure}_high")),
                *(b[k] for k in (measure, f"{measure}_low", f"{measure}_high")),
            )
        rows.append({
            "characteristic": characteristic,
            "level": level,
            "measure": measure,
            f"{first}_{measure}": a[measure],
            f"{second}_{measure}": b[measure],
            f"{first}_n": int(a[f"{measure}_n"]),
            f"{second}_n": int(b[f"{measure}_n"]),
            "gap": gap[0],
            "gap_low": gap[1],
            "gap_high": gap[2],
            "gap_n": int(min(a[f"{measure}_n"], b[f"{measure}_n"])),
            "side_hidden": bool(a[f"{measure}_suppressed"]) or bool(b[f"{measure}_suppressed"]),
        })
    columns = ["characteristic", "level", "measure", f"{first}_{measure}", f"{second}_{measure}",
               f"{first}_n", f"{second}_n", "gap", "gap_low", "gap_high", "gap_n"]
    df = _order_levels(pd.DataFrame(rows, columns=columns + ["side_hidden"]))
    sides = [f"{first}_{measure}", f"{second}_{measure}"]
    df = stats.suppress(df, min_cell=min_cell, unreliable_below=UNRELIABLE_BELOW,
                        extra={"gap": sides})
    return stats.suppress_cells(df, "gap", df.pop("side_hidden").to_numpy(dtype=bool), blank=sides)


# --------------------------------------------------------------------------- Districts and sectors

FLOW_COLUMNS = ("prior_sector", "placement_sector", "placement_employer_type")
# The node every flow under min_cell is folded into, in whichever column it had to be folded.
SMALL_FLOWS = "other (small flows)"
FLOW_STAGES = {
    "prior_to_sector": ("prior_sector", "placement_sector"),
    "sector_to_employer": ("placement_sector", "placement_employer_type"),
}


def _km_medians_by(durations: pd.DataFrame, dimension: str) -> pd.DataFrame:
    parts = []
    for value, part in durations.groupby(dimension, sort=False):
        medians = km_medians(part)
        medians.insert(0, dimension, value)
        parts.append(medians)
    if not parts:
        return pd.DataFrame(columns=[dimension, "program_type", "median_days_to_placement",
                                     "median_days_to_placement_n"])
    return pd.concat(parts, ignore_index=True)


def outcomes_by_district(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """One row per district x programme: enrolled, placement within 180 days of exit (Wilson
    95%), Kaplan-Meier median days from enrollment to the first job and the median first-job
    wage, each with its denominator; suppressed (numerators with their rates; a programme's
    districts add up to its headline figure, so the rate's suppression is complementary)."""
    df = add_rate(_query(con, extract, filters, "placement_rate_by_district"), "placement_rate_180d",
                  "placed_180d_count")
    medians = _km_medians_by(_query(con, extract, filters, "time_to_placement_by_district"),
                             "district")
    df = df.merge(medians, on=["district", "program_type"], how="left")
    df["median_days_to_placement_n"] = df["median_days_to_placement_n"].fillna(0).astype("int64")
    df["median_days_to_placement"] = df["median_days_to_placement"].astype("float64")
    df = order_programs(df).sort_values("district", kind="stable").reset_index(drop=True)
    return suppress_breakdown(df, {"placement_rate_180d": "placed_180d_count"}, min_cell,
                              withheld=_withheld_cells(con, extract, filters, min_cell, "district", df))


def _placement_gap_by(counts: pd.DataFrame, dimension: str, min_cell: int,
                      withheld=None) -> pd.DataFrame:
    """Skills and mindset placement within 180 days per value of `dimension` (Wilson) and the gap
    skills minus mindset (Newcombe). `gap_n` is the smaller side's denominator, so the gap is
    suppressed whenever either side is."""
    first, second = COMPARED_PROGRAMS
    rows = []
    for value, part in counts.groupby(dimension, sort=True):
        sides = part.set_index("program_type")
        row = {dimension: value}
        for program in COMPARED_PROGRAMS:
            n = int(sides["placement_rate_180d_n"].get(program, 0))
            x = int(sides["placed_180d_count"].get(program, 0))
            low, high = stats.wilson_interval(x, n)
            row.update({
                f"{program}_enrolled_count": int(sides["enrolled_count"].get(program, 0)),
                f"{program}_placement_rate_180d_n": n,
                f"{program}_placed_180d_count": x,
                f"{program}_placement_rate_180d": x / n if n else np.nan,
                f"{program}_placement_rate_180d_low": low,
                f"{program}_placement_rate_180d_high": high,
            })
        gap, low, high = stats.newcombe_difference(
            row[f"{first}_placed_180d_count"], row[f"{first}_placement_rate_180d_n"],
            row[f"{second}_placed_180d_count"], row[f"{second}_placement_rate_180d_n"],
        )
        row.update(gap=gap, gap_low=low, gap_high=high,
                   gap_n=min(row[f"{p}_placement_rate_180d_n"] for p in COMPARED_PROGRAMS))
        rows.append(row)
    columns = [dimension] + [
        f"{p}_{c}" for p in COMPARED_PROGRAMS
        for c in ("enrolled_count", "placement_rate_180d_n", "placed_180d_count",
                  "placement_rate_180d", "placement_rate_180d_low", "placement_rate_180d_high")
    ] + ["gap", "gap_low", "gap_high", "gap_n"]
    df = pd.DataFrame(rows, columns=columns)
    extra = {f"{p}_placement_rate_180d": [f"{p}_placed_180d_count"] for p in COMPARED_PROGRAMS}
    df = stats.suppress(df, min_cell=min_cell, unreliable_below=UNRELIABLE_BELOW, extra=extra)
    # Hide what the long table of the same counts (outcomes_by_district) hides, complementary
    # cells included, and every gap with a hidden side: the gap and one side give the other.
    long = order_programs(add_rate(counts.copy(), "placement_rate_180d", "placed_180d_count"))
    long = long.sort_values(dimension, kind="stable").reset_index(drop=True)
    long = suppress_breakdown(long, {"placement_rate_180d": "placed_180d_count"}, min_cell,
                              withheld=None if withheld is None else withheld(long))
    hidden = long[long["placement_rate_180d_suppressed"]]
    any_side = np.zeros(len(df), dtype=bool)
    for program in COMPARED_PROGRAMS:
        side = df[dimension].isin(hidden.loc[hidden["program_type"] == program, dimension]).to_numpy()
        df = stats.suppress_cells(df, f"{program}_placement_rate_180d", side,
                                  blank=[f"{program}_placed_180d_count"])
        any_side |= df[f"{program}_placement_rate_180d_suppressed"].to_numpy(dtype=bool)
    return stats.suppress_cells(df, "gap", any_side)


def placement_gap_by_district(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """One row per district with enrollments: skills and mindset placement within 180 days of
    exit (Wilson 95%) and the gap skills minus mindset (`gap`, Newcombe 95%), a raw difference
    within the district, not an effect; the gap is suppressed when either side is (complementary
    cells included, as in outcomes_by_district)."""
    counts = _query(con, extract, filters, "placement_rate_by_district")
    return _placement_gap_by(counts, "district", min_cell, withheld=lambda long: _withheld_cells(
        con, extract, filters, min_cell, "district", long))


def placement_rate_by_prior_sector(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """One row per prior sector x programme: placement within 180 days of exit with its Wilson
    95% interval and denominator; suppressed (the numerator with the rate; complementary, as
    a programme's sectors add up to its headline figure)."""
    df = _query(con, extract, filters, "placement_rate_by_prior_sector")
    df = add_rate(df, "placement_rate_180d", "placed_180d_count")
    df = order_programs(df).sort_values("prior_sector", kind="stable").reset_index(drop=True)
    return suppress_breakdown(df, {"placement_rate_180d": "placed_180d_count"}, min_cell,
                              withheld=_withheld_cells(con, extract, filters, min_cell, "prior_sector", df))


def fold_small_flows(paths: pd.DataFrame, min_cell: int) -> tuple[pd.DataFrame, int]:
    """Fold every flow of fewer than `min_cell` people into SMALL_FLOWS; return the folded paths
    and the number of people left out.

    `paths` has one row per FLOW_COLUMNS combination with `placement_count`. A flow is the sum
    over paths between two adjacent columns (prior sector -> new sector, new sector -> employer
    type). A small flow is folded by relabelling, on its paths, the target as SMALL_FLOWS, or the
    source once the target already is; the relabelling is done on whole paths so the middle
    column still balances (in = out). Only paths whose small flow runs from SMALL_FLOWS to
    SMALL_FLOWS cannot be folded any further: they are left out and counted, so the drawn total
    plus the left-out count is always the total.
    """
    columns = list(FLOW_COLUMNS)
    kept = paths.loc[paths["placement_count"] > 0, columns + ["placement_count"]]
    # The passes work on integer codes per column (SMALL_FLOWS one of them) and sum flows with
    # bincount: grouping the texts with pandas on every pass took 100 ms and more for a page
    # under a narrow filter, where most flows are small. Paths that become alike are merged at
    # the end; a flow is a sum over paths either way.
    codes, labels, small_code = {}, {}, {}
    for column in columns:
        code, values = pd.factorize(kept[column], use_na_sentinel=False)
        values = list(values)
        if SMALL_FLOWS not in values:
            values.append(SMALL_FLOWS)
        codes[column], labels[column] = code.astype(np.int64), np.array(values, dtype=object)
        small_code[column] = values.index(SMALL_FLOWS)
    count = kept["placement_count"].to_numpy(dtype=np.int64)
    left_out = 0
    changed, folded_any = True, False
    # Each pass only ever relabels towards SMALL_FLOWS or drops paths, so the loop ends.
    while changed:
        changed = False
        for source, target in FLOW_STAGES.values():
            pair = codes[source] * len(labels[target]) + codes[target]
            flow = np.bincount(pair, weights=count)[pair]
            small = flow < min_cell
            if not small.any():
                continue
            changed = folded_any = True
            fold_target = small & (codes[target] != small_code[target])
            fold_source = small & ~fold_target & (codes[source] != small_code[source])
            stuck = small & ~fold_target & ~fold_source
            codes[target] = np.where(fold_target, small_code[target], codes[target])
            codes[source] = np.where(fold_source, small_code[source], codes[source])
            left_out += int(count[stuck].sum())
            codes = {column: code[~stuck] for column, code in codes.items()}
            count = count[~stuck]
    if not folded_any:
        return kept.reset_index(drop=True), left_out
    folded = pd.DataFrame({column: pd.Series(labels[column][codes[column]], dtype=kept[column].dtype)
                           for column in columns})
    folded["placement_count"] = count
    folded = folded.groupby(columns, as_index=False, sort=True)["placement_count"].sum()
    return folded.reset_index(drop=True), left_out


def placement_flows_by_sector(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """First placements flowing from the prior sector to the new job's sector and on to its
    employer type, per programme, for a Sankey: one row per programme x stage x source x target
    with `placement_count` people, after fold_small_flows, plus one row per programme with
    stage "left_out" where some people are in flows too small to draw even after folding.

    `placement_count_n` is the count itself: a flow (or the left-out count) under `min_cell` is
    suppressed, which after folding only the left-out row can be.
    """
    paths = _query(con, extract, filters, "placement_flows_by_sector")
    frames = []
    for program, part in paths.groupby("program_type", sort=False):
        folded, left_out = fold_small_flows(part, min_cell)
        for stage, (source, target) in FLOW_STAGES.items():
            links = (folded.groupby([source, target], as_index=False, sort=True)["placement_count"]
                     .sum().rename(columns={source: "source", target: "target"}))
            links.insert(0, "stage", stage)
            links.insert(0, "program_type", program)
            frames.append(links)
        if left_out:
            frames.append(pd.DataFrame([{"program_type": program, "stage": "left_out",
                                         "source": SMALL_FLOWS, "target": SMALL_FLOWS,
                                         "placement_count": left_out}]))
    columns = ["program_type", "stage", "source", "target", "placement_count"]
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    df["placement_count"] = df["placement_count"].astype("int64")
    df["placement_count_n"] = df["placement_count"]
    df = order_programs(df).reset_index(drop=True)
    return stats.suppress(df, min_cell=min_cell, unreliable_below=UNRELIABLE_BELOW)
