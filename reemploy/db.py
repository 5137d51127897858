"""Run the SQL in queries/ with DuckDB over an extract, with every value bound as a parameter."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd

from reemploy.extracts import REPO_ROOT, Extract
from reemploy.filters import Filters

QUERIES_DIR = REPO_ROOT / "queries"
VIEWS_DIR = QUERIES_DIR / "views"
# Views build on each other: enrollment_outcomes first, then the macro over it.
VIEW_ORDER = ("enrollment_outcomes", "filtered_outcomes")
_PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")


def query_names() -> list[str]:
    """The questions the app can ask: one per .sql file in queries/."""
    return sorted(p.stem for p in QUERIES_DIR.glob("*.sql"))


@lru_cache(maxsize=None)
def load_sql(name: str) -> str:
    """The text of queries/<name>.sql; only names of files that exist are accepted."""
    if name not in query_names():
        raise KeyError(f"No query named {name!r} in {QUERIES_DIR}")
    return (QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8")


def sql_parameters(sql: str) -> set[str]:
    """The $names a query binds (comments included: harmless, since unused names are dropped)."""
    body = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return set(_PARAMETER.findall(body))


def connect(extract: Extract) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the extract's tables and the shared views."""
    con = duckdb.connect(database=":memory:")
    for table, files in extract.files.items():
        relation = con.read_parquet(
            list(files), hive_partitioning=any("=" in Path(f).parent.name for f in files)
        )
        relation.create_view(table)
    for view in VIEW_ORDER:
        con.execute((VIEWS_DIR / f"{view}.sql").read_text(encoding="utf-8"))
    return con


def query_params(extract: Extract, filters: Filters, **extra) -> dict:
    """All values a question may bind: as_of, the filters and question-specific extras."""
    return {"as_of": extract.as_of, **filters.to_params(), **extra}


def run_query(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> pd.DataFrame:
    """Run queries/<name>.sql with the parameters it uses bound; return a DataFrame.

    A cursor per call keeps concurrent Streamlit sessions from sharing one busy connection.
    """
    sql = load_sql(name)
    used = sql_parameters(sql)
    missing = used - params.keys()
    if missing:
        raise KeyError(f"Query {name} needs parameter(s) {sorted(missing)}")
    bound = {key: params[key] for key in used}
    cursor = con.cursor()
    try:
        return cursor.execute(sql, bound).df()
    finally:
        cursor.close()
