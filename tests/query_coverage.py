"""A pytest plugin (registered by conftest.py): which queries/*.sql file each test ran, as the app
runs them (reemploy.db.run_query hands every query file's text to reemploy.db.execute), how many
rows came back, and whether the test's own file called run_query or something else did (a metric,
a page). tests/test_queries.py's test_every_query_file_has_a_test reads it at the end of the
session: every query file must be run, returning rows, by a passing test of that file itself.
"""

from __future__ import annotations

import os
import sys
import threading
from functools import lru_cache
from pathlib import Path

import pytest

NAME = "query-coverage"
_DB_FILE = "db.py"


class _Counted:
    """The DuckDB result of one query file, which notes how many rows were fetched from it."""

    def __init__(self, result, note) -> None:
        self._result = result
        self._note = note

    def df(self, *args, **kwargs):
        frame = self._result.df(*args, **kwargs)
        self._note(len(frame))
        return frame

    fetchdf = df

    def fetchall(self):
        rows = self._result.fetchall()
        self._note(len(rows))
        return rows

    def __getattr__(self, name):
        return getattr(self._result, name)


class QueryCoverage:
    def __init__(self) -> None:
        self._current: pytest.Item | None = None
        self._pending: list[tuple[str, int, str | None]] = []
        self._lock = threading.Lock()
        # query name -> node ids of passing tests that ran it, with rows, from their own file
        self.run_by: dict[str, dict[str, set[str]]] = {}
        # test file -> names of its test functions whose call phase ran in this session
        self.functions_run: dict[str, set[str]] = {}
        self._installed = None

    # ------------------------------------------------------------------ watching reemploy.db

    def install(self) -> None:
        from reemploy import db

        real = db.execute
        names = {}
        for name in db.query_names():
            names.setdefault(db.load_sql(name), []).append(name)

        def execute(cursor, sql, params):
            result = real(cursor, sql, params)
            if self._current is None or sql not in names:
                return result
            caller = _caller_outside_db()
            return _Counted(result, lambda rows: self._note(names[sql], rows, caller))

        execute.__doc__ = real.__doc__
        db.execute = execute
        self._installed = (db, real)

    def uninstall(self) -> None:
        if self._installed:
            db, real = self._installed
            db.execute = real
            self._installed = None

    def _note(self, query_names: list[str], rows: int, caller: str | None) -> None:
        with self._lock:
            self._pending.extend((name, rows, caller) for name in query_names)

    # ------------------------------------------------------------------ pytest hooks

    def pytest_sessionstart(self, session) -> None:
        self.install()

    def pytest_sessionfinish(self, session) -> None:
        self.uninstall()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        with self._lock:
            self._current, self._pending = item, []
        try:
            return (yield)
        finally:
            self._current = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        if report.when == "call":
            self._commit(item, report.passed)
        return report

    def _commit(self, item, passed: bool) -> None:
        test_file = os.path.realpath(item.path)
        self.functions_run.setdefault(test_file, set()).add(getattr(item, "originalname", item.name))
        with self._lock:
            pending, self._pending = self._pending, []
        if not passed:
            return
        for name, rows, caller in pending:
            if rows and caller == test_file:
                self.run_by.setdefault(test_file, {}).setdefault(name, set()).add(item.nodeid)

    # ------------------------------------------------------------------ questions

    def tested_queries(self, test_file: str | os.PathLike) -> dict[str, set[str]]:
        """Query name -> the passing tests of `test_file` that ran it themselves and got rows."""
        return self.run_by.get(os.path.realpath(test_file), {})

    def functions_not_run(self, module, but: str) -> list[str]:
        """The test functions of `module` (other than `but`) none of whose cases ran."""
        ran = self.functions_run.get(os.path.realpath(module.__file__), set())
        defined = [name for name, value in vars(module).items()
                   if name.startswith("test") and callable(value) and name != but
                   and getattr(value, "__module__", None) == module.__name__]
        return sorted(set(defined) - ran)


@lru_cache(maxsize=None)
def _real(filename: str) -> str:
    return os.path.realpath(filename)


def _caller_outside_db() -> str | None:
    """The file of the nearest frame outside reemploy/db.py and this file: who ran the query."""
    frame = sys._getframe(2)
    here = _real(__file__)
    while frame is not None:
        filename = _real(frame.f_code.co_filename)
        parts = Path(filename).parts
        if filename != here and not (parts[-1] == _DB_FILE and parts[-2:-1] == ("reemploy",)):
            return filename
        frame = frame.f_back
    return None
