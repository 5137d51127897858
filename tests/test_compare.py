"""The Compare programmes page: its metrics (wiring of the statistics), figures and AppTest."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.duration.survfunc import SurvfuncRight, survdiff
from streamlit.testing.v1 import AppTest

from reemploy import charts, figures, labels, readouts, stats, tables
from reemploy import summary as summary_document
from reemploy.contract import EMPLOYER_TYPES
from reemploy.db import connect
from reemploy.extracts import open_extract
from reemploy.filters import Filters

ROOT = Path(__file__).resolve().parent.parent
PAGE = "pages/compare_programs.py"


from conftest import plain, D, write_cells_extract, write_extract  # noqa: E402


def opened(path):
    extract = open_extract(path)
    return connect(extract), extract


# --------------------------------------------------------------------------- metrics


def test_reemployment_curves_equal_one_minus_statsmodels_kaplan_meier_with_its_band(tiny):
    con, extract = tiny
    curves = figures.compare.reemployment_curves(con, extract, Filters(), min_cell=1)
    skills = curves[curves["program_type"] == "skills"].set_index("day")
    # skills from enrollment: jobs after 61, 120, 303 days; censored at 91 (S3) and 729 (S2).
    time = np.array([61, 91, 120, 303, 729])
    status = np.array([1, 0, 1, 1, 0])
    sf = SurvfuncRight(time, status)
    z = sps.norm.isf(0.025)
    s, se = sf.surv_prob, sf.surv_prob_se
    # The log(-log) band on survival; 1 - S swaps its limits.
    scale = np.exp(z * se / (s * np.abs(np.log(s))))
    for day, surv, s_low, s_high in zip(sf.surv_times, s, s ** scale, s ** (1 / scale)):
        assert skills.loc[day, "reemployed"] == pytest.approx(1 - surv)
        assert skills.loc[day, "reemployed_low"] == pytest.approx(1 - s_high)
        assert skills.loc[day, "reemployed_high"] == pytest.approx(1 - s_low)
    assert skills["reemployed_n"].tolist() == [5, 4, 3, 2, 1]


def test_reemployment_curves_suppress_the_tail_where_fewer_than_min_cell_are_at_risk(tiny):
    con, extract = tiny
    curves = figures.compare.reemployment_curves(con, extract, Filters(), min_cell=3)
    skills = curves[curves["program_type"] == "skills"].set_index("day")
    # At risk 5, 4, 3, 2, 1 on days 61, 91, 120, 303, 729: the last two are hidden.
    assert skills["reemployed_suppressed"].tolist() == [False, False, False, True, True]
    assert skills.loc[[303, 729], ["reemployed", "reemployed_low", "events"]].isna().all().all()
    assert skills.loc[120, "reemployed"] == pytest.approx(1 - 0.8 * (2 / 3))
    # No training has one person: the whole curve is hidden.
    assert curves.loc[curves["program_type"] == "none", "reemployed_suppressed"].all()


def test_reemployment_curves_since_exit_leave_out_people_still_in_training(tiny):
    con, extract = tiny
    curves = figures.compare.reemployment_curves(con, extract, Filters(), min_cell=1, origin="exit")
    first = curves.groupby("program_type")["at_risk"].first()
    assert first["skills"] == 4  # S3 is still in its course
    assert first["mindset"] == 4
    with pytest.raises(ValueError):
        figures.compare.reemployment_curves(con, extract, Filters(), origin="placement")


@pytest.mark.parametrize("origin", ["enrollment", "exit"])
def test_reemployment_logrank_equals_statsmodels_survdiff_for_skills_and_mindset(tiny, origin):
    con, extract = tiny
    test = figures.compare.reemployment_logrank(con, extract, Filters(), min_cell=1, origin=origin).iloc[0]
    # The same durations as the query tests spell out (tests/test_queries.py).
    expanded = {
        "enrollment": ([61, 91, 120, 303, 729, 22, 22, 152, 355], [1, 0, 1, 1, 0, 1, 1, 0, 0]),
        "exit": ([30, 31, 275, 639, 12, 12, 143, 345], [1, 1, 1, 0, 1, 1, 0, 0]),
    }[origin]
    groups = ["skills"] * (5 if origin == "enrollment" else 4) + ["mindset"] * 4
    chi2, p_value = survdiff(np.array(expanded[0]), np.array(expanded[1]), np.array(groups))
    assert test["logrank_chi2"] == pytest.approx(chi2)
    assert test["logrank_p_value"] == pytest.approx(p_value)
    assert test["logrank_chi2_n"] == 4


def test_reemployment_logrank_is_suppressed_when_a_programme_is_small(tiny):
    con, extract = tiny
    test = figures.compare.reemployment_logrank(con, extract, Filters(), min_cell=5).iloc[0]
    assert test["logrank_chi2_suppressed"]  # mindset has 4 people
    assert np.isnan(test["logrank_chi2"]) and np.isnan(test["logrank_p_value"])


def test_placement_rate_by_horizon_at_180_days_equals_the_summary(tiny):
    con, extract = tiny
    rates = figures.compare.placement_rate_by_program_and_horizon(con, extract, Filters(), min_cell=1)
    doc = summary_document.summary(con, extract, Filters(), min_cell=1)
    at_180 = rates[rates["horizon_days"] == 180].set_index("program_type")
    for program, values in doc["programs"].items():
        assert at_180.loc[program, "placement_rate"] == pytest.approx(values["placement_rate_180d"])
        assert [at_180.loc[program, "placement_rate_low"], at_180.loc[program, "placement_rate_high"]] \
            == pytest.approx(values["placement_rate_180d_ci"])
    # mindset at 365 days: nobody followed that long yet.
    mindset_365 = rates[(rates["program_type"] == "mindset") & (rates["horizon_days"] == 365)]
    assert mindset_365["placement_rate_suppressed"].item()


def test_placement_difference_by_horizon_uses_newcombe_and_suppresses_small_rows(tiny):
    con, extract = tiny
    diff = figures.compare.placement_difference_by_horizon(con, extract, Filters(), min_cell=1)
    row = diff.set_index("horizon_days").loc[180]
    # skills 2 of 4, mindset 2 of 3 (tests/test_queries.py).
    assert (row["difference"], row["difference_low"], row["difference_high"]) == pytest.approx(
        stats.newcombe_difference(2, 4, 2, 3))
    assert row["difference"] == pytest.approx(0.5 - 2 / 3)
    assert diff.set_index("horizon_days").loc[365, "difference_suppressed"]  # mindset n = 0
    hidden = figures.compare.placement_difference_by_horizon(con, extract, Filters(), min_cell=4)
    assert hidden["difference_suppressed"].tolist() == [False, True, True]
    assert hidden["skills_rate"].isna().tolist() == [False, True, True]


def test_programme_profile_adds_retention_and_wage_quantiles_to_the_headline(tiny):
    con, extract = tiny
    profile = figures.headline.headline_by_program(con, extract, Filters(), min_cell=1).set_index("program_type")
    assert profile.loc["skills", "retention_6m"] == pytest.approx(2 / 3)
    assert profile.loc["skills", "monthly_wage_p50"] == profile.loc["skills", "median_monthly_wage"]
    assert profile.loc["skills", "monthly_wage_p10"] == pytest.approx(610)
    hidden = figures.headline.headline_by_program(con, extract, Filters(), min_cell=3).set_index("program_type")
    # Two wages per programme: every quantile is hidden, enrolled counts are not.
    assert hidden[["monthly_wage_p10", "monthly_wage_p90", "wage_replacement_p50"]].isna().all().all()
    assert hidden.loc["skills", "enrolled_count"] == 5


def test_employer_mix_lists_every_employer_type_and_hides_small_programmes(tiny):
    con, extract = tiny
    mix = figures.compare.employer_mix_by_program(con, extract, Filters(), min_cell=1)
    skills = mix[mix["program_type"] == "skills"].set_index("employer_type")
    assert list(skills.index) == list(EMPLOYER_TYPES)
    assert skills["employer_share"].sum() == pytest.approx(1.0)
    assert skills.loc["private", "employer_share"] == pytest.approx(2 / 3)
    assert skills.loc["state_owned", "employer_share"] == 0
    mix = figures.compare.employer_mix_by_program(con, extract, Filters(), min_cell=2)
    none = mix[mix["program_type"] == "none"]
    assert none["employer_share_suppressed"].all()  # one first job
    assert none[["employer_share", "placement_count"]].isna().all().all()
    # Issue 13: skills' 3 first jobs are 2 private and 1 self-employed, a group of one; the
    # shares add up to 100%, so the whole mix is hidden, not that one share.
    skills = mix[mix["program_type"] == "skills"]
    assert skills["employer_share_suppressed"].all() and skills["employer_share"].isna().all()
    assert set(skills["employer_share_suppressed_reason"]) == {"extreme"}


def test_adjusted_difference_has_the_opposite_sign_of_the_raw_one(simpson):
    con, extract = simpson
    result = figures.compare.adjusted_placement_difference(con, extract, Filters(), min_cell=10)
    raw, adjusted = result.set_index("estimate").loc["raw"], result.set_index("estimate").loc["adjusted"]
    # conftest._simpson_rows: raw 60% vs 40%; standardised 37.5% vs 62.5%.
    assert (raw["skills_rate"], raw["mindset_rate"], raw["difference"]) == pytest.approx((0.6, 0.4, 0.2))
    assert (raw["difference_low"], raw["difference_high"]) == pytest.approx(
        stats.newcombe_difference(12, 20, 8, 20)[1:])
    assert adjusted["difference"] == pytest.approx(-0.25)
    # The interval counts the estimated mix too: its half width is z times the standard error of
    # a bootstrap over people, computed here person by person (seeded, 4,000 resamples).
    half = sps.norm.isf(0.025) * _person_bootstrap_se(SIMPSON_CELLS)
    assert adjusted["difference_low"] == pytest.approx(-0.25 - half, rel=0.15)
    assert adjusted["difference_high"] == pytest.approx(-0.25 + half, rel=0.6)
    assert adjusted["difference_high"] - adjusted["difference_low"] == pytest.approx(2 * half, rel=0.15)
    # It is wider than the fixed-weight interval, w^2 (p1 q1 / n1 + p0 q0 / n0) summed.
    fixed = sps.norm.isf(0.025) * np.sqrt(2 * 0.25 * 0.75 * 0.25 / 16)
    assert adjusted["difference_high"] - adjusted["difference_low"] > 2 * fixed
    assert adjusted["excluded_share"] == 0 and adjusted["strata_used"] == 2
    assert adjusted["difference_n"] == 20


# (programme, education, people, placed) of conftest._simpson_rows, people followed 180 days.
SIMPSON_CELLS = (("skills", "tertiary", 16, 12), ("skills", "primary", 4, 0),
                 ("mindset", "tertiary", 4, 4), ("mindset", "primary", 16, 4))


def _person_bootstrap_se(cells, replicates=4000, seed=7):
    """Resample the 40 people with replacement and redo the direct standardisation by hand."""
    people = np.array([(program == "skills", education == "tertiary", i < placed)
                       for program, education, size, placed in cells for i in range(size)])
    rng = np.random.default_rng(seed)
    estimates = []
    for _ in range(replicates):
        sample = people[rng.integers(0, len(people), len(people))]
        total, difference = 0.0, 0.0
        parts = []
        for stratum in (True, False):
            skills = sample[(sample[:, 0]) & (sample[:, 1] == stratum)]
            mindset = sample[(~sample[:, 0]) & (sample[:, 1] == stratum)]
            if len(skills) and len(mindset):
                parts.append((len(skills) + len(mindset), skills[:, 2].mean() - mindset[:, 2].mean()))
        if parts:
            total = sum(size for size, _ in parts)
            difference = sum(size * d for size, d in parts) / total
            estimates.append(difference)
    return float(np.std(estimates, ddof=1))


def test_every_adjustment_reverses_the_naive_difference(tmp_path):
    # Skills enrolls mostly tertiary (placement high), mindset mostly primary (low), and within
    # each group mindset places more:
    #   tertiary: skills 30 of 40 (75%), mindset 9 of 10 (90%)
    #   primary:  skills 1 of 10 (10%),  mindset 10 of 40 (25%)
    # Raw: 31/50 - 19/50 = +24 pp. One covariate varies, so every model is saturated and every
    # adjustment equals the standardisation to the pooled 50 + 50: (.425) - (.575) = -15 pp.
    cells = (("skills", "tertiary", 40, 30), ("skills", "primary", 10, 1),
             ("mindset", "tertiary", 10, 9), ("mindset", "primary", 40, 10))
    con, extract = opened(write_cells_extract(tmp_path / "reversal", cells))
    rows = figures.compare.adjusted_placement_difference(con, extract, Filters(), min_cell=10) \
        .set_index("estimate")
    assert rows.loc["raw", "difference"] == pytest.approx(0.24)
    for estimate in ("adjusted", "ipw", "regression", "doubly_robust"):
        assert rows.loc[estimate, "difference"] == pytest.approx(-0.15, abs=1e-9), estimate
        assert rows.loc[estimate, "skills_rate"] == pytest.approx(0.425, abs=1e-9), estimate
        assert rows.loc[estimate, "mindset_rate"] == pytest.approx(0.575, abs=1e-9), estimate
        assert rows.loc[estimate, "difference_low"] < -0.15 < rows.loc[estimate, "difference_high"]
    assert rows["reason"].isna().all()


def test_adjusted_difference_reports_people_outside_common_support(simpson_extract, tmp_path):
    from conftest import SIMPSON_ENROLLMENTS, SIMPSON_PLACEMENTS

    # Ten more skills enrollees with a vocational education, which no mindset enrollee has.
    extra = [dict(enrollment_id=f"V{i}", program_type="skills", education="vocational",
                  enrolled_on=D("2001-01-01"), exited_on=D("2001-01-10"), completed=True)
             for i in range(10)]
    con, extract = opened(write_extract(tmp_path / "support", SIMPSON_ENROLLMENTS + extra,
                                        SIMPSON_PLACEMENTS))
    adjusted = figures.compare.adjusted_placement_difference(con, extract, Filters(), min_cell=10)
    row = adjusted.set_index("estimate").loc["adjusted"]
    assert row["excluded_share"] == pytest.approx(10 / 50)
    assert row["difference"] == pytest.approx(-0.25)
    assert row["skills_n"] == 20  # the ten outside common support are not in the adjusted n


def test_adjusted_difference_is_suppressed_below_min_cell(simpson):
    con, extract = simpson
    result = figures.compare.adjusted_placement_difference(con, extract, Filters(), min_cell=21)
    assert result["difference_suppressed"].all()
    assert result[["difference", "skills_rate", "mindset_rate"]].isna().all().all()


def test_covariate_balance_shows_the_standardized_difference_before_adjustment(simpson):
    con, extract = simpson
    balance = figures.compare.covariate_balance(con, extract, Filters(), min_cell=10)
    education = balance[balance["covariate"] == "education"].set_index("level")
    # tertiary: skills 16/20 = 0.8, mindset 4/20 = 0.2: 0.6 / sqrt((0.16 + 0.16) / 2) = 1.5.
    assert education.loc["tertiary", "std_diff_raw"] == pytest.approx(1.5)
    assert education.loc["primary", "std_diff_raw"] == pytest.approx(-1.5)
    assert education.loc["tertiary", "share_skills"] == pytest.approx(0.8)
    assert "unknown" in set(balance.loc[balance["covariate"] == "gender", "level"])
    assert figures.compare.covariate_balance(con, extract, Filters(), min_cell=21)["std_diff_raw"].isna().all()


# --------------------------------------------------------------------------- figures


def lines(fig):
    return [t for t in fig.data if t.type == "scatter" and t.mode == "lines" and t.showlegend is not False]


def test_curve_chart_colours_each_programme_and_stops_at_the_suppressed_tail(tiny):
    con, extract = tiny
    curves = figures.compare.reemployment_curves(con, extract, Filters(), min_cell=3)
    logrank = figures.compare.reemployment_logrank(con, extract, Filters(), min_cell=3)
    fig = charts.reemployment_curve_chart(curves, logrank, 3, "enrollment")
    drawn = {t.legendgroup: t for t in lines(fig)}
    assert set(drawn) == {"skills", "mindset"}  # no training (1 person) is not drawn
    for program, trace in drawn.items():
        assert trace.line.color == labels.PROGRAM_COLORS[program]
    # skills drawn from day 0 to day 120, the last day with 3 at risk.
    assert list(drawn["skills"].x) == [0, 61, 91, 120]
    subtitle = plain(fig.layout.title.subtitle.text)
    assert "Not drawn: No training" in subtitle and "fewer than 3" in subtitle
    # The test in words on the chart; its statistic is the analysts' note under it.
    assert "curves" in subtitle and "χ²" not in subtitle
    assert "χ²" in readouts.logrank_note(logrank)
    risk_row = [t for t in fig.data if t.mode == "text" and t.legendgroup is None
                and t.textfont.color == labels.PROGRAM_COLORS["skills"]][0]
    assert list(risk_row.text)[:1] == ["5"]


def test_curve_chart_says_when_the_logrank_test_is_suppressed_and_limits_the_days(tiny):
    con, extract = tiny
    curves = figures.compare.reemployment_curves(con, extract, Filters(), min_cell=1, origin="exit")
    logrank = figures.compare.reemployment_logrank(con, extract, Filters(), min_cell=5, origin="exit")
    fig = charts.reemployment_curve_chart(curves, logrank, 1, "exit", max_days=200)
    assert "leaving the programme" in plain(fig.layout.title.text)
    assert "not shown" in plain(fig.layout.title.subtitle.text)
    assert max(max(t.x) for t in lines(fig)) <= 200


def test_curve_chart_with_everything_suppressed_is_a_notice(tiny):
    con, extract = tiny
    curves = figures.compare.reemployment_curves(con, extract, Filters(), min_cell=100)
    logrank = figures.compare.reemployment_logrank(con, extract, Filters(), min_cell=100)
    fig = charts.reemployment_curve_chart(curves, logrank, 100)
    assert len(fig.data) == 0
    assert "100" in fig.layout.annotations[0].text


def test_horizon_chart_draws_only_unsuppressed_cells_in_programme_colours(tiny):
    con, extract = tiny
    rates = figures.compare.placement_rate_by_program_and_horizon(con, extract, Filters(), min_cell=2)
    fig = charts.placement_horizon_chart(rates, 2)
    by_name = {t.name: t for t in fig.data}
    assert "No training" not in by_name  # one person followed
    assert by_name["Skills training"].marker.color == labels.PROGRAM_COLORS["skills"]
    assert list(by_name["Mindset training"].x) == ["90 days", "180 days"]  # 365: nobody yet
    assert "not drawn" in plain(fig.layout.title.subtitle.text)


def test_difference_charts_plot_percentage_points_and_call_it_not_a_causal_effect(simpson):
    con, extract = simpson
    adjusted = figures.compare.adjusted_placement_difference(con, extract, Filters(), min_cell=10)
    fig = charts.adjusted_difference_chart(adjusted, 10)
    # raw, standardised, propensity weighted; regression and doubly robust cannot be fitted here
    # (skills places nobody with primary education: perfect separation) and are not drawn.
    assert list(fig.data[0].x) == pytest.approx([20.0, -25.0, -25.0])
    assert fig.data[0].text[1].startswith("-25.0 pp")
    assert "not causal effects" in plain(fig.layout.title.subtitle.text)
    assert "Regression adjusted: not estimated (outcome model" in plain(fig.layout.title.subtitle.text)
    assert "suppressed" not in plain(fig.layout.title.subtitle.text)
    assert fig.data[0].y[0].startswith("Raw<br>60.0% vs 40.0%")
    hidden = figures.compare.adjusted_placement_difference(con, extract, Filters(), min_cell=50)
    assert len(charts.adjusted_difference_chart(hidden, 50).data) == 0


def test_wage_chart_draws_boxes_from_quantiles_for_unsuppressed_programmes(tiny):
    con, extract = tiny
    profile = figures.headline.headline_by_program(con, extract, Filters(), min_cell=2)
    fig = charts.wage_chart(profile, 2)
    boxes = {t.name: t for t in fig.data}
    assert set(boxes) == {"Skills training", "Mindset training"}  # no training: one wage
    skills = boxes["Skills training"]
    assert (skills.lowerfence[0], skills.q1[0], skills.median[0], skills.q3[0], skills.upperfence[0]) \
        == pytest.approx((610, 625, 650, 675, 690))
    assert skills.line.color == labels.PROGRAM_COLORS["skills"]
    assert "Not drawn: No training" in plain(fig.layout.title.subtitle.text)


def test_employer_mix_chart_stacks_to_100_percent_and_leaves_out_suppressed_programmes(tiny):
    con, extract = tiny
    mix = figures.compare.employer_mix_by_program(con, extract, Filters(), min_cell=1)
    mix = stats.suppress_cells(mix, "employer_share", (mix["program_type"] == "none").to_numpy())
    fig = charts.employer_mix_chart(mix, 2)
    assert [t.name for t in fig.data] == [labels.EMPLOYER_LABELS[e] for e in labels.EMPLOYER_ORDER]
    assert all(not any("No training" in y for y in t.y) for t in fig.data)
    totals = np.nansum([list(t.x) for t in fig.data], axis=0)
    assert totals == pytest.approx([1.0, 1.0])
    assert fig.layout.barmode == "stack"


def test_balance_chart_colours_levels_by_the_programme_where_they_are_more_common(simpson):
    con, extract = simpson
    balance = figures.compare.covariate_balance(con, extract, Filters(), min_cell=10)
    fig = charts.balance_chart(balance, 10)
    points = dict(zip(fig.data[0].y, fig.data[0].marker.color))
    assert points["Education: Tertiary"] == labels.PROGRAM_COLORS["skills"]
    assert points["Education: Primary"] == labels.PROGRAM_COLORS["mindset"]


def test_profile_table_writes_suppressed_and_not_applicable_cells_in_words(tiny):
    con, extract = tiny
    table = tables.programme_profile_table(
        figures.headline.headline_by_program(con, extract, Filters(), min_cell=4), 4).set_index("Measure")
    # One interval format everywhere; "n = 4" with non-breaking spaces, so it never wraps apart.
    assert table.loc["Placed within 180 days of exit", "Skills training"].startswith(
        "50.0% (95% CI 15.0–85.0%), n\u00a0=\u00a04")
    assert table.loc["Placed within 180 days of exit", "Mindset training"] == \
        "suppressed (n < 4), n\u00a0=\u00a03"
    assert table.loc["Completed the course", "No training"] == "not applicable"


# --------------------------------------------------------------------------- page


def open_page(data_dir, monkeypatch, min_cell=1, **query) -> AppTest:
    monkeypatch.setenv("REEMPLOY_DATA", str(data_dir))
    monkeypatch.setenv("REEMPLOY_MIN_CELL", str(min_cell))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    for key, values in query.items():
        at.query_params[key] = values
    at.run()
    # The first run after switch_page drops the URL filters (the same happens in a browser on
    # navigation: a shared ui.sidebar issue, not this page's); the second run is the page as a
    # deep link (/compare_programs?district=...) shows it.
    return at.switch_page(str(ROOT / PAGE)).run().run()


def _decoded(value):
    # Plotly sends numeric arrays as {"dtype": "f8", "bdata": base64}.
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    if isinstance(value, dict):
        return {k: _decoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    return value


def figures_of(at) -> dict[str, dict]:
    """The page's Plotly figures (JSON, arrays decoded) by title."""
    out = {}
    for chart in at.get("plotly_chart"):
        spec = _decoded(json.loads(chart.proto.spec))
        out[plain(spec["layout"]["title"]["text"])] = spec
    return out


def test_compare_page_renders_every_section_under_url_filters(tiny_extract, monkeypatch):
    at = open_page(tiny_extract, monkeypatch, district=["北山"])
    assert not at.exception, at.exception
    assert at.sidebar.multiselect(key="district").value == ["北山"]
    titles = set(figures_of(at))
    assert {"Share re-employed by days since enrollment, first 730 days",
            "Placed within 90, 180 and 365 days of leaving",
            "Monthly wage at the first job",
            "Who hired them: employer type of the first job",
            "Skills minus mindset, placed within 180 days: raw and adjusted"} <= titles
    # 北山 holds S1, S2 and M1: two skills and one mindset enrollee.
    assert "(n = 2)" in json.dumps(figures_of(at)["Share re-employed by days since enrollment, first 730 days"])


def test_compare_page_says_no_records_match_when_filters_leave_nothing(tiny_extract, monkeypatch):
    at = open_page(tiny_extract, monkeypatch, district=["北山"], program=["none"])
    assert not at.exception
    assert any("No records match" in info.value for info in at.info)
    assert not at.get("plotly_chart")


def test_compare_page_suppresses_small_cells_instead_of_drawing_them(tiny_extract, monkeypatch):
    at = open_page(tiny_extract, monkeypatch, min_cell=3)
    assert not at.exception, at.exception
    shown = figures_of(at)
    horizon = shown["Placed within 90, 180 and 365 days of leaving"]
    assert "No training" not in [t["name"] for t in horizon["data"]]
    curve = shown["Share re-employed by days since enrollment, first 730 days"]
    assert not any(t.get("legendgroup") == "none" for t in curve["data"])
    table = at.table[0].value
    assert table.loc["Median monthly wage, first job", "Skills training"].startswith("suppressed (n < 3)")


def test_compare_page_with_everything_below_min_cell_draws_no_curve_or_bar(tiny_extract, monkeypatch):
    at = open_page(tiny_extract, monkeypatch, min_cell=1000)
    assert not at.exception, at.exception
    shown = figures_of(at)
    assert len(shown) == 7
    for title, spec in shown.items():
        assert spec["data"] == [], title  # a notice instead of a chart
    assert "1,000" in shown["Monthly wage at the first job"]["layout"]["annotations"][0]["text"]


def test_compare_page_switches_the_curves_to_days_since_exit(tiny_extract, monkeypatch):
    at = open_page(tiny_extract, monkeypatch)
    at.radio(key="compare_origin").set_value("exit").run()
    at.radio(key="compare_window").set_value(365).run()
    assert not at.exception, at.exception
    assert "Share re-employed by days since leaving the programme, first 365 days" in figures_of(at)


def test_compare_page_180_day_rate_agrees_with_summary(tiny_extract, monkeypatch):
    at = open_page(tiny_extract, monkeypatch)
    extract = open_extract(tiny_extract)
    doc = summary_document.summary(connect(extract), extract, Filters(), min_cell=1)
    horizon = figures_of(at)["Placed within 90, 180 and 365 days of leaving"]
    for trace in horizon["data"]:
        program = {labels.program_label(p): p for p in doc["programs"]}[trace["name"]]
        shown = dict(zip(trace["x"], trace["y"]))["180 days"]
        assert shown == pytest.approx(doc["programs"][program]["placement_rate_180d"])
    table = at.table[0].value
    skills = doc["programs"]["skills"]["placement_rate_180d"]
    assert table.loc["Placed within 180 days of exit", "Skills training"].startswith(f"{skills:.1%}")


@pytest.mark.parametrize("program", ["skills", "none"])
def test_compare_page_with_one_programme_says_the_comparison_needs_both(tiny_extract, monkeypatch,
                                                                       program):
    at = open_page(tiny_extract, monkeypatch, program=[program])
    assert not at.exception, at.exception
    adjusted = figures_of(at)["Skills minus mindset, placed within 180 days: raw and adjusted"]
    assert adjusted["data"] == []
    assert "Needs skills and mindset" in adjusted["layout"]["annotations"][0]["text"]


def test_days_without_job_is_the_area_under_each_curve_up_to_the_window(simpson):
    con, extract = simpson
    days = figures.compare.days_without_job(con, extract, Filters(), min_cell=10).set_index("tau_days")
    # From enrollment (2001-01-01): skills 12 of 21 placed on day 59, one in training censored on
    # day 60, 8 censored on day 729, so S = 9/21 from day 59; mindset 8 of 21 placed, S = 13/21.
    # Area up to 180: 59 + 121 * 9/21 and 59 + 121 * 13/21.
    assert days.loc[180, "skills_days"] == pytest.approx(59 + 121 * 9 / 21)
    assert days.loc[180, "mindset_days"] == pytest.approx(59 + 121 * 13 / 21)
    assert days.loc[180, "difference"] == pytest.approx(121 * (9 - 13) / 21)
    assert days.loc[365, "difference"] == pytest.approx(306 * (9 - 13) / 21)
    assert days.loc[180, "difference_low"] < days.loc[180, "difference"] < days.loc[180, "difference_high"]
    # Nobody is followed to day 730 (the last follow-up is day 729 with people still searching).
    assert isinstance(days.loc[730, "reason"], str)
    # 21 people a side: the interval includes 0, and the table says so rather than pick a side.
    assert days.loc[180, "difference_low"] < 0 < days.loc[180, "difference_high"]
    assert tables.days_without_job_table(days.reset_index(), 10)["Reading"].iloc[0] == \
        "no clear difference"


def test_curves_cross_only_when_each_programme_is_ahead_somewhere():
    import pandas as pd

    def curves(skills, mindset):
        rows = [("skills", d, r) for d, r in skills] + [("mindset", d, r) for d, r in mindset]
        return pd.DataFrame(rows, columns=["program_type", "day", "reemployed"])

    # mindset ahead at day 30, skills ahead from day 200 on: they cross
    assert figures.compare.curves_cross(curves([(30, 0.05), (200, 0.40)], [(30, 0.20), (200, 0.30)]))
    # skills ahead throughout
    assert not figures.compare.curves_cross(curves([(30, 0.25), (200, 0.40)], [(30, 0.20), (200, 0.30)]))
    # a difference within the 1 pp margin is not a crossing
    assert not figures.compare.curves_cross(curves([(30, 0.195), (200, 0.40)], [(30, 0.20), (200, 0.30)]))
