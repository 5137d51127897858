"""Trends: cohort rates, period-over-period changes, their charts, table and page."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from reemploy import charts, figures, labels, readouts, stats
from reemploy.db import connect
from reemploy.extracts import open_extract
from reemploy.filters import Filters

from conftest import D, write_extract
from conftest import run_app

PAGE = "pages/trends.py"


def page(data_dir, monkeypatch, **query):
    # AppTest applies the URL's filters to a page only from the run after switch_page (the page
    # itself gets them on its first run in a browser deep link, checked with Playwright).
    at = run_app(data_dir, monkeypatch, PAGE, **query)
    return at.run()


def cohort(prefix: str, size: int, placed: int, enrolled_on: str, exited_on: str | None):
    """`size` skills enrollments on one day, the first `placed` of them with a job 10 days after exit."""
    enrollments, placements = [], []
    for i in range(size):
        exit_day = D(exited_on) if exited_on else None
        enrollments.append(dict(enrollment_id=f"{prefix}{i}", program_type="skills",
                                enrolled_on=D(enrolled_on), exited_on=exit_day,
                                completed=True if exit_day else None))
        if i < placed:
            placements.append(dict(placement_id=f"J{prefix}{i}", enrollment_id=f"{prefix}{i}",
                                   started_on=exit_day + pd.Timedelta(days=10)))
    return enrollments, placements


@pytest.fixture
def quarters(shared_extracts):
    """Skills cohorts, as_of 2002-12-31 (placed / followed within 180 days of exit):
    2001 Q1 4/10, 2001 Q2 7/10, 2001 Q4 one of two in a long course to 2002-09-01 (not fully
    observed),
    2002 Q1 3/12, 2002 Q2 left 2002-07-20 (followed only from 2003-01-16: not observed)."""
    parts = [
        cohort("A", 10, 4, "2001-01-15", "2001-02-15"),
        cohort("B", 10, 7, "2001-04-15", "2001-05-15"),
        cohort("C", 1, 1, "2001-10-15", "2001-11-15"),
        cohort("D", 1, 0, "2001-10-15", "2002-09-01"),
        cohort("E", 12, 3, "2002-01-15", "2002-02-15"),
        cohort("F", 5, 2, "2002-04-15", "2002-07-20"),
    ]
    return shared_extracts.get("quarters", [e for p in parts for e in p[0]],
                               [j for p in parts for j in p[1]]).opened


def drawn(fig, program="skills"):
    """The trace that carries a programme's points (its legend entry is a separate trace)."""
    return next(t for t in fig.data if t.legendgroup == program and t.showlegend is False)


def by_quarter(df):
    return {row["cohort_start"].date(): row for row in df.to_dict("records")}


# --------------------------------------------------------------------------- metrics


def test_placement_rate_by_cohort_flags_incomplete_cohorts_per_horizon(quarters):
    con, extract = quarters
    got = by_quarter(figures.trends.placement_rate_by_cohort(con, extract, Filters(), min_cell=1))
    assert got[D("2001-01-01")]["placement_rate_180d"] == pytest.approx(0.4)
    assert got[D("2001-01-01")]["is_complete"] and got[D("2001-01-01")]["is_complete_365d"]
    # 2001 Q4: one of two has not left, so neither horizon is complete.
    assert not got[D("2001-10-01")]["is_complete"]
    # 2002 Q1 left 2002-02-15: followed 180 days (2002-08-14), not 365 (2003-02-15).
    assert got[D("2002-01-01")]["is_complete"] and not got[D("2002-01-01")]["is_complete_365d"]
    assert got[D("2002-04-01")]["placement_rate_180d_n"] == 0


def test_placement_rate_by_cohort_suppresses_the_numerator_with_the_rate(quarters):
    con, extract = quarters
    got = by_quarter(figures.trends.placement_rate_by_cohort(con, extract, Filters(), min_cell=11))
    small = got[D("2001-04-01")]  # 7 of 10
    assert small["placement_rate_180d_suppressed"]
    assert math.isnan(small["placement_rate_180d"]) and math.isnan(small["placed_180d_count"])
    assert got[D("2002-01-01")]["placement_rate_180d"] == pytest.approx(0.25)  # 12 followed


def test_placement_rate_changes_compares_fully_observed_quarters_only(quarters):
    con, extract = quarters
    df = figures.trends.placement_rate_changes(con, extract, Filters(), min_cell=1, quarters=8)
    # Latest fully observed quarter 2002 Q1; 2002 Q2 is left out; newest first.
    assert [d.date() for d in df["cohort_start"]] == [D("2002-01-01"), D("2001-10-01"),
                                                       D("2001-04-01"), D("2001-01-01")]
    got = by_quarter(df)
    latest = got[D("2002-01-01")]
    # vs 2001 Q4: that quarter is not fully observed, so no change is computed.
    assert not latest["change_vs_previous_quarter_available"]
    assert math.isnan(latest["change_vs_previous_quarter"])
    # vs 2001 Q1: 3/12 - 4/10 = 0.25 - 0.40 = -0.15, Newcombe interval, n = min(12, 10).
    assert latest["change_vs_year_earlier"] == pytest.approx(-0.15)
    _, low, high = stats.newcombe_difference(3, 12, 4, 10)
    assert (latest["change_vs_year_earlier_low"], latest["change_vs_year_earlier_high"]) == (
        pytest.approx(low), pytest.approx(high))
    assert latest["change_vs_year_earlier_n"] == 10
    # 2001 Q2 vs 2001 Q1: 7/10 - 4/10 = +0.30; no 2000 Q2 cohort to compare with.
    second = got[D("2001-04-01")]
    assert second["change_vs_previous_quarter"] == pytest.approx(0.30)
    assert not second["change_vs_year_earlier_available"]


def test_placement_rate_changes_keeps_the_last_n_quarters(quarters):
    con, extract = quarters
    df = figures.trends.placement_rate_changes(con, extract, Filters(), min_cell=1, quarters=2)
    assert [d.date() for d in df["cohort_start"]] == [D("2002-01-01"), D("2001-10-01")]


def test_placement_rate_changes_are_suppressed_when_either_quarter_is_small(quarters):
    con, extract = quarters
    got = by_quarter(figures.trends.placement_rate_changes(con, extract, Filters(), min_cell=11))
    latest = got[D("2002-01-01")]
    # 12 followed now but only 10 a year earlier: the change rests on the smaller group.
    assert latest["change_vs_year_earlier_suppressed"]
    assert math.isnan(latest["change_vs_year_earlier"])
    assert math.isnan(latest["change_vs_year_earlier_low"])
    assert latest["placement_rate_180d"] == pytest.approx(0.25)


def test_placement_rate_changes_at_365_days_waits_for_a_year_of_follow_up(quarters):
    con, extract = quarters
    df = figures.trends.placement_rate_changes(con, extract, Filters(), min_cell=1,
                                        measure="placement_rate_365d")
    # 2002 Q1 is not followed 365 days yet, and 2001 Q4 is incomplete: latest is 2001 Q2.
    assert df["cohort_start"].max().date() == D("2001-04-01")


def test_placement_rate_changes_is_empty_when_no_quarter_is_fully_observed(tmp_path):
    extract = open_extract(write_extract(tmp_path / "new", *cohort("N", 3, 1, "2002-10-01", None)))
    df = figures.trends.placement_rate_changes(connect(extract), extract, Filters())
    assert df.empty and "change_vs_year_earlier" in df.columns


# --------------------------------------------------------------------------- readouts


def test_changes_table_writes_changes_in_points_and_says_why_a_cell_is_empty(quarters):
    con, extract = quarters
    table = readouts.changes_table(
        figures.trends.placement_rate_changes(con, extract, Filters(), min_cell=11), "placement_rate_180d", 11)
    rows = {row["Quarter"]: row for row in table.to_dict("records")}
    assert rows["2002 Q1"]["Placed within 180 days of exit"].startswith("25.0% (95% CI")
    assert rows["2002 Q1"]["vs same quarter a year earlier (95% CI)"] == "suppressed (n < 11)"
    assert rows["2002 Q1"]["vs previous quarter (95% CI)"] == "–"
    assert rows["2001 Q2"]["Placed within 180 days of exit"] == "suppressed (n < 11)"

    shown = readouts.changes_table(
        figures.trends.placement_rate_changes(con, extract, Filters(), min_cell=1), "placement_rate_180d", 1)
    change = shown.set_index("Quarter").loc["2002 Q1", "vs same quarter a year earlier (95% CI)"]
    assert change.startswith("-15.0 pp (")


def test_unobserved_quarters_note_names_the_first_quarter_left_out(quarters):
    con, extract = quarters
    cohorts = figures.trends.placement_rate_by_cohort(con, extract, Filters(), min_cell=1)
    assert "Skills training from 2002 Q2" in readouts.unobserved_quarters_note(cohorts, "placement_rate_180d")
    assert "Skills training from 2001 Q4" in readouts.unobserved_quarters_note(cohorts, "placement_rate_365d")


# --------------------------------------------------------------------------- charts


def test_cohort_outcome_chart_draws_incomplete_cohorts_hollow_in_a_shaded_band(quarters):
    con, extract = quarters
    df = figures.trends.placement_rate_by_cohort(con, extract, Filters(), min_cell=1)
    fig = charts.cohort_outcome_chart(df, 1)
    skills = drawn(fig)
    blue = labels.PROGRAM_COLORS["skills"]
    assert skills.name == "Skills training" and skills.line.color == blue
    legend = [t for t in fig.data if t.showlegend is not False]
    assert legend[0].name == "Skills training" and legend[0].marker.color == blue  # filled
    # 2001 Q1, Q2 complete; 2001 Q4 incomplete; 2002 Q1 complete; 2002 Q2 incomplete.
    assert list(skills.marker.color) == [blue, blue, "white", blue, "white"]
    band = fig.layout.shapes[0]
    assert pd.Timestamp(band.x0) == pd.Timestamp("2002-04-01") - pd.Timedelta(days=45)
    assert any("not yet fully observed" in (t.name or "") for t in legend)
    # 10 + 10 + 0 (October 2001 is not fully observed: D is still out, so C is not counted) + 12 + 0
    assert "n = 32 followed" in fig.layout.title.subtitle.text


def test_cohort_outcome_chart_leaves_gaps_for_suppressed_cohorts(quarters):
    con, extract = quarters
    df = figures.trends.placement_rate_by_cohort(con, extract, Filters(), min_cell=11)
    y = list(drawn(charts.cohort_outcome_chart(df, 11)).y)
    assert y[1] is None or math.isnan(y[1])  # 2001 Q2, 10 followed
    assert y[3] == pytest.approx(0.25)


def test_cohort_outcome_chart_at_365_days_uses_its_own_completeness(quarters):
    con, extract = quarters
    df = figures.trends.placement_rate_by_cohort(con, extract, Filters(), min_cell=1)
    fig = charts.cohort_outcome_chart(df, 1, "placement_rate_365d")
    assert fig.layout.yaxis.title.text == "Placed within 365 days of exit"
    assert list(drawn(fig).marker.color)[3] == "white"  # 2002 Q1 not followed a year


def test_placement_trend_chart_on_overview_is_the_180_day_cohort_chart(quarters):
    con, extract = quarters
    df = figures.trends.placement_rate_by_cohort(con, extract, Filters(), min_cell=1)
    assert charts.placement_trend_chart(df, 1).to_json() == charts.cohort_outcome_chart(df, 1).to_json()


def test_cohort_enrollment_chart_draws_the_running_quarter_hollow(tmp_path):
    rows = cohort("R", 2, 0, "2002-07-01", "2002-08-01")[0] + cohort("S", 3, 0, "2002-10-01", None)[0]
    extract = open_extract(write_extract(tmp_path / "open", rows, [], as_of=D("2002-11-15")))
    df = figures.trends.placement_rate_by_cohort(connect(extract), extract, Filters())
    fig = charts.cohort_enrollment_chart(df)
    assert list(drawn(fig).y) == [2, 3]
    assert list(drawn(fig).marker.color) == [labels.PROGRAM_COLORS["skills"], "white"]
    assert "still running" in fig.layout.title.subtitle.text


def test_cohort_charts_say_so_when_nothing_can_be_drawn():
    empty = pd.DataFrame(columns=["program_type", "cohort_start", "placement_rate_180d"])
    fig = charts.cohort_outcome_chart(empty, 10)
    assert "No cohort has 10 or more" in fig.layout.annotations[0].text


# --------------------------------------------------------------------------- page


def test_trends_page_renders_for_a_chinese_district_from_the_url(tiny_extract, monkeypatch):
    at = page(tiny_extract, monkeypatch, district=["北山"])
    assert not at.exception
    assert at.sidebar.multiselect(key="district").value == ["北山"]
    assert len(at.get("plotly_chart")) == 2
    table = at.dataframe[0].value
    # 北山: skills S1, S2 (2001 Q1, one placed) and mindset M1 (2002 Q1, placed).
    assert set(zip(table["Quarter"], table["Programme"])) == {("2001 Q1", "Skills training"),
                                                               ("2002 Q1", "Mindset training")}
    assert table.set_index("Programme").loc["Skills training", "Placed within 180 days of exit"] \
        .startswith("50.0%")


def test_trends_page_says_no_records_match_when_filters_leave_nothing(tiny_extract, monkeypatch):
    at = page(tiny_extract, monkeypatch, district=["北山"], program=["none"])
    assert not at.exception
    assert any("No records match" in info.value for info in at.info)
    assert not at.get("plotly_chart")


def test_trends_page_suppresses_small_cohorts_when_the_threshold_is_raised(tiny_extract, monkeypatch):
    at = page(tiny_extract, monkeypatch, min_cell=3, program=["skills"])
    table = at.dataframe[0].value.set_index("Quarter")
    # skills 2000 Q2 is S5 alone; 2001 Q1 has 3 followed (S1, S2, S4), one placed, but the skills
    # total minus 2001 Q1 would give 2000 Q2 away, so it is hidden beside it (complementary).
    assert table.loc["2000 Q2", "Placed within 180 days of exit"] == "suppressed (n < 3)"
    assert table.loc["2001 Q1", "Placed within 180 days of exit"] == \
        "suppressed (would give a smaller group away)"


def test_trends_page_switches_to_placement_within_365_days(tiny_extract, monkeypatch):
    at = page(tiny_extract, monkeypatch)
    at.radio(key="trends_measure").set_value("placement_rate_365d").run()
    assert not at.exception
    assert "Placed within 365 days of exit" in at.dataframe[0].value.columns
