"""Overview: headline figures for skills vs mindset training under the shared filters.

Entry point: `streamlit run dashboard.py`. The other pages live in pages/.
"""

import streamlit as st

from reemploy import ui  # first: see the top of reemploy/ui.py
from reemploy.i18n import N_, _
from reemploy import charts, i18n, readouts, tables
from reemploy.figures import headline, trends

session = ui.open_page(
    "dashboard.py",
    N_("Which training gets laid-off workers back to work, how fast, and at what wage? "
    "Skills training (vocational courses) beside mindset training (job-choice concepts, "
    "job-search motivation, self-employment), with registered job seekers without training "
    "as a reference."),
)
figures = session.load(headline.headline_by_program)
if figures.empty:
    ui.no_records()
if reason := ui.withheld_view(session, session.filters):
    ui.withheld_notice(reason, session.min_cell)
st.subheader(_("Skills or mindset: which is ahead depends on how it is measured"))
differences = session.load(headline.program_differences)
sentence = readouts.clock_sentence(differences)
if sentence:
    st.markdown(sentence)
ui.show_table(
    tables.program_differences_table(differences, session.min_cell),
    differences,
    key="overview_differences",
    how_to_read=_("each row is one way of measuring; a difference whose 95% interval includes 0 "
    "cannot tell the programmes apart. The raw rows compare the people each programme enrolled; "
    "the adjusted row compares the same mix of people, which removes only the differences "
    "recorded in the data (an adjusted difference, not a causal effect); Compare programmes "
    "adds three other adjustments (propensity weighting, regression, doubly robust)."),
)

st.subheader(_("Headline figures per programme"))
previous_filters = session.filters.previous_period()
# The previous period is a view of its own: the rule may withhold it (reemploy.disclosure).
previous_withheld = previous_filters is not None and ui.withheld_view(session, previous_filters)
if previous_withheld:
    previous_filters = None
previous = session.load(headline.headline_by_program, previous_filters) if previous_filters else None
ui.kpi_cards(figures, previous, session.min_cell)
if previous_withheld:
    st.caption(_("The change against the previous period is withheld: that period's figures could "
               "be subtracted from another view to give a small group away."))
elif previous_filters is None:
    st.caption(_("Choose a period in the sidebar (both the first and the last month) to see "
                 "changes against the previous period of equal length."))
else:
    st.caption(_("Changes against {start} to {end}.").format(
        start=i18n.date(previous_filters.date_from), end=i18n.date(previous_filters.date_to)))
st.caption(readouts.observed_months_note(figures) or "")

trend = session.load(trends.placement_rate_by_cohort)
ui.show_chart(
    charts.placement_trend_chart(trend, session.min_cell),
    trend,
    key="overview_trend",
    how_to_read=_("each point is the people who enrolled in that quarter; the line shows the share "
    "who started a job within 180 days after leaving the programme."),
)
