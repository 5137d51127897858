"""About the numbers: what every figure counts, over whom, and how not to misread it; what the
extract holds."""

import streamlit as st

from reemploy import ui  # first: see the top of reemploy/ui.py
from reemploy import definitions, readouts, tables
from reemploy import formatting as fmt
from reemploy.extracts import MIN_CELL_ENV_VAR
from reemploy.figures import headline
from reemploy.figures.common import DEFAULT_MIN_CELL

session = ui.open_page(
    "pages/about.py",
    "What each figure on these pages counts, over whom, and what to keep in mind when reading it.",
)

st.subheader("The data")
profile = ui.extract_counts(session)
st.caption(
    f"Enrollments from {fmt.day(profile['first_enrolled_on'])} to "
    f"{fmt.day(profile['last_enrolled_on'])}; the last job start recorded is "
    f"{fmt.day(profile['last_started_on'])}. {definitions.FOLLOW_UP}"
)
selected = session.load(headline.enrollment_count_by_program)
if selected.empty:
    st.info("**No records match these filters.** The definitions below still apply; widen the "
            "filters in the sidebar to see figures.", icon=":material/search_off:")
elif not session.filters.is_empty():
    st.caption(f"Your filters ({session.filters.describe(fmt.markdown_text)}) select "
               f"{int(selected['enrolled_count'].sum()):,} enrollments.")

st.subheader("What the counts leave aside")
figures = session.load(headline.headline_by_program)
if not figures.empty:
    st.markdown(definitions.method_markdown("unit"))
    st.dataframe(tables.unit_counts_table(figures, session.min_cell), hide_index=True, key="about_unit_counts")
    note = readouts.observed_months_note(figures)
    if note:
        st.caption(note)

st.subheader("Programmes and their colours")
ui.program_legend(definitions.PROGRAMMES)

st.subheader("What each figure means")
columns = st.columns(2)
for i, metric in enumerate(definitions.METRICS):
    with columns[i % 2].container(border=True):
        st.markdown(definitions.metric_markdown(metric))

st.subheader("How the statistics work")
for key in definitions.METHODS:
    if key != "unit":
        st.markdown(definitions.method_markdown(key))
threshold = ("the default" if session.min_cell == DEFAULT_MIN_CELL
             else f"set by {MIN_CELL_ENV_VAR}, default {DEFAULT_MIN_CELL}")
st.caption(f"Suppression threshold in this app now: {session.min_cell} ({threshold}).")
