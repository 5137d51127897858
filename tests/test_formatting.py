"""Numbers as people read them: one interval format, changes without a sign when there is none,
in English and Simplified Chinese (reemploy.formatting)."""

from __future__ import annotations

import math

import pytest

from reemploy import formatting as fmt
from reemploy import i18n


def test_one_interval_format_for_rates_and_differences():
    assert fmt.interval(0.258, 0.286) == "95% CI 25.8–28.6%"
    assert fmt.interval(-0.026, 0.013, kind="difference") == "95% CI -2.6 to +1.3 pp"
    assert fmt.interval(-12.4, 3.2, kind="days") == "95% CI -12 to +3 days"
    assert fmt.interval(-120, 40, kind="yuan") == "95% CI -120 to +40 yuan"
    assert fmt.interval(1200, 1400, kind="yuan_level") == "95% CI 1,200–1,400 yuan"
    assert fmt.interval(0.1, math.nan) == "" and fmt.interval(None, 0.2) == ""
    assert fmt.with_interval("27.1%", fmt.interval(0.258, 0.286)) == "27.1% (95% CI 25.8–28.6%)"
    assert fmt.with_interval("27.1%", "") == "27.1%"
    with i18n.using("zh"):
        assert fmt.interval(0.258, 0.286) == "95%置信区间 25.8%–28.6%"
        assert fmt.interval(-0.026, 0.013, kind="difference") == "95%置信区间 -2.6至+1.3个百分点"
        assert fmt.with_interval("27.1%", fmt.interval(0.258, 0.286)) == \
            "27.1%（95%置信区间 25.8%–28.6%）"


@pytest.mark.parametrize("current, previous, text, unchanged", [
    (0.5, 0.5, "0.0 pp", True),
    (0.5004, 0.5, "0.0 pp", True),   # rounds to zero: no sign, no "-0.0"
    (0.4996, 0.5, "0.0 pp", True),
    (0.515, 0.5, "+1.5 pp", False),
    (0.47, 0.5, "-3.0 pp", False),
])
def test_a_change_of_zero_has_no_sign(current, previous, text, unchanged):
    assert fmt.change(current, previous) == text
    assert fmt.unchanged(current, previous) is unchanged


def test_changes_in_days_and_yuan_and_missing_values():
    assert fmt.change(120, 120, "number", "days") == "0 days"
    assert fmt.change(130, 120, "number", "days") == "+10 days"
    assert fmt.change(None, 120, "number", "days") is None
    assert fmt.unchanged(100.4, 100, "number")
    with i18n.using("zh"):
        assert fmt.change(130, 120, "number", "days") == "+10天"
        assert fmt.change(0.515, 0.5) == "+1.5个百分点"
        assert fmt.number(1234, unit="yuan") == "1,234元"


def test_suppressed_and_n_texts():
    assert fmt.suppressed_text(10) == "suppressed (n < 10)"
    assert fmt.n_text(1234) == "n\u00a0=\u00a01,234"  # never wraps between "n =" and the number
    assert fmt.n_text(None) == ""
    with i18n.using("zh"):
        assert fmt.suppressed_text(10) == "已隐去（人数少于10）"
