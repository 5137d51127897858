"""The benchmark's own logic: the interactions it replays and how it summarises them."""

from __future__ import annotations

import datetime as dt

from reemploy import ui
from reemploy.tools import bench
from reemploy.filters import Filters, filter_options_from

CATALOGUE = {"districts": ("Anqiao", "Baitang", "Chunlin"), "sectors": ("coal mining", "textiles")}
AS_OF = dt.date(2002, 12, 31)


def test_interactions_are_the_same_for_the_same_seed_mix_broad_and_narrow_in_whole_months():
    first = bench.random_interactions(CATALOGUE, AS_OF, 20)
    assert first == bench.random_interactions(CATALOGUE, AS_OF, 20)
    assert {} in first  # broad: no filter at all
    assert any("district" in p and "sector" in p for p in first)  # narrow
    assert any(p.get("from") == ["2002-12-01"] and "age" in p for p in first)  # few or none
    for params in first:
        assert set(params.get("district", [])) <= set(CATALOGUE["districts"])
        if "from" in params:
            start, end = (dt.date.fromisoformat(params[key][0]) for key in ("from", "to"))
            assert start.day == 1 and (end + dt.timedelta(days=1)).day == 1  # whole months
            assert start <= end <= AS_OF


def test_a_meeting_opens_unfiltered_then_a_district_a_sector_both_a_period_a_programme_and_back():
    clicks = bench.meeting_interactions(CATALOGUE, AS_OF, 14)
    assert clicks == bench.meeting_interactions(CATALOGUE, AS_OF, 14)
    for meeting in (clicks[:7], clicks[7:]):
        assert meeting[0] == meeting[6] == {}
        assert list(meeting[1]) == ["district"] and list(meeting[2]) == ["sector"]
        assert meeting[3] == {"district": meeting[1]["district"], "sector": meeting[2]["sector"]}
        # a period from the sidebar's quick choices: a calendar year, the last 12 months or quarter
        start, end = (dt.date.fromisoformat(meeting[4][key][0]) for key in ("from", "to"))
        assert start.day == 1 and (end + dt.timedelta(days=1)).day == 1
        assert list(meeting[5]) == ["program"]


def test_percentiles_of_known_samples():
    summary = bench.percentiles([float(v) for v in range(1, 101)])
    assert summary == {"p50_ms": 50.5, "p95_ms": 95.0, "max_ms": 100.0}


def test_every_page_is_timed_without_errors_on_a_tiny_extract(tiny_extract):
    report = bench.run_pages(str(tiny_extract), [{}, {"district": ["北山"]}])
    assert list(report["pages"]) == [label for _, label, _ in ui.PAGES]
    assert report["errors"] == []
    assert report["pages"]["Overview"]["max_ms"] > 0


def test_the_report_names_every_page_and_the_pandas_comparison():
    report = {"enrollments": 10, "interactions": 1, "peak_rss_mb": 1.0, "errors": [],
              "pages": {"Overview": {"p50_ms": 1.0, "p95_ms": 2.0, "max_ms": 3.0}},
              "pandas": {"p95_ms": 20.0, "peak_rss_mb": 2.0, "load_s": 0.1},
              "duckdb_same_figures": {"p95_ms": 2.0, "peak_rss_mb": 1.0}, "speedup_p95": 10.0}
    text = bench.format_report(report)
    assert "Overview" in text and "pandas p95 20 ms" in text and "DuckDB p95 2 ms" in text
    assert "10.0x faster at p95" in text


def test_the_report_puts_the_meeting_beside_the_cold_run_and_names_the_warming():
    page = {"p50_ms": 1.0, "p95_ms": 2.0, "max_ms": 3.0}
    report = {"enrollments": 10, "interactions": 1, "peak_rss_mb": 1.0, "errors": [],
              "pages": {"Overview": page},
              "warm": {"views": 34, "seconds": 12.5, "answers_stored": 1500, "store_mb": 3.0},
              "meeting": {"pages": {"Overview": {"p50_ms": 0.4, "p95_ms": 0.9, "max_ms": 1.0}},
                          "preload_s": 0.7, "answers_from": {"memory": 9, "store": 0, "computed": 1}},
              "browser_warmed": {"cold_start_to_first_chart_s": 4.0,
                                 "filter_change_redrawn_s": {"Overview": 0.6}}}
    text = bench.format_report(report)
    assert "Overview" in text and "1 /     2   |       0 /     1" in text
    assert "34 views in 12.5 s, 1,500 answers" in text and "'computed': 1" in text
    assert "browser (warmed): first chart 4.0 s" in text and "Overview 0.6" in text


def test_interaction_links_become_the_filters_the_pages_would_apply():
    options = filter_options_from({"districts": ("北山",), "sectors": ("coal",)})
    filters = bench._filters_from({"district": ["北山"], "sector": ["coal"], "program": ["skills"],
                                   "age": ["40-49"], "from": ["2001-01-01"], "to": ["2001-12-31"]},
                                  options)
    assert filters == Filters(districts=("北山",), sectors=("coal",), programs=("skills",),
                              age_bands=("40-49",), date_from=dt.date(2001, 1, 1),
                              date_to=dt.date(2001, 12, 31))
    assert bench._filters_from({}, options) == Filters()


def test_the_same_figures_side_times_every_interaction_on_a_tiny_extract(tiny_extract):
    report = bench.run_queries(str(tiny_extract), [{}, {"district": ["北山"]}, {"district": ["Nowhere"]}])
    assert 0 < report["p50_ms"] <= report["p95_ms"] <= report["max_ms"]
    assert report["peak_rss_mb"] > 0


def test_the_scope_comparison_runs_every_page_open_and_signed_in_on_a_tiny_extract(tiny_extract):
    # One timed interaction: the untimed first round already runs every page with no filter on
    # both sides (its errors are reported too); a sector beside the scope's district is the case
    # the comparison has to rewrite. Each interaction is 18 fresh sessions (~10 s here).
    report = bench.run_scope(str(tiny_extract), {"scope": ["北山"], "interactions": [{"sector": ["coal"]}]})
    assert report["errors"] == []
    assert list(report["pages"]) == [label for _, label, _ in ui.PAGES]
    overview = report["pages"]["Overview"]
    # Signed in, the page computed its figures (it did not stop at a sign-in or no-access page).
    assert overview["scoped"]["figures"]["max_ms"] > 0 and overview["open"]["figures"]["max_ms"] > 0
    text = bench.format_scope_report(report)
    assert text.splitlines()[0].startswith("scope 北山: open access with that district filter")


def test_loadtest_finds_the_process_listening_on_a_url_to_measure_its_memory():
    # Issue 13: the report printed null memory for --url.
    import os
    import socket

    from reemploy.tools import loadtest

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert loadtest.listening_pid(f"http://127.0.0.1:{port}") == os.getpid()
    assert loadtest.listening_pid(f"http://127.0.0.1:{port}") is None


def test_loadtest_reimport_is_a_first_import_over_a_real_folder_then_a_swap(tmp_path):
    from conftest import TINY_ENROLLMENTS, TINY_PLACEMENTS, write_extract
    from reemploy.tools import loadtest

    placements = [p for p in TINY_PLACEMENTS if p["placement_id"] != "J5a"]  # before its enrollment
    data = write_extract(tmp_path / "extract", TINY_ENROLLMENTS, placements)
    assert loadtest.reimport(data)["first_import"] is True and data.is_symlink()
    again = loadtest.reimport(data)
    assert again["first_import"] is False and again["exit_code"] == 0
