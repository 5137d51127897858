"""Data: which extract the figures come from, how fresh it is, and what its import accepted and
rejected."""

import datetime as dt

import streamlit as st

from reemploy import ui  # first: see the top of reemploy/ui.py
from reemploy import formatting as fmt
from reemploy import provenance
from reemploy.extracts import resolve_data_dir

IMPORT_COMMAND = """python -m reemploy import \\
    --enrollments FILE --placements FILE --as-of YYYY-MM-DD \\
    [--out DIR] [--map SOURCE_COLUMN=CONTRACT_COLUMN]... [--min-cell K]"""
COUNT = st.column_config.NumberColumn(format="localized")

session = ui.open_page(
    "pages/data.py",
    "Which extract the figures come from: how recent it is, what it holds, and what its import "
    "accepted and rejected. Everything on this page describes the whole extract, not the filters.",
)
extract = session.extract
folder = resolve_data_dir()
today = dt.date.today()
freshness = provenance.extract_freshness(extract, today, provenance.stale_days())
if freshness.stale:
    st.warning(f"**The extract is old.** {freshness.explanation()}", icon=":material/schedule:")

profile = ui.extract_counts(session)
st.caption(
    f"Enrollments from {fmt.day(profile['first_enrolled_on'])} to "
    f"{fmt.day(profile['last_enrolled_on'])}; the last job start is "
    f"{fmt.day(profile['last_started_on'])}. The as_of date is {freshness.days:,} days before "
    + (f"the import on {freshness.reference.isoformat()} "
       f"({(today - freshness.reference).days:,} days ago)." if freshness.imported
       else "today.")
)

ui.city_totals_gate(session)
st.subheader("Last import")
report = provenance.import_report(extract)
if report is None:
    st.info(
        "This extract has no import report: it was not made by `python -m reemploy import` "
        + ("(it is the synthetic sample)." if freshness.synthetic else "(it was copied in by hand)."),
        icon=":material/info:",
    )
else:
    st.markdown(f"{provenance.describe_import(report)} Every row read was either accepted or rejected.")
    st.dataframe(provenance.report_counts(report), hide_index=True, key="data_counts",
                 column_config={"read": COUNT, "accepted": COUNT, "rejected": COUNT})
    reasons = provenance.report_reasons(report)
    if reasons.empty:
        st.success("Every row was accepted.", icon=":material/check_circle:")
    else:
        st.markdown("**Rejected rows by reason** (a row rejected for several reasons counts under each)")
        st.dataframe(reasons, hide_index=True, key="data_reasons", column_config={"rows": COUNT})
        files = [counts["rejected_file"] for counts in report["tables"].values() if counts.get("rejected_file")]
        st.caption(
            "The rejected rows, with every original column and all their reasons, are in "
            + ", ".join(f"`{folder}/{f}`" for f in files)
            + ". They are not shown here because they are individual records."
        )
    with st.expander("Source files"):
        st.dataframe(provenance.report_sources(report), hide_index=True, key="data_sources",
                     column_config={"bytes": COUNT})

st.subheader("Update the data")
st.markdown(
    "Import new exports (CSV, Excel or Parquet) with the command below. The app shows the new "
    "extract at the next interaction, without a restart; rows that break the contract are "
    "listed, not silently dropped. The rules are in `data/README.md`, section “Importing”."
)
st.code(IMPORT_COMMAND, language="bash")
st.caption(f"Extract folder: `{folder}`"
           + (f" (now `{extract.path.name}`)" if not extract.url and extract.path != folder else "")
           + f". Warn when older than {freshness.limit} days (set {provenance.STALE_DAYS_ENV_VAR}).")
ui.audit_log(session)
