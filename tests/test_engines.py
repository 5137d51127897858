"""The same questions on another engine over the same Parquet files: Apache DataFusion, the query
engine that Ballista distributes (Ballista itself has no wheel to install here; docs/scaling.md).

Both engines read the enrollment_outcomes Parquet that reemploy.db.build_outcomes materialises,
and the extract's own enrollments and placements files. The one DuckDB-only construct every
question uses, the filtered_outcomes table macro, is expanded into a subquery with the same
conditions; the questions' SQL is otherwise run as it is, with the same values bound.
Needs `pip install -r requirements-scale.txt` (datafusion); skips without.
"""

from __future__ import annotations

import re

import pytest

datafusion = pytest.importorskip("datafusion",
                                 reason="datafusion not installed (pip install -r requirements-scale.txt)")

from reemploy import db  # noqa: E402
from reemploy.extracts import open_extract  # noqa: E402
from reemploy.filters import Filters  # noqa: E402
from tests.conftest import D, TINY_ENROLLMENTS, TINY_PLACEMENTS, write_extract  # noqa: E402

MACRO_CALL = re.compile(
    r"filtered_outcomes\(\s*\$districts,\s*\$sectors,\s*\$programs,\s*\$date_from,\s*\$date_to,"
    r"\s*\$genders,\s*\$age_bands,\s*\$educations\s*\)")
# queries/views/filtered_outcomes.sql with DataFusion's name for list_contains.
FILTERED_OUTCOMES = """(
    select *
    from enrollment_outcomes
    where ($districts is null or array_has($districts, district))
      and ($sectors is null or array_has($sectors, prior_sector))
      and ($programs is null or array_has($programs, program_type))
      and ($date_from is null or enrolled_on >= $date_from)
      and ($date_to is null or enrolled_on <= $date_to)
      and ($genders is null or array_has($genders, gender))
      and ($age_bands is null or array_has($age_bands, age_band))
      and ($educations is null or array_has($educations, education))
)"""
# The questions that need more than the macro expanded on DataFusion 55, and why. The test
# checks they still fail, so this list (and docs/scaling.md) stays true.
NEEDS_DIALECT_CHANGES = {
    "outcomes_by_characteristic":
        "DuckDB list functions: list() aggregate, list_sort, list_median, 1-based list indexing",
    "wage_at_placement_by_program":
        "quantile_cont(x, [fractions]) returning a list; DataFusion's percentile_cont takes one fraction",
}
FILTER_SETS = {
    "all": Filters(),
    "one district": Filters(districts=("北山",)),
    "period and programmes": Filters(programs=("skills", "mindset"), date_from=D("2001-01-01"),
                                     date_to=D("2002-06-30")),
    "nothing matches": Filters(districts=("北山",), programs=("none",)),
}


def portable_sql(name: str) -> str:
    """queries/<name>.sql with the filtered_outcomes macro call expanded."""
    sql = db.load_sql(name)
    assert MACRO_CALL.search(sql) or "filtered_outcomes" not in sql, name
    return MACRO_CALL.sub(FILTERED_OUTCOMES, sql)


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    """A DuckDB connection as the app makes it and a DataFusion context over the same files."""
    extract = open_extract(write_extract(tmp_path_factory.mktemp("engines") / "tiny",
                                         TINY_ENROLLMENTS, TINY_PLACEMENTS))
    duck = db.connect(extract)
    fusion = datafusion.SessionContext()
    fusion.register_parquet("enrollment_outcomes", str(db.build_outcomes(extract)))
    for table, files in extract.files.items():
        fusion.register_parquet(table, files[0])
    yield extract, duck, fusion
    duck.close()


def on_duckdb(engines, name: str, params: dict) -> tuple[list, list]:
    _, duck, _ = engines
    sql = db.load_sql(name)
    cursor = duck.cursor()
    try:
        result = db.execute(cursor, sql, {k: params[k] for k in db.sql_parameters(sql)})
        return [tuple(c[0] for c in result.description)], result.fetchall()
    finally:
        cursor.close()


def on_datafusion(engines, name: str, params: dict) -> tuple[list, list]:
    _, _, fusion = engines
    sql = portable_sql(name)
    table = fusion.sql(sql, param_values={k: params[k] for k in db.sql_parameters(sql)}).to_arrow_table()
    return [tuple(table.column_names)], [tuple(row.values()) for row in table.to_pylist()]


@pytest.mark.parametrize("filters", FILTER_SETS.values(), ids=FILTER_SETS.keys())
@pytest.mark.parametrize("name", db.query_names())
def test_each_question_gives_the_same_rows_on_datafusion_or_says_why_not(engines, name, filters):
    extract = engines[0]
    params = db.query_params(extract, filters, horizons_days=[90, 180, 365, 30])
    if name in NEEDS_DIALECT_CHANGES:
        with pytest.raises(Exception, match="(?i)planning|function"):
            on_datafusion(engines, name, params)
        return
    assert on_datafusion(engines, name, params) == on_duckdb(engines, name, params)


def test_the_representative_questions_have_rows_to_compare(engines):
    # Guard against comparing two empty results: the headline and district questions return
    # the hand-worked figures on both engines.
    extract = engines[0]
    params = db.query_params(extract, Filters())
    header, rows = on_datafusion(engines, "headline_by_program", params)
    by_program = {row[0]: dict(zip(header[0], row)) for row in rows}
    assert by_program["skills"]["enrolled_count"] == 5
    assert by_program["skills"]["placed_180d_count"] == 2
    assert by_program["skills"]["median_monthly_wage"] == 650.0
    header, rows = on_datafusion(engines, "placement_rate_by_district", params)
    assert ("北山", "skills") in {(row[0], row[1]) for row in rows}
