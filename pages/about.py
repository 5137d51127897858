"""About the numbers: what every figure counts, over whom, and how not to misread it; what the
extract holds."""

import streamlit as st

from reemploy import ui  # first: see the top of reemploy/ui.py
from reemploy.i18n import N_, _
from reemploy import definitions, i18n, readouts, tables
from reemploy import formatting as fmt
from reemploy.extracts import MIN_CELL_ENV_VAR
from reemploy.figures import headline
from reemploy.figures.common import DEFAULT_MIN_CELL

session = ui.open_page(
    "pages/about.py",
    N_("What each figure on these pages counts, over whom, and what to keep in mind when reading it."),
)

st.subheader(_("The data"))
profile = ui.extract_counts(session)
st.caption(_("Enrollments from {first} to {last}; the last job start recorded is {started}.").format(
    first=i18n.date(profile['first_enrolled_on']), last=i18n.date(profile['last_enrolled_on']),
    started=i18n.date(profile['last_started_on'])) + " " + definitions.follow_up())
selected = session.load(headline.enrollment_count_by_program)
if selected.empty:
    st.info(_("**No records match these filters.** The definitions below still apply; widen the "
            "filters in the sidebar to see figures."), icon=":material/search_off:")
elif not session.filters.is_empty():
    st.caption(_("Your filters ({filters}) select {count} enrollments.").format(
        filters=session.filters.describe(fmt.markdown_text),
        count=i18n.number(selected['enrolled_count'].sum())))

st.subheader(_("What the counts leave aside"))
figures = session.load(headline.headline_by_program)
if not figures.empty:
    st.markdown(definitions.method_markdown("unit"))
    st.dataframe(tables.unit_counts_table(figures, session.min_cell), hide_index=True, key="about_unit_counts")
    note = readouts.observed_months_note(figures)
    if note:
        st.caption(note)

st.subheader(_("Programmes and their colours"))
ui.program_legend(definitions.programme_descriptions())

st.subheader(_("What each figure means"))
columns = st.columns(2)
for i, metric in enumerate(definitions.METRICS):
    with columns[i % 2].container(border=True):
        st.markdown(definitions.metric_markdown(metric))

st.subheader(_("How the statistics work"))
for key in definitions.METHODS:
    if key != "unit":
        st.markdown(definitions.method_markdown(key))
if session.min_cell == DEFAULT_MIN_CELL:
    st.caption(_("Suppression threshold in this app now: {cell} people (the default).").format(
        cell=session.min_cell))
else:
    st.caption(_("Suppression threshold in this app now: {cell} people (the default is {default}; "
                 "for the operator: set by `{variable}`).").format(
        cell=session.min_cell, default=DEFAULT_MIN_CELL, variable=MIN_CELL_ENV_VAR))
