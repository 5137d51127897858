"""The import itself: read and validate both inputs, write the extract with its report and manifest
into a staging folder and publish it; the summary on stderr."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import Callable, Iterable

import duckdb

from reemploy.contract import TABLES
from reemploy.extracts import GEOJSON, MANIFEST
from reemploy.importer.mapping import parse_mappings
from reemploy.importer.publishing import (
    _check_inputs,
    _check_target,
    _clean_leftovers,
    _fsync_tree,
    _Lock,
    _previous_geojson,
    _utc_now,
    prepare_for_app,
    publish,
)
from reemploy.importer.reading import Source, _Bar, _prepare
from reemploy.importer.results import EXIT_OK, EXIT_REJECTED, ImportResult, TableResult, UnusableInput
from reemploy.importer.rules import _sql_string
from reemploy.importer.validation import _Validator
from reemploy.provenance import REPORT


REJECTED_DIR = "rejected"
PROGRESS_MIN_BYTES = 32 << 20
# DuckDB's own limit; with Python and pyarrow on top the import stays well under 4 GiB.
DUCKDB_MEMORY_LIMIT = "2500MB"


def _connect(work: Path) -> duckdb.DuckDBPyConnection:
    # In memory, spilling to the staging folder beyond the limit: cheaper than a database file.
    con = duckdb.connect(":memory:")
    con.execute("set memory_limit = " + _sql_string(DUCKDB_MEMORY_LIMIT))  # a constant of ours
    con.execute("set temp_directory = ?", [str(work / "spill")])
    con.execute("set enable_progress_bar = false")
    con.execute("set preserve_insertion_order = true")
    # The conversions try cheap branches first and trim or re-spell only the cells that fail;
    # hoisting common subexpressions would evaluate those costly branches for every cell.
    con.execute("set disabled_optimizers = 'common_subexpressions'")
    return con


def import_extract(
    enrollments: str | os.PathLike,
    placements: str | os.PathLike,
    as_of: dt.date,
    out: str | os.PathLike,
    mappings: Iterable[str] = (),
    min_cell: int | None = None,
    encoding: str | None = None,
    progress: bool | None = None,
    integer_dates: str | None = None,
    log: Callable[[str], None] = lambda text: print(text, file=sys.stderr),
) -> ImportResult:
    """Validate the two files against the contract and publish them as the extract at `out`.

    Raises UnusableInput (exit status 2) when the input cannot be used; then nothing changed.
    """
    started = _utc_now()
    clock = time.monotonic()
    import_id = uuid.uuid4().hex
    out = Path(out).expanduser().absolute()
    parsed_mappings = parse_mappings(mappings)
    sources = {
        "enrollments": Source("enrollments", Path(enrollments).expanduser().absolute()),
        "placements": Source("placements", Path(placements).expanduser().absolute()),
    }
    if progress is None:
        sizes = [s.path.stat().st_size for s in sources.values() if s.path.is_file()]
        progress = sys.stderr.isatty() and sum(sizes) >= PROGRESS_MIN_BYTES
    _check_target(out)
    _check_inputs(sources, out)
    _previous_geojson(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with _Lock(out):
        _clean_leftovers(out)
        staging = out.parent / f"{out.name}.partial-{import_id[:8]}"
        staging.mkdir()
        try:
            result = _build(sources, as_of, parsed_mappings, min_cell, encoding, progress, staging,
                            import_id, started, clock, out, integer_dates)
            prepare_for_app(staging)
            stamp = started.strftime("%Y%m%dT%H%M%S")
            result.published = publish(staging, out, stamp, import_id)
        except duckdb.InterruptException:
            # DuckDB turns Ctrl-C during a query into its own exception.
            raise KeyboardInterrupt from None
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    _log_result(result, out, log)
    return result


def _build(sources, as_of, mappings, min_cell, encoding, progress, staging, import_id, started, clock, out,
           integer_dates=None):
    work = staging / ".work"
    work.mkdir()
    phases = _Bar(progress, total=7, unit="step")
    con = _connect(work)
    try:
        for table, source in sources.items():
            phases.step(f"read {table}")
            _prepare(source, con, mappings, encoding, work, progress, integer_dates)
        validator = _Validator(con, sources, as_of)
        for table in TABLES:
            phases.step(f"check {table}")
            validator.check_rows(table)
        phases.step("check ids and references")
        validator.check_sets()
        phases.step("explain rejected rows")
        for table in TABLES:
            validator.explain_rejected(table)
        tables = {table: validator.count(table) for table in TABLES}
        for table, counted in tables.items():
            if counted.read == 0:
                raise UnusableInput(f"{sources[table].path}: a header but no data rows.")
            if counted.accepted == 0:
                raise UnusableInput(
                    f"{sources[table].path}: none of its {counted.read:,} rows is valid.\n"
                    + _reason_lines(counted)
                )
        phases.step("write the extract")
        (staging / REJECTED_DIR).mkdir()
        for table, counted in tables.items():
            if counted.rejected:
                validator.write_rejected(table, staging / REJECTED_DIR / f"{table}.csv")
                counted.rejected_file = f"{REJECTED_DIR}/{table}.csv"
        for table in TABLES:
            validator.write_accepted(table, staging / f"{table}.parquet")
        phases.step("done")
    finally:
        con.close()
        phases.close()
    shutil.rmtree(work)
    if not any((staging / REJECTED_DIR).iterdir()):
        (staging / REJECTED_DIR).rmdir()
    current_geojson = _previous_geojson(out)
    if current_geojson is not None:
        # Boundaries are not part of an import; keep the ones the app already had.
        shutil.copy2(current_geojson, staging / GEOJSON, follow_symlinks=False)

    exit_code = EXIT_REJECTED if any(t.rejected for t in tables.values()) else EXIT_OK
    finished = _utc_now()
    report = {
        "import_id": import_id,
        "as_of": as_of.isoformat(),
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - clock, 1),
        "exit_code": exit_code,
        "sources": {table: source.describe() for table, source in sources.items()},
        "tables": {
            table: {
                "read": t.read,
                "accepted": t.accepted,
                "rejected": t.rejected,
                "rejected_by_reason": t.by_reason,
                "rejected_file": t.rejected_file,
            }
            for table, t in tables.items()
        },
    }
    (staging / REPORT).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    _write_manifest(staging, as_of, import_id, finished, sources, tables, min_cell)
    _fsync_tree(staging)
    return ImportResult(exit_code, report, tables, None)


def _write_manifest(staging, as_of, import_id, finished, sources, tables, min_cell) -> None:
    # Written last: its content (new import id every time) changes the extract's version, which
    # keys the app's caches.
    manifest = {
        "as_of": as_of.isoformat(),
        "created_by": "reemploy import",
        "import_id": import_id,
        "imported_at": finished.isoformat(timespec="seconds"),
        "sources": {table: {"file": s.path.name, "sha256": s.sha256} for table, s in sources.items()},
        "rows": {table: t.accepted for table, t in tables.items()},
    }
    if min_cell is not None:
        manifest["min_cell"] = int(min_cell)
    (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _reason_lines(t: TableResult) -> str:
    lines = [f"    {n:>10,}  {label}" for label, n in t.by_reason.items()]
    lines += [f"    e.g. {example}" for example in t.examples]
    return "\n".join(lines)


def _log_result(result: ImportResult, out: Path, log: Callable[[str], None]) -> None:
    for table, t in result.tables.items():
        source = result.report["sources"][table]
        log(f"{table} ({Path(source['path']).name}): read {t.read:,} = accepted {t.accepted:,} "
            f"+ rejected {t.rejected:,}")
        if t.rejected:
            log(_reason_lines(t))
            log(f"    all rejected rows: {out / t.rejected_file}")
    log(f"Imported into {out} (as_of {result.report['as_of']}, {result.report['seconds']} s); "
        f"report: {out / REPORT}")
