"""Locate, check and describe an extract folder (the contract is in data/README.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from reemploy.contract import TABLES

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT / "data" / "extracts"
DATA_ENV_VAR = "REEMPLOY_DATA"
MANIFEST = "manifest.json"
GEOJSON = "districts.geojson"


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
    """An opened extract: where its files are, its as_of date and a version for cache keys."""

    path: Path
    as_of: dt.date
    version: str
    manifest: dict
    files: dict[str, tuple[str, ...]]

    @property
    def geojson_path(self) -> Path | None:
        candidate = self.path / GEOJSON
        return candidate if candidate.is_file() else None


def resolve_data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The extract folder: an explicit path, else $REEMPLOY_DATA, else data/extracts."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get(DATA_ENV_VAR):
        return Path(os.environ[DATA_ENV_VAR]).expanduser()
    return DEFAULT_DATA_DIR


def is_empty(path: Path) -> bool:
    """True when the folder is missing or holds no extract at all (first start)."""
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
    try:
        manifest = json.loads(raw.decode("utf-8"))
        as_of = dt.date.fromisoformat(str(manifest["as_of"]))
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError) as exc:
        raise ExtractError(f"{manifest_path} is not valid JSON: {exc}.") from exc
    except KeyError as exc:
        raise ExtractError(f'{manifest_path} has no "as_of" date (YYYY-MM-DD).') from exc
    except ValueError as exc:
        raise ExtractError(f'{manifest_path} has an invalid "as_of" date: {manifest["as_of"]!r}.') from exc
    return manifest, as_of, raw


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


def _check_schema(table: str, files: tuple[str, ...]) -> None:
    # Reading only the footer of one file is cheap and catches truncated or foreign files
    # before a page runs its first query.
    for file in files[:1] + files[-1:]:
        try:
            schema = pq.read_schema(file)
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
    root = Path(path).resolve()
    if not root.is_dir():
        raise ExtractError(f"The extract folder {root} does not exist.")
    manifest, as_of, raw = _read_as_of(root)
    files = {table: _table_files(root, table) for table in TABLES}
    for table, table_files in files.items():
        _check_schema(table, table_files)
    digest = hashlib.sha256(raw)
    for table_files in files.values():
        for file in table_files:
            stat = os.stat(file)
            digest.update(f"{file}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return Extract(root, as_of, digest.hexdigest()[:16], manifest, files)


def recorded_min_cell(extract: Extract) -> int | None:
    """The suppression threshold recorded at import (`import --min-cell`), if any."""
    value = extract.manifest.get("min_cell")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None
