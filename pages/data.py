"""Data: which extract the figures come from, how fresh it is, and what its import accepted and
rejected."""

import datetime as dt

import streamlit as st

from reemploy import ui  # first: see the top of reemploy/ui.py
from reemploy.i18n import N_, _
from reemploy import i18n
from reemploy import provenance
from reemploy.extracts import resolve_data_dir

IMPORT_COMMAND = """python -m reemploy import \\
    --enrollments FILE --placements FILE --as-of YYYY-MM-DD \\
    [--out DIR] [--map SOURCE_COLUMN=CONTRACT_COLUMN]... [--min-cell K]"""
COUNT = "localized"


def titled(table, numbers: dict) -> dict:
    """Column configs that show each column under its title in the page's language (the
    report's own column names stay as the import wrote them)."""
    titles = provenance.column_titles(table.columns)
    return {column: (st.column_config.NumberColumn(titles[column], format=numbers[column])
                     if column in numbers else st.column_config.Column(titles[column]))
            for column in table.columns}

session = ui.open_page(
    "pages/data.py",
    N_("Which extract the figures come from: how recent it is, what it holds, and what its import "
    "accepted and rejected. Everything on this page describes the whole extract, not the filters."),
)
extract = session.extract
folder = resolve_data_dir()
today = dt.date.today()
freshness = provenance.extract_freshness(extract, today, provenance.stale_days())
if freshness.stale:
    st.warning(_("**The data are old.** {explanation}").format(explanation=freshness.explanation()),
               icon=":material/schedule:")

profile = ui.extract_counts(session)
span = _("Enrollments from {first} to {last}; the last job start is {started}.").format(
    first=i18n.date(profile['first_enrolled_on']), last=i18n.date(profile['last_enrolled_on']),
    started=i18n.date(profile['last_started_on']))
if freshness.imported:
    age = _("The data run to {days} days before the import on {imported} ({ago} days ago).").format(
        days=i18n.number(freshness.days), imported=i18n.date(freshness.reference),
        ago=i18n.number((today - freshness.reference).days))
else:
    age = _("The data run to {days} days before today.").format(days=i18n.number(freshness.days))
st.caption(f"{span} {age}")

ui.city_totals_gate(session)
st.subheader(_("Last import"))
report = provenance.import_report(extract)
if report is None:
    st.info(
        _("These data have no import report: they are the synthetic sample, not an import.")
        if freshness.synthetic else
        _("These data have no import report: they were copied in by hand, not imported with "
          "`python -m reemploy import`."),
        icon=":material/info:",
    )
else:
    st.markdown(_("{imported} Every row read was either accepted or rejected.").format(
        imported=provenance.describe_import(report)))
    counts = provenance.report_counts(report)
    st.dataframe(counts, hide_index=True, key="data_counts",
                 column_config=titled(counts, {"read": COUNT, "accepted": COUNT, "rejected": COUNT}))
    reasons = provenance.report_reasons(report)
    if reasons.empty:
        st.success(_("Every row was accepted."), icon=":material/check_circle:")
    else:
        st.markdown(_("**Rejected rows by reason** (a row rejected for several reasons counts under each)"))
        st.dataframe(reasons, hide_index=True, key="data_reasons",
                     column_config=titled(reasons, {"rows": COUNT}))
        files = [counts["rejected_file"] for counts in report["tables"].values() if counts.get("rejected_file")]
        st.caption(_("The rejected rows, with every original column and all their reasons, are "
                     "in {files}. They are not shown here because they are individual "
                     "records.").format(files=_(", ").join(f"`{folder}/{f}`" for f in files)))
    with st.expander(_("Source files")):
        sources = provenance.report_sources(report)
        st.dataframe(sources, hide_index=True, key="data_sources",
                     column_config=titled(sources, {"bytes": COUNT}))

st.subheader(_("Update the data"))
st.markdown(
    _("Import new exports (CSV, Excel or Parquet) with the command below. The app shows the new "
    "extract at the next interaction, without a restart; rows that break the contract are "
    "listed, not silently dropped. The rules are in `data/README.md`, section `Importing`.")
)
st.code(IMPORT_COMMAND, language="bash")
version = f" (`{extract.path.name}`)" if not extract.url and extract.path != folder else ""
st.caption(_("For the operator: the data folder is `{folder}`{version}; the page warns when the "
             "data are older than {days} days (the environment variable `{variable}` sets "
             "it).").format(folder=folder, version=version, days=freshness.limit,
                            variable=provenance.STALE_DAYS_ENV_VAR))
ui.audit_log(session)
