"""Reading the inputs: the format (CSV, Parquet or Excel), a CSV's encoding, delimiter, header and
line endings, and each file's hash; every input becomes one relation of text columns for DuckDB."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import sys
from dataclasses import dataclass, field
from pathlib import Path

from reemploy.contract import TABLES
from reemploy.importer.mapping import _map_columns
from reemploy.importer.results import UnusableInput
from reemploy.importer.rules import TRIMMED, _sql_string


CHUNK_BYTES = 8 << 20

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


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
