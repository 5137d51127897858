"""Sign-in for real: an OpenID Connect provider on 127.0.0.1 (oidc-provider-mock: discovery,
authorization, tokens), `streamlit run` with an [auth] section pointing at it, and Chromium
signing in as a district viewer, a city analyst and someone no rule covers. Checks what each
sees, hostile links that try to widen a scope, and a viewer's attempts to download."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from reemploy.tools.loadtest import free_port, local_app
from reemploy.synthetic import DISTRICTS, generate_extract

CHROMIUM = os.environ.get("BROWSER_PATH", "/usr/bin/chromium")
TIMEOUT_MS = 30_000
DISTRICT = "Hualing"
OTHER = "Anqiao"
VIEWER = {"sub": "li", "email": "li.wei@hualing.example"}
ANALYST = {"sub": "wang", "email": "wang@city.example", "groups": ["city-analysts"]}
POLICY = f"""
[[rule]]
user = "{VIEWER['email']}"
role = "viewer"
districts = ["{DISTRICT}"]

[[rule]]
group = "city-analysts"
role = "analyst"
districts = "*"
"""

pytest.importorskip("oidc_provider_mock", reason="pip install -r requirements-dev.txt (oidc-provider-mock)")
pytest.importorskip("authlib", reason="pip install -r requirements.txt (Authlib, for st.login)")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                       reason=f"no Chromium at {CHROMIUM}: `apt-get install chromium` (or set "
                              "BROWSER_PATH) to run the browser tests"),
]


def _wait_for(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:3]} exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing answered {url} in {seconds} s")
            time.sleep(0.1)


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    """oidc-provider-mock on 127.0.0.1 with the viewer and the analyst predefined (a button each
    on its authorization page); anyone else can be typed in as a subject."""
    port = free_port()
    log = tmp_path_factory.mktemp("idp") / "provider.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port)]
            + [arg for user in (VIEWER, ANALYST) for arg in ("--user-claims", json.dumps(user))],
            stdout=output, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_for(f"{url}/.well-known/openid-configuration", process)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def app(provider, tmp_path_factory):
    """The dashboard with sign-in configured against the provider, the policy above and its
    own audit log; secrets and policy live in a temporary folder, never in the repository."""
    folder = tmp_path_factory.mktemp("signin")
    extract = generate_extract(folder / "extract", 5_000)
    port = free_port()
    secrets = folder / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "a-test-only-cookie-secret"\n'
        'client_id = "reemploy-dashboard"\n'
        'client_secret = "test-only"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n',
        encoding="utf-8")
    (folder / "access.toml").write_text(POLICY, encoding="utf-8")
    audit_log = folder / "audit.log"
    with local_app(str(extract), folder / "streamlit.log", port=port, REEMPLOY_MIN_CELL="10",
                   STREAMLIT_SECRETS_FILES=str(secrets),
                   REEMPLOY_ACCESS_POLICY=str(folder / "access.toml"),
                   REEMPLOY_AUDIT_LOG=str(audit_log)) as running:
        running.audit_log = audit_log
        yield running


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1600}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


def sign_in(context, app, provider: str, subject: str, *, predefined: bool = True):
    """Open the dashboard, press Sign in, choose (or type) the subject at the provider and come
    back signed in."""
    page = context.new_page()
    page.goto(app.url)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{provider}/**")
    if predefined:
        page.get_by_role("button", name=subject, exact=True).click()
    else:
        page.get_by_placeholder("sub").fill(subject)
        page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{app.url}/**")
    return page


def _audit(app) -> list[dict]:
    return [json.loads(line) for line in app.audit_log.read_text(encoding="utf-8").splitlines()]


def _district_options(page) -> list[str]:
    """Every district the District filter offers: those chosen (its tags) and those listed."""
    widget = page.get_by_test_id("stMultiSelect").filter(has=page.get_by_role("combobox", name="District", exact=True))
    page.get_by_role("combobox", name="District", exact=True).click()
    # The list is drawn after the box opens; it holds "No results" when every district is chosen.
    page.get_by_role("listbox").get_by_role("option").first.wait_for()
    chosen = widget.locator(".react-aria-ComboBox [data-tag] span[title]").all_inner_texts()
    listed = [text for text in page.get_by_role("option").all_inner_texts()
              if text not in ("No results", "Select all")]
    page.keyboard.press("Escape")
    return sorted(text.strip() for text in chosen + listed)


def _header_caption(page):
    return page.get_by_test_id("stMain").get_by_test_id("stCaptionContainer").filter(
        has_text="Data as of").first


def test_a_district_viewer_signs_in_and_sees_their_district_only(context, app, provider):
    from playwright.sync_api import expect

    page = sign_in(context, app, provider, VIEWER["sub"])
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text(f"Signed in as {VIEWER['email']} · viewer · {DISTRICT}")).to_be_visible()
    expect(_header_caption(page)).to_contain_text(f"access: {DISTRICT}")
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for()
    assert _district_options(page) == [DISTRICT]
    assert ("sign-in", VIEWER["email"], [DISTRICT]) in [(e["event"], e["who"], e["scope"]) for e in _audit(app)]


@pytest.mark.parametrize("link", [
    f"?district={OTHER}",
    f"?district={OTHER}&district={DISTRICT}",
    f"/districts?district={OTHER}",
    "?district=%27%20OR%201%3D1%20--",
    f"?scope={OTHER}&district={OTHER}",
])
def test_a_hostile_link_cannot_widen_a_district_viewers_scope(context, app, provider, link):
    from playwright.sync_api import expect

    page = sign_in(context, app, provider, VIEWER["sub"])
    page.get_by_test_id("stSidebar").get_by_text("Signed in as").wait_for()
    page.goto(app.url + link)
    expect(page.get_by_text("Outside your access (Hualing)").first).to_be_visible()
    expect(_header_caption(page)).to_contain_text(f"access: {DISTRICT}")
    expect(_header_caption(page)).not_to_contain_text(OTHER)
    assert _district_options(page) == [DISTRICT]
    if link.startswith("/districts"):
        # The district ranking lists the districts it has figures for: the one in scope only.
        charts = page.locator('[data-testid="stPlotlyChart"]')
        charts.first.wait_for()
        expect(charts.first).to_contain_text(DISTRICT)
        text = "\n".join(charts.all_inner_texts())
        assert [d for d in DISTRICTS if d in text] == [DISTRICT]


def test_a_viewer_has_no_download_and_cannot_fetch_an_analysts_file(browser, app, provider):
    analyst = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1600})
    viewer = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1600})
    try:
        page = sign_in(analyst, app, provider, ANALYST["sub"])
        page.locator('[data-testid="stPlotlyChart"]').first.wait_for()
        button = page.get_by_test_id("stDownloadButton").filter(has_text="CSV").first
        with page.expect_download() as info:
            button.click()
        download = info.value
        assert download.suggested_filename.endswith(".csv")
        assert download.path().read_bytes().startswith(b"\xef\xbb\xbf")
        logged = [e for e in _audit(app) if e["event"] == "download"]
        assert [(e["who"], e["what"]) for e in logged][-1] == (ANALYST["email"], download.suggested_filename)

        seen = sign_in(viewer, app, provider, VIEWER["sub"])
        seen.locator('[data-testid="stPlotlyChart"]').first.wait_for()
        assert seen.get_by_test_id("stDownloadButton").count() == 0
        seen.goto(app.url + "/meeting_pack")
        seen.get_by_text("The pack is a download, for analysts and admins").wait_for()
        assert seen.get_by_test_id("stDownloadButton").count() == 0
        # The analyst's file by its address, from the viewer's signed-in browser: gone. Streamlit
        # serves a made file at /media/<hash> to whoever asks (no session check) only until the
        # next script run of any session drops it; the viewer's own runs have happened since.
        # (Residual risk, data/README.md: a copied /media address works in that short window.)
        response = seen.request.get(download.url)
        assert response.status == 404, (response.status, download.url)
    finally:
        analyst.close()
        viewer.close()


def test_a_city_analyst_signs_in_and_sees_every_district(context, app, provider):
    from playwright.sync_api import expect

    page = sign_in(context, app, provider, ANALYST["sub"])
    expect(page.get_by_test_id("stSidebar").get_by_text(
        f"Signed in as {ANALYST['email']} · analyst · whole city")).to_be_visible()
    box = page.get_by_role("combobox", name="District", exact=True)
    for district in DISTRICTS:  # typed, since the list shows only the first few
        box.fill(district)
        expect(page.get_by_role("option", name=district, exact=True)).to_be_visible()
    page.keyboard.press("Escape")
    expect(_header_caption(page)).not_to_contain_text("access:")


def test_someone_no_rule_covers_signs_in_and_sees_no_access_only(context, app, provider):
    from playwright.sync_api import expect

    page = sign_in(context, app, provider, "stranger@example.com", predefined=False)
    expect(page.get_by_role("heading", name="No access")).to_be_visible()
    expect(page.get_by_text("You are signed in as stranger@example.com")).to_be_visible()
    for link in ("", f"?district={DISTRICT}", "/data", "/meeting_pack"):
        page.goto(app.url + link)
        expect(page.get_by_role("heading", name="No access")).to_be_visible()
        assert page.locator('[data-testid="stPlotlyChart"]').count() == 0
        assert page.get_by_role("combobox", name="District", exact=True).count() == 0
        assert page.get_by_test_id("stMetric").count() == 0


def test_a_visitor_who_has_not_signed_in_sees_only_the_sign_in_button(context, app):
    from playwright.sync_api import expect

    page = context.new_page()
    page.goto(app.url + f"/districts?district={DISTRICT}")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.locator('[data-testid="stPlotlyChart"]').count() == 0
    assert page.get_by_role("combobox", name="District", exact=True).count() == 0


def test_a_tampered_sign_in_cookie_signs_the_browser_out(context, app, provider):
    """Streamlit keeps the user's claims in a cookie signed with cookie_secret: a viewer who
    edits it (to claim another email or groups) is not signed in any more."""
    import base64

    from playwright.sync_api import expect

    page = sign_in(context, app, provider, VIEWER["sub"])
    page.get_by_test_id("stSidebar").get_by_text("Signed in as").wait_for()
    cookies = context.cookies()
    user_cookies = [c for c in cookies if c["name"].startswith("_streamlit_user")]
    assert user_cookies, [c["name"] for c in cookies]
    forged = base64.b64encode(json.dumps({**VIEWER, "email": "wang@city.example",
                                          "groups": ["city-analysts"], "is_logged_in": True}).encode())
    context.clear_cookies()
    context.add_cookies([{**c, "value": forged.decode() + "|" + c["value"].split("|", 1)[-1]}
                         if c["name"].startswith("_streamlit_user") else c for c in cookies])
    page.goto(app.url)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.get_by_role("combobox", name="District", exact=True).count() == 0
