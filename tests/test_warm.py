"""The store behind the result cache and the warming that fills it (reemploy.cache,
reemploy.tools.warm): every stored answer is exactly the one computed from the outcome table,
for periods in whole months and to the day; warmed views are answered without computing; an
import that swaps the extract under open sessions is answered from the new version."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from conftest import TINY_ENROLLMENTS, TINY_PLACEMENTS, run_app, write_extract
from reemploy import cache, importer
from reemploy.db import derived_dir
from reemploy.extracts import open_extract
from reemploy.tools import warm

D = dt.date.fromisoformat
VIEWS = [
    {},
    {"district": ["北山"]},
    {"sector": ["coal"]},
    {"program": ["skills"]},
    {"from": ["2001-01-01"], "to": ["2001-12-31"]},  # whole months
    {"from": ["2002-01-01"], "to": ["2002-03-31"]},
    {"from": ["2001-01-10"], "to": ["2002-01-15"]},  # to the day, as a link may carry
    {"district": ["北山"], "sector": ["coal"], "from": ["2000-06-01"], "to": ["2001-02-01"]},
    {"gender": ["F"], "age": ["30-39"], "program": ["mindset", "none"]},
]


@pytest.fixture
def writing_store():
    previous = cache.set_store_mode("write")
    yield
    cache.set_store_mode(previous)


def same(a, b) -> bool:
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
        return a.attrs == b.attrs
    return a == b or repr(a) == repr(b)  # NaN inside a dict


def test_the_meeting_views_are_unfiltered_each_value_the_quick_periods_then_the_pairs():
    views = warm.meeting_views(("A", "B"), ("x",), D("2000-06-01"), D("2002-12-31"))
    assert views == [
        {}, {"district": ["A"]}, {"district": ["B"]}, {"sector": ["x"]},
        {"program": ["skills"]}, {"program": ["mindset"]}, {"program": ["combined"]},
        {"program": ["none"]},
        {"from": ["2002-10-01"], "to": ["2002-12-31"]},  # last full quarter
        {"from": ["2002-01-01"], "to": ["2002-12-31"]},  # the last 12 full months, also 2002
        {"from": ["2001-01-01"], "to": ["2001-12-31"]},
        {"from": ["2000-01-01"], "to": ["2000-12-31"]},
        {"district": ["A"], "sector": ["x"]}, {"district": ["B"], "sector": ["x"]},
    ]
    assert len(warm.meeting_views(("A", "B"), ("x",), D("2000-06-01"), D("2002-12-31"), pairs=False)) == 12


def test_every_stored_answer_reads_back_as_exactly_the_computed_one(writable_tiny_extract, monkeypatch,
                                                                     writing_store):
    monkeypatch.setenv("REEMPLOY_MIN_CELL", "1")
    results = warm.run_views(str(writable_tiny_extract), VIEWS)
    assert [r["errors"] for r in results] == [[] for _ in VIEWS]
    computed = dict(cache._ENTRIES)  # what the pages' figures computed, per key
    assert len(computed) > 100
    cache.clear()
    read = cache.preload(open_extract(writable_tiny_extract))
    # What the pages asked for is stored (DataFrames as Parquet, the rest as JSON; the
    # questions a figure asks on the way are not), and reads back exactly as computed. That
    # nothing a page asks is missing is the next test's.
    # Only this extract's entries, however read: the app's own delayed preload (ui._connection)
    # may read some of them, or another test's extract, meanwhile.
    location = open_extract(writable_tiny_extract).location
    preloaded = {key: value for key, value in cache._ENTRIES.items() if key[0] == location}
    assert 50 < len(preloaded) < len(computed) and read <= len(preloaded)
    assert set(preloaded) <= set(computed)
    for key, value in preloaded.items():
        assert same(value, computed[key]), key


def test_warmed_views_are_answered_from_the_store_with_the_figures_of_a_cold_run(
        writable_tiny_extract, monkeypatch, writing_store):
    monkeypatch.setenv("REEMPLOY_MIN_CELL", "1")
    warm.run_views(str(writable_tiny_extract), VIEWS[:5])
    for mode in ("off", "read"):
        cache.set_store_mode(mode)
        shown = {}
        for page in ("dashboard.py", "pages/compare_programs.py", "pages/districts.py"):
            for view in VIEWS[:5]:
                cache.clear()
                cache.reset_counts()
                at = run_app(writable_tiny_extract, monkeypatch, page, **view)
                assert not at.exception
                counts = cache.reset_counts()
                shown[page, str(view)] = ([m.value for m in at.metric],
                                          [c.proto.spec for c in at.get("plotly_chart")])
                if mode == "read":  # a new process with the store: nothing is computed again
                    assert counts["computed"] == 0 and counts["store"] > 0, (page, view, counts)
        if mode == "off":
            cold = shown
    assert shown == cold


def _import(tmp_path: Path, name: str, enrollments, out: Path) -> None:
    source = write_extract(tmp_path / name, enrollments, TINY_PLACEMENTS)
    result = importer.import_extract(source / "enrollments.parquet", source / "placements.parquet",
                                     D("2002-12-31"), out, log=lambda text: None)
    # The hand-made rows include a placement before its enrollment, which an import rejects.
    assert result.exit_code in (importer.EXIT_OK, importer.EXIT_REJECTED), result.report


def test_an_import_under_an_open_session_is_answered_from_the_new_version_not_the_old_store(
        tmp_path, monkeypatch, writing_store):
    out = tmp_path / "extract"
    _import(tmp_path, "first", TINY_ENROLLMENTS, out)
    old = open_extract(out)
    warm.run_views(str(out), [{}])
    assert any((derived_dir(old) / cache.ANSWERS_FOLDER).rglob("headline_by_program-*.parquet"))
    cache.set_store_mode("read")
    at = run_app(out, monkeypatch)
    before = [m.value for m in at.metric]
    more = TINY_ENROLLMENTS + [dict(row, enrollment_id=f"{row['enrollment_id']}x")
                               for row in TINY_ENROLLMENTS]
    _import(tmp_path, "second", more, out)
    assert open_extract(out).version != old.version
    cache.reset_counts()
    after = [m.value for m in at.run().metric]  # the same browser session, rerun
    assert cache.reset_counts()["computed"] > 0
    cache.clear()
    cache.set_store_mode("off")
    cold = [m.value for m in run_app(out, monkeypatch).metric]
    assert after == cold != before
