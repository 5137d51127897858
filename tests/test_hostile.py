"""Hostile and odd input (issue 7): generated links and widget values on every page.

A link is whatever someone typed, pasted or forged. Every case here must leave every page
without an exception, say in a visible notice what it ignored, show exactly the figures of the
same link without the bad part, and never get any of its text into SQL: the only SQL the app
runs is the text of a queries/*.sql file, and the only strings it binds are values from the
extract's catalogue.
"""

from __future__ import annotations

import datetime as dt
import json
import pickle
import random
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from reemploy import charts, db, export, pack, ui
from reemploy.contract import AGE_BANDS, EDUCATION_LEVELS, GENDERS, PROGRAM_TYPES
from reemploy.filters import URL_KEYS, Filters

ROOT = Path(__file__).resolve().parent.parent
PAGE_FILES = [page for page, _, _ in ui.PAGES]
LINK_NOTICE_ICON = ":material/link_off:"
SEED = 20021231
CASE_COUNT = 320

# The TINY fixture's catalogue (tests/conftest.py) and the fixed code lists: the only strings
# a query may ever be given.
ALLOWED_STRINGS = {"北山", "Hexi", "coal", "textiles", *PROGRAM_TYPES, *GENDERS, *AGE_BANDS,
                   "unknown", *EDUCATION_LEVELS,
                   # query_set_counts' $by: the breakdown the disclosure check groups by, ours.
                   "", "district", "prior_sector",
                   # time_to_placement's $origin: where the clock starts, ours.
                   "enrollment", "exit"}
QUERY_TEXTS = {db.load_sql(name) for name in db.query_names()}

# Links the results must equal: each case is one of these plus something bad.
GOOD_LINKS = {
    "all": {},
    "district": {"district": ["北山"]},
    "programmes": {"program": ["skills", "mindset"]},
    "period": {"from": ["2001-01-01"], "to": ["2002-06-30"]},
    "who": {"gender": ["F"], "age": ["40-49"], "education": ["senior_secondary"]},
    "sector and district": {"sector": ["coal"], "district": ["北山", "Hexi"]},
}
LIST_KEYS = list(URL_KEYS)
DATE_KEYS = ["from", "to"]
ALL_KEYS = LIST_KEYS + DATE_KEYS

SQL_INJECTIONS = [
    "' OR '1'='1",
    "'; drop table enrollments; --",
    "北山' or 1=1 --",
    "1) union select person_id, enrollment_id from enrollments --",
    "'||(select string_agg(person_id, ',') from enrollments)||'",
    "'); copy enrollments to '/tmp/leak.csv'; --",
    "read_parquet('/etc/passwd')",
    "$districts",
    "\\'; select 1; --",
    "%' and district like '%",
    "NULL",
    "1=1",
    "?",
    "*",
]
UNKNOWN_VALUES = {
    "district": ["Atlantis", "hexi", "HEXI", " 北山", "北山 ", "北 山", "北山,Hexi", "北山;Hexi", "Hex_", "%"],
    "sector": ["Coal", "coal ", "textile", "煤炭", "mining"],
    "program": ["Skills", "skill", "training", "mindset,skills", "all"],
    "gender": ["f", "female", "X", "女", "FM"],
    # "50+" typed into an address bar arrives as "50 " (a plus is a space in a query string).
    "age": ["40-50", "40–49", "50 ", "fifty", "0-15"],
    "education": ["university", "Tertiary", "高中", "senior secondary", "none"],
}
CONTROL_VALUES = ["\x00", "北山\x00", "\x00北山", "Hexi\x00' OR 1=1 --", "\x1b[31mred", "\r\nSet-Cookie: a=1",
                  "\t", "\u202eevil", "\ufeff北山", "\x7f", "\x08" * 10, "北山\u200b", "\u200b"]
UNICODE_VALUES = ["南山", "北京", "北山区", "北", "山", "🏭", "北山🏭", "Ｈｅｘｉ", "Неxi", "He\u0301xi",
                  "ß", "İ", "\u00a0北山", "北山\u3000", "\ufffd", "北山\ufffd"]
MARKUP_VALUES = ["[Sign in again](http://evil.example/login)", "<script>alert(1)</script>",
                 "<img src=x onerror=alert(1)>", ":red[Official notice: data deleted]",
                 ":material/warning: call 110", "**bold** _italic_", "$\\frac{1}{0}$", "# Heading",
                 "![x](http://evil.example/x.png)"]
INVALID_DATES = ["2001-13-45", "2001-02-30", "yesterday", "2001/01/01", "01-01-2001", "2001-1-1",
                 "0000-00-00", "9999-99-99", "-1", "1e9", "2001-01-01T00:00:00", "now()",
                 "current_date", "NaN", "2001-01-01' OR '1'='1", "２００１-０１-０１"]
# Outside the TINY extract: enrollments run from 2000-06-01, as_of is 2002-12-31.
OUTSIDE_DATES = ["1900-01-01", "0001-01-01", "9999-12-31", "2003-01-01", "2099-06-30", "2000-05-31"]
REVERSED_PERIODS = [("2002-06-30", "2001-01-01"), ("2002-12-31", "2000-06-01"), ("2001-06-02", "2001-06-01"),
                    ("2002-01-10", "2002-01-09"), ("2001-12-31", "2001-01-01")]
UNKNOWN_KEYS = ["colour", "District", "districts", "page", "__proto__", "constructor",
                "'; drop table enrollments; --", "区县", "from_", "q", "utm_source", "district[]", "a.b",
                "district\x00", "\x00", "to ", " from"]


@dataclass
class Case:
    """One generated link: `query` is what the browser sends, `good` the link without its bad
    part (whose figures the page must show), `needles` what the notices must name, `hostile`
    the strings that must never reach SQL."""

    name: str
    good: str
    query: dict[str, list[str]]
    needles: list[str] = field(default_factory=list)
    hostile: list[str] = field(default_factory=list)
    dropped_whole: bool = False


def _shown(text: str) -> str:
    # How a notice prints a value: control and invisible characters escaped; the first
    # characters are enough to recognise it (notices cut long values).
    escaped = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                      for ch in text)
    return escaped[:12]


def _add(case: Case, key: str, bad: list[str], rng: random.Random, needle: str | None = None) -> None:
    """Put `bad` values under `key` before, after or around the good ones."""
    good = case.query.get(key, [])
    if good and rng.random() < 0.5:
        case.query[key] = bad + good
    else:
        case.query[key] = good + bad
    case.needles.append(needle if needle is not None else _shown(bad[0]))
    case.hostile.extend(bad)


def _base(rng: random.Random, name: str, without_dates: bool = False) -> Case:
    choices = [k for k, v in GOOD_LINKS.items() if not (without_dates and "from" in v)]
    good = rng.choice(choices)
    query = {key: list(values) for key, values in GOOD_LINKS[good].items()}
    return Case(name, good, query)


def _bad_value(rng: random.Random, key: str, family: str) -> str:
    if family == "sql":
        return rng.choice(SQL_INJECTIONS)
    if family == "unknown":
        return rng.choice(UNKNOWN_VALUES[key])
    if family == "control":
        return rng.choice(CONTROL_VALUES)
    if family == "unicode":
        return rng.choice(UNICODE_VALUES)
    if family == "markup":
        return rng.choice(MARKUP_VALUES)
    if family == "long":
        return rng.choice(["A", "北", "' OR 1=1 --", "\x00"]) * rng.choice([10_000, 10_001])
    raise ValueError(family)


def _hostile_value_case(rng: random.Random, name: str, key: str, value: str) -> Case:
    case = _base(rng, name)
    _add(case, key, [value], rng, needle=key)
    case.needles.append(_shown(value))
    return case


def generate_cases(count: int = CASE_COUNT, seed: int = SEED) -> list[Case]:
    """The hostile links, the same ones on every run (seeded)."""
    rng = random.Random(seed)
    cases: list[Case] = []
    # SQL text in every parameter, every payload.
    for key in ALL_KEYS:
        for payload in SQL_INJECTIONS:
            cases.append(_hostile_value_case(rng, f"sql in {key}: {payload!r}", key, payload))
    for key, values in UNKNOWN_VALUES.items():
        for value in values:
            cases.append(_hostile_value_case(rng, f"unknown {key} {value!r}", key, value))
    for value in CONTROL_VALUES:
        key = rng.choice(ALL_KEYS)
        cases.append(_hostile_value_case(rng, f"control characters in {key}: {value!r}", key, value))
    for value in UNICODE_VALUES:
        key = rng.choice(LIST_KEYS)
        cases.append(_hostile_value_case(rng, f"unicode {key} {value!r}", key, value))
    for value in MARKUP_VALUES:
        key = rng.choice(ALL_KEYS)
        cases.append(_hostile_value_case(rng, f"markup in {key}: {value!r}", key, value))
    for key in ALL_KEYS:
        value = _bad_value(rng, key, "long")
        cases.append(_hostile_value_case(rng, f"10k characters in {key}", key, value))
    for value in INVALID_DATES:
        key = rng.choice(DATE_KEYS)
        cases.append(_hostile_value_case(rng, f"invalid {key} date {value!r}", key, value))
    for value in OUTSIDE_DATES:
        key = rng.choice(DATE_KEYS)
        case = _base(rng, f"{key} date {value} outside the data", without_dates=True)
        _add(case, key, [value], rng, needle=value)
        cases.append(case)
    for start, end in REVERSED_PERIODS:
        case = _base(rng, f"reversed period {start} to {end}", without_dates=True)
        case.query.update({"from": [start], "to": [end]})
        case.needles.append("is after")
        cases.append(case)
    for key in UNKNOWN_KEYS:
        case = _base(rng, f"unknown parameter {key!r}")
        value = rng.choice(["1", "北山", "' OR 1=1 --", "red"])
        case.query[key] = [value]
        case.needles.append(_shown(key) if key.strip("\x00 ") else "unknown URL parameter")
        case.hostile.append(key)
        cases.append(case)
    cases.extend(_repeated_key_cases(rng))
    # The rest: several kinds of trouble in one link.
    families = ["sql", "unknown", "control", "unicode", "markup", "long"]
    while len(cases) < count:
        case = _base(rng, f"mixed #{len(cases)}")
        for key in rng.sample(LIST_KEYS, rng.randint(2, 4)):
            family = rng.choice(families)
            value = _bad_value(rng, key, family)
            _add(case, key, [value], rng, needle=key)
        if rng.random() < 0.5:
            key = rng.choice(UNKNOWN_KEYS[:13])
            case.query[key] = ["x"]
            case.needles.append(_shown(key))
        cases.append(case)
    return cases


def _repeated_key_cases(rng: random.Random) -> list[Case]:
    # Streamlit drops a query string of more than 1,000 fields (or 512 Ki characters) whole
    # before the app sees it (streamlit.runtime.state.query_params.sanitize_query_string), so
    # "thousands of repeated keys" reach the app as up to 999 and are dropped beyond.
    cases = [
        Case("999 copies of a valid district", "district", {"district": ["北山"] * 999}),
        Case("999 copies of an unknown district", "all", {"district": ["Atlantis"] * 999},
             needles=["Atlantis"], hostile=["Atlantis"]),
        Case("valid and unknown districts interleaved 998 times", "district",
             {"district": ["北山", "Atlantis"] * 499}, needles=["Atlantis"], hostile=["Atlantis"]),
        Case("990 different unknown districts", "all",
             {"district": [f"Nowhere {i}" for i in range(990)]}, needles=["Nowhere 0", "985 more"],
             hostile=[f"Nowhere {i}" for i in range(990)]),
        Case("990 unknown parameters", "all", {f"k{i}": ["1"] for i in range(990)},
             needles=["k0", "985 more"]),
        Case("999 copies of one unknown parameter", "all", {"x": ["1"] * 999}, needles=["`x`"]),
        Case("333 copies of each programme and a bogus one", "programmes",
             {"program": ["skills", "mindset", "bogus"] * 333}, needles=["bogus"], hostile=["bogus"]),
        Case("997 invalid from dates before a valid one", "period",
             {"from": ["not a date"] * 997 + ["2001-01-01"], "to": ["2002-06-30"]},
             needles=["not a date"], hostile=["not a date"]),
        Case("a valid from date before 997 invalid ones", "period",
             {"from": ["2001-01-01"] + ["31/12/2001"] * 997, "to": ["2002-06-30"]},
             needles=["31/12/2001"], hostile=["31/12/2001"]),
        Case("every parameter 124 times, good and bad", "sector and district",
             {"district": ["北山", "Hexi", "Atlantis"] * 41, "sector": ["coal", "'--"] * 62,
              "program": ["bogus"] * 124, "gender": ["?"] * 124, "age": ["0-15"] * 124,
              "education": ["none"] * 124, "from": ["x"] * 124, "to": ["y"] * 124},
             needles=["Atlantis", "'--", "bogus", "`?`", "0-15", "none", "from date", "to date"],
             hostile=["Atlantis", "'--", "bogus", "0-15", "none"]),
    ]
    # Beyond the limit the page opens unfiltered, with no notice: the app never sees the link.
    # ui.remember_filters leaves such an address bar as it is (see the issue 7 report).
    beyond = [
        Case("3,000 copies of a valid district (dropped by Streamlit)", "all",
             {"district": ["北山"] * 3000}),
        Case("5,000 unknown parameters (dropped by Streamlit)", "all",
             {f"k{i}": ["北山' or 1=1 --"] for i in range(5000)}, hostile=["北山' or 1=1 --"]),
        Case("a 600,000-character district (dropped by Streamlit)", "all",
             {"district": ["北山" * 300_000]}, hostile=["北山" * 300_000]),
    ]
    for case in beyond:
        case.dropped_whole = True
    cases += beyond
    rng.shuffle(cases)
    return cases


CASES = generate_cases()


# --------------------------------------------------------------------------- running pages


def fingerprint(at: AppTest) -> dict:
    """What a page shows as figures: captions, metric values, tables, texts and the data arrays
    of every Plotly chart (not the notices, which are checked separately)."""
    return {
        "captions": [c.value for c in at.caption],
        "metrics": [(m.label, m.value, m.delta) for m in at.metric],
        "markdown": [m.value for m in at.markdown],
        "info": [i.value for i in at.info],
        "errors": [e.value for e in at.error],
        "tables": [t.value.to_json() for t in at.dataframe] + [t.value.to_json() for t in at.table],
        "charts": [json.dumps(json.loads(c.proto.spec)["data"], sort_keys=True)
                   for c in at.get("plotly_chart")],
    }


def link_notices(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if w.icon == LINK_NOTICE_ICON]


def open_page(page: str, query: dict[str, list[str]]) -> AppTest:
    """A new session that opens `page` from a link, as a browser following it would."""
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    if page != "dashboard.py":
        at.switch_page(str(ROOT / page))
    for key, values in query.items():
        at.query_params[key] = values
    return at.run()


def follow_link(at: AppTest, query: dict[str, list[str]]) -> AppTest:
    """Open `query` in an existing session on the same page, as a new visit.

    ui.restore_filters applies a link's filters on the first run of a session or on a page
    switch, and keeps the widgets as they are on a rerun of the same page. Forgetting its memory
    of the last run (and the notices kept about an earlier link) gives exactly the state of a
    first run: every filter widget is then set from the link before it is drawn, and nothing
    else in the session depends on the link. test_a_reused_session_opens_a_link_as_a_new_one
    checks that against new sessions; reusing one AppTest per page keeps each case at a rerun
    (~0.05-0.3 s) instead of a new session (~1 s).
    """
    at.query_params.clear()
    for key, values in query.items():
        at.query_params[key] = values
    for key in (ui.FILTER_MEMORY, "url_notices"):
        if key in at.session_state:
            del at.session_state[key]
    return at.run()


def url_form(query: dict) -> dict[str, list[str]]:
    # AppTest unwraps single values to str.
    return {k: [v] if isinstance(v, str) else list(v) for k, v in query.items()}


@pytest.fixture
def executed(monkeypatch):
    """Every (sql, bound parameters) the app hands to DuckDB through db.execute."""
    log: list[tuple[str, dict]] = []
    real = db.execute

    def recording(cursor, sql, params):
        log.append((sql, dict(params)))
        return real(cursor, sql, params)

    monkeypatch.setattr(db, "execute", recording)
    return log


def sql_problems(entries: list[tuple[str, dict]], hostile: list[str]) -> list[str]:
    """Why any of these statements is not a query file with catalogue values bound."""
    problems = []
    for sql, params in entries:
        if sql not in QUERY_TEXTS:
            problems.append(f"not the text of a queries/*.sql file: {sql[:80]!r}")
        # $filters is one STRUCT: each of its fields is checked as the value it holds.
        bound = [(f"{name}.{field}", item) for name, value in params.items() if isinstance(value, dict)
                 for field, item in value.items()]
        bound += [(name, value) for name, value in params.items() if not isinstance(value, dict)]
        for name, value in bound:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and item not in ALLOWED_STRINGS:
                    problems.append(f"${name} bound to {item[:40]!r}, not a catalogue value")
                elif not (item is None or isinstance(item, (str, int, dt.date))):
                    problems.append(f"${name} bound to a {type(item).__name__}")
        for text in hostile:
            if len(text) >= 6 and text in sql:
                problems.append(f"link text {text[:40]!r} in SQL")
    return problems


def check_case(at: AppTest, case: Case, expected: tuple[dict, dict], entries) -> list[str]:
    """Everything wrong with this run of `case`, as sentences; `expected` is the fingerprint and
    the address bar of the same link without its bad part."""
    if at.exception:
        return [f"exception: {at.exception[0].value}"]
    problems = []
    notices = link_notices(at)
    shown = " ".join(notices)
    problems += [f"no notice names {n!r} (notices: {shown[:300]!r})" for n in case.needles if n not in shown]
    if not case.needles and notices:
        problems.append(f"a notice although nothing was ignored: {shown[:200]!r}")
    for notice in notices:
        # Link text is only ever printed inside code spans, so it cannot render as a link,
        # an image, HTML, LaTeX or a coloured directive.
        outside = re.sub(r"`[^`]*`", "", notice)
        problems += [f"{marker!r} rendered from a link: {notice[:200]!r}"
                     for marker in ("](", "<", ":red[", ":material/", "$", "**") if marker in outside]
    figures, address = expected
    if fingerprint(at) != figures:
        problems.append("figures differ from the same link without its bad part")
    if url_form(at.query_params) != address and not case.dropped_whole:
        problems.append(f"address bar keeps {sorted(at.query_params)[:5]} after the run")
    problems += sql_problems(entries, case.hostile)
    return problems


class Memo:
    """Remembers what pure functions returned for the same function and byte-identical (pickled)
    arguments.

    The hostile cases all come down to six good links, so each page draws the same few charts
    again and again; Plotly's validation of a figure (its construction, then Streamlit's own
    check of it) is most of a page run. The chart builders and export.table_for_export are pure
    functions of their arguments: any case that changed their input (data from other filters,
    other selected districts) misses the memo and is drawn for real, so the memo changes only
    how long the cases take, not what they check.
    """

    def __init__(self) -> None:
        self.results: dict[bytes, object] = {}
        self.hits = self.misses = 0

    def wrap(self, function):
        def remembered(*args, **kwargs):
            # id(): two lambdas (KeyChart.chart) share a name; the functions outlive the test.
            key = pickle.dumps((id(function), args, kwargs))
            if key not in self.results:
                self.misses += 1
                self.results[key] = function(*args, **kwargs)
            else:
                self.hits += 1
            return self.results[key]

        return remembered


@pytest.fixture
def memo(monkeypatch) -> Memo:
    remembered = Memo()
    for name in charts.__all__:
        monkeypatch.setattr(charts, name, remembered.wrap(getattr(charts, name)))
    monkeypatch.setattr(export, "table_for_export", remembered.wrap(export.table_for_export))
    monkeypatch.setattr(pack, "KEY_CHARTS", [replace(entry, chart=remembered.wrap(entry.chart))
                                            for entry in pack.KEY_CHARTS])
    return remembered


@pytest.mark.hostile
@pytest.mark.parametrize("page", PAGE_FILES)
def test_every_page_survives_hundreds_of_hostile_links(tiny_extract, monkeypatch, executed, memo, page):
    monkeypatch.setenv("REEMPLOY_DATA", str(tiny_extract))
    monkeypatch.setenv("REEMPLOY_MIN_CELL", "1")
    at = open_page(page, {})
    assert not at.exception, at.exception
    baselines: dict[str, tuple[dict, dict]] = {}
    failures: list[str] = []
    for case in CASES:
        if case.good not in baselines:
            baseline = follow_link(at, GOOD_LINKS[case.good])
            assert not at.exception and not link_notices(baseline), (case.good, link_notices(baseline))
            baselines[case.good] = fingerprint(baseline), url_form(baseline.query_params)
        first = len(executed)
        follow_link(at, case.query)
        failures += [f"{case.name}: {p}" for p in check_case(at, case, baselines[case.good], executed[first:])]
    print(f"{page}: {len(CASES)} cases, charts drawn {memo.misses} times, remembered {memo.hits}")
    assert not failures, f"{len(failures)} problem(s) on {page}:\n" + "\n".join(failures[:20])
    # The Data page describes the extract from the catalogue stored beside it (conftest builds it
    # with the shared extract): it asks DuckDB nothing, the other pages always do.
    assert executed or page == "pages/data.py", \
        "the SQL recorder saw no query: is db.execute still the only way to DuckDB?"
    assert len(CASES) >= 300


FIDELITY_KINDS = ("sql in district", "control", "reversed", "unknown parameter", "10k", "999 copies",
                  "990 unknown")
FIDELITY_CASES = [next(c for c in CASES if c.name.startswith(kind)) for kind in FIDELITY_KINDS]


@pytest.mark.parametrize("page", ["dashboard.py", "pages/districts.py", "pages/meeting_pack.py"])
def test_a_reused_session_opens_a_link_as_a_new_one(tiny_extract, monkeypatch, page):
    # The premise of follow_link: the hostile cases run in one session per page.
    monkeypatch.setenv("REEMPLOY_DATA", str(tiny_extract))
    monkeypatch.setenv("REEMPLOY_MIN_CELL", "1")
    reused = open_page(page, {})
    for case in FIDELITY_CASES:
        fresh = open_page(page, case.query)
        assert not fresh.exception, (case.name, [e.stack_trace for e in fresh.exception])
        follow_link(reused, case.query)
        assert link_notices(fresh) == link_notices(reused), case.name
        assert fingerprint(fresh) == fingerprint(reused), case.name
        assert dict(fresh.query_params) == dict(reused.query_params), case.name


def test_the_generated_cases_cover_every_parameter_and_kind_of_trouble():
    assert len(CASES) >= 300
    assert generate_cases()[5].query == CASES[5].query  # seeded: the same cases every run
    for key in ALL_KEYS:
        assert sum(case.name.startswith(f"sql in {key}:") for case in CASES) == len(SQL_INJECTIONS)
    names = " ".join(case.name for case in CASES)
    for kind in ("unknown district", "control characters", "unicode", "10k characters", "invalid from",
                 "outside the data", "reversed period", "unknown parameter", "999 copies",
                 "990 unknown parameters", "5,000 unknown parameters", "markup"):
        assert kind in names, kind
    assert any(len(value) >= 10_000 for case in CASES for values in case.query.values() for value in values)
    assert any("\x00" in value for case in CASES for values in case.query.values() for value in values)


# --------------------------------------------------------------------------- only run_query talks SQL

SQL_EXEMPT = {"db.py", "synthetic.py", "tools/bench.py",
              *(f"importer/{p.name}" for p in (ROOT / "reemploy" / "importer").glob("*.py"))}
SQL_CALL = re.compile(r"\.(execute|sql|query)\(")


def test_no_page_or_module_but_the_query_layer_hands_text_to_duckdb():
    # Pages, the entry script and the package (but the query layer, the importer, the sample
    # generator and the benchmark, which work on trusted files) go through db.run_query only.
    files = [ROOT / "dashboard.py", *sorted((ROOT / "pages").glob("*.py")),
             *(p for p in sorted((ROOT / "reemploy").rglob("*.py"))
               if p.relative_to(ROOT / "reemploy").as_posix() not in SQL_EXEMPT)]
    offenders = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
                 for path in files
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if SQL_CALL.search(line)]
    assert not offenders, offenders


def test_run_query_hands_the_file_text_and_the_values_to_duckdb_separately(tiny_extract, executed):
    from reemploy.extracts import open_extract

    extract = open_extract(tiny_extract)
    con = db.connect(extract)
    payload = "北山' or 1=1 --"
    params = db.query_params(extract, Filters(districts=(payload,)))
    result = db.run_query(con, "headline_by_program", params)
    assert result.empty  # a district of that name does not exist; nothing widened
    sql, bound = executed[-1]
    assert sql == db.load_sql("headline_by_program") and payload not in sql
    assert bound["filters"]["districts"] == [payload]


# --------------------------------------------------------------------------- widget values


def sidebar_app(tiny_extract, monkeypatch, page: str = "dashboard.py") -> AppTest:
    monkeypatch.setenv("REEMPLOY_DATA", str(tiny_extract))
    monkeypatch.setenv("REEMPLOY_MIN_CELL", "1")
    return open_page(page, {})


def filter_notices(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if "period" in w.value]


WIDGET_PAGES = ["dashboard.py", "pages/compare_programs.py", "pages/districts.py", "pages/trends.py",
                "pages/meeting_pack.py"]


@pytest.mark.parametrize("page", WIDGET_PAGES)
def test_reversed_months_in_the_widgets_are_ignored_with_a_notice(tiny_extract, monkeypatch, executed, page):
    at = sidebar_app(tiny_extract, monkeypatch, page)
    unfiltered = fingerprint(at)
    at.sidebar.selectbox(key="from").set_value(dt.date(2002, 6, 1))
    at.sidebar.selectbox(key="to").set_value(dt.date(2001, 1, 31)).run()
    assert not at.exception, at.exception
    assert any("is after" in notice for notice in filter_notices(at))
    # The period is ignored, so the figures are those without one (the sidebar still shows the
    # months the official chose, so they can be corrected).
    assert fingerprint(at)["charts"] == unfiltered["charts"]
    assert fingerprint(at)["metrics"] == unfiltered["metrics"]
    assert not sql_problems(executed, [])


@pytest.mark.parametrize("page", WIDGET_PAGES)
def test_the_months_at_the_bounds_of_the_data_are_offered_and_accepted(tiny_extract, monkeypatch, page):
    at = sidebar_app(tiny_extract, monkeypatch, page)
    unfiltered = fingerprint(at)
    # The first enrollment is on 2000-06-01 and as_of is 2002-12-31: the months offered run
    # from the one to the other, and together they are the whole extract.
    starts, ends = at.sidebar.selectbox(key="from").options, at.sidebar.selectbox(key="to").options
    assert (starts[0], starts[-1], len(starts)) == ("2000-06", "2002-12", 31)
    assert ends == starts
    at.sidebar.selectbox(key="from").set_value(dt.date(2000, 6, 1))
    at.sidebar.selectbox(key="to").set_value(dt.date(2002, 12, 31)).run()
    assert not at.exception, at.exception
    assert not filter_notices(at)
    assert "enrolled 2000-06-01 to 2002-12-31" in " ".join(c.value for c in at.caption)
    if page != "dashboard.py":  # the Overview compares a set period with the one before it
        assert fingerprint(at)["charts"] == unfiltered["charts"]


def test_a_quick_choice_sets_whole_months_and_shows_while_they_are_set(tiny_extract, monkeypatch):
    at = sidebar_app(tiny_extract, monkeypatch)
    quick = at.sidebar.selectbox(key="period_quick")
    assert quick.options == ["Last full quarter: 2002 Q4", "Last 12 full months: to 2002-12",
                             "2002", "2001", "2000"]
    quick.set_value("2001").run()
    assert not at.exception, at.exception
    assert (at.query_params["from"], at.query_params["to"]) == ("2001-01-01", "2001-12-31")
    reopened = open_page("dashboard.py", {"from": "2002-10-01", "to": "2002-12-31"})
    assert reopened.sidebar.selectbox(key="period_quick").value == "Last full quarter: 2002 Q4"


def test_a_link_with_a_period_to_the_day_is_kept_and_answered_exactly(tiny_extract, monkeypatch):
    monkeypatch.setenv("REEMPLOY_DATA", str(tiny_extract))
    monkeypatch.setenv("REEMPLOY_MIN_CELL", "1")
    # A one-day period on the last day: valid, and nobody enrolled that day.
    at = open_page("dashboard.py", {"from": "2002-12-31", "to": "2002-12-31"})
    assert not at.exception, at.exception
    assert at.sidebar.selectbox(key="from").value == dt.date(2002, 12, 31)
    assert "2002-12-31" in at.sidebar.selectbox(key="from").options
    assert at.query_params["from"] == "2002-12-31"
    assert any("No records match" in info.value for info in at.info)


@pytest.mark.parametrize("page", PAGE_FILES)
def test_every_option_of_every_filter_at_once_and_then_none(tiny_extract, monkeypatch, executed, page):
    at = sidebar_app(tiny_extract, monkeypatch, page)
    unfiltered = fingerprint(at)
    for key in ("district", "sector", "program", "gender", "age", "education"):
        widget = at.sidebar.multiselect(key=key)
        widget.set_value(list(widget.options))
    at.run()
    assert not at.exception, at.exception
    # Every option of every filter selects every enrollment of the TINY fixture (all have a
    # gender and an education), so every figure is the unfiltered one.
    if page not in ("pages/districts.py", "pages/sectors.py"):  # those mark the selected ones
        assert fingerprint(at)["charts"] == unfiltered["charts"], page
    assert fingerprint(at)["metrics"] == unfiltered["metrics"], page
    for key in ("district", "sector", "program", "gender", "age", "education"):
        at.sidebar.multiselect(key=key).set_value([])
    at.run()
    assert not at.exception, at.exception
    assert fingerprint(at) == unfiltered
    assert not sql_problems(executed, [])


# --------------------------------------------------------------------------- issue 13: names

# Names a case-management system could hold: each would run or render if written as it came.
FORMULA_NAMES = ['=HYPERLINK("http://127.0.0.1:9/x","click")', "=cmd|' /C calc'!A0",
                 "+SUM(1,2)", "-2+3", "@SUM(A1)", "\tlead tab"]
MARKDOWN_NAMES = ["[phish](https://example.org)", "$$\\frac{1}{2}$$", ":red[alarm]",
                  ":material/warning: x", "**bold** _it_ `code` <b>html</b>"]
PLOTLY_NAME = '<a href="https://example.org/x">click</a>'


def _unescaped_markdown(text: str) -> str:
    # CommonMark: a backslash before ASCII punctuation stands for that character.
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text).replace("\u2060", "")


@pytest.mark.parametrize("name", MARKDOWN_NAMES + FORMULA_NAMES + [PLOTLY_NAME])
def test_markdown_text_shows_a_name_as_written_and_leaves_no_markup_active(name):
    from reemploy.formatting import markdown_text

    escaped = markdown_text(name)
    assert _unescaped_markdown(escaped) == name
    # Every ASCII punctuation character is escaped, so none can open a link, math, a directive,
    # emphasis or HTML; a colon is followed by a word joiner, so no :emoji: or :material/...:.
    bare = re.sub(r"\\[!-/:-@\[-`{-~]", "", escaped)
    assert not re.search(r"[!-/:-@\[-`{-~]", bare), escaped
    assert not re.search(r":[A-Za-z]", escaped)


@pytest.fixture
def hostile_names_extract(tmp_path) -> Path:
    from conftest import write_extract

    rows, jobs = [], []
    names = [MARKDOWN_NAMES[0], PLOTLY_NAME, FORMULA_NAMES[0]]
    for d, district in enumerate(names):
        for i in range(12):
            for program in ("skills", "mindset"):
                eid = f"{program[0]}{d}-{i}"
                rows.append(dict(enrollment_id=eid, program_type=program, district=district,
                                 prior_sector=FORMULA_NAMES[1] if i % 2 else ":red[s]",
                                 enrolled_on=dt.date(2001, 1, 1), exited_on=dt.date(2001, 2, 1),
                                 completed=True))
                if i % 3:
                    jobs.append(dict(placement_id=f"J{eid}", enrollment_id=eid,
                                     started_on=dt.date(2001, 3, 1), monthly_wage=500.0))
    return write_extract(tmp_path / "names", rows, jobs)


# Keys whose strings Plotly renders as pseudo-HTML; customdata, x, y, locations and tickvals
# are data it matches on, not text it shows (the y categories are shown through ticktext).
RENDERED_KEYS = {"text", "hovertext", "ticktext", "label", "name", "hovertemplate"}


def _rendered_strings(node, key=None) -> list[str]:
    if isinstance(node, dict):
        return [t for k, v in node.items() if k not in ("customdata", "x", "y", "locations",
                "tickvals", "categoryarray", "geojson") for t in _rendered_strings(v, k)]
    if isinstance(node, (list, tuple)):
        return [t for v in node for t in _rendered_strings(v, key)]
    if hasattr(node, "tolist"):
        return _rendered_strings(node.tolist(), key)
    return [node] if isinstance(node, str) and key in RENDERED_KEYS else []


def _markdown_sources(at: AppTest) -> list[str]:
    return [e.value for kind in ("caption", "info", "markdown", "warning") for e in at.get(kind)]


@pytest.mark.parametrize("page", ["dashboard.py", "pages/districts.py", "pages/sectors.py",
                                  "pages/about.py"])
def test_names_from_the_data_reach_markdown_escaped_on_every_page_header_and_filter_notice(
        hostile_names_extract, monkeypatch, page):
    from conftest import run_app

    at = run_app(hostile_names_extract, monkeypatch, page,
                 district=[MARKDOWN_NAMES[0]], sector=[":red[s]"])
    assert not at.exception
    sources = _markdown_sources(at)
    shown = [s for s in sources if "phish" in s]
    assert shown, sources
    for text in shown:
        assert "[phish](" not in text and ":red[" not in text
        assert "phish\\]\\(https\\:\u2060\\/\\/example\\.org\\)" in text


def test_plotly_shows_a_name_with_a_link_as_text_on_the_district_and_sector_charts(
        hostile_names_extract):
    from reemploy import figures
    from reemploy.db import connect
    from reemploy.extracts import open_extract

    extract = open_extract(hostile_names_extract)
    con = connect(extract)
    filters = Filters()
    by_district = figures.districts.outcomes_by_district(con, extract, filters, 1)
    gap = figures.districts.placement_gap_by_district(con, extract, filters, 1)
    sectors = figures.sectors.placement_rate_by_prior_sector(con, extract, filters, 1)
    geojson = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"district": d},
         "geometry": {"type": "Polygon", "coordinates": [[[i, 0], [i + 1, 0], [i + 1, 1], [i, 0]]]}}
        for i, d in enumerate(sorted(set(by_district["district"])))]}
    drawn = [
        charts.district_ranked_chart(by_district, "placement_rate_180d", "skills", 1, [PLOTLY_NAME]),
        charts.district_map_chart(by_district, geojson, "placement_rate_180d", "skills", 1, [PLOTLY_NAME]),
        charts.district_gap_chart(gap, 1, [PLOTLY_NAME]),
        charts.prior_sector_placement_chart(sectors, 1, [FORMULA_NAMES[1]]),
    ]
    for fig in drawn:
        rendered = _rendered_strings(fig.to_plotly_json())
        assert rendered
        assert not [t for t in rendered if "<a" in t], fig.layout.title.text
    escaped = "&lt;a href=\"https://example.org/x\"&gt;click&lt;/a&gt;"
    for fig in drawn[:3]:
        assert any(escaped in t for t in _rendered_strings(fig.to_plotly_json()))
    # A click still hands back the name itself: customdata[0] is unescaped.
    ranked = drawn[0]
    assert [PLOTLY_NAME] in [list(c) for c in ranked.data[0].customdata]


def _names_table():
    import pandas as pd

    return pd.DataFrame({"district": FORMULA_NAMES, "placement_rate_180d": [0.5] * 6,
                         "placement_rate_180d_n": [12, 13, 14, 15, 16, 17],
                         "change": ["-3", "+1.5", "-2.5", "x", "y", "z"]})


def test_csv_download_writes_every_formula_like_name_as_text_and_numbers_as_numbers():
    import csv
    import io

    table = export.table_for_export(_names_table(), 10)
    rows = list(csv.DictReader(io.StringIO(export.csv_bytes(table).decode("utf-8-sig"))))
    assert [r["district"] for r in rows] == ["'" + name for name in FORMULA_NAMES]
    assert [r["placement_rate_180d_n"] for r in rows] == ["12", "13", "14", "15", "16", "17"]
    # A plain signed number is not a formula and stays a number.
    assert [r["change"] for r in rows][:3] == ["-3", "+1.5", "-2.5"]


def test_excel_download_stores_formula_like_names_as_text_cells_exactly():
    import io

    import openpyxl

    table = export.table_for_export(_names_table(), 10)
    about = {"filters": "district: " + FORMULA_NAMES[0]}
    book = openpyxl.load_workbook(io.BytesIO(export.xlsx_bytes(table, about)))
    data = book["data"]
    names = [data.cell(row=i, column=1) for i in range(2, 8)]
    assert [c.value for c in names] == FORMULA_NAMES
    assert {c.data_type for c in names} == {"s"}  # text cells, never "f" (formula)
    assert [data.cell(row=i, column=3).value for i in range(2, 8)] == [12, 13, 14, 15, 16, 17]
    cells = [c for row in book["about"].iter_rows() for c in row]
    assert "f" not in {c.data_type for c in cells}
    assert not [ws for ws in book.worksheets if ws._hyperlinks]
