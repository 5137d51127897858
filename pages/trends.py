"""Trends: enrollments and outcomes of each quarterly enrollment cohort, and how the latest fully
observed quarters changed against the quarter before and the same quarter a year earlier."""

import streamlit as st

from reemploy import ui  # first: see the top of reemploy/ui.py
from reemploy import i18n
from reemploy.i18n import N_, _
from reemploy import charts, readouts
from reemploy.definitions import metric_label
from reemploy.figures import trends

session = ui.open_page(
    "pages/trends.py",
    N_("Are more people enrolling, and do the people who enrol now find work more or less often "
    "than those before them? Each enrollment quarter is followed as one cohort. The most recent "
    "quarters are not fully observed yet: they are marked, not read as a fall."),
)
ui.require_records(session)
cell = session.min_cell

measure = st.radio(_("Outcome"), tuple(trends.COHORT_MEASURES), format_func=i18n.fixed(metric_label), horizontal=True,
                   key="trends_measure",
                   help=_("Among people followed for the full period after leaving the programme."))
cohorts = session.load(trends.placement_rate_by_cohort)
ui.show_chart(
    charts.cohort_outcome_chart(cohorts, cell, measure),
    cohorts,
    key="trends_outcomes",
    how_to_read=_("each point is the people who enrolled in that quarter, the bar its 95% interval. "
    "Hollow points in the shaded band are quarters whose people have not all been followed for "
    "the full period yet: their rate covers only those who left early, so a dip there is not a fall."),
)

st.subheader(_("Enrollments per quarter"))
ui.show_chart(
    charts.cohort_enrollment_chart(cohorts),
    cohorts[["program_type", "cohort_start", "is_open_quarter", "enrolled_count"]],
    key="trends_enrollments",
    how_to_read=_("each point counts the enrollments that started in that quarter; a person who "
    "enrolled twice counts twice."),
)

st.subheader(_("Change against the previous quarter and a year earlier"))
quarters = st.radio(_("Quarters shown per programme"), (4, 8, 12, 16), index=1, horizontal=True,
                    key="trends_quarters")
changes = session.load(trends.placement_rate_changes, measure=measure, quarters=quarters)
if changes.empty:
    st.info(_("No quarter is fully observed yet for this outcome under these filters."),
            icon=":material/hourglass_empty:")
else:
    ui.show_table(
        readouts.changes_table(changes, measure, cell),
        changes,
        key="trends_changes",
        how_to_read=_("the change is this quarter's rate minus the earlier quarter's, in percentage "
        "points, with its 95% interval (Newcombe); an interval that includes 0 means the data "
        "cannot tell the two quarters apart. A change against the same quarter a year earlier "
        "is not affected by seasons."),
    )
note = readouts.unobserved_quarters_note(cohorts, measure)
if note:
    st.caption(note)
