"""Tests for reemploy.stats: hand-worked values and independent statsmodels computations."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.survfunc import SurvfuncRight, survdiff
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from reemploy.stats import (
    adjusted_difference,
    balance_table,
    kaplan_meier,
    km_median_days,
    logrank_test,
    newcombe_difference,
    newcombe_differences,
    suppress,
    wilson_interval,
)

Z95 = 1.959963984540054


# --------------------------------------------------------------------------- Wilson


def test_wilson_interval_matches_hand_computed_value_for_3_of_10():
    # p = 0.3, z^2/n = 0.38415; centre = (0.3 + 0.19207) / 1.38415 = 0.35551;
    # half = 1.95996 * sqrt(0.3*0.7/10 + 1.95996^2/400) / 1.38415 = 0.24771.
    low, high = wilson_interval(3, 10)
    assert isinstance(low, float) and isinstance(high, float)
    assert low == pytest.approx(0.1078, abs=5e-5)
    assert high == pytest.approx(0.6032, abs=5e-5)


def test_wilson_interval_is_vectorised_over_series_and_nan_for_zero_n_without_warnings():
    x = pd.Series([3, 0, 7, 0, 5], dtype="Int64")
    n = pd.Series([10, 0, 7, 4, pd.NA], dtype="Int64")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        low, high = wilson_interval(x, n)
    assert isinstance(low, np.ndarray) and low.dtype == float and low.shape == (5,)
    exp_low, exp_high = proportion_confint(np.array([3, 7, 0]), np.array([10, 7, 4]), method="wilson")
    np.testing.assert_allclose(low[[0, 2, 3]], exp_low)
    np.testing.assert_allclose(high[[0, 2, 3]], exp_high)
    assert np.isnan(low[[1, 4]]).all() and np.isnan(high[[1, 4]]).all()


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.01])
def test_wilson_interval_equals_statsmodels_over_many_counts(alpha):
    # The closed form in reemploy.stats against statsmodels' own, from 1 to 10 million trials,
    # the edges 0 and n included.
    rng = np.random.default_rng(7)
    n = np.concatenate([rng.integers(1, 10**7, 2000), [1, 1, 2, 10, 10]])
    x = np.concatenate([np.minimum((rng.random(2000) * (n[:2000] + 1)).astype(int), n[:2000]),
                        [0, 1, 1, 0, 10]])
    low, high = wilson_interval(x, n, alpha=alpha)
    exp_low, exp_high = proportion_confint(x, n, alpha=alpha, method="wilson")
    np.testing.assert_allclose(low, exp_low, rtol=0, atol=1e-12)
    np.testing.assert_allclose(high, exp_high, rtol=0, atol=1e-12)


def test_wilson_interval_for_scalar_zero_n_is_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        low, high = wilson_interval(0, 0)
    assert np.isnan(low) and np.isnan(high)


def test_wilson_interval_rejects_more_successes_than_trials():
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


# --------------------------------------------------------------------------- Newcombe


@pytest.mark.parametrize(
    "x1, n1, x2, n2, diff, low, high",
    [
        # Newcombe (1998) Stat Med 17:873-890, Table II, method 10.
        (56, 70, 48, 80, 0.2, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.6, 0.1705, 0.8090),
        (5, 56, 0, 29, 5 / 56, -0.0381, 0.1926),
    ],
)
def test_newcombe_difference_matches_newcombe_1998_table_ii_method_10(x1, n1, x2, n2, diff, low, high):
    d, lo, hi = newcombe_difference(x1, n1, x2, n2)
    assert d == pytest.approx(diff)
    assert lo == pytest.approx(low, abs=5e-5)
    assert hi == pytest.approx(high, abs=5e-5)


@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_newcombe_difference_equals_statsmodels_over_many_pairs(alpha):
    # The closed form in reemploy.stats against statsmodels' confint_proportions_2indep
    # ("newcomb", "diff"), edges 0 and n included.
    rng = np.random.default_rng(11)
    n = rng.integers(1, 100_000, size=(300, 2))
    x = np.minimum((rng.random((300, 2)) * (n + 1)).astype(int), n)
    pairs = [*zip(x[:, 0], n[:, 0], x[:, 1], n[:, 1]), (0, 5, 5, 5), (5, 5, 0, 5), (1, 1, 0, 1)]
    for x1, n1, x2, n2 in pairs:
        d, low, high = newcombe_difference(x1, n1, x2, n2, alpha=alpha)
        exp_low, exp_high = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb",
                                                       compare="diff", alpha=alpha)
        assert d == pytest.approx(x1 / n1 - x2 / n2, abs=1e-15)
        assert (low, high) == pytest.approx((exp_low, exp_high), abs=1e-12)


def test_newcombe_difference_is_nan_when_either_denominator_is_zero():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(newcombe_difference(3, 10, 0, 0)).all()
        assert np.isnan(newcombe_difference(0, 0, 3, 10)).all()


def test_newcombe_differences_give_each_pair_what_the_one_pair_form_gives():
    # The one-pair form is checked against statsmodels above; this checks that many pairs at
    # once stay aligned and that a 0 or missing denominator gives NaN for that pair only.
    rng = np.random.default_rng(5)
    n = rng.integers(0, 500, size=(200, 2)).astype(float)
    x = np.minimum((rng.random((200, 2)) * (n + 1)).astype(int), n)
    n[::17, 0] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = np.column_stack(newcombe_differences(x[:, 0], n[:, 0], x[:, 1], n[:, 1]))
    expected = np.array([newcombe_difference(*pair) for pair in zip(x[:, 0], n[:, 0], x[:, 1], n[:, 1])])
    assert np.isnan(expected).any(axis=1).sum() > 10 and np.isfinite(expected).all(axis=1).sum() > 150
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-15, equal_nan=True)


# --------------------------------------------------------------------------- Kaplan-Meier

# Hand-worked fixture: 10 people; "+" marks censoring.
#   day:       1    2    2    3   3+    4    5   5+   6+    8
#   day  at risk  events  censored  S(t)                       Greenwood sum d/(n(n-d))
#   1    10       1       0         9/10        = 0.90         1/90
#   2     9       2       0         0.9 * 7/9   = 0.70         + 2/63
#   3     7       1       1         0.7 * 6/7   = 0.60         + 1/42 = 1/15
#   4     5       1       0         0.6 * 4/5   = 0.48         + 1/20 = 7/60
#   5     4       1       1         0.48 * 3/4  = 0.36         + 1/12 = 1/5
#   6     2       0       1         0.36                       1/5
#   8     1       1       0         0                          n == d: undefined
# The censoring on days 3 and 5 counts in the risk set of that day's event.
# SE(3) = 0.6 * sqrt(1/15) = 0.154919; SE(4) = 0.48 * sqrt(7/60) = 0.163951;
# SE(5) = 0.36 * sqrt(1/5) = 0.160997.
# log-log band at day 3: se_g = 0.154919 / (0.6 * |ln 0.6|) = 0.505454;
# exp(1.959964 * 0.505454) = 2.693043; low = 0.6 ** 2.693043 = 0.252669,
# high = 0.6 ** (1 / 2.693043) = 0.827221.
HAND_DAYS = [1, 2, 3, 4, 5, 6, 8]
HAND_EVENTS = [1, 2, 1, 1, 1, 0, 1]
HAND_CENSORED = [0, 0, 1, 0, 1, 1, 0]


def _expand(days, events, censored):
    """One row per person, for statsmodels (tests only)."""
    days, events, censored = map(np.asarray, (days, events, censored))
    time = np.concatenate([np.repeat(days, events), np.repeat(days, censored)])
    status = np.concatenate([np.ones(events.sum()), np.zeros(censored.sum())])
    return time, status


def _greenwood_se(km):
    """Greenwood SE recovered from the band, by inverting the log-log transform."""
    s = km["survival"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):  # S = 0 rows have no SE
        return np.log(np.log(km["survival_low"].to_numpy()) / np.log(s)) / Z95 * s * np.abs(np.log(s))


def test_kaplan_meier_matches_hand_calculation_with_ties_and_censoring_at_event_times():
    km = kaplan_meier(HAND_DAYS, HAND_EVENTS, HAND_CENSORED)
    assert list(km.columns) == ["day", "at_risk", "events", "censored", "survival",
                                "survival_low", "survival_high"]
    assert km["day"].tolist() == HAND_DAYS
    assert km["at_risk"].tolist() == [10, 9, 7, 5, 4, 2, 1]
    np.testing.assert_allclose(km["survival"], [0.9, 0.7, 0.6, 0.48, 0.36, 0.36, 0.0])
    np.testing.assert_allclose(_greenwood_se(km)[2:5], [0.154919, 0.163951, 0.160997], atol=1e-6)
    assert km.loc[2, "survival_low"] == pytest.approx(0.252669, abs=1e-6)
    assert km.loc[2, "survival_high"] == pytest.approx(0.827221, abs=1e-6)
    assert np.isnan(km.loc[6, "survival_low"]) and np.isnan(km.loc[6, "survival_high"])


def test_kaplan_meier_sums_repeated_days_and_sorts_them():
    km = kaplan_meier([3, 1, 3, 2], [1, 1, 0, 1], [0, 0, 1, 0])
    assert km["day"].tolist() == [1, 2, 3]
    assert km["events"].tolist() == [1, 1, 1]
    assert km["censored"].tolist() == [0, 0, 1]
    assert km["at_risk"].tolist() == [4, 3, 2]


def test_kaplan_meier_band_is_one_before_the_first_event():
    km = kaplan_meier([0, 1, 2], [0, 1, 0], [2, 0, 3])
    assert km.loc[0, "survival"] == 1.0
    assert km.loc[0, "survival_low"] == 1.0 and km.loc[0, "survival_high"] == 1.0


def _random_aggregate(rng, n_days=40, scale=6):
    days = np.sort(rng.choice(np.arange(0, 120), size=n_days, replace=False))
    events = rng.poisson(scale, size=n_days)
    censored = rng.poisson(scale / 2, size=n_days)
    return days, events, censored


def test_kaplan_meier_survival_and_at_risk_equal_statsmodels_with_freq_weights():
    rng = np.random.default_rng(1)
    days, events, censored = _random_aggregate(rng)
    km = kaplan_meier(days, events, censored)
    # statsmodels accepts the aggregated rows directly as frequency weights.
    time = np.concatenate([days, days])
    status = np.concatenate([np.ones(len(days)), np.zeros(len(days))])
    sf = SurvfuncRight(time, status, freq_weights=np.concatenate([events, censored]))
    ev_rows = km[km["events"] > 0]
    np.testing.assert_allclose(ev_rows["day"], sf.surv_times)
    np.testing.assert_allclose(ev_rows["survival"], sf.surv_prob, rtol=1e-12)
    np.testing.assert_allclose(ev_rows["at_risk"], sf.n_risk)
    np.testing.assert_allclose(ev_rows["events"], sf.n_events)


def test_kaplan_meier_greenwood_se_equals_statsmodels_on_expanded_data():
    # With freq_weights statsmodels switches to Tsiatis' variance, so the Greenwood SE is
    # checked against the unweighted (one row per person) fit.
    rng = np.random.default_rng(2)
    days, events, censored = _random_aggregate(rng)
    km = kaplan_meier(days, events, censored)
    sf = SurvfuncRight(*_expand(days, events, censored))
    ev_rows = km[km["events"] > 0]
    np.testing.assert_allclose(ev_rows["survival"], sf.surv_prob, rtol=1e-12)
    np.testing.assert_allclose(_greenwood_se(ev_rows), sf.surv_prob_se, rtol=1e-9)


def test_kaplan_meier_band_agrees_with_statsmodels_cloglog_quantile_ci():
    # statsmodels exposes no pointwise band, but quantile_ci(p, method="cloglog") returns the
    # first and one-past-last event time whose log(-log) Z-test does not reject S(t) = 1 - p,
    # i.e. where 1 - p lies inside our band.
    rng = np.random.default_rng(3)
    days, events, censored = _random_aggregate(rng, scale=3)
    km = kaplan_meier(days, events, censored)
    sf = SurvfuncRight(*_expand(days, events, censored))
    ev_rows = km[km["events"] > 0].reset_index(drop=True)
    for p in (0.25, 0.5, 0.6):
        inside = np.flatnonzero((ev_rows["survival_low"] <= 1 - p) & (1 - p <= ev_rows["survival_high"]))
        lb, ub = sf.quantile_ci(p, method="cloglog")
        assert lb == ev_rows.loc[inside[0], "day"]
        expected_ub = np.inf if inside[-1] == len(ev_rows) - 1 else ev_rows.loc[inside[-1] + 1, "day"]
        assert ub == expected_ub


def test_kaplan_meier_handles_millions_of_people_without_expanding_rows():
    days = np.arange(0, 3000)
    events = np.full(days.size, 2_000)
    censored = np.full(days.size, 1_000)
    km = kaplan_meier(days, events, censored)
    assert km["at_risk"].iloc[0] == 9_000_000
    assert km["survival"].is_monotonic_decreasing


def test_kaplan_meier_of_empty_input_has_the_columns_and_no_rows():
    km = kaplan_meier([], [], [])
    assert km.empty and "survival_high" in km.columns


def test_km_median_is_first_day_at_or_below_one_half():
    assert km_median_days(HAND_DAYS, HAND_EVENTS, HAND_CENSORED) == 4.0  # S(3) = 0.60, S(4) = 0.48


def test_km_median_counts_a_curve_exactly_at_one_half():
    # S = 3/4, 1/2, 1/4: the median is day 2 (statsmodels' quantile, strict <, would say 3).
    assert km_median_days([1, 2, 3, 4], [1, 1, 1, 1], [0, 0, 0, 0]) == 2.0


def test_km_median_is_none_when_survival_never_reaches_one_half():
    assert km_median_days([1, 2], [1, 1], [5, 3]) is None


@pytest.mark.parametrize("days, events, censored", [
    (HAND_DAYS, HAND_EVENTS, HAND_CENSORED),
    ([1, 2, 3, 4], [1, 1, 1, 1], [0, 0, 0, 0]),
    ([1, 2], [1, 1], [5, 3]),
    ([5, 1, 5, 3], [2, 0, 1, 4], [0, 3, 1, 0]),  # unsorted, a day repeated
    ([], [], []),
])
def test_km_median_days_is_where_the_full_curve_first_reaches_one_half(days, events, censored):
    km = kaplan_meier(days, events, censored)
    reached = km.loc[km["survival"] <= 0.5, "day"]
    assert km_median_days(days, events, censored) == (None if reached.empty else reached.min())


def _exact_km_median(times, placed):
    """Independent oracle: the product-limit curve in Fractions from one row per person (time,
    placed or censored), and the first event day where it is at or below 1/2."""
    from fractions import Fraction

    survival = Fraction(1)
    for day in sorted(set(times)):
        at_risk = sum(1 for t in times if t >= day)
        events = sum(1 for t, e in zip(times, placed) if t == day and e)
        if events:
            survival *= 1 - Fraction(events, at_risk)
            if survival <= Fraction(1, 2):
                return float(day)
    return None


def _as_counts(times, placed):
    frame = pd.DataFrame({"day": times, "events": np.asarray(placed, dtype=int)})
    frame["censored"] = 1 - frame["events"]
    counts = frame.groupby("day", as_index=False)[["events", "censored"]].sum()
    return counts["day"].to_numpy(), counts["events"].to_numpy(), counts["censored"].to_numpy()


@pytest.mark.parametrize("n", [24, 28, 30, 38])
def test_km_median_is_the_day_the_curve_lands_exactly_on_one_half(n):
    # Half of n placed one a day on days 1..n/2, nobody censored before: S(n/2) = 1/2 exactly,
    # while the floating-point running product of (1 - 1/k) lands just above it.
    times = list(range(1, n // 2 + 1)) + [1000] * (n // 2)
    placed = [True] * (n // 2) + [False] * (n // 2)
    days, events, censored = _as_counts(times, placed)
    float_survival = np.cumprod(1 - events / np.cumsum((events + censored)[::-1])[::-1])
    assert _exact_km_median(times, placed) == n // 2
    assert km_median_days(days, events, censored) == n // 2
    if n == 30:  # the case the issue found: the float product misses the half
        assert float_survival[n // 2 - 1] > 0.5


def test_km_median_with_ties_and_censoring_on_the_crossing_day():
    # 30 people: one placed a day on days 1..12, then on day 13 three placed and two censored
    # (censored on the day still count as at risk for its events): S(13) = 15/30 = 1/2 exactly.
    times = list(range(1, 13)) + [13] * 5 + [900] * 13
    placed = [True] * 12 + [True, True, True, False, False] + [False] * 13
    days, events, censored = _as_counts(times, placed)
    assert _exact_km_median(times, placed) == 13.0
    assert km_median_days(days, events, censored) == 13.0


def test_km_median_after_censoring_before_the_crossing():
    # 38 people, 6 censored on day 2 before any event: then 16 placed one a day on days 3..18
    # among 32 at risk, S(18) = 16/32 = 1/2 exactly.
    times = [2] * 6 + list(range(3, 19)) + [800] * 16
    placed = [False] * 6 + [True] * 16 + [False] * 16
    days, events, censored = _as_counts(times, placed)
    assert _exact_km_median(times, placed) == 18.0
    assert km_median_days(days, events, censored) == 18.0


@pytest.mark.parametrize("seed", range(300))
def test_km_median_agrees_with_exact_arithmetic_on_random_small_groups(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.choice([24, 28, 30, 38]))
    times = rng.integers(1, 12, n).tolist()  # few distinct days: ties and exact halves are common
    placed = (rng.random(n) < 0.7).tolist()
    days, events, censored = _as_counts(times, placed)
    assert km_median_days(days, events, censored) == _exact_km_median(times, placed)


def test_km_median_exact_half_with_fractional_counts():
    # Weighted counts (not integers) take the Fraction path: S = (1 - 0.5/2)(1 - 1/1.5) = 1/4 at
    # day 2, and 3/4 at day 1, so the median is day 2; with 1.0 of 2.0 placed on day 1, S = 1/2.
    assert km_median_days([1, 2], [0.5, 1.0], [0.0, 0.5]) == 2.0
    assert km_median_days([1, 2], [1.0, 0.5], [0.0, 0.5]) == 1.0


def test_logrank_test_matches_hand_calculation():
    # A: events on days 1, 2. B: event on day 3 and one censored on day 3.
    # day 1: n=4 (A 2), d=1: E_A = 1/2, V = 1*3/3 * 1/2*1/2 = 1/4
    # day 2: n=3 (A 1), d=1: E_A = 1/3, V = 1*2/2 * 1/3*2/3 = 2/9
    # day 3: n=2 (A 0), d=1: E_A = 0,   V = 0
    # O - E = 2 - 5/6 = 7/6; V = 17/36; chi2 = (49/36) / (17/36) = 49/17.
    df = pd.DataFrame({"group": ["A", "A", "B"], "day": [1, 2, 3],
                       "events": [1, 1, 1], "censored": [0, 0, 1]})
    chi2, p = logrank_test(df)
    assert chi2 == pytest.approx(49 / 17)
    assert p == pytest.approx(0.0895551, abs=1e-6)


def _random_groups(rng, labels):
    frames = []
    for i, g in enumerate(labels):
        days, events, censored = _random_aggregate(rng, n_days=30, scale=3 + i)
        frames.append(pd.DataFrame({"group": g, "day": days, "events": events, "censored": censored}))
    return pd.concat(frames, ignore_index=True)


def _survdiff_expanded(df):
    times, statuses, groups = [], [], []
    for g, sub in df.groupby("group"):
        t, s = _expand(sub["day"], sub["events"], sub["censored"])
        times.append(t), statuses.append(s), groups.append(np.full(t.size, g))
    return survdiff(np.concatenate(times), np.concatenate(statuses), np.concatenate(groups))


@pytest.mark.parametrize("labels", [["skills", "mindset"], ["skills", "mindset", "none"]])
def test_logrank_test_equals_statsmodels_survdiff_on_expanded_data(labels):
    df = _random_groups(np.random.default_rng(len(labels)), labels)
    chi2, p = logrank_test(df)
    exp_chi2, exp_p = _survdiff_expanded(df)
    assert chi2 == pytest.approx(exp_chi2, rel=1e-9)
    assert p == pytest.approx(exp_p, rel=1e-6, abs=1e-12)


def test_logrank_test_with_one_group_is_nan():
    df = pd.DataFrame({"group": ["A"], "day": [1], "events": [3], "censored": [1]})
    assert np.isnan(logrank_test(df)).all()


# --------------------------------------------------------------------------- standardisation

# Simpson's paradox, worked by hand. Stratum "young" places well, "old" badly; skills
# enrolls mostly young people, mindset mostly old ones.
#   stratum  skills x/n        mindset x/n
#   young    64/80 = 0.80      17/20 = 0.85
#   old       6/20 = 0.30      28/80 = 0.35
# Raw: skills 70/100 = 0.70, mindset 45/100 = 0.45, difference +0.25.
# Pooled standard: young 100, old 100 -> w = 0.5, 0.5.
# Adjusted: skills 0.5*0.80 + 0.5*0.30 = 0.55; mindset 0.5*0.85 + 0.5*0.35 = 0.60; diff -0.05.
# Variance: 0.25*(0.8*0.2/80 + 0.85*0.15/20) + 0.25*(0.3*0.7/20 + 0.35*0.65/80)
#         = 0.25*(0.002 + 0.006375) + 0.25*(0.0105 + 0.00284375) = 0.0054296875
# SE = 0.0736864; half width = 1.959964 * SE = 0.1444227 -> (-0.1944227, 0.0944227).
SIMPSON = pd.DataFrame({
    "program_type": ["skills", "skills", "mindset", "mindset", "none"],
    "age_band": ["young", "old", "young", "old", "young"],
    "n": [80, 20, 20, 80, 500],
    "placed": [64, 6, 17, 28, 100],
})


def test_adjusted_difference_reverses_the_raw_sign_on_a_simpsons_paradox_fixture():
    r = adjusted_difference(SIMPSON, "n", "placed", "program_type", ["age_band"], "skills", "mindset")
    assert r["raw_treated"] == pytest.approx(0.70)
    assert r["raw_control"] == pytest.approx(0.45)
    assert r["raw_difference"] == pytest.approx(0.25)
    assert r["adjusted_treated"] == pytest.approx(0.55)
    assert r["adjusted_control"] == pytest.approx(0.60)
    assert r["adjusted_difference"] == pytest.approx(-0.05)
    assert r["adjusted_low"] == pytest.approx(-0.1944227, abs=1e-7)
    assert r["adjusted_high"] == pytest.approx(0.0944227, abs=1e-7)
    assert r["excluded_share"] == 0.0
    assert r["strata_used"] == 2


def test_adjusted_difference_drops_strata_without_common_support_and_reports_their_share():
    # An extra stratum only skills enrolls (50 people): out of common support.
    # Pooled denominator 100 + 100 + 50 = 250 -> excluded share 50/250 = 0.2.
    # The adjusted numbers are those of the two shared strata; raw rates include it.
    extra = pd.DataFrame({"program_type": ["skills"], "age_band": ["50+"], "n": [50], "placed": [5]})
    df = pd.concat([SIMPSON, extra], ignore_index=True)
    r = adjusted_difference(df, "n", "placed", "program_type", ["age_band"], "skills", "mindset")
    assert r["raw_treated"] == pytest.approx(75 / 150)
    assert r["adjusted_difference"] == pytest.approx(-0.05)
    assert r["excluded_share"] == pytest.approx(0.2)
    assert r["strata_used"] == 2
    # Sums: skills 80 + 20 + 50 people (64 + 6 + 5 placed), 100 of them in common support;
    # mindset 20 + 80 (17 + 28), all in common support.
    assert (r["treated_n"], r["treated_x"], r["treated_n_common"]) == (150, 75, 100)
    assert (r["control_n"], r["control_x"], r["control_n_common"]) == (100, 45, 100)


def test_adjusted_difference_over_several_strata_columns_with_a_missing_level():
    # Strata (F, young), (M, young), (M, <missing>) with w = 40/200, 100/200, 60/200.
    # skills p = 0.5, 0.8, 0.2; mindset p = 0.25, 0.6, 0.1.
    # adjusted skills = 0.2*0.5 + 0.5*0.8 + 0.3*0.2 = 0.56
    # adjusted mindset = 0.2*0.25 + 0.5*0.6 + 0.3*0.1 = 0.38
    df = pd.DataFrame({
        "g": ["s", "s", "s", "m", "m", "m"],
        "gender": ["F", "M", "M", "F", "M", "M"],
        "age": ["young", "young", None, "young", "young", None],
        "n": [20, 50, 30, 20, 50, 30],
        "x": [10, 40, 6, 5, 30, 3],
    })
    r = adjusted_difference(df, "n", "x", "g", ["gender", "age"], "s", "m")
    assert r["strata_used"] == 3
    assert r["adjusted_treated"] == pytest.approx(0.56)
    assert r["adjusted_control"] == pytest.approx(0.38)


def test_balance_table_on_a_tiny_example():
    # skills: F-young 30, F-old 10, M-young 20, M-old 40 (100)
    # mindset: F-young 10, F-old 40, M-young 30, M-old 20 (100)
    # F: 0.40 vs 0.50, pooled 90/200 = 0.45, d = -0.1 / sqrt((0.24 + 0.25)/2) = -0.2020305
    # young: 0.50 vs 0.40, pooled 0.45, d = +0.2020305
    df = pd.DataFrame({
        "program_type": ["skills"] * 4 + ["mindset"] * 4 + ["none"],
        "gender": ["F", "F", "M", "M"] * 2 + ["F"],
        "age_band": ["young", "old"] * 4 + ["old"],
        "count": [30, 10, 20, 40, 10, 40, 30, 20, 999],
    })
    bt = balance_table(df, "program_type", ["gender", "age_band"], "count", "skills", "mindset")
    assert list(bt.columns) == ["covariate", "level", "share_treated", "share_control",
                                "share_pooled", "std_diff_raw"]
    row = bt.set_index(["covariate", "level"])
    assert row.loc[("gender", "F"), "share_treated"] == pytest.approx(0.40)
    assert row.loc[("gender", "F"), "share_control"] == pytest.approx(0.50)
    assert row.loc[("gender", "F"), "share_pooled"] == pytest.approx(0.45)
    assert row.loc[("gender", "F"), "std_diff_raw"] == pytest.approx(-0.2020305, abs=1e-7)
    assert row.loc[("gender", "M"), "std_diff_raw"] == pytest.approx(0.2020305, abs=1e-7)
    assert row.loc[("age_band", "young"), "share_treated"] == pytest.approx(0.50)
    assert row.loc[("age_band", "young"), "std_diff_raw"] == pytest.approx(0.2020305, abs=1e-7)
    assert len(bt) == 4


# --------------------------------------------------------------------------- suppression


def _rates(n, dtype="float64"):
    k = len(n)
    return pd.DataFrame({
        "program_type": [f"p{i}" for i in range(k)],
        "placement_rate": np.full(k, 0.5),
        "placement_rate_low": np.full(k, 0.4),
        "placement_rate_high": np.full(k, 0.6),
        "placement_rate_n": pd.array(n, dtype=dtype),
    })


def test_suppress_hides_n_9_and_shows_n_10_at_the_default_min_cell():
    out = suppress(_rates([9, 10, 29, 30]))
    assert out["placement_rate"].isna().tolist() == [True, False, False, False]
    assert out["placement_rate_low"].isna().tolist() == [True, False, False, False]
    assert out["placement_rate_high"].isna().tolist() == [True, False, False, False]
    assert out["placement_rate_suppressed"].tolist() == [True, False, False, False]
    assert out["placement_rate_unreliable"].tolist() == [False, True, True, False]
    assert out["placement_rate_n"].tolist() == [9, 10, 29, 30]


def test_suppress_respects_a_custom_min_cell():
    out = suppress(_rates([9, 10, 19, 20]), min_cell=20, unreliable_below=50)
    assert out["placement_rate_suppressed"].tolist() == [True, True, True, False]
    assert out["placement_rate_unreliable"].tolist() == [False, False, False, True]


def test_suppress_treats_a_missing_denominator_as_zero():
    out = suppress(_rates([pd.NA, 40], dtype="Int64"))
    assert out["placement_rate_suppressed"].tolist() == [True, False]
    assert np.isnan(out.loc[0, "placement_rate"])
    assert out["placement_rate"].dtype == "float64"


def test_suppress_keeps_placement_rate_and_placement_rate_180d_apart():
    df = pd.DataFrame({
        "placement_rate": [0.5, 0.5],
        "placement_rate_low": [0.4, 0.4],
        "placement_rate_high": [0.6, 0.6],
        "placement_rate_n": [5, 100],
        "placement_rate_180d": [0.3, 0.3],
        "placement_rate_180d_low": [0.2, 0.2],
        "placement_rate_180d_high": [0.4, 0.4],
        "placement_rate_180d_n": [100, 5],
    })
    out = suppress(df)
    assert out["placement_rate"].isna().tolist() == [True, False]
    assert out["placement_rate_high"].isna().tolist() == [True, False]
    for c in ["placement_rate_180d", "placement_rate_180d_low", "placement_rate_180d_high"]:
        assert out[c].isna().tolist() == [False, True], c
    assert out["placement_rate_180d_suppressed"].tolist() == [False, True]


def test_suppress_blanks_extra_columns_named_for_a_measure():
    df = pd.DataFrame({"median_days": [40.0, 55.0], "median_days_n": [3, 50],
                       "median_days_q1": [20.0, 30.0], "other": [1, 2]})
    out = suppress(df, extra={"median_days": ["median_days_q1"]})
    assert out["median_days_q1"].isna().tolist() == [True, False]
    assert out["other"].tolist() == [1, 2]


def test_suppress_does_not_mutate_its_input():
    df = _rates([3, 50])
    before = df.copy()
    suppress(df)
    pd.testing.assert_frame_equal(df, before)
