"""Who benefits: outcomes by age band, gender and education, the gaps, sentences, chart, page."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from reemploy import charts, figures, labels, readouts, stats
from reemploy.extracts import open_extract
from reemploy.filters import Filters

from conftest import plain, run_app

PAGE = "pages/who_benefits.py"


def cell(df, program, characteristic, level):
    rows = df[(df["program_type"] == program) & (df["characteristic"] == characteristic)
              & (df["level"] == level)]
    assert len(rows) == 1
    return rows.iloc[0]


def gap(df, characteristic, level):
    rows = df[(df["characteristic"] == characteristic) & (df["level"] == level)]
    assert len(rows) == 1
    return rows.iloc[0]


# --------------------------------------------------------------------------- metrics


def test_outcomes_by_characteristic_adds_wilson_intervals_in_display_order(tiny):
    con, extract = tiny
    df = figures.who_benefits.outcomes_by_characteristic(con, extract, Filters(), min_cell=1)
    forty = cell(df, "skills", "age_band", "40-49")  # S1 placed of S1, S2, S4
    assert forty["placement_rate_180d"] == pytest.approx(1 / 3)
    assert (forty["placement_rate_180d_low"], forty["placement_rate_180d_high"]) == pytest.approx(
        stats.wilson_interval(1, 3))
    assert forty["retention_12m"] == pytest.approx(0.5)  # S1 kept, S4 left
    skills = df[df["program_type"] == "skills"]
    assert list(zip(skills["characteristic"], skills["level"])) == [
        ("age_band", "16-29"), ("age_band", "40-49"), ("age_band", "unknown"),
        ("gender", "F"), ("gender", "M"), ("education", "senior_secondary")]


def test_outcomes_by_characteristic_suppresses_small_cells_and_their_numerators(tiny):
    con, extract = tiny
    df = figures.who_benefits.outcomes_by_characteristic(con, extract, Filters(), min_cell=3)
    unknown = cell(df, "skills", "age_band", "unknown")  # S5 alone
    assert unknown["placement_rate_180d_suppressed"]
    assert math.isnan(unknown["placement_rate_180d"]) and math.isnan(unknown["placed_180d_count"])
    assert unknown["placement_rate_180d_n"] == 1
    # the median wage of S1 and S4 rests on 2 wages: suppressed. The placement rate of 40-49 rests
    # on 3, but the skills total minus it would give the unknown band's away: hidden too, with its
    # numerator (complementary suppression).
    forty = cell(df, "skills", "age_band", "40-49")
    assert forty["median_monthly_wage_suppressed"] and math.isnan(forty["median_monthly_wage_low"])
    assert forty["placement_rate_180d_suppressed_reason"] == "complementary"
    assert math.isnan(forty["placement_rate_180d"]) and math.isnan(forty["placed_180d_count"])
    # Education has one level (all 4 followed are senior secondary): shown, flagged unreliable.
    secondary = cell(df, "skills", "education", "senior_secondary")
    assert secondary["placement_rate_180d"] == 0.5 and secondary["placement_rate_180d_unreliable"]


def test_program_gaps_by_characteristic_is_skills_minus_mindset_with_newcombe(tiny):
    con, extract = tiny
    df = figures.who_benefits.program_gaps_by_characteristic(con, extract, Filters(), min_cell=1)
    # age 40-49: skills 1 of 3 placed, mindset 2 of 3 (M1, M2 of M1, M2, M4).
    forty = gap(df, "age_band", "40-49")
    expected = stats.newcombe_difference(1, 3, 2, 3)
    assert (forty["gap"], forty["gap_low"], forty["gap_high"]) == pytest.approx(expected)
    assert forty["gap_n"] == 3
    # women: skills 2 of 3 (S1, S5 of S1, S2, S5), mindset 2 of 3: no gap.
    assert gap(df, "gender", "F")["gap"] == pytest.approx(0.0)
    # men: only skills has any, so there is nothing to compare.
    assert df[(df["characteristic"] == "gender") & (df["level"] == "M")].empty


def test_program_gaps_for_the_median_wage_combine_the_two_intervals(tiny):
    con, extract = tiny
    df = figures.who_benefits.program_gaps_by_characteristic(con, extract, Filters(), min_cell=1,
                                                measure="median_monthly_wage")
    # age 40-49: skills median of 600, 700 = 650 (interval 600-700); mindset of 500, 550 = 525.
    forty = gap(df, "age_band", "40-49")
    expected = stats.difference_from_intervals(650, 600, 700, 525, 500, 550)
    assert (forty["gap"], forty["gap_low"], forty["gap_high"]) == pytest.approx(expected)
    assert forty["gap"] == 125


def test_program_gaps_are_suppressed_with_the_smaller_programme(tiny):
    con, extract = tiny
    df = figures.who_benefits.program_gaps_by_characteristic(con, extract, Filters(), min_cell=4)
    forty = gap(df, "age_band", "40-49")
    assert forty["gap_suppressed"]
    assert math.isnan(forty["gap"]) and math.isnan(forty["skills_placement_rate_180d"])


def test_difference_from_intervals_recovers_standard_errors_from_95_percent_intervals():
    # se = 0.1 / 1.96 for each; the difference's half-width is 1.96 * sqrt(2) * 0.1 / 1.96.
    difference, low, high = stats.difference_from_intervals(0.5, 0.4, 0.6, 0.3, 0.2, 0.4)
    assert difference == pytest.approx(0.2)
    assert (low, high) == pytest.approx((0.2 - 0.1 * math.sqrt(2), 0.2 + 0.1 * math.sqrt(2)))
    assert all(math.isnan(v) for v in stats.difference_from_intervals(0.5, None, 0.6, 0.3, 0.2, 0.4))


# --------------------------------------------------------------------------- sentences


def gaps(characteristic, rows, measure="placement_rate_180d"):
    """A gaps table from (level, gap, low, high) rows, as program_gaps_by_characteristic gives."""
    return pd.DataFrame([dict(characteristic=characteristic, level=level, measure=measure, gap=g,
                              gap_low=lo, gap_high=hi) for level, g, lo, hi in rows])


def test_sentence_names_where_the_advantage_is_largest_only_when_intervals_separate():
    # skills minus mindset: mindset ahead by 10 pp at 50+, by 1 pp at 16-29, both clear.
    df = gaps("age_band", [("16-29", -0.01, -0.02, -0.001), ("50+", -0.10, -0.13, -0.07)])
    assert readouts.characteristic_sentence(df, "age_band") == (
        "By age: Mindset training's advantage in placement within 180 days of exit is largest "
        "for 50+ (+10.0 pp), clearly more than for 16-29 (+1.0 pp).")


def test_sentence_does_not_rank_levels_whose_gaps_overlap():
    df = gaps("gender", [("F", 0.03, 0.01, 0.05), ("M", 0.04, 0.02, 0.06)])
    assert readouts.characteristic_sentence(df, "gender") == (
        "By gender: Skills training does better on placement within 180 days of exit in every "
        "group; the data do not show the advantage differing between groups.")


def test_sentence_says_no_clear_difference_when_every_interval_includes_zero():
    df = gaps("education", [("primary", 0.02, -0.01, 0.05), ("tertiary", -0.03, -0.09, 0.03),
                            ("unknown", 0.3, 0.2, 0.4)])
    sentence = readouts.characteristic_sentence(df, "education")
    assert sentence.startswith("By education: no group shows a clear difference")


def test_sentence_names_both_programmes_when_each_leads_somewhere():
    df = gaps("age_band", [("16-29", -0.05, -0.08, -0.02), ("40-49", 0.04, 0.02, 0.06),
                           ("50+", 0.0, -0.05, 0.05)], measure="retention_12m")
    assert readouts.characteristic_sentence(df, "age_band") == (
        "By age: Skills training does better on keeping the first job for 12 months for 40-49, "
        "mindset training for 16-29.")


def test_sentence_speaks_of_yuan_for_the_median_wage_and_skips_suppressed_levels():
    df = gaps("gender", [("F", 40.0, 30.0, 50.0), ("M", 100.0, 90.0, 110.0),
                         ("unknown", float("nan"), float("nan"), float("nan"))],
              measure="median_monthly_wage")
    assert readouts.characteristic_sentence(df, "gender") == (
        "By gender: Skills training's advantage in the median wage of the first job is largest "
        "for Men (+100 yuan), clearly more than for Women (+40 yuan).")
    assert readouts.characteristic_sentence(df.iloc[2:], "gender") is None


def test_suppressed_cells_lists_what_the_chart_leaves_out(tiny):
    con, extract = tiny
    df = figures.who_benefits.outcomes_by_characteristic(con, extract, Filters(), min_cell=3)
    text = readouts.suppressed_cells(df, "placement_rate_180d", 3)
    assert text.startswith("Not shown (fewer than 3 people): ")
    assert "Skills training, age Not recorded (n = 1)" in text
    assert "Skills training, gender Men (n = 1)" in text
    assert readouts.suppressed_cells(figures.who_benefits.outcomes_by_characteristic(con, extract, Filters(), 1),
                                     "placement_rate_180d", 1) is None


# --------------------------------------------------------------------------- chart


def test_outcomes_by_characteristic_chart_has_one_panel_per_characteristic(tiny):
    con, extract = tiny
    df = figures.who_benefits.outcomes_by_characteristic(con, extract, Filters(), min_cell=1)
    fig = charts.outcomes_by_characteristic_chart(df, "placement_rate_180d", 1)
    assert [a.text for a in fig.layout.annotations[:3]] == ["Age", "Gender", "Education"]
    assert list(fig.layout.xaxis.categoryarray) == ["16-29", "40-49", "Not<br>recorded"]
    assert list(fig.layout.xaxis2.categoryarray) == ["Women", "Men"]
    # each programme once in the legend, filled in its colour; one trace per programme and panel.
    legend = [t for t in fig.data if t.showlegend is not False and t.legendgroup]
    assert [t.name for t in legend] == ["Skills training", "Mindset training", "No training"]
    assert [t.marker.color for t in legend] == [labels.PROGRAM_COLORS[p] for p in ("skills", "mindset", "none")]
    programs = [t for t in fig.data if t.showlegend is False]
    assert len(programs) == 3 + 3 + 3  # skills, mindset and none each have all three panels
    for trace in programs:
        assert trace.marker.line.color == labels.PROGRAM_COLORS[trace.legendgroup]
    skills_age = programs[0]
    assert list(skills_age.x) == ["16-29", "40-49", "Not<br>recorded"]
    assert skills_age.y[1] == pytest.approx(1 / 3)
    assert fig.layout.scattermode == "group"


def test_outcomes_by_characteristic_chart_leaves_out_suppressed_cells_and_says_so(tiny):
    con, extract = tiny
    df = figures.who_benefits.outcomes_by_characteristic(con, extract, Filters(), min_cell=3)
    fig = charts.outcomes_by_characteristic_chart(df, "placement_rate_180d", 3)
    skills_age, _, skills_education = [t for t in fig.data if t.showlegend is False][:3]
    assert skills_age.y[0] is None or math.isnan(skills_age.y[0])  # 16-29: S3, nobody followed
    # 40-49 (3 people) is hidden beside "not recorded" (1): complementary suppression.
    assert skills_age.y[1] is None or math.isnan(skills_age.y[1])
    # Senior secondary rests on 4 people: drawn hollow (unreliable, under 30).
    assert skills_education.marker.color[0] == "white"
    assert "not drawn: suppressed, listed below" in fig.layout.title.subtitle.text
    assert any("unreliable" in (t.name or "") for t in fig.data)


def test_outcomes_by_characteristic_chart_shows_the_wage_in_yuan(tiny):
    con, extract = tiny
    df = figures.who_benefits.outcomes_by_characteristic(con, extract, Filters(), min_cell=1)
    fig = charts.outcomes_by_characteristic_chart(df, "median_monthly_wage", 1)
    assert fig.layout.yaxis.title.text == "Median monthly wage, first job (yuan)"
    assert "order-statistic" in fig.layout.title.subtitle.text


# --------------------------------------------------------------------------- page


def page(data_dir, monkeypatch, **query):
    # AppTest applies the URL's filters to a page only from the run after switch_page.
    return run_app(data_dir, monkeypatch, PAGE, **query).run()


def test_who_benefits_renders_for_a_chinese_district_from_the_url(tiny_extract, monkeypatch):
    at = page(tiny_extract, monkeypatch, district=["北山"])
    assert not at.exception
    figure = at.get("plotly_chart")[0].proto.spec
    assert "by age band, gender and education" in plain(json.loads(figure)["layout"]["title"]["text"])
    assert "district: 北山" in at.caption[0].value


def test_who_benefits_says_no_records_match_when_filters_leave_nothing(tiny_extract, monkeypatch):
    at = page(tiny_extract, monkeypatch, district=["北山"], program=["none"])
    assert not at.exception
    assert any("No records match" in info.value for info in at.info)


def test_who_benefits_lists_suppressed_cells_when_the_threshold_is_raised(tiny_extract, monkeypatch):
    at = page(tiny_extract, monkeypatch, min_cell=3)
    captions = " ".join(c.value for c in at.caption)
    assert "Not shown (fewer than 3 people)" in captions
    assert "Skills training, age Not recorded (n = 1)" in captions


def test_who_benefits_switches_the_outcome_to_the_median_wage(tiny_extract, monkeypatch):
    at = page(tiny_extract, monkeypatch)
    # TINY's skills and mindset people share no stratum, so no adjusted gap can be compared.
    assert any("need at least 1 people in a group" in c.value for c in at.caption)
    at.radio(key="who_benefits_measure").set_value("median_monthly_wage").run()
    assert not at.exception
    # The wage gaps are raw, and each sentence says so.
    bullets = [line for md in at.markdown for line in md.value.splitlines() if line.startswith("- ")]
    assert [b.split(":")[0:2] for b in bullets] == [["- Raw, not adjusted", " by age"],
                                                  ["- Raw, not adjusted", " by gender"],
                                                  ["- Raw, not adjusted", " by education"]]
    assert "Median monthly wage, first job (yuan)" in at.get("plotly_chart")[0].proto.spec


def test_who_benefits_sentences_rest_on_the_gap_adjusted_within_the_group(tmp_path):
    # Everyone is 40-49 (born 1960, enrolled 2001). Skills enrolls mostly tertiary, mindset mostly
    # primary; within each education level mindset places more (no cell at 0% or 100%, which a
    # small group would give away):
    #   tertiary: skills 60 of 80 (75%), mindset 19 of 20 (95%)
    #   primary:  skills 1 of 20 (5%),   mindset 20 of 80 (25%)
    # Raw within 40-49: 61% - 39% = +22 pp; standardised within 40-49 to the pooled 100 + 100:
    # 40% - 60% = -20 pp. The raw sentence says skills, the adjusted one mindset.
    from conftest import write_cells_extract
    from reemploy import db

    cells = (("skills", "tertiary", 80, 60), ("skills", "primary", 20, 1),
             ("mindset", "tertiary", 20, 19), ("mindset", "primary", 80, 20))
    extract = open_extract(write_cells_extract(tmp_path / "within", cells))
    con = db.connect(extract)
    raw = figures.who_benefits.program_gaps_by_characteristic(con, extract, Filters(), 10)
    adjusted = figures.who_benefits.adjusted_gaps_by_characteristic(con, extract, Filters(), 10)
    age_raw = raw[(raw["characteristic"] == "age_band") & (raw["level"] == "40-49")].iloc[0]
    age = adjusted[(adjusted["characteristic"] == "age_band") & (adjusted["level"] == "40-49")].iloc[0]
    assert age_raw["gap"] == pytest.approx(0.22)
    assert age["gap"] == pytest.approx(-0.20)
    assert age["gap_high"] < 0
    tertiary = adjusted[(adjusted["characteristic"] == "education")
                        & (adjusted["level"] == "tertiary")].iloc[0]
    assert tertiary["gap"] == pytest.approx(-0.20)  # one stratum: adjusted = raw within it
    said_raw = readouts.characteristic_sentences(raw)
    said = readouts.characteristic_sentences(adjusted, adjusted=True)
    assert said_raw[0] == ("Raw, not adjusted: by age: Skills training does better on placement "
                           "within 180 days of exit for 40-49.")
    assert said[0] == ("Adjusted for who enrolled within the group: by age: Mindset training does "
                       "better on placement within 180 days of exit for 40-49.")
