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

from reemploy import charts, definitions, export, labels, readouts, tables
from reemploy.charts.style import use_house_template
from reemploy import formatting as fmt
from reemploy.contract import PROGRAM_TYPES
from reemploy.filters import Filters
from reemploy.figures import compare, districts, headline, sectors, trends, who_benefits
from reemploy.figures.common import UNRELIABLE_BELOW

BASE_URL_ENV_VAR = "REEMPLOY_BASE_URL"
DEFAULT_BASE_URL = "http://localhost:8501"
TITLE = "Re-employment outcomes: meeting pack"
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


KEY_CHARTS: list[KeyChart] = [
    KeyChart("Overview", trends.placement_rate_by_cohort,
             charts.placement_trend_chart,
             "each point is the people who enrolled in that quarter; the line shows the share who "
             "started a job within 180 days after leaving the programme."),
    KeyChart("Compare programmes", compare.reemployment_curves,
             charts.reemployment_curve_chart,
             "each line is the share of a programme's people who have started a job by that day, "
             "counting those still searching (Kaplan-Meier); a line that starts flat and then "
             "climbs is a course that keeps people busy first (lock-in).",
             options={"origin": "enrollment"}, companions=(compare.reemployment_logrank,)),
    KeyChart("Compare programmes", compare.adjusted_placement_difference, charts.adjusted_difference_chart,
             "if the adjusted diamond sits far from the raw one, much of the raw gap comes from who "
             "enrolled rather than from the course. An adjusted difference, not a causal effect.",
             methods=("raw_vs_adjusted",)),
    KeyChart("Compare programmes", compare.employer_mix_by_program,
             charts.employer_mix_chart,
             "each bar splits a programme's first jobs by employer, from state-owned and "
             "foreign-funded posts on the left to private jobs and self-employment on the right."),
    KeyChart("Districts", districts.placement_gap_by_district,
             charts.district_gap_chart,
             "each row is a district: skills against mindset training, the share placed within "
             "180 days of leaving, with the gap and its 95% interval.", across="districts"),
    KeyChart("Sectors", sectors.placement_rate_by_prior_sector,
             charts.prior_sector_placement_chart,
             "each row is the sector of the lost job, each dot a programme with its 95% interval; "
             "further right, more people placed within 180 days of leaving.", across="sectors"),
    KeyChart("Trends", trends.placement_rate_by_cohort,
             lambda data, cell: charts.cohort_enrollment_chart(data),
             "each point counts the enrollments that started in that quarter; a person who "
             "enrolled twice counts twice."),
    KeyChart("Who benefits", who_benefits.outcomes_by_characteristic,
             lambda data, cell: charts.outcomes_by_characteristic_chart(data, "placement_rate_180d", cell),
             "within a panel, compare the colours at the same group: where the 95% intervals of "
             "two programmes do not overlap, the difference is clear."),
]

# The rows of the headline table: columns of figures.headline.headline_by_program, named and defined in
# reemploy.definitions.
HEADLINE_METRICS = ("enrolled_count", "placement_rate_180d", "placement_rate_180d_from_enrollment",
                    "employment_rate_q2_after_exit", "employment_rate_q4_after_exit",
                    "median_days_to_placement",
                    "retention_12m", "median_monthly_wage", "median_wage_replacement",
                    "completion_rate", "cost_per_placement")

Loader = Callable[..., pd.DataFrame]


@dataclass(frozen=True)
class Section:
    """A key chart with the numbers it was drawn from and the enrollments those cover."""

    entry: KeyChart
    data: pd.DataFrame
    figure: go.Figure
    enrolled: pd.DataFrame


@dataclass(frozen=True)
class Pack:
    """Everything the pack prints, computed once for one extract and one set of filters."""

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


def base_url() -> str:
    """Where the dashboard is served: $REEMPLOY_BASE_URL, else http://localhost:8501."""
    return (os.environ.get(BASE_URL_ENV_VAR) or DEFAULT_BASE_URL).rstrip("/")


def view_url(filters: Filters, base: str | None = None) -> str:
    """The dashboard link that opens the same view: the base URL with the filters as query
    parameters (the same keys the sidebar writes)."""
    query = urlencode(filters.to_query_params(), doseq=True)
    root = (base or base_url()).rstrip("/") + "/"
    return f"{root}?{query}" if query else root


def comparison_periods(filters: Filters, as_of: dt.date,
                       observed_before: dt.date | None = None) -> tuple[Filters, Filters, str]:
    """The period the headline figures cover, the one before it of equal length, and a sentence
    saying which they are. Without a period in the filters: the 12 months of enrollments up to
    as_of against the 12 months before, or, when `observed_before` (the first enrollment month
    not yet fully observed for placement within 180 days of exit) is earlier, the 12 whole
    months up to the last fully observed one, so that every headline figure can be shown."""
    previous = filters.previous_period()
    if previous is not None:
        note = (f"Enrolled {filters.date_from} to {filters.date_to} (the period in the filters), "
                f"compared with {previous.date_from} to {previous.date_to}.")
        return filters, previous, note
    covered = f"The charts cover {filters.describe()}."
    if observed_before is not None and observed_before <= as_of:
        end = observed_before - dt.timedelta(days=1)
        index = end.year * 12 + end.month - 12
        start = dt.date(index // 12, index % 12 + 1, 1)
        current = replace(filters, date_from=start, date_to=end)
        previous = current.previous_period()
        note = (f"No period is set in the filters, so the headline figures cover the 12 months of "
                f"enrollments {start} to {end}, the last months in which everyone has been "
                f"followed 180 days after leaving, compared with the 12 months before "
                f"({previous.date_from} to {previous.date_to}). Later enrollments are not yet "
                f"fully observed. {covered}")
        return current, previous, note
    start = as_of - dt.timedelta(days=DEFAULT_WINDOW_DAYS - 1)
    current = replace(filters, date_from=start, date_to=as_of)
    previous = current.previous_period()
    note = (f"No period is set in the filters, so the headline figures cover the last 12 months "
            f"of enrollments up to as_of ({start} to {as_of}), compared with the 12 months before "
            f"({previous.date_from} to {previous.date_to}). {covered} "
            "Recent enrollments are not yet followed long enough for some measures: see n.")
    return current, previous, note


def views_of(filters: Filters, as_of: dt.date, key_charts: list[KeyChart] | None = None,
             first_open_month: dt.date | None = None) -> list[Filters]:
    """Every filter set whose figures the pack prints (the view, each chart's view across its
    dimension, the period and the previous one, `first_open_month` as in comparison_periods):
    each must pass reemploy.disclosure."""
    period, previous_period, _ = comparison_periods(filters, as_of, first_open_month)
    views = [filters, period, previous_period]
    for entry in KEY_CHARTS if key_charts is None else key_charts:
        views.append(replace(filters, **{entry.across: ()}) if entry.across else filters)
    return list(dict.fromkeys(views))


def build_pack(load: Loader, as_of: dt.date, filters: Filters, min_cell: int,
               url: str | None = None, key_charts: list[KeyChart] | None = None) -> Pack:
    """Compute the pack. `load(question, filters, **options)` returns question(con, extract,
    filters, min_cell, **options) (the app passes Session.load, the CLI the same over its
    connection); both answer from the result cache, so a question the pack asks twice is
    computed once."""
    # Plotly attaches its default template when a figure is made, so it is set before drawing.
    use_house_template()
    period, previous_period, note = comparison_periods(
        filters, as_of, headline.first_open_month(load(headline.headline_by_program, filters)))
    sections = []
    for entry in KEY_CHARTS if key_charts is None else key_charts:
        shown = replace(filters, **{entry.across: ()}) if entry.across else filters
        data = load(entry.question, shown, **entry.options)
        companions = [load(question, shown, **entry.options) for question in entry.companions]
        marks = {"selected": getattr(filters, entry.across)} if entry.across else {}
        figure = entry.chart(data, *companions, min_cell, **marks)
        sections.append(Section(entry, data, figure, load(headline.headline_by_program, shown)))
    return Pack(
        as_of=as_of,
        filters=filters,
        min_cell=min_cell,
        url=url or view_url(filters),
        generated_at=dt.datetime.now().replace(microsecond=0),
        headline=load(headline.headline_by_program, period),
        differences=load(headline.program_differences, period),
        previous=load(headline.headline_by_program, previous_period),
        period=period,
        previous_period=previous_period,
        period_note=note,
        sections=sections,
    )


# --------------------------------------------------------------------------- what each page says


def _value_text(row: dict, column: str, unit: str, min_cell: int) -> str:
    if column not in row:
        return "–"
    if unit == "count":
        return fmt.number(row[column])
    if row.get(f"{column}_suppressed", False):
        return fmt.suppressed_text(min_cell)
    value = row.get(column)
    if unit in ("rate", "ratio"):
        return fmt.percent(value)
    if unit == "days":
        return "not reached" if fmt.is_missing(value) else f"{value:,.0f} days"
    return fmt.number(value, unit="yuan")


def _change_text(row: dict, before: dict, column: str, unit: str) -> str:
    if not before or row.get(f"{column}_suppressed") or before.get(f"{column}_suppressed"):
        return ""
    change = fmt.change(row.get(column), before.get(column),
                        "rate" if unit in ("rate", "ratio") else "number",
                        "days" if unit == "days" else "")
    return change or ""


def headline_table(pack: Pack) -> pd.DataFrame:
    """The headline figures as text: one row per measure and programme with its value this
    period, its n, the previous period's value and the change."""
    current = {r["program_type"]: r for r in pack.headline.to_dict("records")}
    previous = {r["program_type"]: r for r in pack.previous.to_dict("records")}
    # A programme that enrolled nobody in one of the periods still gets its row: "0, was 12".
    programs = [p for p in PROGRAM_TYPES if p in current or p in previous]
    rows = []
    for column in HEADLINE_METRICS:
        meaning = definitions.definition(column)
        for program in programs:
            if program == "none" and column == "completion_rate":
                continue
            row = current.get(program, {"enrolled_count": 0})
            before = previous.get(program, {"enrolled_count": 0})
            rows.append({
                "measure": meaning.label,
                "programme": labels.program_label(program),
                "this period": _value_text(row, column, meaning.unit, pack.min_cell),
                "n": "" if meaning.unit == "count" else fmt.number(row.get(f"{column}_n")),
                "previous period": _value_text(before, column, meaning.unit, pack.min_cell),
                "change": _change_text(row, before, column, meaning.unit),
            })
    return pd.DataFrame(rows, columns=["measure", "programme", "this period", "n",
                                       "previous period", "change"])


def sample_sizes(section: Section) -> str:
    """Enrollments per programme under the filters the section's chart is drawn with."""
    parts = [f"{labels.program_label(r['program_type'])} {int(r['enrolled_count']):,}"
             for r in section.enrolled.to_dict("records")]
    return "Enrollments under these filters: " + (" · ".join(parts) if parts else "none") + "."


def suppression_note(data: pd.DataFrame, min_cell: int) -> str:
    """How many figures of a chart's table are suppressed or flagged unreliable."""
    measures = export.measures_in(data)
    if not measures or data.empty:
        return f"Rates and medians with fewer than {min_cell} people are suppressed."
    hidden = sum(int(data[f"{m}_suppressed"].astype("boolean").fillna(False).sum()) for m in measures)
    shaky = sum(int(data[f"{m}_unreliable"].astype("boolean").fillna(False).sum())
                for m in measures if f"{m}_unreliable" in data.columns)
    return (f"{hidden:,} of {len(data) * len(measures):,} figures suppressed (fewer than "
            f"{min_cell} people, or would give such a figure away through a total; not drawn); "
            f"{shaky:,} flagged unreliable (fewer than {UNRELIABLE_BELOW} people).")


def definitions_for(data: pd.DataFrame) -> list[str]:
    """The definitions (reemploy.definitions) of the measures a table holds; a measure named per
    programme ("skills_placement_rate_180d") takes its metric's definition, a difference the
    rule for intervals of differences."""
    texts = []
    for measure in export.measures_in(data):
        metric = re.sub(rf"^({'|'.join(PROGRAM_TYPES)})_", "", measure)
        if metric in definitions.METRICS:
            d = definitions.METRICS[metric]
            text = f"{d.label}: {d.definition} Denominator: {d.denominator}"
        elif metric in ("gap", "difference"):
            method = definitions.METHODS["newcombe"]
            text = f"{method.label}: {method.text}"
        else:
            continue
        if text not in texts:
            texts.append(text)
    return texts or ["Every measure is defined on the dashboard's “About the numbers” page."]


def figure_title(fig: go.Figure) -> str:
    """The chart's title as plain text (Plotly titles may carry <b>, <br> and the like)."""
    return re.sub(r"<[^>]+>", "", fig.layout.title.text or "")


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


def _runhead(pack: Pack) -> str:
    return (f"<div class='runhead'>{_e(TITLE)} · data as of {pack.as_of.isoformat()} · "
            f"filters: {_e(pack.filters.describe())}</div>")


def _cover(pack: Pack, printable: bool) -> str:
    link = (f"<a href='{_e(pack.url)}'>{_e(pack.url)}</a>" if printable
            else f"<code>{_e(pack.url)}</code>")
    contents = "".join(
        f"<li>{_e(s.entry.page)}: {_e(figure_title(s.figure))}</li>" for s in pack.sections)
    return (
        "<section id='cover'>"
        f"<h1>{_e(TITLE)}</h1>"
        f"<p class='meta'>Data as of <b>{pack.as_of.isoformat()}</b> · generated "
        f"{pack.generated_at.isoformat(sep=' ')}</p>"
        f"<p class='meta'>Filters: <b>{_e(pack.filters.describe())}</b></p>"
        f"<p class='meta'>{_e(pack.period_note)}</p>"
        f"<p class='meta link'>The same view in the dashboard: {link}</p>"
        f"<p class='meta'>Rates and medians with fewer than {pack.min_cell} people are "
        f"suppressed everywhere in this pack; figures resting on fewer than {UNRELIABLE_BELOW} "
        "people are flagged unreliable. Comparisons of programmes are descriptive: the "
        "programmes enroll different people.</p>"
        "<h2 style='margin-top:14px'>Contents</h2>"
        f"<ol><li>Headline figures against the previous period</li>{contents}</ol>"
        "</section>"
    )


def _headline_cell(row: dict) -> str:
    lines = [f"<b>{_e(row['this period'])}</b>" + (f" · n = {_e(row['n'])}" if row["n"] else "")]
    if row["change"]:
        lines.append(f"{_e(row['change'])} (was {_e(row['previous period'])})")
    elif row["previous period"] not in ("", "–"):
        lines.append(f"was {_e(row['previous period'])}")
    return "<br>".join(lines)


def _headline_section(pack: Pack) -> str:
    table = headline_table(pack)
    programmes = list(dict.fromkeys(table["programme"]))
    head = "<th>measure</th>" + "".join(f"<th>{_e(p)}</th>" for p in programmes)
    body = ""
    for measure, rows in table.groupby("measure", sort=False):
        cells = {row["programme"]: _headline_cell(row) for row in rows.to_dict("records")}
        body += (f"<tr><td>{_e(measure)}</td>"
                 + "".join(f"<td class='num'>{cells.get(p, '')}</td>" for p in programmes)
                 + "</tr>")
    notes = "".join(f"<p><b>{_e(d.label)}:</b> {_e(d.definition)}</p>"
                    for d in map(definitions.definition, HEADLINE_METRICS))
    return (
        "<section id='headline'>"
        f"{_runhead(pack)}"
        "<h2>Headline figures against the previous period</h2>"
        f"<p class='meta'>{_e(pack.period_note)}</p>"
        f"{_differences_html(pack)}"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        "<div class='notes'>"
        f"<p><b>Suppression:</b> “{_e(fmt.suppressed_text(pack.min_cell))}” marks a figure with "
        f"fewer than {pack.min_cell} people; changes are shown only where both periods have a "
        "figure. Rates change in percentage points (pp); n is the denominator this period.</p>"
        f"{notes}</div>"
        "</section>"
    )


def _differences_html(pack: Pack) -> str:
    """Skills minus mindset on every clock for the pack's period, with the Overview's sentence."""
    sentence = readouts.clock_sentence(pack.differences)
    table = tables.program_differences_table(pack.differences, pack.min_cell)
    head = "".join(f"<th>{_e(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>"
                   for row in table.itertuples(index=False))
    return ((f"<p>{_e(sentence)}</p>" if sentence else "")
            + f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def _chart_html(section: Section, printable: bool) -> str:
    if printable:
        wide = go.Figure(section.figure).update_layout(width=PDF_CHART_WIDTH)
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


def _chart_section(pack: Pack, section: Section, printable: bool) -> str:
    across = ""
    if section.entry.across:
        across = (f"<p><b>All {_e(section.entry.across)}:</b> this chart compares every one "
                  "under the other filters and marks the selected ones.</p>")
    methods = [definitions.METHODS[key] for key in section.entry.methods]
    meanings = "".join(f"<p>{_e(d)}</p>" for d in definitions_for(section.data))
    meanings += "".join(f"<p>{_e(m.label)}: {_e(m.text)}</p>" for m in methods)
    return (
        f"<section id='{_e(section.entry.name)}'>"
        f"{_runhead(pack)}"
        f"<h2>{_e(section.entry.page)}</h2>"
        f"<div class='chart{' static' if printable else ''}'>{_chart_html(section, printable)}</div>"
        "<div class='notes'>"
        f"<p><b>How to read this:</b> {_e(section.entry.how_to_read)}</p>"
        f"{across}"
        f"<p><b>Sample size:</b> {_e(sample_sizes(section))} The n of the chart is in its "
        "subtitle.</p>"
        f"<p><b>Suppression:</b> {_e(suppression_note(section.data, pack.min_cell))}</p>"
        f"<p><b>Definitions:</b></p>{meanings}"
        "</div></section>"
    )


def pack_html(pack: Pack, printable: bool = False) -> str:
    """The pack as one HTML document.

    Interactive (default): Plotly charts with plotly.js embedded, nothing fetched from any other
    host, readable offline. Printable: static SVG charts and page breaks, the input of pack_pdf
    (its cover link is clickable; the interactive file prints the link as text, so it holds no
    reference to another host).
    """
    script = "" if printable else _plotly_script()
    sections = [_cover(pack, printable), _headline_section(pack)]
    sections += [_chart_section(pack, s, printable) for s in pack.sections]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_e(TITLE)} · {pack.as_of.isoformat()} · {_e(pack.filters.describe())}</title>"
        f"<style>{_STYLE}</style>{script}</head><body>"
        + "".join(sections)
        + "</body></html>"
    )


def _plotly_script() -> str:
    from plotly.offline import get_plotlyjs

    return ("<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>"
            f"<script>{get_plotlyjs()}</script>")


def _footer(pack: Pack) -> str:
    text = f"{TITLE} · data as of {pack.as_of.isoformat()} · filters: {pack.filters.describe()}"
    return (
        "<div style='font-family:\"Noto Sans\",\"Noto Sans CJK SC\",sans-serif;font-size:8px;"
        "color:#5b6472;width:100%;margin:0 10mm;display:flex;justify-content:space-between'>"
        f"<span>{_e(text)}</span>"
        "<span>Page <span class='pageNumber'></span> of <span class='totalPages'></span></span>"
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
