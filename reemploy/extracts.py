"""Locate, check and describe an extract folder (the contract is in data/README.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from reemploy.contract import TABLES

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT / "data" / "extracts"
DATA_ENV_VAR = "REEMPLOY_DATA"
MIN_CELL_ENV_VAR = "REEMPLOY_MIN_CELL"
DEFAULT_MIN_CELL = 10
MANIFEST = "manifest.json"
GEOJSON = "districts.geojson"
# Small files a remote extract may carry besides its tables; copied to its local working folder so
# the map and the Data page read them as they do for a local extract.
REMOTE_SIDE_FILES = (GEOJSON, "import-report.json")
REMOTE_WORK_DIR = "reemploy-remote"


class ExtractError(Exception):
    """An extract that cannot be used, with what is wrong and how to fix it."""

    def __init__(self, problem: str, fix: str = ""):
        super().__init__(problem)
        self.problem = problem
        self.fix = fix or (
            "Generate the sample with `python -m reemploy generate --out DIR`, or import "
            "real data with `python -m reemploy import --enrollments FILE --placements FILE "
            "--as-of YYYY-MM-DD --out DIR`."
        )

    def __str__(self) -> str:
        return f"{self.problem}\n{self.fix}"


@dataclass(frozen=True)
class Extract:
    """An opened extract: where its files are, its as_of date and a version for cache keys.

    For an extract at a URL (s3://bucket/extract, https://host/extract), `url` is that address,
    `files` are URLs DuckDB reads in place, and `path` is a local working folder holding copies
    of its small side files and its derived table."""

    path: Path
    as_of: dt.date
    version: str
    manifest: dict
    files: dict[str, tuple[str, ...]]
    url: str | None = None

    @property
    def location(self) -> str:
        """Where the extract lives, as given to open_extract: its URL, else its folder."""
        return self.url or str(self.path)

    @property
    def geojson_path(self) -> Path | None:
        candidate = self.path / GEOJSON
        return candidate if candidate.is_file() else None


def is_remote(location: str | os.PathLike) -> bool:
    """True for an extract addressed by URL (s3://..., https://...) rather than a local folder."""
    return isinstance(location, str) and "://" in location


def resolve_data_dir(explicit: str | os.PathLike | None = None) -> Path | str:
    """The extract folder: an explicit path, else $REEMPLOY_DATA, else data/extracts. A URL is
    returned as it is (see docs/scaling.md)."""
    chosen = explicit or os.environ.get(DATA_ENV_VAR)
    if chosen and is_remote(str(chosen)):
        return str(chosen).rstrip("/")
    if chosen:
        return Path(chosen).expanduser()
    return DEFAULT_DATA_DIR


def is_empty(path: Path | str) -> bool:
    """True when the folder is missing or holds no extract at all (first start); never for a URL,
    which is only read (open_extract says what is missing there)."""
    if is_remote(path):
        return False
    return not path.exists() or not any(
        (path / name).exists()
        for name in (MANIFEST, "enrollments.parquet", "enrollments", "placements.parquet")
    )


def _table_files(root: Path, table: str) -> tuple[str, ...]:
    single = root / f"{table}.parquet"
    folder = root / table
    if single.is_file():
        return (str(single),)
    if folder.is_dir():
        files = tuple(sorted(str(p) for p in folder.rglob("*.parquet") if p.is_file()))
        if files:
            return files
        raise ExtractError(f"The folder {folder} holds no Parquet files.")
    raise ExtractError(
        f"The extract in {root} has no {table} table: expected {single.name} or a folder "
        f"{folder.name}/ of Parquet files."
    )


def _read_as_of(root: Path) -> tuple[dict, dt.date, bytes]:
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        raise ExtractError(f"The extract in {root} has no {MANIFEST} (it must give the as_of date).")
    raw = manifest_path.read_bytes()
    manifest, as_of = _parse_manifest(raw, manifest_path)
    return manifest, as_of, raw


def _parse_manifest(raw: bytes, manifest_path) -> tuple[dict, dt.date]:
    try:
        manifest = json.loads(raw.decode("utf-8"))
        as_of = dt.date.fromisoformat(str(manifest["as_of"]))
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError) as exc:
        raise ExtractError(f"{manifest_path} is not valid JSON: {exc}.") from exc
    except KeyError as exc:
        raise ExtractError(f'{manifest_path} has no "as_of" date (YYYY-MM-DD).') from exc
    except ValueError as exc:
        raise ExtractError(f'{manifest_path} has an invalid "as_of" date: {manifest["as_of"]!r}.') from exc
    return manifest, as_of


# Contract type -> the Arrow types a query can use as that type, and how to name it.
_ARROW_TYPES = {
    "VARCHAR": (lambda t: pa.types.is_string(t) or pa.types.is_large_string(t), "text"),
    "DATE": (lambda t: pa.types.is_date(t) or pa.types.is_timestamp(t), "a date"),
    "INTEGER": (pa.types.is_integer, "a whole number"),
    "DOUBLE": (lambda t: pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_decimal(t),
               "a number"),
    "BOOLEAN": (pa.types.is_boolean, "true/false"),
}
RETYPE_FIX = ("Import the data with `python -m reemploy import --enrollments FILE --placements FILE "
              "--as-of YYYY-MM-DD --out DIR`: it converts every column to the contract's type and "
              "lists the rows it cannot convert.")


def _check_types(table: str, file: str, schema: pa.Schema) -> None:
    for field in schema:
        if field.name not in TABLES[table]:
            continue
        kind = TABLES[table][field.name][0]
        arrow_type = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        accepts, word = _ARROW_TYPES[kind]
        # A column of nothing but nulls is written with the null type; any query can read it.
        if not (accepts(arrow_type) or pa.types.is_null(arrow_type)):
            raise ExtractError(f"In {file}, the column {field.name} holds {arrow_type}, not {word} "
                               f"({kind}) as the contract says.", RETYPE_FIX)


def _check_schema(table: str, files: tuple[str, ...], filesystem=None) -> None:
    # Reading only the footer of one file is cheap and catches truncated or foreign files
    # before a page runs its first query.
    for file in files[:1] + files[-1:]:
        try:
            if filesystem is None:
                schema = pq.read_schema(file)
            else:
                with filesystem.open(file, "rb") as handle:
                    schema = pq.read_schema(handle)
        except Exception as exc:  # pyarrow raises several types for broken files
            raise ExtractError(f"{file} is not a readable Parquet file ({exc}).") from exc
        # Hive partition folders (district=X/) carry their column in the path, not the file.
        names = set(schema.names) | {part.split("=", 1)[0] for part in Path(file).parts if "=" in part}
        missing = [column for column in TABLES[table] if column not in names]
        if missing:
            raise ExtractError(
                f"{file} lacks the required column(s) {', '.join(missing)} of the {table} table."
            )
        _check_types(table, file, schema)


def open_extract(path: str | os.PathLike) -> Extract:
    """Check an extract folder against the contract and describe it, or raise ExtractError."""
    # An imported extract is a symlink to a versioned folder (reemploy.importer.publish). Resolving
    # it here pins this Extract, its connection and its caches to one version, even when the next
    # import swaps the symlink while a page is running.
    if is_remote(str(path)):
        return _open_remote(str(path).rstrip("/"))
    root = Path(path).resolve()
    if root.exists() and not root.is_dir():
        raise ExtractError(f"{root} is a file, not an extract folder.",
                           f"Point {DATA_ENV_VAR} (or --data) at the extract's folder.")
    if not root.is_dir():
        raise ExtractError(f"The extract folder {root} does not exist.")
    try:
        manifest, as_of, raw = _read_as_of(root)
    except PermissionError as exc:
        raise ExtractError(f"The extract folder {root} cannot be read ({exc.strerror}).",
                           "Give the app's user permission to read it, or choose another folder.") from exc
    files = {table: _table_files(root, table) for table in TABLES}
    for table, table_files in files.items():
        _check_schema(table, table_files)
    digest = hashlib.sha256(raw)
    for table_files in files.values():
        for file in table_files:
            stat = os.stat(file)
            # Relative to the extract, so the version stays the same when the folder is renamed
            # into place: the import builds the derived table in its staging folder (issue 13).
            digest.update(f"{os.path.relpath(file, root)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return Extract(root, as_of, digest.hexdigest()[:16], manifest, files)


def remote_filesystem(url: str):
    """The fsspec filesystem that reads this URL, for pyarrow here and for DuckDB
    (`con.register_filesystem`, reemploy.db). This DuckDB has no httpfs extension on this
    machine (docs/scaling.md), so s3:// goes through s3fs and http(s):// through fsspec's HTTP
    filesystem; credentials and endpoints come from the usual AWS_* environment variables."""
    try:
        import fsspec
    except ImportError as exc:
        raise ExtractError(
            f"Reading an extract at {url} needs fsspec (and s3fs for s3://).",
            "Install them with `python -m pip install -r requirements-scale.txt`.") from exc
    try:
        protocol = url.split("://", 1)[0]
        if protocol in ("http", "https"):
            return _http_filesystem_class()()
        # No read-ahead: DuckDB asks for the column chunks it needs, as httpfs would; s3fs's
        # default read-ahead fetches many times the bytes a query reads (docs/scaling.md).
        options = {"default_cache_type": "none"} if protocol in ("s3", "s3a") else {}
        return fsspec.core.url_to_fs(url, **options)[0]
    except (ImportError, ValueError) as exc:
        raise ExtractError(f"No filesystem can read {url} ({exc}).",
                           "Install them with `python -m pip install -r requirements-scale.txt`.") from exc


@lru_cache(maxsize=1)
def _http_filesystem_class():
    from email.utils import parsedate_to_datetime

    from fsspec.implementations.http import HTTPFileSystem

    class ModifiedHTTPFileSystem(HTTPFileSystem):
        # DuckDB 2.0.1 asks a registered filesystem when a file was modified; fsspec's HTTP
        # filesystem does not say ("http: modified() is not implemented"), the header does.
        def modified(self, path):
            header = self.info(path).get("Last-Modified")
            if not header:
                raise NotImplementedError(f"{path}: the server sends no Last-Modified header")
            return parsedate_to_datetime(header)

        # fsspec takes files behind a URL to never change and keys them by the URL alone; the
        # extract's version must change when a file is replaced, so key by size, ETag, date.
        def ukey(self, path):
            return hashlib.sha256(str(sorted(self.info(path).items())).encode()).hexdigest()

    return ModifiedHTTPFileSystem


def _open_remote(url: str) -> Extract:
    # The same checks as for a folder, through the URL's filesystem. Tables stay where they are
    # (DuckDB reads them with range requests); the manifest is parsed in memory and the small
    # side files are copied to a local working folder, where the derived table is written too.
    fs = remote_filesystem(url)
    fs.invalidate_cache()  # a listing cached by an earlier open would hide a re-published extract
    root = fs._strip_protocol(url)
    manifest_path = f"{url}/{MANIFEST}"
    try:
        raw = fs.cat_file(f"{root}/{MANIFEST}")
    except FileNotFoundError:
        raise ExtractError(f"The extract at {url} has no {MANIFEST} (it must give the as_of date).") from None
    except OSError as exc:
        raise ExtractError(f"The extract at {url} cannot be reached ({exc}).") from exc
    manifest, as_of = _parse_manifest(raw, manifest_path)
    files = {table: _remote_table_files(fs, url, root, table) for table in TABLES}
    for table, table_files in files.items():
        _check_schema(table, table_files, fs)
    digest = hashlib.sha256(raw)
    for table_files in files.values():
        for file in table_files:
            # ukey hashes what the store says of the object (size, ETag, Last-Modified).
            digest.update(f"{file}:{fs.ukey(fs._strip_protocol(file))}".encode())
    work = Path(tempfile.gettempdir()) / REMOTE_WORK_DIR / hashlib.sha256(url.encode()).hexdigest()[:16]
    work.mkdir(parents=True, exist_ok=True)
    for name in REMOTE_SIDE_FILES:
        local = work / name
        try:
            data = fs.cat_file(f"{root}/{name}")
        except FileNotFoundError:
            local.unlink(missing_ok=True)
            continue
        partial = local.with_name(f".{name}.{os.getpid()}.tmp")
        partial.write_bytes(data)
        os.replace(partial, local)
    return Extract(work, as_of, digest.hexdigest()[:16], manifest, files, url=url)


def _remote_table_files(fs, url: str, root: str, table: str) -> tuple[str, ...]:
    single = f"{root}/{table}.parquet"
    if fs.isfile(single):
        return (f"{url}/{table}.parquet",)
    # A folder of files needs a store that lists (S3 does; a plain web server does not).
    found = sorted(p for p in fs.find(f"{root}/{table}") if p.endswith(".parquet"))
    if found:
        return tuple(f"{url}/{p[len(root) + 1:]}" for p in found)
    raise ExtractError(
        f"The extract at {url} has no {table} table: expected {table}.parquet or a folder "
        f"{table}/ of Parquet files.")


def recorded_min_cell(extract: Extract) -> int | None:
    """The suppression threshold recorded at import (`import --min-cell`), if any."""
    value = extract.manifest.get("min_cell")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


def operator_min_cell(override: int | None = None) -> int:
    """The operator's suppression threshold: `override` (a command's --min-cell), else
    $REEMPLOY_MIN_CELL, else 10. An unreadable setting falls back to 10, never to less."""
    if override is not None:
        return max(1, int(override))
    try:
        return max(1, int(os.environ.get(MIN_CELL_ENV_VAR, DEFAULT_MIN_CELL)))
    except ValueError:
        return DEFAULT_MIN_CELL


def effective_min_cell(extract: Extract | None, override: int | None = None) -> int:
    """The threshold in force: the operator's (operator_min_cell), raised, never lowered, by a
    `min_cell` recorded in the extract's manifest. The manifest is data: an import with
    `--min-cell 1` must not lower suppression for every user (issue 13)."""
    recorded = recorded_min_cell(extract) if extract is not None else None
    return max(operator_min_cell(override), recorded or 0)
