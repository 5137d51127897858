"""Run the SQL in queries/ with DuckDB over an extract, with every value bound as a parameter."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

import duckdb
import pandas as pd

from reemploy.extracts import REPO_ROOT, Extract, ExtractError, remote_filesystem
from reemploy.filters import Filters

QUERIES_DIR = REPO_ROOT / "queries"
VIEWS_DIR = QUERIES_DIR / "views"
OUTCOMES = "enrollment_outcomes"
STRATA = "outcome_strata"
DERIVED_FOLDER = ".derived"
_PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")


def query_names() -> list[str]:
    """The questions the app can ask: one per .sql file in queries/."""
    return sorted(p.stem for p in QUERIES_DIR.glob("*.sql"))


def load_sql(name: str) -> str:
    """The text of queries/<name>.sql; only names of files that exist are accepted."""
    if name not in query_names():
        raise KeyError(f"No query named {name!r} in {QUERIES_DIR}")
    return (QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8")


def sql_parameters(sql: str) -> set[str]:
    """The $names a query binds (comments included: harmless, since unused names are dropped)."""
    body = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return set(_PARAMETER.findall(body))


# The build sorts every enrollment with its outcomes: unbounded, DuckDB would take most of the
# machine at 10M enrollments; bounded, it spills to the derived folder (docs/performance.md).
BUILD_MEMORY_LIMIT = "2GB"


def _new_connection(extract: Extract, **config) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(database=":memory:", config=config)
    if extract.url:
        # Without the httpfs extension (not installable for this DuckDB here, docs/scaling.md)
        # DuckDB reads s3:// and https:// through the fsspec filesystem registered here.
        con.register_filesystem(remote_filesystem(extract.url))
    return con


def _register_tables(con: duckdb.DuckDBPyConnection, extract: Extract) -> None:
    for table, files in extract.files.items():
        relation = con.read_parquet(
            list(files), hive_partitioning=any("=" in Path(f).parent.name for f in files)
        )
        relation.create_view(table)


def derived_dir(extract: Extract) -> Path:
    """Where the per-version derived table lives: inside the extract when it is writable (so it
    goes with the extract when an import replaces it), else in the temp folder."""
    inside = extract.path / DERIVED_FOLDER
    try:
        inside.mkdir(exist_ok=True)
        probe = inside / f".probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
        return inside / extract.version
    except OSError:
        return Path(tempfile.gettempdir()) / "reemploy-derived" / extract.version


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_OUTCOMES_COPY = (
    "copy (select * from enrollment_outcomes order by district, program_type, enrolled_on) "
    "to {path} (format parquet, compression zstd, row_group_size 250000)"
)
# The labels of the stratum numbers the view gives (one row per combination present), read from
# the file just written rather than by evaluating the view again.
_STRATA_COPY = (
    "copy (select distinct stratum, age_band, gender_level, education_level, prior_sector, district, "
    "age_code, gender_code, education_code from read_parquet({outcomes}) order by stratum) "
    "to {path} (format parquet)"
)


def strata_path(outcomes: Path) -> Path:
    """The stratum labels written beside a materialised enrollment_outcomes file."""
    return outcomes.with_name(outcomes.name.replace(OUTCOMES, STRATA, 1))


def build_outcomes(extract: Extract) -> Path:
    """Materialise the enrollment_outcomes view (one row per enrollment with its first placement
    and its outcome flags relative to the extract's as_of) as Parquet for this extract version,
    once; every question then scans that file instead of joining placements again and sums the
    flags instead of redoing date arithmetic. The version hashes the manifest, which holds as_of,
    so the flags cannot outlive it. Sorted by district and programme so filters skip row groups."""
    view_sql = (VIEWS_DIR / f"{OUTCOMES}.sql").read_text(encoding="utf-8")
    # The file name carries a hash of the view's text and of how it is written: a file
    # materialised by an older definition (other columns, other flags, other layout) for the same
    # extract version is never read as this one.
    definition = hashlib.sha256((view_sql + _OUTCOMES_COPY + _STRATA_COPY).encode("utf-8")).hexdigest()[:12]
    target = derived_dir(extract) / f"{OUTCOMES}-{definition}.parquet"
    if target.is_file() and strata_path(target).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(target.parent)
    partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    partial_strata = partial.with_name(partial.name.replace(OUTCOMES, STRATA, 1))
    # Order inside the file is set by the ORDER BY; insertion order needs no preserving, which
    # lets DuckDB stream the join with less memory.
    con = _new_connection(extract, memory_limit=BUILD_MEMORY_LIMIT,
                          temp_directory=str(target.parent / ".spill"),
                          preserve_insertion_order=False)
    try:
        _register_tables(con, extract)
        # The view's as_of-dependent flags read as_of from this one-row table, bound as a value.
        con.execute("create temp table build_as_of as select $as_of::date as as_of",
                    {"as_of": extract.as_of})
        con.execute(view_sql)
        # The path is ours (derived_dir), never user text; COPY cannot take it as a parameter.
        con.execute(_OUTCOMES_COPY.format(path=_sql_string(str(partial))))
        con.execute(_STRATA_COPY.format(outcomes=_sql_string(str(partial)),
                                        path=_sql_string(str(partial_strata))))
    except BaseException:
        # A damaged extract fails half-way; each page run retries, so leave nothing behind.
        partial.unlink(missing_ok=True)
        partial_strata.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    # Labels first: a reader takes the outcome file as the sign that both are there.
    os.replace(partial_strata, strata_path(target))
    os.replace(partial, target)
    for stale in [*target.parent.glob(f"{OUTCOMES}*.parquet"), *target.parent.glob(f"{STRATA}*.parquet")]:
        if stale not in (target, strata_path(target)):  # an older definition's file for this version
            stale.unlink(missing_ok=True)
    _remove_old_versions(target.parent.parent, keep=target.parent.name)
    return target


# Lazy: the pid is the first all-digit part after the name (`.<name>.<pid>.<thread>.tmp`).
_PARTIAL = re.compile(r"^\..+?\.(\d+)\.(?:\d+\.)?tmp$")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_partials(folder: Path) -> None:
    """Delete half-written files (`.<name>.<pid>[.<thread>].tmp`) whose process is gone, and
    the build's spill folder when no live process is writing there: a killed build leaves them
    (issue 13). A live process's partial file is left alone."""
    live = False
    for path in folder.glob(".*.tmp"):
        match = _PARTIAL.match(path.name)
        if not match:
            continue
        if _pid_alive(int(match.group(1))):
            live = True
        else:
            path.unlink(missing_ok=True)
    spill = folder / ".spill"
    if spill.is_dir() and not spill.is_symlink() and not live:
        shutil.rmtree(spill, ignore_errors=True)


def _remove_old_versions(root: Path, keep: str, kept: int = 2) -> None:
    # Keep the previous version too: a session may still be answering from it after an import.
    versions = sorted((p for p in root.iterdir() if p.is_dir() and p.name != keep),
                      key=lambda p: p.stat().st_mtime, reverse=True)
    for old in versions[kept - 1:]:
        shutil.rmtree(old, ignore_errors=True)


def connect(extract: Extract) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the extract's tables, the materialised
    enrollment_outcomes and the filtered_outcomes macro.

    Building enrollment_outcomes reads every row of the extract, so a file damaged inside (its
    footer intact, a data page not) fails here, as an ExtractError saying which extract."""
    try:
        outcomes = build_outcomes(extract)
    except duckdb.Error as exc:
        raise ExtractError(
            f"The extract in {extract.location} could not be read: "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}."
        ) from exc
    con = _new_connection(extract)
    _register_tables(con, extract)
    con.read_parquet(str(outcomes)).create_view(OUTCOMES)
    con.read_parquet(str(strata_path(outcomes))).create_view(STRATA)
    con.execute((VIEWS_DIR / "filtered_outcomes.sql").read_text(encoding="utf-8"))
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
        return execute(cursor, sql, bound).df()
    finally:
        cursor.close()


def execute(cursor, sql: str, params: dict):
    """The one place the app hands SQL to DuckDB: the text of a queries/ file, values bound.

    Kept separate so tests can watch every statement the pages run.
    """
    return cursor.execute(sql, params)
