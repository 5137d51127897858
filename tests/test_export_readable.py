"""Downloads an analyst uses as they are (issue 16, section 4): columns named as people read them,
labels instead of codes, whole counts, rates rounded in CSV and exact in Excel; captions and file
names that say what an image shows. Expected values worked out by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess

import openpyxl
import pandas as pd
import plotly.graph_objects as go
import pytest

from reemploy import export, i18n
from reemploy.filters import Filters

AS_OF = dt.date(2002, 12, 31)
HIDDEN = 0.4285714  # 3 of 7: must never leave


def gap_table() -> pd.DataFrame:
    """A district table in the figures' convention (placement_gap_by_district's columns): row 0
    suppressed (but still holding its value), counts as floats (as after a merge), row 1 a name
    that a spreadsheet would run as a formula."""
    return pd.DataFrame({
        "district": ["北山", "=HYPERLINK(\"http://x\")", "Anqiao"],
        "skills_placement_rate_180d_n": [7.0, 25.0, 120.0],
        "skills_placed_180d_count": [3.0, 13.0, 36.0],
        "skills_placement_rate_180d": [HIDDEN, 0.52, 0.3],
        "skills_placement_rate_180d_low": [0.15, 0.33, 0.2246],
        "skills_placement_rate_180d_high": [0.75, 0.7, 0.3854],
        "skills_placement_rate_180d_suppressed": [True, False, False],
        "skills_placement_rate_180d_unreliable": [False, True, False],
        "gap": [0.1, -0.0251, 0.05],
        "gap_suppressed": [True, False, False],
    })


def program_table() -> pd.DataFrame:
    return pd.DataFrame({
        "program_type": ["skills", "none"],
        "employer_type": ["self_employed", "state_owned"],
        "enrolled_count": [120, 40],
        "median_wage_replacement": [0.87654, 0.75],
        "median_wage_replacement_n": [110, 38],
        "median_wage_replacement_suppressed": [False, False],
        "median_monthly_wage": [517.5, 450.0],
        "median_monthly_wage_n": [110, 38],
        "median_monthly_wage_suppressed": [False, False],
    })


def test_columns_are_named_from_the_definitions_and_the_suffix_rules():
    assert export.column_label("skills_placement_rate_180d_n") == \
        "Skills training: placed within 180 days of exit, n"
    assert export.column_label("retention_12m_low") == \
        "Still in the first job after 12 months (among those placed), 95% CI from"
    assert export.column_label("mindset_placement_rate_180d_high") == \
        "Mindset training: placed within 180 days of exit, 95% CI to"
    assert export.column_label("gap") == "Skills minus mindset, placed within 180 days of exit"
    assert export.column_label("program_type") == "Programme"
    assert export.column_label("enrolled_count") == "Enrolled"
    assert export.column_label("skills_n") == "Skills training, n"
    assert export.column_label("monthly_wage_p25") == "Monthly wage, first job, 25th percentile"
    assert export.column_label("something_new") == "something_new"  # unknown: as it is


def test_the_csv_has_readable_headers_labels_whole_counts_and_rounded_percentages():
    table = export.table_for_export(gap_table(), min_cell=10)
    text = export.readable_csv_bytes(table).decode("utf-8-sig")
    assert str(HIDDEN) not in text and "42.9" not in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "District",
        "Skills training: placed within 180 days of exit, n",
        "Skills training: placed within 180 days of exit, count",
        "Skills training: placed within 180 days of exit (%)",
        "Skills training: placed within 180 days of exit, 95% CI from (%)",
        "Skills training: placed within 180 days of exit, 95% CI to (%)",
        "Skills minus mindset, placed within 180 days of exit (pp)",
        "Note",
    ]
    # Suppressed: blank rate, interval and gap; counts as whole numbers; the note names the
    # measures as the headers do.
    assert rows[1] == ["北山", "7", "3", "", "", "", "",
                       "suppressed: fewer than 10 people (Skills training: placed within 180 "
                       "days of exit, Skills minus mindset, placed within 180 days of exit)"]
    # 0.52 -> 52.0, -0.0251 -> -2.5 (pp), 0.2246 -> 22.5; a formula-like name made inert.
    assert rows[2][0] == "'=HYPERLINK(\"http://x\")"
    assert rows[2][1:7] == ["25", "13", "52.0", "33.0", "70.0", "-2.5"]
    assert rows[2][7].startswith("unreliable: fewer than 30 people")
    assert rows[3][3:6] == ["30.0", "22.5", "38.5"]


def test_the_excel_keeps_exact_values_in_cells_formatted_as_percent():
    table = export.table_for_export(gap_table(), min_cell=10)
    book = openpyxl.load_workbook(io.BytesIO(export.readable_xlsx_bytes(table, {"Filters": "x"})))
    sheet = book["data"]
    header = [c.value for c in sheet[1]]
    assert header[3] == "Skills training: placed within 180 days of exit"  # no "(%)": the cell says it
    rate = sheet.cell(row=3, column=4)
    assert rate.value == 0.52 and rate.number_format == "0.0%"
    assert sheet.cell(row=4, column=5).value == 0.2246  # exact, not 22.5
    assert sheet.cell(row=3, column=2).value == 25 and sheet.cell(row=3, column=2).number_format == "#,##0"
    assert sheet.cell(row=2, column=4).value is None  # suppressed
    names = sheet.cell(row=3, column=1)
    assert names.value == "=HYPERLINK(\"http://x\")" and names.data_type == "s"
    assert HIDDEN not in [c.value for row in sheet.iter_rows() for c in row]
    assert [c.value for c in book["about"][1]] == ["item", "value"]


def test_codes_in_cells_become_labels_and_wage_replacement_a_percentage():
    table = export.table_for_export(program_table(), min_cell=10)
    frame = export.readable_table(table, "csv")
    assert frame["Programme"].tolist() == ["Skills training", "No training"]
    assert frame["Employer type"].tolist() == ["Self-employed", "State-owned"]
    assert frame["Median wage replacement (%)"].tolist() == [87.7, 75.0]
    assert frame["Median monthly wage, first job (yuan)"].tolist() == [518, 450]
    assert frame["Enrolled"].tolist() == [120, 40]


def test_the_downloads_speak_the_language_of_the_run():
    table = export.table_for_export(program_table(), min_cell=10)
    with i18n.using("zh"):
        frame = export.readable_table(table, "csv")
        book = openpyxl.load_workbook(io.BytesIO(export.readable_xlsx_bytes(table, {})))
    # Sheet names and headers through gettext: with the Chinese catalogue they read in Chinese;
    # without its translations they stay English, never codes.
    assert "program_type" not in frame.columns
    assert book.sheetnames == [i18n.translate("data", "zh"), i18n.translate("about", "zh")]


@pytest.mark.parametrize("column", ["person_id", "enrollment_id", "placement_id", "cohort_id"])
def test_the_readable_downloads_refuse_identifiers_too(column):
    df = gap_table().assign(**{column: ["a", "b", "c"]})
    with pytest.raises(export.ExportRefused, match=column):
        export.readable_csv_bytes(df)
    with pytest.raises(export.ExportRefused, match=column):
        export.readable_xlsx_bytes(df, {})


def test_an_image_of_every_district_says_so_in_its_caption_and_its_name():
    # The Districts page draws every district and outlines the selected one: the caption must not
    # say "all enrollments", nor the name "_all", while 北山 is selected.
    chosen = Filters(districts=("北山",), programs=("skills",))
    text = export.caption(AS_OF, chosen, 10, across="districts")
    assert "every district, 北山 marked" in text and "all enrollments" not in text
    assert "Skills training" in text or "skills" in text
    assert export.file_name("placement_gap_by_district", AS_OF, chosen, "png", across="districts") \
        == "placement_gap_by_district_2002-12-31_program-skills_every-district_marked-北山.png"
    assert export.file_name("x", AS_OF, Filters(districts=("北山",)), "png", across="districts") \
        == "x_2002-12-31_every-district_marked-北山.png"
    # Nothing selected: the chart shows every district under the other filters.
    assert export.caption(AS_OF, Filters(), 10, across="districts").startswith(
        "Data as of 2002-12-31 · Filters: every district ·")
    about = export.about_lines("Gap", AS_OF, chosen, 10, "v1", across="districts")
    assert "every district, 北山 marked" in about["Filters"]


def test_an_image_replaces_a_hover_subtitle_with_the_charts_static_one():
    fig = go.Figure(layout={"title": {"text": "T", "subtitle": {"text": "95% intervals in the hover"}},
                            "meta": {export.STATIC_SUBTITLE: "95% intervals in the CSV download"}})
    out = export.figure_for_export(fig, "Data as of 2002-12-31")
    assert out.layout.title.subtitle.text == "95% intervals in the CSV download"
    assert fig.layout.title.subtitle.text == "95% intervals in the hover"  # the original untouched
    plain = go.Figure(layout={"title": {"text": "T", "subtitle": {"text": "n = 5"}}})
    assert export.figure_for_export(plain, "x").layout.title.subtitle.text == "n = 5"


def test_the_chinese_font_check_asks_fontconfig_once(monkeypatch):
    calls = []

    def run(args, **kwargs):
        calls.append(args)
        return subprocess.CompletedProcess(args, 0, stdout="", stderr="")

    export.cjk_font_available.cache_clear()
    monkeypatch.setattr(export.shutil, "which", lambda name: "/usr/bin/fc-list")
    monkeypatch.setattr(export.subprocess, "run", run)
    try:
        assert export.cjk_font_available() is False
        assert export.cjk_font_available() is False
        assert calls == [["/usr/bin/fc-list", ":lang=zh", "family"]]
        export.cjk_font_available.cache_clear()
        monkeypatch.setattr(export.subprocess, "run", lambda args, **kw: subprocess.CompletedProcess(
            args, 0, stdout="Noto Sans CJK SC\n", stderr=""))
        assert export.cjk_font_available() is True
    finally:
        export.cjk_font_available.cache_clear()
