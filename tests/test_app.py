"""AppTest over every page: renders, applies filters from the URL, agrees with `summary`."""

from __future__ import annotations

from pathlib import Path

import pytest

from reemploy import ui
from reemploy import summary as summary_document
from reemploy.db import connect
from reemploy.extracts import open_extract
from reemploy.filters import Filters

from conftest import run_app

ROOT = Path(__file__).resolve().parent.parent
PAGE_FILES = [page for page, _, _ in ui.PAGES]


@pytest.mark.parametrize("page", PAGE_FILES)
def test_every_page_renders_without_exception(tiny_extract, monkeypatch, page):
    at = run_app(tiny_extract, monkeypatch, page)
    assert not at.exception, at.exception


@pytest.mark.parametrize("page", PAGE_FILES)
def test_every_page_says_no_records_match_when_filters_leave_nothing(tiny_extract, monkeypatch, page):
    at = run_app(tiny_extract, monkeypatch, page, district=["北山"], program=["none"])
    assert not at.exception
    notices = [info.value for info in at.info if "No records match" in info.value]
    # The Data page describes the extract and its last import, which no filter changes.
    assert len(notices) == (0 if page == "pages/data.py" else 1), page


def test_the_tests_over_every_page_know_every_page():
    # They take their pages from ui.PAGES: a page file left out of it would be tested by none.
    files = {"dashboard.py", *(f"pages/{path.name}" for path in (ROOT / "pages").glob("*.py"))}
    assert sorted(PAGE_FILES) == sorted(files) and len(set(PAGE_FILES)) == len(PAGE_FILES) == 9


def test_overview_applies_the_district_from_the_url(tiny_extract, monkeypatch):
    at = run_app(tiny_extract, monkeypatch, district=["北山"])
    assert at.sidebar.multiselect(key="district").value == ["北山"]
    labels = [m.label for m in at.metric]
    assert labels  # KPI cards drawn
    enrolled = [md.value for md in at.markdown if "enrolled" in md.value]
    assert any("2 enrolled" in text for text in enrolled)  # skills S1, S2 in 北山


def test_overview_names_unknown_url_values_and_ignores_them(tiny_extract, monkeypatch):
    at = run_app(tiny_extract, monkeypatch, district=["北山", "Atlantis"], colour=["red"])
    warnings = " ".join(w.value for w in at.warning)
    assert "Atlantis" in warnings and "colour" in warnings
    assert at.sidebar.multiselect(key="district").value == ["北山"]


def test_overview_kpis_equal_summary_for_the_same_filters(tiny_extract, monkeypatch):
    at = run_app(tiny_extract, monkeypatch, district=["北山"])
    extract = open_extract(tiny_extract)
    doc = summary_document.summary(connect(extract), extract, Filters(districts=("北山",)), min_cell=1)
    shown = [m.value for m in at.metric]
    skills = doc["programs"]["skills"]
    assert f"{skills['placement_rate_180d'] * 100:.1f}%" in shown
    assert f"{skills['median_monthly_wage']:,.0f} yuan" in shown


def test_filters_survive_a_page_switch_and_back(tiny_extract, monkeypatch):
    at = run_app(tiny_extract, monkeypatch)
    at.sidebar.multiselect(key="district").set_value(["北山"]).run()
    for page in PAGE_FILES[1:] + ["dashboard.py"]:
        at.switch_page(str(ROOT / page)).run()
        assert not at.exception
        assert at.sidebar.multiselect(key="district").value == ["北山"], page
        # applied to the figures of that very run, not only shown in the widget
        assert "district: 北山" in " ".join(c.value for c in at.caption), page
        assert at.query_params["district"] in ("北山", ["北山"]), page  # AppTest unwraps one value


def test_a_cleared_filter_stays_cleared_on_the_same_page(tiny_extract, monkeypatch):
    at = run_app(tiny_extract, monkeypatch, district=["北山"])
    at.sidebar.multiselect(key="district").set_value([]).run()
    assert at.sidebar.multiselect(key="district").value == []
    assert "all enrollments" in " ".join(c.value for c in at.caption)
    assert "district" not in at.query_params


def test_a_deep_link_to_a_page_opens_with_its_filters(tiny_extract, monkeypatch):
    at = run_app(tiny_extract, monkeypatch, PAGE_FILES[1], district=["北山"], program=["skills"])
    assert "district: 北山; programme: Skills training" in " ".join(c.value for c in at.caption)


def test_a_broken_extract_shows_what_is_wrong_not_a_traceback(tmp_path, monkeypatch):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json")
    at = run_app(broken, monkeypatch)
    assert not at.exception
    assert "not valid JSON" in at.error[0].value


def test_overview_says_suppressed_where_a_denominator_is_below_the_threshold(tiny_extract,
                                                                              monkeypatch):
    # The tiny extract has fewer than 10 people per programme: every rate is suppressed.
    at = run_app(tiny_extract, monkeypatch, min_cell=10)
    assert {m.value for m in at.metric} == {"suppressed"}
    assert any("suppressed (n < 10)" in c.value for c in at.caption)
    assert not any("%" in m.value for m in at.metric)


def test_every_page_imports_the_ui_module_before_any_other_of_the_package():
    # reemploy/ui.py imports all the pages use, so concurrent first sessions import it once.
    for page in PAGE_FILES:
        lines = (ROOT / page).read_text(encoding="utf-8").splitlines()
        first = next(line for line in lines if line.startswith(("from reemploy", "import reemploy")))
        assert first.startswith("from reemploy import ui"), page


CONCURRENT_FIRST_IMPORTS = """
import re, sys, threading
from pathlib import Path
import duckdb, numpy, pandas, plotly.graph_objects, streamlit  # a running server has these
root = Path(sys.argv[1])
files = [root / "dashboard.py", *sorted((root / "pages").glob("*.py"))]
imports = ["\\n".join(line for line in f.read_text(encoding="utf-8").splitlines()
                     if re.match(r"(from|import) reemploy", line)) for f in files]
barrier, errors = threading.Barrier(len(imports)), []
def run(code):
    barrier.wait()
    try:
        exec(code, {})
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=run, args=(code,)) for code in imports]
[t.start() for t in threads]
[t.join() for t in threads]
print(errors)
"""


def test_the_pages_first_sessions_import_the_package_at_once_without_a_half_initialised_module():
    # A server's first sessions run every page's imports in threads at the same moment. Before
    # the pages entered through reemploy.ui, most such starts failed (ImportError from a
    # partially initialised reemploy.figures.compare, KeyError 'reemploy.figures').
    import subprocess
    import sys

    for _ in range(4):  # a fresh interpreter each time: the race is in the first import
        result = subprocess.run([sys.executable, "-c", CONCURRENT_FIRST_IMPORTS, str(ROOT)],
                                capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.strip() == "[]"
