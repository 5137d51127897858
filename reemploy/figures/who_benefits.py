"""Who benefits: each programme's outcomes by age band, gender and education, and the
skills-minus-mindset gap within each group, raw and adjusted for who enrolled."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from reemploy import adjustment, stats
from reemploy.cache import answer
from reemploy.contract import AGE_BANDS, EDUCATION_LEVELS, GENDERS
from reemploy.extracts import Extract
from reemploy.figures.common import (
    COMPARED_PROGRAMS,
    DEFAULT_MIN_CELL,
    UNRELIABLE_BELOW,
    add_rate,
    ask,
    order_programs,
    suppress_breakdown,
)
from reemploy.figures.compare import BOOTSTRAP_CELL_DRAWS, common_support, stratum_cells
from reemploy.filters import Filters

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


@answer
def _characteristic_outcomes(con, extract: Extract, filters: Filters) -> pd.DataFrame:
    df = ask(con, extract, filters, "outcomes_by_characteristic")
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


@answer
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


@answer
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


@answer
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
    first, second = COMPARED_PROGRAMS
    cells = stratum_cells(con, extract, filters)
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
            supported = common_support(part).groupby("program_type")["n"].sum()
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
