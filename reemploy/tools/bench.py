"""`python -m reemploy bench`: how fast every page's queries answer at a given size.

Each page is run for real (Streamlit's AppTest, caches cleared before every interaction) under
random filters, and the time spent computing its figures (every ui.Session.load, which
runs the SQL and the statistics of reemploy.figures, and the disclosure check) is recorded per page. The same interactions are then answered
the way a typical pandas dashboard does it: both Parquet tables read into DataFrames once, then
filtered and grouped per interaction. Each side runs in its own process so that its peak memory
is its own.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from reemploy import cache
from reemploy.contract import AGE_BANDS, PROGRAM_TYPES
from reemploy.extracts import REPO_ROOT, is_empty, open_extract
from reemploy.filters import (Filters, filter_options_from, month_end, month_start, months_between,
                              parse_query_params, quick_periods)

PERIOD_START = dt.date(1998, 1, 1)


def _month_period(rng: random.Random, as_of: dt.date) -> tuple[str, str]:
    """A period of whole months (3, 6, 12 or 24) that ends by as_of, as the sidebar sets it."""
    months = months_between(PERIOD_START, as_of)
    length = rng.choice([3, 6, 12, 24])
    start = rng.randrange(0, max(1, len(months) - length + 1))
    end = months[min(start + length, len(months)) - 1]
    return months[start].isoformat(), min(month_end(end), as_of).isoformat()


def random_interactions(catalogue: dict, as_of: dt.date, count: int, seed: int = 7) -> list[dict]:
    """URL query parameters an official might produce, periods in whole months: broad, narrow
    and some that leave few or none."""
    rng = random.Random(seed)
    districts, sectors = list(catalogue["districts"]), list(catalogue["sectors"])
    interactions = []
    for index in range(count):
        params: dict[str, list[str]] = {}
        kind = index % 5
        if kind in (1, 2, 4):
            params["district"] = rng.sample(districts, rng.randint(1, min(3, len(districts))))
        if kind in (2, 3):
            params["sector"] = rng.sample(sectors, rng.randint(1, min(2, len(sectors))))
        if kind == 3:
            params["program"] = rng.sample(list(PROGRAM_TYPES[:2]), 1)
        if kind in (1, 3) or rng.random() < 0.3:
            params["from"], params["to"] = map(lambda day: [day], _month_period(rng, as_of))
        if kind == 4:
            # one age band in the last month: few or no records, which pages must answer fast too
            params["age"] = [rng.choice(AGE_BANDS)]
            params["from"], params["to"] = [month_start(as_of).isoformat()], [as_of.isoformat()]
        interactions.append(params)
    return interactions


def meeting_interactions(catalogue: dict, as_of: dt.date, count: int, seed: int = 11,
                         first: dt.date = PERIOD_START) -> list[dict]:
    """A review meeting's clicks: unfiltered first, then one district, one sector, a district
    and a sector, a year or a quarter, a programme, back to unfiltered, each drawn at random
    from the data's values and the sidebar's quick periods; repeated until `count`."""
    rng = random.Random(seed)
    districts, sectors = list(catalogue["districts"]), list(catalogue["sectors"])
    periods = [p for p in quick_periods(first, as_of) if p.date_to == month_end(p.date_to)]
    interactions: list[dict] = []
    while len(interactions) < count:
        district, sector, period = rng.choice(districts), rng.choice(sectors), rng.choice(periods)
        interactions += [{}, {"district": [district]}, {"sector": [sector]},
                         {"district": [district], "sector": [sector]},
                         {"from": [period.date_from.isoformat()], "to": [period.date_to.isoformat()]},
                         {"program": [rng.choice(PROGRAM_TYPES)]}, {}]
    return interactions[:count]


def percentiles(samples_ms: list[float]) -> dict:
    values = np.asarray(samples_ms, dtype=float)
    return {
        "p50_ms": round(float(np.percentile(values, 50)), 1),
        "p95_ms": round(float(np.percentile(values, 95)), 1),
        "max_ms": round(float(values.max()), 1),
    }


def peak_rss_mb() -> float:
    """This process's own peak resident memory. Not ru_maxrss: Linux carries that across
    fork and exec, so a child would report the parent's peak (the generator's, here)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# --- the DuckDB side: every page through AppTest -------------------------------------------------


def _instrument_figures(timings: list[float]):
    """Time every figure a page asks for (ui.Session.load and the disclosure rule it checks
    first): each top-level call adds its duration. Returns a function that puts the originals
    back."""
    from reemploy import ui

    depth = [0]
    originals = {"load": ui.Session.load, "withheld_view": ui.disclosure.withheld_view}

    def wrap(function):
        @functools.wraps(function)
        def timed(*args, **kwargs):
            depth[0] += 1
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    timings.append(time.perf_counter() - started)

        return timed

    ui.Session.load = wrap(originals["load"])
    ui.disclosure.withheld_view = wrap(originals["withheld_view"])

    def restore() -> None:
        ui.Session.load = originals["load"]
        ui.disclosure.withheld_view = originals["withheld_view"]

    return restore


def run_pages(data_dir: str, interactions: list[dict], meeting: bool = False,
              preload: bool = True) -> dict:
    """Per page, the time its figures took under each interaction.

    Cold (default): the result cache is emptied before every interaction and the answer store
    is not read. Meeting: as on a server since the extract was warmed, nothing is emptied
    between interactions; with `preload`, the store was read into memory first (timed apart),
    as a server has done some seconds after its start; without, each answer is read from the
    store when first asked, as just after a restart."""
    import os

    from streamlit.testing.v1 import AppTest

    from reemploy import ui

    previous_data = os.environ.get("REEMPLOY_DATA")
    os.environ["REEMPLOY_DATA"] = data_dir
    previous_mode = cache.set_store_mode("read" if meeting else "off")
    timings: list[float] = []
    restore = _instrument_figures(timings)
    pages: dict[str, list[float]] = {}
    errors = []
    preload_s = None
    try:
        preloaded = 0
        if meeting and preload:
            started = time.perf_counter()
            preloaded = cache.preload(open_extract(data_dir))
            preload_s = round(time.perf_counter() - started, 2)
        # One untimed run of every page first: the process imports what the pages use (scipy
        # for the log-rank test, kaleido...) and reads the per-version catalogue, as on a server
        # that has answered anyone since the extract arrived.
        warm = AppTest.from_file(str(REPO_ROOT / "dashboard.py"), default_timeout=120)
        warm.run()
        for page, _, _ in ui.PAGES[1:]:
            warm.switch_page(str(REPO_ROOT / page))
            warm.run()
        if meeting and not preload:
            cache.clear()  # the imports stay warm; the answers come from the store
        timings.clear()
        cache.reset_counts()
        for page, label, _ in ui.PAGES:
            samples = pages.setdefault(label, [])
            for params in interactions:
                if not meeting:
                    cache.clear()
                at = AppTest.from_file(str(REPO_ROOT / "dashboard.py"), default_timeout=120)
                for key, values in params.items():
                    at.query_params[key] = values
                at.run()
                if page != "dashboard.py":
                    at.switch_page(str(REPO_ROOT / page))
                    if not meeting:
                        cache.clear()
                    timings.clear()
                    at.run()
                if at.exception:
                    errors.append({"page": label, "params": params,
                                   "error": str(at.exception[0].value)[:300]})
                samples.append(sum(timings) * 1000)
                timings.clear()
    finally:
        restore()
        cache.set_store_mode(previous_mode)
        if previous_data is None:
            os.environ.pop("REEMPLOY_DATA", None)
        else:
            os.environ["REEMPLOY_DATA"] = previous_data
    report = {"pages": {label: percentiles(s) for label, s in pages.items()}, "errors": errors,
              "peak_rss_mb": peak_rss_mb(), "answers_from": cache.reset_counts()}
    if meeting:
        report |= {"preload_s": preload_s, "preloaded": preloaded}
    return report


def run_meeting(data_dir: str, interactions: list[dict]) -> dict:
    return run_pages(data_dir, interactions, meeting=True)


def run_meeting_on_demand(data_dir: str, interactions: list[dict]) -> dict:
    return run_pages(data_dir, interactions, meeting=True, preload=False)


# --- what the district scope costs ---------------------------------------------------------------

SCOPE_USER = {"is_logged_in": True, "email": "bench@scope.invalid", "sub": "bench"}
SCOPE_AUTH = {"redirect_uri": "http://127.0.0.1:9/oauth2callback", "cookie_secret": "bench",
              "client_id": "bench", "client_secret": "bench",
              "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}


def run_scope(data_dir: str, payload: dict) -> dict:
    """Every page under each interaction twice, alternately, caches cold each time: open access
    with the district filter set to the scope, and signed in (AppTest's st.user, a policy file
    giving that user the scope) with no district filter. Both ask the same questions of the same
    rows; the difference is what sign-in and the scope add: reading the policy, resolving the
    user, narrowing the catalogue and the link, the scope in every cache key. Per page, the time
    in its figures and the whole page run (ms)."""
    import os
    import tempfile

    from streamlit.testing.v1 import AppTest

    from reemploy import access, ui

    scope, interactions = list(payload["scope"]), payload["interactions"]
    folder = Path(tempfile.mkdtemp(prefix="reemploy-bench-scope-"))
    (folder / "access.toml").write_text(
        f'[[rule]]\nuser = "{SCOPE_USER["email"]}"\nrole = "admin"\ndistricts = {json.dumps(scope)}\n',
        encoding="utf-8")
    settings = {"REEMPLOY_DATA": data_dir, access.POLICY_ENV_VAR: str(folder / "access.toml"),
                access.AUDIT_ENV_VAR: str(folder / "audit.log")}
    cache.set_store_mode("off")  # cold on both sides, whatever has been warmed
    previous = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    timings: list[float] = []
    restore = _instrument_figures(timings)
    sides = {"open": {}, "scoped": {}}
    errors = []

    def run(page: str, params: dict, scoped: bool) -> tuple[float, float]:
        cache.clear()
        at = AppTest.from_file(str(REPO_ROOT / "dashboard.py"), default_timeout=120)
        if scoped:
            at.secrets["auth"] = SCOPE_AUTH
            at.user = dict(SCOPE_USER)
        for key, values in params.items():
            at.query_params[key] = values
        if page != "dashboard.py":
            at.run()
            at.switch_page(str(REPO_ROOT / page))
            cache.clear()
        timings.clear()
        started = time.perf_counter()
        at.run()
        elapsed = time.perf_counter() - started
        if at.exception:
            errors.append({"page": page, "scoped": scoped, "params": params,
                           "error": str(at.exception[0].value)[:300]})
        return sum(timings) * 1000, elapsed * 1000

    try:
        for page, _, _ in ui.PAGES:  # warm imports, connection and catalogue, as in run_pages
            run(page, {}, False)
            run(page, {}, True)
        for page, label, _ in ui.PAGES:
            for params in interactions:
                rest = {k: v for k, v in params.items() if k != "district"}
                for side, scoped, query in (("open", False, {**rest, "district": scope}),
                                            ("scoped", True, rest)):
                    figures, whole = run(page, query, scoped)
                    entry = sides[side].setdefault(label, {"figures": [], "run": []})
                    entry["figures"].append(figures)
                    entry["run"].append(whole)
    finally:
        restore()
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return {"scope": scope, "errors": errors,
            "pages": {label: {side: {kind: percentiles(values) for kind, values in sides[side][label].items()}
                              for side in sides} for label in sides["open"]}}


def format_scope_report(report: dict) -> str:
    lines = [f"scope {', '.join(report['scope'])}: open access with that district filter against "
             "signed in with that scope (p50 / p95 ms)",
             f"{'page':<22}{'figures open':>16}{'figures scoped':>18}{'run open':>16}{'run scoped':>16}"]
    for label, sides in report["pages"].items():
        cells = [f"{sides[side][kind]['p50_ms']:.0f} / {sides[side][kind]['p95_ms']:.0f}"
                 for kind in ("figures", "run") for side in ("open", "scoped")]
        lines.append(f"{label:<22}{cells[0]:>16}{cells[1]:>18}{cells[2]:>16}{cells[3]:>16}")
    if report["errors"]:
        lines.append(f"{len(report['errors'])} page run(s) raised an exception: see the JSON")
    return "\n".join(lines)


# --- the same figures as the pandas side, in DuckDB ------------------------------------------------

# The questions whose answers the pandas side computes too: counts and the median wage per
# programme, durations for the re-employment curves, and placement by cohort, district and
# employer type. Timed without the statistics on top, like the pandas side.
PANDAS_EQUIVALENT_QUERIES = (("headline_by_program", {}),
                             ("time_to_placement", {"origin": "enrollment", "by_district": False}),
                             ("placement_rate_by_cohort", {}), ("outcomes_by_district", {}),
                             ("employer_mix_by_program", {}))


def _filters_from(params: dict, options: dict) -> Filters:
    """The filters a page would apply for these URL parameters (filters.parse_query_params)."""
    return parse_query_params(params, options).filters


def run_queries(data_dir: str, interactions: list[dict]) -> dict:
    """The pandas side's figures answered by the app's own SQL, each interaction from scratch."""
    from reemploy.db import connect, query_params, run_query

    from reemploy.figures.catalogue import filter_catalogue

    extract = open_extract(data_dir)
    con = connect(extract)
    options = filter_options_from(filter_catalogue(con, extract))
    samples = []
    for params in interactions:
        bound = query_params(extract, _filters_from(params, options))
        started = time.perf_counter()
        for name, extra in PANDAS_EQUIVALENT_QUERIES:
            run_query(con, name, {**bound, **extra})
        samples.append((time.perf_counter() - started) * 1000)
    return {**percentiles(samples), "peak_rss_mb": peak_rss_mb()}


# --- the pandas side -------------------------------------------------------------------------------


def run_pandas(data_dir: str, interactions: list[dict]) -> dict:
    """The same interactions answered with pandas over DataFrames loaded once."""
    import pandas as pd

    extract = open_extract(data_dir)
    as_of = pd.Timestamp(extract.as_of)
    started = time.perf_counter()
    enrollments = pd.concat(pd.read_parquet(f) for f in extract.files["enrollments"])
    placements = pd.concat(pd.read_parquet(f) for f in extract.files["placements"])
    for frame in (enrollments, placements):
        for column in frame.columns:
            if column.endswith("_on"):
                frame[column] = pd.to_datetime(frame[column])
    joined = placements.merge(enrollments[["enrollment_id", "enrolled_on"]], on="enrollment_id")
    joined = joined[joined["started_on"] >= joined["enrolled_on"]]
    first = (joined.sort_values(["enrollment_id", "started_on", "placement_id"])
             .drop_duplicates("enrollment_id")
             .drop(columns=["enrolled_on"]))
    data = enrollments.merge(first, on="enrollment_id", how="left")
    age = data["enrolled_on"].dt.year - data["birth_year"]
    data["age_band"] = pd.cut(age, [0, 29, 39, 49, 200], labels=list(AGE_BANDS)).astype("string").fillna("unknown")
    load_seconds = time.perf_counter() - started
    samples = []
    for params in interactions:
        started = time.perf_counter()
        mask = pd.Series(True, index=data.index)
        for key, column in (("district", "district"), ("sector", "prior_sector"),
                            ("program", "program_type"), ("age", "age_band")):
            if key in params:
                mask &= data[column].isin(params[key])
        if "from" in params:
            mask &= data["enrolled_on"] >= pd.Timestamp(params["from"][0])
            mask &= data["enrolled_on"] <= pd.Timestamp(params["to"][0])
        part = data[mask]
        exited = part["exited_on"].notna() & (part["exited_on"] <= as_of)
        observed = part["exited_on"].notna() & (part["exited_on"] + pd.Timedelta(days=180) <= as_of)
        placed = part["started_on"].notna() & (part["started_on"] <= part["exited_on"] + pd.Timedelta(days=180))
        frame = part.assign(exited=exited, observed=observed, placed=observed & placed,
                            quarter=part["enrolled_on"].dt.to_period("Q"))
        frame.groupby("program_type").agg(
            enrolled=("enrollment_id", "size"), exited=("exited", "sum"),
            observed=("observed", "sum"), placed=("placed", "sum"),
            median_wage=("monthly_wage", "median"))
        days = np.where(frame["started_on"].notna(), (frame["started_on"] - frame["enrolled_on"]).dt.days,
                        (as_of - frame["enrolled_on"]).dt.days)
        frame.assign(days=days, event=frame["started_on"].notna()).groupby(
            ["program_type", "days"])["event"].agg(["sum", "size"])
        frame.groupby(["program_type", "quarter"])[["observed", "placed"]].sum()
        frame.groupby(["program_type", "district"])[["observed", "placed"]].sum()
        frame.groupby(["program_type", "employer_type"]).size()
        samples.append((time.perf_counter() - started) * 1000)
    return {"load_s": round(load_seconds, 1), **percentiles(samples), "peak_rss_mb": peak_rss_mb()}


# --- the browser side -----------------------------------------------------------------------------

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def run_browser(data_dir: str, district: str, chromium: str = "/usr/bin/chromium") -> dict:
    """Seconds from `streamlit run` to the first chart drawn in Chromium; then, on every page
    with charts, from choosing a district to every chart of the page redrawn (Streamlit's status
    widget gone, as many charts as before, the address carrying the district)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise SystemExit("bench --browser needs Playwright: "
                         "python -m pip install -r requirements-dev.txt") from None

    from reemploy import ui
    from reemploy.tools.loadtest import local_app

    charts = '[data-testid="stPlotlyChart"]'
    redraws = {}
    with sync_playwright() as playwright:
        # The browser is up before the clock starts: the app's cold start is what is timed.
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        district_box = page.get_by_test_id("stSidebarUserContent").get_by_role(
            "combobox", name="District", exact=True)
        started = time.perf_counter()
        try:
            with local_app(data_dir) as app:
                page.goto(f"{app.url}/")
                title = page.locator(f"{charts} .g-gtitle").first
                title.wait_for(timeout=60_000)
                cold_start = time.perf_counter() - started
                for file, label, _ in ui.PAGES:
                    path = "" if file == "dashboard.py" else Path(file).stem
                    page.goto(f"{app.url}/{path}")
                    district_box.wait_for(timeout=60_000)
                    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=60_000)
                    try:
                        page.locator(charts).first.wait_for(timeout=10_000)
                    except Exception:  # noqa: BLE001 - a page without charts (Data, About)
                        continue
                    page.wait_for_timeout(500)  # every chart of the first run is in
                    count = page.locator(charts).count()
                    changed = time.perf_counter()
                    district_box.click()
                    page.get_by_role("option", name=district, exact=True).click()
                    page.keyboard.press("Escape")
                    page.wait_for_url("**district=**", timeout=60_000)
                    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=60_000)
                    page.wait_for_function(
                        f"(() => {{ const all = [...document.querySelectorAll('{charts}')];"
                        f" return all.length >= {count} && all.every(c => c.querySelector('.main-svg')); }})()",
                        timeout=60_000)
                    redraws[label] = round(time.perf_counter() - changed, 2)
        finally:
            browser.close()
    return {"cold_start_to_first_chart_s": round(cold_start, 2), "filter_change_redrawn_s": redraws}


# --- orchestration ---------------------------------------------------------------------------------


def _child(side: str, data_dir: str, interactions: list[dict]) -> dict:
    code = (
        "import json, sys; from reemploy.tools import bench; "
        f"print(json.dumps(bench.run_{side}(sys.argv[1], json.loads(sys.argv[2]))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, data_dir, json.dumps(interactions)],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the {side} benchmark failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_warm(data_dir: str, pairs: bool) -> dict:
    from reemploy.tools.warm import warm

    return warm(data_dir, pairs=pairs, quiet=True)


def run_benchmark(n: int, data_dir: Path, interactions: int, skip_pandas: bool = False,
                  browser: bool = False, scope: tuple[str, ...] = (), pairs: bool = True) -> dict:
    """Generate the sample if needed, then in one run: every page cold under random filters,
    the warming of the answer store, a review meeting's clicks with the store allowed, the
    browser (cold, then warmed) and the pandas comparison; with `scope`, the comparison of
    run_scope instead."""
    import shutil

    from reemploy import cache
    from reemploy.db import build_outcomes, connect, derived_dir
    from reemploy.figures.catalogue import extract_catalogue, filter_catalogue
    from reemploy.synthetic import generate_extract

    generated = None
    if is_empty(data_dir):
        started = time.perf_counter()
        generate_extract(data_dir, n, progress=True)
        generated = round(time.perf_counter() - started, 1)
    extract = open_extract(data_dir)
    started = time.perf_counter()
    build_outcomes(extract)
    prepared = round(time.perf_counter() - started, 1)
    catalogue = filter_catalogue(connect(extract), extract)
    params = random_interactions(catalogue, extract.as_of, interactions)
    if scope:
        return {"enrollments": n, "interactions": interactions,
                "scope_comparison": _child("scope", str(data_dir), {"scope": list(scope), "interactions": params})}
    # Everything cold first: what an earlier run warmed is set aside.
    shutil.rmtree(derived_dir(extract) / cache.ANSWERS_FOLDER, ignore_errors=True)
    pages = _child("pages", str(data_dir), params)
    report = {
        "enrollments": n,
        "interactions": interactions,
        "generate_s": generated,
        "prepare_s": prepared,
        "pages": pages["pages"],
        "peak_rss_mb": pages["peak_rss_mb"],
        "errors": pages["errors"],
    }
    if browser:
        report["browser_cold"] = run_browser(str(data_dir), catalogue["districts"][0])
    report["warm"] = _child("warm", str(data_dir), pairs)
    first = extract_catalogue(connect(extract), extract)["profile"]["first_enrolled_on"].date()
    clicks = meeting_interactions(catalogue, extract.as_of, interactions, first=first)
    meeting = _child("meeting", str(data_dir), clicks)
    report["meeting"] = meeting
    report["meeting_on_demand"] = _child("meeting_on_demand", str(data_dir), clicks)
    report["errors"] += meeting["errors"] + report["meeting_on_demand"]["errors"]
    if browser:
        report["browser_warmed"] = run_browser(str(data_dir), catalogue["districts"][0])
    if not skip_pandas:
        pandas = _child("pandas", str(data_dir), params)
        same = _child("queries", str(data_dir), params)
        report["pandas"] = pandas
        report["duckdb_same_figures"] = same
        # Like for like: the same figures under the same interactions, pandas over DuckDB.
        report["speedup_p95"] = round(pandas["p95_ms"] / same["p95_ms"], 1) if same["p95_ms"] else None
    return report


def format_report(report: dict) -> str:
    if "scope_comparison" in report:
        return (f"{report['enrollments']:,} enrollments, {report['interactions']} interactions per "
                f"page and side, caches cold\n" + format_scope_report(report["scope_comparison"]))
    meeting = report.get("meeting")
    lines = [f"{report['enrollments']:,} enrollments, {report['interactions']} interactions per page "
             "(p50 / p95 ms): cold, random filters in whole months" +
             (" | a review meeting, store read into memory | the same, store read on demand"
              if meeting else "")]
    for label, page in report["pages"].items():
        line = f"  {label:<22}{page['p50_ms']:>8.0f} /{page['p95_ms']:>6.0f}"
        for replay in (meeting, report.get("meeting_on_demand")):
            if replay:
                warm = replay["pages"][label]
                line += f"   |{warm['p50_ms']:>8.0f} /{warm['p95_ms']:>6.0f}"
        lines.append(line)
    lines.append(f"peak memory (DuckDB side): {report['peak_rss_mb']:,.0f} MB")
    if "warm" in report:
        warm = report["warm"]
        lines.append(f"warming: {warm['views']} views in {warm['seconds']} s, {warm['answers_stored']:,} "
                     f"answers ({warm['store_mb']} MB); the meeting read them in {meeting['preload_s']} s "
                     f"and took its answers from {meeting['answers_from']}")
    if "pandas" in report:
        pandas = report["pandas"]
        same = report["duckdb_same_figures"]
        lines.append(f"the same figures: pandas p95 {pandas['p95_ms']:,.0f} ms (peak memory "
                     f"{pandas['peak_rss_mb']:,.0f} MB, load {pandas['load_s']} s), DuckDB p95 "
                     f"{same['p95_ms']:,.0f} ms (peak memory {same['peak_rss_mb']:,.0f} MB): "
                     f"{report['speedup_p95']}x faster at p95")
    for key, name in (("browser_cold", "cold"), ("browser_warmed", "warmed")):
        if key in report:
            browser = report[key]
            redraws = ", ".join(f"{label} {seconds}" for label, seconds in browser["filter_change_redrawn_s"].items())
            lines.append(f"browser ({name}): first chart {browser['cold_start_to_first_chart_s']} s after "
                         f"the server started; a district chosen, every chart redrawn in (s): {redraws}")
    if report["errors"]:
        lines.append(f"{len(report['errors'])} page run(s) raised an exception: see the JSON")
    return "\n".join(lines)
