"""Districts: each district's figures per programme and the skills-minus-mindset gap per
district (and per prior sector: the same arithmetic)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from reemploy import stats
from reemploy.cache import answer
from reemploy.disclosure import withheld_cells
from reemploy.extracts import Extract
from reemploy.figures.common import (
    COMPARED_PROGRAMS,
    DEFAULT_MIN_CELL,
    UNRELIABLE_BELOW,
    add_rate,
    ask,
    km_medians_by,
    order_programs,
    suppress_breakdown,
    time_to_placement,
)
from reemploy.filters import Filters


@answer
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
    df = add_rate(ask(con, extract, filters, "outcomes_by_district"), "placement_rate_180d",
                  "placed_180d_count")
    medians = km_medians_by(time_to_placement(con, extract, filters, by_district=True), "district")
    df = df.merge(medians, on=["district", "program_type"], how="left")
    df["median_days_to_placement_n"] = df["median_days_to_placement_n"].fillna(0).astype("int64")
    df["median_days_to_placement"] = df["median_days_to_placement"].astype("float64")
    df = order_programs(df).sort_values("district", kind="stable").reset_index(drop=True)
    return suppress_breakdown(df, {"placement_rate_180d": "placed_180d_count"}, min_cell,
                              withheld=withheld_cells(con, extract, filters, min_cell, "district", df))


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


@answer
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
    counts = ask(con, extract, filters, "outcomes_by_district")
    return _placement_gap_by(counts, "district", min_cell, withheld=lambda long: withheld_cells(
        con, extract, filters, min_cell, "district", long))
