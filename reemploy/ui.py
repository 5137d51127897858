"""The Streamlit layer: caching, the shared filter sidebar, navigation and common page parts.

The only module of the package that imports streamlit.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from reemploy import formatting as fmt
from reemploy import metrics
from reemploy.contract import AGE_BANDS, EDUCATION_LEVELS, GENDERS, PROGRAM_TYPES
from reemploy.charts import program_color, program_label
from reemploy.db import connect
from reemploy.extracts import (
    DEFAULT_DATA_DIR,
    Extract,
    ExtractError,
    is_empty,
    open_extract,
    resolve_data_dir,
)
from reemploy.filters import URL_KEYS, Filters, filter_options_from, parse_query_params

SAMPLE_SIZE = 200_000
MIN_CELL_ENV_VAR = "REEMPLOY_MIN_CELL"

# Page files and their labels. The pages/ folder makes Streamlit run in its pages-directory
# mode (see README, "Why pages/ without st.navigation"); the built-in list is hidden in
# .streamlit/config.toml and this one is drawn instead, with proper labels and order.
PAGES = (
    ("dashboard.py", "Overview", ":material/dashboard:"),
)

# Bound widgets show the contract's codes, because Streamlit writes the shown text into the URL
# and links must use the same codes as the CLI (--program skills).
WIDGET_HELP = {
    "district": "District of the enrollment.",
    "sector": "The sector of the job the person lost.",
    "program": "skills = vocational courses; mindset = job-choice, job-search motivation and "
               "self-employment courses; combined = both; none = registered job seekers without "
               "training (the comparison group).",
}


def min_cell() -> int:
    """The suppression threshold: $REEMPLOY_MIN_CELL, else 10."""
    try:
        return max(1, int(os.environ.get(MIN_CELL_ENV_VAR, metrics.DEFAULT_MIN_CELL)))
    except ValueError:
        return metrics.DEFAULT_MIN_CELL


@st.cache_resource(show_spinner=False)
def _ensure_sample(path: str) -> None:
    # cache_resource runs this once per folder even when several sessions start together.
    from reemploy.synthetic import generate_extract

    generate_extract(Path(path), SAMPLE_SIZE)


@st.cache_resource(max_entries=4, show_spinner=False)
def _connection(path: str, version: str) -> duckdb.DuckDBPyConnection:
    return connect(open_extract(path))


@dataclass(frozen=True)
class Session:
    """What a page run works with: one extract version, its connection and the filters."""

    extract: Extract
    filters: Filters
    min_cell: int

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return _connection(str(self.extract.path), self.extract.version)

    def load(self, metric: str, filters: Filters | None = None, **options) -> pd.DataFrame:
        """A cached metrics.<metric>(con, extract, filters, min_cell, **options) result."""
        return _load(
            metric,
            str(self.extract.path),
            self.extract.version,
            filters or self.filters,
            self.min_cell,
            tuple(sorted(options.items())),
        )


@st.cache_data(max_entries=512, ttl=3600, show_spinner=False)
def _load(metric, path, version, filters, cell, options) -> pd.DataFrame:
    con = _connection(path, version)
    return getattr(metrics, metric)(con, open_extract_cached(path, version), filters, cell, **dict(options))


@st.cache_data(max_entries=8, show_spinner=False)
def open_extract_cached(path: str, version: str) -> Extract:
    return open_extract(path)


@st.cache_data(max_entries=8, show_spinner=False)
def _catalogue(path: str, version: str) -> dict:
    con = _connection(path, version)
    return {"catalogue": metrics.filter_catalogue(con), "profile": metrics.extract_profile(con)}


def load_extract() -> Extract:
    """The extract for this run; generates the sample on first start; stops with a clear page
    when the extract is missing or broken."""
    path = resolve_data_dir()
    try:
        if is_empty(path) and (path == DEFAULT_DATA_DIR or path.exists()):
            with st.spinner(f"First start: generating the sample extract ({SAMPLE_SIZE:,} enrollments)…"):
                _ensure_sample(str(path))
        return open_extract(path)
    except ExtractError as exc:
        st.error(f"**The extract cannot be used.** {exc.problem}", icon=":material/error:")
        st.markdown(f"**How to fix it:** {exc.fix}")
        st.caption(f"Extract folder: `{path}` (set it with the environment variable REEMPLOY_DATA).")
        st.stop()


def _raw_query_params() -> dict[str, list[str]]:
    return {key: st.query_params.get_all(key) for key in st.query_params.keys()}


def sidebar(current_page: str) -> Session:
    """Draw navigation and the shared filters; return the session for this page run."""
    extract = load_extract()
    info = _catalogue(str(extract.path), extract.version)
    options = filter_options_from(info["catalogue"])
    parsed = parse_query_params(_raw_query_params(), options)
    if parsed.notices:
        st.session_state["url_notices"] = parsed.notices

    with st.sidebar:
        for page, label, icon in PAGES:
            st.page_link(page, label=label, icon=icon)
        st.divider()
        st.markdown("**Filters**")
        widgets = (
            ("district", "District", options["districts"]),
            ("sector", "Prior sector", options["sectors"]),
            ("program", "Programme", PROGRAM_TYPES),
        )
        for key, label, values in widgets:
            st.multiselect(label, values, key=key, bind="query-params", placeholder="All",
                           help=WIDGET_HELP.get(key))
        first = info["profile"]["first_enrolled_on"]
        low = first.date() if hasattr(first, "date") else dt.date(1990, 1, 1)
        st.date_input("Enrolled from", value=None, min_value=low, max_value=extract.as_of,
                      key="from", bind="query-params", format="YYYY-MM-DD")
        st.date_input("Enrolled to", value=None, min_value=low, max_value=extract.as_of,
                      key="to", bind="query-params", format="YYYY-MM-DD")
        with st.expander("Who: gender, age, education"):
            st.multiselect("Gender", GENDERS, key="gender", bind="query-params", placeholder="All")
            st.multiselect("Age band", AGE_BANDS + ("unknown",), key="age", bind="query-params",
                           placeholder="All")
            st.multiselect("Education", EDUCATION_LEVELS, key="education", bind="query-params",
                           placeholder="All")
        st.button("Clear filters", on_click=clear_filters, key="sidebar_clear",
                  icon=":material/filter_alt_off:")
        st.caption(f"Data as of **{extract.as_of.isoformat()}** · "
                   f"{info['profile']['enrollment_count']:,} enrollments")

    filters, notices = filters_from_state(options)
    for notice in st.session_state.get("url_notices", []) + notices:
        st.warning(notice, icon=":material/link_off:")
    return Session(extract, filters, min_cell())


def filters_from_state(options: dict) -> tuple[Filters, list[str]]:
    """Filters from the widget values (which Streamlit keeps in sync with the URL)."""
    state = st.session_state
    values = {attr: tuple(v for v in options[attr] if v in (state.get(key) or ()))
              for key, attr in URL_KEYS.items()}
    date_from, date_to = state.get("from"), state.get("to")
    notices = []
    if date_from and date_to and date_from > date_to:
        notices.append(f"The period is ignored: “from” {date_from} is after “to” {date_to}.")
        date_from = date_to = None
    return Filters(**values, date_from=date_from, date_to=date_to), notices


def clear_filters() -> None:
    for key in list(URL_KEYS) + ["from", "to"]:
        st.session_state[key] = None if key in ("from", "to") else []
    st.session_state.pop("url_notices", None)


def page_header(title: str, question: str, session: Session) -> None:
    """Title, the question the page answers, and what the figures cover."""
    st.title(title)
    st.markdown(question)
    st.caption(
        f"Data as of {session.extract.as_of.isoformat()} · {session.filters.describe()} · "
        f"rates and medians with fewer than {session.min_cell} people are suppressed."
    )


def no_records() -> None:
    """The page's answer when the filters leave nothing: say so and stop drawing."""
    st.info("**No records match these filters.** Widen the district, sector, programme or period "
            "selection in the sidebar, or clear the filters.", icon=":material/search_off:")
    st.stop()


def require_records(session: Session) -> pd.DataFrame:
    """The headline figures for the filters; stops the page with a notice when nothing matches."""
    headline = session.load("headline_figures")
    if headline.empty:
        no_records()
    return headline


def show_chart(fig, data: pd.DataFrame, name: str, key: str, how_to_read: str, **chart_options):
    """Draw a chart with its one-line reading guide and the downloads of the numbers behind it.

    `data` is the aggregated, already suppressed table the chart was drawn from; `name` is the
    file-name stem (e.g. "placement-rate-by-district"). Returns the plotly_chart event when
    `on_select` is passed in chart_options.
    """
    event = st.plotly_chart(fig, key=key, **chart_options)
    st.caption(f"How to read this: {how_to_read}")
    st.download_button(
        "Numbers (CSV)",
        data=data.to_csv(index=False).encode("utf-8-sig"),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"{key}_csv",
        on_click="ignore",
        icon=":material/download:",
    )
    return event


KPI_METRICS = (
    # (column, label, kind, help)
    ("placement_rate_180d", "Placed within 180 days of exit", "rate",
     "Share of those who left the programme at least 180 days before as_of who started a job "
     "between enrollment and 180 days after exit."),
    ("median_days_to_placement", "Median days to first job", "days",
     "Kaplan-Meier median of days from enrollment to the first job; people still searching "
     "count until as_of (censored)."),
    ("retention_12m", "Still in the job after 12 months", "rate",
     "Among first jobs started at least 365 days before as_of, the share lasting 365 days."),
    ("median_monthly_wage", "Median monthly wage, first job", "money",
     "Median monthly wage at the first job (yuan)."),
    ("completion_rate", "Completed the course", "rate",
     "Completed / exited; not defined for people without training."),
)


def _kpi_value(row, column: str, kind: str, cell: int) -> tuple[str, str]:
    n = row.get(f"{column}_n", 0)
    if row.get(f"{column}_suppressed", False):
        return fmt.suppressed_text(cell), f"n = {int(n):,}"
    value = row.get(column)
    if kind == "rate":
        text = fmt.percent(value)
        detail = fmt.interval(row.get(f"{column}_low"), row.get(f"{column}_high"))
    elif kind == "days":
        text = "not reached" if fmt.is_missing(value) else f"{value:,.0f} days"
        detail = "fewer than half placed by as_of" if fmt.is_missing(value) else ""
    else:
        text = fmt.number(value, unit="yuan")
        detail = ""
    flag = " · unreliable (n < 30)" if row.get(f"{column}_unreliable", False) else ""
    return text, " · ".join(p for p in (detail, f"n = {int(n):,}") if p) + flag


# Streamlit's named colours closest to charts.PROGRAM_COLORS, for text labels.
PROGRAM_TEXT_COLORS = {"skills": "blue", "mindset": "orange", "combined": "green", "none": "gray"}


def kpi_cards(headline: pd.DataFrame, previous: pd.DataFrame | None, cell: int) -> None:
    """A row of cards per headline metric, one card per programme type, with the interval, n and
    the change against the previous period."""
    previous_rows = {} if previous is None else {r["program_type"]: r for r in previous.to_dict("records")}
    rows = headline.to_dict("records")
    header = st.columns(len(rows))
    for column, row in zip(header, rows):
        program = row["program_type"]
        column.markdown(
            f"<div style='border-left:6px solid {program_color(program)};padding-left:8px'>"
            f"<b>{program_label(program)}</b><br><small>{int(row['enrolled_count']):,} enrolled"
            f"</small></div>",
            unsafe_allow_html=True,
        )
    for metric, label, kind, help_text in KPI_METRICS:
        st.markdown(f"**{label}**", help=help_text)
        for column, row in zip(st.columns(len(rows)), rows):
            program = row["program_type"]
            if program == "none" and metric == "completion_rate":
                continue
            text, detail = _kpi_value(row, metric, kind, cell)
            before = previous_rows.get(program, {})
            delta = None
            if before and not row.get(f"{metric}_suppressed") and not before.get(f"{metric}_suppressed"):
                delta = fmt.change(row.get(metric), before.get(metric), "rate" if kind == "rate" else "number")
            with column.container(border=True):
                st.metric(
                    f":{PROGRAM_TEXT_COLORS.get(program, 'gray')}[{program_label(program)}]",
                    text,
                    delta=delta,
                    delta_color="inverse" if kind == "days" else "normal",
                    delta_description="vs previous period" if delta else None,
                )
                st.caption(detail)
