"""What the extract holds, whatever the filters: the values the filters offer and its size and
span. Persisted per extract version (reemploy.cache): counting distinct people reads every
enrollment, once per version is enough."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd

from reemploy.cache import answer
from reemploy.db import run_query
from reemploy.extracts import Extract


@answer(persist=True)
def filter_values(con: duckdb.DuckDBPyConnection, extract: Extract) -> pd.DataFrame:
    """queries/filter_values.sql: every district and prior sector with its enrollments."""
    return run_query(con, "filter_values", {})


@answer(persist=True)
def extract_profile(con: duckdb.DuckDBPyConnection, extract: Extract) -> pd.DataFrame:
    """queries/extract_profile.sql: row counts and date span of the whole extract (one row)."""
    return run_query(con, "extract_profile", {})


def filter_catalogue(con: duckdb.DuckDBPyConnection, extract: Extract) -> dict[str, tuple[str, ...]]:
    """The districts and prior sectors present in the extract, sorted."""
    df = filter_values(con, extract)
    return {
        name: tuple(sorted(part["value"].astype(str)))
        for name, part in df.groupby("filter_name", sort=True)
    }


def extract_catalogue(con: duckdb.DuckDBPyConnection, extract: Extract) -> dict:
    """{"catalogue": filter_catalogue, "profile": extract_profile as a dict}."""
    return {"catalogue": filter_catalogue(con, extract),
            "profile": extract_profile(con, extract).iloc[0].to_dict()}


@answer
def district_shapes(con: duckdb.DuckDBPyConnection, extract: Extract) -> dict | None:
    """The extract's districts.geojson when every feature names its district
    (properties.district), else None (no file, or one that cannot be read as such)."""
    if extract.geojson_path is None:
        return None
    try:
        shapes = json.loads(Path(extract.geojson_path).read_text(encoding="utf-8"))
        if all("district" in (f.get("properties") or {}) for f in shapes["features"]):
            return shapes
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return None
