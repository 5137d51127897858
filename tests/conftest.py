"""Shared fixtures: tiny hand-made extracts whose expected figures are worked out in the tests."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reemploy.contract import TABLES

ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "INTEGER": pa.int32(),
    "DATE": pa.date32(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
}
D = dt.date.fromisoformat


def pytest_configure(config):
    # No background warming after the tests' own generate and import runs (tests/test_warm.py
    # warms in-process where it is the subject).
    os.environ["REEMPLOY_WARM"] = "0"
    config.addinivalue_line(
        "markers", "browser: drives the app in Chromium with Playwright (tests/test_browser.py); "
        "runs by default, deselect with -m 'not browser'")
    config.addinivalue_line(
        "markers", "hostile: hundreds of generated hostile links through every page "
        "(tests/test_hostile.py, about 2-3 minutes); runs by default and in CI, deselect with "
        "-m 'not hostile' while working on something else")
    config.addinivalue_line(
        "markers", "last: runs after every other test of the session, to check what they did "
        "(tests/test_queries.py::test_every_query_file_has_a_test)")
    import query_coverage

    config.pluginmanager.register(query_coverage.QueryCoverage(), query_coverage.NAME)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    # After any deselection: the tests marked `last` go to the end, in their order.
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)


AS_OF = D("2002-12-31")


def write_table(path: Path, table: str, rows: list[dict]) -> None:
    columns = TABLES[table]
    schema = pa.schema([(name, ARROW_TYPES[kind]) for name, (kind, _) in columns.items()])
    data = {name: [row.get(name) for row in rows] for name in columns}
    pq.write_table(pa.table(data, schema=schema), path)


def write_extract(path: Path, enrollments: list[dict], placements: list[dict], as_of=AS_OF) -> Path:
    """An extract folder in the contract from literal rows; unspecified columns are null."""
    path.mkdir(parents=True, exist_ok=True)
    defaults = {
        "person_id": None, "district": "Hexi", "prior_sector": "textiles", "gender": "F",
        "birth_year": 1960, "education": "senior_secondary", "program_name": "course",
        "provider": "centre", "cost": 0.0,
    }
    full = []
    for row in enrollments:
        merged = {**defaults, **row}
        merged["person_id"] = merged["person_id"] or "P" + merged["enrollment_id"]
        full.append(merged)
    write_table(path / "enrollments.parquet", "enrollments", full)
    write_table(path / "placements.parquet", "placements",
                [{"sector": "services", "employer_type": "private", **p} for p in placements])
    (path / "manifest.json").write_text(json.dumps({"as_of": as_of.isoformat()}))
    return path


# The hand-worked fixture (tests/test_queries.py and test_summary.py spell out the arithmetic).
TINY_ENROLLMENTS = [
    # skills
    dict(enrollment_id="S1", program_type="skills", district="北山", prior_sector="coal",
         enrolled_on=D("2001-01-01"), exited_on=D("2001-04-01"), completed=True,
         prior_monthly_wage=800.0, cost=1000.0),
    dict(enrollment_id="S2", program_type="skills", district="北山", prior_sector="coal",
         enrolled_on=D("2001-01-01"), exited_on=D("2001-04-01"), completed=False, cost=1000.0),
    dict(enrollment_id="S3", program_type="skills", enrolled_on=D("2002-10-01"),
         exited_on=None, completed=None, cost=1000.0, birth_year=1975),
    dict(enrollment_id="S4", program_type="skills", enrolled_on=D("2001-02-01"),
         exited_on=D("2001-03-01"), completed=True, prior_monthly_wage=700.0, cost=500.0,
         gender="M"),
    dict(enrollment_id="S5", program_type="skills", enrolled_on=D("2000-06-01"),
         exited_on=D("2000-07-01"), completed=True, cost=800.0, birth_year=None),
    # mindset
    dict(enrollment_id="M1", program_type="mindset", district="北山", enrolled_on=D("2002-01-10"),
         exited_on=D("2002-01-20"), completed=True, prior_monthly_wage=700.0, cost=100.0),
    dict(enrollment_id="M2", program_type="mindset", enrolled_on=D("2002-01-10"),
         exited_on=D("2002-01-20"), completed=True, cost=100.0),
    dict(enrollment_id="M3", program_type="mindset", enrolled_on=D("2002-08-01"),
         exited_on=D("2002-08-10"), completed=True, cost=100.0),
    dict(enrollment_id="M4", program_type="mindset", enrolled_on=D("2002-01-10"),
         exited_on=D("2002-01-20"), completed=False, cost=100.0),
    # no training
    dict(enrollment_id="N1", program_type="none", enrolled_on=D("2001-06-01"),
         exited_on=D("2001-06-01"), completed=None, provider=None),
]
TINY_PLACEMENTS = [
    dict(placement_id="J1", enrollment_id="S1", started_on=D("2001-05-01"), monthly_wage=600.0),
    dict(placement_id="J4", enrollment_id="S4", started_on=D("2001-12-01"),
         ended_on=D("2002-03-01"), monthly_wage=700.0),
    # before enrollment: not an outcome of this enrollment
    dict(placement_id="J5a", enrollment_id="S5", started_on=D("2000-05-01"), monthly_wage=300.0),
    dict(placement_id="J5b", enrollment_id="S5", started_on=D("2000-08-01"),
         ended_on=D("2002-01-01"), monthly_wage=None, employer_type="self_employed"),
    dict(placement_id="J5c", enrollment_id="S5", started_on=D("2001-01-01"), monthly_wage=900.0),
    dict(placement_id="J6", enrollment_id="M1", started_on=D("2002-02-01"), monthly_wage=500.0,
         employer_type="self_employed"),
    dict(placement_id="J7", enrollment_id="M2", started_on=D("2002-02-01"), monthly_wage=550.0),
    dict(placement_id="J8", enrollment_id="N1", started_on=D("2001-07-01"), monthly_wage=400.0,
         employer_type="state_owned"),
]


def plain(text: str) -> str:
    """A chart text without the line breaks the charts put in for narrow screens."""
    return " ".join((text or "").replace("<br>", " ").split())


def run_app(location, monkeypatch, page: str = "dashboard.py", min_cell: int = 1, **query):
    """An AppTest of the dashboard over the extract at `location` (a folder or URL), run on
    `page` with `query` as URL parameters."""
    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parent.parent
    monkeypatch.setenv("REEMPLOY_DATA", str(location))
    monkeypatch.setenv("REEMPLOY_MIN_CELL", str(min_cell))
    at = AppTest.from_file(str(root / "dashboard.py"), default_timeout=60)
    for key, values in query.items():
        at.query_params[key] = values
    at.run()
    if page != "dashboard.py":
        at.switch_page(str(root / page)).run()
    return at


@pytest.fixture
def tiny_extract(shared_extracts) -> Path:
    """The hand-worked extract, written once per session and read-only (see SharedExtracts);
    a test that changes an extract takes writable_tiny_extract instead."""
    return shared_extracts.get("tiny", TINY_ENROLLMENTS, TINY_PLACEMENTS).path


@pytest.fixture
def tiny(shared_extracts):
    """(connection, Extract) of the shared tiny extract, for tests that only query it."""
    return shared_extracts.get("tiny", TINY_ENROLLMENTS, TINY_PLACEMENTS).opened


@pytest.fixture
def writable_tiny_extract(tmp_path) -> Path:
    """A copy of the tiny extract of the test's own, to change (import, break, rewrite)."""
    return write_extract(tmp_path / "tiny", TINY_ENROLLMENTS, TINY_PLACEMENTS)


@pytest.fixture(scope="session")
def browser():
    """One Chromium for every browser test of the session (test_browser, test_sign_in): the
    Playwright sync API runs one event loop per thread, so a second sync_playwright() in the
    same process fails while the first is alive."""
    from playwright.sync_api import expect, sync_playwright

    from reemploy.tools.bench import CHROMIUM_ARGS

    expect.set_options(timeout=BROWSER_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=os.environ.get("BROWSER_PATH", "/usr/bin/chromium"), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


BROWSER_TIMEOUT_MS = 30_000


# --------------------------------------------------------------------------- shared extracts


def _tree_state(root: Path) -> dict[str, tuple]:
    """Every folder and file under root with its size, mtime and content hash: what a test could
    have changed. derived_dir's probe files (created and deleted in one call) are left out."""
    state = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            state[os.path.relpath(os.path.join(folder, name), root)] = ("folder",)
        for name in files:
            if name.startswith(".probe-"):
                continue
            path = os.path.join(folder, name)
            info = os.stat(path)
            with open(path, "rb") as handle:
                digest = hashlib.sha1(handle.read()).hexdigest()
            state[os.path.relpath(path, root)] = (info.st_size, info.st_mtime_ns, digest)
    return state


def _changes(before: dict, after: dict) -> list[str]:
    return sorted([f"added {name}" for name in after.keys() - before.keys()]
                  + [f"removed {name}" for name in before.keys() - after.keys()]
                  + [f"changed {name}" for name in before.keys() & after.keys()
                     if before[name] != after[name]])


def _set_writable(root: Path, writable: bool) -> None:
    # The extract's own files and folders; its derived folder (.derived/<version>) stays
    # writable so db.derived_dir still takes the extract for a writable one and finds the
    # table built there, rather than building another in the temp folder.
    from reemploy.db import DERIVED_FOLDER

    for folder, dirs, files in os.walk(root):
        derived = DERIVED_FOLDER in Path(folder).relative_to(root).parts
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644 if writable else 0o444)
        if not derived:
            os.chmod(folder, 0o755 if writable else 0o555)


@dataclass
class SharedExtract:
    path: Path
    extract: object  # reemploy.extracts.Extract
    con: object  # duckdb.DuckDBPyConnection over it, with enrollment_outcomes built
    rows: tuple
    state: dict

    @property
    def opened(self):
        return self.con, self.extract


class SharedExtracts:
    """Extracts written from literal rows once per session (as datasette's session-scoped
    fixtures do): the Parquet files, the derived enrollment_outcomes and the filter catalogue
    are built when first asked for, then made read-only. Every test after that only reads
    them, through the path or the one open connection.

    After each test the files are compared with what was built (see _shared_extracts_untouched),
    since chmod does not stop root: a test that writes into a shared extract fails there, and
    the extract is written afresh for the tests after it. A test that must change an extract
    writes its own (writable_tiny_extract, write_extract(tmp_path / ...))."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.made: dict[str, SharedExtract] = {}
        self.generation = 0

    def get(self, name: str, enrollments: list[dict], placements: list[dict], as_of=AS_OF,
            side_files: dict[str, str] | None = None) -> SharedExtract:
        rows = (enrollments, placements, as_of, side_files or {})
        shared = self.made.get(name)
        if shared is not None:
            assert shared.rows == rows, f"two different extracts shared under the name {name!r}"
            return shared
        from reemploy import db
        from reemploy.extracts import open_extract

        self.generation += 1
        path = write_extract(self.base / f"{name}-{self.generation}", enrollments, placements, as_of)
        for file_name, text in (side_files or {}).items():
            (path / file_name).write_text(text, encoding="utf-8")
        extract = open_extract(path)
        con = db.connect(extract)  # builds .derived/<version>/enrollment_outcomes-*.parquet
        _build_catalogue(con, extract)
        _set_writable(path, False)
        self.made[name] = SharedExtract(path, extract, con, rows, _tree_state(path))
        return self.made[name]

    def check(self) -> list[str]:
        """What changed in any shared extract since it was built; a changed one is dropped, so
        the next test that asks for it gets a fresh copy."""
        problems = []
        for name, shared in list(self.made.items()):
            changes = _changes(shared.state, _tree_state(shared.path))
            if changes:
                problems.append(f"{name} ({shared.path}): " + ", ".join(changes[:10]))
                self.forget(name)
        return problems

    def forget(self, name: str) -> None:
        shared = self.made.pop(name)
        shared.con.close()
        _set_writable(shared.path, True)

    def close(self) -> None:
        for name in list(self.made):
            self.forget(name)


def _build_catalogue(con, extract) -> None:
    # What the first page run would write into the derived folder: the filter catalogue.
    from reemploy.figures import catalogue

    catalogue.extract_catalogue(con, extract)


_SHARED: list[SharedExtracts] = []


@pytest.fixture(scope="session")
def shared_extracts(tmp_path_factory):
    shared = SharedExtracts(tmp_path_factory.mktemp("shared"))
    _SHARED.append(shared)
    yield shared
    _SHARED.remove(shared)
    shared.close()


@pytest.fixture(autouse=True)
def _shared_extracts_untouched():
    yield
    for shared in _SHARED:
        problems = shared.check()
        if problems:
            pytest.fail("The test wrote into a shared read-only extract (use writable_tiny_extract "
                        "or an extract of its own): " + "; ".join(problems), pytrace=False)


@pytest.fixture(autouse=True)
def _forget_remembered_answers():
    # The result cache (reemploy.cache) is keyed by the extract's folder and version: with one
    # shared extract, a test would otherwise find the answers of the test before.
    from reemploy import cache

    cache.clear()
    yield


@pytest.fixture(scope="session", autouse=True)
def _temp_folder_of_the_session(tmp_path_factory):
    """The app's temporary files (the derived table of a read-only extract in
    <temp>/reemploy-derived, the benchmark's policy folders, the PDF's work folder) go into this
    session's pytest folder rather than the machine's /tmp, which other checkouts running their
    tests at the same time share."""
    previous = tempfile.tempdir
    tempfile.tempdir = str(tmp_path_factory.mktemp("tmp"))
    yield
    tempfile.tempdir = previous


@pytest.fixture(scope="session", autouse=True)
def _compile_each_script_once():
    """AppTest compiles dashboard.py and the page again on every run (a new ScriptCache each
    time): about 7 ms a script with Streamlit's magic rewrite, a sixth of a rerun in the hostile
    link suite. The bytecode is kept for the session per file and content, so a page edited
    during the session is compiled again; the code objects are immutable and each run still
    executes them in a fresh module."""
    from streamlit import config
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache

    original = ScriptCache.get_bytecode
    compiled: dict[tuple, object] = {}

    def get_bytecode(self, script_path):
        path = os.path.abspath(script_path)
        try:
            source = Path(path).read_bytes()
        except OSError:
            return original(self, script_path)
        key = (path, source, config.get_option("runner.magicEnabled"))
        if key not in compiled:
            compiled[key] = original(self, script_path)
        return compiled[key]

    ScriptCache.get_bytecode = get_bytecode
    yield
    ScriptCache.get_bytecode = original


@pytest.fixture(autouse=True)
def _clear_streamlit_caches():
    # Streamlit caches outlive an AppTest run inside one pytest process.
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield


def _simpson_rows():
    # Skills enrolls mostly the high-placement stratum (tertiary), mindset the low one (primary):
    #   tertiary: skills 12 of 16 placed (75%), mindset 4 of 4 (100%)
    #   primary:  skills 0 of 4 (0%),          mindset 4 of 16 (25%)
    # Raw: skills 12/20 = 60% vs mindset 8/20 = 40% (+20 pp). Within each stratum mindset does
    # better; standardised to the pooled 20 + 20 per stratum: 37.5% vs 62.5% (-25 pp).
    # Two people with no gender or education (stratum "unknown") are still in training.
    enrollments, placements = [], []
    cells = (("skills", "tertiary", 16, 12), ("skills", "primary", 4, 0),
             ("mindset", "tertiary", 4, 4), ("mindset", "primary", 16, 4))
    for program, education, size, placed in cells:
        for i in range(size):
            enrollment_id = f"{program[0].upper()}{education[0]}{i}"
            enrollments.append(dict(enrollment_id=enrollment_id, program_type=program,
                                    education=education, enrolled_on=D("2001-01-01"),
                                    exited_on=D("2001-01-10"), completed=True))
            if i < placed:
                placements.append(dict(placement_id=f"J{enrollment_id}", enrollment_id=enrollment_id,
                                       started_on=D("2001-03-01"), monthly_wage=500.0))
    for program in ("skills", "mindset"):
        enrollments.append(dict(enrollment_id=f"{program[0].upper()}u", program_type=program,
                                gender=None, education=None, enrolled_on=D("2002-11-01"),
                                exited_on=None, completed=None))
    return enrollments, placements


def write_cells_extract(path: Path, cells) -> Path:
    """An extract of (programme, education, people, placed) cells: everyone enrolled 2001-01-01
    and left 2001-01-10; the first `placed` of each cell start a job on 2001-03-01."""
    enrollments, placements = [], []
    for program, education, size, placed in cells:
        for i in range(size):
            eid = f"{program[0]}{education[0]}{i}"
            enrollments.append(dict(enrollment_id=eid, program_type=program, education=education,
                                    enrolled_on=D("2001-01-01"), exited_on=D("2001-01-10"),
                                    completed=True))
            if i < placed:
                placements.append(dict(placement_id=f"J{eid}", enrollment_id=eid,
                                       started_on=D("2001-03-01"), monthly_wage=500.0))
    return write_extract(path, enrollments, placements)


SIMPSON_ENROLLMENTS, SIMPSON_PLACEMENTS = _simpson_rows()


@pytest.fixture
def simpson_extract(shared_extracts) -> Path:
    """Raw and adjusted skills - mindset differences of opposite sign (see _simpson_rows);
    shared and read-only like tiny_extract."""
    return shared_extracts.get("simpson", SIMPSON_ENROLLMENTS, SIMPSON_PLACEMENTS).path


@pytest.fixture
def simpson(shared_extracts):
    """(connection, Extract) of the shared Simpson extract."""
    return shared_extracts.get("simpson", SIMPSON_ENROLLMENTS, SIMPSON_PLACEMENTS).opened
