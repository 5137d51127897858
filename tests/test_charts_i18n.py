"""The charts in Chinese: labels from the catalogue, never the codes of the data (issue 16)."""

from __future__ import annotations

import json
import re

import plotly.io as pio

from reemploy import charts, figures, i18n
from reemploy.filters import Filters

# Codes that must not reach a chart: education and employer codes, gender letters as a level,
# column names.
CODES = re.compile(r"junior_secondary|senior_secondary|state_owned|foreign_funded|self_employed|"
                   r"public_works|placement_rate|std_diff|: [FM]\b|\bas_of\b")
CJK = re.compile(r"[\u4e00-\u9fff]")


def compare_page_charts(con, extract):
    """The charts of the Compare programmes page, drawn from the tiny extract."""
    f, cell = Filters(), 1
    load = lambda question, **options: question(con, extract, f, cell, **options)  # noqa: E731
    compare, headline = figures.compare, figures.headline
    return {
        "curve": charts.reemployment_curve_chart(load(compare.reemployment_curves),
                                                 load(compare.reemployment_logrank), cell),
        "horizon": charts.placement_horizon_chart(load(compare.placement_rate_by_program_and_horizon), cell),
        "difference": charts.placement_difference_chart(load(compare.placement_difference_by_horizon), cell),
        "wage": charts.wage_chart(load(headline.headline_by_program), cell),
        "mix": charts.employer_mix_chart(load(compare.employer_mix_by_program), cell),
        "balance": charts.balance_chart(load(compare.covariate_balance), cell),
    }


def test_the_compare_charts_in_chinese_show_labels_not_codes(tiny):
    con, extract = tiny
    with i18n.using("zh"):
        drawn = {name: pio.to_json(fig) for name, fig in compare_page_charts(con, extract).items()}
    for name, spec in drawn.items():
        text = json.loads(spec)
        assert not CODES.search(json.dumps(text["layout"], ensure_ascii=False)), name
        assert not CODES.search(json.dumps(text["data"], ensure_ascii=False)), name
    balance = json.loads(drawn["balance"])["data"][0]["y"]
    # "Education: Senior secondary" / "Gender: Women" as the catalogue writes them
    assert "文化程度：高中" in balance and "性别：女性" in balance
    mix = {trace["name"] for trace in json.loads(drawn["mix"])["data"]}
    assert {"国有", "私营", "自谋职业"} & mix


def test_the_balance_chart_in_english_reads_labels_too(tiny):
    con, extract = tiny
    fig = charts.balance_chart(figures.compare.covariate_balance(con, extract, Filters(), 1), 1)
    assert "Education: Senior secondary" in fig.data[0].y and "Gender: Women" in fig.data[0].y
    assert not CODES.search(pio.to_json(fig))
