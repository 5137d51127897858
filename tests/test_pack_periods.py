"""The meeting pack's periods and figures (issue 16, section 5), worked out by hand on the tiny
extract (tests/conftest.py): each figure covers enrollments followed long enough for it, says
which, and reads as the app's cards read it."""

from __future__ import annotations

import io
import unicodedata

import pypdf
import pytest

from conftest import D, run_app, write_extract
from reemploy import cli, export, i18n, pack
from reemploy.filters import Filters

needs_browser = pytest.mark.skipif(not export.images_available(),
                                   reason="no Chrome/Chromium to print PDFs")


def _loader(opened, min_cell=1):
    con, extract = opened

    def load(question, filters, **options):
        return question(con, extract, filters, min_cell, **options)

    return load


def _tiny_pack(tiny, filters=Filters(), key_charts=()):
    con, extract = tiny
    return pack.build_pack(_loader(tiny), extract.as_of, filters, 1, key_charts=list(key_charts))


def _cell(table, measure, programme, column="this period"):
    rows = table[(table["measure"] == measure) & (table["programme"] == programme)]
    assert len(rows) == 1, (measure, programme)
    return rows.iloc[0][column]


def test_each_kind_of_figure_covers_the_months_followed_long_enough_for_it(tiny):
    # 2002-08 (M3 left 2002-08-10, +180 days is after as_of) is the first month not followed
    # 180/182 days after leaving; 2002-01 (M1, M2, M4 left 2002-01-20, +365 days is 2003-01-20)
    # the first not followed 365 days. In 2001-08..2002-07 half the mindset enrollees (M1, M2 on
    # day 22) have a first job, so the median exists there.
    periods = pack.measure_periods(_loader(tiny), Filters(), tiny[1].as_of, 1)
    spans = {key: (p.current.date_from, p.current.date_to, p.previous.date_from, p.previous.date_to)
             for key, p in periods.items()}
    assert spans["exit"] == (D("2001-08-01"), D("2002-07-31"), D("2000-08-01"), D("2001-07-31"))
    assert spans["year"] == (D("2001-01-01"), D("2001-12-31"), D("2000-01-01"), D("2000-12-31"))
    assert spans["median"] == spans["exit"]
    assert "followed 365 days after leaving" in periods["year"].note


def test_the_retention_and_4th_quarter_figures_are_shown_for_their_own_period(tiny):
    table = pack.headline_table(_tiny_pack(tiny))
    retention = "Still in the first job after 12 months (among those placed)"
    q4 = "Employed in the 4th quarter after exit"
    # 2001: S1's job (2001-05-01, still held) lasted 12 months, S4's (2001-12-01 to 2002-03-01)
    # did not: 1 of 2. Before (2000): S5's first job J5b (2000-08-01 to 2002-01-01) did: 1 of 1.
    assert _cell(table, retention, "Skills training") == "50.0%"
    assert _cell(table, retention, "Skills training", "n") == "2"
    assert _cell(table, retention, "Skills training", "previous period") == "100.0%"
    assert _cell(table, retention, "Skills training", "change") == "-50.0 pp"
    assert _cell(table, retention, "Skills training", "enrolled") == "2001-01-01 to 2001-12-31"
    assert _cell(table, retention, "No training") == "100.0%"  # N1's J8 from 2001-07-01
    # Days 274-365 after exit: S1 (J1 held), S4 (J4 2001-12-01..2002-03-01 covers 2001-11-30 to
    # 2002-03-01) employed, S2 not: 2 of 3; S5 in 2000: 1 of 1.
    assert _cell(table, q4, "Skills training") == "66.7%"
    assert _cell(table, q4, "Skills training", "n") == "3"
    assert _cell(table, q4, "Skills training", "change") == "-33.3 pp"


def test_the_180_day_figures_the_median_and_wage_replacement_read_as_the_app_writes_them(tiny):
    table = pack.headline_table(_tiny_pack(tiny))
    # 2001-08..2002-07: M1, M2 placed on 2002-02-01 (within 180 days of leaving 2002-01-20), M4 not.
    assert _cell(table, "Placed within 180 days of exit", "Mindset training") == "66.7%"
    assert _cell(table, "Placed within 180 days of exit", "Mindset training", "n") == "3"
    assert "n\u00a0=\u00a03" in _cell(table, "Placed within 180 days of exit", "Mindset training",
                                       "interval and n")
    # Kaplan-Meier from enrollment: 2 of 3 placed on day 22 (2002-01-10 to 2002-02-01).
    assert _cell(table, "Median days to first job", "Mindset training") == "22 days"
    # Skills enrolled nobody in the period: no figure rather than "not reached".
    assert _cell(table, "Median days to first job", "Skills training") == "–"
    # M1: 500 / 700 = 71.4%, a percentage as the app's cards and tables (not 0.71); M2 has no
    # prior wage.
    assert _cell(table, "Median wage replacement", "Mindset training") == "71.4%"
    assert _cell(table, "Median wage replacement", "Mindset training", "n") == "1"


def test_no_training_has_no_cost_per_placement_and_no_completion(tiny):
    table = pack.headline_table(_tiny_pack(tiny))
    # 2000-08..2001-07, the period before: N1 was placed, at no course cost; "0 yuan" would read
    # as a free placement. The app says not applicable (tables.NOT_APPLICABLE).
    assert _cell(table, "Cost per placement", "No training", "previous period") == "not applicable"
    assert _cell(table, "Cost per placement", "No training", "change") == ""
    assert table[(table["measure"] == "Completed the course")
                 & (table["programme"] == "No training")].empty


def test_figure_text_writes_what_the_overview_cards_write():
    row = {"retention_12m": None, "retention_12m_n": 4, "retention_12m_suppressed": True}
    assert pack.figure_text(row, "retention_12m", "rate", 10) == (
        "suppressed", "suppressed (n < 10) · n\u00a0=\u00a04")
    row = {"median_days_to_placement": float("nan"), "median_days_to_placement_n": 120}
    assert pack.figure_text(row, "median_days_to_placement", "days", 10) == (
        "not reached", "fewer than half placed by the data's date · n\u00a0=\u00a0120")
    row = {"median_wage_replacement": 0.8766, "median_wage_replacement_n": 25,
           "median_wage_replacement_unreliable": True}
    assert pack.figure_text(row, "median_wage_replacement", "ratio", 10) == (
        "87.7%", "n\u00a0=\u00a025 · unreliable (n < 30)")
    assert pack.figure_text({"cost_per_placement": 0.0, "cost_per_placement_n": 40},
                            "cost_per_placement", "yuan", 10, "none") == ("not applicable", "")


def test_when_no_months_ever_reach_half_placed_the_median_says_not_reached(tmp_path):
    # 12 skills enrollees in 2001-01 and 12 in 2002-01, each left a month later, none ever
    # placed: the "exit" period is 2002 (every month followed 182 days), "year" 2001 (2002-01 is
    # not followed 365 days), and no 12 months have half placed.
    enrollments = [dict(enrollment_id=f"S{year}{i}", program_type="skills",
                        enrolled_on=D(f"{year}-01-01"), exited_on=D(f"{year}-02-01"),
                        completed=True) for year in (2001, 2002) for i in range(12)]
    from reemploy.db import connect
    from reemploy.extracts import open_extract

    extract = open_extract(write_extract(tmp_path / "never", enrollments, []))
    con = connect(extract)
    load = _loader((con, extract))
    periods = pack.measure_periods(load, Filters(), extract.as_of, 1)
    assert periods["median"].current == periods["year"].current
    assert "not reached" in periods["median"].note
    document = pack.build_pack(load, extract.as_of, Filters(), 1, key_charts=[])
    table = pack.headline_table(document)
    assert _cell(table, "Median days to first job", "Skills training") == "not reached"
    assert _cell(table, "Median days to first job", "Skills training",
                 "interval and n").startswith("fewer than half placed")


def test_a_set_period_is_the_period_of_every_figure(tiny):
    period = Filters(date_from=D("2001-01-01"), date_to=D("2001-12-31"))
    periods = pack.measure_periods(_loader(tiny), period, tiny[1].as_of, 1)
    assert {p.current for p in periods.values()} == {period}
    assert {p.previous for p in periods.values()} == {period.previous_period()}


def test_a_pack_for_one_district_says_so_not_all_enrollments(tiny):
    document = _tiny_pack(tiny, Filters(districts=("北山",)))
    assert "北山" in document.period_note
    assert "cover all enrollments" not in document.period_note
    assert all(p.current.districts == ("北山",) for p in document.periods.values())


def test_the_pack_checks_the_disclosure_of_every_period_it_prints(tiny):
    con, extract = tiny
    views = pack.views_of(Filters(), extract.as_of, load=_loader(tiny), min_cell=1)
    for period in pack.measure_periods(_loader(tiny), Filters(), extract.as_of, 1).values():
        assert period.current in views and period.previous in views


def test_the_pack_speaks_the_language_of_the_run(tiny):
    document = _tiny_pack(tiny, Filters(districts=("北山",)))
    assert "<html lang='en'>" in pack.pack_html(document)
    with i18n.using("zh"):
        html = pack.pack_html(document)
    assert "<html lang='zh-Hans'>" in html
    # Dates as Chinese writes them (Babel), names from the data as they are.
    assert "2002年12月31日" in html and "北山" in html


@needs_browser
def test_the_chinese_pdf_prints_chinese_characters(tiny):
    document = _tiny_pack(tiny, Filters(districts=("北山",)))
    with i18n.using("zh"):
        pdf = pack.pack_pdf(document)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = unicodedata.normalize("NFKC", reader.pages[0].extract_text())
    # Text extraction finds the characters only where a CJK font drew them (boxes have none).
    assert "北山" in text and "2002年12月31日" in text


def test_the_export_command_makes_the_pack_in_chinese(tiny_extract, tmp_path, monkeypatch):
    monkeypatch.setenv("REEMPLOY_MIN_CELL", "1")
    out = tmp_path / "pack.html"
    assert cli.main(["export", "--out", str(out), "--data", str(tiny_extract), "--lang", "zh"]) == 0
    assert "<html lang='zh-Hans'>" in out.read_text(encoding="utf-8")
    english = tmp_path / "pack-en.html"
    assert cli.main(["export", "--out", str(english), "--data", str(tiny_extract)]) == 0
    assert "<html lang='en'>" in english.read_text(encoding="utf-8")
    with pytest.raises(SystemExit):
        cli.main(["export", "--out", str(out), "--data", str(tiny_extract), "--lang", "fr"])


def test_the_meeting_pack_page_says_the_link_points_at_localhost_without_a_base_url(
        tiny_extract, monkeypatch):
    monkeypatch.delenv(pack.BASE_URL_ENV_VAR, raising=False)
    at = run_app(tiny_extract, monkeypatch, "pages/meeting_pack.py")
    assert not at.exception
    assert any(pack.BASE_URL_ENV_VAR in info.value and "localhost" in info.value
               for info in at.info)
    monkeypatch.setenv(pack.BASE_URL_ENV_VAR, "https://dash.example/reemploy")
    at = run_app(tiny_extract, monkeypatch, "pages/meeting_pack.py")
    assert not any(pack.BASE_URL_ENV_VAR in info.value for info in at.info)
    assert any("https://dash.example/reemploy/" in caption.value for caption in at.caption)


def test_the_meeting_pack_page_warns_when_chinese_would_print_as_boxes(tiny_extract, monkeypatch):
    monkeypatch.setattr(export, "cjk_font_available", lambda: False)
    at = run_app(tiny_extract, monkeypatch, "pages/meeting_pack.py")
    assert any("fonts-noto-cjk" in warning.value for warning in at.warning)
    monkeypatch.setattr(export, "cjk_font_available", lambda: True)
    at = run_app(tiny_extract, monkeypatch, "pages/meeting_pack.py")
    assert not any("fonts-noto-cjk" in warning.value for warning in at.warning)
