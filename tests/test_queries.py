"""Each queries/*.sql on the tiny hand-made extract (tests/conftest.py), asserting exact rows."""

from __future__ import annotations

import datetime as dt

import pytest

from reemploy.db import connect, load_sql, query_names, query_params, run_query, sql_parameters
from reemploy.extracts import open_extract
from reemploy.filters import Filters

from conftest import AS_OF, D


@pytest.fixture
def tiny(tiny_extract):
    extract = open_extract(tiny_extract)
    return connect(extract), extract


def rows_by(df, key):
    return {row[key]: row for row in df.to_dict("records")}


def test_enrollment_outcomes_takes_the_first_placement_on_or_after_enrollment(tiny):
    con, _ = tiny
    df = con.execute("select enrollment_id, placed_on, placement_monthly_wage, age_band "
                     "from enrollment_outcomes order by enrollment_id").df()
    got = rows_by(df, "enrollment_id")
    # S5 had a job before it enrolled (J5a): the outcome is J5b, the first one after.
    assert got["S5"]["placed_on"].date() == D("2000-08-01")
    assert got["S2"]["placed_on"] is None or str(got["S2"]["placed_on"]) == "NaT"
    # Age bands: born 1960, enrolled 2001 -> 41; born 1975, enrolled 2002 -> 27; unknown year.
    assert got["S1"]["age_band"] == "40-49"
    assert got["S3"]["age_band"] == "16-29"
    assert got["S5"]["age_band"] == "unknown"


def test_headline_by_program_counts_match_the_hand_worked_fixture(tiny):
    con, extract = tiny
    df = run_query(con, "headline_by_program", query_params(extract, Filters()))
    got = rows_by(df, "program_type")
    skills, mindset, none = got["skills"], got["mindset"], got["none"]
    # skills: S3 still in training; S1, S4, S5 completed of 4 exited.
    assert (skills["enrolled_count"], skills["exited_count"]) == (5, 4)
    assert (skills["completion_rate_n"], skills["completed_count"]) == (4, 3)
    # all 4 exited >= 180 days before as_of; placed within exit + 180: S1 and S5 (S4 too late).
    assert (skills["placement_rate_180d_n"], skills["placed_180d_count"]) == (4, 2)
    # first jobs started >= 365 days before as_of: S1 (open), S4 (ended early), S5 (lasted).
    assert (skills["retention_12m_n"], skills["retained_12m_count"]) == (3, 2)
    # wages of first jobs: 600 (S1), 700 (S4); S5's first job has none.
    assert (skills["median_monthly_wage_n"], skills["median_monthly_wage"]) == (2, 650.0)
    # replacement 600/800 and 700/700: median of 0.75 and 1.0.
    assert (skills["median_wage_replacement_n"], skills["median_wage_replacement"]) == (2, 0.875)
    # cost of the 180-day cohort S1, S2, S4, S5.
    assert skills["cost_observed_180d"] == 3300.0
    # mindset: M3 exited 2002-08-10, not yet followed 180 days.
    assert (mindset["placement_rate_180d_n"], mindset["placed_180d_count"]) == (3, 2)
    assert (mindset["completion_rate_n"], mindset["completed_count"]) == (4, 3)
    assert mindset["retention_12m_n"] == 0
    assert (mindset["median_monthly_wage_n"], mindset["median_monthly_wage"]) == (2, 525.0)
    assert mindset["median_wage_replacement_n"] == 1
    # no training: completion does not apply.
    assert none["completion_rate_n"] == 0
    assert (none["placement_rate_180d_n"], none["placed_180d_count"]) == (1, 1)


def test_headline_by_program_applies_district_filter_with_chinese_name(tiny):
    con, extract = tiny
    df = run_query(con, "headline_by_program", query_params(extract, Filters(districts=("北山",))))
    assert rows_by(df, "program_type").keys() == {"skills", "mindset"}
    assert rows_by(df, "program_type")["skills"]["enrolled_count"] == 2


@pytest.mark.parametrize(
    "filters, expected",
    [
        (Filters(sectors=("coal",)), {"skills": 2}),
        (Filters(programs=("mindset",)), {"mindset": 4}),
        (Filters(date_from=D("2002-01-10"), date_to=D("2002-01-10")), {"mindset": 3}),
        (Filters(genders=("M",)), {"skills": 1}),
        (Filters(age_bands=("unknown",)), {"skills": 1}),
        (Filters(educations=("tertiary",)), {}),
        (Filters(districts=("Nowhere",)), {}),
    ],
)
def test_headline_by_program_applies_each_filter(tiny, filters, expected):
    con, extract = tiny
    df = run_query(con, "headline_by_program", query_params(extract, filters))
    assert dict(zip(df["program_type"], df["enrolled_count"])) == expected


def test_time_to_placement_counts_events_and_censoring_at_as_of(tiny):
    con, extract = tiny
    df = run_query(con, "time_to_placement_by_program", query_params(extract, Filters()))
    got = {(r["program_type"], r["days"]): (r["events"], r["censored"]) for r in df.to_dict("records")}
    # skills: jobs after 61 (S5), 120 (S1), 303 (S4) days; S2 censored at 729, S3 at 91.
    assert {k: v for k, v in got.items() if k[0] == "skills"} == {
        ("skills", 61): (1, 0), ("skills", 91): (0, 1), ("skills", 120): (1, 0),
        ("skills", 303): (1, 0), ("skills", 729): (0, 1),
    }
    # mindset: a tie of two jobs at 22 days; M3 censored at 152, M4 at 355.
    assert {k: v for k, v in got.items() if k[0] == "mindset"} == {
        ("mindset", 22): (2, 0), ("mindset", 152): (0, 1), ("mindset", 355): (0, 1),
    }


def test_placement_rate_by_cohort_marks_quarters_not_yet_followed_for_180_days(tiny):
    con, extract = tiny
    df = run_query(con, "placement_rate_by_cohort", query_params(extract, Filters(programs=("mindset",))))
    got = {r["cohort_start"].date(): r for r in df.to_dict("records")}
    assert set(got) == {D("2002-01-01"), D("2002-07-01")}
    q1 = got[D("2002-01-01")]
    assert (q1["enrolled_count"], q1["placement_rate_180d_n"], q1["placed_180d_count"]) == (3, 3, 2)
    q3 = got[D("2002-07-01")]
    assert (q3["enrolled_count"], q3["placement_rate_180d_n"]) == (1, 0)


def test_filter_values_lists_districts_and_sectors(tiny):
    con, _ = tiny
    df = run_query(con, "filter_values", {})
    got = {(r["filter_name"], r["value"]): r["enrollment_count"] for r in df.to_dict("records")}
    assert got == {("districts", "Hexi"): 7, ("districts", "北山"): 3,
                   ("sectors", "coal"): 2, ("sectors", "textiles"): 8}


def test_extract_profile_counts_rows_and_dates(tiny):
    con, _ = tiny
    row = run_query(con, "extract_profile", {}).iloc[0]
    assert (row["enrollment_count"], row["person_count"], row["placement_count"]) == (10, 10, 8)
    assert row["first_enrolled_on"].date() == D("2000-06-01")
    assert row["last_enrolled_on"].date() == D("2002-10-01")


def test_every_query_file_has_a_test():
    tested = open(__file__, encoding="utf-8").read()
    for other in ("test_metrics.py", "test_summary.py"):
        try:
            tested += open(__file__.replace("test_queries.py", other), encoding="utf-8").read()
        except FileNotFoundError:
            pass
    untested = [name for name in query_names() if f'"{name}"' not in tested]
    assert untested == []


def test_queries_bind_only_known_parameters():
    known = {"as_of"} | set(Filters().to_params())
    for name in query_names():
        assert sql_parameters(load_sql(name)) <= known, name


def test_run_query_refuses_a_name_that_is_not_a_query_file(tiny):
    con, _ = tiny
    with pytest.raises(KeyError):
        run_query(con, "../dashboard", {})
