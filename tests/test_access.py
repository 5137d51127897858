"""Who may see what: the access policy, the scope in the query layer, and the pages under each
role (AppTest with st.user set). The real sign-in through a provider is in test_sign_in.py."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from conftest import D
from reemploy import access, cache, db, figures
from reemploy.access import Access, PolicyError, load_policy, parse_policy, resolve_access
from reemploy.extracts import open_extract
from reemploy.filters import Filters
from reemploy.ui import PAGES

ROOT = Path(__file__).resolve().parent.parent

POLICY = """
city_totals = false

[claims]
groups = "groups"

[[rule]]
user = "Li.Wei@Tiexi.example"
role = "viewer"
districts = ["Tiexi"]

[[rule]]
group = "city-analysts"
role = "analyst"
districts = "*"

[[rule]]
group = "dashboard-admins"
role = "admin"
districts = "*"
"""


def policy(text: str = POLICY):
    import tomllib

    return parse_policy(tomllib.loads(text))


# ------------------------------------------------------------------------------- the policy


def test_a_user_rule_gives_its_role_and_districts_matching_the_email_in_any_case():
    granted = resolve_access(policy(), {"email": "li.wei@tiexi.example", "sub": "u1"})
    assert (granted.who, granted.role, granted.districts) == ("li.wei@tiexi.example", "viewer", ("Tiexi",))
    assert not granted.may_download and not granted.is_admin and granted.scoped


def test_a_group_rule_matches_a_group_in_the_groups_claim():
    granted = resolve_access(policy(), {"email": "wang@city.example", "groups": ["city-analysts"]})
    assert (granted.role, granted.districts) == ("analyst", None)
    assert granted.may_download and not granted.scoped and granted.sees_city_totals


def test_a_signed_in_user_no_rule_covers_has_no_access():
    granted = resolve_access(policy(), {"email": "stranger@example.com", "groups": ["other"]})
    assert not granted.allowed and granted.role is None
    assert not granted.may_download and not granted.sees_city_totals


def test_the_first_matching_rule_decides_so_a_group_cannot_widen_a_users_own_rule():
    granted = resolve_access(policy(), {"email": "li.wei@tiexi.example", "groups": ["dashboard-admins"]})
    assert (granted.role, granted.districts) == ("viewer", ("Tiexi",))


def test_an_email_the_provider_has_not_verified_matches_no_rule():
    claims = {"email": "li.wei@tiexi.example", "email_verified": False, "sub": "someone"}
    assert not resolve_access(policy(), claims).allowed
    assert resolve_access(policy(), {**claims, "email_verified": True}).role == "viewer"


def test_a_rule_may_match_the_subject_when_there_is_no_email():
    granted = resolve_access(policy('[[rule]]\nuser = "abc-123"\nrole = "admin"\ndistricts = ["Hexi"]'),
                             {"sub": "abc-123"})
    assert (granted.who, granted.role, granted.districts) == ("abc-123", "admin", ("Hexi",))


def test_a_groups_claim_that_is_one_text_counts_as_one_group():
    granted = resolve_access(policy(), {"email": "x@y", "groups": "city-analysts"})
    assert granted.role == "analyst"


def test_trusted_claims_give_role_and_districts_only_when_the_policy_names_both():
    with_claims = policy('[claims]\nrole = "reemploy_role"\ndistricts = "reemploy_districts"')
    granted = resolve_access(with_claims, {"email": "a@b", "reemploy_role": "viewer",
                                           "reemploy_districts": ["Hexi", "Tiexi"]})
    assert (granted.role, granted.districts) == ("viewer", ("Hexi", "Tiexi"))
    assert not resolve_access(policy(), {"email": "a@b", "reemploy_role": "admin",
                                         "reemploy_districts": "*"}).allowed


@pytest.mark.parametrize("claims", [
    {"reemploy_role": "superuser", "reemploy_districts": "*"},
    {"reemploy_role": "admin"},
    {"reemploy_role": "admin", "reemploy_districts": 7},
    {"reemploy_role": "admin", "reemploy_districts": ["*", "Hexi"]},
])
def test_a_bad_or_missing_claim_gives_no_access(claims):
    with_claims = policy('[claims]\nrole = "reemploy_role"\ndistricts = "reemploy_districts"')
    assert not resolve_access(with_claims, {"email": "a@b", **claims}).allowed


@pytest.mark.parametrize("text, message", [
    ('[[rule]]\nuser = "a"\nrole = "owner"\ndistricts = "*"', "role must be one of"),
    ('[[rule]]\nuser = "a"\nrole = "viewer"', "districts missing"),
    ('[[rule]]\nuser = "a"\ngroup = "g"\nrole = "viewer"\ndistricts = "*"', "exactly one of user or group"),
    ('[[rule]]\nrole = "viewer"\ndistricts = "*"', "exactly one of user or group"),
    ('[[rule]]\nuser = "a"\nrole = "viewer"\ndistricts = ["*"]', "stands alone"),
    ('[[rule]]\nuser = "a"\nrole = "viewer"\ndistricts = [1]', "districts must be"),
    ('[[rule]]\nuser = "a"\nrole = "viewer"\ndistricts = "*"\nexpires = 1', "unknown key"),
    ('city_total = true', "unknown setting"),
    ('city_totals = "yes"', "true or false"),
    ('[claims]\nrole = "r"', "go together"),
])
def test_an_invalid_policy_is_refused_with_its_first_problem(text, message):
    with pytest.raises(PolicyError, match=message):
        policy(text)


def test_a_missing_or_unreadable_policy_file_is_a_policy_error(tmp_path):
    with pytest.raises(PolicyError, match="no policy file"):
        load_policy(tmp_path / "access.toml")
    (tmp_path / "broken.toml").write_text("[[rule]\n")
    with pytest.raises(PolicyError, match="cannot be read"):
        load_policy(tmp_path / "broken.toml")


def test_a_changed_policy_file_applies_at_once(tmp_path):
    path = tmp_path / "access.toml"
    path.write_text('[[rule]]\nuser = "a@b"\nrole = "analyst"\ndistricts = "*"\n')
    assert resolve_access(load_policy(path), {"email": "a@b"}).role == "analyst"
    path.write_text('[[rule]]\nuser = "a@b"\nrole = "viewer"\ndistricts = ["Hexi", "Tiexi"]\n')
    assert resolve_access(load_policy(path), {"email": "a@b"}).role == "viewer"
    path.unlink()
    with pytest.raises(PolicyError, match="no policy file"):
        load_policy(path)


def test_the_example_policy_in_the_readme_parses():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    example = next(block.split("```", 1)[0] for block in text.split("```toml\n")[1:]
                   if "[[rule]]" in block.split("```", 1)[0])
    parsed = policy(example)
    assert {r.role for r in parsed.rules} == {"viewer", "analyst", "admin"}


def test_a_link_with_districts_outside_the_scope_is_narrowed_with_one_notice():
    tiexi = Access(who="v", role="viewer", districts=("Tiexi",))
    query, notices = access.narrow_link({"district": ["Hexi", "Tiexi", "Nowhere"], "sector": ["coal"]}, tiexi)
    assert query == {"district": ["Tiexi"], "sector": ["coal"]}
    assert notices == ["Outside your access (Tiexi): district value(s) `Hexi`, `Nowhere` ignored; "
                       "the figures are for Tiexi only."]
    assert access.narrow_link({"district": ["Hexi"]}, access.OPEN_ACCESS) == ({"district": ["Hexi"]}, [])


def test_the_catalogue_offers_only_districts_in_scope():
    options = {"districts": ("Hexi", "Tiexi", "北山"), "sectors": ("coal",)}
    tiexi = Access(who="v", role="viewer", districts=("Tiexi", "Gone"))
    assert access.scope_options(options, tiexi) == {"districts": ("Tiexi",), "sectors": ("coal",)}
    assert access.scope_options(options, access.OPEN_ACCESS) == options


def test_the_audit_log_keeps_one_json_line_per_event_and_reads_newest_first(tmp_path):
    log = tmp_path / "audit.log"
    viewer = Access(who="li@t", role="viewer", districts=("Tiexi",))
    access.audit("sign-in", viewer, path=log, now=access.dt.datetime(2026, 12, 2, 9, 0, tzinfo=access.dt.timezone.utc))
    access.audit("download", access.OPEN_ACCESS, "district: Hexi", "x.csv", path=log)
    log.open("a").write("not json\n")
    entries = access.read_audit(log)
    assert [e["event"] for e in entries] == ["download", "sign-in"]
    assert entries[1] == {"at": "2026-12-02T09:00:00+00:00", "event": "sign-in", "who": "li@t",
                          "role": "viewer", "scope": ["Tiexi"], "filters": "", "what": ""}
    assert entries[0]["scope"] == "whole city" and entries[0]["what"] == "x.csv"
    with pytest.raises(ValueError):
        access.audit("login", viewer, path=log)


# ---------------------------------------------------------------------- the query layer

def _row(i: int, district: str, program: str = "skills", exited="2001-03-01") -> dict:
    return dict(enrollment_id=f"{district[:1]}{i}", program_type=program, district=district,
                enrolled_on=D("2001-01-01"), exited_on=D(exited), completed=True, cost=100.0)


# Tiexi: 3 skills enrollments, 2 of them placed. Hexi: 5 skills and 2 mindset, 1 placed.
SCOPE_ENROLLMENTS = ([_row(i, "Tiexi") for i in range(3)] + [_row(i, "Hexi") for i in range(5)]
                     + [_row(i, "Hexi", "mindset") for i in range(5, 7)])
SCOPE_PLACEMENTS = [
    dict(placement_id="J1", enrollment_id="T0", started_on=D("2001-04-01"), monthly_wage=900.0),
    dict(placement_id="J2", enrollment_id="T1", started_on=D("2001-05-01"), monthly_wage=700.0),
    dict(placement_id="J3", enrollment_id="H0", started_on=D("2001-05-01"), monthly_wage=500.0),
]


@pytest.fixture
def two_districts(shared_extracts) -> Path:
    return shared_extracts.get("two_districts", SCOPE_ENROLLMENTS, SCOPE_PLACEMENTS).path


def test_every_query_over_the_outcomes_binds_the_district_filter_and_the_rest_take_no_filters():
    unfiltered = {name for name in db.query_names() if "filters" not in db.sql_parameters(db.load_sql(name))}
    # The three read the whole extract's labels and size; the UI shows them to a district user
    # only where the policy allows city-wide totals (ui.extract_counts, ui.city_totals_gate).
    assert unfiltered == {"extract_profile", "filter_values", "stratum_labels"}
    for name in set(db.query_names()) - unfiltered - {"query_set_counts"}:
        assert "filtered_outcomes($filters)" in db.load_sql(name), name
    # The disclosure counts group by every filter instead of applying them, and keep the rows
    # inside the scope by a parameter of their own.
    assert "list_contains($scope, district)" in db.load_sql("query_set_counts")


def test_the_disclosure_counts_of_a_scoped_user_hold_only_their_districts(two_districts):
    extract = open_extract(two_districts)
    con = db.connect(extract)
    counts = {scope: db.run_query(con, "query_set_counts",
                                  db.query_params(extract, Filters(scope=scope), by="district"))
              for scope in (None, ("Tiexi",))}
    assert set(counts[None]["cell"]) == {"Tiexi", "Hexi"}
    assert set(counts[("Tiexi",)]["cell"]) == {"Tiexi"}
    tiexi = counts[None][counts[None]["cell"] == "Tiexi"]
    assert counts[("Tiexi",)]["enrolled_count"].sum() == tiexi["enrolled_count"].sum()


@pytest.mark.parametrize("name", sorted(set(db.query_names()) - {"extract_profile", "filter_values", "stratum_labels",
                                                                   "query_set_counts"}))
def test_a_scope_gives_every_query_exactly_the_rows_of_its_districts(two_districts, name):
    extract = open_extract(two_districts)
    con = db.connect(extract)
    extras = {"horizons_days": [90, 180, 365], "origin": "enrollment", "by_district": True}

    def same(scoped: Filters, expected: Filters) -> None:
        got, want = (db.run_query(con, name, db.query_params(extract, f, **extras)) for f in (scoped, expected))
        pd.testing.assert_frame_equal(got, want)

    tiexi = db.run_query(con, name, db.query_params(extract, Filters(scope=("Tiexi",)), **extras))
    assert not tiexi.empty or name == "placement_flows_by_sector"
    same(Filters(scope=("Tiexi",)), Filters(districts=("Tiexi",)))
    # A district filter outside the scope does not widen it: nothing matches.
    same(Filters(districts=("Hexi",), scope=("Tiexi",)), Filters(districts=("Nowhere",)))
    same(Filters(districts=("Hexi", "Tiexi"), scope=("Tiexi",)), Filters(districts=("Tiexi",)))
    same(Filters(scope=()), Filters(districts=("Nowhere",)))


def test_the_scope_is_bound_as_the_districts_parameter():
    assert Filters(scope=("Tiexi",)).to_params()["filters"]["districts"] == ["Tiexi"]
    assert Filters(districts=("Hexi",), scope=("Tiexi",)).to_params()["filters"]["districts"] == []
    assert Filters(districts=("Hexi",)).to_params()["filters"]["districts"] == ["Hexi"]
    # Bound on its own too, and read by the disclosure counts alone.
    assert Filters(scope=("Tiexi",)).to_params()["scope"] == ["Tiexi"]
    assert Filters().to_params()["scope"] is None
    assert [n for n in db.query_names() if "scope" in db.sql_parameters(db.load_sql(n))] == \
        ["query_set_counts"]


def test_a_scope_never_goes_into_a_link_but_is_in_descriptions_and_file_names():
    scoped = Filters(sectors=("coal",), scope=("Tiexi",))
    assert scoped.to_query_params() == {"sector": ["coal"]}
    assert scoped.describe() == "access: Tiexi; prior sector: coal"
    assert scoped.slug() == "access-Tiexi_sector-coal"


def test_the_result_cache_keeps_scopes_apart(two_districts):
    cache.clear()
    extract = open_extract(two_districts)
    con = db.connect(extract)
    city = figures.headline.enrollment_count_by_program(con, extract, Filters())
    tiexi = figures.headline.enrollment_count_by_program(con, extract, Filters(scope=("Tiexi",)))
    assert dict(zip(city.program_type, city.enrolled_count)) == {"skills": 8, "mindset": 2}
    assert dict(zip(tiexi.program_type, tiexi.enrolled_count)) == {"skills": 3}


# -------------------------------------------------------------------- the pages under each role

USERS = {
    "tiexi_viewer": {"is_logged_in": True, "email": "li.wei@tiexi.example", "sub": "li"},
    "city_analyst": {"is_logged_in": True, "email": "wang@city.example", "sub": "wang",
                     "groups": ["city-analysts"]},
    "city_admin": {"is_logged_in": True, "email": "zhao@city.example", "sub": "zhao",
                   "groups": ["dashboard-admins"]},
    "unknown": {"is_logged_in": True, "email": "stranger@example.com", "sub": "x"},
    "signed_out": {"is_logged_in": False},
}
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "test",
        "client_id": "reemploy", "client_secret": "secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}


@pytest.fixture
def signed_in(two_districts, tmp_path, monkeypatch):
    """An AppTest factory: the dashboard over the two-district extract with sign-in configured,
    as one of USERS, on a page, with URL parameters."""
    (tmp_path / "access.toml").write_text(POLICY, encoding="utf-8")
    monkeypatch.setenv("REEMPLOY_DATA", str(two_districts))
    monkeypatch.setenv("REEMPLOY_MIN_CELL", "1")
    monkeypatch.setenv(access.POLICY_ENV_VAR, str(tmp_path / "access.toml"))
    monkeypatch.setenv(access.AUDIT_ENV_VAR, str(tmp_path / "audit.log"))

    def run(user: str, page: str = "dashboard.py", **query) -> AppTest:
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
        at.secrets["auth"] = AUTH
        at.user = dict(USERS[user])
        for key, values in query.items():
            at.query_params[key] = values
        at.run()
        if page != "dashboard.py":
            at.switch_page(str(ROOT / page)).run()
        assert not at.exception, at.exception
        return at

    return run


def _enrolled(at) -> dict[str, str]:
    """The programme header cards of the Overview: label -> "N enrolled"."""
    out = {}
    for md in at.markdown:
        if "enrolled</small>" in md.value:
            label = md.value.split("<b>", 1)[1].split("</b>", 1)[0]
            out[label] = md.value.split("<small>", 1)[1].split(" enrolled", 1)[0]
    return out


def _texts(at) -> str:
    return "\n".join(e.value for kind in ("markdown", "caption", "info", "warning", "error", "title")
                     for e in getattr(at, kind))


def test_a_district_viewer_sees_their_district_only(signed_in):
    at = signed_in("tiexi_viewer")
    assert _enrolled(at) == {"Skills training": "3"}
    assert [o for o in at.multiselect(key="district").options] == ["Tiexi"]
    assert "Signed in as `li.wei@tiexi.example` · viewer · Tiexi" in _texts(at)
    assert "access: Tiexi" in at.caption[0].value


def test_a_city_analyst_sees_the_whole_city(signed_in):
    at = signed_in("city_analyst")
    assert _enrolled(at) == {"Skills training": "8", "Mindset training": "2"}
    assert list(at.multiselect(key="district").options) == ["Hexi", "Tiexi"]


def test_a_hostile_link_cannot_widen_a_district_viewers_scope(signed_in):
    at = signed_in("tiexi_viewer", district=["Hexi"])
    assert _enrolled(at) == {"Skills training": "3"}
    assert [w.value for w in at.warning] == [
        "Outside your access (Tiexi): district value(s) `Hexi` ignored; the figures are for Tiexi only."]
    assert at.multiselect(key="district").value == []
    assert at.query_params.get("district") in (None, [], "")


def test_setting_an_out_of_scope_district_in_the_widget_state_shows_nothing_outside(signed_in):
    at = signed_in("tiexi_viewer")
    at.session_state["district"] = ["Hexi"]
    at.run()
    assert not at.exception
    assert _enrolled(at) == {"Skills training": "3"}


def test_a_click_on_a_district_outside_the_scope_is_ignored(signed_in):
    at = signed_in("tiexi_viewer", page="pages/districts.py")
    at.session_state["districts_gap"] = {"selection": {"points": [{"customdata": ["Hexi"]}],
                                                       "point_indices": [0], "box": [], "lasso": []}}
    at.run()
    assert not at.exception
    assert at.multiselect(key="district").value == []
    assert "access: Tiexi" in at.caption[0].value and "Hexi" not in at.caption[0].value


def test_the_districts_page_of_a_district_user_holds_their_districts_only(signed_in):
    at = signed_in("tiexi_viewer", page="pages/districts.py")
    spec = json.dumps([chart.proto.spec for chart in at.get("plotly_chart")], ensure_ascii=False)
    assert "Tiexi" in spec and "Hexi" not in spec


def test_cached_figures_are_never_shared_across_scopes(signed_in):
    # Same filters, same process (the Streamlit caches and the metrics memo are warm).
    assert _enrolled(signed_in("city_analyst")) == {"Skills training": "8", "Mindset training": "2"}
    assert _enrolled(signed_in("tiexi_viewer")) == {"Skills training": "3"}
    assert _enrolled(signed_in("city_analyst")) == {"Skills training": "8", "Mindset training": "2"}


def test_a_signed_in_user_with_no_rule_sees_the_no_access_page_and_nothing_else(signed_in):
    at = signed_in("unknown")
    assert [t.value for t in at.title] == ["No access"]
    assert "You are signed in as `stranger@example.com`, but" in at.error[0].value
    assert not at.sidebar.multiselect and not at.get("plotly_chart") and not at.metric
    assert [b.label for b in at.button] == ["Sign out"]


def test_a_signed_out_visitor_sees_only_the_sign_in_button(signed_in):
    at = signed_in("signed_out", district=["Tiexi"])
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.get("plotly_chart") and not at.metric and not at.sidebar.multiselect


def test_a_broken_policy_file_denies_everyone(signed_in, tmp_path):
    (tmp_path / "access.toml").write_text("[[rule]]\nuser = 1\n", encoding="utf-8")
    at = signed_in("city_admin")
    assert [t.value for t in at.title] == ["No access"]


@pytest.mark.parametrize("page", [page for page, _, _ in PAGES])
def test_a_viewer_gets_no_download_button_on_any_page(signed_in, page):
    at = signed_in("tiexi_viewer", page=page)
    assert not at.get("download_button")
    if page == "pages/meeting_pack.py":
        assert "The pack is a download, for analysts and admins (your role: viewer)." in _texts(at)


def test_a_download_or_pack_is_audited_when_its_file_is_made(two_districts, tmp_path, monkeypatch):
    from reemploy import ui

    monkeypatch.setenv(access.AUDIT_ENV_VAR, str(tmp_path / "audit.log"))
    analyst = Access(who="wang@city.example", role="analyst")
    session = ui.Session(open_extract(two_districts), Filters(sectors=("coal",)), 1, analyst)
    make = ui._audited("pack", session, "pack.html", lambda: b"<html>")
    assert not (tmp_path / "audit.log").exists()  # drawing the button writes nothing
    assert make() == b"<html>"
    [entry] = access.read_audit(tmp_path / "audit.log")
    assert (entry["event"], entry["who"], entry["filters"], entry["what"]) == (
        "pack", "wang@city.example", "prior sector: coal", "pack.html")
    open_session = ui.Session(open_extract(two_districts), Filters(), 1)
    def maker():
        return b""

    assert ui._audited("download", open_session, "x.csv", maker) is maker


def test_an_analyst_gets_the_downloads(signed_in):
    at = signed_in("city_analyst")
    assert {b.proto.label for b in at.get("download_button")} >= {"CSV", "Excel"}


def test_the_pack_carries_the_scope_on_its_cover(two_districts):
    from reemploy import pack

    extract = open_extract(two_districts)
    con = db.connect(extract)

    def load(metric, filters=None, **options):
        return metric(con, extract, filters, 1, **options)

    document = pack.build_pack(load, extract.as_of, Filters(scope=("Tiexi",)), 1)
    cover = pack.pack_html(document).split("<section id='cover'>", 1)[1].split("</section>", 1)[0]
    assert "access: Tiexi" in cover
    assert pack.pack_file_name(document, "html").count("access-Tiexi") == 1


def test_sign_ins_are_audited_once_per_session_and_admins_read_the_log_on_the_data_page(signed_in, tmp_path):
    signed_in("tiexi_viewer")
    at = signed_in("city_admin")
    at.run()
    log = [json.loads(line) for line in (tmp_path / "audit.log").read_text().splitlines()]
    assert [(e["event"], e["who"], e["scope"]) for e in log] == [
        ("sign-in", "li.wei@tiexi.example", ["Tiexi"]), ("sign-in", "zhao@city.example", "whole city")]
    at.switch_page(str(ROOT / "pages" / "data.py")).run()
    assert [s.value for s in at.subheader][-1] == "Audit log"
    table = at.dataframe[-1].value
    assert list(table["who"]) == ["zhao@city.example", "li.wei@tiexi.example"]


def test_the_data_page_shows_no_audit_log_to_an_analyst_and_no_city_totals_to_a_district_user(signed_in):
    at = signed_in("city_analyst", page="pages/data.py")
    assert not [d for d in at.get("arrow_data_frame") if d.proto.id and "audit" in str(d.proto)]
    assert "Audit log" not in [s.value for s in at.subheader]
    at = signed_in("tiexi_viewer", page="pages/data.py")
    shown = {m.label: m.value for m in at.metric}
    assert shown == {"Data as of": "2002-12-31", "Enrollments in your access": "3"}
    assert "Last import" not in [s.value for s in at.subheader]


def test_city_totals_a_policy_allows_are_marked_city_wide(signed_in, tmp_path):
    (tmp_path / "access.toml").write_text(POLICY.replace("city_totals = false", "city_totals = true"))
    at = signed_in("tiexi_viewer", page="pages/about.py")
    shown = {m.label: m.value for m in at.metric}
    assert shown["Enrollments (city-wide)"] == "10"
    assert "**City-wide totals:**" in _texts(at)


def test_without_sign_in_configured_the_app_is_open_and_says_so(two_districts, monkeypatch):
    from conftest import run_app

    at = run_app(two_districts, monkeypatch)
    assert not at.exception
    assert _enrolled(at) == {"Skills training": "8", "Mindset training": "2"}
    assert any(c.value.endswith("open access: no sign-in configured") for c in at.sidebar.caption)
