"""Files that leave the dashboard: chart images, the numbers behind a chart, PDFs, file names.

Pure logic, no Streamlit: the download buttons (reemploy.ui), the meeting pack (reemploy.pack)
and the CLI all go through here, so the two rules for anything that leaves hold in one place:
suppressed cells stay blank (with a note saying why), and only aggregates leave, never a person,
enrollment or placement identifier.

Images and PDFs are drawn by a headless Chrome/Chromium that kaleido drives. One browser is
started per process on first use and kept (starting it costs 2-5 s, a render then ~0.2 s).
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import datetime as dt
import functools
import glob
import html
import io
import os
import re
import shutil
import subprocess
import tempfile
import textwrap
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from reemploy import i18n, labels
from reemploy.contract import PROGRAM_TYPES
from reemploy.disclosure import REASON_DIFFERENCING as DIFFERENCING
from reemploy.filters import Filters
from reemploy.figures.common import UNRELIABLE_BELOW
from reemploy.i18n import _, N_

IDENTIFIER_COLUMNS = frozenset({"person_id", "enrollment_id", "placement_id"})
FLAG_SUFFIXES = ("_suppressed", "_unreliable", "_suppressed_reason")
NOTE_COLUMN = "note"
IMAGE_FORMATS = {"png": "image/png", "svg": "image/svg+xml"}
TABLE_FORMATS = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
IMAGE_WIDTH = 1100
CAPTION_LINE_HEIGHT = 16
RENDER_TIMEOUT_SECONDS = 60
BROWSER_START_TIMEOUT_SECONDS = 60
# Shown with _() where it is shown (ui, the Meeting pack page, the CLI).
IMAGES_UNAVAILABLE = N_(
    "Image and PDF downloads need Chrome or Chromium on the server, and none was found. "
    "Install it (`apt-get install chromium`) or set the environment variable BROWSER_PATH to "
    "its executable, then restart the app. The camera icon in the chart's toolbar still "
    "saves a PNG from your browser."
)
CJK_FONTS_MISSING = N_(
    "The server has no Chinese font, so Chinese text in chart images and PDFs would print as "
    "empty boxes. Install one (`apt-get install fonts-noto-cjk`) and restart the app."
)


class ExportRefused(ValueError):
    """A table that must not leave the dashboard (it carries identifiers)."""


class ImagesUnavailable(RuntimeError):
    """No Chrome/Chromium to render images or PDFs with."""


# --------------------------------------------------------------------------- names


# A chart that compares every value of a filter (every district, every prior sector) is drawn
# without that filter and marks the selected values: the Filters attribute -> its URL key and how
# a caption says so.
ACROSS = {
    "districts": ("district", N_("every district, {names} marked"), N_("every district")),
    "sectors": ("sector", N_("every prior sector, {names} marked"), N_("every prior sector")),
}


def _safe(text: str, max_length: int = 60) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-+_." else "-" for ch in text)
    return safe[:max_length].rstrip("-_+")


def file_name(stem: str, as_of: dt.date, filters: Filters, extension: str,
              across: str = "") -> str:
    """`<what>_<as_of>_<filters>.<ext>`, e.g. placement_gap_by_district_2002-12-31_all.png.

    `across` names the filter the chart compares across (a KeyChart's `across`, "districts"):
    the chart shows every value of it and marks the selected ones, so the name says that rather
    than the filter (placement_gap_by_district_2002-12-31_every-district_marked-北山.png).
    Codes and names from the data, never translated: a file name is used in scripts."""
    selected = getattr(filters, across, ()) if across else ()
    if not selected:
        return f"{stem}_{as_of.isoformat()}_{filters.slug()}.{extension}"
    key = ACROSS[across][0]
    others = replace(filters, **{across: ()}).slug()
    marked = f"every-{key}_marked-{'+'.join(selected)}"
    text = marked if others == "all" else f"{others}_{marked}"
    return f"{stem}_{as_of.isoformat()}_{_safe(text, 90)}.{extension}"


def shown_filters(filters: Filters, across: str = "") -> str:
    """What a chart drawn under `filters` shows, in words: Filters.describe(), or, for a chart
    that compares across `across`, the other filters and the selected values it marks."""
    if not across:
        return filters.describe()
    selected = getattr(filters, across, ())
    others = replace(filters, **{across: ()})
    _key, marked, every = ACROSS[across]
    phrase = _(marked).format(names=_(", ").join(selected)) if selected else _(every)
    if others == Filters() or others.describe() == Filters().describe():
        return phrase
    return _("{filters}; {compared}").format(filters=others.describe(), compared=phrase)


def caption(as_of: dt.date, filters: Filters, min_cell: int, across: str = "") -> str:
    """The line printed under an exported chart: what data, which filters, what is hidden.

    `filters` are those the official chose; `across` as in file_name, for a chart drawn without
    that filter that marks its selected values."""
    return _("Data as of {date} · Filters: {filters} · Rates and medians with fewer than {cell} "
             "people are suppressed.").format(date=i18n.date(as_of),
                                              filters=shown_filters(filters, across),
                                              cell=i18n.number(min_cell))


def about_lines(what: str, as_of: dt.date, filters: Filters, min_cell: int, version: str = "",
                across: str = "") -> dict[str, str]:
    """The Excel "about" sheet: what the table is, the data's date, the filters, the suppression
    rule and the data version, keys and values in the current language."""
    lines = {
        _("What"): what,
        _("Data as of"): i18n.date(as_of),
        _("Filters"): shown_filters(filters, across),
        _("Suppression"): _("rates and medians with fewer than {cell} people are blank; the note "
                            "column says which and why").format(cell=i18n.number(min_cell)),
    }
    if version:
        lines[_("Data version")] = version
    return lines


# --------------------------------------------------------------------------- tables


def check_aggregates_only(df: pd.DataFrame) -> None:
    """Raise ExportRefused if the table carries a person, enrollment or placement identifier.

    Any `*_id` column counts: the extract has no identifier that is safe to hand out.
    """
    leaking = [c for c in df.columns
               if str(c) in IDENTIFIER_COLUMNS or str(c).lower().endswith("_id")]
    if leaking:
        raise ExportRefused(
            f"Refusing to export identifier column(s) {', '.join(map(str, leaking))}: "
            "downloads carry aggregates only."
        )


def measures_in(df: pd.DataFrame) -> list[str]:
    """The measures stats.suppress has governed in this table (those with `<m>_suppressed`)."""
    return [str(c)[: -len("_suppressed")] for c in df.columns if str(c).endswith("_suppressed")]


def table_for_export(df: pd.DataFrame, min_cell: int,
                     unreliable_below: int = UNRELIABLE_BELOW) -> pd.DataFrame:
    """The numbers behind a chart as they may leave: suppressed cells blank, a `note` column
    saying which cells are suppressed or unreliable and why, no internal flag columns.

    The measure and its interval are blanked again here from the `_suppressed` flags, so a
    table that skipped stats.suppress's blanking still cannot hand out a hidden value.
    """
    check_aggregates_only(df)
    out = df.reset_index(drop=True).copy()
    measures = measures_in(out)
    suppressed_by_row: list[list[str]] = [[] for _ in range(len(out))]
    complementary_by_row: list[list[str]] = [[] for _ in range(len(out))]
    differencing_by_row: list[list[str]] = [[] for _ in range(len(out))]
    extreme_by_row: list[list[str]] = [[] for _ in range(len(out))]
    unreliable_by_row: list[list[str]] = [[] for _ in range(len(out))]
    for measure in measures:
        hidden = _flag(out, f"{measure}_suppressed")
        for column in (measure, f"{measure}_low", f"{measure}_high"):
            if column in out.columns:
                out[column] = _blanked(out[column], hidden)
        shaky = _flag(out, f"{measure}_unreliable") & ~hidden
        # stats.complementary_suppress hides cells of any size that would give a small one away.
        reason = (out[f"{measure}_suppressed_reason"].astype(str).to_numpy()
                  if f"{measure}_suppressed_reason" in out.columns else np.full(len(out), ""))
        beside = hidden & (reason == "complementary")
        # reemploy.disclosure: another view minus this cell would be a small group (issue 13).
        across = hidden & (reason == DIFFERENCING)
        everyone = hidden & (reason == "extreme")
        for row in np.flatnonzero(hidden & ~beside & ~across & ~everyone):
            suppressed_by_row[row].append(measure)
        for row in np.flatnonzero(everyone):
            extreme_by_row[row].append(measure)
        for row in np.flatnonzero(across):
            differencing_by_row[row].append(measure)
        for row in np.flatnonzero(beside):
            complementary_by_row[row].append(measure)
        for row in np.flatnonzero(shaky):
            unreliable_by_row[row].append(measure)
    named = len(measures) > 1
    parts = [(hidden, beside, shaky, across, everyone) for hidden, beside, shaky, across, everyone
             in zip(suppressed_by_row, complementary_by_row, unreliable_by_row,
                    differencing_by_row, extreme_by_row)]
    out[NOTE_COLUMN] = [_note(hidden, beside, shaky, named, min_cell, unreliable_below, across,
                              everyone) for hidden, beside, shaky, across, everyone in parts]
    flags = [c for c in out.columns if str(c).endswith(FLAG_SUFFIXES)]
    out = out.drop(columns=flags)
    # What each row's note says, as codes: readable_table writes it again with the measures'
    # names as people read them.
    out.attrs[NOTE_PARTS] = {"rows": parts, "named": named, "min_cell": min_cell,
                             "unreliable_below": unreliable_below}
    return out


NOTE_PARTS = "reemploy_note_parts"


def _flag(df: pd.DataFrame, column: str) -> np.ndarray:
    if column not in df.columns:
        return np.zeros(len(df), dtype=bool)
    return df[column].astype("boolean").fillna(False).to_numpy(dtype=bool)


def _blanked(column: pd.Series, hidden: np.ndarray) -> pd.Series:
    if not hidden.any():
        return column
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        values = column.to_numpy(dtype=float, na_value=np.nan)
        return pd.Series(np.where(hidden, np.nan, values), index=column.index, name=column.name)
    return column.astype(object).where(~hidden, None)


def _note(hidden: list[str], beside: list[str], shaky: list[str], named: bool, min_cell: int,
          unreliable_below: int, across: list[str] = (), everyone: list[str] = (),
          name=str) -> str:
    """Why a row's cells are blank or flagged; `name` writes a measure's name (its code by
    default; column_label in readable_table)."""
    def which(measures):
        return (_(" ({measures})").format(measures=_(", ").join(name(m) for m in measures))
                if named else "")

    cell, unreliable = i18n.number(min_cell), i18n.number(unreliable_below)
    parts = []
    if everyone:
        parts.append(_("suppressed: would tell the outcome of everyone in a group of fewer than "
                       "{group} people, or name a group of fewer than {cell}{which}").format(
            group=i18n.number(3 * min_cell), cell=cell, which=which(everyone)))
    if hidden:
        parts.append(_("suppressed: fewer than {cell} people{which}").format(
            cell=cell, which=which(hidden)))
    if beside:
        parts.append(_("suppressed: would give a smaller group away through the total{which}")
                     .format(which=which(beside)))
    if across:
        parts.append(_("suppressed: another view minus this cell would give a group of fewer "
                       "than {cell} people away{which}").format(cell=cell, which=which(across)))
    if shaky:
        parts.append(_("unreliable: fewer than {threshold} people{which}").format(
            threshold=unreliable, which=which(shaky)))
    return _("; ").join(parts)


# OWASP, CSV injection: a spreadsheet treats a cell that starts with one of these as a formula
# (=HYPERLINK(...), DDE's =cmd|...); a leading apostrophe makes it text in Excel, LibreOffice and
# Google Sheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# A plain signed number ("-3", "+1.5") is not a formula: it stays as it is, so numbers stay numbers.
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def inert_text(value):
    """A text value as a spreadsheet must store it: prefixed with `'` when it would start a
    formula; plain numbers and anything that is not a string (numbers, dates, blanks) are
    returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def inert_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table with every text cell made inert (inert_text) and every header too; numeric,
    boolean and date columns untouched, so numbers stay numbers."""
    out = table.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            out[column] = series.astype(object).map(inert_text)
    out.columns = [inert_text(str(c)) for c in out.columns]
    return out


def csv_bytes(table: pd.DataFrame) -> bytes:
    """CSV in UTF-8 with a byte-order mark, so Excel shows Chinese names; blanks stay blank;
    text that a spreadsheet would run as a formula is prefixed with `'` (inert_text)."""
    check_aggregates_only(table)
    return inert_table(table).to_csv(index=False, na_rep="", date_format="%Y-%m-%d").encode("utf-8-sig")


def xlsx_bytes(table: pd.DataFrame, about: dict[str, str],
               formats: dict[str, str] | None = None) -> bytes:
    """An Excel workbook: sheet `data` with the table, sheet `about` with `about`'s lines
    (source, as_of, filters, suppression rule); sheet names and the about sheet's headers in the
    current language. `formats` gives columns an Excel number format ("0.0%"): the cell keeps
    the exact value and shows it rounded."""
    check_aggregates_only(table)
    buffer = io.BytesIO()
    data_sheet, about_sheet = _("data"), _("about")
    # xlsxwriter writes a string that starts with "=" as a formula and one that looks like a URL
    # as a live link unless told otherwise; with both off every text cell is a text cell, so
    # names from the data are kept exactly and stay inert (issue 13).
    with pd.ExcelWriter(buffer, engine="xlsxwriter", date_format="yyyy-mm-dd",
                        datetime_format="yyyy-mm-dd",
                        engine_kwargs={"options": {"strings_to_formulas": False,
                                                   "strings_to_urls": False}}) as writer:
        table.to_excel(writer, sheet_name=data_sheet, index=False, na_rep="")
        sheet = writer.sheets[data_sheet]
        sheet.freeze_panes(1, 0)
        made = {}
        for position, column in enumerate(table.columns):
            longest = max([len(str(column))] + [len(str(v)) for v in table[column].head(200)])
            pattern = (formats or {}).get(column)
            if pattern and pattern not in made:
                made[pattern] = writer.book.add_format({"num_format": pattern})
            sheet.set_column(position, position, min(60, max(10, longest + 2)),
                             made.get(pattern) if pattern else None)
        pd.DataFrame(list(about.items()), columns=[_("item"), _("value")]).to_excel(
            writer, sheet_name=about_sheet, index=False)
        writer.sheets[about_sheet].set_column(0, 0, 18)
        writer.sheets[about_sheet].set_column(1, 1, 100)
    return buffer.getvalue()


# --------------------------------------------------------------------------- readable downloads
#
# table_for_export keeps the figures' own column names and codes (the data dictionary's, what
# the tests and scripts read); readable_table turns its result into the table an analyst uses as
# it is: columns named as people read them in the current language, codes replaced by labels,
# counts as whole numbers, rates as percentages rounded for reading in CSV and exact in Excel
# cells formatted as percent. The suppression is table_for_export's: nothing is recomputed here.

# Columns that are not measures: the column -> its name.
COLUMN_LABELS = {
    "program_type": N_("Programme"),
    "district": N_("District"),
    "prior_sector": N_("Prior sector"),
    "employer_type": N_("Employer type"),
    "characteristic": N_("Characteristic"),
    "covariate": N_("Characteristic"),
    "level": N_("Group"),
    "cohort_start": N_("Enrollment quarter"),
    "is_open_quarter": N_("Quarter still running on the data date"),
    "is_complete": N_("Fully observed 180 days after exit"),
    "is_complete_365d": N_("Fully observed 365 days after exit"),
    "horizon_days": N_("Days after exit"),
    "day": N_("Day"),
    "origin": N_("Days counted from"),
    "at_risk": N_("Still searching and followed (at risk)"),
    "events": N_("First jobs started that day"),
    "censored": N_("No longer followed that day (censored)"),
    "measure": N_("Measure"),
    "estimate": N_("Estimate"),
    "method": N_("Method"),
    "interval": N_("Interval"),
    "clock": N_("Clock"),
    "reason": N_("Why not estimated"),
    "comparison": N_("Comparison"),
    "stage": N_("Flow"),
    "source": N_("From"),
    "target": N_("To"),
    "tau_days": N_("Window (days)"),
    "strata_used": N_("Groups of alike people compared"),
    "logrank_chi2": N_("Log-rank test, chi-squared (1 degree of freedom)"),
    "logrank_p_value": N_("Log-rank test, p-value"),
    NOTE_COLUMN: N_("Note"),
}
# Measures and counts without a definition in reemploy.definitions: the column -> its name.
MEASURE_LABELS = {
    "enrolled_count": N_("Enrolled"),
    "exited_count": N_("Left the programme"),
    "completed_count": N_("Completed the course, count"),
    "placed_180d_count": N_("Placed within 180 days of exit, count"),
    "placed_365d_count": N_("Placed within 365 days of exit, count"),
    "placed_180d_from_enrollment_count": N_("Placed within 180 days of enrollment, count"),
    "employed_q2_after_exit_count": N_("Employed in the 2nd quarter after exit, count"),
    "employed_q4_after_exit_count": N_("Employed in the 4th quarter after exit, count"),
    "retained_6m_count": N_("Still in the first job after 6 months, count"),
    "retained_12m_count": N_("Still in the first job after 12 months, count"),
    "retention_6m": N_("Still in the first job after 6 months (among those placed)"),
    "repeat_enrollment_count": N_("Repeat enrollments"),
    "enrolled_while_employed_count": N_("Enrollments begun while holding an earlier job"),
    "exit_unrecorded_count": N_("No exit recorded a year after enrolling"),
    "not_exited_count": N_("Not yet left by the data date"),
    "followed_180d_not_counted_count": N_("Followed 180 days, in a month not yet fully observed"),
    "cost_observed_180d": N_("Total cost of the enrollments followed 180 days after exit"),
    "observed_before_180d": N_("First enrollment month not fully observed 180 days after exit"),
    "observed_before_182d": N_("First enrollment month not fully observed 182 days after exit"),
    "observed_before_365d": N_("First enrollment month not fully observed 365 days after exit"),
    "monthly_wage": N_("Monthly wage, first job"),
    "wage_replacement": N_("Wage replacement"),
    "placement_rate": N_("Placed within the days after exit"),
    "placed_count": N_("Placed within the days after exit, count"),
    "placement_count": N_("First jobs"),
    "placed": N_("placed"),
    "rate": N_("rate"),
    "days": N_("days without a job"),
    "gap": N_("Skills minus mindset, placed within 180 days of exit"),
    "difference": N_("Skills minus mindset"),
    "excluded_share": N_("Share left out (no one alike in the other programme)"),
    "change_vs_previous_quarter": N_("Change against the previous quarter"),
    "change_vs_year_earlier": N_("Change against the same quarter a year earlier"),
    "std_diff_raw": N_("Standardised difference, before weighting"),
    "std_diff_weighted": N_("Standardised difference, after weighting"),
    "share": N_("Share"),
    "share_pooled": N_("Share, both programmes together"),
}
# Suffixes of a measure's companion columns -> how the name says it ({measure}).
SUFFIX_LABELS = {
    "_n": N_("{measure}, n"),
    "_low": N_("{measure}, 95% CI from"),
    "_high": N_("{measure}, 95% CI to"),
    "_available": N_("{measure}, available"),
}
QUANTILE = re.compile(r"^(?P<base>.+)_p(?P<q>\d{2})$")

# How a column's numbers read: kind -> (CSV header template, CSV digits, Excel format).
KINDS = {
    "percent": (N_("{column} (%)"), 1, "0.0%"),
    "points": (N_("{column} (pp)"), 1, "+0.0%;-0.0%;0.0%"),
    "count": ("", 0, "#,##0"),
    "yuan": (N_("{column} (yuan)"), 0, "#,##0"),
    "days": (N_("{column} (days)"), 0, "#,##0"),
    "number": ("", 3, "0.000"),
    "p_value": ("", 4, "0.0000"),
}
PERCENT_MEASURES = {"placement_rate", "employer_share", "reemployed", "retention_6m", "rate",
                    "excluded_share", "share", "wage_replacement"}
POINTS_MEASURES = {"gap", "difference", "change_vs_previous_quarter", "change_vs_year_earlier"}
COUNT_COLUMNS = {"at_risk", "events", "censored", "day", "horizon_days", "tau_days",
                 "strata_used", "placement_count", "placed"}
YUAN_COLUMNS = {"cost_observed_180d"}
# Codes in the cells of these columns -> their names.
STAGE_LABELS = {"prior_to_sector": N_("Prior sector to new sector"),
                "sector_to_employer": N_("New sector to employer type"),
                "left_out": N_("Left out of the flows")}
COMPARISON_LABELS = {"skills vs mindset": N_("Skills training against mindset training"),
                     "skills - mindset": N_("Skills minus mindset")}
CLOCK_LABELS = {"from exit": N_("from exit"), "from enrollment": N_("from enrollment")}


def _split_programme(column: str) -> tuple[str | None, str]:
    for program in PROGRAM_TYPES:
        if column.startswith(program + "_"):
            return program, column[len(program) + 1:]
        if column.startswith("share_") and column == f"share_{program}":
            return program, "share"
    return None, column


def _measure_name(measure: str) -> str | None:
    from reemploy import definitions

    if measure in definitions.METRICS:
        return definitions.definition(measure).label
    if measure in MEASURE_LABELS:
        return _(MEASURE_LABELS[measure])
    if measure in COLUMN_LABELS:
        return _(COLUMN_LABELS[measure])
    quantile = QUANTILE.match(measure)
    if quantile and quantile["base"] in MEASURE_LABELS:
        return _("{measure}, {q}th percentile").format(measure=_(MEASURE_LABELS[quantile["base"]]),
                                                      q=int(quantile["q"]))
    return None


def column_label(column: str) -> str:
    """A column of a figure's table as people read it, in the current language, from
    reemploy.definitions' metric labels and the suffix rules: `skills_placement_rate_180d_n` ->
    "Skills training: placed within 180 days of exit, n"; `retention_12m_low` -> "Still in the
    first job after 12 months (among those placed), 95% CI from". A column it does not know is
    returned as it is."""
    known = _known_label(str(column))
    return str(column) if known is None else known


def _known_label(column: str) -> str | None:
    if column in COLUMN_LABELS:
        return _(COLUMN_LABELS[column])
    program, rest = _split_programme(column)
    if program is not None:
        if rest == "n":
            return _("{programme}, n").format(programme=labels.program_label(program))
        inner = _known_label(rest)
        if inner is None:
            return None
        return _("{programme}: {measure}").format(programme=labels.program_label(program),
                                                 measure=i18n.inside_sentence(inner))
    name = _measure_name(column)
    if name is not None:
        return name
    for suffix, template in SUFFIX_LABELS.items():
        if column.endswith(suffix):
            base = _measure_name(column[: -len(suffix)])
            if base is not None:
                return _(template).format(measure=base)
    return None


def column_kind(column: str, differences: str = "points") -> str:
    """How a column's numbers read (KINDS): "percent", "points", "count", "yuan", "days",
    "number", "p_value", or "" for text, dates and flags. `differences` is the kind of the
    table's differences ("days" in a table of days without a job)."""
    from reemploy import definitions

    column = str(column)
    _program, rest = _split_programme(column)
    if column in YUAN_COLUMNS:
        return "yuan"
    if column in COUNT_COLUMNS or rest in COUNT_COLUMNS or column.endswith(("_n", "_count")):
        return "count"
    if column == "logrank_p_value":
        return "p_value"
    if column == "logrank_chi2" or column.startswith("std_diff"):
        return "number"
    for suffix in ("_low", "_high"):
        if rest.endswith(suffix):
            rest = rest[: -len(suffix)]
    if rest in POINTS_MEASURES:
        return differences if rest == "difference" else "points"
    if rest in PERCENT_MEASURES:
        return "percent"
    if rest == "days":
        return "days"
    quantile = QUANTILE.match(rest)
    if quantile:
        rest = {"monthly_wage": "median_monthly_wage",
                "wage_replacement": "median_wage_replacement"}.get(quantile["base"], rest)
    if rest in definitions.METRICS:
        unit = definitions.definition(rest).unit
        return {"rate": "percent", "ratio": "percent", "yuan": "yuan", "days": "days",
                "count": "count"}.get(unit, "")
    return ""


def _cell_label(column: str, table: pd.DataFrame):
    """The function that writes a code column's cells as people read them, or None."""
    from reemploy import definitions

    def measure(code):
        return definitions.definition(code).label if code in definitions.METRICS else code

    if column == "program_type":
        return labels.program_label
    if column == "employer_type":
        return labels.employer_label
    if column in ("characteristic", "covariate"):
        return labels.covariate_label
    if column == "estimate":
        return labels.estimate_label
    if column == "origin":
        return labels.curve_origin_text
    if column == "measure":
        return measure
    for key, table_of_labels in (("stage", STAGE_LABELS), ("comparison", COMPARISON_LABELS),
                                 ("clock", CLOCK_LABELS)):
        if column == key:
            return lambda code, known=table_of_labels: _(known[code]) if code in known else _(code)
    if column in ("method", "interval", "reason"):
        # Texts of reemploy.figures, in English there; translated where the catalogue has them.
        return _
    return None


def _levels(table: pd.DataFrame, key: str) -> pd.Series:
    """`level` as people read it, from its characteristic (gender F -> Women)."""
    characteristic = table[key].astype(str)
    return pd.Series([labels.level_label(c, v) if isinstance(v, str) else v
                      for c, v in zip(characteristic, table["level"])], index=table.index)


def _whole(series: pd.Series) -> pd.Series:
    """A count column as whole numbers (no 123.0); blanks stay blank."""
    values = pd.to_numeric(series, errors="coerce")
    finite = values.dropna()
    if len(finite) and not np.allclose(finite, finite.round()):
        return series
    return values.round().astype("Int64")


def _yes_no(value):
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    return _("yes") if bool(value) else _("no")


def readable_table(table: pd.DataFrame, target: str = "csv") -> pd.DataFrame:
    """table_for_export's result as an analyst uses it (see above); `target` "csv" rounds rates
    to percentages with one decimal (the header says "%"), "xlsx" keeps the exact values for
    cells formatted as percent (`formats` in the result's attrs, by column name)."""
    check_aggregates_only(table)
    out = table.reset_index(drop=True).copy()
    kinds = {}
    # A difference of days without a job is in days, any other in percentage points.
    differences = "days" if any(_split_programme(str(c))[0] and str(c).endswith("_days")
                                for c in table.columns) else "points"
    for column in list(out.columns):
        name = str(column)
        series = out[column]
        if name == "level" and ("characteristic" in out.columns or "covariate" in out.columns):
            out[column] = _levels(out, "characteristic" if "characteristic" in out.columns
                                  else "covariate")
            continue
        label = _cell_label(name, out)
        if label is not None:
            out[column] = series.map(lambda v, f=label: f(v) if isinstance(v, str) else v)
            continue
        if pd.api.types.is_bool_dtype(series):
            out[column] = series.map(_yes_no).astype(object)
            continue
        if name == "cohort_start" and pd.api.types.is_datetime64_any_dtype(series):
            out[column] = [None if pd.isna(v) else i18n.quarter(v.year, (v.month - 1) // 3 + 1)
                           for v in series]
            continue
        if pd.api.types.is_datetime64_any_dtype(series) or name.startswith("observed_before"):
            out[column] = [None if v is None or pd.isna(v) else pd.Timestamp(v).date()
                           for v in series]
            continue
        if not pd.api.types.is_numeric_dtype(series):
            continue
        kind = column_kind(name, differences)
        if not kind:
            continue
        kinds[name] = kind
        if kind == "count":
            out[column] = _whole(series)
        elif target == "csv":
            digits = KINDS[kind][1]
            scale = 100 if kind in ("percent", "points") else 1
            rounded = (pd.to_numeric(series, errors="coerce") * scale).round(digits)
            out[column] = rounded.astype("Int64") if digits == 0 else rounded
    if {"stage", "target"} <= set(map(str, table.columns)):
        # The flows' last stage ends at an employer type, a code.
        employers = table["stage"].astype(str).to_numpy() == "sector_to_employer"
        out["target"] = [labels.employer_label(v) if here and isinstance(v, str) else v
                         for v, here in zip(out["target"], employers)]
    parts = table.attrs.get(NOTE_PARTS)
    if NOTE_COLUMN in out.columns and parts and len(parts["rows"]) == len(out):
        out[NOTE_COLUMN] = [
            _note(*row[:3], parts["named"], parts["min_cell"], parts["unreliable_below"],
                  row[3], row[4], name=column_label) for row in parts["rows"]]
    headers, formats = [], {}
    for column in out.columns:
        name, kind = str(column), kinds.get(str(column), "")
        header = column_label(name)
        template = KINDS[kind][0] if kind else ""
        if target == "csv" and template:
            header = _(template).format(column=header)
        while header in headers:  # two codes that read alike: keep both, told apart
            header = f"{header} [{name}]"
        headers.append(header)
        if target == "xlsx" and kind:
            formats[header] = KINDS[kind][2]
    out.columns = headers
    out.attrs = {"formats": formats}
    return out


def readable_csv_bytes(table: pd.DataFrame) -> bytes:
    """The CSV download an analyst uses as it is (readable_table), inert like csv_bytes."""
    return csv_bytes(readable_table(table, "csv"))


def readable_xlsx_bytes(table: pd.DataFrame, about: dict[str, str]) -> bytes:
    """The Excel download an analyst uses as it is: readable_table with the exact values in
    cells formatted as percent, whole numbers and yuan."""
    readable = readable_table(table, "xlsx")
    return xlsx_bytes(readable, about, formats=readable.attrs.get("formats"))


# --------------------------------------------------------------------------- figures


def figure_for_export(fig: go.Figure, caption_text: str, width: int = IMAGE_WIDTH) -> go.Figure:
    """A copy of the chart at a fixed size with the caption (as_of, filters) printed below it.

    The figure grows by a band at the bottom that holds only the caption: the plot area keeps
    its size, so legends and axis titles placed below it keep their places.
    """
    out = static_figure(fig)
    # Chinese has no spaces to wrap at and each character is about twice as wide.
    wide = sum(1 for ch in caption_text if ord(ch) > 0x2E80) > len(caption_text) // 4
    chars = max(60, width // 7) // (2 if wide else 1)
    lines = (textwrap.wrap(caption_text, width=chars) if not wide else
             [caption_text[i:i + chars] for i in range(0, len(caption_text), chars)])
    margin = out.layout.margin
    top = margin.t if margin.t is not None else 100
    bottom = margin.b if margin.b is not None else 80
    band = CAPTION_LINE_HEIGHT * len(lines) + 14
    height = (out.layout.height or 450) + band
    old_height = out.layout.height or 450
    out.update_layout(width=width, height=height, margin={"t": top, "b": bottom + band})
    # A legend or title placed in container units (fractions of the whole image) moves up with
    # the rest, so nothing lands in the caption's band.
    for part in (out.layout.legend, out.layout.title):
        if part.yref == "container" and isinstance(part.y, (int, float)):
            part.y = (part.y * old_height + band) / height
    plot_height = max(1, height - top - bottom - band)
    out.add_annotation(
        text="<br>".join(html.escape(line) for line in lines),
        x=0, xref="paper", xanchor="left",
        # Paper units are fractions of the plot area: this is the image's bottom edge.
        y=-(bottom + band - 6) / plot_height, yref="paper", yanchor="bottom",
        showarrow=False, align="left",
        font={"size": 11, "color": "#555555"},
    )
    return out


STATIC_SUBTITLE = "static_subtitle"


def static_figure(fig: go.Figure) -> go.Figure:
    """A copy of the chart as an image or a printed page shows it: where the chart gave
    `layout.meta["static_subtitle"]` (a subtitle without "in the hover": an image has no hover),
    that subtitle instead of the interactive one."""
    out = go.Figure(fig)
    meta = out.layout.meta
    if isinstance(meta, dict) and isinstance(meta.get(STATIC_SUBTITLE), str):
        out.update_layout(title={"subtitle": {"text": meta[STATIC_SUBTITLE]}})
    return out


@functools.cache
def cjk_font_available() -> bool:
    """True when the server has a font for Chinese, so Chinese text in images and PDFs (drawn by
    Chromium through fontconfig) prints as characters, not boxes. Asks `fc-list :lang=zh`; without
    fontconfig's tools, looks for the usual CJK font files. Cached for the process."""
    fc_list = shutil.which("fc-list")
    if fc_list:
        try:
            found = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True,
                                   timeout=10, check=False).stdout
            return bool(found.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    folders = ["/usr/share/fonts", "/usr/local/share/fonts", os.path.expanduser("~/.fonts"),
               os.path.expanduser("~/.local/share/fonts")]
    names = re.compile(r"cjk|wqy|droidsansfallback|sourcehan|notosanssc|notoserifsc|simhei|"
                       r"simsun|msyh|pingfang|heiti|uming|ukai", re.IGNORECASE)
    for folder in folders:
        for path in glob.iglob(os.path.join(folder, "**", "*"), recursive=True):
            if names.search(os.path.basename(path)):
                return True
    return False


def browser_path() -> str | None:
    """The Chrome/Chromium kaleido would use ($BROWSER_PATH first, then the usual places), or
    None when there is none that can be executed."""
    from choreographer.browsers.chromium import Chromium

    path = Chromium.find_browser(skip_local=False)
    return path if path and os.path.isfile(path) and os.access(path, os.X_OK) else None


def images_available() -> bool:
    """True when a browser is installed to render images and PDFs."""
    return browser_path() is not None


class _Browser:
    """One headless browser for the process, driven by kaleido on an event loop of its own.

    Not kaleido.start_sync_server(): its call_function() puts every caller's task on one queue
    and takes "the next" result off another, so two sessions downloading at once can receive
    each other's image; and a browser that died leaves callers waiting forever. Here each call
    is its own future on the loop, with a timeout, and a failure restarts the browser.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kaleido = None
        atexit.register(self.close)

    def _start(self):
        with self._lock:
            if self._kaleido is not None:
                return self._kaleido, self._loop
            path = browser_path()
            if path is None:
                raise ImagesUnavailable(IMAGES_UNAVAILABLE)
            import kaleido

            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="reemploy-browser", daemon=True).start()

            async def open_browser():
                # mathjax=False: kaleido would otherwise fetch MathJax from a CDN.
                k = kaleido.Kaleido(n=2, mathjax=False, path=path, timeout=RENDER_TIMEOUT_SECONDS)
                await k.open()
                return k

            try:
                self._kaleido = asyncio.run_coroutine_threadsafe(open_browser(), loop).result(
                    BROWSER_START_TIMEOUT_SECONDS)
            except BaseException:
                loop.call_soon_threadsafe(loop.stop)
                raise
            self._loop = loop
            return self._kaleido, self._loop

    def run(self, job, timeout: float = RENDER_TIMEOUT_SECONDS):
        """Run `job(kaleido)` (a coroutine function) on the browser's loop and wait for it."""
        k, loop = self._start()
        future = asyncio.run_coroutine_threadsafe(job(k), loop)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()
            # A failed or timed-out call can leave a tab or the browser in an unknown state.
            self.close()
            raise

    def close(self) -> None:
        """Stop the browser; the next call starts a new one."""
        with self._lock:
            k, loop = self._kaleido, self._loop
            self._kaleido = self._loop = None
        if k is None or loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(k.close(), loop).result(10)
        except Exception:  # noqa: BLE001 - closing a broken browser may fail; it is gone either way
            pass
        loop.call_soon_threadsafe(loop.stop)


_BROWSER = _Browser()


def warm_browser() -> None:
    """Start the browser and draw one empty chart, so the first image an official asks for
    takes a render (about 0.2 s) instead of a browser start and Plotly's first load (seconds).
    For a background thread: a failure is left to the first real download to report."""
    if browser_path() is None:
        return
    try:
        render_image(go.Figure(layout={"width": 100, "height": 100}), "png", scale=1)
    except Exception:  # noqa: BLE001 - the download itself says what is wrong
        pass


def render_image(fig: go.Figure, fmt: str, scale: float | None = None) -> bytes:
    """PNG or SVG bytes of the figure, at the figure's own width and height.

    PNGs are drawn at twice the size by default, sharp enough for slides.
    """
    if fmt not in IMAGE_FORMATS:
        raise ValueError(f"unknown image format {fmt!r}; use one of {sorted(IMAGE_FORMATS)}")
    opts = {"format": fmt, "scale": scale or (2 if fmt == "png" else 1)}
    if fig.layout.width:
        opts["width"] = fig.layout.width
    if fig.layout.height:
        opts["height"] = fig.layout.height
    spec = static_figure(fig).to_dict()
    return _BROWSER.run(lambda k: k.calc_fig(spec, opts=opts))


def chart_image(fig: go.Figure, fmt: str, caption_text: str) -> bytes:
    """The chart as shown, with its caption, as PNG or SVG bytes."""
    return render_image(figure_for_export(fig, caption_text), fmt)


def html_to_pdf(document: str, footer_html: str = "", timeout: float = 120) -> bytes:
    """Print an HTML document to PDF with the browser.

    Page size and margins come from the document's CSS `@page` rule; `footer_html` is Chromium's
    footer template (elements with class pageNumber / totalPages are filled in).
    """
    with tempfile.TemporaryDirectory(prefix="reemploy-pdf-") as folder:
        source = Path(folder) / "document.html"
        source.write_text(document, encoding="utf-8")
        return _BROWSER.run(lambda k: _print(k, source.as_uri(), footer_html), timeout=timeout)


async def _print(k, url: str, footer_html: str) -> bytes:
    tab = await k.create_tab("about:blank")
    try:
        loaded = tab.subscribe_once("Page.loadEventFired")
        await tab.send_command("Page.enable")
        await tab.send_command("Page.navigate", params={"url": url})
        await loaded
        response = await tab.send_command("Page.printToPDF", params={
            "printBackground": True,
            "preferCSSPageSize": True,
            "displayHeaderFooter": bool(footer_html),
            "headerTemplate": "<span></span>",
            "footerTemplate": footer_html or "<span></span>",
        })
    finally:
        await k.close_tab(tab)
    if "error" in response:
        raise RuntimeError(f"printing to PDF failed: {response['error']}")
    return base64.b64decode(response["result"]["data"])
