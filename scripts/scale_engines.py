"""Time the same questions on DuckDB, DataFusion and (optionally) Spark over the same Parquet
files, and check they return identical rows (docs/scaling.md).

    python scripts/scale_engines.py DIR [--spark local[2] | --spark spark://127.0.0.1:7077]

DIR is an extract (python -m reemploy generate --enrollments 1000000 --out DIR). Every engine
reads DIR's enrollment_outcomes Parquet as reemploy.db.build_outcomes writes it. Median of 5
warm runs (3 on Spark), with all filters off and with one district and one programme.
Needs requirements-scale.txt; Spark needs requirements-spark.txt and Java 17 or newer.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reemploy import db  # noqa: E402
from reemploy.extracts import open_extract  # noqa: E402
from reemploy.filters import Filters  # noqa: E402
from tests.test_engines import (  # noqa: E402
    DATAFUSION_FILTERED_OUTCOMES,
    SPARK_FILTERED_OUTCOMES,
    flat_params,
    portable_sql,
)

QUESTIONS = ("enrollment_count_by_program", "outcomes_by_district", "time_to_placement",
             "placement_rate_by_cohort", "employer_mix_by_program")


def timed(run, times: int) -> tuple[list, float]:
    rows, runs = run(), []
    for _ in range(times):
        started = time.perf_counter()
        run()
        runs.append(time.perf_counter() - started)
    return rows, statistics.median(runs) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("extract")
    parser.add_argument("--spark", help="a Spark master: local[2], spark://HOST:PORT")
    args = parser.parse_args()

    import datafusion

    extract = open_extract(args.extract)
    outcomes = str(db.build_outcomes(extract))
    duck = db.connect(extract)
    fusion = datafusion.SessionContext()
    fusion.register_parquet(db.OUTCOMES, outcomes)
    fusion.register_parquet(db.STRATA, str(db.strata_path(Path(outcomes))))
    spark = None
    if args.spark:
        from pyspark.sql import SparkSession
        from pyspark.sql import functions as F

        spark = (SparkSession.builder.master(args.spark).appName("reemploy-scale")
                 .config("spark.ui.enabled", "false")
                 .config("spark.driver.bindAddress", "127.0.0.1")
                 .config("spark.driver.host", "127.0.0.1")
                 .config("spark.sql.shuffle.partitions", "4")
                 .getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        spark.read.parquet(outcomes).createOrReplaceTempView(db.OUTCOMES)
        spark.read.parquet(str(db.strata_path(Path(outcomes)))).createOrReplaceTempView(db.STRATA)

    district = duck.execute("select district from enrollment_outcomes limit 1").fetchone()[0]
    for label, filters in (("all", Filters()),
                           (f"{district}, skills", Filters(districts=(district,), programs=("skills",)))):
        params = db.query_params(extract, filters, origin="enrollment", by_district=False)
        for name in QUESTIONS:
            sql = db.load_sql(name)
            on_duck, duck_ms = timed(lambda: duck.cursor().execute(
                sql, {key: params[key] for key in db.sql_parameters(sql)}).fetchall(), 5)
            fusion_sql = portable_sql(name, DATAFUSION_FILTERED_OUTCOMES)
            flat = flat_params(params)
            bound = {key: flat[key] for key in db.sql_parameters(fusion_sql)}
            on_fusion, fusion_ms = timed(lambda: [
                tuple(row.values())
                for row in fusion.sql(fusion_sql, param_values=bound).to_arrow_table().to_pylist()], 5)
            line = (f"{name:30s} {label:16s} rows {len(on_duck):5d}  duckdb {duck_ms:6.0f} ms  "
                    f"datafusion {fusion_ms:6.0f} ms {'same' if on_fusion == on_duck else 'DIFFERENT'}")
            if spark is not None:
                spark_sql = re.sub(r"\$([a-z_][a-z0-9_]*)", r":\1",
                                   portable_sql(name, SPARK_FILTERED_OUTCOMES))
                spark_args = {key: F.array(*map(F.lit, value)) if isinstance(value, list) else F.lit(value)
                              for key, value in bound.items()}
                on_spark, spark_ms = timed(lambda: [
                    tuple(row) for row in spark.sql(spark_sql, args=spark_args).collect()], 3)
                line += f"  spark {spark_ms:6.0f} ms {'same' if on_spark == on_duck else 'DIFFERENT'}"
            print(line, flush=True)
    if spark is not None:
        spark.stop()


if __name__ == "__main__":
    main()
