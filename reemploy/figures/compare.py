"""Compare programmes: re-employment curves, placement by horizon, the programme profile's
employers, and skills minus mindset raw and adjusted for who enrolled."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from reemploy import adjustment, stats
from reemploy.cache import answer
from reemploy.contract import EMPLOYER_TYPES
from reemploy.extracts import Extract
from reemploy.figures.common import (
    COMPARED_PROGRAMS,
    DEFAULT_MIN_CELL,
    UNRELIABLE_BELOW,
    add_rate,
    ask,
    kaplan_meier_by_group,
    order_programs,
    time_to_placement,
)
from reemploy.filters import Filters

PLACEMENT_HORIZONS_DAYS = (90, 180, 365)
# Who enrolled: the strata of the direct standardisation (missing values are a level "unknown").
STRATA_COLUMNS = ("age_band", "gender", "education", "prior_sector", "district")
RESTRICTED_MEAN_DAYS = (180, 365, 730)


@answer
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
    km = kaplan_meier_by_group(time_to_placement(con, extract, filters, origin))
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


@answer
def reemployment_logrank(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
    origin: str = "enrollment",
) -> pd.DataFrame:
    """Log-rank test of skills against mindset re-employment curves (one row); suppressed when
    either programme has fewer than `min_cell` people."""
    durations = time_to_placement(con, extract, filters, origin)
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


@answer
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
    durations = time_to_placement(con, extract, filters, origin)
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


@answer
def placement_rate_by_program_and_horizon(
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
    df = add_rate(ask(con, extract, filters, "placement_rate_by_program_and_horizon", horizons_days=tuple(int(h) for h in horizons)), "placement_rate",
                  "placed_count")
    df = order_programs(df).reset_index(drop=True)
    return stats.suppress(df, min_cell=min_cell, unreliable_below=UNRELIABLE_BELOW,
                          extra={"placement_rate": ["placed_count"]})


@answer
def placement_difference_by_horizon(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
    horizons: tuple[int, ...] = PLACEMENT_HORIZONS_DAYS,
) -> pd.DataFrame:
    """Skills minus mindset placement rate within h days of exit, per horizon, with Newcombe's
    95% interval; suppressed when either programme has fewer than `min_cell` followed."""
    counts = ask(con, extract, filters, "placement_rate_by_program_and_horizon", horizons_days=tuple(int(h) for h in horizons))
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


@answer
def employer_mix_by_program(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """Share of first jobs by employer type per programme (every type listed, zeros included),
    with Wilson intervals; a programme with fewer than `min_cell` first jobs is suppressed whole."""
    counts = ask(con, extract, filters, "employer_mix_by_program")
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


# The bootstrap of the standardised difference draws one Poisson count per cell and replicate:
# 200 replicates, fewer (never under 50) where the strata are many, so a page waits a bounded time.
BOOTSTRAP_CELL_DRAWS = 2_000_000


STANDARDISATION_METHOD = ("direct standardisation to the pooled skills and mindset enrollees "
                          "over age band x gender x education x prior sector x district")


@answer
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
    strata = placement_180d_by_program_and_stratum(con, extract, filters)
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
    weighted = _propensity_differences(con, extract, filters) if models else {}
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


@answer
def _propensity_differences(con, extract: Extract, filters: Filters) -> dict:
    """adjustment.propensity_adjusted_differences on the strata both programmes have (the common
    support of the standardisation: a group only one programme has would make the propensity
    model separate and leave no model estimate); the adjusted difference and the balance chart
    both read it."""
    return adjustment.propensity_adjusted_differences(common_support(stratum_cells(con, extract, filters)),
                                                      STRATA_COLUMNS, *COMPARED_PROGRAMS)


def common_support(cells: pd.DataFrame) -> pd.DataFrame:
    """The rows of the strata in which both compared programmes have somebody (`n` > 0)."""
    present = cells[cells["n"] > 0].groupby("stratum")["program_type"].agg(set)
    common = present[present.map(set(COMPARED_PROGRAMS).issubset)].index
    return cells[cells["stratum"].isin(common)]


def placement_180d_by_program_and_stratum(con, extract: Extract, filters: Filters) -> pd.DataFrame:
    """Placement within 180 days per programme x stratum, with the stratum's STRATA_COLUMNS."""
    counts = ask(con, extract, filters, "placement_180d_by_program_and_stratum")
    labels = ask(con, extract, Filters(), "stratum_labels")
    return counts.merge(labels, on="stratum", how="left")


def stratum_cells(con, extract: Extract, filters: Filters) -> pd.DataFrame:
    """placement_180d_by_program_and_stratum() with the count columns named as the adjustment functions read them."""
    return placement_180d_by_program_and_stratum(con, extract, filters).rename(
        columns={"placement_rate_180d_n": "n", "placed_180d_count": "x"})


@answer
def covariate_balance(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """Who enrolled in skills vs mindset (among people followed 180 days after exit): per
    covariate level the shares and the standardized difference before adjustment
    (stats.balance_table); suppressed when either programme has fewer than `min_cell`."""
    strata = placement_180d_by_program_and_stratum(con, extract, filters)
    first, second = COMPARED_PROGRAMS
    df = stats.balance_table(strata, "program_type", STRATA_COLUMNS, "placement_rate_180d_n",
                             first, second)
    df = df.rename(columns={"share_treated": f"share_{first}", "share_control": f"share_{second}"})
    # After inverse-probability weighting (the "ipw" row of adjusted_placement_difference): a
    # level still far from 0 says the propensity model did not balance it.
    weighted = _propensity_differences(con, extract, filters)["balance"]
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
