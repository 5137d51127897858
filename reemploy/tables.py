"""Tables as people read them: reemploy.figures DataFrames turned into labelled text cells.

Pure pandas (no Streamlit): the pages show these with st.dataframe, the tests read them.
Suppressed cells say so instead of showing a blank or a zero.
"""

from __future__ import annotations

import pandas as pd

from reemploy import formatting as fmt
from reemploy.labels import program_label

# (value column, measure that carries _n / _suppressed / _low / _high, label, kind)
PROFILE_ROWS = (
    ("completion_rate", "completion_rate", "Completed the course", "rate"),
    ("placement_rate_180d", "placement_rate_180d", "Placed within 180 days of exit", "rate"),
    ("retention_6m", "retention_6m", "First job lasted 6 months (among those placed)", "rate"),
    ("retention_12m", "retention_12m", "First job lasted 12 months (among those placed)", "rate"),
    ("monthly_wage_p50", "monthly_wage", "Median monthly wage, first job", "money"),
    ("wage_replacement_p50", "wage_replacement", "Median wage replacement (new / lost wage)",
     "ratio"),
    ("cost_per_placement", "cost_per_placement", "Cost per placement within 180 days", "money"),
)
# No course, so no completion and no course cost to spread over placements.
NOT_APPLICABLE = {("none", "completion_rate"), ("none", "cost_per_placement")}


def _cell(row: dict, value_column: str, measure: str, kind: str, min_cell: int) -> str:
    n = row.get(f"{measure}_n")
    # An n that would give a suppressed count back is itself blanked (cost per placement's n
    # is the number placed): then the cell only says it is suppressed.
    n_text = "" if fmt.is_missing(n) else f", n = {int(n):,}"
    if row.get(f"{measure}_suppressed", False):
        return fmt.suppressed_text(min_cell) + n_text
    value = row.get(value_column)
    if kind == "rate":
        text = fmt.percent(value)
        low, high = row.get(f"{measure}_low"), row.get(f"{measure}_high")
        if not (fmt.is_missing(low) or fmt.is_missing(high)):
            text += f" [{low * 100:.1f}–{high * 100:.1f}]"
    elif kind == "ratio":
        text = "–" if fmt.is_missing(value) else f"{value:.2f}"
    else:
        text = fmt.number(value, unit="yuan")
    flag = ", unreliable (n < 30)" if row.get(f"{measure}_unreliable", False) else ""
    return f"{text}{n_text}{flag}"


def programme_profile_table(profile: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """One row per measure, one column per programme (label), cells like
    "85.7% [85.5–85.9], n = 78,675" (95% Wilson interval in brackets); suppressed cells say
    "suppressed (n < 10)"."""
    records = profile.to_dict("records")
    table = {"Measure": ["Enrolled"] + [label for _, _, label, _ in PROFILE_ROWS]}
    for row in records:
        program = row["program_type"]
        cells = [f"{int(row['enrolled_count']):,}"]
        for value_column, measure, _, kind in PROFILE_ROWS:
            if (program, measure) in NOT_APPLICABLE:
                cells.append("not applicable")
            else:
                cells.append(_cell(row, value_column, measure, kind, min_cell))
        table[program_label(program)] = cells
    return pd.DataFrame(table)


ESTIMATE_LABELS = {
    "raw": "raw",
    "adjusted": "adjusted: standardised to the same mix of people",
    "ipw": "adjusted: inverse-probability weighted",
    "regression": "adjusted: regression",
    "doubly_robust": "adjusted: doubly robust",
}


def program_differences_table(differences: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """figures.headline.program_differences as people read it: one row per measure and estimate with
    both programmes' rates, the difference in percentage points with its 95% interval, and
    which way it points."""
    from reemploy.definitions import metric_label
    from reemploy.figures.common import COMPARED_PROGRAMS

    first, second = COMPARED_PROGRAMS
    rows = []
    for row in differences.to_dict("records"):
        if isinstance(row.get("reason"), str):
            difference, reading = f"not estimated ({row['reason']})", ""
        elif row.get("difference_suppressed", False):
            difference, reading = fmt.suppressed_text(min_cell), ""
        elif fmt.is_missing(row["difference"]) or fmt.is_missing(row["difference_low"]):
            difference, reading = "–", ""
        else:
            difference = (f"{row['difference'] * 100:+.1f} pp [{row['difference_low'] * 100:+.1f} "
                          f"to {row['difference_high'] * 100:+.1f}]")
            reading = ("skills ahead" if row["difference_low"] > 0 else
                       "skills behind" if row["difference_high"] < 0 else "no clear difference")
        excluded = row.get("excluded_share", 0.0)
        note = (f"{excluded * 100:.1f}% of people left out (no one alike in the other programme)"
                if row["estimate"] != "raw" and not fmt.is_missing(excluded) else "")
        rows.append({
            "Measure": metric_label(row["measure"]),
            "Estimate": ESTIMATE_LABELS.get(row["estimate"], row["estimate"]),
            program_label(first): fmt.percent(row[f"{first}_rate"]) + f", n = {int(row[f'{first}_n']):,}",
            program_label(second): fmt.percent(row[f"{second}_rate"]) + f", n = {int(row[f'{second}_n']):,}",
            "Skills minus mindset (95% CI)": difference,
            "Reading": reading,
            "Note": note,
        })
    # The answer next to the measure, so it stays in view on a narrow screen.
    return pd.DataFrame(rows, columns=["Measure", "Skills minus mindset (95% CI)", "Reading",
                                       "Estimate", program_label(first), program_label(second),
                                       "Note"])


def days_without_job_table(days: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """figures.compare.days_without_job as people read it: per window, the average days each programme's
    people spent without a job and skills minus mindset with its 95% interval (fewer days is
    sooner back to work)."""
    from reemploy.figures.common import COMPARED_PROGRAMS

    first, second = COMPARED_PROGRAMS
    rows = []
    for row in days.to_dict("records"):
        if isinstance(row.get("reason"), str):
            cells = ["–", "–", "not followed that long yet", ""]
        elif row.get("difference_suppressed", False):
            cells = ["–", "–", fmt.suppressed_text(min_cell), ""]
        else:
            difference = (f"{row['difference']:+.0f} days [{row['difference_low']:+.0f} to "
                          f"{row['difference_high']:+.0f}]")
            reading = ("skills back to work sooner" if row["difference_high"] < 0 else
                       "mindset back to work sooner" if row["difference_low"] > 0 else
                       "no clear difference")
            cells = [f"{row[f'{first}_days']:.0f} days", f"{row[f'{second}_days']:.0f} days",
                     difference, reading]
        rows.append([f"first {row['tau_days']} days", *cells])
    table = pd.DataFrame(rows, columns=["Window", program_label(first), program_label(second),
                                        "Skills minus mindset (95% CI)", "Reading"])
    # The answer beside the window, so it stays in view on a phone.
    return table[["Window", "Skills minus mindset (95% CI)", "Reading", program_label(first),
                  program_label(second)]]


UNIT_COUNT_ROWS = (
    ("enrolled_count", "Enrollments"),
    ("repeat_enrollment_count", "Repeat enrollments (a person's second or later)"),
    ("enrolled_while_employed_count", "…of which begun while a job from an earlier enrollment was held"),
    ("not_exited_count", "No exit by the data date (still in training, or not recorded)"),
    ("exit_unrecorded_count", "…of which no exit recorded a year after enrolling: left out of exit-based rates"),
    ("followed_180d_not_counted_count", "Left already, but in a month not yet fully observed: left out of exit-based rates"),
)


def unit_counts_table(headline: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """What the unit of count (the enrollment) and the exit-based rates leave aside, per
    programme (figures.headline.headline_by_program). A count of a few people under narrow filters says
    something about them (that one re-enrolled while in work), so counts from 1 to min_cell - 1
    read "fewer than min_cell"; enrollments are shown as everywhere else."""
    def text(column: str, value) -> str:
        count = int(value)
        if column != "enrolled_count" and 0 < count < min_cell:
            return f"fewer than {min_cell}"
        return f"{count:,}"

    table = {"Enrollments": [label for _, label in UNIT_COUNT_ROWS]}
    for row in headline.to_dict("records"):
        table[program_label(row["program_type"])] = [text(column, row[column])
                                                     for column, _ in UNIT_COUNT_ROWS]
    return pd.DataFrame(table)
