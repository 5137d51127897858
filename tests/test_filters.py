"""The filter set: URL parsing, SQL parameters, previous period, captions and file names."""

from __future__ import annotations

import datetime as dt

from reemploy.filters import Filters, filter_options_from, parse_query_params

OPTIONS = filter_options_from({"districts": ("Hexi", "北山"), "sectors": ("coal", "textiles")})


def test_empty_filters_bind_null_so_they_match_everything():
    params = Filters().to_params()
    assert params["districts"] is None and params["date_from"] is None


def test_set_filters_bind_lists():
    assert Filters(districts=("北山",)).to_params()["districts"] == ["北山"]


def test_parse_keeps_known_values_in_catalogue_order_and_names_unknown_ones():
    parsed = parse_query_params({"district": ["北山", "Atlantis", "Hexi", "北山"]}, OPTIONS)
    assert parsed.filters.districts == ("Hexi", "北山")
    assert len(parsed.notices) == 1 and "Atlantis" in parsed.notices[0]


def test_parse_names_unknown_parameters():
    parsed = parse_query_params({"colour": ["red"]}, OPTIONS)
    assert parsed.filters == Filters()
    assert "colour" in parsed.notices[0]


def test_parse_ignores_invalid_and_reversed_dates_with_a_notice():
    parsed = parse_query_params({"from": ["2001-13-45"]}, OPTIONS)
    assert parsed.filters.date_from is None and "2001-13-45" in parsed.notices[0]
    parsed = parse_query_params({"from": ["2002-01-01"], "to": ["2001-01-01"]}, OPTIONS)
    assert parsed.filters.date_from is None and parsed.filters.date_to is None
    assert "after" in parsed.notices[0]


def test_parse_treats_sql_text_as_an_unknown_value():
    parsed = parse_query_params({"district": ["Hexi' OR 1=1 --"]}, OPTIONS)
    assert parsed.filters.districts == ()
    assert parsed.notices


def test_parse_shortens_very_long_values_and_strips_control_characters():
    parsed = parse_query_params({"district": ["x\x00\x1b" * 1000]}, OPTIONS)
    assert len(parsed.notices[0]) < 120 and "\x00" not in parsed.notices[0]


def test_previous_period_has_equal_length_and_ends_the_day_before_the_period():
    filters = Filters(date_from=dt.date(2001, 1, 1), date_to=dt.date(2001, 12, 31))
    previous = filters.previous_period()
    # whole months: the same months before, leap day or not
    assert (previous.date_from, previous.date_to) == (dt.date(2000, 1, 1), dt.date(2000, 12, 31))
    quarter = Filters(date_from=dt.date(2001, 1, 1), date_to=dt.date(2001, 3, 31)).previous_period()
    assert (quarter.date_from, quarter.date_to) == (dt.date(2000, 10, 1), dt.date(2000, 12, 31))
    # other periods: the same number of days just before (10 days here)
    days = Filters(date_from=dt.date(2001, 3, 5), date_to=dt.date(2001, 3, 14)).previous_period()
    assert (days.date_from, days.date_to) == (dt.date(2001, 2, 23), dt.date(2001, 3, 4))
    assert Filters().previous_period() is None


def test_query_params_round_trip():
    filters = Filters(districts=("北山",), programs=("skills", "mindset"), date_from=dt.date(2001, 1, 1))
    assert parse_query_params(filters.to_query_params(), OPTIONS).filters == Filters(
        districts=("北山",), programs=("skills", "mindset"), date_from=dt.date(2001, 1, 1))


def test_describe_and_slug_say_what_is_filtered():
    filters = Filters(districts=("北山",), date_from=dt.date(2001, 1, 1), date_to=dt.date(2001, 6, 30))
    assert filters.describe() == "district: 北山; enrolled 2001-01-01 to 2001-06-30"
    assert filters.slug() == "district-北山_from-2001-01-01_to-2001-06-30"
    assert Filters().slug() == "all"
    assert "/" not in Filters(sectors=("a/b",)).slug()


def test_parse_ignores_dates_outside_the_data_with_a_notice():
    span = (dt.date(1998, 1, 1), dt.date(2002, 12, 31))
    parsed = parse_query_params({"from": ["1990-01-01"], "to": ["2001-01-01"]}, OPTIONS, span)
    assert parsed.filters.date_from is None and parsed.filters.date_to == dt.date(2001, 1, 1)
    assert "1990-01-01" in parsed.notices[0]
