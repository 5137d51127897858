"""The validator: each table's rows against the row rules (pass 1), the checks across rows and
files (duplicate ids, placements without an accepted enrollment), the reasons of the rejected rows
only (pass 2), the counts, and the accepted and rejected rows written out."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import shutil
from pathlib import Path

import duckdb

from reemploy.contract import TABLES
from reemploy.importer.reading import CHUNK_BYTES, Source, _first_line, _first_odd_line_ending, _ident
from reemploy.importer.results import TableResult, UnusableInput
from reemploy.importer.rules import (
    EARLIEST_DATE,
    Rule,
    _bits_expr,
    _ok_expr,
    _reason_expr,
    _typed_relation,
    rules_for,
)


ROW_GROUP_SIZE = 1_000_000
SHOWN_EXAMPLES = 5
ID_COLUMNS = {"enrollments": "enrollment_id", "placements": "placement_id"}
# Enrollments sorted so that Parquet row-group statistics let DuckDB skip districts and periods;
# ties keep the source order. Placements keep the source order (sorting them buys nothing).
SORT_KEYS = {"enrollments": ("district", "program_type", "enrolled_on", "_k"), "placements": ("_k",)}


def _work_table(prefix: str, table: str) -> str:
    """The name of an import working table (checked_enrollments, bad_lines_placements ...).

    Table names cannot be bound as parameters, so they are spliced into SQL; this is the one
    place that does it, and it accepts only the contract's own table names, never input text.
    """
    if table not in TABLES:
        raise ValueError(f"not a contract table: {table!r}")
    return f"{prefix}_{table}"


class _Validator:
    """Runs the checks of both tables in one DuckDB database inside the staging folder.

    Order: `check_rows` per table (pass 1), `check_sets`, `explain_rejected` per table (pass 2),
    then `count`, `write_rejected` and `write_accepted`.
    """

    def __init__(self, con, sources: dict[str, Source], as_of: dt.date):
        self.con = con
        self.sources = sources
        self.as_of = as_of
        self.rules = {table: rules_for(table, as_of) for table in TABLES}

    def _run(self, sql: str, table: str | None = None):
        bound = {"as_of": self.as_of, "earliest": EARLIEST_DATE}
        if table:
            bound.update(self.sources[table].read_args)
        used = set(re.findall(r"\$([a-z_0-9]+)", sql))
        return self.con.execute(sql, {k: v for k, v in bound.items() if k in used})

    def check_rows(self, table: str) -> None:
        """Pass 1: every row's converted values and whether it passes all row rules."""
        source = self.sources[table]
        typed = ", ".join(f"t_{c} as {c}" for c in TABLES[table])
        try:
            self._run(
                f"create table checked_{table} as select _k, {_ok_expr(self.rules[table])} as ok, "
                f"{typed} from ({_typed_relation(source)})",
                table,
            )
        except (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException) as exc:
            odd = (_first_odd_line_ending(source.path, source.encoding or "utf-8-sig")
                   if source.format == "csv" and source.mixed_line_endings else None)
            if odd:
                row, ending, first = odd
                raise UnusableInput(
                    f"{source.path}: mixed line endings: the header ends in {first} but data row "
                    f"{row:,} in {ending}, so its rows cannot be told apart reliably. Save the file "
                    "again with one kind of line ending.") from None
            raise UnusableInput(f"{source.path}: cannot be read as {source.format} ({_first_line(exc)}).") from None
        self._collect_bad_lines(table)

    def _collect_bad_lines(self, table: str) -> None:
        """CSV lines DuckDB could not split into the header's columns: rejected as a whole."""
        source = self.sources[table]
        self.con.execute(
            f"create table bad_lines_{table} (row bigint, fields varchar[], label varchar, reason varchar)"
        )
        if source.format != "csv":
            return
        found = self.con.execute(
            f"select line, min(error_type), min(csv_line), min(error_message) "
            f"from {table}_bad_lines group by line order by line"
        ).fetchall()
        rows = []
        for line, error_type, csv_line, message in found:
            row = int(line) - 1
            if error_type == "UNQUOTED VALUE":
                raise UnusableInput(
                    f"{source.path}: data row {row} opens a quote that is never closed, so the rest "
                    "of the file cannot be split into rows. Fix the quoting and import again."
                )
            text = (csv_line or "").strip("\r\n")
            fields = next(csv.reader(io.StringIO(text), delimiter=source.delimiter), [])
            if error_type in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
                label = "row: wrong number of fields"
                reason = f"{label} ({len(fields)}, the header has {len(source.header)})"
            else:
                label = "row: unreadable"
                reason = f"{label} ({message})"
            rows.append((row, fields[: len(source.header)], label, reason))
        if rows:
            self.con.executemany(f"insert into bad_lines_{table} values (?, ?, ?, ?)", rows)

    def _data_row(self, table: str, k: str) -> str:
        """SQL for the source data row of parsed row `k`: malformed lines before it shift it."""
        if not self._count(_work_table("bad_lines", table)):
            return k
        return (
            f"({k} + (select count(*) from (select row - row_number() over (order by row) as good_before "
            f"from bad_lines_{table}) where good_before < {k}))"
        )

    def check_sets(self) -> None:
        """Rules across rows and files, into set_reasons: unique ids, references, id clashes."""
        self.con.execute("create table set_reasons (tbl varchar, _k bigint, label varchar, detail varchar)")
        for table, id_column in ID_COLUMNS.items():
            self.con.execute(
                f"""
                insert into set_reasons
                with duplicated as (
                    select {id_column} as id from checked_{table}
                    where {id_column} is not null
                    group by all having count(*) > 1
                ),
                occurrences as (
                    select c._k, c.{id_column} as id, {self._data_row(table, "c._k")} as data_row
                    from checked_{table} as c semi join duplicated as d on c.{id_column} = d.id
                )
                select '{table}', o._k, '{id_column}: duplicate',
                    '{id_column}: duplicate (''' || o.id || ''' also on row '
                    || array_to_string(list_slice(list_sort(list(p.data_row)), 1, 5), ', ') || ')'
                from occurrences as o join occurrences as p on o.id = p.id and o._k <> p._k
                group by o._k, o.id
                """
            )
        self.con.execute(
            """
            insert into set_reasons
            select 'placements', p._k, 'placement_id: also an enrollment_id',
                'placement_id: also an enrollment_id (''' || p.placement_id || ''')'
            from checked_placements as p
            semi join checked_enrollments as e on p.placement_id = e.enrollment_id
            """
        )
        self.con.execute(
            f"""
            create table rejected_enrollment_ids as
            select e.enrollment_id, min({self._data_row("enrollments", "e._k")}) as data_row
            from checked_enrollments as e
            where e.enrollment_id is not null
              and (not e.ok or e._k in (select _k from set_reasons where tbl = 'enrollments'))
            group by e.enrollment_id
            """
        )
        self.con.execute(
            """
            insert into set_reasons
            with accepted_enrollment_ids as (
                select enrollment_id, enrolled_on from checked_enrollments
                where ok and _k not in (select _k from set_reasons where tbl = 'enrollments')
            )
            select 'placements', p._k,
                case
                    when a.enrollment_id is null and r.enrollment_id is not null
                        then 'enrollment_id: its enrollment was rejected'
                    when a.enrollment_id is null then 'enrollment_id: not in the enrollments file'
                    else 'started_on: before the enrollment''s enrolled_on'
                end,
                case
                    when a.enrollment_id is null and r.enrollment_id is not null
                        then 'enrollment_id: its enrollment was rejected (''' || p.enrollment_id
                             || ''', enrollments row ' || r.data_row || ')'
                    when a.enrollment_id is null
                        then 'enrollment_id: not in the enrollments file (''' || p.enrollment_id || ''')'
                    else 'started_on: before the enrollment''s enrolled_on ('''
                         || strftime(p.started_on, '%Y-%m-%d') || ''' < '''
                         || strftime(a.enrolled_on, '%Y-%m-%d') || ''')'
                end
            from checked_placements as p
            left join accepted_enrollment_ids as a on p.enrollment_id = a.enrollment_id
            left join rejected_enrollment_ids as r on p.enrollment_id = r.enrollment_id
            where p.enrollment_id is not null
              and (a.enrollment_id is null or coalesce(p.started_on < a.enrolled_on, false))
            """
        )

    def _rejected_keys(self, table: str) -> str:
        checked = _work_table("checked", table)  # also vouches for `table` below
        return (
            f"select _k from {checked} where not ok "
            f"union select _k from set_reasons where tbl = '{table}'"
        )

    def _count(self, relation: str) -> int:
        """Rows in a working table or subquery built by this module (see _work_table)."""
        return self.con.execute("select count(*) from " + relation).fetchone()[0]

    def explain_rejected(self, table: str) -> None:
        """Pass 2, over the rejected rows only: original columns, data row, rule bits, reasons."""
        source = self.sources[table]
        rules = self.rules[table]
        raw_columns = [f"c{i}" for i in range(len(source.header))]
        if not self._count(f"({self._rejected_keys(table)})"):
            columns = ", ".join(f"{c} varchar" for c in raw_columns)
            self.con.execute(
                f"create table rejected_{table} (data_row bigint, {columns}, bits ubigint, reason varchar)"
            )
        else:
            self._explain(table, rules, raw_columns)
        fields = ", ".join(f"fields[{i + 1}]" for i in range(len(raw_columns)))
        self.con.execute(
            f"insert into rejected_{table} select row, {fields}, 0::ubigint, reason from bad_lines_{table}"
        )

    def _explain(self, table: str, rules: list[Rule], raw_columns: list[str]) -> None:
        source = self.sources[table]
        self._run(
            f"""
            create table rejected_{table} as
            with rejected_keys as ({self._rejected_keys(table)}),
            raw as (select * from ({source.relation}) semi join rejected_keys using (_k)),
            typed as ({_typed_relation(source, "select * from raw")}),
            row_reasons as (
                select _k, {_bits_expr(rules)} as bits, {_reason_expr(rules)} as reason from typed
            ),
            set_texts as (
                select _k, string_agg(detail, '; ' order by label) as reason
                from set_reasons where tbl = '{table}' group by _k
            )
            select {self._data_row(table, "r._k")} as data_row,
                {', '.join(f'r.{c}' for c in raw_columns)},
                coalesce(rr.bits, 0::ubigint) as bits,
                concat_ws('; ', nullif(rr.reason, ''), st.reason) as reason
            from raw as r
            left join row_reasons as rr using (_k)
            left join set_texts as st using (_k)
            """,
            table,
        )

    def count(self, table: str) -> TableResult:
        """read = accepted + rejected, rejected rows per reason, and the first few rejections."""
        rules = self.rules[table]
        parsed = self._count(_work_table("checked", table))
        bad_lines = self._count(_work_table("bad_lines", table))
        rejected = self._count(_work_table("rejected", table))
        result = TableResult(read=parsed + bad_lines, rejected=rejected)
        result.accepted = result.read - result.rejected
        by_reason: dict[str, int] = {}
        if rejected:
            sums = ", ".join(f"sum(((bits >> {i}) & 1)::bigint)" for i in range(len(rules)))
            counts = self.con.execute(
                "select " + sums + " from " + _work_table("rejected", table)).fetchone()
            by_reason.update({rule.label: int(n) for rule, n in zip(rules, counts) if n})
        for label, n in self.con.execute(
            "select label, count(distinct _k) from set_reasons where tbl = ? group by label", [table]
        ).fetchall():
            by_reason[label] = by_reason.get(label, 0) + int(n)
        for label, n in self.con.execute(
            f"select label, count(*) from bad_lines_{table} group by label"
        ).fetchall():
            by_reason[label] = by_reason.get(label, 0) + int(n)
        result.by_reason = dict(sorted(by_reason.items(), key=lambda item: (-item[1], item[0])))
        result.examples = [
            f"{self.sources[table].path.name} row {r}: {reason}"
            for r, reason in self.con.execute(
                f"select data_row, reason from rejected_{table} order by data_row limit {SHOWN_EXAMPLES}"
            ).fetchall()
        ]
        return result

    def write_rejected(self, table: str, target: Path) -> None:
        """DIR/rejected/<table>.csv: the source row number, every original column, the reasons."""
        source = self.sources[table]
        raw_columns = [f"c{i}" for i in range(len(source.header))]
        # OWASP, CSV injection: this file is opened in a spreadsheet beside person identifiers,
        # so a value that would start a formula (= + - @ tab CR) gets a leading apostrophe, as in
        # every file the project writes (export.inert_text); headers likewise.
        names = [_inert_name(n) for n in _unique_names(["row", *source.header, "reason"])]
        select = ", ".join(
            f'{_inert_sql(column) if column != "data_row" else column} as "{_ident(name)}"'
            for column, name in zip(["data_row", *raw_columns, "reason"], names)
        )
        plain = target.with_name(target.name + ".part")
        self.con.execute(
            f"copy (select {select} from rejected_{table} order by data_row) to $path (header, delimiter ',')",
            {"path": str(plain)},
        )
        # A byte-order mark so that Excel shows Chinese text in the rejected rows correctly.
        with target.open("wb") as out, plain.open("rb") as part:
            out.write(codecs.BOM_UTF8)
            shutil.copyfileobj(part, out, CHUNK_BYTES)
        plain.unlink()

    def write_accepted(self, table: str, target: Path) -> None:
        """The accepted rows in the contract's types, sorted, zstd, ~1M-row row groups."""
        columns = ", ".join(f"cast({c} as {kind}) as {c}" for c, (kind, _) in TABLES[table].items())
        order = ", ".join(SORT_KEYS[table])
        self.con.execute(
            f"""
            copy (
                select {columns} from checked_{table}
                where ok and _k not in (select _k from set_reasons where tbl = '{table}')
                order by {order}
            ) to $path (format parquet, compression zstd, row_group_size {ROW_GROUP_SIZE})
            """,
            {"path": str(target)},
        )


def _inert_sql(column: str) -> str:
    # `column` is one of our own c<i> / reason names, never input text.
    return (f"case when regexp_matches({column}, '^[=+\\-@\\t\\r]') "
            f"and not regexp_full_match({column}, '[+-]?[0-9]+(\\.[0-9]+)?') then chr(39) || {column} "
            f"else {column} end")


def _inert_name(name: str) -> str:
    from reemploy.export import inert_text

    return inert_text(name)


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return unique
