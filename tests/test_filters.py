"""The filter set: URL parsing, SQL parameters, previous period, captions and file names."""

from __future__ import annotations

import datetime as dt

from reemploy.filters import Filters, filter_options_from, parse_query_params

OPTIONS = filter_options_from({"districts": ("Hexi", "北山"), "sectors": ("coal", "textiles")})


def test_empty_filters_bind_null_so_they_match_everything():
    assert Filters().to_params() == {
        "filters": {"districts": None, "sectors": None, "programs": None, "date_from": None,
                    "date_to": None, "genders": None, "age_bands": None, "educations": None},
        "scope": None}


def test_set_filters_bind_lists():
    params = Filters(districts=("北山",), date_from=dt.date(2001, 1, 1)).to_params()
    assert params["filters"]["districts"] == ["北山"]
    assert params["filters"]["date_from"] == dt.date(2001, 1, 1)


def test_every_filter_is_applied_by_the_one_macro_and_no_question_names_a_filter():
    # The filter set lives in one place: a field of Filters is a field of the bound STRUCT,
    # which views/filtered_outcomes.sql applies; the questions only pass $filters on.
    import re

    from reemploy.db import VIEWS_DIR, load_sql, query_names

    names = set(Filters().to_params()["filters"])
    macro = (VIEWS_DIR / "filtered_outcomes.sql").read_text(encoding="utf-8")
    assert names == set(re.findall(r"\(filters\)\.([a-z_]+)", macro))
    for name in query_names():
        if name == "query_set_counts":  # the disclosure count groups by each filter's value
            continue
        sql = load_sql(name)
        assert not any(f"${field}" in sql for field in names), name


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


def test_quick_periods_are_whole_months_observed_to_their_end():
    from reemploy.filters import quick_periods

    def periods(first, as_of):
        return [(p.label, p.date_from.isoformat(), p.date_to.isoformat())
                for p in quick_periods(dt.date.fromisoformat(first), dt.date.fromisoformat(as_of))]

    # as_of in mid-December: December is not yet a full month, so the last full quarter is Q3.
    assert periods("2001-03-05", "2002-12-15") == [
        ("Last full quarter: 2002 Q3", "2002-07-01", "2002-09-30"),
        ("Last 12 full months: to 2002-11", "2001-12-01", "2002-11-30"),
        ("2002 to 2002-12-15", "2002-01-01", "2002-12-15"),
        ("2001", "2001-01-01", "2001-12-31"),
    ]
    # as_of on the last day of a quarter: that quarter is complete.
    assert periods("2002-11-20", "2003-03-31")[:2] == [
        ("Last full quarter: 2003 Q1", "2003-01-01", "2003-03-31"),
        ("Last 12 full months: to 2003-03", "2002-04-01", "2003-03-31"),
    ]
    # A quarter that ended before the first enrollment is not offered.
    assert [label for label, _, _ in periods("2002-11-03", "2002-12-15")] == [
        "Last 12 full months: to 2002-11", "2002 to 2002-12-15"]


def test_describe_reads_labels_not_codes_in_english_and_chinese():
    from reemploy import i18n

    filters = Filters(districts=("北山",), programs=("skills", "none"), genders=("F",),
                      age_bands=("50+",), educations=("junior_secondary",),
                      date_from=dt.date(2001, 1, 1), date_to=dt.date(2001, 6, 30))
    assert filters.describe() == (
        "district: 北山; programme: Skills training, No training; gender: Women; age: 50+; "
        "education: Junior secondary; enrolled 2001-01-01 to 2001-06-30")
    assert Filters(date_from=dt.date(2001, 1, 1)).describe() == \
        "enrolled from 2001-01-01 to the data's cut-off date"
    assert Filters(date_to=dt.date(2001, 6, 30)).describe() == "enrolled up to 2001-06-30"
    assert Filters().describe() == "all enrollments"
    with i18n.using("zh"):
        assert filters.describe() == (
            "区县：北山；培训项目：技能培训、未参加培训；性别：女性；年龄：50岁及以上；"
            "文化程度：初中；2001年1月1日至2001年6月30日参训")
        assert Filters().describe() == "全部参训人次"
        assert Filters(sectors=("coal",), scope=("Tiexi",)).describe() == \
            "可查看范围：Tiexi；原行业：coal"


def test_quick_period_labels_in_chinese():
    from reemploy import i18n
    from reemploy.filters import quick_periods

    with i18n.using("zh"):
        labels = [p.label for p in quick_periods(dt.date(2001, 3, 5), dt.date(2002, 12, 15))]
    assert labels == ["最近一个完整季度：2002年第3季度", "最近12个完整月：截至2002年11月",
                      "2002年（截至2002年12月15日）", "2001年"]
