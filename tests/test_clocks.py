"""The measures beside the headline placement rate: placement from enrollment, employment in the
2nd and 4th quarter after exit, the fully observed enrollment months of exit-based rates, and the
enrollments the unit of count leaves aside. Every expected value is worked out in the comments
from the literal rows below (as_of 2002-12-31)."""

from __future__ import annotations

import json

import pytest

from reemploy import cli
from reemploy.db import query_params, run_query
from reemploy.filters import Filters

from conftest import D

ENROLLMENTS = [
    # exit 2001-03-01: +91 = 05-31, +182 = 08-30, +274 = 11-30, +365 = 2002-03-01
    dict(enrollment_id="A1", person_id="P1", program_type="skills", enrolled_on=D("2001-01-01"),
         exited_on=D("2001-03-01"), completed=True),
    # a long course: the first job starts during it (06-15) and ends 08-01, before day 91 (09-30)
    dict(enrollment_id="A2", program_type="skills", enrolled_on=D("2001-01-01"),
         exited_on=D("2001-07-01"), completed=True),
    dict(enrollment_id="A3", program_type="skills", enrolled_on=D("2001-02-01"),
         exited_on=D("2001-08-01"), completed=True),
    # P1 again, while holding A1's second job (from 2001-08-01, open): a repeat begun in work
    dict(enrollment_id="A4", person_id="P1", program_type="skills", enrolled_on=D("2001-09-01"),
         exited_on=D("2001-09-15"), completed=True),
    # P5: a job 2000-03-01 to 04-01 after the first enrollment, then a repeat out of work
    dict(enrollment_id="A5", person_id="P5", program_type="skills", enrolled_on=D("2000-01-01"),
         exited_on=D("2000-02-01"), completed=True),
    dict(enrollment_id="A6", person_id="P5", program_type="skills", enrolled_on=D("2001-01-15"),
         exited_on=D("2001-02-15"), completed=True),
    # May 2002: R1 dropped out early and is followed 180 days (11-06), R2 is not (exit 11-01), so
    # the month is not fully observed and R1 is left out of the exit-based rates.
    dict(enrollment_id="R1", program_type="skills", enrolled_on=D("2002-05-01"),
         exited_on=D("2002-05-10"), completed=False),
    dict(enrollment_id="R2", program_type="skills", enrolled_on=D("2002-05-02"),
         exited_on=D("2002-11-01"), completed=True),
    # no exit recorded two and a half years on: a missing record, which holds nothing back
    dict(enrollment_id="U1", program_type="skills", enrolled_on=D("2000-06-01"),
         exited_on=None, completed=None),
    # June 2002: everyone in the month (M1) is followed 180 days (12-02), so it counts, whatever
    # May does: each month is judged on its own
    dict(enrollment_id="M1", program_type="mindset", enrolled_on=D("2002-06-01"),
         exited_on=D("2002-06-05"), completed=True),
]
PLACEMENTS = [
    dict(placement_id="JA", enrollment_id="A1", started_on=D("2001-04-01"),
         ended_on=D("2001-05-15"), monthly_wage=500.0),
    dict(placement_id="JA2", enrollment_id="A1", started_on=D("2001-08-01"), monthly_wage=520.0),
    dict(placement_id="JB", enrollment_id="A2", started_on=D("2001-06-15"),
         ended_on=D("2001-08-01"), monthly_wage=600.0),
    dict(placement_id="JE", enrollment_id="A5", started_on=D("2000-03-01"),
         ended_on=D("2000-04-01"), monthly_wage=400.0),
    dict(placement_id="JR", enrollment_id="R1", started_on=D("2002-06-01"), monthly_wage=450.0),
]


@pytest.fixture
def clocks(shared_extracts):
    return shared_extracts.get("clocks", ENROLLMENTS, PLACEMENTS).opened


def _headline(clocks):
    con, extract = clocks
    df = run_query(con, "headline_by_program", query_params(extract, Filters()))
    return {row["program_type"]: row for row in df.to_dict("records")}


def test_exit_based_rates_count_only_fully_observed_enrollment_months(clocks):
    skills = _headline(clocks)["skills"]
    # Followed 180 days after exit in months before May 2002: A1-A6. R1 is followed but its month
    # is not fully observed; R2 is not followed; U1 has no exit.
    assert skills["placement_rate_180d_n"] == 6
    # Placed within 180 days of exit: A1 (04-01), A2 (during the course), A5 (03-01).
    assert skills["placed_180d_count"] == 3
    assert skills["followed_180d_not_counted_count"] == 1
    assert str(skills["observed_before_180d"])[:10] == "2002-05-01"
    mindset = _headline(clocks)["mindset"]
    assert mindset["placement_rate_180d_n"] == 1
    assert mindset["followed_180d_not_counted_count"] == 0


def test_placement_from_enrollment_counts_every_enrollment_followed_180_days(clocks):
    skills = _headline(clocks)["skills"]
    # enrolled_on + 180 <= as_of for all nine; placed by enrolled_on + 180: A1 (04-01 <= 06-30),
    # A2 (06-15 <= 06-30), A5 (03-01 <= 06-29), R1 (06-01 <= 10-28).
    assert skills["placement_rate_180d_from_enrollment_n"] == 9
    assert skills["placed_180d_from_enrollment_count"] == 4


def test_employment_in_the_2nd_and_4th_quarter_after_exit_counts_any_job_held(clocks):
    skills = _headline(clocks)["skills"]
    # Followed 182 (and 365) days after exit, in observed months: A1-A6.
    assert skills["employment_rate_q2_after_exit_n"] == 6
    assert skills["employment_rate_q4_after_exit_n"] == 6
    # Only A1 holds a job on a day of days 91-182 (its second job, JA2, from 08-01) and of days
    # 274-365 (JA2 is open). A2's and A5's jobs ended before day 91.
    assert skills["employed_q2_after_exit_count"] == 1
    assert skills["employed_q4_after_exit_count"] == 1


def test_repeat_enrollments_and_missing_exits_are_counted(clocks):
    skills = _headline(clocks)["skills"]
    assert skills["repeat_enrollment_count"] == 2          # A4 and A6
    assert skills["enrolled_while_employed_count"] == 1    # A4, while A1's second job was held
    assert skills["not_exited_count"] == 1                 # U1
    assert skills["exit_unrecorded_count"] == 1            # U1, a year after enrolling


def test_summary_prints_the_other_clocks_and_what_is_left_aside(clocks, capsys):
    _, extract = clocks
    assert cli.main(["summary", "--data", str(extract.path), "--min-cell", "1"]) == 0
    doc = json.loads(capsys.readouterr().out)
    skills = doc["programs"]["skills"]
    assert skills["placement_rate_180d"] == pytest.approx(3 / 6)
    assert skills["placement_rate_180d_from_enrollment"] == pytest.approx(4 / 9)
    assert skills["employment_rate_q2_after_exit"] == pytest.approx(1 / 6)
    assert skills["employment_rate_q4_after_exit"] == pytest.approx(1 / 6)
    assert skills["employment_rate_q2_after_exit_n"] == 6
    assert skills["enrollment_counts"] == {
        "kept_in_every_figure": {"repeat_enrollments": 2, "begun_while_holding_an_earlier_job": 1},
        "left_out_of_exit_based_rates": {
            "no_exit_by_as_of": 1,
            "of_which_no_exit_recorded_a_year_after_enrolling": 1,
            "followed_180d_but_enrollment_month_not_fully_observed": 1,
        },
    }
    # The first month with someone not yet followed: for 180 and 182 days May 2002 (R2 left
    # 11-01); for 365 days May 2002 too (R1 left 05-10; A4, the last of 2001, left 2001-09-15).
    assert doc["exit_rates_count_enrollment_months_before"] == {
        "placement_rate_180d": "2002-05-01",
        "employment_rate_q2_after_exit": "2002-05-01",
        "employment_rate_q4_after_exit": "2002-05-01",
    }


def _card_text(value, kind):
    if value is None:
        return "suppressed" if kind != "days" else "not reached"
    return {"rate": f"{value * 100:.1f}%", "days": f"{value:,.0f} days",
            "money": f"{value:,.0f} yuan"}[kind]


def test_every_overview_card_equals_summary(clocks, monkeypatch, capsys):
    from conftest import run_app

    _, extract = clocks
    at = run_app(extract.path, monkeypatch)
    assert not at.exception
    assert cli.main(["summary", "--data", str(extract.path), "--min-cell", "1"]) == 0
    doc = json.loads(capsys.readouterr().out)
    kinds = {"placement_rate_180d": "rate", "placement_rate_180d_from_enrollment": "rate",
             "employment_rate_q2_after_exit": "rate", "employment_rate_q4_after_exit": "rate",
             "median_days_to_placement": "days", "retention_12m": "rate",
             "median_monthly_wage": "money", "completion_rate": "rate"}
    expected = []
    for metric, kind in kinds.items():
        for program, values in doc["programs"].items():
            if program == "none" and metric == "completion_rate":
                continue
            expected.append(_card_text(values[metric], kind))
    assert [m.value for m in at.metric] == expected
    # The comparison table's raw row from exit says what summary says: skills 3 of 6, mindset
    # 0 of 1 (M1 has no job).
    table = at.dataframe[0].value
    raw = doc["skills_minus_mindset_placement_180d"]["raw"]
    assert raw["difference"] == pytest.approx(0.5)
    low, high = raw["difference_ci"]
    assert table.iloc[0]["Skills minus mindset (95% CI)"] == \
        f"+50.0 pp (95% CI {low * 100:+.1f} to {high * 100:+.1f} pp)"


def test_about_counts_what_the_unit_leaves_aside_and_hides_counts_of_a_few(clocks, monkeypatch):
    from conftest import run_app

    from reemploy import figures, tables

    con, extract = clocks
    headline = figures.headline.headline_by_program(con, extract, Filters(), min_cell=1)
    table = tables.unit_counts_table(headline, min_cell=1).set_index("Enrollments")
    assert list(table["Skills training"]) == ["9", "2", "1", "1", "1", "1"]
    assert list(tables.unit_counts_table(headline, min_cell=2)["Skills training"]) == \
        ["9", "2", "fewer than 2", "fewer than 2", "fewer than 2", "fewer than 2"]
    at = run_app(extract.path, monkeypatch, "pages/about.py")
    assert not at.exception
    shown = at.dataframe[0].value
    assert list(shown["Skills training"]) == ["9", "2", "1", "1", "1", "1"]
    assert any("(the first that is not: 2002-05)" in c.value for c in at.caption)


def test_a_missing_exit_record_does_not_keep_a_cohort_open_but_a_recent_month_does(clocks):
    from reemploy import figures

    con, extract = clocks
    cohorts = figures.trends.placement_rate_by_cohort(con, extract, Filters(), min_cell=1)
    skills = cohorts[cohorts["program_type"] == "skills"].set_index("cohort_start")
    # 2000 Q2 holds only U1, whose exit was never recorded: nothing left to observe.
    assert bool(skills.loc["2000-04-01", "is_complete"])
    assert skills.loc["2000-04-01", "placement_rate_180d_n"] == 0
    # 2001 Q1: A1, A2, A3, A6 all followed 180 days after exit.
    assert bool(skills.loc["2001-01-01", "is_complete"])
    assert skills.loc["2001-01-01", "placement_rate_180d_n"] == 4
    # 2002 Q2: R1 left early and is followed, R2 is not: not fully observed, and R1 not counted.
    assert not bool(skills.loc["2002-04-01", "is_complete"])
    assert skills.loc["2002-04-01", "placement_rate_180d_n"] == 0
