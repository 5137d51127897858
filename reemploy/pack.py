"""The meeting pack: headline figures against the previous period and the key charts of every
page, for one set of filters, as one self-contained HTML file or a PDF.

Pure logic (no Streamlit): the "Meeting pack" page and `python -m reemploy export` both build it
from KEY_CHARTS. A page's chart joins the pack by adding one KeyChart line there.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
from dataclasses import dataclass, field, replace
from typing import Callable
from urllib.parse import urlencode

import pandas as pd
import plotly.graph_objects as go

from reemploy import charts, definitions, export, i18n, labels, readouts, tables
from reemploy.charts.style import use_house_template
from reemploy import formatting as fmt
from reemploy.contract import PROGRAM_TYPES
from reemploy.filters import Filters
from reemploy.figures import compare, districts, headline, sectors, trends, who_benefits
from reemploy.figures.common import UNRELIABLE_BELOW
from reemploy.i18n import _, N_

BASE_URL_ENV_VAR = "REEMPLOY_BASE_URL"
DEFAULT_BASE_URL = "http://localhost:8501"
TITLE = N_("Re-employment outcomes: meeting pack")
DEFAULT_WINDOW_DAYS = 365
PDF_CHART_WIDTH = 1100
# The plotly.js modebar links to plotly.com unless told not to.
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


@dataclass(frozen=True)
class KeyChart:
    """One page's chart as the pack shows it: `chart(data, *companions, min_cell)` draws it from
    `question(..., **options)`, one of reemploy.figures' functions, and, in order, the
    `companions` questions (same options).

    `across` names a Filters attribute the chart compares across ("districts"): as on its page,
    the data is loaded without that filter and the chart gets the selected values as
    `selected=` to mark them. `methods` name reemploy.definitions.METHODS printed with it.
    Wrap a chart builder with another signature in a lambda.
    """

    page: str
    question: Callable[..., pd.DataFrame]
    chart: Callable[..., go.Figure]
    how_to_read: str
    options: dict = field(default_factory=dict)
    companions: tuple[Callable[..., pd.DataFrame], ...] = ()
    across: str = ""
    methods: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The section's anchor in the HTML: the page and the question it draws."""
        return f"{self.page.lower().replace(' ', '-')}-{self.question.__name__}"

    @property
    def page_label(self) -> str:
        """The page's name in the current language (the navigation's label)."""
        return _(self.page)

    @property
    def reading(self) -> str:
        """How to read the chart, in the current language."""
        return _(self.how_to_read)


KEY_CHARTS: list[KeyChart] = [
    KeyChart(N_("Overview"), trends.placement_rate_by_cohort,
             charts.placement_trend_chart,
             N_("each point is the people who enrolled in that quarter; the line shows the share "
                "who started a job within 180 days after leaving the programme.")),
    KeyChart(N_("Compare programmes"), compare.reemployment_curves,
             charts.reemployment_curve_chart,
             N_("each line is the share of a programme's people who have started a job by that "
                "day, counting those still searching (Kaplan-Meier); a line that starts flat and "
                "then climbs is a course that keeps people busy first (lock-in)."),
             options={"origin": "enrollment"}, companions=(compare.reemployment_logrank,)),
    KeyChart(N_("Compare programmes"), compare.adjusted_placement_difference,
             charts.adjusted_difference_chart,
             N_("if the adjusted diamond sits far from the raw one, much of the raw gap comes from "
                "who enrolled rather than from the course. An adjusted difference, not a causal "
                "effect."),
             methods=("raw_vs_adjusted",)),
    KeyChart(N_("Compare programmes"), compare.employer_mix_by_program,
             charts.employer_mix_chart,
             N_("each bar splits a programme's first jobs by employer, from state-owned and "
                "foreign-funded posts on the left to private jobs and self-employment on the "
                "right.")),
    KeyChart(N_("Districts"), districts.placement_gap_by_district,
             charts.district_gap_chart,
             N_("each row is a district: skills against mindset training, the share placed within "
                "180 days of leaving, with the gap and its 95% interval."), across="districts"),
    KeyChart(N_("Sectors"), sectors.placement_rate_by_prior_sector,
             charts.prior_sector_placement_chart,
             N_("each row is the sector of the lost job, each dot a programme with its 95% "
                "interval; further right, more people placed within 180 days of leaving."),
             across="sectors"),
    KeyChart(N_("Trends"), trends.placement_rate_by_cohort,
             lambda data, cell: charts.cohort_enrollment_chart(data),
             N_("each point counts the enrollments that started in that quarter; a person who "
                "enrolled twice counts twice.")),
    KeyChart(N_("Who benefits"), who_benefits.outcomes_by_characteristic,
             lambda data, cell: charts.outcomes_by_characteristic_chart(data, "placement_rate_180d", cell),
             N_("within a panel, compare the colours at the same group: where the 95% intervals "
                "of two programmes do not overlap, the difference is clear.")),
]

# The rows of the headline table: columns of figures.headline.headline_by_program, named and defined in
# reemploy.definitions.
HEADLINE_METRICS = ("enrolled_count", "placement_rate_180d", "placement_rate_180d_from_enrollment",
                    "employment_rate_q2_after_exit", "employment_rate_q4_after_exit",
                    "median_days_to_placement",
                    "retention_12m", "median_monthly_wage", "median_wage_replacement",
                    "completion_rate", "cost_per_placement")

# The follow-up each headline figure needs, and so the enrollments it covers when no period is
# set (measure_periods): "exit" the 12 months in which everyone has been followed 182 days after
# leaving (the 180-day rates and the 2nd quarter after exit); "year" 365 days (the 4th quarter
# after exit, and a first job followed for 12 months); "median" the months in which half of
# every programme have started a first job, so that the median days to it exists.
MEASURE_PERIODS = {
    **{measure: "exit" for measure in HEADLINE_METRICS},
    "employment_rate_q4_after_exit": "year",
    "retention_12m": "year",
    "median_days_to_placement": "median",
}
# How far back measure_periods looks, 12 months at a time, for months where the median is reached.
MEDIAN_SEARCH_YEARS = 6

Loader = Callable[..., pd.DataFrame]


@dataclass(frozen=True)
class Period:
    """The enrollments some headline figures cover, the period of equal length before, and a
    sentence saying which they are and why."""

    key: str
    current: Filters
    previous: Filters | None
    note: str


@dataclass(frozen=True)
class Section:
    """A key chart with the numbers it was drawn from and the enrollments those cover."""

    entry: KeyChart
    data: pd.DataFrame
    figure: go.Figure
    enrolled: pd.DataFrame


@dataclass(frozen=True)
class Pack:
    """Everything the pack prints, computed once for one extract and one set of filters.

    `headline`, `previous`, `period` and `previous_period` are those of the main period (the
    180-day measures); `periods` holds every period a figure covers (MEASURE_PERIODS) and
    `figures` each period's headline tables (this period, previous period)."""

    as_of: dt.date
    filters: Filters
    min_cell: int
    url: str
    generated_at: dt.datetime
    headline: pd.DataFrame
    differences: pd.DataFrame
    previous: pd.DataFrame
    period: Filters
    previous_period: Filters
    period_note: str
    sections: list[Section]
    periods: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)


def base_url() -> str:
    """Where the dashboard is served: $REEMPLOY_BASE_URL, else http://localhost:8501."""
    return (os.environ.get(BASE_URL_ENV_VAR) or DEFAULT_BASE_URL).rstrip("/")


def base_url_is_set() -> bool:
    """False when the pack's link back would point at localhost for want of $REEMPLOY_BASE_URL."""
    return bool(os.environ.get(BASE_URL_ENV_VAR))


def view_url(filters: Filters, base: str | None = None) -> str:
    """The dashboard link that opens the same view: the base URL with the filters as query
    parameters (the same keys the sidebar writes) and the pack's language."""
    query = urlencode({**filters.to_query_params(), "lang": [i18n.language()]}, doseq=True)
    root = (base or base_url()).rstrip("/") + "/"
    return f"{root}?{query}" if query else root


def _months_before(end: dt.date, months: int = 12) -> tuple[dt.date, dt.date]:
    """The `months` whole months that end on the last day of `end`'s month."""
    index = end.year * 12 + end.month - months
    return dt.date(index // 12, index % 12 + 1, 1), end


def _span(filters: Filters) -> str:
    """A period as a sentence writes it: "2000-12-01 to 2001-11-30"."""
    return _("{start} to {end}").format(start=i18n.date(filters.date_from),
                                        end=i18n.date(filters.date_to))


def comparison_periods(filters: Filters, as_of: dt.date,
                       observed_before: dt.date | None = None) -> tuple[Filters, Filters, str]:
    """The period the 180-day headline figures cover, the one before it of equal length, and a
    sentence saying which they are. Without a period in the filters: the 12 months of enrollments
    up to as_of against the 12 months before, or, when `observed_before` (the first enrollment
    month not yet fully observed for placement within 180 days of exit) is earlier, the 12 whole
    months up to the last fully observed one."""
    previous = filters.previous_period()
    if previous is not None:
        note = _("Enrolled {period} (the period in the filters), compared with "
                 "{previous}.").format(period=_span(filters), previous=_span(previous))
        return filters, previous, note
    if observed_before is not None and observed_before <= as_of:
        start, end = _months_before(observed_before - dt.timedelta(days=1))
        current = replace(filters, date_from=start, date_to=end)
        previous = current.previous_period()
        note = _("Enrolled {period}: the last 12 months in which everyone has been followed 182 "
                 "days after leaving, compared with the 12 months before ({previous}). Later "
                 "enrollments are not yet fully observed.").format(period=_span(current),
                                                                   previous=_span(previous))
        return current, previous, note
    start = as_of - dt.timedelta(days=DEFAULT_WINDOW_DAYS - 1)
    current = replace(filters, date_from=start, date_to=as_of)
    previous = current.previous_period()
    note = _("No period is set in the filters: enrolled {period}, the last 12 months up to the "
             "data's date, compared with the 12 months before ({previous}). Recent enrollments "
             "are not yet followed long enough for some measures: see n.").format(
        period=_span(current), previous=_span(previous))
    return current, previous, note


def _first_open(frame: pd.DataFrame, *columns: str) -> dt.date | None:
    months = [headline.first_open_month(frame, column) for column in columns]
    months = [month for month in months if month is not None]
    return min(months) if months else None


def _median_reached(frame: pd.DataFrame, min_cell: int) -> bool:
    """True when every programme with enough people has its median days to a first job."""
    rows = [r for r in frame.to_dict("records") if r.get("median_days_to_placement_n", 0) >= min_cell]
    return bool(rows) and all(not r.get("median_days_to_placement_suppressed", False)
                              and not fmt.is_missing(r.get("median_days_to_placement"))
                              for r in rows)


def measure_periods(load: Loader, filters: Filters, as_of: dt.date,
                    min_cell: int) -> dict[str, Period]:
    """The period each kind of headline figure covers (MEASURE_PERIODS' keys), so that every
    figure can be shown. With a period in the filters, every figure covers it. Without one:

    - "exit": the 12 whole months up to the last enrollment month in which everyone has been
      followed 182 days after leaving (comparison_periods);
    - "year": the same for 365 days after leaving (the 4th quarter after exit; a first job
      followed for 12 months);
    - "median": the latest 12 months, from "exit" back, 12 months at a time, in which at least
      half of every programme have started a first job by as_of, so that the median days to it
      is reached; "year" when there are none.

    Each against the 12 months before it. `load` is build_pack's: the answers are cached."""
    if filters.previous_period() is not None:
        current, previous, note = comparison_periods(filters, as_of)
        return {key: Period(key, current, previous, note) for key in ("exit", "year", "median")}
    everything = load(headline.headline_by_program, filters)
    exit_current, exit_previous, exit_note = comparison_periods(
        filters, as_of, _first_open(everything, "observed_before_180d", "observed_before_182d"))
    periods = {"exit": Period("exit", exit_current, exit_previous, exit_note)}
    year_open = _first_open(everything, "observed_before_365d")
    if year_open is not None and year_open <= as_of:
        start, end = _months_before(year_open - dt.timedelta(days=1))
        current = replace(filters, date_from=start, date_to=end)
        note = _("Enrolled {period}: the last 12 months in which everyone has been followed 365 "
                 "days after leaving, compared with the 12 months before ({previous}).").format(
            period=_span(current), previous=_span(current.previous_period()))
        periods["year"] = Period("year", current, current.previous_period(), note)
    else:
        periods["year"] = replace(periods["exit"], key="year")
    candidates = [periods["exit"].current]
    if periods["year"].current != candidates[0]:
        candidates.append(periods["year"].current)
    while len(candidates) < MEDIAN_SEARCH_YEARS + 2:
        candidates.append(candidates[-1].previous_period())
    chosen = None
    for candidate in candidates:
        frame = load(headline.headline_by_program, candidate)
        if frame.empty:
            continue
        if _median_reached(frame, min_cell):
            chosen = candidate
            break
    if chosen is None:
        fallback = periods["year"]
        note = _("Enrolled {period}: in no 12 months of enrollments have half of every programme "
                 "started a first job by the data's date, so the median may read “not reached”; "
                 "compared with the 12 months before ({previous}).").format(
            period=_span(fallback.current), previous=_span(fallback.previous))
        periods["median"] = Period("median", fallback.current, fallback.previous, note)
    else:
        note = _("Enrolled {period}: the latest 12 months in which at least half of every "
                 "programme have started a first job by the data's date, so that the median "
                 "exists, compared with the 12 months before ({previous}).").format(
            period=_span(chosen), previous=_span(chosen.previous_period()))
        periods["median"] = Period("median", chosen, chosen.previous_period(), note)
    return periods


def periods_note(periods: dict[str, Period], filters: Filters) -> str:
    """Which enrollments the headline figures and the charts cover, in sentences."""
    charts_cover = _("The charts cover every enrollment under the filters ({filters}), whatever "
                     "its period; a chart that compares districts or sectors shows every one "
                     "under the other filters and marks the selected ones.").format(
        filters=filters.describe())
    if filters.previous_period() is not None:
        return periods["exit"].note + " " + charts_cover
    groups = {}
    for measure in HEADLINE_METRICS:
        groups.setdefault(MEASURE_PERIODS[measure], []).append(measure)
    sentences = [_("No period is set in the filters, so each headline figure covers the latest "
                   "enrollments that have been followed long enough for it:")]
    for key, measures in groups.items():
        names = i18n.join([definitions.metric_label(m) for m in measures])
        sentences.append(_("{measures}: {period}").format(measures=names,
                                                          period=periods[key].note))
    return " ".join(sentences + [charts_cover])


def views_of(filters: Filters, as_of: dt.date, key_charts: list[KeyChart] | None = None,
             first_open_month: dt.date | None = None, load: Loader | None = None,
             min_cell: int = 10) -> list[Filters]:
    """Every filter set whose figures the pack prints (the view, each chart's view across its
    dimension, every period of measure_periods and the one before each): each must pass
    reemploy.disclosure. Pass build_pack's `load` (and min_cell) to get every period; without
    it, only the 180-day period from `first_open_month` (as comparison_periods)."""
    if load is not None:
        periods = measure_periods(load, filters, as_of, min_cell)
        dated = [view for period in periods.values() for view in (period.current, period.previous)
                 if view is not None]
    else:
        period, previous_period, _note = comparison_periods(filters, as_of, first_open_month)
        dated = [period, previous_period]
    views = [filters, *dated]
    for entry in KEY_CHARTS if key_charts is None else key_charts:
        views.append(replace(filters, **{entry.across: ()}) if entry.across else filters)
    return list(dict.fromkeys(views))


def _differences(load: Loader, periods: dict[str, Period]) -> pd.DataFrame:
    """Skills minus mindset on every clock, each measure over its period (the 4th quarter after
    exit over the "year" period)."""
    main = load(headline.program_differences, periods["exit"].current)
    if periods["year"].current == periods["exit"].current:
        return main
    year = load(headline.program_differences, periods["year"].current)
    late = "employment_rate_q4_after_exit"
    return pd.concat([main[main["measure"] != late], year[year["measure"] == late]],
                     ignore_index=True).sort_values(
        "measure", key=lambda m: m.map({k: i for i, k in enumerate(main["measure"].unique())}),
        kind="stable").reset_index(drop=True)


def build_pack(load: Loader, as_of: dt.date, filters: Filters, min_cell: int,
               url: str | None = None, key_charts: list[KeyChart] | None = None) -> Pack:
    """Compute the pack. `load(question, filters, **options)` returns question(con, extract,
    filters, min_cell, **options) (the app passes Session.load, the CLI the same over its
    connection); both answer from the result cache, so a question the pack asks twice is
    computed once."""
    # Plotly attaches its default template when a figure is made, so it is set before drawing.
    use_house_template()
    periods = measure_periods(load, filters, as_of, min_cell)
    figures = {key: (load(headline.headline_by_program, period.current),
                     load(headline.headline_by_program, period.previous))
               for key, period in periods.items()}
    sections = []
    for entry in KEY_CHARTS if key_charts is None else key_charts:
        shown = replace(filters, **{entry.across: ()}) if entry.across else filters
        data = load(entry.question, shown, **entry.options)
        companions = [load(question, shown, **entry.options) for question in entry.companions]
        marks = {"selected": getattr(filters, entry.across)} if entry.across else {}
        figure = entry.chart(data, *companions, min_cell, **marks)
        sections.append(Section(entry, data, figure, load(headline.headline_by_program, shown)))
    main = periods["exit"]
    return Pack(
        as_of=as_of,
        filters=filters,
        min_cell=min_cell,
        url=url or view_url(filters),
        generated_at=dt.datetime.now().replace(microsecond=0),
        headline=figures["exit"][0],
        differences=_differences(load, periods),
        previous=figures["exit"][1],
        period=main.current,
        previous_period=main.previous,
        period_note=periods_note(periods, filters),
        sections=sections,
        periods=periods,
        figures=figures,
    )


# --------------------------------------------------------------------------- what each page says


def figure_text(row: dict, column: str, unit: str, min_cell: int,
                program: str = "") -> tuple[str, str]:
    """A headline figure as the Overview's cards and the pack write it: the value
    and the line under it (interval, n, flags), in the current language. "not applicable" where
    the programme has no such figure (no training has no course, so no completion and no cost
    per placement: tables.NOT_APPLICABLE)."""
    if (program, column) in tables.NOT_APPLICABLE:
        return _("not applicable"), ""
    if unit == "count":
        return fmt.number(row.get(column, 0)), ""
    if column not in row:
        # The programme enrolled nobody in this period: no figure, and no "not reached".
        return fmt.MISSING, ""
    n = row.get(f"{column}_n", 0)
    n = 0 if fmt.is_missing(n) else n
    if row.get(f"{column}_suppressed", False):
        return _("suppressed"), f"{fmt.suppressed_text(min_cell)} · {fmt.n_text(n)}"
    value = row.get(column)
    detail = ""
    if unit in ("rate", "ratio"):
        # Wage replacement (a ratio) reads as a percentage too, as everywhere in the app.
        text = fmt.percent(value)
        detail = fmt.interval(row.get(f"{column}_low"), row.get(f"{column}_high"))
    elif unit == "days":
        text = _("not reached") if fmt.is_missing(value) else fmt.days(value)
        detail = _("fewer than half placed by the data's date") if fmt.is_missing(value) else ""
    else:
        text = fmt.number(value, unit="yuan")
    flag = (" · " + fmt.unreliable_text(UNRELIABLE_BELOW)
            if row.get(f"{column}_unreliable", False) else "")
    return text, " · ".join(p for p in (detail, fmt.n_text(n)) if p) + flag


def _change_text(row: dict, before: dict, column: str, unit: str, program: str = "") -> str:
    if (program, column) in tables.NOT_APPLICABLE:
        return ""
    if not before or row.get(f"{column}_suppressed") or before.get(f"{column}_suppressed"):
        return ""
    change = fmt.change(row.get(column), before.get(column),
                        "rate" if unit in ("rate", "ratio") else "number",
                        {"days": "days", "yuan": "yuan"}.get(unit, ""))
    return change or ""


# The headline table's columns: key -> header (translated where shown).
HEADLINE_COLUMNS = {
    "measure": N_("measure"),
    "programme": N_("programme"),
    "this period": N_("this period"),
    "n": N_("n"),
    "previous period": N_("previous period"),
    "change": N_("change"),
    "detail": N_("interval and n"),
    "period": N_("enrolled"),
}


def _headline_rows(pack: Pack) -> list[dict]:
    rows = []
    programs = set()
    for current, previous in pack.figures.values() or [(pack.headline, pack.previous)]:
        programs |= set(current["program_type"]) | set(previous["program_type"])
    # A programme that enrolled nobody in one of the periods still gets its row: "0, was 12".
    programs = [p for p in PROGRAM_TYPES if p in programs]
    for column in HEADLINE_METRICS:
        meaning = definitions.definition(column)
        key = MEASURE_PERIODS[column]
        period = pack.periods.get(key)
        frames = pack.figures.get(key, (pack.headline, pack.previous))
        current = {r["program_type"]: r for r in frames[0].to_dict("records")}
        previous = {r["program_type"]: r for r in frames[1].to_dict("records")}
        for program in programs:
            if program == "none" and column == "completion_rate":
                continue
            row = current.get(program, {"enrolled_count": 0})
            before = previous.get(program, {"enrolled_count": 0})
            text, detail = figure_text(row, column, meaning.unit, pack.min_cell, program)
            was, _detail = figure_text(before, column, meaning.unit, pack.min_cell, program)
            n = row.get(f"{column}_n")
            rows.append({
                "measure": meaning.label,
                "programme": labels.program_label(program),
                "this period": text,
                "n": "" if meaning.unit == "count" or fmt.is_missing(n) or
                     (program, column) in tables.NOT_APPLICABLE else fmt.number(n),
                "previous period": was,
                "change": _change_text(row, before, column, meaning.unit, program),
                "detail": detail,
                "period": _span(period.current) if period is not None else _span(pack.period),
            })
    return rows


def headline_table(pack: Pack) -> pd.DataFrame:
    """The headline figures as text: one row per measure and programme with its value this
    period, its n, the previous period's value, the change, the interval and n as the app's
    cards write them, and the enrollments the figure covers; headers in the current language."""
    table = pd.DataFrame(_headline_rows(pack), columns=list(HEADLINE_COLUMNS))
    table.columns = [_(HEADLINE_COLUMNS[c]) for c in table.columns]
    return table


def sample_sizes(section: Section) -> str:
    """Enrollments per programme under the filters the section's chart is drawn with."""
    parts = [_("{programme} {count}").format(programme=labels.program_label(r["program_type"]),
                                            count=i18n.number(int(r["enrolled_count"])))
             for r in section.enrolled.to_dict("records")]
    return _("Enrollments under these filters: {counts}.").format(
        counts=" · ".join(parts) if parts else _("none"))


def suppression_note(data: pd.DataFrame, min_cell: int) -> str:
    """How many figures of a chart's table are suppressed or flagged unreliable."""
    measures = export.measures_in(data)
    if not measures or data.empty:
        return _("Rates and medians with fewer than {cell} people are suppressed.").format(
            cell=i18n.number(min_cell))
    hidden = sum(int(data[f"{m}_suppressed"].astype("boolean").fillna(False).sum()) for m in measures)
    shaky = sum(int(data[f"{m}_unreliable"].astype("boolean").fillna(False).sum())
                for m in measures if f"{m}_unreliable" in data.columns)
    return _("{hidden} of {total} figures suppressed (fewer than {cell} people, or would give such "
             "a figure away through a total; not drawn); {shaky} flagged unreliable (fewer than "
             "{threshold} people).").format(hidden=i18n.number(hidden),
                                            total=i18n.number(len(data) * len(measures)),
                                            cell=i18n.number(min_cell), shaky=i18n.number(shaky),
                                            threshold=i18n.number(UNRELIABLE_BELOW))


def definitions_for(data: pd.DataFrame) -> list[str]:
    """The definitions (reemploy.definitions) of the measures a table holds; a measure named per
    programme ("skills_placement_rate_180d") takes its metric's definition, a difference the
    rule for intervals of differences."""
    texts = []
    for measure in export.measures_in(data):
        metric = re.sub(rf"^({'|'.join(PROGRAM_TYPES)})_", "", measure)
        if metric in definitions.METRICS:
            d = definitions.METRICS[metric]
            text = _("{label}: {definition} Denominator: {denominator}").format(
                label=d.label, definition=d.definition, denominator=d.denominator)
        elif metric in ("gap", "difference"):
            method = definitions.METHODS["newcombe"]
            text = _("{label}: {text}").format(label=method.label, text=method.text)
        else:
            continue
        if text not in texts:
            texts.append(text)
    return texts or [_("Every measure is defined on the dashboard's “About the numbers” page.")]


def figure_title(fig: go.Figure) -> str:
    """The chart's title as plain text (Plotly titles may carry <b>, <br> and the like)."""
    return html.unescape(re.sub(r"<[^>]+>", "", fig.layout.title.text or ""))


# --------------------------------------------------------------------------- HTML and PDF

_STYLE = """
:root { --ink: #1f2937; --muted: #5b6472; --rule: #d9dde3; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans", "Noto Sans CJK SC", Arial, sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1180px; padding: 24px; line-height: 1.4; }
h1 { font-size: 26px; margin: 0 0 8px; }
h2 { font-size: 19px; margin: 0 0 6px; }
.meta { color: var(--muted); font-size: 13px; margin: 2px 0; }
.runhead { color: var(--muted); font-size: 11px; border-bottom: 1px solid var(--rule);
           padding-bottom: 4px; margin-bottom: 10px; }
section { padding: 18px 0 26px; border-bottom: 1px solid var(--rule); }
.notes { font-size: 12.5px; margin-top: 6px; }
.notes p { margin: 3px 0; }
.link code { font-size: 13px; background: #f3f4f6; padding: 2px 6px; word-break: break-all;
             user-select: all; }
table { border-collapse: collapse; font-size: 12.5px; width: 100%; }
th, td { border-bottom: 1px solid var(--rule); padding: 4px 8px; text-align: left;
         vertical-align: top; }
th { background: #f3f4f6; }
td.num { text-align: right; white-space: nowrap; }
ol { margin: 4px 0 0 18px; padding: 0; font-size: 13px; }
@page { size: A4 landscape; margin: 9mm 10mm 13mm 10mm; }
@media print {
  body { max-width: none; padding: 0; }
  /* One page per section, whatever its length: the chart (kaleido's static SVG, never Plotly's
     own) takes the height the notes leave. */
  section { height: 186mm; overflow: hidden; display: flex; flex-direction: column;
            break-after: page; border: none; padding: 0; }
  section:last-of-type { break-after: auto; }
  /* The cover and the headline figures run onto as many pages as they need: cut at one page,
     the table's last measures would be lost. */
  section#cover, section#headline { height: auto; overflow: visible; display: block; }
  section#headline tr { break-inside: avoid; }
  .static { flex: 1 1 0; min-height: 0; }
  .static svg { width: 100%; height: 100%; }
  .notes { flex: none; }
  table { font-size: 10.5px; }
  th, td { padding: 1px 6px; }
  .notes { font-size: 11px; }
}
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _title() -> str:
    return _(TITLE)


def _runhead(pack: Pack) -> str:
    return "<div class='runhead'>" + _e(_("{title} · data as of {date} · filters: {filters}").format(
        title=_title(), date=i18n.date(pack.as_of), filters=pack.filters.describe())) + "</div>"


def _cover(pack: Pack, printable: bool) -> str:
    link = (f"<a href='{_e(pack.url)}'>{_e(pack.url)}</a>" if printable
            else f"<code>{_e(pack.url)}</code>")
    contents = "".join(
        "<li>" + _e(_("{page}: {title}").format(page=s.entry.page_label,
                                                title=figure_title(s.figure))) + "</li>"
        for s in pack.sections)
    generated = _("Data as of {date} · generated {when}").format(
        date="<b>" + _e(i18n.date(pack.as_of)) + "</b>",
        when=_e(f"{i18n.date(pack.generated_at.date())} {pack.generated_at:%H:%M}"))
    return (
        "<section id='cover'>"
        f"<h1>{_e(_title())}</h1>"
        f"<p class='meta'>{generated}</p>"
        "<p class='meta'>" + _("Filters: {filters}").format(
            filters="<b>" + _e(pack.filters.describe()) + "</b>") + "</p>"
        f"<p class='meta'>{_e(pack.period_note)}</p>"
        "<p class='meta link'>" + _("The same view in the dashboard: {link}").format(link=link)
        + "</p>"
        "<p class='meta'>" + _e(_(
            "Rates and medians with fewer than {cell} people are suppressed everywhere in this "
            "pack; figures resting on fewer than {threshold} people are flagged unreliable. "
            "Comparisons of programmes are descriptive: the programmes enroll different "
            "people.").format(cell=i18n.number(pack.min_cell),
                              threshold=i18n.number(UNRELIABLE_BELOW))) + "</p>"
        "<h2 style='margin-top:14px'>" + _e(_("Contents")) + "</h2>"
        "<ol><li>" + _e(_("Headline figures against the previous period")) + f"</li>{contents}</ol>"
        "</section>"
    )


def _headline_cell(row: dict) -> str:
    lines = [f"<b>{_e(row['this period'])}</b>"]
    if row["detail"]:
        lines.append(f"<small>{_e(row['detail'])}</small>")
    if row["change"]:
        lines.append(_e(_("{change} (was {previous})").format(change=row["change"],
                                                              previous=row["previous period"])))
    elif row["previous period"] not in ("", "–", _("not applicable")):
        lines.append(_e(_("was {previous}").format(previous=row["previous period"])))
    return "<br>".join(lines)


def _headline_section(pack: Pack) -> str:
    rows = _headline_rows(pack)
    programmes = list(dict.fromkeys(row["programme"] for row in rows))
    head = "<th>" + _e(_("measure")) + "</th>" + "".join(f"<th>{_e(p)}</th>" for p in programmes)
    body = ""
    for measure in dict.fromkeys(row["measure"] for row in rows):
        mine = [row for row in rows if row["measure"] == measure]
        cells = {row["programme"]: _headline_cell(row) for row in mine}
        period = _("enrolled {period}").format(period=mine[0]["period"])
        body += (f"<tr><td>{_e(measure)}<br><small>{_e(period)}</small></td>"
                 + "".join(f"<td class='num'>{cells.get(p, '')}</td>" for p in programmes)
                 + "</tr>")
    notes = "".join(f"<p><b>{_e(d.label)}:</b> {_e(d.definition)}</p>"
                    for d in map(definitions.definition, HEADLINE_METRICS))
    suppression = _("“{text}” marks a figure with fewer than {cell} people; changes are shown only "
                    "where both periods have a figure. Rates change in percentage points (pp); n "
                    "is the denominator this period.").format(
        text=fmt.suppressed_text(pack.min_cell), cell=i18n.number(pack.min_cell))
    return (
        "<section id='headline'>"
        f"{_runhead(pack)}"
        "<h2>" + _e(_("Headline figures against the previous period")) + "</h2>"
        f"<p class='meta'>{_e(pack.period_note)}</p>"
        f"{_differences_html(pack)}"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        "<div class='notes'>"
        "<p><b>" + _e(_("Suppression:")) + f"</b> {_e(suppression)}</p>"
        f"{notes}</div>"
        "</section>"
    )


def _differences_html(pack: Pack) -> str:
    """Skills minus mindset on every clock, each over its measure's period, with the Overview's
    sentence."""
    sentence = readouts.clock_sentence(pack.differences)
    table = tables.program_differences_table(pack.differences, pack.min_cell)
    head = "".join(f"<th>{_e(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>"
                   for row in table.itertuples(index=False))
    late = ""
    if "year" in pack.periods and pack.periods["year"].current != pack.period:
        late = ("<p class='meta'>" + _e(_(
            "Employed in the 4th quarter after exit: enrolled {period}; the other rows: enrolled "
            "{main}.").format(period=_span(pack.periods["year"].current), main=_span(pack.period)))
            + "</p>")
    return ((f"<p>{_e(sentence)}</p>" if sentence else "")
            + f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>" + late)


def _chart_html(section: Section, printable: bool) -> str:
    if printable:
        wide = export.static_figure(section.figure).update_layout(width=PDF_CHART_WIDTH)
        return _scalable_svg(export.render_image(wide, "svg").decode("utf-8"))
    return section.figure.to_html(full_html=False, include_plotlyjs=False, config=PLOTLY_CONFIG)


def _scalable_svg(svg: str) -> str:
    """Give kaleido's fixed-size SVG a viewBox so the page's CSS can scale it to fit."""
    opening = svg[: svg.find(">")]
    match = re.search(r'\swidth="([\d.]+)".*?\sheight="([\d.]+)"', opening)
    if not match or "viewBox" in opening:
        return svg
    width, height = match.groups()
    return svg.replace("<svg", f'<svg viewBox="0 0 {width} {height}"', 1)


# A chart that compares across a filter: what its notes say.
ACROSS_NOTES = {
    "districts": N_("All districts: this chart compares every district under the other filters "
                    "and marks the selected ones."),
    "sectors": N_("All prior sectors: this chart compares every prior sector under the other "
                  "filters and marks the selected ones."),
}


def _chart_section(pack: Pack, section: Section, printable: bool) -> str:
    across = ""
    if section.entry.across:
        across = f"<p>{_e(_(ACROSS_NOTES[section.entry.across]))}</p>"
    methods = [definitions.METHODS[key] for key in section.entry.methods]
    meanings = "".join(f"<p>{_e(d)}</p>" for d in definitions_for(section.data))
    meanings += "".join(f"<p>{_e(m.label)}: {_e(m.text)}</p>" for m in methods)
    sample = _("{sizes} The n of the chart is in its subtitle.").format(sizes=sample_sizes(section))
    return (
        f"<section id='{_e(section.entry.name)}'>"
        f"{_runhead(pack)}"
        f"<h2>{_e(section.entry.page_label)}</h2>"
        f"<div class='chart{' static' if printable else ''}'>{_chart_html(section, printable)}</div>"
        "<div class='notes'>"
        "<p><b>" + _e(_("How to read this:")) + f"</b> {_e(section.entry.reading)}</p>"
        f"{across}"
        "<p><b>" + _e(_("Sample size:")) + f"</b> {_e(sample)}</p>"
        "<p><b>" + _e(_("Suppression:")) + f"</b> {_e(suppression_note(section.data, pack.min_cell))}</p>"
        "<p><b>" + _e(_("Definitions:")) + f"</b></p>{meanings}"
        "</div></section>"
    )


def pack_html(pack: Pack, printable: bool = False) -> str:
    """The pack as one HTML document, in the current language (its `lang` says which).

    Interactive (default): Plotly charts with plotly.js embedded, nothing fetched from any other
    host, readable offline. Printable: static SVG charts and page breaks, the input of pack_pdf
    (its cover link is clickable; the interactive file prints the link as text, so it holds no
    reference to another host).
    """
    script = "" if printable else _plotly_script()
    sections = [_cover(pack, printable), _headline_section(pack)]
    sections += [_chart_section(pack, s, printable) for s in pack.sections]
    title = _("{title} · {date} · {filters}").format(title=_title(), date=i18n.date(pack.as_of),
                                                    filters=pack.filters.describe())
    return (
        f"<!DOCTYPE html><html lang='{i18n.HTML_LANG[i18n.language()]}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_e(title)}</title>"
        f"<style>{_STYLE}</style>{script}</head><body>"
        + "".join(sections)
        + "</body></html>"
    )


def _plotly_script() -> str:
    from plotly.offline import get_plotlyjs

    return ("<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>"
            f"<script>{get_plotlyjs()}</script>")


def _footer(pack: Pack) -> str:
    text = _("{title} · data as of {date} · filters: {filters}").format(
        title=_title(), date=i18n.date(pack.as_of), filters=pack.filters.describe())
    # Chromium fills the elements of class pageNumber and totalPages; the sentence around them
    # is the language's.
    pages = _e(_("Page {page} of {pages}")).replace(
        "{page}", "<span class='pageNumber'></span>").replace(
        "{pages}", "<span class='totalPages'></span>")
    return (
        "<div style='font-family:\"Noto Sans\",\"Noto Sans CJK SC\",sans-serif;font-size:8px;"
        "color:#5b6472;width:100%;margin:0 10mm;display:flex;justify-content:space-between'>"
        f"<span>{_e(text)}</span>"
        f"<span>{pages}</span>"
        "</div>"
    )


def pack_pdf(pack: Pack) -> bytes:
    """The pack as a landscape A4 PDF printed by the browser: a cover, the headline table, one
    chart per page, each page headed with the filters and as_of and footed with page numbers."""
    return export.html_to_pdf(pack_html(pack, printable=True), footer_html=_footer(pack))


def write_pack(pack: Pack, path) -> str:
    """Write the pack to `path` as .html or .pdf (chosen by the suffix); return the format.

    The file is opened only once its content exists, so a failed PDF leaves no empty file.
    """
    suffix = str(path).lower().rsplit(".", 1)[-1]
    if suffix in ("html", "htm"):
        content, kind = pack_html(pack).encode("utf-8"), "html"
    elif suffix == "pdf":
        content, kind = pack_pdf(pack), "pdf"
    else:
        raise ValueError(f"the pack is written as .html or .pdf, not {path}")
    with open(path, "wb") as out:
        out.write(content)
    return kind


def pack_file_name(pack: Pack, extension: str) -> str:
    """meeting-pack_<as_of>_<filters>.<ext>."""
    return export.file_name("meeting-pack", pack.as_of, pack.filters, extension)
