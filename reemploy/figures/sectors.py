"""Sectors: placement by the sector of the lost job, and the flows from it to the sector and
employer of the first new job."""

from __future__ import annotations

import duckdb
import pandas as pd

from reemploy import stats
from reemploy.cache import answer
from reemploy.disclosure import withheld_cells
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
from reemploy.flows import FLOW_STAGES, SMALL_FLOWS, fold_small_flows


@answer
def placement_rate_by_prior_sector(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    filters: Filters,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """One row per prior sector x programme: placement within 180 days of exit with its Wilson
    95% interval and denominator; suppressed (the numerator with the rate; complementary, as
    a programme's sectors add up to its headline figure)."""
    df = ask(con, extract, filters, "placement_rate_by_prior_sector")
    df = add_rate(df, "placement_rate_180d", "placed_180d_count")
    df = order_programs(df).sort_values("prior_sector", kind="stable").reset_index(drop=True)
    return suppress_breakdown(df, {"placement_rate_180d": "placed_180d_count"}, min_cell,
                              withheld=withheld_cells(con, extract, filters, min_cell, "prior_sector", df))


@answer
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
    paths = ask(con, extract, filters, "placement_flows_by_sector")
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
