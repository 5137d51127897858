"""Folding the small flows of a Sankey so that none drawn holds fewer than min_cell people."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reemploy.i18n import N_

FLOW_COLUMNS = ("prior_sector", "placement_sector", "placement_employer_type")


# The node every flow under min_cell is folded into, in whichever column it had to be folded.
# A code in the answers (reemploy.figures keep it as it is); the charts show it translated.
SMALL_FLOWS = N_("other (small flows)")


FLOW_STAGES = {
    "prior_to_sector": ("prior_sector", "placement_sector"),
    "sector_to_employer": ("placement_sector", "placement_employer_type"),
}


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
    # bincount rather than grouping texts on every pass (docs/performance.md). Paths that become
    # alike are merged at the end; a flow is a sum over paths either way.
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


def flow_matrix(flows: pd.DataFrame, program: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The prior sector -> new sector flows of one programme (placement_flows_by_sector, already
    folded and suppressed) as a grid: (counts, shares), prior sectors as rows, new sectors as
    columns, each ordered by its number of first jobs with SMALL_FLOWS last.

    Nothing is computed but the reshaping: a count is a drawn flow of the answer; a cell with no
    drawn flow (none, or folded into SMALL_FLOWS because it was small) or a suppressed one is NaN,
    and so is its share. A share is the cell's count over its row's drawn count, the share of the
    row's first jobs that are drawn (folded flows sit in the SMALL_FLOWS row or column).
    """
    part = flows[(flows["program_type"] == program) & (flows["stage"] == "prior_to_sector")]
    part = part[~part["placement_count_suppressed"].astype(bool) & part["placement_count"].notna()]
    if part.empty:
        empty = pd.DataFrame(dtype="float64")
        return empty, empty.copy()
    counts = part.pivot_table(index="source", columns="target", values="placement_count",
                              aggfunc="sum").astype("float64")

    def order(totals: pd.Series) -> list[str]:
        frame = pd.DataFrame({"name": totals.index, "total": totals.to_numpy()})
        frame["small"] = frame["name"] == SMALL_FLOWS
        frame = frame.sort_values(["small", "total", "name"], ascending=[True, False, True],
                                  kind="stable")
        return frame["name"].tolist()

    counts = counts.loc[order(counts.sum(axis=1)), order(counts.sum(axis=0))]
    counts.index.name, counts.columns.name = "prior_sector", "placement_sector"
    shares = counts.div(counts.sum(axis=1), axis=0)
    return counts, shares
