"""Downloads and the meeting pack: valid images, suppression kept, aggregates only, offline HTML,
a PDF with one chart or table per page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import urlsplit

import numpy as np
import openpyxl
import pandas as pd
import pypdf
import pytest

from reemploy import charts, cli, export, figures, i18n, pack
from reemploy.db import connect
from reemploy.extracts import open_extract
from reemploy.filters import Filters
from reemploy.synthetic import generate_extract

QUESTIONS = {question.__name__: question for question in figures.questions()}


def _question(metric):
    """A figure by its name, or the function itself (what the pack passes)."""
    return QUESTIONS[metric] if isinstance(metric, str) else metric

needs_browser = pytest.mark.skipif(
    not export.images_available(),
    reason="no Chrome/Chromium to render images and PDFs (apt-get install chromium, or set "
           "BROWSER_PATH)",
)
AS_OF = dt.date(2002, 12, 31)
HIDDEN = 0.4285714  # 3 of 7: a value that must never leave


def rates_table() -> pd.DataFrame:
    """A chart table in the metrics convention: row 1 is suppressed but (as if a metrics function
    had forgotten to blank it) still holds its value; row 2 is unreliable."""
    return pd.DataFrame({
        "district": ["北山", "Hexi", "Anqiao"],
        "placement_rate_n": [7, 25, 120],
        "placement_rate": [HIDDEN, 0.52, 0.3],
        "placement_rate_low": [0.15, 0.33, 0.22],
        "placement_rate_high": [0.75, 0.7, 0.39],
        "placement_rate_suppressed": [True, False, False],
        "placement_rate_unreliable": [False, True, False],
    })


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """A small generated extract (5,000 enrollments, a fraction of a second) and its connection."""
    extract = open_extract(generate_extract(tmp_path_factory.mktemp("sample"), 5_000))
    return extract, connect(extract)


def loader(sample, min_cell):
    extract, con = sample

    def load(metric, filters, **options):
        return _question(metric)(con, extract, filters, min_cell, **options)

    return load


# --------------------------------------------------------------------------- tables


def test_export_table_blanks_suppressed_cells_and_says_why_in_a_note_column():
    table = export.table_for_export(rates_table(), min_cell=10)
    assert table.loc[0, ["placement_rate", "placement_rate_low", "placement_rate_high"]].isna().all()
    assert table.loc[0, "note"] == "suppressed: fewer than 10 people"
    assert table.loc[1, "note"] == "unreliable: fewer than 30 people"
    assert table.loc[2, "note"] == ""
    assert table.loc[2, "placement_rate"] == 0.3
    assert not [c for c in table.columns if c.endswith(("_suppressed", "_unreliable"))]


def test_export_note_names_the_measure_when_a_table_holds_several():
    df = rates_table()
    df["retention_n"] = [50, 50, 5]
    df["retention"] = [0.5, 0.5, 0.2]
    df["retention_suppressed"] = [False, False, True]
    table = export.table_for_export(df, min_cell=10)
    assert table.loc[0, "note"] == "suppressed: fewer than 10 people (placement_rate)"
    assert table.loc[2, "note"] == "suppressed: fewer than 10 people (retention)"


def test_csv_has_a_bom_the_chart_numbers_and_a_blank_instead_of_the_hidden_value():
    data = export.csv_bytes(export.table_for_export(rates_table(), min_cell=10))
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert str(HIDDEN) not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["district", "placement_rate_n", "placement_rate", "placement_rate_low",
                             "placement_rate_high", "note"]
    assert rows[0]["district"] == "北山"
    assert rows[0]["placement_rate"] == rows[0]["placement_rate_low"] == ""
    assert rows[0]["placement_rate_n"] == "7"
    assert rows[0]["note"] == "suppressed: fewer than 10 people"
    assert float(rows[1]["placement_rate"]) == 0.52


def test_xlsx_holds_the_same_table_and_a_sheet_saying_what_it_covers():
    table = export.table_for_export(rates_table(), min_cell=10)
    data = export.xlsx_bytes(table, {"data as of": "2002-12-31", "filters": "all enrollments"})
    book = openpyxl.load_workbook(io.BytesIO(data))
    rows = list(book["data"].iter_rows(values_only=True))
    assert list(rows[0]) == list(table.columns)
    assert rows[1][0] == "北山"
    assert rows[1][2] is None and rows[1][-1] == "suppressed: fewer than 10 people"
    assert HIDDEN not in [value for row in rows for value in row]
    assert rows[2][2] == 0.52
    about = dict(list(book["about"].iter_rows(values_only=True))[1:])
    assert about["data as of"] == "2002-12-31"


@pytest.mark.parametrize("column", ["person_id", "enrollment_id", "placement_id", "cohort_id"])
def test_a_table_with_an_identifier_column_is_refused_by_every_export(column):
    df = rates_table().assign(**{column: ["a", "b", "c"]})
    with pytest.raises(export.ExportRefused, match=column):
        export.table_for_export(df, min_cell=10)
    with pytest.raises(export.ExportRefused):
        export.csv_bytes(df)
    with pytest.raises(export.ExportRefused):
        export.xlsx_bytes(df, {})


def _recoverable(hidden: pd.DataFrame, visible: pd.DataFrame, measure: str) -> list[str]:
    """Columns left in an all-suppressed export from which `measure` can be recomputed: a copy of
    it, or a numerator that divided by its denominator gives it back."""
    if measure not in visible.columns or f"{measure}_n" not in visible.columns:
        return []  # governed through stats.suppress(extra=...) columns only
    truth = visible[measure].astype("float64")
    if truth.dropna().nunique() < 2:
        return []
    n = visible[f"{measure}_n"].astype("float64")
    leaks = []
    for column in hidden.columns:
        if column == f"{measure}_n" or not pd.api.types.is_numeric_dtype(hidden[column]) \
                or pd.api.types.is_bool_dtype(hidden[column]):
            continue
        values = hidden[column].astype("float64")
        rows = truth.notna() & values.notna() & (n > 0)
        if rows.sum() < 2:
            continue
        for candidate in (values, values / n):
            if np.allclose(candidate[rows], truth[rows]):
                leaks.append(column)
    return leaks


def _metrics_tables() -> list[str]:
    """Every figure a page charts and downloads (reemploy.figures.questions)."""
    return sorted(QUESTIONS)


def test_every_key_chart_of_the_pack_is_drawn_from_a_metrics_table():
    assert {e.question.__name__ for e in pack.KEY_CHARTS} <= set(_metrics_tables())


@pytest.mark.parametrize("metric", _metrics_tables())
def test_no_download_lets_a_suppressed_value_be_recomputed(sample, metric):
    # Everything suppressed (min_cell above any n) against everything shown (min_cell 1): no
    # column left in the download may reproduce a hidden measure, e.g. its numerator.
    visible = loader(sample, 1)(metric, Filters())
    hidden = export.table_for_export(loader(sample, 10**9)(metric, Filters()), 10**9)
    for measure in export.measures_in(visible):
        if measure in hidden.columns:
            assert hidden[measure].isna().all(), measure
        leaks = _recoverable(hidden, visible, measure)
        assert not leaks, (f"{metric}: {measure} can be recomputed from {leaks}; pass them to "
                           "stats.suppress(extra=...) in metrics")


def test_file_names_say_what_when_and_which_filters():
    filters = Filters(districts=("Anqiao",), programs=("skills",))
    assert export.file_name("placement_gap_by_district", AS_OF, filters, "png") == \
        "placement_gap_by_district_2002-12-31_district-Anqiao_program-skills.png"
    assert export.file_name("x", AS_OF, Filters(), "csv") == "x_2002-12-31_all.csv"


# --------------------------------------------------------------------------- images


def _trend_figure(sample):
    data = loader(sample, 10)("placement_rate_by_cohort", Filters())
    return charts.placement_trend_chart(data, 10)


@needs_browser
def test_png_and_svg_downloads_are_valid_images_with_the_caption(sample):
    fig = _trend_figure(sample)
    caption = export.caption(AS_OF, Filters(districts=("北山",)), 10)
    png = export.chart_image(fig, "png", caption)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (2 * export.IMAGE_WIDTH, 2 * export.figure_for_export(fig, caption).layout.height)
    svg = export.chart_image(fig, "svg", caption)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    text = " ".join(root.itertext())
    assert "Data as of 2002-12-31" in text and "district: 北山" in text
    assert "Placement within 180 days" in text or "Placed within 180 days" in text


def test_the_caption_goes_under_the_chart_without_changing_the_original(sample):
    fig = _trend_figure(sample)
    before = fig.to_json()
    out = export.figure_for_export(fig, "Data as of 2002-12-31 · Filters: all enrollments")
    assert fig.to_json() == before
    assert out.layout.width == export.IMAGE_WIDTH
    assert out.layout.height > fig.layout.height
    assert out.layout.annotations[-1].text.startswith("Data as of 2002-12-31")


def test_without_a_browser_images_are_unavailable_and_the_message_says_how_to_fix_it(monkeypatch, tmp_path):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chromium"))
    assert not export.images_available()
    assert "apt-get install chromium" in export.IMAGES_UNAVAILABLE
    assert "BROWSER_PATH" in export.IMAGES_UNAVAILABLE


# --------------------------------------------------------------------------- meeting pack


class _References(HTMLParser):
    """Every src/href attribute of every tag (script bodies are not parsed as markup)."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.found += [value for name, value in attrs if name in ("src", "href") and value]


@pytest.fixture(scope="module")
def meeting(sample):
    extract, _ = sample
    filters = Filters(programs=("skills", "mindset"))
    return pack.build_pack(loader(sample, 10), extract.as_of, filters, 10,
                           url=pack.view_url(filters, "http://dash.example:8501"))


def test_the_pack_compares_the_last_12_months_with_the_12_before_when_no_period_is_set():
    current, previous, note = pack.comparison_periods(Filters(), AS_OF)
    assert (current.date_from, current.date_to) == (dt.date(2002, 1, 1), AS_OF)
    assert (previous.date_from, previous.date_to) == (dt.date(2001, 1, 1), dt.date(2001, 12, 31))
    assert "No period is set" in note
    set_period = Filters(date_from=dt.date(2002, 1, 1), date_to=dt.date(2002, 3, 31))
    current, previous, note = pack.comparison_periods(set_period, AS_OF)
    assert current == set_period
    assert previous == set_period.previous_period()


def test_the_view_link_carries_the_filters_as_the_sidebar_writes_them(monkeypatch):
    monkeypatch.delenv(pack.BASE_URL_ENV_VAR, raising=False)
    filters = Filters(districts=("北山",), programs=("skills", "mindset"))
    assert pack.view_url(filters) == \
        "http://localhost:8501/?district=%E5%8C%97%E5%B1%B1&program=skills&program=mindset&lang=en"
    monkeypatch.setenv(pack.BASE_URL_ENV_VAR, "https://dash.example/reemploy/")
    assert pack.view_url(Filters()) == "https://dash.example/reemploy/?lang=en"
    with i18n.using("zh"):  # a pack in Chinese opens the dashboard in Chinese
        assert pack.view_url(Filters()) == "https://dash.example/reemploy/?lang=zh"


def test_a_pack_built_outside_any_page_draws_its_charts_on_the_house_template(sample, monkeypatch):
    # The CLI builds the pack with no page run before it; Plotly's own default has a grey plot.
    import plotly.io as pio

    from reemploy.charts.style import HOUSE_TEMPLATE

    monkeypatch.setattr(pio.templates, "default", "plotly")
    extract, _ = sample
    document = pack.build_pack(loader(sample, 10), extract.as_of, Filters(), 10)
    house = pio.templates[HOUSE_TEMPLATE].layout.plot_bgcolor
    assert {section.figure.layout.template.layout.plot_bgcolor
            for section in document.sections} == {house}


def test_the_headline_table_gives_each_programme_its_value_n_and_change(meeting):
    table = pack.headline_table(meeting)
    placed = table[(table["measure"] == "Placed within 180 days of exit")
                   & (table["programme"] == "Skills training")].iloc[0]
    row = meeting.headline.set_index("program_type").loc["skills"]
    before = meeting.previous.set_index("program_type").loc["skills"]
    assert placed["this period"] == f"{row['placement_rate_180d'] * 100:.1f}%"
    assert placed["n"] == f"{int(row['placement_rate_180d_n']):,}"
    change = (row["placement_rate_180d"] - before["placement_rate_180d"]) * 100
    assert placed["change"] == f"{change:+.1f} pp"
    assert set(table["programme"]) == {"Skills training", "Mindset training"}


def test_the_html_pack_is_one_file_that_asks_no_other_host_for_anything(meeting):
    document = pack.pack_html(meeting)
    parser = _References()
    parser.feed(document)
    external = [ref for ref in parser.found if urlsplit(ref).scheme or urlsplit(ref).netloc]
    assert external == []
    assert document.count("Plotly.newPlot") == len(pack.KEY_CHARTS)
    assert "http://dash.example:8501/?program=skills&amp;program=mindset" in document
    assert '"displaylogo": false' in document  # no plotly.com link in the chart toolbar


@needs_browser
def test_the_pdf_pack_has_a_cover_the_headline_table_and_one_page_per_key_chart(meeting):
    reader = pypdf.PdfReader(io.BytesIO(pack.pack_pdf(meeting)))
    # pypdf returns CJK radicals and ligatures for some glyphs; NFKC folds them back.
    texts = [unicodedata.normalize("NFKC", page.extract_text()) for page in reader.pages]
    # The cover and the headline figures take the pages they need (issue 16: cut at one page,
    # the headline table lost its last measures); then one page per key chart.
    charts_from = len(texts) - len(pack.KEY_CHARTS)
    assert charts_from >= 2
    assert "meeting pack" in texts[0] and "http://dash.example:8501/?program=skills" in texts[0]
    headline_pages = " ".join(texts[1:charts_from])
    assert "Headline figures against the previous period" in headline_pages
    # Every measure of the headline table is printed, the last one too.
    assert "Cost per placement" in headline_pages
    described = " ".join(meeting.filters.describe().split())
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {len(texts)}" in text
        assert "2002-12-31" in text and described in " ".join(text.split())
    for text, section in zip(texts[charts_from:], meeting.sections):
        assert section.entry.page in text
        assert "Suppression:" in text and "Sample size:" in text and "Definitions:" in text
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert width > height  # landscape


def test_the_export_command_refuses_a_file_that_is_neither_html_nor_pdf(tmp_path):
    with pytest.raises(SystemExit, match="html or .pdf"):
        cli.main(["export", "--out", str(tmp_path / "pack.docx"), "--data", str(tmp_path)])


def test_the_export_command_writes_the_html_pack_for_the_filters(sample, tmp_path, capsys):
    extract, _ = sample
    out = tmp_path / "pack.html"
    assert cli.main(["export", "--out", str(out), "--data", str(extract.path),
                     "--program", "skills"]) == 0
    document = out.read_text(encoding="utf-8")
    assert "programme: Skills training" in document and "Placed within 180 days of exit" in document
    assert "pack.html" in capsys.readouterr().err


# --------------------------------------------------------------------------- in the app


def _download_labels(at) -> list[str]:
    return [button.proto.label for button in at.get("download_button")]


def test_every_chart_on_the_overview_offers_png_svg_csv_and_excel(tiny_extract, monkeypatch):
    from conftest import run_app

    at = run_app(tiny_extract, monkeypatch)
    assert not at.exception
    labels = _download_labels(at)
    expected = ["PNG", "SVG"] if export.images_available() else []
    # The skills-minus-mindset table first (numbers only), then the trend chart.
    assert labels == ["CSV", "Excel"] + expected + ["CSV", "Excel"]


def test_without_a_browser_the_image_buttons_give_way_to_how_to_enable_them(tiny_extract, monkeypatch, tmp_path):
    from conftest import run_app

    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chromium"))
    at = run_app(tiny_extract, monkeypatch)
    assert _download_labels(at) == ["CSV", "Excel", "CSV", "Excel"]  # the table, then the chart
    assert any("apt-get install chromium" in caption.value for caption in at.caption)


def test_the_meeting_pack_page_offers_the_pack_for_the_filters_in_the_sidebar(tiny_extract, monkeypatch):
    from conftest import run_app

    monkeypatch.delenv(pack.BASE_URL_ENV_VAR, raising=False)
    at = run_app(tiny_extract, monkeypatch, "pages/meeting_pack.py", district=["北山"])
    assert not at.exception
    labels = _download_labels(at)
    assert labels[0] == "Meeting pack (HTML)"
    assert labels[1:] == (["Meeting pack (PDF)"] if export.images_available() else [])
    assert any("?district=%E5%8C%97%E5%B1%B1" in caption.value for caption in at.caption)
    # 北山 enrolled M1 in 2002 (the last 12 months up to as_of) and S1, S2 in 2001 (the 12
    # months before): skills keeps its row, with 0 enrolled against 2.
    headline = at.dataframe[0].value.set_index(["measure", "programme"])
    assert headline.loc[("Enrolled", "Mindset training"), "this period"] == "1"
    assert headline.loc[("Enrolled", "Skills training"), ["this period", "previous period",
                                                          "change"]].tolist() == ["0", "2", "-2"]


def test_without_a_browser_the_pdf_export_says_how_to_fix_it_and_writes_nothing(sample, tmp_path,
                                                                              monkeypatch, capsys):
    extract, _ = sample
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chromium"))
    out = tmp_path / "pack.pdf"
    assert cli.main(["export", "--out", str(out), "--data", str(extract.path)]) == 2
    assert not out.exists()
    assert "apt-get install chromium" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["a folder named like a file", "a folder that does not exist"])
def test_the_export_command_checks_where_it_writes_before_building_the_pack(sample, tmp_path, capsys,
                                                                            monkeypatch, where):
    # Issue 13: it built the whole pack and then crashed writing it.
    from reemploy import pack

    extract, _ = sample
    if where == "a folder named like a file":
        out = tmp_path / "somefolder.html"
        out.mkdir()
        message = "is a folder"
    else:
        out = tmp_path / "missing" / "pack.html"
        message = "does not exist"
    monkeypatch.setattr(pack, "build_pack", lambda *a, **k: pytest.fail("built the pack first"))
    assert cli.main(["export", "--out", str(out), "--data", str(extract.path)]) == 2
    assert message in capsys.readouterr().err


def test_the_export_command_refuses_a_district_the_extract_does_not_hold(sample, tmp_path, capsys):
    extract, _ = sample
    assert cli.main(["export", "--out", str(tmp_path / "p.html"), "--data", str(extract.path),
                     "--district", "Nowhere"]) == 2
    assert "--district 'Nowhere' is not in the extract" in capsys.readouterr().err
    assert not (tmp_path / "p.html").exists()


def test_importing_the_chart_builders_leaves_plotlys_default_template_alone():
    # The house template is set by what draws or serialises figures, never on import.
    import subprocess
    import sys

    code = ("import plotly.io as pio; import reemploy.charts, reemploy.pack, reemploy.export; "
            "print(pio.templates.default)")
    from reemploy.extracts import REPO_ROOT

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=REPO_ROOT)
    assert result.stdout.strip() == "plotly"
