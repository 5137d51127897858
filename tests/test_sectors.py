"""Sectors: folding small flows, the metrics and charts behind the page, and the page (AppTest)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from reemploy import charts, figures, flows, labels
from reemploy.charts.style import hex_to_rgba
from reemploy.filters import Filters
from reemploy.flows import FLOW_COLUMNS, SMALL_FLOWS, fold_small_flows

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "sectors.py")
OTHER = SMALL_FLOWS


def paths(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[*FLOW_COLUMNS, "placement_count"])


def flows_between(folded: pd.DataFrame, source: str, target: str) -> dict:
    return folded.groupby([source, target])["placement_count"].sum().to_dict()


def plain(text: str) -> str:
    """A chart text without the line breaks that wrap it for narrow screens."""
    return text.replace("<br>", " ")


# --------------------------------------------------------------------------- folding

# 56 first jobs; coal->retail (4), textiles->retail (7) and services->state-owned (3) are small.
HAND_PATHS = paths(
    ("coal", "services", "private", 30),
    ("coal", "retail", "private", 4),
    ("textiles", "services", "private", 12),
    ("textiles", "retail", "private", 7),
    ("textiles", "services", "state_owned", 3),
)


def test_small_flows_are_folded_into_other_until_none_is_left():
    folded, left_out = fold_small_flows(HAND_PATHS, min_cell=10)
    # Pass 1: coal->retail 4 and textiles->retail 7 lose their target (retail -> other); then
    # services->state_owned 3 loses its target too.
    # Pass 2: coal->other 4 and textiles->other 7 are still small: their sources fold, giving
    # other->other->private 11; services->other 3 is small: its source folds (textiles->other).
    # Pass 3: textiles->other 3 folds its source: other->other->other 3, and that flow (other ->
    # other, 3 people) cannot fold any further: left out.
    assert folded.to_dict("records") == [
        {"prior_sector": "coal", "placement_sector": "services",
         "placement_employer_type": "private", "placement_count": 30},
        {"prior_sector": OTHER, "placement_sector": OTHER,
         "placement_employer_type": "private", "placement_count": 11},
        {"prior_sector": "textiles", "placement_sector": "services",
         "placement_employer_type": "private", "placement_count": 12},
    ]
    assert left_out == 3


def test_folding_keeps_the_total_and_shows_no_flow_under_min_cell():
    folded, left_out = fold_small_flows(HAND_PATHS, min_cell=10)
    assert folded["placement_count"].sum() + left_out == HAND_PATHS["placement_count"].sum() == 56
    for source, target in flows.FLOW_STAGES.values():
        assert min(flows_between(folded, source, target).values()) >= 10
    # the middle column balances: what flows into a new sector flows out of it
    into = folded.groupby("placement_sector")["placement_count"].sum()
    assert into.to_dict() == {"services": 42, OTHER: 11}


def test_folding_changes_nothing_when_every_flow_is_large_enough():
    folded, left_out = fold_small_flows(HAND_PATHS, min_cell=3)
    assert left_out == 0
    assert folded.sort_values(list(FLOW_COLUMNS)).reset_index(drop=True).equals(
        HAND_PATHS.sort_values(list(FLOW_COLUMNS)).reset_index(drop=True))


def test_placement_flows_by_sector_gives_both_stages_of_each_programme(tiny):
    con, extract = tiny
    df = figures.sectors.placement_flows_by_sector(con, extract, Filters(), min_cell=1)
    skills = df[df["program_type"] == "skills"]
    links = {(r["stage"], r["source"], r["target"]): r["placement_count"] for r in skills.to_dict("records")}
    # S1 coal->services->private, S4 textiles->services->private, S5 textiles->services->self.
    assert links == {
        ("prior_to_sector", "coal", "services"): 1,
        ("prior_to_sector", "textiles", "services"): 2,
        ("sector_to_employer", "services", "private"): 2,
        ("sector_to_employer", "services", "self_employed"): 1,
    }
    assert list(dict.fromkeys(df["program_type"])) == ["skills", "mindset", "none"]


def test_placement_flows_by_sector_folds_and_suppresses_what_is_left_out(tiny):
    con, extract = tiny
    df = figures.sectors.placement_flows_by_sector(con, extract, Filters(), min_cell=2)
    skills = df[df["program_type"] == "skills"]
    drawn = skills[skills["stage"] != "left_out"]
    # coal->services (1) folds to coal->other, then the source folds; services->private (1)
    # and services->self_employed (1) fold into services->other (2); other->other (1) is left out.
    assert {(r["stage"], r["source"], r["target"]): r["placement_count"]
            for r in drawn.to_dict("records")} == {
        ("prior_to_sector", "textiles", "services"): 2,
        ("sector_to_employer", "services", OTHER): 2,
    }
    left_out = skills[skills["stage"] == "left_out"].iloc[0]
    assert left_out["placement_count_suppressed"] and math.isnan(left_out["placement_count"])
    assert (drawn["placement_count"] >= 2).all() and not drawn["placement_count_suppressed"].any()


# --------------------------------------------------------------------------- rates by prior sector


def test_placement_rate_by_prior_sector_adds_wilson_intervals_and_suppresses(tiny):
    con, extract = tiny
    df = figures.sectors.placement_rate_by_prior_sector(con, extract, Filters(), min_cell=3)
    got = {(r["prior_sector"], r["program_type"]): r for r in df.to_dict("records")}
    mindset = got[("textiles", "mindset")]
    # textiles mindset: 2 of 3 followed placed; Wilson 95% for 2/3 is 0.2077-0.9385.
    assert mindset["placement_rate_180d"] == pytest.approx(2 / 3)
    assert (mindset["placement_rate_180d_low"], mindset["placement_rate_180d_high"]) == pytest.approx(
        (0.20765, 0.93852), abs=1e-4)
    coal = got[("coal", "skills")]  # 2 followed < 3
    assert coal["placement_rate_180d_suppressed"] and math.isnan(coal["placed_180d_count"])
    assert coal["enrolled_count"] == 2


# --------------------------------------------------------------------------- figures


def test_the_sankey_draws_flows_as_links_and_no_small_flow(tiny):
    con, extract = tiny
    flows = figures.sectors.placement_flows_by_sector(con, extract, Filters(), min_cell=2)
    fig = charts.sector_flow_chart(flows, "skills", min_cell=2)
    sankey = fig.data[0]
    assert isinstance(sankey, go.Sankey)
    assert list(sankey.link.value) == [2, 2] and min(sankey.link.value) >= 2
    assert list(sankey.node.label) == ["textiles", "services", OTHER]
    subtitle = plain(fig.layout.title.subtitle.text)
    # (issue 16: the left-out count is a sentence of its own, "Fewer than ...")
    assert "n = 2 first jobs" in subtitle and "Fewer than 2 people in flows" in subtitle


def test_the_sankey_labels_employer_types_and_colours_links_by_programme(tiny):
    con, extract = tiny
    flows = figures.sectors.placement_flows_by_sector(con, extract, Filters(), min_cell=1)
    fig = charts.sector_flow_chart(flows, "mindset", min_cell=1)
    sankey = fig.data[0]
    assert set(sankey.node.label) == {"textiles", "services", "Private", "Self-employed"}
    assert sankey.link.color[0] == hex_to_rgba(labels.PROGRAM_COLORS["mindset"], 0.35)
    assert "Mindset training" in plain(fig.layout.title.text)


def test_the_sankey_says_so_when_a_programme_has_no_flows(tiny):
    con, extract = tiny
    flows = figures.sectors.placement_flows_by_sector(con, extract, Filters(), min_cell=10)
    fig = charts.sector_flow_chart(flows, "skills", min_cell=10)
    assert not fig.data and "Fewer than 10 first jobs" in plain(fig.layout.annotations[0].text)


def test_the_prior_sector_dots_leave_out_suppressed_cells_and_say_how_many(tiny):
    con, extract = tiny
    rates = figures.sectors.placement_rate_by_prior_sector(con, extract, Filters(), min_cell=3)
    fig = charts.prior_sector_placement_chart(rates, min_cell=3, selected=("coal",))
    drawn = {(trace.name, y) for trace in fig.data for y in trace.y}
    # coal skills (2 followed), textiles skills (2) and textiles none (1) are under 3: only
    # textiles mindset (3 followed) is drawn.
    assert drawn == {("Mindset training", "textiles")}
    assert "3 programme × sector cells not drawn" in plain(fig.layout.title.subtitle.text)
    assert "▶ coal" in fig.layout.yaxis.ticktext[list(fig.layout.yaxis.tickvals).index("coal")]
    assert [c[0] for c in fig.data[0].customdata] == ["textiles"]


# --------------------------------------------------------------------------- the heatmap


def answer(*links, left_out=None, program="skills") -> pd.DataFrame:
    """A hand-made placement_flows_by_sector answer: (stage, source, target, count) links, a
    count of None being a suppressed flow."""
    rows = [{"program_type": program, "stage": stage, "source": source, "target": target,
             "placement_count": float("nan") if count is None else count,
             "placement_count_n": count, "placement_count_suppressed": count is None}
            for stage, source, target, count in links]
    if left_out is not None:
        rows.append({"program_type": program, "stage": "left_out", "source": OTHER, "target": OTHER,
                     "placement_count": left_out, "placement_count_n": left_out,
                     "placement_count_suppressed": False})
    return pd.DataFrame(rows)


# Prior -> new sector, as the answer gives them after folding (min_cell 10):
#   coal:     services 30, other 10                -> 40 first jobs, 75% and 25%
#   textiles: services 12, retail 18               -> 30 first jobs, 40% and 60%
#   other:    other 11                             -> 11 first jobs, 100%
# plus sector -> employer links, which the heatmap does not use, and another programme's flow.
HEAT = pd.concat([answer(
    ("prior_to_sector", "coal", "services", 30),
    ("prior_to_sector", "coal", OTHER, 10),
    ("prior_to_sector", "textiles", "services", 12),
    ("prior_to_sector", "textiles", "retail", 18),
    ("prior_to_sector", OTHER, OTHER, 11),
    ("sector_to_employer", "services", "private", 42),
    left_out=3,
), answer(("prior_to_sector", "coal", "retail", 50), program="mindset")], ignore_index=True)


def test_flow_matrix_reshapes_the_answer_into_shares_of_each_prior_sector():
    counts, shares = flows.flow_matrix(HEAT, "skills")
    # Rows by first jobs (coal 40, textiles 30), columns by first jobs (services 42, retail 18),
    # "other (small flows)" last in both.
    assert list(counts.index) == ["coal", "textiles", OTHER]
    assert list(counts.columns) == ["services", "retail", OTHER]
    assert counts.fillna(-1).to_numpy().tolist() == [[30, -1, 10], [12, 18, -1], [-1, -1, 11]]
    assert shares.loc["coal"].tolist()[0] == pytest.approx(0.75)
    assert math.isnan(shares.loc["coal", "retail"])  # no drawn flow: blank, not 0%
    assert shares.loc["coal", OTHER] == pytest.approx(0.25)
    assert shares.loc["textiles"].tolist()[:2] == pytest.approx([0.4, 0.6])
    assert shares.loc[OTHER, OTHER] == pytest.approx(1.0)


def test_flow_matrix_leaves_suppressed_flows_blank_and_is_empty_without_flows():
    suppressed = answer(("prior_to_sector", "coal", "services", 20),
                        ("prior_to_sector", "coal", "retail", None))
    counts, shares = flows.flow_matrix(suppressed, "skills")
    assert list(counts.columns) == ["services"] and shares.loc["coal", "services"] == 1.0
    counts, shares = flows.flow_matrix(HEAT, "none")
    assert counts.empty and shares.empty


def test_the_heatmap_prints_each_share_and_leaves_cells_without_a_flow_blank():
    fig = charts.sector_heatmap_chart(HEAT, "skills", min_cell=10)
    heat = fig.data[0]
    assert isinstance(heat, go.Heatmap)
    assert list(heat.x) == ["services", "retail", OTHER]
    assert [plain(y) for y in heat.y] == ["coal n = 40", "textiles n = 30", f"{OTHER} n = 11"]
    assert [list(row) for row in heat.text] == [["75%", "", "25%"], ["40%", "60%", ""],
                                                ["", "", "100%"]]
    assert math.isnan(heat.z[0][1]) and heat.hoverongaps is False
    # the count and the row's total in the hover
    assert list(heat.customdata[1][1]) == ["textiles", "retail", "18", "30"]
    subtitle = plain(fig.layout.title.subtitle.text)
    assert "n = 81 first jobs" in subtitle and "Blank: fewer than 10 people or none" in subtitle
    assert "3 people in flows still too small" in subtitle


def test_the_heatmap_says_so_when_a_programme_has_no_flows():
    fig = charts.sector_heatmap_chart(HEAT, "combined", min_cell=10)
    assert not fig.data and "Fewer than 10 first jobs" in plain(fig.layout.annotations[0].text)


def test_the_flow_table_gives_rounded_shares_and_the_first_jobs_of_each_row():
    table = charts.sector_flow_table(HEAT, "skills")
    assert list(table.columns) == ["Lost a job in", "First jobs", "services", "retail", OTHER]
    assert table.to_dict("records")[1] == {"Lost a job in": "textiles", "First jobs": "30",
                                           "services": "40%", "retail": "60%", OTHER: ""}


# --------------------------------------------------------------------------- the page


def open_page(data_dir: Path, monkeypatch, **query) -> AppTest:
    """The page opened from a link (`/sectors?sector=...`): its first run is on the page."""
    monkeypatch.setenv("REEMPLOY_DATA", str(data_dir))
    monkeypatch.setenv("REEMPLOY_MIN_CELL", "1")
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    for key, values in query.items():
        at.query_params[key] = values
    return at.switch_page(PAGE).run()


def test_the_sectors_page_renders_a_heatmap_and_the_rates_with_url_filters(tiny_extract, monkeypatch):
    at = open_page(tiny_extract, monkeypatch, district=["北山"])
    assert not at.exception
    heatmap, dots = (json.loads(chart.proto.spec) for chart in at.get("plotly_chart"))
    # The flows open as the heatmap; 北山 skills: S1 only (coal -> services -> private).
    assert heatmap["data"][0]["type"] == "heatmap"
    assert heatmap["data"][0]["x"] == ["services"] and heatmap["data"][0]["text"] == [["100%"]]
    assert {trace["name"] for trace in dots["data"]} == {"Skills training", "Mindset training"}


def test_the_flows_can_be_shown_as_a_sankey_or_a_table(tiny_extract, monkeypatch):
    at = open_page(tiny_extract, monkeypatch, district=["北山"])
    at.segmented_control(key="sectors_view").set_value("sankey").run()
    assert not at.exception
    sankey = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert sankey["data"][0]["type"] == "sankey"
    assert sankey["data"][0]["link"]["value"] == [1, 1]
    at.segmented_control(key="sectors_view").set_value("table").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 1  # only the rates: the flows are a table
    table = at.dataframe[0].value
    assert table.to_dict("records") == [{"Lost a job in": "coal", "First jobs": "1", "services": "100%"}]


def test_the_sectors_page_says_no_records_match_when_filters_leave_nothing(tiny_extract, monkeypatch):
    at = open_page(tiny_extract, monkeypatch, district=["北山"], program=["none"])
    assert not at.exception
    assert any("No records match" in info.value for info in at.info)
    assert not at.get("plotly_chart")


def test_the_programme_of_the_sankey_can_be_chosen(tiny_extract, monkeypatch):
    at = open_page(tiny_extract, monkeypatch)
    at.selectbox(key="sectors_program").set_value("none").run()
    heatmap = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert "No training" in plain(heatmap["layout"]["title"]["text"])


def test_clicking_a_prior_sector_filters_the_dashboard_to_it(tiny_extract, monkeypatch):
    at = open_page(tiny_extract, monkeypatch)
    at.session_state["sectors_rates"] = {
        "selection": {"points": [{"y": "coal", "customdata": ["coal", 2, 1, 0.09, 0.91]}],
                      "point_indices": [0], "box": [], "lasso": []}}
    at.run()
    assert not at.exception
    assert at.sidebar.multiselect(key="sector").value == ["coal"]
    assert any("Filtered to prior sector **coal**" in info.value for info in at.info)
    # the rates still compare every sector; the flows show only coal's
    dots = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert set(dots["layout"]["yaxis"]["categoryarray"]) == {"coal", "textiles"}
    heatmap = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert heatmap["data"][0]["y"][0].startswith("coal<br>")
