"""Meeting pack: the headline figures and the key chart of every page, as one HTML or PDF file."""

import streamlit as st

from reemploy import ui  # first: see the top of reemploy/ui.py
from reemploy import pack

session = ui.open_page(
    "pages/meeting_pack.py",
    "Everything the review meeting needs in one file, for the filters in the sidebar: the "
    "headline figures against the previous period of equal length and the key chart of every "
    "page, with definitions, sample sizes and suppression notes.",
)
ui.require_records(session)
document = ui.meeting_pack(session)
ui.pack_downloads(document)
st.caption(f"The same view in the dashboard: {document.url}")

st.subheader("Headline figures against the previous period")
st.caption(document.period_note)
st.dataframe(pack.headline_table(document), hide_index=True, key="meeting_pack_headline")
st.subheader("Charts in the pack")
st.markdown("\n".join(f"1. **{s.entry.page}**: {pack.figure_title(s.figure)}"
                      for s in document.sections))
