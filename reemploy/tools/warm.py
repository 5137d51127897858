"""`python -m reemploy warm`: answer the views a review meeting opens first, into the store.

Every page is run for real (Streamlit's AppTest) under each view with the result cache writing
to the extract version's store (reemploy.cache), so what is stored is exactly what the pages ask
for, with their options. The server then answers those views from the store: read on a miss,
and all of it into memory once per version (ui.Session). `generate` and `import` start this in
the background after publishing (start_warming, at low priority); its report is written beside the store.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from reemploy.contract import PROGRAM_TYPES
from reemploy.extracts import REPO_ROOT
from reemploy.filters import quick_periods

WARM_ENV_VAR = "REEMPLOY_WARM"
REPORT_NAME = "warm-report.json"


def meeting_views(districts, sectors, first: dt.date, as_of: dt.date,
                  pairs: bool = True) -> list[dict[str, list[str]]]:
    """The views as link query parameters, in the order they are warmed: unfiltered, each
    district, each prior sector, each programme, the quick periods (last full quarter, last 12
    full months, each calendar year), then each district with each prior sector."""
    views: list[dict[str, list[str]]] = [{}]
    views += [{"district": [district]} for district in districts]
    views += [{"sector": [sector]} for sector in sectors]
    views += [{"program": [program]} for program in PROGRAM_TYPES]
    views += [{"from": [period.date_from.isoformat()], "to": [period.date_to.isoformat()]}
              for period in quick_periods(first, as_of)]
    if pairs:
        views += [{"district": [district], "sector": [sector]}
                  for district in districts for sector in sectors]
    # When as_of ends a year, the last 12 full months are that calendar year.
    return list({json.dumps(view, sort_keys=True): view for view in views}.values())


def views_of_extract(extract, pairs: bool = True) -> list[dict[str, list[str]]]:
    from reemploy.db import connect
    from reemploy.figures.catalogue import extract_catalogue

    info = extract_catalogue(connect(extract), extract)
    first = info["profile"]["first_enrolled_on"]
    first = first.date() if hasattr(first, "date") else extract.as_of
    return meeting_views(info["catalogue"]["districts"], info["catalogue"]["sectors"], first,
                         extract.as_of, pairs)


def warm_log(data_dir: Path | str) -> Path:
    """Where the background warming of this extract folder writes its output."""
    from reemploy.db import DERIVED_FOLDER

    return Path(data_dir).absolute() / DERIVED_FOLDER / "warm.log"


def run_views(data_dir: str, views: list[dict], on_view=None) -> list[dict]:
    """Run every page under each view (a fresh browser session per view, which opens the
    Overview with the link and then each page in turn, as an official would). Returns, per
    view, the seconds each page's run took and any exception."""
    import logging

    from streamlit.testing.v1 import AppTest

    from reemploy import ui

    # AppTest outside `streamlit run` warns once per run that there is no script context.
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    previous = os.environ.get("REEMPLOY_DATA")
    os.environ["REEMPLOY_DATA"] = data_dir
    results = []
    try:
        for params in views:
            at = AppTest.from_file(str(REPO_ROOT / "dashboard.py"), default_timeout=300)
            for key, values in params.items():
                at.query_params[key] = values
            runs, errors = {}, []
            for page, label, _ in ui.PAGES:
                started = time.perf_counter()
                if page != "dashboard.py":
                    at.switch_page(str(REPO_ROOT / page))
                at.run()
                runs[label] = round(time.perf_counter() - started, 3)
                if at.exception:
                    errors.append({"page": label, "error": str(at.exception[0].value)[:300]})
            results.append({"view": params, "seconds": runs, "errors": errors})
            if on_view:
                on_view(results[-1])
    finally:
        if previous is None:
            os.environ.pop("REEMPLOY_DATA", None)
        else:
            os.environ["REEMPLOY_DATA"] = previous
    return results


def warm(data_dir: str, pairs: bool = True, quiet: bool = False) -> dict:
    """Fill the store of the extract in data_dir; returns (and writes beside the store) the report."""
    from reemploy import cache
    from reemploy.db import build_outcomes, derived_dir
    from reemploy.extracts import open_extract

    started = time.perf_counter()
    extract = open_extract(data_dir)
    build_outcomes(extract)
    previous = cache.set_store_mode("write")
    try:
        views = views_of_extract(extract, pairs)

        def progress(result):
            if not quiet:
                print(f"warmed {len(done) + 1}/{len(views)} {result['view'] or 'unfiltered'} in "
                      f"{sum(result['seconds'].values()):.1f} s", file=sys.stderr)
            done.append(result)

        done: list[dict] = []
        results = run_views(data_dir, views, on_view=progress)
    finally:
        cache.set_store_mode(previous)
    store = cache.store_dir(extract)
    report = {"version": extract.version, "views": len(views),
              "seconds": round(time.perf_counter() - started, 1),
              "answers_stored": sum(1 for p in store.glob("*") if p.suffix in (".parquet", ".json")),
              "store_mb": round(sum(p.stat().st_size for p in store.glob("*")) / 1e6, 1),
              "errors": [e | {"view": r["view"]} for r in results for e in r["errors"]]}
    (derived_dir(extract) / REPORT_NAME).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report


def start_warming(data_dir: Path | str) -> subprocess.Popen | None:
    """Start `python -m reemploy warm` for this folder in the background, at low priority, so
    publishing returns at once; its output goes to warm.log beside the extract. Not when
    REEMPLOY_WARM=0 (the tests, or an operator who warms at another time)."""
    if os.environ.get(WARM_ENV_VAR, "1") == "0":
        return None
    folder, path = Path(data_dir).absolute(), warm_log(data_dir)
    try:
        path.parent.mkdir(exist_ok=True)
        log = open(path, "ab")  # noqa: SIM115 - the child holds it
    except OSError:
        return None  # a read-only extract: pages answer as they are asked
    try:
        return subprocess.Popen([sys.executable, "-m", "reemploy", "warm", "--data", str(folder)],
                                cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True)
    finally:
        log.close()
