"""Tests for reemploy.adjustment: values worked by hand, and independent person-level
computations (one row per person, built here from the small fixtures) to compare with."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from reemploy.adjustment import (
    bootstrap_standardised_difference,
    propensity_adjusted_differences,
    restricted_mean_difference,
)
from reemploy.stats import adjusted_difference, balance_table

Z95 = 1.959963984540054


def _strata(cells, covariates=None) -> pd.DataFrame:
    """Rows programme x stratum from ``{stratum: (n_skills, x_skills, n_mindset, x_mindset)}``;
    ``covariates`` maps a stratum to its label columns."""
    rows = []
    for stratum, (n1, x1, n0, x0) in cells.items():
        labels = (covariates or {}).get(stratum, {})
        rows.append({"program_type": "skills", "stratum": stratum, "n": n1, "x": x1, **labels})
        rows.append({"program_type": "mindset", "stratum": stratum, "n": n0, "x": x0, **labels})
    return pd.DataFrame(rows)


def _people(strata: pd.DataFrame, columns=("stratum",)) -> pd.DataFrame:
    """One row per person: the columns, treated (skills = 1), placed (0/1)."""
    parts = []
    for _, row in strata.iterrows():
        n, x = int(row["n"]), int(row["x"])
        part = pd.DataFrame({c: [row[c]] * n for c in columns})
        part["treated"] = int(row["program_type"] == "skills")
        part["placed"] = np.r_[np.ones(x, dtype=int), np.zeros(n - x, dtype=int)]
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------- bootstrap

# Six strata whose skills - mindset gaps differ widely (-0.5 to +0.66), so the estimated weights
# carry a good part of the sampling variability.
MODERATE = {
    0: (40, 4, 15, 9),
    1: (25, 21, 30, 6),
    2: (10, 9, 35, 7),
    3: (30, 3, 8, 6),
    4: (20, 18, 20, 4),
    5: (12, 1, 25, 15),
}


def test_bootstrap_point_estimate_is_that_of_adjusted_difference_and_reports_support():
    # Stratum 6 has mindset enrollees only: outside common support, 9 of 279 pooled people.
    strata = _strata({**MODERATE, 6: (0, 0, 9, 4)})
    expected = adjusted_difference(strata, "n", "x", "program_type", ["stratum"], "skills",
                                   "mindset")
    result = bootstrap_standardised_difference(strata)
    assert result["adjusted_difference"] == pytest.approx(expected["adjusted_difference"],
                                                          abs=1e-12)
    assert result["adjusted_treated"] == pytest.approx(expected["adjusted_treated"], abs=1e-12)
    assert result["excluded_share"] == pytest.approx(9 / 279, abs=1e-12)
    assert result["strata_used"] == 6
    assert result["fixed_weight_se"] == pytest.approx(
        (expected["adjusted_high"] - expected["adjusted_low"]) / (2 * Z95), rel=1e-12)
    assert result["replicates"] == 200 and result["replicates_note"] is None
    assert result["low"] == pytest.approx(result["adjusted_difference"] - Z95 * result["se"])
    assert result["high"] == pytest.approx(result["adjusted_difference"] + Z95 * result["se"])
    assert result["percentile_low"] < result["adjusted_difference"] < result["percentile_high"]


def _person_bootstrap_se(strata: pd.DataFrame, replicates: int, seed: int) -> float:
    """Resample people with replacement and standardise again, written independently: people
    as rows, counts per stratum x group x outcome via bincount, one replicate per row."""
    people = _people(strata)
    codes, _ = pd.factorize(people["stratum"], sort=True)
    k = codes.max() + 1
    cell = codes * 4 + people["treated"].to_numpy() * 2 + people["placed"].to_numpy()
    rng = np.random.default_rng(seed)
    draw = rng.integers(0, len(people), size=(replicates, len(people)))
    flat = (cell[draw] + 4 * k * np.arange(replicates)[:, None]).ravel()
    counts = np.bincount(flat, minlength=replicates * 4 * k).reshape(replicates, k, 2, 2)
    # counts[..., group, placed]; group 1 = skills
    n_t, x_t = counts[:, :, 1, :].sum(axis=2), counts[:, :, 1, 1]
    n_c, x_c = counts[:, :, 0, :].sum(axis=2), counts[:, :, 0, 1]
    estimates = []
    for b in range(replicates):
        both = (n_t[b] > 0) & (n_c[b] > 0)
        weight = (n_t[b] + n_c[b])[both] / (n_t[b] + n_c[b])[both].sum()
        estimates.append(weight @ (x_t[b][both] / n_t[b][both] - x_c[b][both] / n_c[b][both]))
    return float(np.std(estimates, ddof=1))


def test_bootstrap_se_agrees_with_a_person_level_bootstrap():
    strata = _strata(MODERATE)
    person_se = _person_bootstrap_se(strata, replicates=2000, seed=7)
    result = bootstrap_standardised_difference(strata, replicates=4000)
    assert result["replicates"] == 4000
    assert result["se"] == pytest.approx(person_se, rel=0.10)
    # The weights-as-known SE is about a fifth lower here: the agreement above is not one
    # any standard error of about the right size would reach.
    assert result["fixed_weight_se"] < 0.85 * person_se


def test_bootstrap_is_reproducible_for_a_seed_and_changes_with_it():
    strata = _strata(MODERATE)
    first = bootstrap_standardised_difference(strata, seed=123)
    again = bootstrap_standardised_difference(strata, seed=123)
    assert first == again
    other = bootstrap_standardised_difference(strata, seed=124)
    assert other["se"] != first["se"]
    assert other["adjusted_difference"] == first["adjusted_difference"]


def test_bootstrap_se_exceeds_the_fixed_weight_se_with_sparse_strata():
    # Two large strata and 24 with one or two people per group, placed all-or-nothing: the
    # fixed-weight variance gives those nothing (p (1 - p) = 0) though which of them are in
    # common support, and with what weight, changes from sample to sample.
    cells = {0: (60, 30, 60, 24), 1: (50, 20, 40, 18)}
    for i in range(24):
        n1 = 1 if i % 2 else 2
        cells[2 + i] = (n1, n1 if i % 3 else 0, 1, 0 if i % 3 else 1)
    result = bootstrap_standardised_difference(_strata(cells), replicates=1000)
    assert result["se"] > 1.15 * result["fixed_weight_se"]


def test_bootstrap_replicates_are_reduced_to_the_cell_budget_but_never_below_50():
    strata = _strata(MODERATE)  # 6 strata x 4 cells, none empty
    budget = bootstrap_standardised_difference(strata, replicates=200, max_cells_draws=24 * 80)
    assert budget["cells_drawn"] == 24
    assert budget["replicates"] == 80
    assert "reduced from 200 to 80" in budget["replicates_note"]
    floor = bootstrap_standardised_difference(strata, replicates=200, max_cells_draws=100)
    assert floor["replicates"] == 50
    assert "floor" in floor["replicates_note"]
    small = bootstrap_standardised_difference(strata, replicates=20, max_cells_draws=100)
    assert small["replicates"] == 20


def test_bootstrap_without_common_support_is_nan_without_warnings():
    strata = _strata({0: (10, 4, 0, 0), 1: (0, 0, 12, 6)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = bootstrap_standardised_difference(strata)
    assert np.isnan(result["adjusted_difference"]) and np.isnan(result["se"])
    assert result["replicates"] == 0 and result["excluded_share"] == 1.0


# --------------------------------------------------------------------------- propensity

# Composition reverses the raw difference: older workers (placed less) mostly in skills,
# younger (placed more) mostly in mindset; within each age band skills places more.
#   older:   skills 60/200 = 0.30, mindset 10/50  = 0.20  (+0.10)
#   younger: skills 40/50  = 0.80, mindset 130/200 = 0.65 (+0.15)
# raw: 100/250 - 140/250 = -0.16; pooled weights 250/500 each: 0.5 * 0.10 + 0.5 * 0.15 = 0.125
SIMPSON = _strata({0: (200, 60, 50, 10), 1: (50, 40, 200, 130)},
                  {0: {"age_band": "45+"}, 1: {"age_band": "18-29"}})


def test_composition_reversal_all_adjusted_differences_positive_and_equal_when_saturated():
    result = propensity_adjusted_differences(SIMPSON, covariates=["age_band"])
    direct = adjusted_difference(SIMPSON, "n", "x", "program_type", ["stratum"], "skills",
                                 "mindset")
    assert result["raw_difference"] == pytest.approx(-0.16, abs=1e-12)
    assert direct["adjusted_difference"] == pytest.approx(0.125, abs=1e-12)
    assert direct["raw_difference"] < 0 and direct["adjusted_difference"] > 0
    for method in ("ipw", "regression", "dr"):
        assert result[f"{method}_reason"] is None
        assert result[f"{method}_difference"] > 0
        # One covariate: every model is saturated and every estimate is the direct
        # standardisation to the pooled population.
        assert result[f"{method}_difference"] == pytest.approx(0.125, abs=1e-9)
        assert result[f"{method}_treated"] == pytest.approx(0.5 * 0.30 + 0.5 * 0.80, abs=1e-9)
        assert result[f"{method}_control"] == pytest.approx(0.5 * 0.20 + 0.5 * 0.65, abs=1e-9)
        low, high = result[f"{method}_low"], result[f"{method}_high"]
        assert low == pytest.approx(0.125 - Z95 * result[f"{method}_se"], abs=1e-9)
        assert high == pytest.approx(0.125 + Z95 * result[f"{method}_se"], abs=1e-9)
    # The propensity is each pattern's share in skills.
    e = result["patterns"].set_index("age_band")["propensity"]
    assert e["45+"] == pytest.approx(0.8, abs=1e-9) and e["18-29"] == pytest.approx(0.2, abs=1e-9)


def test_saturated_regression_and_dr_se_match_the_closed_form():
    # With saturated models both influence functions are
    # (d_s - tau) + T (N_s / n1_s)(Y - p1_s) - (1 - T)(N_s / n0_s)(Y - p0_s), so
    # var = sum_s w_s^2 (p1 q1 / n1 + p0 q0 / n0) + sum_s w_s (d_s - tau)^2 / N.
    result = propensity_adjusted_differences(SIMPSON, covariates=["age_band"])
    w = np.array([0.5, 0.5])
    p1, n1 = np.array([0.30, 0.80]), np.array([200, 50])
    p0, n0 = np.array([0.20, 0.65]), np.array([50, 200])
    d = p1 - p0
    var = np.sum(w**2 * (p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)) + np.sum(w * (d - 0.125) ** 2) / 500
    assert result["dr_se"] == pytest.approx(np.sqrt(var), rel=1e-9)
    assert result["regression_se"] == pytest.approx(np.sqrt(var), rel=1e-9)


def _hajek_se_by_hand(people: pd.DataFrame, e: np.ndarray) -> tuple[float, float]:
    """Hajek ATE difference and its influence-function SE, person by person."""
    t, y = people["treated"].to_numpy(), people["placed"].to_numpy()
    n = len(people)
    w1, w0 = t / e, (1 - t) / (1 - e)
    mu1, mu0 = (w1 * y).sum() / w1.sum(), (w0 * y).sum() / w0.sum()
    phi = n * w1 * (y - mu1) / w1.sum() - n * w0 * (y - mu0) / w0.sum()
    return mu1 - mu0, float(np.sqrt((phi**2).sum()) / n)


def test_ipw_se_matches_a_person_level_hajek_influence_function_and_weighted_least_squares():
    import statsmodels.api as sm

    people = _people(SIMPSON, ["age_band"])
    exog = sm.add_constant((people["age_band"] == "45+").astype(float).to_numpy())
    e = sm.Logit(people["treated"].to_numpy(), exog).fit(disp=0, tol=1e-12).predict(exog)
    difference, se = _hajek_se_by_hand(people, e)
    result = propensity_adjusted_differences(SIMPSON, covariates=["age_band"])
    assert result["ipw_difference"] == pytest.approx(difference, abs=1e-9)
    assert result["ipw_se"] == pytest.approx(se, abs=1e-6)
    # The same as the HC0 standard error of a weighted regression of placed on treated.
    t = people["treated"].to_numpy()
    wls = sm.WLS(people["placed"].to_numpy(), sm.add_constant(t.astype(float)),
                 weights=t / e + (1 - t) / (1 - e)).fit(cov_type="HC0")
    assert wls.params[1] == pytest.approx(result["ipw_difference"], abs=1e-9)
    assert wls.bse[1] == pytest.approx(result["ipw_se"], abs=1e-6)


def test_balance_after_weighting_is_zero_for_the_modelled_covariate():
    result = propensity_adjusted_differences(SIMPSON, covariates=["age_band"])
    table = result["balance"]
    assert list(table.columns[:6]) == ["covariate", "level", "share_treated", "share_control",
                                       "std_diff_before", "std_diff_after_weighting"]
    before = balance_table(SIMPSON, "program_type", ["age_band"], "n", "skills", "mindset")
    np.testing.assert_allclose(table["std_diff_before"], before["std_diff_raw"], atol=1e-12)
    np.testing.assert_allclose(table["share_treated"], before["share_treated"], atol=1e-12)
    assert np.all(np.abs(table["std_diff_before"]) > 1)
    np.testing.assert_allclose(table["std_diff_after_weighting"], 0.0, atol=1e-9)
    np.testing.assert_allclose(table["share_treated_weighted"], [0.5, 0.5], atol=1e-9)


# Two covariates, main effects only (not saturated): 3 age bands x 2 genders.
TWO = _strata(
    {0: (40, 10, 12, 2), 1: (30, 12, 15, 5), 2: (22, 11, 20, 8),
     3: (15, 9, 30, 14), 4: (10, 7, 35, 21), 5: (8, 6, 40, 27)},
    {0: {"age_band": "45+", "gender": "m"}, 1: {"age_band": "45+", "gender": "f"},
     2: {"age_band": "30-44", "gender": "m"}, 3: {"age_band": "30-44", "gender": "f"},
     4: {"age_band": "18-29", "gender": "m"}, 5: {"age_band": "18-29", "gender": "f"}})


def _person_models(people: pd.DataFrame):
    """Propensity and per-group outcome Logit fits on one row per person (statsmodels)."""
    import statsmodels.api as sm

    exog = pd.get_dummies(people[["age_band", "gender"]], drop_first=True).astype(float)
    exog = sm.add_constant(exog).to_numpy()
    t, y = people["treated"].to_numpy(), people["placed"].to_numpy()
    e = sm.Logit(t, exog).fit(disp=0, tol=1e-12).predict(exog)
    fits = {g: sm.Logit(y[t == g], exog[t == g]).fit(disp=0, tol=1e-12) for g in (0, 1)}
    return exog, t, y, e, fits


def test_main_effects_estimates_and_ses_match_person_level_computations():
    people = _people(TWO, ["age_band", "gender"])
    exog, t, y, e, fits = _person_models(people)
    n = len(people)
    result = propensity_adjusted_differences(TWO, covariates=["age_band", "gender"])
    for method in ("ipw", "regression", "dr"):
        assert result[f"{method}_reason"] is None

    difference, se = _hajek_se_by_hand(people, e)
    assert result["ipw_difference"] == pytest.approx(difference, abs=1e-9)
    assert result["ipw_se"] == pytest.approx(se, abs=1e-6)

    # g-computation: predict both models for everyone and average.
    m1, m0 = fits[1].predict(exog), fits[0].predict(exog)
    tau = m1.mean() - m0.mean()
    assert result["regression_difference"] == pytest.approx(tau, abs=1e-9)
    # Its influence function, M-estimation style: the prediction gradient (numerically),
    # the inverse information (cov_params) and each person's score (score_obs).
    psi = m1 - m0 - tau
    for g, sign in ((1, 1.0), (0, -1.0)):
        fit = fits[g]
        grad = np.empty(exog.shape[1])
        for j in range(exog.shape[1]):
            step = np.zeros(exog.shape[1])
            step[j] = 1e-6
            grad[j] = (fit.model.predict(fit.params + step, exog).mean()
                       - fit.model.predict(fit.params - step, exog).mean()) / 2e-6
        score = np.zeros_like(exog)
        score[t == g] = fit.model.score_obs(fit.params)
        psi = psi + sign * n * score @ (fit.cov_params() @ grad)
    assert result["regression_se"] == pytest.approx(np.sqrt((psi**2).sum()) / n, abs=1e-6)

    # AIPW, person by person.
    aipw = m1 - m0 + t * (y - m1) / e - (1 - t) * (y - m0) / (1 - e)
    assert result["dr_difference"] == pytest.approx(aipw.mean(), abs=1e-9)
    assert result["dr_se"] == pytest.approx(np.sqrt(((aipw - aipw.mean()) ** 2).sum()) / n,
                                            abs=1e-6)
    # Kish's effective sample sizes under the IPW weights.
    w1 = 1 / e[t == 1]
    assert result["effective_n_treated"] == pytest.approx(w1.sum() ** 2 / (w1**2).sum(),
                                                          rel=1e-9)


def test_default_covariates_run_on_the_page_shaped_table():
    rng = np.random.default_rng(3)
    rows = []
    levels = {"age_band": ["18-29", "30-44", "45+"], "gender": ["female", "male"],
              "education": ["primary", "secondary", "tertiary", "unknown"],
              "prior_sector": ["textiles", "coal"], "district": ["north", "south", "unknown"]}
    grid = pd.MultiIndex.from_product(levels.values(), names=list(levels)).to_frame(index=False)
    for stratum, labels in grid.iterrows():
        for program, rate in (("skills", 0.5), ("mindset", 0.4)):
            n = int(rng.integers(5, 30))
            rows.append({"program_type": program, "stratum": stratum, "n": n,
                         "x": int(rng.binomial(n, rate)), **labels.to_dict()})
    strata = pd.DataFrame(rows)
    result = propensity_adjusted_differences(strata)
    for method in ("ipw", "regression", "dr"):
        assert result[f"{method}_reason"] is None
        assert np.isfinite(result[f"{method}_se"]) and result[f"{method}_se"] > 0
    assert len(result["balance"]) == sum(len(v) for v in levels.values())
    assert result["balance"]["std_diff_after_weighting"].abs().max() < 0.1


def test_a_one_level_covariate_changes_nothing():
    one = propensity_adjusted_differences(SIMPSON, covariates=["age_band"])
    with_gender = propensity_adjusted_differences(SIMPSON.assign(gender="female"),
                                                  covariates=["age_band", "gender"])
    for key in ("ipw_difference", "ipw_se", "regression_difference", "regression_se",
                "dr_difference", "dr_se"):
        assert with_gender[key] == pytest.approx(one[key], abs=1e-9)
    row = with_gender["balance"].query("covariate == 'gender'")
    assert row["std_diff_before"].tolist() == [0.0]


def test_degenerate_inputs_give_nan_and_a_reason_without_exceptions_or_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # One group empty.
        only_skills = propensity_adjusted_differences(
            SIMPSON[SIMPSON["program_type"] == "skills"], covariates=["age_band"])
        # No rows at all.
        nothing = propensity_adjusted_differences(SIMPSON.iloc[:0], covariates=["age_band"])
        # An age band only in skills: the propensity separates (e = 1 there) and mindset's
        # outcome model cannot predict for it.
        separated = propensity_adjusted_differences(
            pd.concat([SIMPSON, _strata({2: (15, 5, 0, 0)}, {2: {"age_band": "30-44"}})]),
            covariates=["age_band"])
        # Everyone placed in one group's age band: that outcome model separates.
        all_placed = propensity_adjusted_differences(
            _strata({0: (200, 200, 50, 10), 1: (50, 40, 200, 130)},
                    {0: {"age_band": "45+"}, 1: {"age_band": "18-29"}}),
            covariates=["age_band"])
    for method in ("ipw", "regression", "dr"):
        assert np.isnan(only_skills[f"{method}_difference"])
        assert "no enrollees in 'mindset'" in only_skills[f"{method}_reason"]
        assert np.isnan(nothing[f"{method}_se"]) and nothing[f"{method}_reason"]
        assert np.isnan(separated[f"{method}_difference"]) and separated[f"{method}_reason"]
    assert not np.isnan(only_skills["raw_treated"])
    assert "separation" in separated["ipw_reason"]
    assert "mindset" in separated["regression_reason"]
    assert separated["balance"]["std_diff_after_weighting"].isna().all()
    assert all_placed["ipw_reason"] is None and np.isfinite(all_placed["ipw_difference"])
    assert "separation" in all_placed["regression_reason"]
    assert "skills" in all_placed["regression_reason"]
    assert np.isnan(all_placed["dr_difference"]) and all_placed["dr_reason"]


# --------------------------------------------------------------------------- restricted mean


def _durations(group: str, times_events_censored) -> pd.DataFrame:
    return pd.DataFrame([{"program_type": group, "days": d, "events": e, "censored": c}
                         for d, e, c in times_events_censored])


# Six skills enrollees: placed on day 2; censored on 3; two placed on 5; censored on 8;
# placed on 10. Six mindset enrollees: placed on 1, 1, 4; censored on 4; placed on 6;
# censored on 9.
TREATED = _durations("skills", [(2, 1, 0), (3, 0, 1), (5, 2, 0), (8, 0, 1), (10, 1, 0)])
CONTROL = _durations("mindset", [(1, 2, 0), (4, 1, 1), (6, 1, 0), (9, 0, 1)])


def test_restricted_mean_by_hand_on_six_people():
    result = restricted_mean_difference(pd.concat([TREATED, CONTROL]), tau=7)
    # Skills: S = 1 on [0, 2), 5/6 on [2, 5) (6 at risk, 1 placed), then 5/6 * (1 - 2/4) =
    # 5/12 on [5, 7] (4 at risk on day 5: one was censored on day 3).
    s1, s2 = 5 / 6, 5 / 12
    rmst_t = 2 * 1 + 3 * s1 + 2 * s2
    assert result["treated_rmst"] == pytest.approx(rmst_t, abs=1e-12)
    # A_i, the area from each event day to tau: from 5, 2 * 5/12; from 2, 3 * 5/6 + 2 * 5/12.
    a5, a2 = 2 * s2, 3 * s1 + 2 * s2
    var_t = a2**2 * 1 / (6 * 5) + a5**2 * 2 / (4 * 2)
    assert result["treated_se"] == pytest.approx(np.sqrt(var_t), abs=1e-12)
    # Mindset: 1 on [0, 1), 4/6 on [1, 4), 4/6 * 3/4 = 1/2 on [4, 6), 1/2 * 1/2 = 1/4 on [6, 7].
    rmst_c = 1 + 3 * 4 / 6 + 2 * 0.5 + 1 * 0.25
    assert result["control_rmst"] == pytest.approx(rmst_c, abs=1e-12)
    a6, a4, a1 = 0.25, 2 * 0.5 + 0.25, 3 * 4 / 6 + 2 * 0.5 + 0.25
    var_c = a1**2 * 2 / (6 * 4) + a4**2 * 1 / (4 * 3) + a6**2 * 1 / (2 * 1)
    assert result["control_se"] == pytest.approx(np.sqrt(var_c), abs=1e-12)

    assert result["difference"] == pytest.approx(rmst_t - rmst_c, abs=1e-12)
    se = np.sqrt(var_t + var_c)
    assert result["difference_se"] == pytest.approx(se, abs=1e-12)
    assert result["difference_low"] == pytest.approx(rmst_t - rmst_c - Z95 * se, abs=1e-9)
    assert result["difference_high"] == pytest.approx(rmst_t - rmst_c + Z95 * se, abs=1e-9)
    assert result["treated_low"] == pytest.approx(rmst_t - Z95 * np.sqrt(var_t), abs=1e-9)
    assert result["treated_n"] == 6 and result["treated_events_by_tau"] == 3
    assert result["control_events_by_tau"] == 4
    assert result["treated_reason"] is None and result["control_reason"] is None


def test_restricted_mean_equals_the_mean_of_min_t_tau_without_censoring():
    rng = np.random.default_rng(11)
    times = {"skills": rng.integers(0, 60, size=40), "mindset": rng.integers(0, 40, size=35)}
    rows = []
    for group, t in times.items():
        days, counts = np.unique(t, return_counts=True)
        rows += [{"program_type": group, "days": d, "events": c, "censored": 0}
                 for d, c in zip(days, counts)]
    durations = pd.DataFrame(rows)
    for tau in (30, 37.5, 59):
        result = restricted_mean_difference(durations, tau=tau)
        assert result["treated_rmst"] == pytest.approx(np.minimum(times["skills"], tau).mean(),
                                                       abs=1e-12)
        assert result["control_rmst"] == pytest.approx(np.minimum(times["mindset"], tau).mean(),
                                                       abs=1e-12)


def test_restricted_mean_matches_the_area_under_statsmodels_curve():
    from statsmodels.duration.survfunc import SurvfuncRight

    rows = TREATED.loc[TREATED.index.repeat(TREATED["events"] + TREATED["censored"])]
    status = np.concatenate([[1] * e + [0] * c for e, c in zip(TREATED["events"],
                                                               TREATED["censored"])])
    curve = SurvfuncRight(rows["days"].to_numpy(), status)
    knots = np.r_[0, curve.surv_times[curve.surv_times <= 9], 9]
    levels = np.r_[1, curve.surv_prob[curve.surv_times <= 9]]
    result = restricted_mean_difference(TREATED, tau=9)
    assert result["treated_rmst"] == pytest.approx(np.sum(levels * np.diff(knots)), abs=1e-12)
    assert np.isnan(result["control_rmst"]) and result["control_reason"]


def test_restricted_mean_beyond_follow_up_is_nan_unless_the_curve_reached_zero():
    durations = pd.concat([TREATED, CONTROL])
    result = restricted_mean_difference(durations, tau=12)
    # Mindset is followed to day 9 with people still searching; skills' curve is 0 from day 10.
    assert np.isnan(result["control_rmst"]) and "beyond" in result["control_reason"]
    assert np.isnan(result["difference"])
    assert result["treated_reason"] is None
    assert result["treated_rmst"] == pytest.approx(restricted_mean_difference(
        durations, tau=10)["treated_rmst"], abs=1e-12)
    with pytest.raises(ValueError):
        restricted_mean_difference(durations, tau=0)
