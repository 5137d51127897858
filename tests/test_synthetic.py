"""Tests for the synthetic extract generator (reemploy/synthetic.py)."""

from __future__ import annotations

import datetime
import json
import re

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from reemploy import synthetic
from reemploy.contract import (
    EDUCATION_LEVELS,
    EMPLOYER_TYPES,
    ENROLLMENT_COLUMNS,
    GENDERS,
    PLACEMENT_COLUMNS,
    PROGRAM_TYPES,
)
from reemploy.synthetic import DEFAULT_AS_OF, DISTRICTS, PRIOR_SECTORS, generate_extract

AS_OF = DEFAULT_AS_OF.isoformat()
ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "INTEGER": pa.int32(),
    "DATE": pa.date32(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
}
FILES = ("manifest.json", "enrollments.parquet", "placements.parquet", "districts.geojson")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return generate_extract(tmp_path_factory.mktemp("small"), 5_000, seed=7)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """A 50,000-enrollment extract for contract and calibration checks."""
    return generate_extract(tmp_path_factory.mktemp("sample"), 50_000, seed=1)


@pytest.fixture(scope="module")
def con(sample):
    c = duckdb.connect()
    c.read_parquet(str(sample / "enrollments.parquet")).create_view("e")
    c.read_parquet(str(sample / "placements.parquet")).create_view("p")
    # first placement per enrollment, joined to its enrollment
    c.execute(
        """
        create view ef as
        select e.*, f.started_on as first_start, f.employer_type, f.monthly_wage
        from e left join (
            select * from p
            qualify row_number() over (partition by enrollment_id order by started_on, placement_id) = 1
        ) f using (enrollment_id)
        """
    )
    return c


def reemployed(con, horizon: int) -> dict[str, float]:
    """Share of enrollments (observable for ``horizon`` days) with a first job within ``horizon``."""
    rows = con.execute(
        f"""
        select program_type,
               avg(case when first_start <= enrolled_on + {horizon} then 1.0 else 0.0 end)
        from ef where enrolled_on + {horizon} <= date '{AS_OF}'
        group by 1
        """
    ).fetchall()
    return dict(rows)


def read(out, name):
    return pq.read_table(out / name)


# --- files, determinism --------------------------------------------------------------------


def test_writes_the_four_files_and_a_manifest_and_no_temporary_files(small):
    assert sorted(p.name for p in small.iterdir()) == sorted(FILES)
    manifest = json.loads((small / "manifest.json").read_text())
    assert manifest == {
        "as_of": "2002-12-31",
        "generator": {"enrollments": 5_000, "seed": 7},
        "created_by": "reemploy generate",
    }


def test_returns_the_output_directory_as_a_path_and_creates_it(tmp_path):
    out = generate_extract(str(tmp_path / "a" / "b"), 100)
    assert out == tmp_path / "a" / "b"
    assert (out / "manifest.json").exists()
    assert read(out, "enrollments.parquet").num_rows == 100


def test_same_seed_gives_identical_rows(small, tmp_path):
    again = generate_extract(tmp_path, 5_000, seed=7)
    for name in ("enrollments.parquet", "placements.parquet"):
        assert read(again, name).equals(read(small, name))
        assert (again / name).read_bytes() == (small / name).read_bytes()
    assert (again / "districts.geojson").read_bytes() == (small / "districts.geojson").read_bytes()


def test_different_seed_gives_different_rows(small, tmp_path):
    other = generate_extract(tmp_path, 5_000, seed=8)
    assert not read(other, "enrollments.parquet").equals(read(small, "enrollments.parquet"))
    assert not read(other, "placements.parquet").equals(read(small, "placements.parquet"))


def test_chunked_generation_is_deterministic_and_keeps_ids_continuous(tmp_path, monkeypatch):
    monkeypatch.setattr(synthetic, "CHUNK_SIZE", 1_000)
    a = generate_extract(tmp_path / "a", 4_500, seed=3, progress=True)
    b = generate_extract(tmp_path / "b", 4_500, seed=3)
    e = read(a, "enrollments.parquet")
    assert e.equals(read(b, "enrollments.parquet"))
    assert read(a, "placements.parquet").equals(read(b, "placements.parquet"))
    assert e["enrollment_id"].to_pylist() == [f"E{i:08d}" for i in range(1, 4_501)]
    meta = pq.ParquetFile(a / "enrollments.parquet").metadata
    assert meta.num_row_groups == 5
    # sorted by enrolled_on: row groups do not overlap, so DuckDB can prune on dates
    col = meta.schema.names.index("enrolled_on")
    stats = [meta.row_group(i).column(col).statistics for i in range(meta.num_row_groups)]
    assert all(stats[i].max <= stats[i + 1].min for i in range(len(stats) - 1))
    assert meta.row_group(0).column(0).compression == "ZSTD"
    sizes = [m.num_rows for m in map(pq.ParquetFile(a / "placements.parquet").metadata.row_group, range(pq.ParquetFile(a / "placements.parquet").metadata.num_row_groups))]
    assert sizes[:-1] == [1_000] * (len(sizes) - 1) and 0 < sizes[-1] <= 1_000
    p = read(a, "placements.parquet")
    assert pc.all(pc.is_in(p["enrollment_id"], e["enrollment_id"])).as_py()
    assert len(set(p["placement_id"].to_pylist())) == p.num_rows


def test_zero_enrollments_writes_empty_tables(tmp_path):
    out = generate_extract(tmp_path, 0)
    assert read(out, "enrollments.parquet").num_rows == 0
    assert read(out, "placements.parquet").num_rows == 0


def test_other_as_of_dates_bound_every_date(tmp_path):
    as_of = datetime.date(2000, 6, 30)
    out = generate_extract(tmp_path, 3_000, seed=2, as_of=as_of)
    assert json.loads((out / "manifest.json").read_text())["as_of"] == "2000-06-30"
    e, p = read(out, "enrollments.parquet"), read(out, "placements.parquet")
    for table, column in [(e, "enrolled_on"), (e, "exited_on"), (p, "started_on"), (p, "ended_on")]:
        assert pc.max(table[column]).as_py() <= as_of
    assert pc.min(e["enrolled_on"]).as_py() >= datetime.date(1998, 1, 1)


# --- the column contract ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, columns",
    [("enrollments.parquet", ENROLLMENT_COLUMNS), ("placements.parquet", PLACEMENT_COLUMNS)],
)
def test_schema_matches_the_contract_exactly(sample, name, columns):
    schema = pq.read_schema(sample / name)
    assert schema.names == list(columns)
    for column, (duck_type, nullable) in columns.items():
        field = schema.field(column)
        assert field.type == ARROW_TYPES[duck_type], column
        assert field.nullable == nullable, column
    table = read(sample, name)
    for column, (_, nullable) in columns.items():
        if not nullable:
            assert table[column].null_count == 0, column


def test_duckdb_reads_the_contract_types(sample):
    for table, columns in (("enrollments", ENROLLMENT_COLUMNS), ("placements", PLACEMENT_COLUMNS)):
        relation = duckdb.read_parquet(str(sample / f"{table}.parquet"))
        described = dict(zip(relation.columns, (str(t) for t in relation.types)))
        assert described == {c: t for c, (t, _) in columns.items()}


def test_codes_are_within_their_domains(con):
    def values(sql):
        return {r[0] for r in con.execute(sql).fetchall()}

    assert values("select distinct program_type from e") == set(PROGRAM_TYPES)
    assert values("select distinct employer_type from p") == set(EMPLOYER_TYPES)
    assert values("select distinct education from e where education is not null") == set(EDUCATION_LEVELS)
    assert values("select distinct gender from e where gender is not null") == set(GENDERS)
    assert values("select distinct district from e") == set(DISTRICTS)
    assert values("select distinct prior_sector from e") == set(PRIOR_SECTORS)
    assert len(DISTRICTS) >= 10 and len(PRIOR_SECTORS) >= 8
    # a few missing values where the contract allows them, but not many
    shares = con.execute(
        """select avg((gender is null)::int), avg((education is null)::int), avg((birth_year is null)::int),
                  avg((laid_off_on is null)::int), avg((prior_monthly_wage is null)::int) from e"""
    ).fetchone()
    assert all(0.002 < s < 0.06 for s in shares)


def test_ids_are_unique_and_well_formed(con):
    assert con.execute("select count(*) = count(distinct enrollment_id) from e").fetchone()[0]
    assert con.execute("select count(*) = count(distinct placement_id) from p").fetchone()[0]
    bad = con.execute(
        r"""select count(*) filter (where not regexp_full_match(enrollment_id, 'E\d{8}')),
                  count(*) filter (where not regexp_full_match(person_id, 'P\d{8}')) from e"""
    ).fetchone()
    assert bad == (0, 0)
    assert con.execute(r"select count(*) from p where not regexp_full_match(placement_id, 'J\d{8}')").fetchone() == (0,)
    # enrollments come sorted by date, ids in that order
    assert con.execute(
        "select bool_and(enrolled_on >= lag_on) from (select enrolled_on, lag(enrolled_on) over (order by enrollment_id) lag_on from e)"
    ).fetchone()[0]


def test_placements_refer_to_enrollments_and_start_between_enrollment_and_as_of(con):
    orphans = con.execute("select count(*) from p anti join e using (enrollment_id)").fetchone()[0]
    assert orphans == 0
    bad = con.execute(
        f"""select count(*) from p join e using (enrollment_id)
            where started_on < enrolled_on or started_on > date '{AS_OF}'
               or ended_on < started_on or ended_on > date '{AS_OF}'"""
    ).fetchone()[0]
    assert bad == 0
    # a second job starts after the first one ended
    overlap = con.execute(
        """select count(*) from (select started_on, lag(ended_on) over w prev_end, lag(placement_id) over w prev_id
                                 from p window w as (partition by enrollment_id order by started_on))
           where prev_id is not null and (prev_end is null or started_on <= prev_end)"""
    ).fetchone()[0]
    assert overlap == 0


def test_training_spells_are_consistent(con):
    bad = con.execute(
        f"""select count(*) from e where exited_on < enrolled_on or exited_on > date '{AS_OF}'
              or laid_off_on >= enrolled_on or enrolled_on - laid_off_on > 1096
              or year(enrolled_on) - birth_year not between 20 and 58
              or enrolled_on < date '1998-01-01' or enrolled_on > date '{AS_OF}'"""
    ).fetchone()[0]
    assert bad == 0
    assert con.execute("select count(*) from e where program_type <> 'none' "
                       "and ((completed is null) <> (exited_on is null))").fetchone() == (0,)
    assert con.execute("select count(*) from e where program_type <> 'none' "
                       "and (provider is null or cost <= 0)").fetchone() == (0,)
    none_rows = con.execute(
        """select count(*), count(*) filter (where exited_on = enrolled_on and completed is null and provider is null
                                             and cost = 0 and program_name = 'No training (registered job seeker)')
           from e where program_type = 'none'"""
    ).fetchone()
    assert none_rows[0] > 0 and none_rows[0] == none_rows[1]
    # some are still in training at as_of; completion ~85 % skills, ~92 % mindset
    assert con.execute("select count(*) from e where exited_on is null").fetchone()[0] > 0
    completion = dict(con.execute("select program_type, avg(completed::int) from e where completed is not null group by 1").fetchall())
    assert 0.80 < completion["skills"] < 0.90
    assert 0.88 < completion["mindset"] < 0.96


def test_programme_catalogue_durations_and_costs(con):
    rows = con.execute(
        """select program_type, count(distinct program_name), min(cost), max(cost),
                  median(exited_on - enrolled_on) filter (where completed)
           from e group by 1"""
    ).fetchall()
    by_type = {r[0]: r[1:] for r in rows}
    assert by_type["skills"][0] >= 12 and by_type["mindset"][0] >= 5 and by_type["combined"][0] >= 2
    assert 250 <= by_type["skills"][1] and by_type["skills"][2] <= 1700
    assert 40 <= by_type["mindset"][1] and by_type["mindset"][2] <= 350
    assert 30 <= by_type["skills"][3] <= 180 and 3 <= by_type["mindset"][3] <= 14
    mix = dict(con.execute("select program_type, count(*) / (select count(*) from e) from e group by 1").fetchall())
    assert 0.33 < mix["skills"] < 0.47 and 0.24 < mix["mindset"] < 0.36
    assert 0.06 < mix["combined"] < 0.14 and 0.14 < mix["none"] < 0.26


def test_different_people_choose_different_programmes(con):
    profile = dict(
        (r[0], r[1:])
        for r in con.execute(
            """select program_type, avg(year(enrolled_on) - birth_year),
                      avg((education in ('senior_secondary', 'vocational', 'tertiary'))::int)
               from e group by 1"""
        ).fetchall()
    )
    assert profile["mindset"][0] > profile["skills"][0] + 1.5  # older
    assert profile["mindset"][1] < profile["skills"][1] - 0.1  # less educated
    skills_share = [r[0] for r in con.execute("select avg((program_type = 'skills')::int) from e group by district").fetchall()]
    assert max(skills_share) - min(skills_share) > 0.1


# --- calibration (DOMAIN.md, "Assumption for the sample"), raw differences on 50,000 rows ----


def test_no_training_group_reemployment_at_12_months_is_25_to_45_percent_and_falls(con):
    assert 0.25 <= reemployed(con, 365)["none"] <= 0.45
    by_year = con.execute(
        f"""select year(enrolled_on), avg(case when first_start <= enrolled_on + 365 then 1.0 else 0.0 end)
            from ef where program_type = 'none' and enrolled_on + 365 <= date '{AS_OF}' group by 1 order by 1"""
    ).fetchall()
    assert by_year[0][1] > by_year[-1][1] + 0.04


def test_skills_training_is_locked_in_at_90_days_and_ahead_at_24_months(con):
    at90, at730 = reemployed(con, 90), reemployed(con, 730)
    assert at90["skills"] <= at90["none"] + 0.01
    assert at730["skills"] >= at730["none"] + 0.03


def test_mindset_training_works_early_and_fades(con):
    at180, at730 = reemployed(con, 180), reemployed(con, 730)
    assert at180["mindset"] > at180["none"] + 0.02
    assert at730["mindset"] - at730["none"] < at180["mindset"] - at180["none"]


def test_self_employment_is_more_common_after_mindset_training(con):
    share = dict(
        con.execute(
            "select program_type, avg((employer_type = 'self_employed')::int) from ef where first_start is not null group by 1"
        ).fetchall()
    )
    assert share["mindset"] > share["skills"]
    assert 0.28 <= share["mindset"] <= 0.50 and 0.13 <= share["skills"] <= 0.30
    mix = dict(con.execute("select employer_type, count(*) / (select count(*) from p) from p group by 1").fetchall())
    assert mix["private"] > mix["state_owned"] and mix["self_employed"] > mix["foreign_funded"]


def test_wage_replacement_median_is_plausible_and_higher_after_skills_training(con):
    overall = con.execute("select median(monthly_wage / prior_monthly_wage) from ef").fetchone()[0]
    assert 0.70 <= overall <= 0.95
    by_type = dict(con.execute("select program_type, median(monthly_wage / prior_monthly_wage) from ef group by 1").fetchall())
    assert by_type["skills"] > by_type["mindset"]
    prior = con.execute("select median(prior_monthly_wage) from e").fetchone()[0]
    assert 450 <= prior <= 750


def test_skills_jobs_are_retained_longer(con):
    retention = dict(
        con.execute(
            f"""with first as (
                    select * from p
                    qualify row_number() over (partition by enrollment_id order by started_on) = 1)
                select program_type,
                       avg(case when ended_on is null or ended_on >= started_on + 365 then 1.0 else 0.0 end)
                from first join e using (enrollment_id)
                where started_on + 365 <= date '{AS_OF}' group by 1"""
        ).fetchall()
    )
    assert retention["skills"] > retention["none"] + 0.05


def test_some_people_are_still_searching_repeat_enroll_or_hold_several_jobs(con):
    unplaced = con.execute("select avg((first_start is null)::int) from ef").fetchone()[0]
    assert 0.2 < unplaced < 0.8
    repeat = con.execute("select 1 - count(distinct person_id) / count(*) from e").fetchone()[0]
    assert 0.05 < repeat < 0.15
    # a repeat enrollment keeps the person's attributes
    assert con.execute(
        """select count(*) from (select person_id from e group by 1
           having count(distinct (gender, birth_year, education, prior_sector, district, laid_off_on)) > 1)"""
    ).fetchone() == (0,)
    several = con.execute(
        "select avg((k > 1)::int) from (select enrollment_id, count(*) k from p group by 1)"
    ).fetchone()[0]
    assert 0.15 < several < 0.45


# --- districts.geojson -----------------------------------------------------------------------


def _segments_cross(a, b, c, d):
    def orient(p, q, r):
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    return orient(a, b, c) * orient(a, b, d) < 0 and orient(c, d, a) * orient(c, d, b) < 0


def test_districts_geojson_has_one_valid_counter_clockwise_polygon_per_district(small):
    geo = json.loads((small / "districts.geojson").read_text())
    assert geo["type"] == "FeatureCollection"
    assert [f["properties"]["district"] for f in geo["features"]] == list(DISTRICTS)
    for feature in geo["features"]:
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Polygon"
        ring = feature["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1] and len(ring) >= 4
        assert all(122.5 < x < 124.5 and 41.0 < y < 42.5 for x, y in ring)
        area2 = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:]))
        assert area2 > 0  # counter-clockwise exterior ring (RFC 7946)
        edges = list(zip(ring, ring[1:]))
        for i in range(len(edges)):
            for j in range(i + 2, len(edges)):
                if i == 0 and j == len(edges) - 1:
                    continue
                assert not _segments_cross(*edges[i], *edges[j])


def test_ids_are_padded_to_fit_large_extracts():
    assert re.fullmatch(r"E\d{8}", synthetic._ids("E", np.array([1]), 8).to_pylist()[0])
    wide = synthetic._ids("P", np.array([123456789]), 9).to_pylist()
    assert wide == ["P123456789"]
