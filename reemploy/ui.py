"""The Streamlit layer: caching, the shared filter sidebar, navigation and common page parts.

The only module of the package that imports streamlit.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import os
import re
import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import duckdb
import pandas as pd
import streamlit as st

# Everything the pages use, imported here: every page imports this module before any other of
# the package, so a server's concurrent first sessions import the package once, in the one
# thread that holds this module's import lock. Entered at different modules by several threads,
# the packages that import their own submodules (charts, figures) deadlock in the import system
# and fail with a half-initialised module (tests/test_app.py, concurrent first imports).
from reemploy import charts, figures, provenance, readouts, tables  # noqa: F401
from reemploy import cache, definitions, disclosure, export, pack
from reemploy import formatting as fmt
from reemploy import access, i18n
from reemploy.i18n import N_, _
from reemploy.contract import AGE_BANDS, EDUCATION_LEVELS, GENDERS, PROGRAM_TYPES
from reemploy.labels import level_label, program_color, program_label
from reemploy.db import connect
from reemploy.charts.style import use_house_template
from reemploy.figures import catalogue, headline
from reemploy.tools.warm import WARM_ENV_VAR, start_warming
from reemploy.extracts import (
    DEFAULT_DATA_DIR,
    Extract,
    ExtractError,
    is_empty,
    is_remote,
    open_extract,
    effective_min_cell,
    resolve_data_dir,
)
from reemploy.filters import (DATE_KEYS, URL_KEYS, Filters, filter_options_from, month_end,
                              months_between, parse_query_params, quick_periods)
from reemploy.filters import _shorten as _code_span

SAMPLE_SIZE = 200_000
SESSION_STATE_KEY = "_reemploy_session"

# Page files and their labels. The pages/ folder makes Streamlit run in its pages-directory
# mode (docs/architecture.md, "Why pages/ without st.navigation"); the built-in list is hidden in
# .streamlit/config.toml and this one is drawn instead, with proper labels and order.
PAGES = (
    ("dashboard.py", N_("Overview"), ":material/dashboard:"),
    ("pages/compare_programs.py", N_("Compare programmes"), ":material/compare_arrows:"),
    ("pages/districts.py", N_("Districts"), ":material/map:"),
    ("pages/sectors.py", N_("Sectors"), ":material/factory:"),
    ("pages/trends.py", N_("Trends"), ":material/trending_up:"),
    ("pages/who_benefits.py", N_("Who benefits"), ":material/groups:"),
    ("pages/data.py", N_("Data"), ":material/database:"),
    ("pages/about.py", N_("About the numbers"), ":material/info:"),
    ("pages/meeting_pack.py", N_("Meeting pack"), ":material/slideshow:"),
)

WIDGET_HELP = {
    "district": N_("District of the enrollment."),
    "sector": N_("The sector of the job the person lost."),
    "program": N_("Skills training: vocational courses. Mindset training: job-choice concepts, "
                  "job-search motivation and self-employment courses. Combined: both. No "
                  "training: registered job seekers without training (the comparison group)."),
}
# The widgets hold the contract's codes (the URL and the CLI use them: ?program=skills); people
# read labels.
WIDGET_LABELS = {
    "program": program_label,
    "gender": lambda code: level_label("gender", code),
    "age": lambda code: level_label("age_band", code),
    "education": lambda code: level_label("education", code),
}


def min_cell(extract: Extract | None = None) -> int:
    """The suppression threshold: $REEMPLOY_MIN_CELL (default 10), raised, never lowered, by the
    one recorded at import (extracts.effective_min_cell)."""
    return effective_min_cell(extract)


@st.cache_resource(show_spinner=False)
def _ensure_sample(path: str) -> None:
    # cache_resource runs this once per folder even when several sessions start together.
    from reemploy.importer import publish_folder
    from reemploy.synthetic import generate_extract

    # Published like an import (a versioned folder behind a symlink), so the first import over
    # the sample swaps a symlink that sessions reading the sample survive (issue 13).
    publish_folder(path, lambda folder: generate_extract(folder, SAMPLE_SIZE))
    start_warming(path)


@st.cache_resource(max_entries=8, show_spinner=False)
def _clean_leftovers(path: str) -> None:
    # Once per folder and process: what killed imports and builds left there (issue 13).
    from reemploy.importer import clean_leftovers_if_idle

    clean_leftovers_if_idle(path)


PRELOAD_AFTER_S = 10
PRELOAD_PAUSE_S = 0.005


def _preload(extract: Extract) -> None:
    cache.preload(extract, PRELOAD_PAUSE_S)
    # The first PNG of a session would wait seconds for the image browser to start (4.4 s
    # against 0.3 s once started). Not when warming is off (REEMPLOY_WARM=0, the tests).
    if os.environ.get(WARM_ENV_VAR, "1") != "0":
        export.warm_browser()


@st.cache_resource(max_entries=4, show_spinner=False)
def _connection(path: str, version: str) -> duckdb.DuckDBPyConnection:
    extract = open_extract(path)
    # Once per version and process: what `warm` stored is read into memory, so the views a
    # meeting opens first are answered without a query. After the first page run rather than
    # beside it: the reading holds the interpreter for seconds and would delay the first chart
    # (a page asks the store for its own answers anyway).
    preload = threading.Timer(PRELOAD_AFTER_S, _preload, args=(extract,))
    preload.daemon = True
    preload.start()
    return connect(extract)


@dataclass(frozen=True)
class Session:
    """What a page run works with: one extract version, its connection and the filters."""

    extract: Extract
    filters: Filters
    min_cell: int
    access: access.Access = access.OPEN_ACCESS

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return _connection(self.extract.location, self.extract.version)

    def load(self, question: Callable[..., pd.DataFrame], filters: Filters | None = None,
             **options) -> pd.DataFrame:
        """`question(con, extract, filters, min_cell, **options)`, one of reemploy.figures'
        functions, answered from the result cache (reemploy.cache) when asked already.

        Whatever filters a page passes, they carry this session's scope (the scope is part of
        the cache key and bound into the query), so no page can ask outside it."""
        filters = access.scope_filters(filters or self.filters, self.access)
        return rerun_if_moved(self.extract, lambda: question(
            self.con, self.extract, filters, self.min_cell, **options))


def rerun_if_moved(extract: Extract, compute):
    """compute(); when it fails because the extract's files are gone from its path, rerun.

    An extract that was a real folder (a sample from before issue 13) is moved away by the first
    import while a run reads it. The run starts again on the extract now in place instead of
    failing the page."""
    try:
        return compute()
    except (duckdb.IOException, ExtractError, FileNotFoundError):
        if extract_replaced(extract):
            st.rerun()
        raise


def extract_replaced(extract: Extract) -> bool:
    """True when the data folder now holds another version than `extract`."""
    try:
        return open_extract(resolve_data_dir()).version != extract.version
    except ExtractError:
        return False


def _catalogue(extract: Extract) -> dict:
    return catalogue.extract_catalogue(_connection(extract.location, extract.version), extract)


def load_extract() -> Extract:
    """The extract for this run; generates the sample on first start; stops with a clear page
    when the extract is missing or broken."""
    path = resolve_data_dir()
    try:
        try:
            empty = is_empty(path)
        except OSError as exc:  # an unreadable folder
            raise ExtractError(
                _("The extract folder {path} cannot be read ({reason}).").format(
                    path=path, reason=exc.strerror),
                _("Give the app's user permission to read it, or choose another folder.")) from exc
        # Only the default folder is filled with the sample: a folder named by REEMPLOY_DATA may
        # be a home folder or an unmounted mount point, and must not get 200,000 rows (issue 13).
        if not is_remote(str(path)) and not empty:
            _clean_leftovers(str(path))
        if empty and path == DEFAULT_DATA_DIR:
            with st.spinner(_("First start: generating the sample data ({count} enrollments), "
                              "about ten seconds…").format(count=i18n.number(SAMPLE_SIZE)),
                            show_time=True):
                _ensure_sample(str(path))
        elif empty and not is_remote(str(path)) and not (Path(path).exists() and not Path(path).is_dir()):
            raise ExtractError(
                (_("There is no extract in {path}.") if Path(path).exists() else
                 _("The extract folder {path} does not exist.")).format(path=path),
                _("Import one with `python -m reemploy import --enrollments FILE --placements FILE "
                  "--as-of YYYY-MM-DD --out {path}`, or unset `REEMPLOY_DATA` to use the sample in "
                  "`data/extracts/`. (Only that default folder is filled with the sample by "
                  "itself.)").format(path=path))
        extract = open_extract(path)
        # Connecting reads every row once (db.connect), so a file damaged inside fails here,
        # with this page, rather than in the first query a page runs. Cached: once per version.
        if not _catalogue(extract)["profile"]["enrollment_count"]:
            raise ExtractError(_("The extract in {path} holds no enrollments: there is nothing "
                                 "to count.").format(path=extract.location))
        return extract
    except (ExtractError, OSError) as exc:
        if not isinstance(exc, ExtractError):
            exc = ExtractError(
                _("The extract in {path} cannot be read ({reason}).").format(
                    path=path, reason=exc.strerror or exc),
                _("Check that the folder is there and readable, then reload the page."))
        st.error(_("**The data cannot be used.** {problem}").format(problem=exc.problem),
                 icon=":material/error:")
        if exc.fix:
            st.markdown(_("**How to fix it:** {fix}").format(fix=exc.fix))
        st.caption(_("For the operator: the data folder is `{path}` (the environment variable "
                     "`REEMPLOY_DATA` sets it).").format(path=path))
        st.stop()


def _raw_query_params() -> dict[str, list[str]]:
    # The language is not a filter: choose_language reads it, the filters never see it.
    return {key: st.query_params.get_all(key) for key in st.query_params.keys()
            if key != LANGUAGE_KEY}


LANGUAGE_KEY = "lang"
LANGUAGE_MEMORY = "_reemploy_language"
LANGUAGE_PAGE = "_reemploy_language_page"


def browser_language() -> str:
    """The language the browser asks for (its locale, else its Accept-Language header), when
    the dashboard has it; English otherwise."""
    try:
        wanted = st.context.locale or st.context.headers.get("Accept-Language")
    except (AttributeError, RuntimeError):
        wanted = None
    return i18n.from_accept_language(wanted)


def choose_language(current_page: str) -> str:
    """The language of this run, made current (reemploy.i18n).

    As with the filters: a page view that starts from a link carrying ?lang= takes it; within a
    page the official's choice in the sidebar stands; a switch to another page keeps it; a
    session's first run without one in the link follows the browser."""
    state = st.session_state
    link = st.query_params.get(LANGUAGE_KEY)
    starts_view = state.get(LANGUAGE_PAGE) != current_page
    if starts_view and link in i18n.LANGUAGES:
        code = link
    elif state.get(LANGUAGE_KEY) in i18n.LANGUAGES:
        code = state[LANGUAGE_KEY]
    elif state.get(LANGUAGE_MEMORY) in i18n.LANGUAGES:
        code = state[LANGUAGE_MEMORY]
    else:
        code = browser_language()
    state[LANGUAGE_KEY] = state[LANGUAGE_MEMORY] = code
    state[LANGUAGE_PAGE] = current_page
    return i18n.set_language(code)


def link_params(filters: Filters) -> dict[str, list[str]]:
    """The query string of this view: the filters and the language."""
    return {**filters.to_query_params(), LANGUAGE_KEY: [i18n.language()]}


def sidebar(current_page: str, chart_filters: dict[str, str] | None = None) -> Session:
    """Draw navigation and the shared filters; return the session for this page run.

    `chart_filters` maps the key of a chart drawn with on_select to the filter (URL key, e.g.
    "district") a click on it sets; see apply_chart_selection.
    """
    granted = current_access()
    extract = load_extract()
    info = _catalogue(extract)
    # Only the districts in scope are offered, accepted from a link or from a chart click.
    options = access.scope_options(filter_options_from(info["catalogue"]), granted)
    for chart_key, filter_key in (chart_filters or {}).items():
        apply_chart_selection(chart_key, filter_key, options[URL_KEYS[filter_key]])
    first = info["profile"]["first_enrolled_on"]
    low = first.date() if hasattr(first, "date") else dt.date(1990, 1, 1)
    raw_query = _raw_query_params()
    # The link as the scope allows it; the address bar is compared with the link as it came.
    narrowed, scope_notices = access.narrow_link(raw_query, granted)
    parsed = parse_query_params(narrowed, options, date_range=(low, extract.as_of))
    parsed.notices[:0] = scope_notices
    link_notices = restore_filters(current_page, narrowed, parsed)

    with st.sidebar:
        # Both languages name the choice, so whoever cannot read the current one finds it.
        st.segmented_control("语言 · Language", tuple(i18n.LANGUAGES), key=LANGUAGE_KEY,
                             format_func=i18n.LANGUAGES.get, selection_mode="single",
                             label_visibility="collapsed")
        navigation = st.container()
        st.divider()
        st.markdown(_("**Filters**"))
        widgets = (
            ("district", _("District"), options["districts"]),
            ("sector", _("Prior sector"), options["sectors"]),
            ("program", _("Programme"), PROGRAM_TYPES),
        )
        for key, label, values in widgets:
            help_text = WIDGET_HELP.get(key)
            st.multiselect(label, values, key=key, placeholder=_("All"),
                           help=_(help_text) if help_text else None,
                           format_func=i18n.fixed(WIDGET_LABELS.get(key, str)))
        period_widgets(low, extract.as_of)
        with st.expander(_("Who: gender, age, education")):
            st.multiselect(_("Gender"), GENDERS, key="gender", placeholder=_("All"),
                           format_func=i18n.fixed(WIDGET_LABELS["gender"]))
            st.multiselect(_("Age band"), AGE_BANDS + ("unknown",), key="age",
                           placeholder=_("All"), format_func=i18n.fixed(WIDGET_LABELS["age"]))
            st.multiselect(_("Education"), EDUCATION_LEVELS, key="education",
                           placeholder=_("All"), format_func=i18n.fixed(WIDGET_LABELS["education"]))
        st.button(_("Clear filters"), on_click=clear_filters, key="sidebar_clear",
                  icon=":material/filter_alt_off:")
        count = i18n.number(info['profile']['enrollment_count'])
        if not granted.scoped:
            line = _("Data as of **{date}** · {count} enrollments")
        elif granted.sees_city_totals:
            line = _("Data as of **{date}** · {count} enrollments city-wide")
        else:
            line = _("Data as of **{date}**")
        st.caption(line.format(date=i18n.date(extract.as_of), count=count))
        access_line(granted)

    filters, notices = filters_from_state(options)
    filters = access.scope_filters(filters, granted)
    with navigation:
        for page, label, icon in PAGES:
            st.page_link(page, label=_(label), icon=icon, query_params=link_params(filters))
    remember_filters(current_page, filters, raw_query)
    if link_notices:
        st.session_state["url_notices"] = (link_notices, filters)
    shown, noticed_for = st.session_state.get("url_notices", ([], None))
    # A notice about a link stays until the official changes the filters it was about.
    for notice in (shown if noticed_for == filters else []) + notices:
        st.warning(notice, icon=":material/link_off:")
    session = Session(extract, filters, min_cell(extract), granted)
    # show_chart's downloads name and caption their files from it.
    st.session_state[SESSION_STATE_KEY] = session
    return session


SIGNED_IN_KEY = "_reemploy_signed_in_as"
OPEN_ACCESS_LINE = N_("open access: no sign-in configured")
ROLE_LABELS = {"viewer": N_("viewer"), "analyst": N_("analyst"), "admin": N_("admin")}
_log = logging.getLogger(__name__)


def _shown(who: str) -> str:
    # The name comes from the provider's token: printed in a code span, never rendered.
    return _code_span(who, 80)


def sign_in_configured() -> bool:
    """True when .streamlit/secrets.toml (or st.secrets otherwise) has an [auth] section: then
    everyone signs in through OpenID Connect (st.login) and the access policy decides."""
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, OSError, ValueError):
        return False


def current_access() -> access.Access:
    """What this session may see; draws the sign-in or the no-access page and stops the run
    when there is nothing to show. Without sign-in configured, open access as before."""
    if not sign_in_configured():
        return access.OPEN_ACCESS
    if not st.user.is_logged_in:
        st.title(_("Re-employment outcomes"))
        st.markdown(_("Sign in with your organisation's account to see the figures for your "
                      "district."))
        st.button(_("Sign in"), on_click=st.login, key="access_sign_in", type="primary",
                  icon=":material/login:")
        st.stop()
    claims = st.user.to_dict()
    try:
        granted = access.resolve_access(access.load_policy(), claims)
    except access.PolicyError as exc:
        # Fails closed; the reason goes to the operator's log, not to the browser.
        _log.error("access policy unusable, denying everyone: %s", exc)
        granted = access.no_access(access.resolve_access(access.Policy(), claims).who,
                                   "the access policy cannot be used")
    if not granted.allowed:
        _log.warning("no access for %s: %s", granted.who, granted.reason)
        st.title(_("No access"))
        st.error(_("You are signed in as {who}, but this account has no access to the "
                   "re-employment figures. Ask the dashboard's administrator to add you to the "
                   "access policy.").format(who=_shown(granted.who)), icon=":material/block:")
        st.button(_("Sign out"), on_click=st.logout, key="access_sign_out",
                  icon=":material/logout:")
        st.stop()
    if st.session_state.get(SIGNED_IN_KEY) != granted.who:
        st.session_state[SIGNED_IN_KEY] = granted.who
        access.audit("sign-in", granted)
    return granted


def access_line(granted: access.Access) -> None:
    """Who is signed in, with which role and scope, and the sign-out button; or the open-access line."""
    if granted.open:
        st.caption(f":material/lock_open: {_(OPEN_ACCESS_LINE)}")
        return
    where = (_("whole city") if granted.districts is None else
             (_(", ").join(fmt.markdown_text(d) for d in granted.districts) or _("no district")))
    st.caption(":material/badge: " + _("Signed in as {who} · {role} · {where}").format(
        who=_shown(granted.who), role=_(ROLE_LABELS.get(granted.role, granted.role)), where=where))
    st.button(_("Sign out"), on_click=st.logout, key="sidebar_sign_out", icon=":material/logout:")


def _audited(event: str, session: Session, what: str, make):
    """make, or, when sign-in is on, make with an audit line written when the file is made."""
    if session.access.open:
        return make
    return partial(access.audited, event, session.access, session.filters.describe(), what, make)


def extract_counts(session: Session) -> dict:
    """Draw the extract's size as four metrics (city-wide totals, marked for a district user;
    only the enrollments in scope where the policy keeps city-wide totals from them) and return
    the profile."""
    profile = extract_profile(session)
    granted = session.access
    columns = st.columns(4)
    columns[0].metric(_("Data as of"), i18n.date(session.extract.as_of),
                      help=_("Outcomes after this date are unknown: people not yet placed are "
                             "still searching, not failures."))
    if granted.sees_city_totals:
        city = granted.scoped
        columns[1].metric(_("Enrollments (city-wide)") if city else _("Enrollments"),
                          i18n.number(profile['enrollment_count']))
        columns[2].metric(_("People (city-wide)") if city else _("People"),
                          i18n.number(profile['person_count']),
                          help=_("A person may enrol more than once."))
        columns[3].metric(_("Job starts (city-wide)") if city else _("Job starts"),
                          i18n.number(profile['placement_count']),
                          help=_("First and later jobs recorded for the enrollments."))
        if granted.scoped:
            st.caption(":material/public: " + _(
                "**City-wide totals:** these counts cover every district, beyond your access "
                "({districts}).").format(
                    districts=_(", ").join(fmt.markdown_text(d) for d in granted.districts)
                    or _("no district")))
    else:
        counts = session.load(headline.enrollment_count_by_program, Filters())
        columns[1].metric(_("Enrollments in your access"),
                          i18n.number(counts['enrolled_count'].sum()))
        st.caption(_("The city-wide counts of the data are not shown with district access."))
    return profile


def city_totals_gate(session: Session) -> None:
    """Stop the page here, with a notice, for a district user the policy keeps from city-wide
    totals (the import report counts rows of every district). Admins still see the audit log."""
    if session.access.sees_city_totals:
        return
    st.info(_("The import report counts the rows of every district, so it is not shown with "
              "district access."), icon=":material/lock:")
    audit_log(session)
    st.stop()


AUDIT_COLUMNS = {"at": N_("When"), "event": N_("Event"), "who": N_("Who"), "role": N_("Role"),
                 "scope": N_("Districts in scope"), "filters": N_("Filters"), "what": N_("What")}


def audit_log(session: Session) -> None:
    """The last sign-ins, downloads and packs (who, when, what filters), for admins only."""
    if session.access.open or not session.access.is_admin:
        return
    st.subheader(_("Audit log"))
    entries = access.read_audit()
    if not entries:
        st.caption(_("Nothing logged yet in `{path}`.").format(path=access.audit_log_path()))
        return
    table = pd.DataFrame(entries)
    table["scope"] = table["scope"].map(lambda s: s if isinstance(s, str) else ", ".join(s))
    # The log's own column names stay (they are the JSON keys); people read them translated.
    titles = {column: st.column_config.Column(_(AUDIT_COLUMNS[column]))
              for column in table.columns if column in AUDIT_COLUMNS}
    st.dataframe(table, hide_index=True, key="data_audit_log", column_config=titles)
    st.caption(_("The newest {count} entries of `{path}`, newest first.").format(
        count=i18n.number(len(entries)), path=access.audit_log_path()))


FILTER_KEYS = (*URL_KEYS, *DATE_KEYS)
FILTER_MEMORY = "filters_last_run"


def _widget_values(filters: Filters) -> dict:
    values = {key: list(getattr(filters, attr)) for key, attr in URL_KEYS.items()}
    values.update({key: getattr(filters, attr) for key, attr in DATE_KEYS.items()})
    return values


def restore_filters(current_page: str, raw_query: dict, parsed) -> list[str]:
    """Set the filter widgets before they are drawn, when this run starts a page view.

    Streamlit's pages-directory mode gives every page its own widgets and drops the query
    string on a page switch, so the filters are mirrored by hand: on the first run of a session
    and on a switch to another page, the widgets get the filters of the link when it carries any
    (a deep link, the browser's back button), else those of the page the official came from.
    Within a page the widgets are left alone, so an official's own change is never overridden.
    Returns the notices about link values that were ignored.
    """
    memory = st.session_state.get(FILTER_MEMORY)
    if memory is not None and memory["page"] == current_page:
        return []
    link_has_filters = any(key in raw_query for key in FILTER_KEYS)
    if link_has_filters or memory is None:
        values = _widget_values(parsed.filters)
    else:
        values = memory["values"]
    for key, value in values.items():
        st.session_state[key] = value
    return parsed.notices


def remember_filters(current_page: str, filters: Filters, raw_query: dict) -> None:
    """Keep this run's filters for the next page and write them into the address bar."""
    first_run = FILTER_MEMORY not in st.session_state
    st.session_state[FILTER_MEMORY] = {"page": current_page, "values": _widget_values(filters)}
    wanted = link_params(filters)
    # On a session's first run the address is always rewritten: Streamlit silently drops a query
    # string it finds too long, so an empty raw_query does not prove the address bar is clean.
    address = {**raw_query, **({LANGUAGE_KEY: st.query_params.get_all(LANGUAGE_KEY)}
                               if LANGUAGE_KEY in st.query_params else {})}
    if first_run or address != wanted:
        st.query_params.from_dict(wanted)


QUICK_PERIOD_KEY = "period_quick"


def _month_label(day: dt.date) -> str:
    return i18n.month(day)


def period_widgets(first: dt.date, as_of: dt.date) -> None:
    """The enrollment period in whole months: From month, To month and the quick choices of a
    review meeting. The widgets hold dates (the first and the last day of the months), so the
    filters, the link and the queries are as before; a link's period to the day is kept as it
    is and offered as one more choice, answered exactly."""
    months = months_between(first, as_of)
    starts = list(months)
    ends = [min(month_end(month), as_of) for month in months]
    state = st.session_state
    for key, choices in (("from", starts), ("to", ends)):
        value = state.get(key)
        if value is not None and value not in choices:
            choices.append(value)
            choices.sort()
    periods = {period.label: period for period in quick_periods(first, as_of)}

    def apply_quick_period() -> None:
        period = periods.get(state.get(QUICK_PERIOD_KEY))
        if period is not None:
            state["from"], state["to"] = period.date_from, period.date_to

    # The quick choice shows the period set, however it was set (a link, the months below).
    state[QUICK_PERIOD_KEY] = next(
        (label for label, period in periods.items()
         if (period.date_from, period.date_to) == (state.get("from"), state.get("to"))), None)
    st.selectbox(_("Period"), list(periods), index=None, key=QUICK_PERIOD_KEY,
                 placeholder=_("Quick choice: quarter, year…"), on_change=apply_quick_period,
                 help=_("Sets the From and To months below."))
    # One above the other: side by side, a month and the clear button do not fit the sidebar.
    st.selectbox(_("From month"), starts, index=None, key="from", placeholder=_("The first month"),
                 format_func=i18n.fixed(
                     lambda day: _month_label(day) if day.day == 1 else i18n.date(day)))
    st.selectbox(_("To month"), ends, index=None, key="to", placeholder=_("The latest month"),
                 format_func=i18n.fixed(lambda day: (_month_label(day) if day in (month_end(day), as_of)
                                                     else i18n.date(day))))


def filters_from_state(options: dict) -> tuple[Filters, list[str]]:
    """Filters from the widget values (restore_filters and remember_filters keep them in sync
    with the URL)."""
    state = st.session_state
    values = {attr: tuple(v for v in options[attr] if v in (state.get(key) or ()))
              for key, attr in URL_KEYS.items()}
    date_from, date_to = state.get("from"), state.get("to")
    notices = []
    if date_from and date_to and date_from > date_to:
        notices.append(_("The period is ignored: the first month {start} is after the last "
                         "month {end}.").format(start=i18n.date(date_from), end=i18n.date(date_to)))
        date_from = date_to = None
    return Filters(**values, date_from=date_from, date_to=date_to), notices


def clear_filters() -> None:
    for key in list(URL_KEYS) + ["from", "to"]:
        st.session_state[key] = None if key in ("from", "to") else []
    st.session_state.pop("url_notices", None)


# The title a page shows where it differs from its label in the navigation.
PAGE_TITLES = {"dashboard.py": N_("Re-employment outcomes")}


def open_page(file: str, question: str, chart_filters: dict[str, str] | None = None) -> Session:
    """Start a page run: the browser tab's title and icon (from PAGES), the shared sidebar and
    the header with the question the page answers; returns the session (see sidebar)."""
    choose_language(file)
    label, icon = next((label, icon) for page, label, icon in PAGES if page == file)
    title = _(PAGE_TITLES.get(file, label))
    st.set_page_config(page_title=title, page_icon=icon, layout="wide")
    narrow_screen_style()
    use_house_template()
    session = sidebar(file, chart_filters)
    page_header(title, _(question), session)
    return session


def page_header(title: str, question: str, session: Session) -> None:
    """Title, the question the page answers, and what the figures cover."""
    st.title(title)
    st.markdown(question)
    st.caption(_("Data as of {date} · {filters} · rates and medians with fewer than {cell} "
                 "people are suppressed.").format(
        date=i18n.date(session.extract.as_of), filters=session.filters.describe(fmt.markdown_text),
        cell=session.min_cell))


# Streamlit's own layout gives the sidebar a fixed share and cuts metric values with an
# ellipsis; on a laptop's 800 px or a phone the cards and titles must still read whole.
_NARROW_SCREEN_CSS = """
<style>
[data-testid="stMetricValue"] > div, [data-testid="stMetricLabel"] p {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  overflow-wrap: anywhere;
}
[data-testid="stMetricValue"] { font-size: clamp(1.15rem, 2.2vw, 2rem); }
@media (max-width: 1000px) {
  section[data-testid="stSidebar"] { width: 17rem !important; min-width: 17rem !important; }
  .block-container, [data-testid="stMainBlockContainer"] { padding-left: 1rem; padding-right: 1rem; }
}
</style>
"""


def narrow_screen_style() -> None:
    """Cards, titles and the sidebar sized to read at 800 and 390 px as well as at 1400."""
    st.html(_NARROW_SCREEN_CSS)


def no_records() -> None:
    """The page's answer when the filters leave nothing: say so and stop drawing."""
    st.info(_("**No records match these filters.** Widen the district, sector, programme or "
              "period selection in the sidebar, or clear the filters."),
            icon=":material/search_off:")
    st.stop()


def require_records(session: Session) -> None:
    """Stop the page with a notice when nothing matches the filters (a count: the page's own
    figures are not computed for a page that will not show them), or when the view is withheld
    because another view minus this one would give a small group away (reemploy.disclosure)."""
    if session.load(headline.enrollment_count_by_program).empty:
        no_records()
    reason = withheld_view(session, session.filters)
    if reason:
        withheld_notice(reason, session.min_cell)


def withheld_view(session: Session, filters: Filters) -> str | None:
    """Why the view under `filters` is withheld (reemploy.disclosure), or None; judged within
    the session's scope, the views its user can open."""
    filters = access.scope_filters(filters, session.access)
    reason = rerun_if_moved(session.extract, lambda: disclosure.withheld_view(
        session.con, session.extract, filters, session.min_cell))
    if reason and i18n.language() != i18n.DEFAULT_LANGUAGE:
        # The stored reason is English (the command line prints it); the page's is in its
        # language, from the same stored counts.
        reason = disclosure.withheld_reason(session.con, session.extract, filters, session.min_cell)
    return reason


def withheld_notice(reason: str, cell: int) -> None:
    """The page's answer for a withheld view: say why and what to do, and stop drawing."""
    st.warning(
        _("**This view is withheld.** Its figures could be subtracted from another view to give "
          "away a group of fewer than {cell} people: {reason}. Widen the filters (fewer, or "
          "broader, selections), or clear them.").format(cell=cell, reason=fmt.markdown_text(reason)),
        icon=":material/shield:")
    st.stop()


def show_chart(fig, data: pd.DataFrame, key: str, how_to_read: str,
               session: Session | None = None, name: str | None = None, across: str = "",
               **chart_options):
    """Draw a chart with its one-line reading guide and its downloads (PNG, SVG, CSV, Excel).

    `data` is the aggregated, already suppressed table the chart was drawn from, as
    Session.load returned it: the files are named after the question that answered it
    (`data.attrs["question"]`, e.g. "placement_gap_by_district") unless `name` says more (a
    slice of it). `session` (as_of, filters) names and
    captions the files; by default the one ui.sidebar drew for this run. `across` names the
    filter a chart draws every value of while marking the selected ones ("districts"), so the
    files say so rather than "all enrollments". Returns the
    plotly_chart event when `on_select` is passed in chart_options.
    """
    event = st.plotly_chart(fig, key=key, **chart_options)
    st.caption(_("How to read this: {guide}").format(guide=how_to_read))
    downloads(data, key, fig=fig, session=session, name=name, across=across)
    return event


@st.cache_data(ttl=300, show_spinner=False)
def _images_available() -> bool:
    return export.images_available()


@st.cache_data(ttl=300, show_spinner=False)
def _chinese_fonts_available() -> bool:
    return export.cjk_font_available()


def downloads(data: pd.DataFrame, key: str, fig=None, session: Session | None = None,
              name: str | None = None, across: str = "") -> None:
    """One compact row of download buttons: the chart as PNG and SVG (when `fig` is given), the
    numbers behind it as CSV and Excel.

    Files are made only when clicked (the chart images take 0.2-5 s to draw); the numbers go
    through export.table_for_export, so suppressed cells leave blank with a note and a table with
    identifiers is refused before a button is drawn.
    """
    session = session or st.session_state[SESSION_STATE_KEY]
    name = name or data.attrs["question"]
    if not session.access.may_download:
        st.caption(":material/lock: " + _("Downloads are for analysts and admins (your role: "
                                          "{role}).").format(role=_(ROLE_LABELS.get(
                                              session.access.role, session.access.role))))
        return
    table = export.table_for_export(data, session.min_cell)
    as_of, filters = session.extract.as_of, session.filters

    def file_name(extension: str) -> str:
        return export.file_name(name, as_of, filters, extension, across=across)

    about = export.about_lines(plain_title(fig) or name.replace("_", " "), as_of, filters,
                               session.min_cell,
                               session.extract.location.rstrip("/").rsplit("/", 1)[-1],
                               across=across)
    images = fig is not None and _images_available()
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        st.caption(_("Download"), width="content")
        if images:
            caption = export.caption(as_of, filters, session.min_cell, across=across)
            for fmt_name in export.IMAGE_FORMATS:
                st.download_button(
                    fmt_name.upper(),
                    data=i18n.bound(_audited("download", session, file_name(fmt_name),
                                             partial(export.chart_image, fig, fmt_name, caption))),
                    file_name=file_name(fmt_name),
                    mime=export.IMAGE_FORMATS[fmt_name],
                    key=f"{key}_{fmt_name}",
                    on_click="ignore",
                    icon=":material/image:",
                    help=_("The chart as {format}, with the filters and the data's date printed "
                           "under it.").format(format=fmt_name.upper()),
                )
        st.download_button(
            "CSV", data=i18n.bound(_audited("download", session, file_name("csv"),
                                            partial(export.readable_csv_bytes, table))),
            file_name=file_name("csv"),
            mime=export.TABLE_FORMATS["csv"], key=f"{key}_csv", on_click="ignore",
            icon=":material/table:", help=_("The numbers behind the chart (UTF-8; opens in Excel)."),
        )
        st.download_button(
            "Excel", data=i18n.bound(_audited("download", session, file_name("xlsx"),
                                              partial(export.readable_xlsx_bytes, table, about))),
            file_name=file_name("xlsx"),
            mime=export.TABLE_FORMATS["xlsx"], key=f"{key}_xlsx", on_click="ignore",
            icon=":material/table:", help=_("The numbers behind the chart, with a sheet saying "
                                            "what they cover."),
        )
    if fig is not None and not images:
        st.caption(f":material/hide_image: {_(export.IMAGES_UNAVAILABLE)}")
    elif images and not _chinese_fonts_available():
        st.caption(f":material/font_download_off: {_(export.CJK_FONTS_MISSING)}")


def plain_title(fig) -> str | None:
    """A chart's title as plain text (no Plotly markup, no subtitle line), or None."""
    text = fig.layout.title.text if fig is not None else None
    if not text:
        return None
    # The charts break long titles into lines for narrow screens: joined again, without a space
    # between two Chinese characters.
    text = re.sub(r"(?<=[\u3000-\u9fff\uff00-\uffef])<br\s*/?>(?=[\u3000-\u9fff\uff00-\uffef])",
                  "", text)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split()) or None


def show_table(table: pd.DataFrame, data: pd.DataFrame, key: str, how_to_read: str) -> None:
    """A display table (text as people read it) with its reading guide and the download of the
    numbers behind it (`data`, already suppressed, named as in show_chart)."""
    # Whole, never a ten-row scroll box: these tables are read, not browsed.
    st.dataframe(table, hide_index=True, key=key, height="content")
    st.caption(_("How to read this: {guide}").format(guide=how_to_read))
    downloads(data, key)


# The headline cards, top to bottom: (column, kind). Labels and help from reemploy.definitions,
# in the language of the run.
KPI_METRICS = (
    ("placement_rate_180d", "rate"),
    ("placement_rate_180d_from_enrollment", "rate"),
    ("employment_rate_q2_after_exit", "rate"),
    ("employment_rate_q4_after_exit", "rate"),
    ("median_days_to_placement", "days"),
    ("retention_12m", "rate"),
    ("median_monthly_wage", "money"),
    ("completion_rate", "rate"),
)


def _kpi_help(column: str) -> str:
    d = definitions.definition(column)
    return _("{definition} Denominator: {denominator}").format(definition=d.definition,
                                                                denominator=d.denominator)


# Streamlit's named colours closest to labels.PROGRAM_COLORS, for text labels.
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
            f"<b>{program_label(program)}</b><br><small>"
            + (_("{count} registered, no course") if program == "none" else
               _("{count} enrolled")).format(count=i18n.number(row['enrolled_count']))
            + "</small></div>",
            unsafe_allow_html=True,
        )
    for metric, kind in KPI_METRICS:
        st.markdown(f"**{definitions.metric_label(metric)}**", help=_kpi_help(metric))
        for column, row in zip(st.columns(len(rows)), rows):
            program = row["program_type"]
            if program == "none" and metric == "completion_rate":
                continue
            # The pack writes the same figure in the same words (pack.figure_text).
            text, detail = pack.figure_text(row, metric, {"money": "yuan"}.get(kind, kind),
                                            cell, program)
            before = previous_rows.get(program, {})
            delta = None
            if before and not row.get(f"{metric}_suppressed") and not before.get(f"{metric}_suppressed"):
                delta = fmt.change(row.get(metric), before.get(metric),
                                   "rate" if kind == "rate" else "number",
                                   {"days": "days", "money": "yuan"}.get(kind, ""))
            # No arrow and no colour for a change that rounds to zero.
            unchanged = delta is not None and fmt.unchanged(
                row.get(metric), before.get(metric), "rate" if kind == "rate" else "number")
            with column.container(border=True):
                st.metric(
                    f":{PROGRAM_TEXT_COLORS.get(program, 'gray')}[{program_label(program)}]",
                    text,
                    delta=delta,
                    delta_color="off" if unchanged else ("inverse" if kind == "days" else "normal"),
                    delta_arrow="off" if unchanged else "auto",
                    delta_description=_("vs previous period") if delta else None,
                )
                st.caption(detail)


def selected_names(event) -> list[str]:
    """The names a Plotly selection event points at: customdata[0] where the chart set it,
    else the choropleth `location`, else the category on the y axis."""
    names = []
    for point in ((event or {}).get("selection") or {}).get("points") or []:
        customdata = point.get("customdata")
        if isinstance(customdata, (list, tuple)) and customdata:
            name = customdata[0]
        elif isinstance(customdata, str):
            name = customdata
        else:
            name = point.get("location", point.get("y"))
        if isinstance(name, str) and name not in names:
            names.append(name)
    return names


def apply_chart_selection(chart_key: str, filter_key: str, allowed) -> None:
    """Turn a click on the chart `chart_key` into the sidebar filter `filter_key`.

    Runs before the sidebar widgets are drawn, the only moment a script may write a bound
    widget's key (afterwards Streamlit raises StreamlitWidgetAlreadyInstantiatedError); Streamlit
    then writes the new value into the URL too. A selection stays in the chart's state across
    reruns, so only a selection that changed since the last run is applied: otherwise clearing
    the filter in the sidebar would be undone by the old click at once. Names not in `allowed`
    (the extract's catalogue) are ignored.
    """
    allowed = list(allowed)
    names = [name for name in selected_names(st.session_state.get(chart_key)) if name in allowed]
    seen_key = f"_{chart_key}_applied"
    if names == st.session_state.get(seen_key, []):
        return
    st.session_state[seen_key] = names
    if names:
        st.session_state[filter_key] = [value for value in allowed if value in names]


def _clear_filter(filter_key: str) -> None:
    st.session_state[filter_key] = []


def filter_hint(session: Session, filter_key: str, label: str, note: str = "") -> None:
    """"Filtered to <label> X" with a button that clears that filter, shown while it is set."""
    values = getattr(session.filters, URL_KEYS[filter_key])
    if not values:
        return
    text, button = st.columns([5, 1], vertical_alignment="center")
    names = fmt.markdown_text(", ".join(values))
    text.info((_("Filtered to {what} **{names}** on every page.").format(what=label, names=names)
               + " " + note).strip(), icon=":material/filter_alt:")
    button.button(_("Clear"), key=f"{filter_key}_hint_clear", on_click=_clear_filter,
                  args=(filter_key,), icon=":material/close:",
                  help=_("Show every {what} again.").format(what=label))


def district_shapes(session: Session) -> dict | None:
    """The extract's districts.geojson (features keyed by properties.district), or None when
    there is none or it cannot be read (the page then ranks districts instead of mapping them)."""
    path = session.extract.geojson_path
    if path is None:
        return None
    shapes = catalogue.district_shapes(session.con, session.extract)
    if shapes is None:
        st.warning(_("The district map ({file}) could not be read, so districts are ranked "
                     "instead of mapped. For the operator: it must be GeoJSON with a “district” "
                     "property on every feature.").format(file=fmt.markdown_text(path.name)),
                   icon=":material/map:")
    elif session.access.scoped:
        # A district user's map holds their districts only: the others would read as "no
        # enrollments", which is not true, and are not theirs to see.
        inside = set(session.access.districts)
        features = [f for f in shapes["features"] if f["properties"]["district"] in inside]
        shapes = {**shapes, "features": features} if features else None
    return shapes


def extract_profile(session: Session) -> dict:
    """Row counts and date span of the whole extract (figures.catalogue.extract_profile)."""
    return _catalogue(session.extract)["profile"]


def program_legend(descriptions: dict[str, str]) -> None:
    """The programme colours used on every chart, one swatch per programme with its description."""
    for program in PROGRAM_TYPES:
        st.markdown(
            f"<div style='border-left:14px solid {program_color(program)};padding-left:10px;"
            f"margin-bottom:6px'><b>{program_label(program)}</b>: "
            f"{descriptions.get(program, '')}</div>",
            unsafe_allow_html=True,
        )


def dashboard_base_url() -> str:
    """The dashboard's address for links that reproduce a view: $REEMPLOY_BASE_URL when set,
    else the address this browser session is using."""
    if os.environ.get(pack.BASE_URL_ENV_VAR):
        return pack.base_url()
    parts = urlsplit(st.context.url or "")
    if not parts.scheme or not parts.netloc:
        return pack.base_url()
    root = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"{parts.scheme}://{parts.netloc}/{root}".rstrip("/")


def meeting_pack(session: Session) -> pack.Pack:
    """The meeting pack for this session's filters, from the cached figures; a pack any of whose
    views is withheld (reemploy.disclosure) is not built: the page says why and stops."""
    first_open = headline.first_open_month(session.load(headline.headline_by_program))
    for view in pack.views_of(session.filters, session.extract.as_of, first_open_month=first_open,
                              load=session.load, min_cell=session.min_cell):
        reason = withheld_view(session, view)
        if reason:
            withheld_notice(reason, session.min_cell)
    with st.spinner(_("Preparing the meeting pack: every page's figures for these filters…"),
                    show_time=True):
        return pack.build_pack(session.load, session.extract.as_of, session.filters,
                               session.min_cell,
                               url=pack.view_url(session.filters, dashboard_base_url()))


def pack_downloads(document: pack.Pack) -> None:
    """The two buttons that build and download the pack (built on click: a PDF takes seconds)."""
    session = st.session_state[SESSION_STATE_KEY]
    if not session.access.may_download:
        st.caption(":material/lock: " + _("The pack is a download, for analysts and admins (your "
                                          "role: {role}).").format(role=_(ROLE_LABELS.get(
                                              session.access.role, session.access.role))))
        return
    printable = _images_available()
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        st.download_button(
            _("Meeting pack (HTML)"),
            data=i18n.bound(_audited("pack", session, pack.pack_file_name(document, "html"),
                                     partial(pack.pack_html, document))),
            file_name=pack.pack_file_name(document, "html"), mime="text/html",
            key="meeting_pack_html", on_click="ignore", type="primary",
            icon=":material/download:",
            help=_("One file with interactive charts; opens offline in any browser."),
        )
        if printable:
            st.download_button(
                _("Meeting pack (PDF)"),
                data=i18n.bound(_audited("pack", session, pack.pack_file_name(document, "pdf"),
                                         partial(pack.pack_pdf, document))),
                file_name=pack.pack_file_name(document, "pdf"), mime="application/pdf",
                key="meeting_pack_pdf", on_click="ignore", icon=":material/picture_as_pdf:",
                help=_("Landscape A4, one chart or table per page, for printing."),
            )
    if not printable:
        st.caption(f":material/hide_image: {_(export.IMAGES_UNAVAILABLE)}")
