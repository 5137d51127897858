"""The same questions on other engines over the same Parquet files: Apache DataFusion, the query
engine that Ballista distributes (Ballista itself has no wheel to install here), and Apache Spark
in local mode (docs/scaling.md).

Every engine reads the enrollment_outcomes Parquet that reemploy.db.build_outcomes materialises,
and the extract's own enrollments and placements files. The one DuckDB-only construct every
question uses, the filtered_outcomes table macro, is expanded into a subquery with the same
conditions; the questions' SQL is otherwise run as it is, with the same values bound.
DataFusion needs `pip install -r requirements-scale.txt`, Spark `pip install -r
requirements-spark.txt` and Java 17 or newer; each part skips, saying so, without them.
"""

from __future__ import annotations

import importlib.util
import re
import shutil

import pytest

from reemploy import db  # noqa: E402
from reemploy.extracts import open_extract  # noqa: E402
from reemploy.filters import Filters  # noqa: E402
from tests.conftest import D, TINY_ENROLLMENTS, TINY_PLACEMENTS, write_extract  # noqa: E402

MACRO_CALL = re.compile(r"filtered_outcomes\(\$filters\)")
# A field of the one STRUCT parameter, ($filters).districts, becomes a parameter of its own:
# the other engines take no STRUCT parameters.
FILTER_FIELD = re.compile(r"\(\$filters\)\.([a-z_]+)")
# queries/views/filtered_outcomes.sql with DataFusion's name for list_contains.
DATAFUSION_FILTERED_OUTCOMES = """(
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
# Spark SQL: array_contains, and NULL parameters given their type in the text (Spark accepts only
# literals and array() as parameter values, not a typed NULL). on_spark writes $name as :name.
SPARK_FILTERED_OUTCOMES = """(
    select *
    from enrollment_outcomes
    where ($districts is null or array_contains(cast($districts as array<string>), district))
      and ($sectors is null or array_contains(cast($sectors as array<string>), prior_sector))
      and ($programs is null or array_contains(cast($programs as array<string>), program_type))
      and ($date_from is null or enrolled_on >= cast($date_from as date))
      and ($date_to is null or enrolled_on <= cast($date_to as date))
      and ($genders is null or array_contains(cast($genders as array<string>), gender))
      and ($age_bands is null or array_contains(cast($age_bands as array<string>), age_band))
      and ($educations is null or array_contains(cast($educations as array<string>), education))
)"""
# The questions that need more than the macro expanded, and why. The tests check they still
# fail, so these lists (and docs/scaling.md) stay true.
DATAFUSION_NEEDS_DIALECT_CHANGES = {
    "headline_by_program":
        "quantile_cont(x, [fractions]) returning a list; DataFusion's percentile_cont takes one fraction",
}
SPARK_NEEDS_DIALECT_CHANGES = {
    "placement_rate_by_program_and_horizon":
        "unnest($horizons_days::integer[]) (Spark: explode(cast(:horizons_days as array<int>)))",
    "headline_by_program":
        "the [0.10, 0.25, ...] list literal (Spark: array(...); its percentile takes an array)",
}
FILTER_SETS = {
    "all": Filters(),
    "one district": Filters(districts=("北山",)),
    "period and programmes": Filters(programs=("skills", "mindset"), date_from=D("2001-01-01"),
                                     date_to=D("2002-06-30")),
    "nothing matches": Filters(districts=("北山",), programs=("none",)),
}


def portable_sql(name: str, filtered_outcomes: str = DATAFUSION_FILTERED_OUTCOMES) -> str:
    """queries/<name>.sql with the filtered_outcomes macro call expanded."""
    sql = db.load_sql(name)
    assert MACRO_CALL.search(sql) or "filtered_outcomes" not in sql, name
    return FILTER_FIELD.sub(r"$\1", MACRO_CALL.sub(filtered_outcomes, sql))


def flat_params(params: dict) -> dict:
    """The parameters with the $filters STRUCT spread into one parameter per filter."""
    return {**{k: v for k, v in params.items() if k != "filters"}, **params["filters"]}


@pytest.fixture(scope="module")
def duckdb_side(tmp_path_factory):
    """The tiny extract and a DuckDB connection over it as the app makes it."""
    extract = open_extract(write_extract(tmp_path_factory.mktemp("engines") / "tiny",
                                         TINY_ENROLLMENTS, TINY_PLACEMENTS))
    duck = db.connect(extract)
    yield extract, duck
    duck.close()


@pytest.fixture(scope="module")
def engines(duckdb_side):
    """The DuckDB side and a DataFusion context over the same files."""
    datafusion = pytest.importorskip(
        "datafusion", reason="datafusion not installed (pip install -r requirements-scale.txt)")
    extract, duck = duckdb_side
    fusion = datafusion.SessionContext()
    outcomes = db.build_outcomes(extract)
    fusion.register_parquet(db.OUTCOMES, str(outcomes))
    fusion.register_parquet(db.STRATA, str(db.strata_path(outcomes)))
    for table, files in extract.files.items():
        fusion.register_parquet(table, files[0])
    return extract, duck, fusion


def on_duckdb(engines, name: str, params: dict) -> tuple[list, list]:
    duck = engines[1]
    sql = db.load_sql(name)
    cursor = duck.cursor()
    try:
        result = db.execute(cursor, sql, {k: params[k] for k in db.sql_parameters(sql)})
        return [tuple(c[0] for c in result.description)], result.fetchall()
    finally:
        cursor.close()


def on_datafusion(engines, name: str, params: dict) -> tuple[list, list]:
    fusion = engines[2]
    sql, params = portable_sql(name), flat_params(params)
    table = fusion.sql(sql, param_values={k: params[k] for k in db.sql_parameters(sql)}).to_arrow_table()
    return [tuple(table.column_names)], [tuple(row.values()) for row in table.to_pylist()]


@pytest.mark.parametrize("filters", FILTER_SETS.values(), ids=FILTER_SETS.keys())
@pytest.mark.parametrize("name", db.query_names())
def test_each_question_gives_the_same_rows_on_datafusion_or_says_why_not(engines, name, filters):
    extract = engines[0]
    params = db.query_params(extract, filters, horizons_days=[90, 180, 365, 30], by="district",
                               origin="exit", by_district=True)
    if name in DATAFUSION_NEEDS_DIALECT_CHANGES:
        with pytest.raises(Exception, match="(?i)planning|function"):
            on_datafusion(engines, name, params)
        return
    assert on_datafusion(engines, name, params) == on_duckdb(engines, name, params)


def test_the_representative_questions_have_rows_to_compare(engines):
    # Guard against comparing two empty results: the headline and district questions return
    # the hand-worked figures on both engines.
    extract = engines[0]
    params = db.query_params(extract, Filters())
    header, rows = on_datafusion(engines, "enrollment_count_by_program", params)
    assert dict(rows)["skills"] == 5
    header, rows = on_datafusion(engines, "outcomes_by_district", params)
    by_cell = {(row[0], row[1]): dict(zip(header[0], row)) for row in rows}
    assert by_cell[("北山", "skills")]["enrolled_count"] == 2
    assert by_cell[("Hexi", "skills")]["placed_180d_count"] == 1


@pytest.fixture(scope="module")
def spark(duckdb_side, tmp_path_factory):
    """The DuckDB side and a Spark session in local mode (two worker threads) over the same files."""
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("pyspark not installed (pip install -r requirements-spark.txt)")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java 17 or newer (apt-get install -y default-jre-headless)")
    from pyspark.sql import SparkSession

    extract, duck = duckdb_side
    session = (SparkSession.builder.master("local[2]").appName("reemploy-engines")
               .config("spark.ui.enabled", "false")
               .config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.driver.host", "127.0.0.1")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    outcomes = db.build_outcomes(extract)
    session.read.parquet(str(outcomes)).createOrReplaceTempView(db.OUTCOMES)
    session.read.parquet(str(db.strata_path(outcomes))).createOrReplaceTempView(db.STRATA)
    for table, files in extract.files.items():
        session.read.parquet(*files).createOrReplaceTempView(table)
    yield extract, duck, session
    session.stop()


def on_spark(spark, name: str, params: dict) -> tuple[list, list]:
    from pyspark.sql import functions as F

    session = spark[2]
    sql, params = portable_sql(name, SPARK_FILTERED_OUTCOMES), flat_params(params)
    args = {key: F.array(*map(F.lit, value)) if isinstance(value, list) else F.lit(value)
            for key, value in params.items() if key in db.sql_parameters(sql)}
    result = session.sql(re.sub(r"\$([a-z_][a-z0-9_]*)", r":\1", sql), args=args)
    return [tuple(result.columns)], [tuple(row) for row in result.collect()]


# Only rows are collected (no pandas conversion), so pandas 3 is not a concern here.
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
@pytest.mark.parametrize("filters", [FILTER_SETS["all"], FILTER_SETS["period and programmes"]],
                         ids=["all", "period and programmes"])
@pytest.mark.parametrize("name", db.query_names())
def test_each_question_gives_the_same_rows_on_spark_or_says_why_not(spark, name, filters):
    params = db.query_params(spark[0], filters, horizons_days=[90, 180, 365, 30], by="district",
                               origin="exit", by_district=True)
    if name in SPARK_NEEDS_DIALECT_CHANGES:
        with pytest.raises(Exception, match="UNRESOLVED_ROUTINE|PARSE_SYNTAX_ERROR"):
            on_spark(spark, name, params)
        return
    assert on_spark(spark, name, params) == on_duckdb(spark, name, params)
