"""Each queries/*.sql on the tiny hand-made extract (tests/conftest.py), asserting exact rows."""

from __future__ import annotations

import pandas as pd
import pytest

from reemploy import cache, figures
from reemploy.db import connect, derived_dir, load_sql, query_names, query_params, run_query, sql_parameters
from reemploy.extracts import open_extract
from reemploy.filters import Filters

from conftest import D, write_extract


def time_to_placement(con, extract, origin, by_district=False, filters=Filters()):
    """queries/time_to_placement.sql for one clock, as the figures ask it."""
    return run_query(con, "time_to_placement", {**query_params(extract, filters), "origin": origin,
                                                "by_district": by_district})


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


@pytest.mark.parametrize(
    "filters, expected",
    [
        # The fixture holds 5 skills, 4 mindset and 1 untrained enrollments; the same filters
        # select the same people as the headline counts above.
        (Filters(), {"skills": 5, "mindset": 4, "none": 1}),
        (Filters(districts=("北山",)), {"skills": 2, "mindset": 1}),  # S1, S2 and M1
        (Filters(sectors=("coal",)), {"skills": 2}),
        (Filters(districts=("Nowhere",)), {}),
    ],
)
def test_enrollment_count_by_program_counts_what_the_filters_select(tiny, filters, expected):
    con, extract = tiny
    df = run_query(con, "enrollment_count_by_program", query_params(extract, filters))
    assert dict(zip(df["program_type"], df["enrolled_count"])) == expected


def test_time_to_placement_counts_events_and_censoring_at_as_of(tiny):
    con, extract = tiny
    df = time_to_placement(con, extract, "enrollment")
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


def test_the_extract_catalogue_is_counted_once_per_version_and_read_back_the_same(tiny, monkeypatch):
    con, extract = tiny
    first = figures.catalogue.extract_catalogue(con, extract)
    assert first["profile"]["person_count"] == 10
    assert first["catalogue"]["districts"] == ("Hexi", "北山")

    def no_query(*args, **kwargs):
        raise AssertionError("asked DuckDB again")

    # Another process (or a restart): nothing in memory, the files of this version are read.
    cache.clear()
    monkeypatch.setattr(figures.catalogue, "run_query", no_query)
    again = figures.catalogue.extract_catalogue(con, extract)
    assert again == first
    assert again["profile"]["first_enrolled_on"].date() == D("2000-06-01")


def test_a_damaged_catalogue_file_is_counted_again(writable_tiny_extract):
    extract = open_extract(writable_tiny_extract)
    con = connect(extract)
    first = figures.catalogue.extract_catalogue(con, extract)
    stored = sorted((derived_dir(extract) / cache.ANSWERS_FOLDER).rglob("*.parquet"))
    assert [p.name.split("-")[0] for p in stored] == ["extract_profile", "filter_values"]
    for path in stored:
        path.write_bytes(b"not parquet")
    cache.clear()
    assert figures.catalogue.extract_catalogue(con, extract) == first


@pytest.mark.last
def test_every_query_file_has_a_test(request):
    # Every queries/*.sql file was run in this session by a passing test of this file, through
    # run_query called from this file (not only inside a metric or a page), and gave rows back
    # (tests/query_coverage.py watches db.execute). Judged once every test here has run.
    coverage = request.config.pluginmanager.get_plugin("query-coverage")
    not_run = coverage.functions_not_run(request.module, but=request.node.originalname)
    if not_run:
        pytest.skip(f"{len(not_run)} test(s) of this file did not run (e.g. {not_run[0]}): "
                    "run the whole of tests/test_queries.py to check every query has a test")
    tested = coverage.tested_queries(__file__)
    untested = [name for name in query_names() if not tested.get(name)]
    assert untested == [], "no passing test of tests/test_queries.py runs these and checks rows"


def test_queries_bind_only_known_parameters():
    known = {"as_of", "horizons_days", "by", "origin", "by_district"} | set(Filters().to_params())
    for name in query_names():
        assert sql_parameters(load_sql(name)) <= known, name


def test_run_query_refuses_a_name_that_is_not_a_query_file(tiny):
    con, _ = tiny
    with pytest.raises(KeyError):
        run_query(con, "../dashboard", {})


# --------------------------------------------------------------------------- Compare programmes


def _counts(df, *keys):
    return {tuple(r[k] for k in keys): r for r in df.to_dict("records")}


def test_time_to_placement_after_exit_counts_from_exit_and_leaves_out_people_in_training(tiny):
    con, extract = tiny
    df = time_to_placement(con, extract, "exit")
    got = {(r["program_type"], r["days"]): (r["events"], r["censored"]) for r in df.to_dict("records")}
    # skills: S5 exit 07-01 -> job 08-01 (31), S1 04-01 -> 05-01 (30), S4 03-01 -> 12-01 (275);
    # S2 left 2001-04-01, censored 639 days later at as_of; S3 has not left: not in the curve.
    assert {k: v for k, v in got.items() if k[0] == "skills"} == {
        ("skills", 30): (1, 0), ("skills", 31): (1, 0), ("skills", 275): (1, 0),
        ("skills", 639): (0, 1),
    }
    # mindset: M1, M2 left 01-20, jobs 02-01 (12); M3 censored 143 (08-10 -> 12-31), M4 345.
    assert {k: v for k, v in got.items() if k[0] == "mindset"} == {
        ("mindset", 12): (2, 0), ("mindset", 143): (0, 1), ("mindset", 345): (0, 1),
    }
    assert got[("none", 30)] == (1, 0)


def test_time_to_placement_after_exit_counts_a_job_found_during_the_course_at_day_0(tmp_path):
    path = write_extract(
        tmp_path / "during",
        [dict(enrollment_id="E1", program_type="skills", enrolled_on=D("2001-01-01"),
              exited_on=D("2001-06-01"), completed=False)],
        [dict(placement_id="J1", enrollment_id="E1", started_on=D("2001-03-01"))],
    )
    extract = open_extract(path)
    con = connect(extract)
    after_exit = time_to_placement(con, extract, "exit")
    since_enrollment = time_to_placement(con, extract, "enrollment")
    # Placed 59 days after enrolling, while still in the course: day 0 counted from exit.
    assert after_exit[["days", "events", "censored"]].values.tolist() == [[0, 1, 0]]
    assert since_enrollment[["days", "events", "censored"]].values.tolist() == [[59, 1, 0]]


def test_placement_rate_by_program_and_horizon_follows_each_horizon_after_exit(tiny):
    con, extract = tiny
    params = query_params(extract, Filters(), horizons_days=[90, 180, 365])
    got = _counts(run_query(con, "placement_rate_by_program_and_horizon", params),
                  "program_type", "horizon_days")
    pairs = {k: (r["placement_rate_n"], r["placed_count"]) for k, r in got.items()}
    # skills: S1, S2, S4, S5 left long enough ago for all three horizons (S3 has not left).
    # Jobs 30 (S1) and 31 (S5) days after exit count from 90 days on; S4's at 275 only at 365.
    assert pairs[("skills", 90)] == (4, 2)
    assert pairs[("skills", 180)] == (4, 2)
    assert pairs[("skills", 365)] == (4, 3)
    # mindset: M3 (left 2002-08-10) is followed 90 days but not 180; M1, M2, M4 (left
    # 2002-01-20) not 365. Jobs of M1, M2 12 days after exit.
    assert pairs[("mindset", 90)] == (4, 2)
    assert pairs[("mindset", 180)] == (3, 2)
    assert pairs[("mindset", 365)] == (0, 0)
    assert pairs[("none", 365)] == (1, 1)


def test_placement_rate_by_program_and_horizon_at_180_days_equals_the_headline(tiny):
    con, extract = tiny
    by_horizon = run_query(con, "placement_rate_by_program_and_horizon",
                           query_params(extract, Filters(), horizons_days=[180]))
    headline = run_query(con, "headline_by_program", query_params(extract, Filters()))
    merged = by_horizon.merge(headline, on="program_type")
    assert (merged["placement_rate_n"] == merged["placement_rate_180d_n"]).all()
    assert (merged["placed_count"] == merged["placed_180d_count"]).all()


def test_headline_by_program_gives_interpolated_wage_quantiles(tiny):
    con, extract = tiny
    got = rows_by(run_query(con, "headline_by_program", query_params(extract, Filters())),
                  "program_type")
    skills = got["skills"]
    # First-job wages 600 (S1) and 700 (S4); S5's first job has none. Linear interpolation
    # between two values: p10 = 600 + 0.1 * 100.
    assert skills["monthly_wage_n"] == 2
    assert [skills[f"monthly_wage_p{q}"] for q in (10, 25, 50, 75, 90)] == pytest.approx(
        [610, 625, 650, 675, 690])
    # Replacement 600 / 800 = 0.75 and 700 / 700 = 1.0.
    assert skills["wage_replacement_n"] == 2
    assert [skills[f"wage_replacement_p{q}"] for q in (25, 50, 75)] == pytest.approx(
        [0.8125, 0.875, 0.9375])
    # mindset: 500 and 550; only M1 has a prior wage (700).
    assert got["mindset"]["monthly_wage_p50"] == 525
    assert got["mindset"]["wage_replacement_n"] == 1
    assert got["mindset"]["wage_replacement_p50"] == pytest.approx(500 / 700)
    assert got["none"]["wage_replacement_n"] == 0


def test_headline_by_program_gives_retention_at_6_and_12_months(tiny):
    con, extract = tiny
    got = rows_by(run_query(con, "headline_by_program", query_params(extract, Filters())),
                  "program_type")
    # skills first jobs: S1 (open), S4 (lasted 2001-12-01 to 2002-03-01: 90 days), S5 (to
    # 2002-01-01: 518 days); all started >= 365 days before as_of.
    assert (got["skills"]["retention_6m_n"], got["skills"]["retained_6m_count"]) == (3, 2)
    assert (got["skills"]["retention_12m_n"], got["skills"]["retained_12m_count"]) == (3, 2)
    # mindset jobs started 2002-02-01: followed 182 days (to 08-02) but not 365.
    assert (got["mindset"]["retention_6m_n"], got["mindset"]["retained_6m_count"]) == (2, 2)
    assert got["mindset"]["retention_12m_n"] == 0


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    from reemploy.synthetic import generate_extract

    extract = open_extract(generate_extract(tmp_path_factory.mktemp("generated"), 4_000))
    return connect(extract), extract


@pytest.mark.parametrize("filters", [
    Filters(),
    Filters(districts=("Anqiao", "Nanpo"), date_from=D("2000-03-05"), date_to=D("2001-07-19")),
    Filters(sectors=("textiles",), programs=("mindset",), age_bands=("40-49",)),
])
def test_headline_by_program_agrees_with_pandas_on_the_outcome_rows(generated, filters):
    # Retention and quantiles in the one pass are those pandas computes from the outcome rows
    # themselves, and the median is the 0.50 quantile.
    con, extract = generated
    params = query_params(extract, filters)
    profile = run_query(con, "headline_by_program", params)
    assert (profile["median_monthly_wage"].fillna(-1) == profile["monthly_wage_p50"].fillna(-1)).all()
    rows = con.execute("select * from filtered_outcomes($filters)", {"filters": params["filters"]}).df()
    assert len(profile) == rows["program_type"].nunique() > 0
    for got in profile.to_dict("records"):
        part = rows[rows["program_type"] == got["program_type"]]
        assert got["retention_6m_n"] == part["is_followed_6m"].sum()
        assert got["retained_6m_count"] == part["is_retained_6m"].sum()
        wages = part["monthly_wage_by_as_of"].dropna()
        replacement = part["wage_replacement_by_as_of"].dropna()
        assert got["monthly_wage_n"] == len(wages)
        for q in (10, 25, 50, 75, 90):
            assert got[f"monthly_wage_p{q}"] == pytest.approx(wages.quantile(q / 100))
        for q in (25, 50, 75):
            assert got[f"wage_replacement_p{q}"] == pytest.approx(replacement.quantile(q / 100))


def test_employer_mix_by_program_counts_first_jobs_by_employer_type(tiny):
    con, extract = tiny
    df = run_query(con, "employer_mix_by_program", query_params(extract, Filters()))
    got = {(r["program_type"], r["employer_type"]): r["placement_count"] for r in df.to_dict("records")}
    # S5's first job after enrollment is J5b (self-employed), not J5a before it.
    assert got == {
        ("skills", "private"): 2, ("skills", "self_employed"): 1,
        ("mindset", "private"): 1, ("mindset", "self_employed"): 1,
        ("none", "state_owned"): 1,
    }


def test_placement_180d_by_program_and_stratum_keeps_missing_gender_and_education_as_unknown(
    simpson_extract,
):
    extract = open_extract(simpson_extract)
    con = connect(extract)
    counts = run_query(con, "placement_180d_by_program_and_stratum", query_params(extract, Filters()))
    labels = run_query(con, "stratum_labels", query_params(extract, Filters()))
    assert labels["stratum"].is_unique and set(counts["stratum"]) <= set(labels["stratum"])
    df = counts.merge(labels, on="stratum")
    assert set(df["age_band"]) == {"40-49"}  # born 1960, enrolled 2001-2002
    got = {(r["program_type"], r["gender"], r["education"]):
           (r["enrolled_count"], r["placement_rate_180d_n"], r["placed_180d_count"])
           for r in df.to_dict("records")}
    # The counts of conftest._simpson_rows; the two with no gender or education have not left.
    assert got == {
        ("skills", "F", "tertiary"): (16, 16, 12),
        ("skills", "F", "primary"): (4, 4, 0),
        ("skills", "unknown", "unknown"): (1, 0, 0),
        ("mindset", "F", "tertiary"): (4, 4, 4),
        ("mindset", "F", "primary"): (16, 16, 4),
        ("mindset", "unknown", "unknown"): (1, 0, 0),
    }


def test_enrollment_outcomes_breaks_a_tie_of_start_dates_by_placement_id(tmp_path):
    from conftest import write_extract

    path = write_extract(
        tmp_path / "tie",
        [dict(enrollment_id="E1", program_type="skills", enrolled_on=D("2001-01-01"),
              exited_on=D("2001-02-01"), completed=True)],
        [dict(placement_id="B", enrollment_id="E1", started_on=D("2001-03-01"), monthly_wage=2.0),
         dict(placement_id="A", enrollment_id="E1", started_on=D("2001-03-01"), monthly_wage=1.0),
         dict(placement_id="0", enrollment_id="E1", started_on=D("2001-04-01"), monthly_wage=0.0)],
    )
    con = connect(open_extract(path))
    assert con.execute("select placement_monthly_wage from enrollment_outcomes").fetchone() == (1.0,)


def test_the_derived_outcomes_file_is_built_once_per_extract_version(writable_tiny_extract):
    from reemploy.db import build_outcomes

    extract = open_extract(writable_tiny_extract)
    first = build_outcomes(extract)
    stamp = first.stat().st_mtime_ns
    assert build_outcomes(extract) == first and first.stat().st_mtime_ns == stamp
    (writable_tiny_extract / "manifest.json").write_text('{"as_of": "2002-12-30"}')
    second = build_outcomes(open_extract(writable_tiny_extract))
    assert second != first and second.is_file()


def test_outcomes_by_district_counts_each_district_and_programme(tiny):
    con, extract = tiny
    df = run_query(con, "outcomes_by_district", query_params(extract, Filters()))
    got = {(r["district"], r["program_type"]): (r["enrolled_count"], r["placement_rate_180d_n"],
                                                r["placed_180d_count"], r["median_monthly_wage_n"],
                                                r["median_monthly_wage"])
           for r in df.to_dict("records")}
    assert got == {
        # S1 placed 2001-05-01, within exit 2001-04-01 + 180; S2 never placed. Wage: S1's 600.
        ("北山", "skills"): (2, 2, 1, 1, 600.0),
        # M1 exited 2002-01-20 (+180 = 2002-07-19 <= as_of), placed 2002-02-01 at 500.
        ("北山", "mindset"): (1, 1, 1, 1, 500.0),
        # S3 not exited; S4 placed 275 days after exit (too late); S5 placed 31 days after exit
        # (J5b, no wage) -> 1 of 2 followed; the only wage is S4's 700.
        ("Hexi", "skills"): (3, 2, 1, 1, 700.0),
        # M3 exited 2002-08-10, not followed 180 days; of M2, M4 only M2 placed (550).
        ("Hexi", "mindset"): (3, 2, 1, 1, 550.0),
        ("Hexi", "none"): (1, 1, 1, 1, 400.0),
    }


def test_time_to_placement_by_district_splits_the_days_by_district(tiny):
    con, extract = tiny
    df = time_to_placement(con, extract, "enrollment", by_district=True)
    got = {(r["district"], r["program_type"], r["days"]): (r["events"], r["censored"])
           for r in df.to_dict("records")}
    # 北山 skills: S1 placed after 120 days, S2 censored at as_of after 729 days.
    # Hexi skills: S5 61 days, S3 censored at 91, S4 303 days (the by-programme test, split).
    # Mindset: M1 (北山) and M2 (Hexi) after 22 days; M3 censored at 152, M4 at 355.
    # N1: enrolled 2001-06-01, placed 2001-07-01 -> 30 days.
    assert got == {
        ("北山", "skills", 120): (1, 0), ("北山", "skills", 729): (0, 1),
        ("Hexi", "skills", 61): (1, 0), ("Hexi", "skills", 91): (0, 1),
        ("Hexi", "skills", 303): (1, 0),
        ("北山", "mindset", 22): (1, 0),
        ("Hexi", "mindset", 22): (1, 0), ("Hexi", "mindset", 152): (0, 1),
        ("Hexi", "mindset", 355): (0, 1),
        ("Hexi", "none", 30): (1, 0),
    }


def test_placement_rate_by_prior_sector_counts_each_sector_and_programme(tiny):
    con, extract = tiny
    df = run_query(con, "placement_rate_by_prior_sector", query_params(extract, Filters()))
    got = {(r["prior_sector"], r["program_type"]): (r["enrolled_count"], r["placement_rate_180d_n"],
                                                    r["placed_180d_count"])
           for r in df.to_dict("records")}
    assert got == {
        ("coal", "skills"): (2, 2, 1),  # S1 placed in time, S2 not
        ("textiles", "skills"): (3, 2, 1),  # S3 not exited; S5 in time, S4 too late
        ("textiles", "mindset"): (4, 3, 2),  # M3 not followed yet; M1, M2 placed, M4 not
        ("textiles", "none"): (1, 1, 1),
    }


def test_placement_rate_by_prior_sector_applies_the_district_filter(tiny):
    con, extract = tiny
    df = run_query(con, "placement_rate_by_prior_sector",
                   query_params(extract, Filters(districts=("北山",))))
    # 北山 holds S1, S2 (coal) and M1 (textiles).
    assert {(r["prior_sector"], r["program_type"]): r["enrolled_count"]
            for r in df.to_dict("records")} == {("coal", "skills"): 2, ("textiles", "mindset"): 1}


def test_placement_flows_by_sector_counts_first_placements_by_path(tiny):
    con, extract = tiny
    df = run_query(con, "placement_flows_by_sector", query_params(extract, Filters()))
    got = {tuple(r[c] for c in ("program_type", "prior_sector", "placement_sector",
                                "placement_employer_type")): r["placement_count"]
           for r in df.to_dict("records")}
    # First jobs after enrollment: S1 J1, S4 J4, S5 J5b (not J5a, before enrollment), M1 J6,
    # M2 J7, N1 J8; every fixture job is in services (the write_extract default).
    assert got == {
        ("skills", "coal", "services", "private"): 1,
        ("skills", "textiles", "services", "private"): 1,
        ("skills", "textiles", "services", "self_employed"): 1,
        ("mindset", "textiles", "services", "private"): 1,
        ("mindset", "textiles", "services", "self_employed"): 1,
        ("none", "textiles", "services", "state_owned"): 1,
    }


def test_placement_rate_by_cohort_follows_365_days_after_exit_too(tiny):
    con, extract = tiny
    df = run_query(con, "placement_rate_by_cohort", query_params(extract, Filters()))
    got = {(r["program_type"], r["cohort_start"].date()): r for r in df.to_dict("records")}
    # skills 2001 Q1 = S1, S2, S4, all left by 2001-04-01, so followed 365 days by 2002-04-01.
    # Within exit + 365: S1 (job 2001-05-01) and S4 (2001-12-01 <= 2002-03-01); within 180 only S1.
    q1 = got[("skills", D("2001-01-01"))]
    assert (q1["placement_rate_180d_n"], q1["placed_180d_count"]) == (3, 1)
    assert (q1["placement_rate_365d_n"], q1["placed_365d_count"]) == (3, 2)
    # mindset 2002 Q1 left on 2002-01-20: followed 180 days (2002-07-19) but not 365 (2003-01-20).
    m1 = got[("mindset", D("2002-01-01"))]
    assert (m1["placement_rate_180d_n"], m1["placement_rate_365d_n"]) == (3, 0)
    # as_of 2002-12-31 is the last day of 2002 Q4: no quarter is still running.
    assert not df["is_open_quarter"].any()


def test_placement_rate_by_cohort_marks_the_quarter_still_running_at_as_of(tmp_path):
    path = write_extract(tmp_path / "open", [
        dict(enrollment_id="E1", program_type="skills", enrolled_on=D("2002-07-01"),
             exited_on=D("2002-08-01"), completed=True),
        dict(enrollment_id="E2", program_type="skills", enrolled_on=D("2002-10-01"),
             exited_on=None, completed=None),
    ], [], as_of=D("2002-11-15"))
    extract = open_extract(path)
    df = run_query(connect(extract), "placement_rate_by_cohort", query_params(extract, Filters()))
    assert dict(zip(df["cohort_start"].dt.date, df["is_open_quarter"])) == {
        D("2002-07-01"): False, D("2002-10-01"): True}


def test_outcomes_by_characteristic_counts_each_enrollment_once_per_characteristic(tiny):
    con, extract = tiny
    df = run_query(con, "outcomes_by_characteristic", query_params(extract, Filters()))
    got = {(r["program_type"], r["characteristic"], r["level"]): r for r in df.to_dict("records")}
    columns = ("enrolled_count", "placement_rate_180d_n", "placed_180d_count", "retention_12m_n",
               "retained_12m_count", "median_monthly_wage_n")

    def counts(*key):
        return tuple(int(got[key][c]) for c in columns)

    # skills by age band (age = enrollment year - birth year): S3 born 1975 -> 27; S1, S2, S4
    # born 1960 -> 41; S5 no birth year.
    # 40-49: placed within 180 days of exit only S1 (S4's job came 9 months after exit);
    # first jobs a year old: S1 (still open, retained) and S4 (ended after 3 months);
    # wages 600 (S1) and 700 (S4).
    assert counts("skills", "age_band", "40-49") == (3, 3, 1, 2, 1, 2)
    assert counts("skills", "age_band", "16-29") == (1, 0, 0, 0, 0, 0)  # S3 still training
    assert counts("skills", "age_band", "unknown") == (1, 1, 1, 1, 1, 0)  # S5, job without wage
    # by gender: S4 is the only man; the women S1, S2, S3, S5.
    assert counts("skills", "gender", "M") == (1, 1, 0, 1, 0, 1)
    assert counts("skills", "gender", "F") == (4, 3, 2, 2, 2, 1)
    # by education everyone is senior_secondary: the levels of each characteristic add up to 5.
    assert counts("skills", "education", "senior_secondary") == (5, 4, 2, 3, 2, 2)
    # mindset: M1, M2, M4 followed 180 days, M1 and M2 placed; no job a year old yet.
    assert counts("mindset", "gender", "F") == (4, 3, 2, 0, 0, 2)
    assert counts("none", "age_band", "40-49") == (1, 1, 1, 1, 1, 1)
    assert len(got) == 3 + 2 + 1 + 3 + 3  # skills 3+2+1 levels, mindset 3, none 3
    # median of 600 and 700 with its order-statistic interval: ranks floor(1 - 0.98 sqrt 2) -> 1
    # and ceil(2 + 0.98 sqrt 2) -> capped at n = 2, i.e. the smallest and the largest wage.
    forty = got[("skills", "age_band", "40-49")]
    assert (forty["median_monthly_wage"], forty["median_monthly_wage_low"],
            forty["median_monthly_wage_high"]) == (650.0, 600.0, 700.0)
    assert got[("mindset", "age_band", "40-49")]["median_monthly_wage"] == 525.0


def test_outcomes_by_characteristic_median_interval_uses_order_statistics(tmp_path):
    # 25 wages 1..25: median 13; ranks floor(12.5 - 0.98 * 5) = 7 and ceil(13.5 + 4.9) = 19.
    enrollments = [dict(enrollment_id=f"E{i}", program_type="skills", enrolled_on=D("2001-01-01"),
                        exited_on=D("2001-02-01"), completed=True) for i in range(1, 26)]
    placements = [dict(placement_id=f"J{i}", enrollment_id=f"E{i}", started_on=D("2001-03-01"),
                       monthly_wage=float(i)) for i in range(1, 26)]
    extract = open_extract(write_extract(tmp_path / "wages", enrollments, placements))
    df = run_query(connect(extract), "outcomes_by_characteristic", query_params(extract, Filters()))
    row = df[df["characteristic"] == "gender"].iloc[0]
    assert (row["median_monthly_wage"], row["median_monthly_wage_low"],
            row["median_monthly_wage_high"]) == (13.0, 7.0, 19.0)


def test_outcomes_by_characteristic_reads_order_statistics_of_repeated_wages(tmp_path):
    # 16 wages, sorted: 100 x3 (ranks 1-3), 150 x3 (4-6), 200 x2 (7-8), 250 x4 (9-12),
    # 300 x4 (13-16); 3 more people have no job and no wage. n = 16, even: the median is the
    # mean of ranks 8 and 9, (200 + 250) / 2 = 225. Interval ranks floor(8 - 0.98 * 4) = 4 -> 150
    # and ceil(1 + 8 + 3.92) = 13 -> 300.
    wages = [100] * 3 + [150] * 3 + [200] * 2 + [250] * 4 + [300] * 4
    enrollments = [dict(enrollment_id=f"E{i}", program_type="skills", enrolled_on=D("2001-01-01"),
                        exited_on=D("2001-02-01"), completed=True) for i in range(1, 20)]
    placements = [dict(placement_id=f"J{i}", enrollment_id=f"E{i}", started_on=D("2001-03-01"),
                       monthly_wage=float(wage)) for i, wage in enumerate(wages, start=1)]
    extract = open_extract(write_extract(tmp_path / "wages", enrollments, placements))
    df = run_query(connect(extract), "outcomes_by_characteristic", query_params(extract, Filters()))
    row = df[df["characteristic"] == "gender"].iloc[0]
    assert (row["enrolled_count"], row["median_monthly_wage_n"]) == (19, 16)
    assert (row["median_monthly_wage"], row["median_monthly_wage_low"],
            row["median_monthly_wage_high"]) == (225.0, 150.0, 300.0)


def test_outcomes_by_characteristic_applies_the_district_filter_with_chinese_name(tiny):
    con, extract = tiny
    df = run_query(con, "outcomes_by_characteristic",
                   query_params(extract, Filters(districts=("北山",))))
    by_gender = df[df["characteristic"] == "gender"]
    # 北山: skills S1, S2 and mindset M1.
    assert dict(zip(by_gender["program_type"], by_gender["enrolled_count"])) == {"skills": 2, "mindset": 1}


def test_query_set_counts_groups_every_enrollment_by_cell_and_the_selected_values_it_matches(tiny):
    # TINY: skills S1, S2 in 北山 (coal), S3-S5 in Hexi (textiles); S3 is still in training;
    # first jobs by as_of: S1 (J1), S4 (J4), S5 (J5b, the first on or after enrolling).
    con, extract = tiny
    params = query_params(extract, Filters(districts=("北山",), sectors=("coal", "textiles")),
                          by="district")
    df = run_query(con, "query_set_counts", params)
    skills = df[df["program_type"] == "skills"]
    got = {(r["cell"], None if pd.isna(r["selected_district"]) else r["selected_district"],
            r["selected_sector"], r["in_period"]):
           (r["enrolled_count"], r["exited_count"], r["followed_180d_count"], r["placed_by_as_of_count"])
           for r in skills.to_dict("records")}
    assert got == {("Hexi", None, "textiles", True): (3, 2, 2, 2),
                   ("北山", "北山", "coal", True): (2, 2, 2, 1)}
    assert df["enrolled_count"].sum() == 10  # not filtered: every enrollment is counted once


# --------------------------------------------------------------------------- grain and keys

def declared(name: str, label: str) -> str:
    """The `-- <label>: ...` line of a query's header (without the label and the full stop)."""
    lines = [line for line in load_sql(name).splitlines() if line.startswith(f"-- {label}:")]
    assert len(lines) == 1, f"{name}: one '-- {label}:' line in the header"
    return lines[0].split(":", 1)[1].strip().rstrip(".")


@pytest.mark.parametrize("name", query_names())
def test_every_query_states_its_grain_and_its_key_holds_on_the_fixture(tiny, name):
    # dbt's habit: the grain beside the model, and a test that its key is unique and present.
    con, extract = tiny
    declared(name, "Grain")
    key = declared(name, "Key")
    extras = {"horizons_days": [90, 180, 365, 30], "by": "district"}
    runs = [{"origin": "enrollment", "by_district": False}, {"origin": "exit", "by_district": True}]
    for extra in runs if name == "time_to_placement" else [{}]:
        df = run_query(con, name, query_params(extract, Filters(), **extras, **extra))
        assert not df.empty, name
        if key.startswith("none"):
            assert len(df) == 1, name
            continue
        columns = [c.strip() for c in key.split(",")]
        assert set(columns) <= set(df.columns), (name, columns)
        assert not df.duplicated(columns).any(), (name, columns)


def test_every_query_is_answered_by_a_function_of_its_name():
    # One name from the question to the chart: queries/<name>.sql, the function that asks it and
    # the download's file stem (reemploy.cache.question_name) are the same name.
    import inspect

    from reemploy import disclosure

    modules = [disclosure, *(getattr(figures, m) for m in ("catalogue", "common", "compare", "districts",
                                                            "headline", "sectors", "trends", "who_benefits"))]
    answered = {name for module in modules for name, _ in inspect.getmembers(module, inspect.isfunction)}
    # The stratum labels are read beside placement_180d_by_program_and_stratum, never on their own.
    assert set(query_names()) - answered == {"stratum_labels"}
    for name in set(query_names()) & answered:
        module = next(m for m in modules if hasattr(m, name))
        assert f'"{name}"' in inspect.getsource(module), (name, "is asked in", module.__name__)
