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
import html
import io
import os
import re
import tempfile
import textwrap
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from reemploy.disclosure import REASON_DIFFERENCING as DIFFERENCING
from reemploy.filters import Filters
from reemploy.figures.common import UNRELIABLE_BELOW

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
IMAGES_UNAVAILABLE = (
    "Image and PDF downloads need Chrome or Chromium on the server, and none was found. "
    "Install it (`apt-get install chromium`) or set the environment variable BROWSER_PATH to "
    "its executable, then restart the app. The camera icon in the chart's toolbar still "
    "saves a PNG from your browser."
)


class ExportRefused(ValueError):
    """A table that must not leave the dashboard (it carries identifiers)."""


class ImagesUnavailable(RuntimeError):
    """No Chrome/Chromium to render images or PDFs with."""


# --------------------------------------------------------------------------- names


def file_name(stem: str, as_of: dt.date, filters: Filters, extension: str) -> str:
    """`<what>_<as_of>_<filters>.<ext>`, e.g. placement_gap_by_district_2002-12-31_all.png."""
    return f"{stem}_{as_of.isoformat()}_{filters.slug()}.{extension}"


def caption(as_of: dt.date, filters: Filters, min_cell: int) -> str:
    """The line printed under an exported chart: what data, which filters, what is hidden."""
    return (
        f"Data as of {as_of.isoformat()} · Filters: {filters.describe()} · Rates and medians "
        f"with fewer than {min_cell} people are suppressed."
    )


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
    out[NOTE_COLUMN] = [
        _note(hidden, beside, shaky, named, min_cell, unreliable_below, across, everyone)
        for hidden, beside, shaky, across, everyone in zip(
            suppressed_by_row, complementary_by_row, unreliable_by_row, differencing_by_row,
            extreme_by_row)
    ]
    flags = [c for c in out.columns if str(c).endswith(FLAG_SUFFIXES)]
    return out.drop(columns=flags)


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
          unreliable_below: int, across: list[str] = (), everyone: list[str] = ()) -> str:
    parts = []
    if everyone:
        which = f" ({', '.join(everyone)})" if named else ""
        parts.append(f"suppressed: would tell the outcome of everyone in a group of fewer than "
                     f"{3 * min_cell} people, or name a group of fewer than {min_cell}{which}")
    if hidden:
        which = f" ({', '.join(hidden)})" if named else ""
        parts.append(f"suppressed: fewer than {min_cell} people{which}")
    if beside:
        which = f" ({', '.join(beside)})" if named else ""
        parts.append(f"suppressed: would give a smaller group away through the total{which}")
    if across:
        which = f" ({', '.join(across)})" if named else ""
        parts.append(f"suppressed: another view minus this cell would give a group of fewer than "
                     f"{min_cell} people away{which}")
    if shaky:
        which = f" ({', '.join(shaky)})" if named else ""
        parts.append(f"unreliable: fewer than {unreliable_below} people{which}")
    return "; ".join(parts)


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


def xlsx_bytes(table: pd.DataFrame, about: dict[str, str]) -> bytes:
    """An Excel workbook: sheet `data` with the table, sheet `about` with `about`'s lines
    (source, as_of, filters, suppression rule)."""
    check_aggregates_only(table)
    buffer = io.BytesIO()
    # xlsxwriter writes a string that starts with "=" as a formula and one that looks like a URL
    # as a live link unless told otherwise; with both off every text cell is a text cell, so
    # names from the data are kept exactly and stay inert (issue 13).
    with pd.ExcelWriter(buffer, engine="xlsxwriter", date_format="yyyy-mm-dd",
                        datetime_format="yyyy-mm-dd",
                        engine_kwargs={"options": {"strings_to_formulas": False,
                                                   "strings_to_urls": False}}) as writer:
        table.to_excel(writer, sheet_name="data", index=False, na_rep="")
        sheet = writer.sheets["data"]
        sheet.freeze_panes(1, 0)
        for position, column in enumerate(table.columns):
            longest = max([len(str(column))] + [len(str(v)) for v in table[column].head(200)])
            sheet.set_column(position, position, min(60, max(10, longest + 2)))
        pd.DataFrame(list(about.items()), columns=["item", "value"]).to_excel(
            writer, sheet_name="about", index=False)
        writer.sheets["about"].set_column(0, 0, 18)
        writer.sheets["about"].set_column(1, 1, 100)
    return buffer.getvalue()


# --------------------------------------------------------------------------- figures


def figure_for_export(fig: go.Figure, caption_text: str, width: int = IMAGE_WIDTH) -> go.Figure:
    """A copy of the chart at a fixed size with the caption (as_of, filters) printed below it.

    The figure grows by a band at the bottom that holds only the caption: the plot area keeps
    its size, so legends and axis titles placed below it keep their places.
    """
    out = go.Figure(fig)
    lines = textwrap.wrap(caption_text, width=max(60, width // 7))
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
    spec = fig.to_dict()
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
