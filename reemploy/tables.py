"""Tables as people read them: reemploy.figures DataFrames turned into labelled text cells.

Pure pandas (no Streamlit): the pages show these with st.dataframe, the tests read them.
Suppressed cells say so instead of showing a blank or a zero. Column titles and cells are in
the language of the current run (reemploy.i18n); intervals in the one format of
reemploy.formatting; "n = 1,234" with non-breaking spaces so a narrow cell never wraps inside it.
"""

from __future__ import annotations

import pandas as pd

from reemploy import formatting as fmt
from reemploy import i18n
from reemploy.figures.common import UNRELIABLE_BELOW
from reemploy.i18n import _, N_
from reemploy.labels import program_label

# (value column, measure that carries _n / _suppressed / _low / _high, label, kind)
PROFILE_ROWS = (
    ("completion_rate", "completion_rate", N_("Completed the course"), "rate"),
    ("placement_rate_180d", "placement_rate_180d", N_("Placed within 180 days of exit"), "rate"),
    ("retention_6m", "retention_6m", N_("First job lasted 6 months (among those placed)"), "rate"),
    ("retention_12m", "retention_12m", N_("First job lasted 12 months (among those placed)"),
     "rate"),
    ("monthly_wage_p50", "monthly_wage", N_("Median monthly wage, first job"), "money"),
    ("wage_replacement_p50", "wage_replacement", N_("Median wage replacement (new / lost wage)"),
     "ratio"),
    ("cost_per_placement", "cost_per_placement", N_("Cost per placement within 180 days"),
     "money"),
)
# No course, so no completion and no course cost to spread over placements.
NOT_APPLICABLE = {("none", "completion_rate"), ("none", "cost_per_placement")}


def _with_n(text: str, n_text: str) -> str:
    return _("{value}, {n}").format(value=text, n=n_text) if n_text else text


def _cell(row: dict, value_column: str, measure: str, kind: str, min_cell: int) -> str:
    # An n that would give a suppressed count back is itself blanked (cost per placement's n
    # is the number placed): then the cell only says it is suppressed.
    n_text = fmt.n_text(row.get(f"{measure}_n"))
    if row.get(f"{measure}_suppressed", False):
        return _with_n(fmt.suppressed_text(min_cell), n_text)
    value = row.get(value_column)
    if kind == "rate":
        text = fmt.with_interval(fmt.percent(value),
                                 fmt.interval(row.get(f"{measure}_low"), row.get(f"{measure}_high")))
    elif kind == "ratio":
        # As the meeting pack writes it: 88.0%, not 0.88.
        text = fmt.percent(value)
    else:
        text = fmt.number(value, unit="yuan")
    text = _with_n(text, n_text)
    if row.get(f"{measure}_unreliable", False):
        text = _("{value}, {flag}").format(value=text, flag=fmt.unreliable_text(UNRELIABLE_BELOW))
    return text


def programme_profile_table(profile: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """One row per measure, one column per programme (label), cells like
    "85.7% (95% CI 85.5–85.9%), n = 78,675" (95% Wilson interval; the spaces around "=" do not
    break); suppressed cells say "suppressed (n < 10)"."""
    records = profile.to_dict("records")
    measure = _("Measure")
    table = {measure: [_("Enrolled")] + [_(label) for _v, _m, label, _k in PROFILE_ROWS]}
    for row in records:
        program = row["program_type"]
        cells = [i18n.number(int(row["enrolled_count"]))]
        for value_column, measure_column, _label, kind in PROFILE_ROWS:
            if (program, measure_column) in NOT_APPLICABLE:
                cells.append(_("not applicable"))
            else:
                cells.append(_cell(row, value_column, measure_column, kind, min_cell))
        table[program_label(program)] = cells
    return pd.DataFrame(table)


ESTIMATE_LABELS = {
    "raw": N_("raw"),
    "adjusted": N_("adjusted: standardised to the same mix of people"),
    "ipw": N_("adjusted: inverse-probability weighted"),
    "regression": N_("adjusted: regression"),
    "doubly_robust": N_("adjusted: doubly robust"),
}


def estimate_text(estimate: str) -> str:
    label = ESTIMATE_LABELS.get(estimate)
    return _(label) if label else str(estimate)


def _rate_with_n(rate, n) -> str:
    return _with_n(fmt.percent(rate), fmt.n_text(n))


def program_differences_table(differences: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """figures.headline.program_differences as people read it: one row per measure and estimate with
    both programmes' rates, the difference in percentage points with its 95% interval, and
    which way it points."""
    from reemploy.definitions import metric_label
    from reemploy.figures.common import COMPARED_PROGRAMS

    first, second = COMPARED_PROGRAMS
    columns = {key: _(title) for key, title in (
        ("measure", N_("Measure")), ("estimate", N_("Estimate")),
        ("difference", N_("Skills minus mindset (95% CI)")), ("reading", N_("Reading")),
        ("note", N_("Note")))}
    rows = []
    for row in differences.to_dict("records"):
        if isinstance(row.get("reason"), str):
            # The model's own reason is technical English (adjustment.py); the download keeps it.
            difference, reading = _("not estimated (the model cannot be fitted to these "
                                    "people)"), ""
        elif row.get("difference_suppressed", False):
            difference, reading = fmt.suppressed_text(min_cell), ""
        elif fmt.is_missing(row["difference"]) or fmt.is_missing(row["difference_low"]):
            difference, reading = fmt.MISSING, ""
        else:
            difference = fmt.with_interval(
                fmt.points(row["difference"]),
                fmt.interval(row["difference_low"], row["difference_high"], kind="difference"))
            reading = (_("skills ahead") if row["difference_low"] > 0 else
                       _("skills behind") if row["difference_high"] < 0 else
                       _("no clear difference"))
        excluded = row.get("excluded_share", 0.0)
        note = (_("{share} of people left out (no one alike in the other programme)").format(
                    share=fmt.percent(excluded))
                if row["estimate"] != "raw" and not fmt.is_missing(excluded) else "")
        rows.append({
            # Raw and adjusted rows of one measure differ in the label itself: the estimate
            # column is off screen on a phone.
            columns["measure"]: (metric_label(row["measure"]) if row["estimate"] == "raw" else
                                 _("{measure} (adjusted)").format(
                                     measure=metric_label(row["measure"]))),
            columns["estimate"]: estimate_text(row["estimate"]),
            program_label(first): _rate_with_n(row[f"{first}_rate"], row[f"{first}_n"]),
            program_label(second): _rate_with_n(row[f"{second}_rate"], row[f"{second}_n"]),
            columns["difference"]: difference,
            columns["reading"]: reading,
            columns["note"]: note,
        })
    # The answer next to the measure, so it stays in view on a narrow screen.
    return pd.DataFrame(rows, columns=[columns["measure"], columns["difference"],
                                       columns["reading"], columns["estimate"],
                                       program_label(first), program_label(second),
                                       columns["note"]])


def days_without_job_table(days: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """figures.compare.days_without_job as people read it: per window, the average days each programme's
    people spent without a job and skills minus mindset with its 95% interval (fewer days is
    sooner back to work)."""
    from reemploy.figures.common import COMPARED_PROGRAMS

    first, second = COMPARED_PROGRAMS
    window, difference_title, reading_title = (_("Window"), _("Skills minus mindset (95% CI)"),
                                               _("Reading"))
    rows = []
    for row in days.to_dict("records"):
        if isinstance(row.get("reason"), str):
            cells = [fmt.MISSING, fmt.MISSING, _("not followed that long yet"), ""]
        elif row.get("difference_suppressed", False):
            cells = [fmt.MISSING, fmt.MISSING, fmt.suppressed_text(min_cell), ""]
        else:
            difference = fmt.with_interval(
                fmt.signed(row["difference"], 0, "days"),
                fmt.interval(row["difference_low"], row["difference_high"], kind="days"))
            reading = (_("skills back to work sooner") if row["difference_high"] < 0 else
                       _("mindset back to work sooner") if row["difference_low"] > 0 else
                       _("no clear difference"))
            cells = [fmt.days(row[f"{first}_days"]), fmt.days(row[f"{second}_days"]),
                     difference, reading]
        rows.append([_("first {days} days").format(days=i18n.number(int(row["tau_days"]))),
                     *cells])
    table = pd.DataFrame(rows, columns=[window, program_label(first), program_label(second),
                                        difference_title, reading_title])
    # The answer beside the window, so it stays in view on a phone.
    return table[[window, difference_title, reading_title, program_label(first),
                  program_label(second)]]


UNIT_COUNT_ROWS = (
    ("enrolled_count", N_("Enrollments")),
    ("repeat_enrollment_count", N_("Repeat enrollments (a person's second or later)")),
    ("enrolled_while_employed_count",
     N_("…of which begun while a job from an earlier enrollment was held")),
    ("not_exited_count", N_("No exit by the data's cut-off date (still in training, or not "
                            "recorded)")),
    ("exit_unrecorded_count",
     N_("…of which no exit recorded a year after enrolling: left out of exit-based rates")),
    ("followed_180d_not_counted_count",
     N_("Left already, but in a month not yet fully observed: left out of exit-based rates")),
)


def unit_counts_table(headline: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """What the unit of count (the enrollment) and the exit-based rates leave aside, per
    programme (figures.headline.headline_by_program). A count of a few people under narrow filters says
    something about them (that one re-enrolled while in work), so counts from 1 to min_cell - 1
    read "fewer than min_cell"; enrollments are shown as everywhere else."""
    def text(column: str, value) -> str:
        count = int(value)
        if column != "enrolled_count" and 0 < count < min_cell:
            return _("fewer than {min_cell}").format(min_cell=i18n.number(min_cell))
        return i18n.number(count)

    table = {_("Enrollments"): [_(label) for _column, label in UNIT_COUNT_ROWS]}
    for row in headline.to_dict("records"):
        table[program_label(row["program_type"])] = [text(column, row[column])
                                                     for column, _label in UNIT_COUNT_ROWS]
    return pd.DataFrame(table)
