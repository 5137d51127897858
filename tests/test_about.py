"""About the numbers: every metric shown has a definition, and the page shows them and the extract."""

from __future__ import annotations

import pytest

from reemploy import definitions, figures, ui
from reemploy.extracts import MIN_CELL_ENV_VAR
from reemploy import summary as summary_document
from reemploy.labels import PROGRAM_COLORS
from reemploy.db import query_names

from conftest import run_app

PAGE = "pages/about.py"


def test_every_summary_metric_has_a_definition():
    missing = [m for m in summary_document.SUMMARY_METRICS if m not in definitions.METRICS]
    assert missing == []


@pytest.mark.parametrize("measures", [
    [column for column, *_ in ui.KPI_METRICS],
    list(figures.trends.COHORT_MEASURES),
    list(figures.who_benefits.CHARACTERISTIC_MEASURES),
], ids=["headline cards", "trends", "who benefits"])
def test_every_measure_a_page_offers_has_a_definition(measures):
    assert [m for m in measures if m not in definitions.METRICS] == []


def test_every_definition_names_a_denominator_and_existing_queries():
    for key, d in definitions.METRICS.items():
        assert d.label and d.definition and d.denominator, key
        assert d.unit in {"rate", "days", "yuan", "ratio", "count"}, key
        assert set(d.queries) <= set(query_names()), key


def test_the_suppression_rule_quotes_the_threshold_the_code_uses():
    rule = definitions.METHODS["suppression"]
    assert f"default {figures.common.DEFAULT_MIN_CELL}" in rule.text
    # The setting's name is for analysts, in its own note, never in the rule people read.
    assert MIN_CELL_ENV_VAR not in rule.text and MIN_CELL_ENV_VAR in rule.analysts
    assert MIN_CELL_ENV_VAR in definitions.method_markdown("suppression").split("\n\n", 1)[1]
    assert str(figures.common.UNRELIABLE_BELOW) in definitions.METHODS["unreliable"].label


def test_an_unknown_metric_says_where_to_define_it():
    with pytest.raises(KeyError, match="definitions.py"):
        definitions.definition("happiness")


def test_metric_markdown_has_definition_denominator_caveats_and_sql():
    text = definitions.metric_markdown("median_days_to_placement")
    assert text.startswith("**Median days to first job.** Kaplan-Meier")
    assert "*Denominator:*" in text and "censored" in text
    assert "- Never an average over the people already placed" in text
    assert "`queries/time_to_placement.sql`" in text


def page(data_dir, monkeypatch, **query):
    # AppTest applies the URL's filters to a page only from the run after switch_page.
    return run_app(data_dir, monkeypatch, PAGE, **query).run()


def test_about_shows_the_extract_profile_and_every_definition(tiny_extract, monkeypatch):
    at = page(tiny_extract, monkeypatch, district=["北山"])
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    # TINY: 10 enrollments of 10 people, 8 job starts.
    assert shown == {"Data as of": "2002-12-31", "Enrollments": "10", "People": "10",
                     "Job starts": "8"}
    text = " ".join(md.value for md in at.markdown)
    for d in definitions.METRICS.values():
        assert f"**{d.label}.**" in text
    for method in definitions.METHODS.values():
        assert method.label in text
    for color in PROGRAM_COLORS.values():
        assert color in text
    captions = " ".join(c.value for c in at.caption)
    assert "Enrollments from 2000-06-01 to 2002-10-01" in captions
    assert "district: 北山) select 3 enrollments" in captions


def test_about_keeps_the_definitions_when_filters_leave_nothing(tiny_extract, monkeypatch):
    at = page(tiny_extract, monkeypatch, district=["北山"], program=["none"])
    assert not at.exception
    assert any("No records match" in info.value for info in at.info)
    assert any("**Placed within 180 days of exit.**" in md.value for md in at.markdown)


def test_about_states_the_threshold_in_force(tiny_extract, monkeypatch):
    at = page(tiny_extract, monkeypatch, min_cell=25)
    captions = " ".join(c.value for c in at.caption)
    assert ("Suppression threshold in this app now: 25 people (the default is 10; for the operator: "
            "set by `REEMPLOY_MIN_CELL`)") in captions
