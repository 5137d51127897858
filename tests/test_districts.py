"""Districts: the metrics behind the page, its map and charts, and the page itself (AppTest)."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from reemploy import charts, figures, labels, stats
from reemploy.charts.districts import SUPPRESSED_COLOR
from reemploy.filters import Filters

from conftest import plain, TINY_ENROLLMENTS, TINY_PLACEMENTS

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "districts.py")


def square(name: str, lon: float) -> dict:
    ring = [[lon, 41.0], [lon, 41.1], [lon + 0.1, 41.1], [lon + 0.1, 41.0], [lon, 41.0]]
    return {"type": "Feature", "properties": {"district": name},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


# Three squares in a row; "Xishan" has no enrollments in the tiny fixture.
SHAPES = {"type": "FeatureCollection",
          "features": [square("北山", 120.0), square("Hexi", 120.1), square("Xishan", 120.2)]}


@pytest.fixture
def mapped_extract(shared_extracts) -> Path:
    return shared_extracts.get("mapped", TINY_ENROLLMENTS, TINY_PLACEMENTS,
                               side_files={"districts.geojson": json.dumps(SHAPES)}).path


def by_district(df, program=None):
    rows = df if program is None else df[df["program_type"] == program]
    return {r["district"]: r for r in rows.to_dict("records")}


# --------------------------------------------------------------------------- metrics


def test_outcomes_by_district_adds_wilson_intervals_and_kaplan_meier_medians(tiny):
    con, extract = tiny
    df = figures.districts.outcomes_by_district(con, extract, Filters(), min_cell=1)
    skills = by_district(df, "skills")
    # 北山 skills: 1 of 2 placed; Wilson 95% for 1/2 is 0.0945-0.9055.
    assert skills["北山"]["placement_rate_180d"] == 0.5
    assert skills["北山"]["placement_rate_180d_low"] == pytest.approx(0.09453, abs=1e-4)
    # KM 北山 skills: event at 120 of 2 at risk -> S = 0.5 there: median 120 days.
    assert skills["北山"]["median_days_to_placement"] == 120
    # KM Hexi skills: 61 E (S = 2/3), 91 C, 303 E with 1 at risk (S = 0): median 303.
    assert skills["Hexi"]["median_days_to_placement"] == 303
    assert skills["Hexi"]["median_days_to_placement_n"] == 3
    assert skills["Hexi"]["median_monthly_wage"] == 700.0
    assert list(df["program_type"][df["district"] == "Hexi"]) == ["skills", "mindset", "none"]


def test_outcomes_by_district_suppresses_small_cells_with_their_numerators(tiny):
    con, extract = tiny
    df = figures.districts.outcomes_by_district(con, extract, Filters(), min_cell=3)
    north = by_district(df, "skills")["北山"]
    # 2 followed < 3: rate, interval and the placed count go; the enrolled count stays.
    assert north["placement_rate_180d_suppressed"]
    assert all(math.isnan(north[c]) for c in ("placement_rate_180d", "placement_rate_180d_low",
                                              "placement_rate_180d_high", "placed_180d_count"))
    assert north["median_days_to_placement_suppressed"] and math.isnan(north["median_days_to_placement"])
    assert north["enrolled_count"] == 2
    # Hexi skills has 3 enrolled for the KM median: shown.
    assert by_district(df, "skills")["Hexi"]["median_days_to_placement"] == 303


def test_placement_gap_by_district_is_skills_minus_mindset_with_newcombe_interval(tiny):
    con, extract = tiny
    df = by_district(figures.districts.placement_gap_by_district(con, extract, Filters(), min_cell=1))
    # 北山: skills 1/2, mindset 1/1 -> gap -0.5; Hexi: 1/2 and 1/2 -> 0.
    north, hexi = df["北山"], df["Hexi"]
    assert north["gap"] == pytest.approx(-0.5)
    assert (north["gap_low"], north["gap_high"]) == pytest.approx(
        stats.newcombe_difference(1, 2, 1, 1)[1:])
    assert north["gap_n"] == 1  # the smaller side
    assert hexi["gap"] == 0.0 and hexi["gap_n"] == 2
    assert hexi["skills_placement_rate_180d"] == 0.5 and hexi["mindset_placement_rate_180d"] == 0.5


def test_the_district_gap_is_suppressed_when_either_side_is(tiny):
    con, extract = tiny
    df = by_district(figures.districts.placement_gap_by_district(con, extract, Filters(), min_cell=2))
    north = df["北山"]
    # mindset has 1 followed in 北山 (< 2): its rate and the gap go; skills (2 followed) stays.
    assert north["mindset_placement_rate_180d_suppressed"] and north["gap_suppressed"]
    assert math.isnan(north["gap"]) and math.isnan(north["gap_low"])
    assert math.isnan(north["mindset_placed_180d_count"])
    assert not north["skills_placement_rate_180d_suppressed"]
    assert north["skills_placement_rate_180d"] == 0.5
    # Hexi's mindset rate would give 北山's away (the mindset total minus Hexi), so it is hidden
    # too (complementary suppression), and Hexi's gap with it; its skills rate stays.
    hexi = df["Hexi"]
    assert hexi["mindset_placement_rate_180d_suppressed_reason"] == "complementary"
    assert hexi["gap_suppressed"] and math.isnan(hexi["mindset_placed_180d_count"])
    assert not hexi["skills_placement_rate_180d_suppressed"]


def test_placement_gap_by_district_is_empty_but_well_formed_when_nothing_matches(tiny):
    con, extract = tiny
    df = figures.districts.placement_gap_by_district(con, extract, Filters(districts=("Nowhere",)))
    assert df.empty and {"district", "gap", "gap_n", "gap_suppressed"} <= set(df.columns)


# --------------------------------------------------------------------------- figures


@pytest.fixture
def gap(tiny):
    con, extract = tiny
    return figures.districts.placement_gap_by_district(con, extract, Filters(), min_cell=2)


def choropleths(fig):
    return [t for t in fig.data if isinstance(t, go.Choropleth)]


def test_the_map_draws_the_extract_geojson_keyed_by_district_not_cdn_shapes(gap):
    fig = charts.district_map_chart(gap, SHAPES, "gap", min_cell=2)
    for trace in choropleths(fig):
        assert trace.geojson == SHAPES
        assert trace.featureidkey == "properties.district"
        assert trace.locationmode in (None, "geojson-id")
    assert fig.layout.geo.fitbounds == "geojson" and fig.layout.geo.visible is False


def test_the_map_starts_with_a_trace_that_keeps_plotly_off_the_cdn(gap):
    # plotly.js fetches world topojson from cdn.plot.ly when its first geo trace has a
    # locationmode (every choropleth does); offline the map would stay blank.
    fig = charts.district_map_chart(gap, SHAPES, "gap", min_cell=2)
    first = fig.data[0]
    assert isinstance(first, go.Scattergeo) and first.locations is None and first.locationmode is None


def test_the_gap_map_diverges_at_zero_in_the_programme_colours(tiny):
    con, extract = tiny
    gap = figures.districts.placement_gap_by_district(con, extract, Filters(), min_cell=1)
    fig = charts.district_map_chart(gap, SHAPES, "gap", min_cell=1)
    coloured = choropleths(fig)[0]
    assert dict(zip(coloured.locations, coloured.z)) == {"北山": -50.0, "Hexi": 0.0}
    assert coloured.zmid == 0 and coloured.zmin == -coloured.zmax
    scale = [c for _, c in coloured.colorscale]
    assert scale[0] == labels.PROGRAM_COLORS["mindset"] and scale[-1] == labels.PROGRAM_COLORS["skills"]


def test_suppressed_districts_are_grey_and_listed_and_empty_ones_said_so(gap):
    fig = charts.district_map_chart(gap, SHAPES, "gap", min_cell=2)
    # 北山's gap is suppressed (mindset n = 1) and Hexi's with it (complementary: its mindset
    # rate would give 北山's away), so no district is coloured.
    suppressed, empty = choropleths(fig)
    assert sorted(suppressed.locations) == ["Hexi", "北山"]
    assert suppressed.colorscale[0][1] == SUPPRESSED_COLOR
    assert list(empty.locations) == ["Xishan"] and "No enrollments" in empty.name
    subtitle = plain(fig.layout.title.subtitle.text)
    assert "such a district away): Hexi, 北山" in subtitle and "Xishan" in subtitle


def test_the_map_outlines_the_selected_district_on_top(gap):
    fig = charts.district_map_chart(gap, SHAPES, "gap", min_cell=2, selected=("Hexi",))
    outline = fig.data[-1]
    assert isinstance(outline, go.Scattergeo) and outline.mode == "lines"
    assert 120.1 in outline.lon and outline.hoverinfo == "skip"


def test_the_map_can_show_one_programme_metric(tiny):
    con, extract = tiny
    outcomes = figures.districts.outcomes_by_district(con, extract, Filters(), min_cell=1)
    fig = charts.district_map_chart(outcomes, SHAPES, "median_monthly_wage", "mindset", min_cell=1)
    coloured = choropleths(fig)[0]
    assert dict(zip(coloured.locations, coloured.z)) == {"北山": 500.0, "Hexi": 550.0}
    assert coloured.colorscale[-1][1] == labels.PROGRAM_COLORS["mindset"]
    assert "Mindset training" in fig.layout.title.text


def test_without_geojson_districts_are_ranked_as_bars_with_intervals(tiny):
    con, extract = tiny
    gap = figures.districts.placement_gap_by_district(con, extract, Filters(), min_cell=1)
    fig = charts.district_ranked_chart(gap, "gap", min_cell=1)
    bars = fig.data[0]
    assert isinstance(bars, go.Bar) and list(bars.y) == ["Hexi", "北山"]  # 0 pp above -50 pp
    assert list(bars.x) == [0.0, -50.0] and bars.error_x.array is not None
    assert [c[0] for c in bars.customdata] == ["Hexi", "北山"]


def test_the_ranked_fallback_leaves_out_and_lists_suppressed_districts(tiny):
    con, extract = tiny
    outcomes = figures.districts.outcomes_by_district(con, extract, Filters(), min_cell=2)
    # Skills: 北山 2 followed, Hexi 2 (S3 not followed yet): neither is small, both are drawn.
    fig = charts.district_ranked_chart(outcomes, "placement_rate_180d", "skills", min_cell=2)
    assert sorted(fig.data[0].y) == ["Hexi", "北山"]
    # Mindset: 北山 has 1 (suppressed), so Hexi is hidden beside it (complementary).
    fig = charts.district_ranked_chart(outcomes, "placement_rate_180d", "mindset", min_cell=2)
    assert not fig.data
    assert "would give such a district away" in plain(fig.layout.annotations[0].text)


def test_the_gap_dot_plot_sorts_by_gap_and_puts_suppressed_districts_last(tiny):
    con, extract = tiny
    gap = figures.districts.placement_gap_by_district(con, extract, Filters(), min_cell=2)
    fig = charts.district_gap_chart(gap, min_cell=2, selected=("北山",))
    assert list(fig.layout.yaxis.categoryarray) == ["Hexi", "北山"]
    skills, mindset = fig.data
    # 北山 mindset n = 1, and Hexi's mindset is hidden beside it (complementary suppression).
    assert list(skills.y) == ["Hexi", "北山"] and len(mindset.y) == 0
    assert "n = 4 skills and 3 mindset" in plain(fig.layout.title.subtitle.text)
    assert "▶ 北山" in fig.layout.yaxis.ticktext[1]


# --------------------------------------------------------------------------- the page


def open_page(data_dir: Path, monkeypatch, **query) -> AppTest:
    """The page opened from a link (`/districts?district=...`): its first run is on the page."""
    monkeypatch.setenv("REEMPLOY_DATA", str(data_dir))
    monkeypatch.setenv("REEMPLOY_MIN_CELL", "1")
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    for key, values in query.items():
        at.query_params[key] = values
    return at.switch_page(PAGE).run()


def chart_specs(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def test_the_districts_page_maps_districts_from_the_extract_geojson(mapped_extract, monkeypatch):
    at = open_page(mapped_extract, monkeypatch)
    assert not at.exception
    types = [trace["type"] for trace in chart_specs(at)[0]["data"]]
    assert "choropleth" in types


def test_the_districts_page_ranks_districts_when_there_is_no_geojson(tiny_extract, monkeypatch):
    at = open_page(tiny_extract, monkeypatch)
    assert not at.exception
    assert chart_specs(at)[0]["data"][0]["type"] == "bar"


def test_the_districts_page_keeps_every_district_and_says_which_one_filters(mapped_extract, monkeypatch):
    at = open_page(mapped_extract, monkeypatch, district=["北山"])
    assert not at.exception
    assert any("Filtered to district **北山**" in info.value for info in at.info)
    dots = chart_specs(at)[1]
    assert set(dots["layout"]["yaxis"]["categoryarray"]) == {"北山", "Hexi"}


def test_the_districts_page_says_no_records_match_when_filters_leave_nothing(tiny_extract, monkeypatch):
    at = open_page(tiny_extract, monkeypatch, district=["北山"], program=["none"])
    assert not at.exception
    assert any("No records match" in info.value for info in at.info)
    assert not at.get("plotly_chart")


def test_clicking_a_district_on_the_map_filters_the_dashboard_to_it(mapped_extract, monkeypatch):
    at = open_page(mapped_extract, monkeypatch)
    at.session_state["districts_map"] = {"selection": {"points": [{"location": "Hexi"}],
                                                       "point_indices": [0], "box": [], "lasso": []}}
    at.run()
    assert not at.exception
    assert at.sidebar.multiselect(key="district").value == ["Hexi"]
    assert any("Filtered to district **Hexi**" in info.value for info in at.info)


def test_clearing_the_district_is_not_undone_by_the_old_click(mapped_extract, monkeypatch):
    at = open_page(mapped_extract, monkeypatch)
    point = {"x": 0.5, "y": "北山", "customdata": ["北山", 2]}
    at.session_state["districts_gap"] = {"selection": {"points": [point], "point_indices": [0],
                                                       "box": [], "lasso": []}}
    at.run()
    assert at.sidebar.multiselect(key="district").value == ["北山"]
    at.button(key="district_hint_clear").click().run()
    assert at.sidebar.multiselect(key="district").value == []
    at.run()
    assert at.sidebar.multiselect(key="district").value == []


def test_a_click_on_a_name_outside_the_extract_is_ignored(mapped_extract, monkeypatch):
    at = open_page(mapped_extract, monkeypatch)
    at.session_state["districts_map"] = {"selection": {"points": [{"location": "Xishan"}],
                                                       "point_indices": [0], "box": [], "lasso": []}}
    at.run()
    assert not at.exception
    assert at.sidebar.multiselect(key="district").value == []


def test_the_map_can_be_coloured_by_one_programme_metric_on_the_page(mapped_extract, monkeypatch):
    at = open_page(mapped_extract, monkeypatch)
    at.selectbox(key="districts_metric").set_value("median_monthly_wage").run()
    at.selectbox(key="districts_program").set_value("mindset").run()
    assert not at.exception
    spec = chart_specs(at)[0]
    coloured = [t for t in spec["data"] if t["type"] == "choropleth"][0]
    # Plotly sends numeric arrays as base64 typed arrays.
    z = np.frombuffer(base64.b64decode(coloured["z"]["bdata"]), dtype=coloured["z"]["dtype"])
    assert dict(zip(coloured["locations"], z)) == {"北山": 500.0, "Hexi": 550.0}
