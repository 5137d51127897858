"""`python -m reemploy import`: turn officials' exports into an extract, row by row accountable.

What it guarantees (the contract and the accepted spellings are in data/README.md, "Importing"):

* Every data row of each input is either accepted into the new extract or written to
  ``DIR/rejected/<table>.csv`` with all its original columns and every reason it was rejected;
  ``read = accepted + rejected`` per table, reported per reason on stderr and in
  ``DIR/import-report.json``.
* The previous extract is never touched. The new one is built in a sibling folder, fsynced, and
  published by swapping a symlink (see `publish`), so the app sees either the old extract or the
  complete new one.
* Exit status 0 (every row accepted), 1 (some rows rejected, the rest imported) or 2 (the input is
  unusable and nothing changed).

The heavy lifting is DuckDB: files are read with every column as text (nothing is lost to type
sniffing), converted with ``try_cast``-style expressions and checked in SQL. Each row-level rule is
one bit of a 64-bit mask, so the first pass over a large file stores only typed values and a
number; the reason texts are built in a second pass over the rejected rows only.
"""

from __future__ import annotations

import codecs
import csv
import ctypes
import datetime as dt
import errno
import hashlib
import io
import json
import os
import re
import shutil
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import duckdb

from reemploy.contract import (
    EDUCATION_LEVELS,
    EMPLOYER_TYPES,
    GENDERS,
    PROGRAM_TYPES,
    TABLES,
)
from reemploy.extracts import GEOJSON, MANIFEST
from reemploy.provenance import REPORT

EXIT_OK, EXIT_REJECTED, EXIT_UNUSABLE = 0, 1, 2
REJECTED_DIR = "rejected"

CHUNK_BYTES = 8 << 20
ROW_GROUP_SIZE = 1_000_000
PROGRESS_MIN_BYTES = 32 << 20
# DuckDB's own limit; with Python and pyarrow on top the import stays well under 4 GiB.
DUCKDB_MEMORY_LIMIT = "2500MB"
EARLIEST_DATE = dt.date(1900, 1, 1)
SHOWN_EXAMPLES = 5

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# Cells meaning "no value" in exports from spreadsheets, databases and pandas (case-insensitive).
NULL_TOKENS = ("", "null", "na", "n/a", "#n/a", "nan")
# Whitespace trimmed from every cell: ASCII, no-break space, ideographic (full-width) space, BOM.
TRIMMED = " \t\r\n\u00a0\u3000\ufeff"
TRUE_WORDS = ("true", "t", "yes", "y", "1", "是")
FALSE_WORDS = ("false", "f", "no", "n", "0", "否")
GENDER_WORDS = {"F": ("f", "female", "woman", "w", "女"), "M": ("m", "male", "man", "男")}
DATE_FORMATS = ("%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")
DOMAINS = {
    "program_type": PROGRAM_TYPES,
    "employer_type": EMPLOYER_TYPES,
    "education": EDUCATION_LEVELS,
    "gender": GENDERS,
}
NON_NEGATIVE = ("prior_monthly_wage", "cost", "monthly_wage")
ID_COLUMNS = {"enrollments": "enrollment_id", "placements": "placement_id"}
# Enrollments sorted so that Parquet row-group statistics let DuckDB skip districts and periods;
# ties keep the source order. Placements keep the source order (sorting them buys nothing).
SORT_KEYS = {"enrollments": ("district", "program_type", "enrolled_on", "_k"), "placements": ("_k",)}


class UnusableInput(Exception):
    """The input cannot be imported at all (exit status 2); nothing was changed."""


@dataclass
class Source:
    """One input file as read: where it is, how it was decoded and how its columns map."""

    table: str
    path: Path
    format: str = ""
    sha256: str = ""
    size: int = 0
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header: list[str] = field(default_factory=list)  # original names, in file order
    mapping: dict[str, int] = field(default_factory=dict)  # contract column -> header index
    ignored: list[str] = field(default_factory=list)
    relation: str = ""  # SQL over c0..cN plus _k (the 1-based data row number)
    read_args: dict = field(default_factory=dict)  # parameters the relation binds
    arrow_types: list = field(default_factory=list)  # Parquet: each column's Arrow type
    mixed_line_endings: bool = False  # CSV: rows end in different ways (CRLF and LF, or CR)

    def describe(self) -> dict:
        described = {
            "path": str(self.path),
            "format": self.format,
            "bytes": self.size,
            "sha256": self.sha256,
            "columns": {column: self.header[i] for column, i in self.mapping.items()},
            "ignored_columns": self.ignored,
        }
        if self.encoding:
            described["encoding"] = self.encoding
        if self.delimiter:
            described["delimiter"] = DELIMITER_NAMES.get(self.delimiter, self.delimiter)
        if self.sheet:
            described["sheet"] = self.sheet
        return described


@dataclass
class TableResult:
    """Row accounting of one table: read = accepted + rejected, and rejected rows per reason."""

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    rejected_file: str | None = None


@dataclass
class ImportResult:
    """What an import did: exit status, the per-table accounting and the published folder."""

    exit_code: int
    report: dict
    tables: dict[str, TableResult]
    published: Path | None


# --------------------------------------------------------------------------------------------
# Reading the inputs: format, encoding, delimiter, header
# --------------------------------------------------------------------------------------------


def _sniff_format(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnusableInput(
            f"{path}: an old binary Excel (.xls) workbook. Save it as .xlsx or CSV (UTF-8) first."
        )
    return "csv"


def _bom_encoding(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        # UTF-16 without a byte-order mark: every other byte of ASCII text is zero.
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > len(head) // 4 and even == 0:
            return "utf-16-le"
        if even > len(head) // 4 and odd == 0:
            return "utf-16-be"
        raise UnusableInput("binary data where a CSV text file was expected.")
    return None


def _plausible_gb18030(sample: str) -> bool:
    # Text really written in GB18030/GBK is almost all common simplified characters (GB2312);
    # Latin-1 or Big5 bytes decoded as GB18030 give rare characters from the GBK extension.
    wide = [ch for ch in sample if ord(ch) > 127]
    if not wide:
        return True
    common = 0
    for ch in wide:
        try:
            ch.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    return common >= 0.9 * len(wide)


class _Bar:
    """A tqdm progress bar when asked for, else nothing."""

    def __init__(self, enabled: bool, **options):
        self._bar = None
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(file=sys.stderr, **options)

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def step(self, description: str) -> None:
        """Count the step that just ended (if any) and show the one starting."""
        if self._bar is not None:
            started = bool(self._bar.desc)
            self._bar.set_description(description, refresh=not started)
            if started:
                self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _scan_text(source: Source, forced: str | None, work: Path, progress: bool) -> Path:
    """Hash the file, settle its encoding and return a UTF-8 file DuckDB can read.

    UTF-8 (with or without BOM) is read in place; every other encoding is transcoded into `work`.
    """
    path = source.path
    with path.open("rb") as handle:
        head = handle.read(4096)
    if not head.strip(b" \t\r\n\xef\xbb\xbf\xff\xfe\x00"):
        raise UnusableInput(f"{path}: the file is empty.")
    try:
        detected = _bom_encoding(head)
    except UnusableInput as exc:
        raise UnusableInput(f"{path}: {exc}") from None
    candidates = [forced] if forced else ([detected] if detected else ["utf-8", "gb18030"])
    problems = []
    for encoding in candidates:
        try:
            target = _decode_file(source, encoding, work, progress)
        except UnicodeDecodeError as exc:
            where = "" if exc.start < 0 else " in the header" if exc.start == 0 else f" at data row {exc.start}"
            problems.append(f"not {encoding} ({exc.reason}{where})")
            continue
        except LookupError:
            raise UnusableInput(f"--encoding {forced}: Python knows no such encoding.") from None
        source.encoding = encoding
        return target
    hint = (
        "Save it as UTF-8, or name its encoding with --encoding (for example --encoding latin-1 "
        "or --encoding big5)."
    )
    raise UnusableInput(f"{path}: cannot tell its text encoding: {'; '.join(problems)}. {hint}")


def _decode_file(source: Source, encoding: str, work: Path, progress: bool) -> Path:
    """Decode the whole file strictly (hashing it on the way); transcode unless it is UTF-8.

    Raises UnicodeDecodeError whose `start` is the data row of the first bad byte (0: the header,
    -1: no single row, the text as a whole is implausible).
    """
    path = source.path
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    digest = hashlib.sha256()
    in_place = encoding in ("utf-8", "utf-8-sig")
    target = path if in_place else work / f"{source.table}.utf8.csv"
    out = None if in_place else target.open("w", encoding="utf-8", newline="")
    bar = _Bar(progress, total=source.size, unit="B", unit_scale=True, leave=False,
               desc=f"read {path.name}")
    newlines = 0  # before the current chunk; the header is line 1, so also the data row
    endings = _LineEndings()
    sample: list[str] = []
    sampled = 0
    try:
        with path.open("rb") as handle:
            while True:
                chunk = handle.read(CHUNK_BYTES)
                final = not chunk
                try:
                    text = decoder.decode(chunk, final)
                except UnicodeDecodeError as exc:
                    row = newlines + chunk.count(b"\n", 0, max(0, exc.start))
                    raise UnicodeDecodeError(exc.encoding, exc.object, row, row + 1, exc.reason) from None
                digest.update(chunk)
                nul = text.find("\x00")
                if nul >= 0:
                    # Past the first 4 KB _bom_encoding does not look: a NUL is never text.
                    row = newlines + text.count("\n", 0, nul)
                    where = "in the header" if row == 0 else f"at data row {row:,}"
                    raise UnusableInput(
                        f"{path}: a NUL byte {where}: the file holds binary data or is damaged. "
                        "Export it again as text.")
                endings.count(text, final)
                newlines += text.count("\n")
                if sampled < (1 << 20):
                    sample.append(text)
                    sampled += len(text)
                if out is not None:
                    out.write(text)
                bar.update(len(chunk))
                if final:
                    break
    finally:
        bar.close()
        if out is not None:
            out.close()
    if encoding == "gb18030" and not _plausible_gb18030("".join(sample)):
        raise UnicodeDecodeError(encoding, b"", -1, 0, "it decodes to unlikely characters")
    if endings.lone_cr and not endings.lf:
        raise UnusableInput(
            f"{path}: its lines end in a carriage return alone (old Mac line endings), so no row "
            "after the header (row 1 onwards) can be told apart. Save it again with Windows (CRLF) "
            "or Unix (LF) line endings.")
    source.sha256 = digest.hexdigest()
    source.mixed_line_endings = bool(endings.lone_cr or (endings.crlf and endings.lone_lf))
    return target


class _LineEndings:
    """Counts CRLF, lone CR and lone LF over a text read in chunks (a CRLF may straddle two)."""

    def __init__(self) -> None:
        self.crlf = self.lone_cr = self.lone_lf = self.lf = 0
        self._pending_cr = False

    def count(self, text: str, final: bool) -> None:
        if self._pending_cr:
            text = "\r" + text
        self._pending_cr = text.endswith("\r") and not final
        if self._pending_cr:
            text = text[:-1]
        crlf = text.count("\r\n")
        lf = text.count("\n")
        self.crlf += crlf
        self.lf += lf
        self.lone_lf += lf - crlf
        self.lone_cr += text.count("\r") - crlf


def _first_odd_line_ending(path: Path, encoding: str) -> tuple[int, str, str] | None:
    """(data row, its ending, the header's ending) of the first row, outside quoted values, whose
    line ending differs from the header's; None when there is none. Only run on a file DuckDB
    could not split, so its per-character loop costs nothing on good files."""
    with path.open("r", encoding=encoding, newline="") as handle:
        text = handle.read()
    quoted, row, first = False, 0, None
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "\r\n":
            ending = "CRLF" if text.startswith("\r\n", i) else ("CR" if ch == "\r" else "LF")
            if first is None:
                first = ending
            elif ending != first:
                return row, ending, first
            row += 1
            i += 2 if ending == "CRLF" else 1
            continue
        i += 1
    return None


def _csv_header(text_path: Path, source: Source) -> None:
    with text_path.open("r", encoding="utf-8-sig", newline="") as handle:
        first = handle.read(1 << 16)
    first_line = first.splitlines()[0] if first.splitlines() else ""
    counts = {d: _count_outside_quotes(first_line, d) for d in DELIMITERS}
    delimiter = max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))
    source.delimiter = delimiter if counts[delimiter] else ","
    header = next(csv.reader(io.StringIO(first), delimiter=source.delimiter), [])
    source.header = [name.strip(TRIMMED) for name in header]


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delimiter and not quoted:
            count += 1
    return count


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _prepare_csv(source: Source, forced: str | None, work: Path, progress: bool) -> None:
    text_path = _scan_text(source, forced, work, progress)
    _csv_header(text_path, source)
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(source.header)))
    # auto_detect=false: no sniffing, so no guessed comment character silently drops rows.
    source.read_args = {f"{source.table}_path": str(text_path)}
    source.relation = (
        f"select row_number() over () as _k, * from read_csv(${source.table}_path, header = true, "
        f"delim = {_sql_string(source.delimiter)}, quote = '\"', escape = '\"', auto_detect = false, "
        f"columns = {{{columns}}}, store_rejects = true, "
        f"rejects_table = '{source.table}_bad_lines', rejects_scan = '{source.table}_bad_scan')"
    )


def _hash_file(source: Source, progress: bool) -> None:
    digest = hashlib.sha256()
    bar = _Bar(progress, total=source.size, unit="B", unit_scale=True, leave=False,
               desc=f"read {source.path.name}")
    with source.path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
            bar.update(len(chunk))
    bar.close()
    source.sha256 = digest.hexdigest()


INTEGER_DATE_UNITS = {"epoch-days": "days since 1970-01-01", "excel-days": "Excel day numbers (1900 system)"}


def _prepare_parquet(source: Source, con, progress: bool) -> None:
    import pyarrow.parquet as pq

    _hash_file(source, progress)
    try:
        # The Arrow schema keeps what DuckDB's cast to text would lose: the logical type of every
        # top-level column and a timestamp's time zone.
        schema = pq.read_schema(source.path)
        con.execute("select count(*) from read_parquet($p)", {"p": str(source.path)}).fetchall()
    except Exception as exc:  # pyarrow and duckdb raise several exception types for broken files
        raise UnusableInput(f"{source.path}: not a readable Parquet file ({_first_line(exc)}).") from None
    source.header = list(schema.names)
    source.arrow_types = list(schema.types)


def _parquet_relation(source: Source, integer_dates: str | None) -> None:
    """The relation over a Parquet input, after its columns are mapped: every column as text,
    dates by their logical type (issue 13).

    * DATE stays the date; a timestamp without a zone gives its own date; a zoned timestamp
      gives the date on the wall clock of its zone (23:30 in Los Angeles stays that day), not UTC's.
    * An integer or float column in a date field has no stated unit (days since 1970? Excel day
      numbers?), so it is refused unless --integer-dates names the unit.
    * A nested column (struct, list, map) in a contract field is refused; elsewhere it is ignored.
    """
    import pyarrow.types as pat

    contract = TABLES[source.table]
    by_index = {i: column for column, i in source.mapping.items()}
    casts, args = [], {f"{source.table}_path": str(source.path)}
    for i, (name, kind) in enumerate(zip(source.header, source.arrow_types)):
        column = by_index.get(i)
        quoted = f'"{_ident(name)}"'
        nested = pat.is_nested(kind) or pat.is_dictionary(kind) and pat.is_nested(kind.value_type)
        if nested:
            if column is not None:
                raise UnusableInput(
                    f"{source.path}: column {name!r} ({column}) is a nested column ({kind}); the "
                    f"contract needs one plain value per row. Flatten it in the export.")
            casts.append(f"null::varchar as c{i}")
            continue
        is_date = column is not None and contract[column][0] == "DATE"
        if is_date and pat.is_timestamp(kind) and kind.tz is not None:
            args[f"{source.table}_tz{i}"] = kind.tz
            casts.append(f"cast(cast(timezone(${source.table}_tz{i}, {quoted}) as date) as varchar) as c{i}")
        elif is_date and pat.is_timestamp(kind):
            casts.append(f"cast(cast({quoted} as date) as varchar) as c{i}")
        elif is_date and (pat.is_integer(kind) or pat.is_floating(kind) or pat.is_decimal(kind)):
            if integer_dates is None:
                raise UnusableInput(
                    f"{source.path}: column {name!r} ({column}) holds numbers ({kind}), not dates, "
                    "and the file does not say what they count. Export it as a date, or name the "
                    "unit with --integer-dates epoch-days (days since 1970-01-01) or "
                    "--integer-dates excel-days (Excel day numbers).")
            origin = "1970-01-01" if integer_dates == "epoch-days" else "1899-12-30"
            casts.append(f"cast(date '{origin}' + cast({quoted} as integer) as varchar) as c{i}")
        else:
            casts.append(f"cast({quoted} as varchar) as c{i}")
    source.read_args = args
    source.relation = (
        f"select file_row_number + 1 as _k, {', '.join(casts)} "
        f"from read_parquet(${source.table}_path, file_row_number = true)"
    )


def _ident(name: str) -> str:
    return name.replace('"', '""')


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _cell_text(value, as_date: bool, epoch) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) and as_date:
        from openpyxl.utils.datetime import from_excel

        try:
            converted = from_excel(value, epoch)
        except (ValueError, OverflowError, TypeError):
            return repr(value)
        return converted.date().isoformat() if isinstance(converted, dt.datetime) else str(converted)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _prepare_xlsx(source: Source, mappings: dict, work: Path, progress: bool) -> None:
    import openpyxl
    import pyarrow as pa
    import pyarrow.parquet as pq

    _hash_file(source, progress)
    try:
        book = openpyxl.load_workbook(source.path, read_only=True, data_only=True)
        # The same sheet as written, to tell a formula whose value Excel never saved (read as
        # an empty cell above) from an empty cell.
        formulas_book = openpyxl.load_workbook(source.path, read_only=True, data_only=False)
    except Exception as exc:  # zip, XML and openpyxl errors alike
        raise UnusableInput(f"{source.path}: not a readable Excel workbook ({_first_line(exc)}).") from None
    try:
        sheet = book.worksheets[0]
        source.sheet = sheet.title
        rows = sheet.iter_rows(values_only=True)
        written = formulas_book.worksheets[0].iter_rows(values_only=True)
        next(written, None)
        header_cells = next(rows, None)
        if header_cells is None:
            raise UnusableInput(f"{source.path}: the first sheet ({sheet.title}) is empty.")
        header = [("" if v is None else str(v)).strip(TRIMMED) for v in header_cells]
        while header and not header[-1]:
            header.pop()
        source.header = header
        _map_columns(source, mappings)
        date_columns = {i for column, i in source.mapping.items() if TABLES[source.table][column][0] == "DATE"}
        width = len(header)
        schema = pa.schema([("_k", pa.int64())] + [(f"c{i}", pa.string()) for i in range(width)])
        target = work / f"{source.table}.xlsx.parquet"
        writer = pq.ParquetWriter(target, schema)
        batch: list[list] = [[] for _ in range(width + 1)]
        try:
            unsaved: list[tuple[int, int, str]] = []
            for number, cells in enumerate(rows, start=1):
                as_written = next(written, ()) or ()
                for i in range(width):
                    value = cells[i] if i < len(cells) else None
                    formula = as_written[i] if i < len(as_written) else None
                    if value is None and isinstance(formula, str) and formula.startswith("="):
                        unsaved.append((number, i, formula))
                texts = [
                    _cell_text(cells[i] if i < len(cells) else None, i in date_columns, book.epoch)
                    for i in range(width)
                ]
                if all(t is None or not t.strip(TRIMMED) for t in texts):
                    continue  # blank spreadsheet rows are formatting, not data
                batch[0].append(number)
                for i, text in enumerate(texts, start=1):
                    batch[i].append(text)
                if len(batch[0]) >= 50_000:
                    writer.write_table(pa.table(batch, schema=schema))
                    batch = [[] for _ in range(width + 1)]
            writer.write_table(pa.table(batch, schema=schema))
        finally:
            writer.close()
        if unsaved:
            from openpyxl.utils import get_column_letter

            number, i, formula = unsaved[0]
            raise UnusableInput(
                f"{source.path}: {len(unsaved):,} formula cell(s) have no saved value (the file was "
                f"written by a program that does not calculate), first at data row {number:,}, "
                f"column {header[i]!r} (cell {get_column_letter(i + 1)}{number + 1}: {formula[:60]}). "
                "Open the workbook in Excel or LibreOffice and save it, so every value is stored, "
                "or paste the values over the formulas.")
    finally:
        book.close()
        formulas_book.close()
    source.read_args = {f"{source.table}_path": str(target)}
    columns = ", ".join(f"c{i}" for i in range(width))
    source.relation = f"select _k, {columns} from read_parquet(${source.table}_path)"


# --------------------------------------------------------------------------------------------
# Column mapping
# --------------------------------------------------------------------------------------------


def normalise_name(name: str) -> str:
    """A header as a contract name: trimmed, lower-case, runs of spaces/hyphens/dots as '_'."""
    return re.sub(r"[\s\-.]+", "_", name.strip(TRIMMED).lower()).strip("_")


def parse_mappings(pairs: Iterable[str]) -> dict[tuple[str | None, str], str]:
    """`--map source=contract` values as {(table or None, source name): contract name}.

    The source may be qualified with its table (`placements.id=placement_id`).
    """
    parsed: dict[tuple[str | None, str], str] = {}
    for pair in pairs:
        source_name, sep, target = pair.partition("=")
        source_name, target = source_name.strip(), target.strip()
        if not sep or not source_name or not target:
            raise UnusableInput(f"--map {pair!r}: expected SOURCE_NAME=CONTRACT_NAME.")
        table = None
        head, dot, rest = source_name.partition(".")
        if dot and head in TABLES and rest:
            table, source_name = head, rest
        known = set(TABLES[table]) if table else set().union(*TABLES.values())
        if target not in known:
            raise UnusableInput(
                f"--map {pair!r}: {target!r} is not a contract column"
                + (f" of {table}" if table else "") + f" (one of {', '.join(sorted(known))})."
            )
        parsed[(table, source_name)] = target
    return parsed


def _map_columns(source: Source, mappings: dict) -> None:
    contract = TABLES[source.table]
    renames = {}
    for (table, source_name), target in mappings.items():
        if table in (None, source.table) and target in contract:
            renames[source_name] = target
    by_normalised = {normalise_name(k): v for k, v in renames.items()}
    mapping: dict[str, int] = {}
    ignored = []
    for index, name in enumerate(source.header):
        target = renames.get(name) or by_normalised.get(normalise_name(name)) or normalise_name(name)
        if target not in contract:
            ignored.append(name)
            continue
        if target in mapping:
            first = source.header[mapping[target]]
            raise UnusableInput(
                f"{source.path}: columns {first!r} and {name!r} both mean {target}; "
                "drop one or rename it with --map."
            )
        mapping[target] = index
    missing = [column for column in contract if column not in mapping]
    if missing:
        raise UnusableInput(
            f"{source.path}: required column(s) missing: {', '.join(missing)}. The file has: "
            f"{', '.join(repr(h) for h in source.header) or 'no header'}. Rename columns with "
            "--map SOURCE_NAME=CONTRACT_NAME (every contract column must be present; it may be "
            "empty where data/README.md allows)."
        )
    source.mapping = mapping
    source.ignored = ignored


# --------------------------------------------------------------------------------------------
# Validation in SQL
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One check of a row: `condition` (SQL, never NULL) true means the row breaks it."""

    column: str
    text: str
    condition: str
    shown: str  # SQL text of the offending value(s)

    @property
    def label(self) -> str:
        return f"{self.column}: {self.text}"


def _trim(r: str) -> str:
    return f"trim({r}, {_sql_string(TRIMMED)})"


def _null_token(x: str) -> str:
    longest = max(len(t) for t in NULL_TOKENS)
    tokens = ", ".join(_sql_string(t) for t in NULL_TOKENS)
    return f"(strlen({x}) <= {longest} and lower({x}) in ({tokens}))"


def _blank(r: str) -> str:
    """SQL: the raw cell `r` holds no value (absent, whitespace or a null token)."""
    return f"({r} is null or {_null_token(_trim(r))})"


def _typed_expr(column: str, kind: str, r: str) -> str:
    """SQL converting the raw text `r` to the contract type; NULL when blank or not convertible.

    Clean cells take a cheap first branch; trimming and other spellings are only tried for the
    rest, which keeps a 10-million-row import fast.
    """
    clean = _trim(r)
    if column in DOMAINS:
        allowed = ", ".join(_sql_string(code) for code in DOMAINS[column])
        if column == "gender":
            cases = " ".join(
                f"when lower({clean}) in ({', '.join(_sql_string(w) for w in words)}) then '{code}'"
                for code, words in GENDER_WORDS.items()
            )
            return f"case when {r} in ({allowed}) then {r} {cases} end"
        normalised = f"replace(replace(lower({clean}), ' ', '_'), '-', '_')"
        return f"case when {r} in ({allowed}) then {r} when {normalised} in ({allowed}) then {normalised} end"
    if kind == "VARCHAR":
        edge = " or ".join(
            [f"ascii({r}) <= 32", f"ascii({r}) in (160, 12288, 65279)"]
            + [f"suffix({r}, {_sql_string(ch)})" for ch in (" ", "\t", "\r", "\u3000", "\u00a0")]
        )
        return (
            f"case when {edge} then (case when {_null_token(clean)} then null else {clean} end) "
            f"when {_null_token(r)} then null else {r} end"
        )
    if kind == "DATE":
        formats = ", ".join(_sql_string(f) for f in DATE_FORMATS)
        # Excel day numbers (1900 date system) appear when a date column was exported unformatted.
        serial = (
            f"case when regexp_full_match({clean}, '[0-9]{{5}}(\\.0+)?') "
            f"then date '1899-12-30' + cast(cast({clean} as double) as integer) end"
        )
        return (
            f"coalesce(try_cast({r} as date), try_cast({clean} as date), "
            f"cast(try_strptime({clean}, [{formats}]) as date), {serial})"
        )
    if kind in ("DOUBLE", "INTEGER"):
        grouped = (
            f"case when regexp_full_match({clean}, '-?[0-9]{{1,3}}(,[0-9]{{3}})+(\\.[0-9]+)?') "
            f"then try_cast(replace({clean}, ',', '') as double) end"
        )
        # Infinite, NaN and fractional years stay in the value; rules reject them.
        return f"coalesce(try_cast({r} as double), try_cast({clean} as double), {grouped})"
    if kind == "BOOLEAN":
        true_words = ", ".join(_sql_string(w) for w in TRUE_WORDS)
        false_words = ", ".join(_sql_string(w) for w in FALSE_WORDS)
        return (
            f"case when {r} = 'true' then true when {r} = 'false' then false "
            f"when lower({clean}) in ({true_words}) then true "
            f"when lower({clean}) in ({false_words}) then false end"
        )
    raise ValueError(kind)


def _normalised_text(c: str) -> str:
    """SQL: the text cell `c` in Unicode NFC with invisible format characters (category Cf:
    zero-width spaces and joiners, direction marks, soft hyphens, BOMs) removed, so `E1` and
    `E1<U+200B>` are one id and a composed and a decomposed `é` one district. ASCII-only cells
    (strlen, in bytes, equals length, in characters) skip the work."""
    return f"case when strlen({c}) = length({c}) then {c} else regexp_replace(nfc_normalize({c}), '\\p{{Cf}}', '', 'g') end"


def _quoted(r: str) -> str:
    return f"'''' || coalesce(left({r}, 60), '') || ''''"


def _work_table(prefix: str, table: str) -> str:
    """The name of an import working table (checked_enrollments, bad_lines_placements ...).

    Table names cannot be bound as parameters, so they are spliced into SQL; this is the one
    place that does it, and it accepts only the contract's own table names, never input text.
    """
    if table not in TABLES:
        raise ValueError(f"not a contract table: {table!r}")
    return f"{prefix}_{table}"


def rules_for(table: str, as_of: dt.date) -> list[Rule]:
    """The row-level rules of a table, in the order their reasons are listed.

    Conditions read `r_<column>` (the raw text) and `t_<column>` (the converted value).
    """
    columns = TABLES[table]
    rules: list[Rule] = []
    for column, (kind, nullable) in columns.items():
        r, t = f"r_{column}", f"t_{column}"
        invalid = f"{t} is null and not {_blank(r)}"
        if not nullable:
            missing = f"{t} is null" if kind == "VARCHAR" and column not in DOMAINS else f"{t} is null and {_blank(r)}"
            rules.append(Rule(column, "missing", missing, "''"))
        if kind == "VARCHAR" and column not in DOMAINS:
            # A CSV with a NUL is refused whole (_decode_file); Parquet and Excel text can hold
            # one too, and "Hexi\0evil" must not become a district of its own.
            rules.append(Rule(column, "contains a NUL character", f"coalesce(contains({r}, chr(0)), false)",
                              f"replace({_quoted(r)}, chr(0), '\\0')"))
        if column in DOMAINS:
            rules.append(Rule(column, f"not one of {', '.join(DOMAINS[column])}", invalid, _quoted(r)))
        elif kind == "DATE":
            rules.append(Rule(column, "not a date (use YYYY-MM-DD)", invalid, _quoted(r)))
            rules.append(Rule(column, f"after as_of {as_of.isoformat()}", f"coalesce({t} > $as_of, false)", _quoted(r)))
            rules.append(Rule(column, f"before {EARLIEST_DATE.isoformat()}",
                              f"coalesce({t} < $earliest, false)", _quoted(r)))
        elif kind == "DOUBLE":
            rules.append(Rule(column, "not a number",
                              f"({invalid}) or coalesce(not isfinite({t}), false)", _quoted(r)))
        elif kind == "INTEGER":
            rules.append(Rule(column, "not a whole number",
                              f"({invalid}) or coalesce(not isfinite({t}) or {t} <> floor({t}), false)",
                              _quoted(r)))
        elif kind == "BOOLEAN":
            rules.append(Rule(column, "not true/false", invalid, _quoted(r)))
        if column in NON_NEGATIVE:
            rules.append(Rule(column, "negative", f"coalesce({t} < 0, false)", _quoted(r)))
    if table == "enrollments":
        rules += [
            Rule("birth_year", f"not between 1900 and {as_of.year}",
                 "coalesce(t_birth_year = floor(t_birth_year) "
                 "and t_birth_year not between 1900 and year($as_of), false)",
                 _quoted("r_birth_year")),
            Rule("exited_on", "before enrolled_on", "coalesce(t_exited_on < t_enrolled_on, false)",
                 f"{_quoted('r_exited_on')} || ' < ' || {_quoted('r_enrolled_on')}"),
            Rule("completed", "set but exited_on is empty",
                 f"t_completed is not null and t_exited_on is null and {_blank('r_exited_on')}",
                 _quoted("r_completed")),
        ]
    else:
        rules.append(Rule("ended_on", "before started_on", "coalesce(t_ended_on < t_started_on, false)",
                          f"{_quoted('r_ended_on')} || ' < ' || {_quoted('r_started_on')}"))
    if len(rules) > 64:
        raise AssertionError("one bit per rule: at most 64 rules per table")
    return rules


def _typed_relation(source: Source, relation: str | None = None) -> str:
    """SQL: _k, r_<column> (raw text) and t_<column> (converted) for every contract column."""
    contract = TABLES[source.table]
    raw = ", ".join(
        f"{_normalised_text(f'c{source.mapping[c]}') if kind == 'VARCHAR' else f'c{source.mapping[c]}'} as r_{c}"
        for c, (kind, _) in contract.items())
    typed = ", ".join(f"{_typed_expr(c, kind, f'r_{c}')} as t_{c}" for c, (kind, _) in contract.items())
    return f"select *, {typed} from (select _k, {raw} from ({relation or source.relation}))"


def _ok_expr(rules: list[Rule]) -> str:
    # DuckDB short-circuits AND/OR only in filter and CASE WHEN contexts (in a plain projection it
    # evaluates every operand for every row), so the rules go inside a CASE. Which rules failed is
    # worked out later, for the rejected rows only.
    return "case when " + " or ".join(f"({rule.condition})" for rule in rules) + " then false else true end"


def _bits_expr(rules: list[Rule]) -> str:
    return " | ".join(
        f"(case when {rule.condition} then {1 << i}::ubigint else 0::ubigint end)"
        for i, rule in enumerate(rules)
    )


def _reason_expr(rules: list[Rule]) -> str:
    parts = ", ".join(
        f"case when {rule.condition} then {_sql_string(rule.label + ' (')} || {rule.shown} || ')' end"
        for rule in rules
    )
    return f"concat_ws('; ', {parts})"


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


# --------------------------------------------------------------------------------------------
# Publishing: versioned folders behind a symlink
# --------------------------------------------------------------------------------------------

_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for folder, _, files in os.walk(root):
        for name in files:
            _fsync_path(Path(folder) / name)
        _fsync_path(Path(folder))


_VERSION = r"\d{8}T\d{6}-(?:[0-9a-f]{8}|previous)"


def version_folders(out: Path) -> list[Path]:
    """The versioned extract folders beside `out` (`<name>.<UTC stamp>-<import id>`), oldest first."""
    pattern = re.compile(re.escape(out.name) + r"\." + _VERSION + r"$")
    if not out.parent.is_dir():
        return []
    return sorted(p for p in out.parent.iterdir() if pattern.match(p.name) and p.is_dir() and not p.is_symlink())


def publish(staging: Path, out: Path, stamp: str, import_id: str) -> Path:
    """Make the complete folder `staging` the extract at `out`; return the new version folder.

    `out` becomes (or stays) a symlink to a sibling version folder `<out>.<stamp>-<id>`; the
    switch is one atomic rename of a symlink over `out`, so readers see the old or the new
    extract, never a mix. A first import over a real folder (e.g. the generated sample) swaps it
    with the symlink atomically too (renameat2 RENAME_EXCHANGE) and keeps it as the previous
    version. Older versions are deleted; the previous one is kept for rollback and for app
    sessions still reading it.
    """
    parent = out.parent
    version = parent / f"{out.name}.{stamp}-{import_id[:8]}"
    os.rename(staging, version)
    _fsync_path(parent)
    previous = out.resolve() if out.is_symlink() else None
    link = parent / f"{out.name}.link-{import_id[:8]}"
    try:
        os.symlink(version.name, link)
        previous = _swap(link, out) or previous
    except BaseException:
        if link.is_symlink():
            link.unlink()
        if out.resolve() != version.resolve():
            shutil.rmtree(version, ignore_errors=True)
        raise
    _fsync_path(parent)
    for old in version_folders(out):
        if old not in (version, previous):
            shutil.rmtree(old, ignore_errors=True)
    return version


def _swap(link: Path, out: Path) -> Path | None:
    """Put the symlink `link` at `out`; when `out` was a real folder, return where it was kept."""
    parent = out.parent
    if out.is_symlink() or not out.exists():
        os.replace(link, out)
        return None
    old_stamp = dt.datetime.fromtimestamp(out.stat().st_mtime, dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    kept = parent / f"{out.name}.{old_stamp}-previous"
    if _exchange(link, out):
        os.rename(link, kept)  # `link` now names the old real folder
        return kept
    # Without an atomic exchange there is a moment with no `out`: an app page run that starts
    # just then reports a missing extract; the next one finds the new extract.
    os.rename(out, kept)
    try:
        os.replace(link, out)
    except OSError:
        os.rename(kept, out)
        raise
    return kept


class _Lock:
    """One import at a time per extract folder (an exclusive flock on `<out>.lock`)."""

    def __init__(self, out: Path):
        self.path = out.parent / f"{out.name}.lock"
        self.handle = None

    def __enter__(self):
        import fcntl

        try:
            # O_NOFOLLOW: a symlink planted at the lock's name is refused, not followed (issue 13).
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnusableInput(f"{self.path} is a symlink; the import lock must be a plain "
                                    "file. Remove the symlink and try again.") from None
            raise UnusableInput(f"{self.path}: cannot create the import lock ({exc.strerror}).") from None
        self.handle = os.fdopen(fd, "a")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.handle.close()
            raise UnusableInput(f"Another import into {self.path.parent} is running; try again later.") from None
        return self

    def __exit__(self, *exc):
        self.handle.close()


def _clean_leftovers(out: Path) -> None:
    # What imports killed midway left behind (we hold the lock, so none is running). A `link-`
    # path that is a real folder is an old extract an interrupted exchange left there: keep it.
    for path in out.parent.glob(f"{out.name}.partial-*"):
        shutil.rmtree(path, ignore_errors=True)
    for path in out.parent.glob(f"{out.name}.link-*"):
        if path.is_symlink():
            path.unlink()
    from reemploy.db import remove_stale_partials

    # Half-written derived files of app processes that were killed (their pid is gone).
    for version in [*version_folders(out), out]:
        derived = version / ".derived"
        if derived.is_dir() and not derived.is_symlink():
            for folder in [derived, *(p for p in derived.iterdir() if p.is_dir() and not p.is_symlink())]:
                remove_stale_partials(folder)


def clean_leftovers_if_idle(out: str | os.PathLike) -> bool:
    """Remove what killed imports and builds left beside and in the extract at `out`, unless an
    import is running now (it holds the lock); the app calls this once per folder when it starts,
    so leftovers do not wait for the next import (issue 13). True when it cleaned."""
    out = Path(out).expanduser().absolute()
    if not out.parent.is_dir():
        return False
    try:
        with _Lock(out):
            _clean_leftovers(out)
    except UnusableInput:
        return False
    return True


def _check_inputs(sources: dict, out: Path) -> None:
    """Refuse input files kept inside the extract or its versions: publishing moves the folder
    they are in and a later import deletes it (issue 13)."""
    kept = [out.resolve(), *(p.resolve() for p in version_folders(out))] if out.exists() else []
    kept += [p.resolve() for p in out.parent.glob(f"{out.name}.*") if p.is_dir()] if out.parent.is_dir() else []
    for source in sources.values():
        real = source.path.resolve()
        for folder in kept:
            if real.is_relative_to(folder):
                raise UnusableInput(
                    f"{source.path} is inside the extract folder {folder}, which this import "
                    "replaces and a later import deletes. Keep input files elsewhere (move it out "
                    "first).")


def _previous_geojson(out: Path) -> Path | None:
    """The boundaries the app has now, to carry into the new extract; a symlink is refused, not
    followed: its target (any file) would be copied into the extract (issue 13)."""
    current = out / GEOJSON
    if current.is_symlink():
        raise UnusableInput(
            f"{current} is a symlink (to {os.readlink(current)}); boundaries are copied into "
            "every new extract, so it must be the file itself. Replace the link with a copy of "
            "the file and import again.")
    return current if current.is_file() else None


def _check_target(out: Path) -> None:
    if out.is_symlink() or not out.exists():
        return
    if not out.is_dir():
        raise UnusableInput(f"--out {out} is a file, not an extract folder.")
    if any(out.iterdir()) and not (out / MANIFEST).exists() and not (out / "enrollments.parquet").exists():
        raise UnusableInput(
            f"--out {out} holds files but no extract (no {MANIFEST}); refusing to replace it. "
            "Choose an empty or new folder."
        )


# --------------------------------------------------------------------------------------------
# The import
# --------------------------------------------------------------------------------------------


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _prepare(source: Source, con, mappings: dict, encoding: str | None, work: Path, progress: bool,
             integer_dates: str | None = None) -> None:
    if not source.path.is_file():
        raise UnusableInput(f"{source.path}: no such file.")
    source.size = source.path.stat().st_size
    if source.size == 0:
        raise UnusableInput(f"{source.path}: the file is empty.")
    source.format = _sniff_format(source.path)
    if source.format == "csv":
        _prepare_csv(source, encoding, work, progress)
    elif source.format == "parquet":
        _prepare_parquet(source, con, progress)
    else:
        _prepare_xlsx(source, mappings, work, progress)
        return
    if not any(source.header):
        raise UnusableInput(f"{source.path}: no header row.")
    _map_columns(source, mappings)
    if source.format == "parquet":
        _parquet_relation(source, integer_dates)


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


def prepare_for_app(staging: Path) -> None:
    """Build the app's per-version outcome table and catalogue inside the staging folder, before
    it is published: a disk that fills up then fails the import (the previous extract stays in
    service), never the app after the switch (issue 13). The version does not depend on the
    folder's name, so the app finds them after the rename."""
    from reemploy.db import connect
    from reemploy.extracts import ExtractError, open_extract
    from reemploy.figures.catalogue import extract_catalogue

    try:
        extract = open_extract(staging)
        extract_catalogue(connect(extract), extract)
    except ExtractError as exc:
        raise UnusableInput(f"the new extract could not be prepared for the app: {exc.problem}") from None
    except OSError as exc:
        raise UnusableInput(f"the new extract could not be prepared for the app in {staging.parent}: "
                            f"{exc.strerror or exc}.") from None
    _fsync_tree(staging)


def publish_folder(out: str | os.PathLike, build: Callable[[Path], object]) -> Path:
    """Make what `build(folder)` writes into an empty folder the extract at `out`, the way an
    import does: under the lock, prepared for the app, then behind the symlink (see `publish`).
    The generated sample goes this way too, so even the first import over it is a symlink swap
    that open sessions survive (issue 13)."""
    out = Path(out).expanduser().absolute()
    _check_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    import_id = uuid.uuid4().hex
    with _Lock(out):
        _clean_leftovers(out)
        if out.is_dir() and not out.is_symlink() and not any(out.iterdir()):
            out.rmdir()  # an empty real folder: nothing to keep as a previous version
        staging = out.parent / f"{out.name}.partial-{import_id[:8]}"
        staging.mkdir()
        try:
            build(staging)
            prepare_for_app(staging)
            return publish(staging, out, _utc_now().strftime("%Y%m%dT%H%M%S"), import_id)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)


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
