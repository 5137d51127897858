"""`python -m reemploy summary` and summary.summary on the hand-worked tiny extract."""

from __future__ import annotations

import json

import pytest

from reemploy import figures
from reemploy import summary as summary_document
from reemploy.cli import main
from reemploy.db import connect
from reemploy.extracts import open_extract
from reemploy.filters import Filters


def run_summary(capsys, *args) -> dict:
    assert main(["summary", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_summary_reports_the_hand_worked_figures(tiny_extract, capsys):
    doc = run_summary(capsys, "--data", str(tiny_extract), "--min-cell", "1")
    assert doc["as_of"] == "2002-12-31"
    assert doc["suppression_threshold"] == 1
    skills, mindset = doc["programs"]["skills"], doc["programs"]["mindset"]
    assert skills["enrolled"] == 5
    assert skills["completion_rate"] == pytest.approx(0.75)
    assert skills["placement_rate_180d"] == pytest.approx(0.5)
    # Wilson 95% for 2 of 4: (0.1500, 0.8500) by hand.
    assert skills["placement_rate_180d_ci"] == pytest.approx([0.15004, 0.84996], abs=1e-4)
    # Kaplan-Meier: 61 E, 91 C, 120 E, 303 E, 729 C -> S = .8, .533, .267: median 303.
    assert skills["median_days_to_placement"] == 303
    assert skills["retention_12m"] == pytest.approx(2 / 3)
    assert skills["median_monthly_wage"] == 650.0
    assert skills["cost_per_placement"] == pytest.approx(1650.0)
    # mindset: tie of two jobs at day 22 among 4 -> S(22) = 0.5: median 22.
    assert mindset["median_days_to_placement"] == 22
    assert mindset["placement_rate_180d"] == pytest.approx(2 / 3)
    assert mindset["retention_12m"] is None  # no first job old enough: denominator 0
    assert list(doc["programs"]) == ["skills", "mindset", "none"]


def test_summary_suppresses_every_rate_below_the_default_threshold(tiny_extract, capsys):
    doc = run_summary(capsys, "--data", str(tiny_extract))
    assert doc["suppression_threshold"] == 10
    for values in doc["programs"].values():
        for metric in summary_document.SUMMARY_METRICS:
            assert values[metric] is None, metric
        assert values["placement_rate_180d_ci"] is None
        assert values["enrolled"] > 0


def test_summary_suppression_boundary_is_denominator_below_threshold(tiny_extract, capsys):
    # skills placement denominator is 4: shown at --min-cell 4, suppressed at 5.
    shown = run_summary(capsys, "--data", str(tiny_extract), "--min-cell", "4")
    hidden = run_summary(capsys, "--data", str(tiny_extract), "--min-cell", "5")
    assert shown["programs"]["skills"]["placement_rate_180d"] == pytest.approx(0.5)
    assert hidden["programs"]["skills"]["placement_rate_180d"] is None


def test_summary_filters_by_district_sector_and_period(tiny_extract, capsys):
    doc = run_summary(capsys, "--data", str(tiny_extract), "--district", "北山", "--sector", "coal",
                      "--min-cell", "1")
    assert list(doc["programs"]) == ["skills"]
    assert doc["filters"]["districts"] == ["北山"]
    doc = run_summary(capsys, "--data", str(tiny_extract), "--from", "2002-01-01",
                      "--to", "2002-12-31", "--min-cell", "1")
    assert doc["programs"]["skills"]["enrolled"] == 1
    assert doc["programs"]["mindset"]["enrolled"] == 4


def test_summary_csv_has_one_row_per_programme(tiny_extract, capsys):
    assert main(["summary", "--data", str(tiny_extract), "--format", "csv", "--min-cell", "1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("as_of,program_type,enrolled")
    assert [line.split(",")[1] for line in lines[1:]] == ["skills", "mindset", "none"]


def test_summary_on_a_missing_extract_says_how_to_fix_it(tmp_path, capsys):
    assert main(["summary", "--data", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "python -m reemploy generate" in err


def test_summary_rejects_a_reversed_period(tiny_extract):
    with pytest.raises(SystemExit):
        main(["summary", "--data", str(tiny_extract), "--from", "2002-01-01", "--to", "2001-01-01"])


def test_metrics_summary_equals_headline_figures(tiny_extract):
    extract = open_extract(tiny_extract)
    con = connect(extract)
    df = figures.headline.headline_by_program(con, extract, Filters(), min_cell=1)
    doc = summary_document.summary(con, extract, Filters(), min_cell=1)
    for row in df.to_dict("records"):
        assert doc["programs"][row["program_type"]]["placement_rate_180d"] == pytest.approx(
            row["placement_rate_180d"])


def test_order_programs_puts_the_catalogue_order_first_and_keeps_ties_stable():
    import pandas as pd

    df = pd.DataFrame({"program_type": ["none", "other", "mindset", None, "skills", "mindset"],
                       "row": [0, 1, 2, 3, 4, 5]})
    got = figures.common.order_programs(df)
    # skills, mindset (rows 2 then 5: stable), none; then unknown values and missing ones in
    # their original order
    assert got["row"].tolist() == [4, 2, 5, 0, 1, 3]
    assert figures.common.order_programs(df.head(0)).empty


def test_summary_with_a_district_the_extract_does_not_hold_says_so_and_fails(tiny_extract, capsys):
    # Issue 13: it printed the figures of nothing, with exit status 0.
    assert main(["summary", "--data", str(tiny_extract), "--district", "Nowhere",
                 "--sector", "coal"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error: --district 'Nowhere' is not in the extract; it has: Hexi, 北山\n"
