"""The app in a real browser: Playwright driving the system Chromium against `streamlit run`.

Few and fast on purpose; AppTest (tests/test_app.py) covers the pages in depth. These check what
only a browser shows: the filters in the URL, page switches, the first session after a server
start, and files downloaded through the UI. Deselect with `-m "not browser"`.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import pytest

from reemploy.export import IDENTIFIER_COLUMNS
from reemploy.tools.loadtest import local_app
from reemploy.synthetic import generate_extract

CHROMIUM = os.environ.get("BROWSER_PATH", "/usr/bin/chromium")
DISTRICT = "Anqiao"
CHART = '[data-testid="stPlotlyChart"]'
TIMEOUT_MS = 30_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                       reason=f"no Chromium at {CHROMIUM}: `apt-get install chromium` (or set "
                              "BROWSER_PATH) to run the browser tests"),
]


@pytest.fixture(scope="session")
def extract_dir(tmp_path_factory) -> Path:
    return generate_extract(tmp_path_factory.mktemp("browser") / "extract", 20_000)


@pytest.fixture(scope="session")
def server(extract_dir, tmp_path_factory):
    with local_app(str(extract_dir), tmp_path_factory.mktemp("logs") / "streamlit.log",
                   REEMPLOY_MIN_CELL="10") as running:
        yield running


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1600}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def _first_chart_text(page) -> str:
    chart = page.locator(CHART).first
    chart.wait_for()
    return chart.locator(".g-gtitle").first.text_content()


def _choose(page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")


def _header_caption(page):
    # The page header's caption (the sidebar has a "Data as of" line too).
    return page.get_by_test_id("stMain").get_by_text("Data as of 2002-12-31 ·").first


def test_overview_draws_a_chart_that_a_district_filter_redraws_and_a_page_switch_keeps(
        server, page):
    from playwright.sync_api import expect

    page.goto(server.url)
    before = _first_chart_text(page)
    assert "Placed within 180 days" in before
    _choose(page, "District", DISTRICT)
    page.wait_for_url(f"**district={DISTRICT}**")
    expect(_header_caption(page)).to_contain_text(f"district: {DISTRICT}")
    expect(page.locator(CHART).first.locator(".g-gtitle").first).not_to_have_text(before)

    page.get_by_role("link", name="Meeting pack").click()
    expect(page.get_by_role("heading", name="Meeting pack")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/meeting_pack\?district={DISTRICT}&lang=en$"))
    expect(_header_caption(page)).to_contain_text(f"district: {DISTRICT}")


def test_filters_from_a_deep_link_survive_a_page_switch(server, page):
    from playwright.sync_api import expect

    page.goto(f"{server.url}/?district={DISTRICT}&program=skills")
    expect(_header_caption(page)).to_contain_text(f"district: {DISTRICT}; programme: Skills training")
    page.get_by_role("link", name="Meeting pack").click()
    expect(page.get_by_role("heading", name="Meeting pack")).to_be_visible()
    expect(_header_caption(page)).to_contain_text(f"district: {DISTRICT}; programme: Skills training")
    expect(page).to_have_url(re.compile(rf"/meeting_pack\?district={DISTRICT}&program=skills&lang=en$"))


def test_the_first_session_after_a_server_start_keeps_its_filters_on_its_first_interaction(
        extract_dir, tmp_path, browser):
    # The pages/ directory trap (STACK-NOTES): the first session of a fresh server used to lose
    # its filters on its first interaction, so this one gets a server of its own.
    from playwright.sync_api import expect

    with local_app(str(extract_dir), tmp_path / "streamlit.log", REEMPLOY_MIN_CELL="10") as fresh:
        context = browser.new_context(viewport={"width": 1400, "height": 1600})
        context.set_default_timeout(TIMEOUT_MS)
        try:
            page = context.new_page()
            page.goto(f"{fresh.url}/?district={DISTRICT}")
            page.locator(CHART).first.wait_for()
            _choose(page, "Programme", "Skills training")  # shown label; the URL keeps the code
            page.wait_for_url("**program=skills**")
            assert f"district={DISTRICT}" in page.url
            expect(_header_caption(page)).to_contain_text(f"district: {DISTRICT}; programme: Skills training")
        finally:
            context.close()


def test_a_deep_link_opens_filtered_and_its_chart_downloads_as_png_and_csv(server, page):
    from playwright.sync_api import expect

    page.goto(f"{server.url}/?district={DISTRICT}&program=skills")
    expect(_header_caption(page)).to_contain_text(f"district: {DISTRICT}; programme: Skills training")
    expect(page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").first) \
        .to_contain_text(DISTRICT)
    page.locator(CHART).first.wait_for()
    buttons = page.get_by_test_id("stDownloadButton")
    with page.expect_download(timeout=90_000) as png_download:
        buttons.get_by_role("button", name="PNG").first.click()
    png = png_download.value
    assert png.suggested_filename == \
        f"placement_rate_by_cohort_2002-12-31_district-{DISTRICT}_program-skills.png"
    assert Path(png.path()).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    with page.expect_download() as csv_download:
        # The first CSV is the numbers of the skills-minus-mindset table above the chart.
        buttons.get_by_role("button", name="CSV").nth(1).click()
    text = Path(csv_download.value.path()).read_bytes().decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    # Named as people read them (export.readable_table), not as the figure's columns.
    assert {"Programme", "Placed within 180 days of exit (%)", "Note"} <= set(header), header
    assert not IDENTIFIER_COLUMNS & set(header)
    assert not [column for column in header if column.endswith("_id")]


def test_the_html_pack_draws_every_chart_offline_without_asking_any_host(extract_dir, page, tmp_path):
    from playwright.sync_api import expect

    from reemploy import cli, pack

    out = tmp_path / "pack.html"
    assert cli.main(["export", "--out", str(out), "--data", str(extract_dir)]) == 0
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(out.as_uri())
    expect(page.locator(".js-plotly-plot")).to_have_count(len(pack.KEY_CHARTS))
    expect(page.locator(".js-plotly-plot .main-svg").first).to_be_visible()
    assert [url for url in requests if not url.startswith(("file:", "data:", "blob:"))] == []
