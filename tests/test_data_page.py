"""The Data page and its helpers: freshness against the import date (or today), the import report."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from conftest import TINY_ENROLLMENTS, TINY_PLACEMENTS, write_extract
from reemploy import cli, provenance
from reemploy.extracts import open_extract

ROOT = Path(__file__).resolve().parent.parent


def data_page(data_dir: Path, monkeypatch, **env) -> AppTest:
    monkeypatch.setenv("REEMPLOY_DATA", str(data_dir))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.run()
    at.switch_page(str(ROOT / "pages" / "data.py")).run()
    assert not at.exception, at.exception
    return at


def imported_extract(tmp_path: Path, as_of="2002-12-31") -> Path:
    """The tiny fixture exported to CSV, one placement pointing nowhere, imported."""
    source = write_extract(tmp_path / "source", TINY_ENROLLMENTS, TINY_PLACEMENTS)
    import duckdb

    con = duckdb.connect()
    con.read_parquet(str(source / "enrollments.parquet")).write_csv(str(tmp_path / "e.csv"), header=True)
    con.read_parquet(str(source / "placements.parquet")).project(
        "* replace (case when placement_id = 'J8' then 'X1' else enrollment_id end as enrollment_id)"
    ).write_csv(str(tmp_path / "p.csv"), header=True)
    out = tmp_path / "extract"
    code = cli.main(["import", "--enrollments", str(tmp_path / "e.csv"), "--placements",
                     str(tmp_path / "p.csv"), "--as-of", as_of, "--out", str(out), "--quiet"])
    assert code == 1  # J5a starts before S5's enrollment, J8 points to no enrollment
    return out


def test_freshness_is_measured_against_the_import_day_when_recorded(tmp_path):
    extract = open_extract(write_extract(tmp_path / "x", [], [], as_of=dt.date(2002, 12, 31)))
    manifest = dict(extract.manifest, imported_at="2003-02-14T09:00:00+00:00")
    imported = provenance.extract_freshness(dataclasses.replace(extract, manifest=manifest),
                                            today=dt.date(2030, 1, 1), limit=90)
    assert (imported.reference, imported.days, imported.stale) == (dt.date(2003, 2, 14), 45, False)
    unrecorded = provenance.extract_freshness(extract, today=dt.date(2003, 6, 30), limit=90)
    assert (unrecorded.reference, unrecorded.days, unrecorded.stale) == (dt.date(2003, 6, 30), 181, True)
    assert "181 days before today (2003-06-30)" in unrecorded.explanation()
    # The setting's name is for the operator, not in the warning people read.
    assert "REEMPLOY_STALE_DAYS" not in unrecorded.explanation()
    assert "REEMPLOY_STALE_DAYS" in unrecorded.operator_note()


def test_the_stale_days_setting_falls_back_to_90_when_unset_or_invalid(monkeypatch):
    monkeypatch.delenv("REEMPLOY_STALE_DAYS", raising=False)
    assert provenance.stale_days() == 90
    monkeypatch.setenv("REEMPLOY_STALE_DAYS", "30")
    assert provenance.stale_days() == 30
    monkeypatch.setenv("REEMPLOY_STALE_DAYS", "soon")
    assert provenance.stale_days() == 90


def test_the_data_page_explains_why_an_old_extract_is_flagged(tiny_extract, monkeypatch):
    at = data_page(tiny_extract, monkeypatch)
    (warning,) = [w.value for w in at.warning if "The data are old" in w.value]
    assert "2002-12-31" in warning and "days before today" in warning and "90 days" in warning
    assert any("no import report" in info.value for info in at.info)
    quiet = data_page(tiny_extract, monkeypatch, REEMPLOY_STALE_DAYS="1000000")
    assert not [w for w in quiet.warning if "The data are old" in w.value]


def test_the_data_page_shows_the_last_import_with_rejections_by_reason(tmp_path, monkeypatch):
    out = imported_extract(tmp_path)
    at = data_page(out, monkeypatch)
    counts, reasons = at.dataframe[0].value, at.dataframe[1].value
    placements = counts.set_index("table").loc["placements"]
    assert (placements["read"], placements["accepted"], placements["rejected"]) == (8, 6, 2)
    assert set(reasons["reason"]) == {"enrollment_id: not in the enrollments file",
                                      "started_on: before the enrollment's enrolled_on"}
    assert "rejected/placements.csv" in " ".join(c.value for c in at.caption)
    report = json.loads((out / "import-report.json").read_text())
    assert f"with data up to {report['as_of']}" in " ".join(m.value for m in at.markdown)
    # imported today with as_of 2002: flagged, measured against the import day
    assert any("before the day it was imported" in w.value for w in at.warning)
