"""Opening extracts: the contract checks and the messages that say how to fix a broken one."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from reemploy.db import connect
from reemploy.extracts import ExtractError, is_empty, open_extract, resolve_data_dir

from conftest import TINY_ENROLLMENTS, TINY_PLACEMENTS, write_extract


@pytest.fixture
def tiny_extract(writable_tiny_extract):
    """The tests here rewrite or break their extract: each one gets a writable copy of its own,
    not the shared read-only one of conftest."""
    return writable_tiny_extract


def test_open_extract_reads_as_of_and_lists_the_files(tiny_extract):
    extract = open_extract(tiny_extract)
    assert extract.as_of.isoformat() == "2002-12-31"
    assert extract.files["enrollments"][0].endswith("enrollments.parquet")
    assert extract.geojson_path is None


def test_version_changes_when_the_manifest_changes(tiny_extract):
    before = open_extract(tiny_extract).version
    (tiny_extract / "manifest.json").write_text(json.dumps({"as_of": "2002-12-30"}))
    assert open_extract(tiny_extract).version != before


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda p: (p / "manifest.json").unlink(), "has no manifest.json"),
        (lambda p: (p / "manifest.json").write_text("{oops"), "not valid JSON"),
        (lambda p: (p / "manifest.json").write_text("{}"), 'no "as_of"'),
        (lambda p: (p / "manifest.json").write_text('{"as_of": "2002-02-30"}'), "invalid"),
        (lambda p: (p / "placements.parquet").unlink(), "no placements table"),
        (lambda p: (p / "enrollments.parquet").write_bytes(b"PAR1 truncated"), "not a readable Parquet"),
    ],
)
def test_a_broken_extract_raises_a_message_with_the_fix(tiny_extract, breakage, message):
    breakage(tiny_extract)
    with pytest.raises(ExtractError) as error:
        open_extract(tiny_extract)
    assert message in error.value.problem
    assert "python -m reemploy" in error.value.fix


def test_a_table_missing_a_required_column_is_named(tiny_extract):
    table = pq.read_table(tiny_extract / "placements.parquet").drop_columns(["employer_type"])
    pq.write_table(table, tiny_extract / "placements.parquet")
    with pytest.raises(ExtractError, match="employer_type"):
        open_extract(tiny_extract)


def test_a_folder_of_hive_partitioned_files_is_an_extract(tmp_path):
    flat = write_extract(tmp_path / "flat", TINY_ENROLLMENTS, TINY_PLACEMENTS)
    hive = tmp_path / "hive"
    hive.mkdir()
    (hive / "manifest.json").write_text((flat / "manifest.json").read_text())
    pq.write_to_dataset(pq.read_table(flat / "enrollments.parquet"), hive / "enrollments",
                        partition_cols=["program_type"])
    (hive / "placements").mkdir()
    (hive / "placements" / "part-0.parquet").write_bytes((flat / "placements.parquet").read_bytes())
    extract = open_extract(hive)
    count = connect(extract).execute(
        "select count(*) from enrollment_outcomes where program_type = 'skills'").fetchone()[0]
    assert count == 5


def test_empty_and_missing_folders_count_as_first_start(tmp_path):
    assert is_empty(tmp_path / "missing")
    assert is_empty(tmp_path)


def test_data_folder_comes_from_the_argument_then_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("REEMPLOY_DATA", str(tmp_path))
    assert resolve_data_dir() == tmp_path
    assert resolve_data_dir("elsewhere").name == "elsewhere"
