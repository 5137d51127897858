"""Adjusted comparisons of two programmes: bootstrap standardisation, propensity weighting,
regression, doubly robust estimates, and restricted mean time to re-employment.

Everything here compares `treated` (skills training by default) with `control` (mindset
training) for the people who enrolled, and removes only the composition that is listed: who
enrolled (age band, gender, education, prior sector, district). What remains is an "adjusted
difference", not an effect of the training: people choose, or are sent to, a programme for
reasons the covariates do not record, and those reasons may also drive re-employment.

Pure functions on numpy / pandas input, as in reemploy.stats: the data arrive aggregated (one
row per programme x stratum, or per programme x day) and nothing here expands them to one row
per person; every estimate and every standard error is a sum over cells of counts.
statsmodels is imported inside the function that fits models, so importing this module costs
the first page nothing.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd

from reemploy.stats import _product_limit, _two_group_table, _z, adjusted_difference, balance_table

COVARIATES = ("age_band", "gender", "education", "prior_sector", "district")

# A fitted probability this close to 0 or 1 means a coefficient ran off to infinity (perfect or
# quasi-complete separation). statsmodels' own check (fitted == observed proportion) cannot be
# used on grouped counts: every saturated model meets it without any separation.
_SEPARATION_EPS = 1e-7

# Bootstrap replicates are drawn in chunks of about this many cells, so memory stays bounded
# (a few tens of MB) whatever max_cells_draws allows.
_CHUNK_CELLS = 1_000_000


def _check_counts(n: np.ndarray, x: np.ndarray, what: str) -> None:
    if np.any(n < 0) or np.any(x < 0) or np.any(x > n):
        raise ValueError(f"{what}: counts must satisfy 0 <= x <= n")


# --------------------------------------------------------------------------- bootstrap


def _standardised_differences(n1, x1, n0, x0) -> np.ndarray:
    """Direct standardisation, row by row: arrays (replicates x strata) -> one difference per
    replicate. Common support and the pooled weights are those of each row (NaN where a row
    has no stratum with both groups)."""
    common = (n1 > 0) & (n0 > 0)
    pooled = np.where(common, n1 + n0, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.where(common, x1 / np.where(common, n1, 1.0) - x0 / np.where(common, n0, 1.0),
                       0.0)
        total = pooled.sum(axis=1)
        return np.where(total > 0, (pooled * gap).sum(axis=1) / total, np.nan)


def bootstrap_standardised_difference(strata: pd.DataFrame, treated="skills", control="mindset",
                                      n_col: str = "n", x_col: str = "x",
                                      stratum_col: str = "stratum", replicates: int = 200,
                                      seed: int = 20261202, max_cells_draws: int = 4_000_000,
                                      group_col: str = "program_type",
                                      alpha: float = 0.05) -> dict:
    """Directly standardised difference in placement rates with a bootstrap over enrollees.

    The estimate is that of ``stats.adjusted_difference`` on the same rows (the tests check
    the two agree): each group's rate within each stratum, averaged with the weights of the
    pooled treated + control enrollees, over the strata where both groups have someone
    (common support). It estimates how the two groups' placement rates would differ if both
    had enrolled the pooled mix of strata, assuming the strata capture every difference in
    who enrolled that also bears on placement. It is an adjusted difference, not an effect.

    ``stats.adjusted_difference``'s interval treats the weights as known. They are estimated
    from the same enrollees, and with sparse strata even which strata are in common support
    depends on the sample; this bootstrap carries both. Resampling enrollees is resampling
    the counts of the cells stratum x group x placed / not placed; with the Poisson bootstrap
    (each enrollee gets an independent Poisson(1) weight) each cell count becomes an
    independent Poisson(count) draw, so a replicate costs one draw per cell, not per person.
    In every replicate common support and the pooled weights are determined again. The draws
    come from ``numpy.random.default_rng(seed)``: the same rows and seed give the same result.

    Cost is bounded deterministically: strata outside common support are never drawn (a
    group with nobody stays at nobody, Poisson(0) = 0), and if ``replicates`` x (nonzero cells
    of the common-support strata) exceeds ``max_cells_draws``, fewer replicates are drawn, but
    never fewer than 50 (``replicates_note`` says so; the bound is then exceeded).

    ``strata`` has one row per group x stratum with ``group_col``, ``stratum_col``, the number
    followed ``n_col`` and placed ``x_col``; rows of other groups are ignored.

    Returns a dict:
    ``adjusted_difference`` (point estimate), ``adjusted_treated``, ``adjusted_control``,
    ``se`` (bootstrap standard deviation of the replicates), ``low``, ``high`` (normal
    interval estimate +- z * se), ``percentile_low``, ``percentile_high`` (alpha/2 and
    1 - alpha/2 quantiles of the replicates), ``fixed_weight_se`` (the SE behind
    stats.adjusted_difference's interval, for comparison), ``raw_difference``,
    ``excluded_share`` (share of the pooled n outside common support), ``strata_used``,
    ``replicates`` (drawn), ``replicates_requested``, ``replicates_note`` (None unless reduced),
    ``replicates_without_support`` (replicates with no common-support stratum, left out of se
    and the percentiles), ``cells_drawn`` (nonzero cells per replicate), ``seed``, ``alpha``.
    All estimates are NaN when no stratum has both groups.
    """
    requested = int(replicates)
    if requested < 1:
        raise ValueError("replicates must be at least 1")
    point = adjusted_difference(strata, n_col, x_col, group_col, [stratum_col], treated, control,
                                alpha)
    z = _z(alpha)
    result = {
        "adjusted_difference": point["adjusted_difference"],
        "adjusted_treated": point["adjusted_treated"],
        "adjusted_control": point["adjusted_control"],
        "se": np.nan, "low": np.nan, "high": np.nan,
        "percentile_low": np.nan, "percentile_high": np.nan,
        "fixed_weight_se": float((point["adjusted_high"] - point["adjusted_low"]) / (2 * z)),
        "raw_difference": point["raw_difference"],
        "excluded_share": point["excluded_share"],
        "strata_used": point["strata_used"],
        "replicates": 0,
        "replicates_requested": requested,
        "replicates_note": None,
        "replicates_without_support": 0,
        "cells_drawn": 0,
        "seed": seed,
        "alpha": alpha,
    }
    if point["strata_used"] == 0:
        result["replicates_note"] = "no stratum has both groups: nothing to resample"
        return result

    wide = _two_group_table(strata, [n_col, x_col], group_col, [stratum_col], treated, control)
    n1, n0 = wide[(n_col, treated)].to_numpy(), wide[(n_col, control)].to_numpy()
    x1, x0 = wide[(x_col, treated)].to_numpy(), wide[(x_col, control)].to_numpy()
    _check_counts(n1, x1, str(treated))
    _check_counts(n0, x0, str(control))
    support = (n1 > 0) & (n0 > 0)
    # One row per common-support stratum, one column per cell: placed / not placed per group.
    cells = np.column_stack([x1, n1 - x1, x0, n0 - x0])[support].ravel()
    nonzero = np.flatnonzero(cells > 0)
    k = nonzero.size

    used = requested
    if used * k > max_cells_draws:
        used = max(50, int(max_cells_draws // k))
        if used > requested:
            used = requested
        result["replicates_note"] = (
            f"replicates reduced from {requested} to {used} so that replicates x cells "
            f"({k} nonzero cells) stays within max_cells_draws = {max_cells_draws}"
            + ("" if used * k <= max_cells_draws else
               "; 50 is the floor, so the bound is exceeded"))

    rng = np.random.default_rng(seed)
    chunk = max(1, min(used, _CHUNK_CELLS // cells.size))
    draws = np.empty(used)
    for start in range(0, used, chunk):
        b = min(chunk, used - start)
        counts = np.zeros((b, cells.size))
        counts[:, nonzero] = rng.poisson(cells[nonzero], size=(b, k))
        counts = counts.reshape(b, -1, 4)
        placed1, placed0 = counts[..., 0], counts[..., 2]
        draws[start:start + b] = _standardised_differences(
            placed1 + counts[..., 1], placed1, placed0 + counts[..., 3], placed0)

    finite = draws[np.isfinite(draws)]
    result.update(replicates=used, cells_drawn=int(k),
                  replicates_without_support=int(used - finite.size))
    if finite.size >= 2:
        se = float(np.std(finite, ddof=1))
        low_q, high_q = np.quantile(finite, [alpha / 2, 1 - alpha / 2])
        diff = result["adjusted_difference"]
        result.update(se=se, low=diff - z * se, high=diff + z * se,
                      percentile_low=float(low_q), percentile_high=float(high_q))
    return result


# --------------------------------------------------------------------------- propensity


def _design(patterns: pd.DataFrame, covariates: list[str]) -> tuple[np.ndarray, list[str]]:
    """Intercept plus main-effects dummies (the first sorted level of each covariate is the
    reference; a missing value is a level of its own, sorted last). A covariate with one level
    contributes no column."""
    columns = [np.ones(len(patterns))]
    names = ["const"]
    for cov in covariates:
        codes, levels = pd.factorize(patterns[cov], sort=True, use_na_sentinel=False)
        for k in range(1, len(levels)):
            columns.append((codes == k).astype(float))
            names.append(f"{cov}={levels[k]}")
    return np.column_stack(columns), names


def _expit(eta: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-eta)) without overflow warnings for large |eta|."""
    return np.exp(-np.logaddexp(0.0, -eta))


def _fit_grouped_logit(success: np.ndarray, failure: np.ndarray, exog: np.ndarray,
                       predict_exog: np.ndarray, label: str, one_side: str):
    """Logistic regression on grouped counts (statsmodels GLM, Binomial family, endog
    [successes, failures]); returns ``(fitted probabilities at predict_exog rows, params,
    reason)``, with ``None`` probabilities and a reason string when the model cannot be used:
    nobody to fit, one outcome only, perfect separation, no convergence, a numerical error."""
    keep = (success + failure) > 0
    if not keep.any():
        return None, None, f"{label}: nobody to fit"
    if success[keep].sum() == 0 or failure[keep].sum() == 0:
        return None, None, f"{label}: perfect separation (the whole group has {one_side})"
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.tools.sm_exceptions import PerfectSeparationError

    # Newton steps on the analytic Hessian: fewer decompositions than IRLS's least squares.
    with warnings.catch_warnings():
        # Its PerfectSeparationWarning fires for every saturated grouped model (fitted equals
        # observed) and so says nothing here; separation is checked below on the fitted values.
        warnings.simplefilter("ignore")
        try:
            fit = GLM(np.column_stack([success[keep], failure[keep]]), exog[keep],
                      family=families.Binomial()).fit(method="newton", tol=1e-12, maxiter=100)
        except (PerfectSeparationError, np.linalg.LinAlgError, ValueError,
                FloatingPointError) as error:
            return None, None, f"{label}: the fit failed ({type(error).__name__}: {error})"
    params = np.asarray(fit.params, dtype=float)
    if not np.all(np.isfinite(params)):
        return None, None, f"{label}: the fit gave non-finite coefficients"
    prob = _expit(predict_exog @ params)
    fitted = _expit(exog[keep] @ params)
    both = np.concatenate([prob, fitted])
    if np.any(both < _SEPARATION_EPS) or np.any(both > 1 - _SEPARATION_EPS):
        return None, None, (f"{label}: perfect separation (a fitted probability is 0 or 1: some "
                            f"covariate level or combination has {one_side})")
    if not getattr(fit, "converged", True):
        return None, None, f"{label}: the fit did not converge"
    return prob, params, None


def _normal(estimate: float, variance: float, z: float) -> dict:
    se = float(np.sqrt(variance)) if np.isfinite(variance) and variance >= 0 else np.nan
    return {"difference": float(estimate), "se": se,
            "low": float(estimate - z * se), "high": float(estimate + z * se)}


_EMPTY_ESTIMATE = {"difference": np.nan, "se": np.nan, "low": np.nan, "high": np.nan,
                   "treated": np.nan, "control": np.nan}

BALANCE_COLUMNS = ["covariate", "level", "share_treated", "share_control", "std_diff_before",
                   "std_diff_after_weighting", "share_treated_weighted",
                   "share_control_weighted"]


def _one_blas_thread(function):
    """Run `function` with OpenBLAS on one thread. Its problems are small and dense (patterns x
    a few dozen dummies), where OpenBLAS's threads on busy cores cost far more than they give
    (docs/performance.md)."""
    import functools

    @functools.wraps(function)
    def limited(*args, **kwargs):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return function(*args, **kwargs)

    return limited


@_one_blas_thread
def propensity_adjusted_differences(strata: pd.DataFrame, covariates: Iterable[str] = COVARIATES,
                                    treated="skills", control="mindset", n_col: str = "n",
                                    x_col: str = "x", group_col: str = "program_type",
                                    alpha: float = 0.05) -> dict:
    """Placement-rate differences adjusted by propensity weighting, by regression, and by both.

    ``strata`` has one row per group x stratum: ``group_col``, the covariate label columns,
    the number followed ``n_col`` and placed ``x_col`` (rows of other groups are ignored).
    Rows are summed to covariate patterns (one per combination of the covariates present).
    All three estimate the same quantity: the difference between the placement rates the two
    groups would have if each had the covariate mix of the pooled treated + control enrollees
    (an average over the pooled population, "ATE" weights). They rest on the assumption that
    the listed covariates capture every difference in who enrolled that also bears on
    placement (no unmeasured confounding) and that every pattern could have enrolled in
    either programme (overlap). They are adjusted differences, not effects.

    - Propensity model: logistic regression (statsmodels GLM, Binomial, grouped counts
      [treated n, control n] per pattern) of being in `treated` on the covariates' main
      effects; e(s) is its fitted probability for pattern s.
    - ``ipw``: Hajek inverse probability weighting: each group's placement rate with weights
      1/e (treated) and 1/(1 - e) (control), normalised within the group.
    - ``regression`` (g-computation): a logistic model of placed on the covariates' main
      effects fitted separately in each group (grouped counts [placed, not placed]); the
      difference of its predictions averaged over the pooled population, mean m1 - mean m0.
    - ``dr``: augmented IPW (doubly robust: consistent if either model is right):
      mean over the pooled population of m1 - m0 plus the weighted residuals
      T (Y - m1) / e - (1 - T) (Y - m0) / (1 - e).

    Standard errors come from each estimator's influence function, summed over the cells
    pattern x group x placed / not placed (it is constant within a cell), with a normal
    interval. For ``ipw`` and ``dr`` the fitted models are treated as fixed (known): for IPW
    with a propensity fitted by maximum likelihood this overstates the variance a little
    (Lunceford & Davidian 2004), for DR it is right to first order when both models are right. For ``regression`` treating the outcome models as fixed would
    ignore almost all of its sampling variability, so its influence function includes the
    outcome models' estimation (delta method through their score equations); the propensity
    model plays no part in it. None of the SEs carries uncertainty in the choice of models.

    Degenerate cases give NaN and a reason string, never an exception: a group with nobody,
    perfect separation in a model (a fitted probability at 0 or 1; with main effects that
    happens when a covariate level occurs in one group only, or has only placed or only
    unplaced people in a group), an outcome model that cannot predict for the pooled population
    (a level present in only one group), a failed fit. A covariate with one level adds nothing.

    Returns a dict with ``raw_treated, raw_control, raw_difference``; for each of ``ipw``,
    ``regression``, ``dr``: ``{m}_difference, {m}_se, {m}_low, {m}_high, {m}_treated,
    {m}_control`` (the two adjusted rates) and ``{m}_reason`` (None when estimated);
    ``balance`` (DataFrame, columns ``covariate, level, share_treated, share_control,
    std_diff_before, std_diff_after_weighting, share_treated_weighted,
    share_control_weighted``: the standardized difference of stats.balance_table before and
    after the IPW weights); ``patterns`` (DataFrame: the covariates, ``n_treated,
    n_control, x_treated, x_control, propensity``); ``effective_n_treated``,
    ``effective_n_control`` (Kish's effective sample size under the IPW weights);
    ``propensity_min``, ``propensity_max``; ``n_treated``, ``n_control``; ``covariates``;
    ``alpha``.
    """
    covariates = list(covariates)
    z = _z(alpha)
    sub = strata[strata[group_col].isin([treated, control])]
    keys = covariates
    if not keys:
        sub = sub.assign(_all_="all")
        keys = ["_all_"]
    if len(sub):
        wide = _two_group_table(sub, [n_col, x_col], group_col, keys, treated, control)
    else:
        wide = pd.DataFrame({(c, g): pd.Series(dtype=float) for c in (n_col, x_col)
                             for g in (treated, control)})
    n1, n0 = wide[(n_col, treated)].to_numpy(float), wide[(n_col, control)].to_numpy(float)
    x1, x0 = wide[(x_col, treated)].to_numpy(float), wide[(x_col, control)].to_numpy(float)
    _check_counts(n1, x1, str(treated))
    _check_counts(n0, x0, str(control))
    present = (n1 + n0) > 0
    wide, n1, n0, x1, x0 = wide[present], n1[present], n0[present], x1[present], x0[present]
    if len(wide):
        patterns = wide.index.to_frame(index=False).set_axis(keys, axis=1)
    else:
        patterns = pd.DataFrame({k: pd.Series(dtype=object) for k in keys})
    patterns = patterns.reset_index(drop=True)

    t_n, c_n = float(n1.sum()), float(n0.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        raw_t = x1.sum() / t_n if t_n > 0 else np.nan
        raw_c = x0.sum() / c_n if c_n > 0 else np.nan
    result: dict = {"raw_treated": float(raw_t), "raw_control": float(raw_c),
                    "raw_difference": float(raw_t - raw_c)}
    for m in ("ipw", "regression", "dr"):
        result.update({f"{m}_{k}": v for k, v in _EMPTY_ESTIMATE.items()})
        result[f"{m}_reason"] = None
    result.update(effective_n_treated=np.nan, effective_n_control=np.nan,
                  propensity_min=np.nan, propensity_max=np.nan, n_treated=t_n, n_control=c_n,
                  covariates=covariates, alpha=alpha)

    out_patterns = patterns[covariates].copy() if covariates else pd.DataFrame(index=patterns.index)
    out_patterns["n_treated"], out_patterns["n_control"] = n1, n0
    out_patterns["x_treated"], out_patterns["x_control"] = x1, x0
    out_patterns["propensity"] = np.nan
    result["patterns"] = out_patterns

    empty = [str(g) for g, n in ((treated, t_n), (control, c_n)) if n <= 0]
    if empty:
        reason = f"no enrollees in {' and '.join(repr(g) for g in empty)}"
        for m in ("ipw", "regression", "dr"):
            result[f"{m}_reason"] = reason
        result["balance"] = _balance(patterns, covariates, n1, n0, None, None, group_col,
                                     treated, control)
        return result

    exog, _ = _design(patterns, covariates)
    pooled = n1 + n0
    total = pooled.sum()

    # ---- propensity and IPW (Hajek, ATE weights)
    e, _, e_reason = _fit_grouped_logit(n1, n0, exog, exog, "propensity model",
                                       "only people of one programme")
    w1 = w0 = None
    if e_reason is None:
        w1, w0 = 1.0 / e, 1.0 / (1.0 - e)
        s1, s0 = (n1 * w1).sum(), (n0 * w0).sum()
        mu1, mu0 = (x1 * w1).sum() / s1, (x0 * w0).sum() / s0
        # Influence function of a Hajek mean: N w (Y - mu) / sum(w), per person in the group.
        var = ((w1**2 * (x1 * (1 - mu1) ** 2 + (n1 - x1) * mu1**2)).sum() / s1**2
               + (w0**2 * (x0 * (1 - mu0) ** 2 + (n0 - x0) * mu0**2)).sum() / s0**2)
        _store(result, "ipw", _normal(mu1 - mu0, var, z), mu1, mu0)
        result.update(effective_n_treated=float(s1**2 / (n1 * w1**2).sum()),
                      effective_n_control=float(s0**2 / (n0 * w0**2).sum()),
                      propensity_min=float(e.min()), propensity_max=float(e.max()))
        out_patterns["propensity"] = e
    else:
        result["ipw_reason"] = e_reason
    result["balance"] = _balance(patterns, covariates, n1, n0, w1, w0, group_col, treated,
                                 control)

    # ---- outcome models and g-computation
    models = {}
    m_reason = None
    full_rank = np.linalg.matrix_rank(exog)
    for g, n, x in (("treated", n1, x1), ("control", n0, x0)):
        label = f"outcome model for {treated if g == 'treated' else control!r}"
        rows = n > 0
        if np.linalg.matrix_rank(exog[rows]) < full_rank:
            m_reason = (f"{label}: cannot predict for the pooled population (a covariate "
                        "level, or combination, occurs only in the other group)")
            break
        m, _, reason = _fit_grouped_logit(x, n - x, exog, exog, label,
                                                "only placed or only unplaced people")
        if reason is not None:
            m_reason = reason
            break
        models[g] = m
    if m_reason is None:
        m1, m0 = models["treated"], models["control"]
        mu1, mu0 = (pooled * m1).sum() / total, (pooled * m0).sum() / total
        tau = mu1 - mu0
        a = m1 - m0 - tau
        # Each group's model enters through its score: d mu / d beta = D / N with
        # D = sum_s N_s m (1 - m) x_s, and beta - beta0 ~ H^-1 sum_i T_i x_i (Y_i - m_i) with
        # H = sum_s n_s m (1 - m) x_s x_s'. Per person the score term is g_s (Y_i - m_s) with
        # g_s = x_s' H^-1 D (pinv: dummies may be collinear; the fitted values are identified).
        g1 = exog @ _score_weights(exog, n1, m1, pooled)
        g0 = exog @ _score_weights(exog, n0, m0, pooled)
        var = ((x1 * (a + g1 * (1 - m1)) ** 2 + (n1 - x1) * (a - g1 * m1) ** 2
                + x0 * (a - g0 * (1 - m0)) ** 2 + (n0 - x0) * (a + g0 * m0) ** 2).sum()
               / total**2)
        _store(result, "regression", _normal(tau, var, z), mu1, mu0)
    else:
        result["regression_reason"] = m_reason

    # ---- doubly robust (AIPW)
    if e_reason is None and m_reason is None:
        r1 = x1 - n1 * m1  # sum of Y - m1 over the treated in each pattern
        r0 = x0 - n0 * m0
        mu1 = ((pooled * m1).sum() + (r1 / e).sum()) / total
        mu0 = ((pooled * m0).sum() + (r0 / (1 - e)).sum()) / total
        tau = mu1 - mu0
        a = m1 - m0 - tau
        var = ((x1 * (a + (1 - m1) / e) ** 2 + (n1 - x1) * (a - m1 / e) ** 2
                + x0 * (a - (1 - m0) / (1 - e)) ** 2 + (n0 - x0) * (a + m0 / (1 - e)) ** 2)
               .sum() / total**2)
        _store(result, "dr", _normal(tau, var, z), mu1, mu0)
    else:
        result["dr_reason"] = "; ".join(r for r in (e_reason, m_reason) if r)
    return result


def _score_weights(exog: np.ndarray, n: np.ndarray, m: np.ndarray, pooled: np.ndarray):
    """H^+ D for one group's outcome model (see propensity_adjusted_differences)."""
    v = m * (1 - m)
    hessian = exog.T @ (exog * (n * v)[:, None])
    d = exog.T @ (pooled * v)
    return np.linalg.pinv(hessian) @ d


def _store(result: dict, method: str, estimate: dict, treated_rate: float,
           control_rate: float) -> None:
    result.update({f"{method}_{k}": v for k, v in estimate.items()})
    result[f"{method}_treated"] = float(treated_rate)
    result[f"{method}_control"] = float(control_rate)


def _balance(patterns, covariates, n1, n0, w1, w0, group_col, treated, control) -> pd.DataFrame:
    """stats.balance_table before and after the IPW weights (NaN after if there are none)."""
    if not covariates:
        return pd.DataFrame(columns=BALANCE_COLUMNS)
    long = pd.concat([patterns[covariates].assign(**{group_col: treated}),
                      patterns[covariates].assign(**{group_col: control})], ignore_index=True)
    long["_count_"] = np.concatenate([n1, n0])
    before = balance_table(long, group_col, covariates, "_count_", treated, control)
    table = before[["covariate", "level", "share_treated", "share_control"]].copy()
    table["std_diff_before"] = before["std_diff_raw"].to_numpy()
    if w1 is None:
        table["std_diff_after_weighting"] = np.nan
        table["share_treated_weighted"] = np.nan
        table["share_control_weighted"] = np.nan
    else:
        long["_count_"] = np.concatenate([n1 * w1, n0 * w0])
        after = balance_table(long, group_col, covariates, "_count_", treated, control)
        table["std_diff_after_weighting"] = after["std_diff_raw"].to_numpy()
        table["share_treated_weighted"] = after["share_treated"].to_numpy()
        table["share_control_weighted"] = after["share_control"].to_numpy()
    return table[BALANCE_COLUMNS]


# --------------------------------------------------------------------------- survival


def _rmst(days, events, censored, tau: float) -> dict:
    """Area under one group's Kaplan-Meier curve on [0, tau] and its Greenwood-type variance."""
    out = {"rmst": np.nan, "se": np.nan, "n": 0.0, "events_by_tau": 0.0, "reason": None}
    if np.asarray(days).size == 0:
        out["reason"] = "nobody in this group"
        return out
    uday, at_risk, ev, ce, survival = _product_limit(days, events, censored)
    people = ev + ce
    out["n"] = float(people.sum())
    if out["n"] <= 0:
        out["reason"] = "nobody in this group"
        return out
    if np.any(uday[people > 0] < 0):
        raise ValueError("days must be non-negative")
    last = uday[people > 0].max()
    if tau > last and survival[uday <= last][-1] > 0:
        out["reason"] = (f"tau = {tau:g} is beyond the last day followed ({last:g}) while the "
                         "curve is above 0: the area up to tau is not estimable")
        return out
    step = (ev > 0) & (uday <= tau)
    t, d, n, s = uday[step].astype(float), ev[step], at_risk[step], survival[step]
    # The curve is 1 on [0, t_1), s_j on [t_j, t_{j+1}), the last s up to tau.
    knots = np.concatenate([[0.0], t, [float(tau)]])
    levels = np.concatenate([[1.0], s])
    pieces = levels * np.diff(knots)
    # A_j: the area from t_j to tau.
    area_after = np.cumsum(pieces[1:][::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        # A day on which everyone at risk is placed has n == d and nothing after it (A = 0).
        terms = np.where(area_after > 0, area_after**2 * d / (n * (n - d)), 0.0)
    out.update(rmst=float(pieces.sum()), se=float(np.sqrt(terms.sum())),
               events_by_tau=float(d.sum()))
    return out


def restricted_mean_difference(durations: pd.DataFrame, tau: float, treated="skills",
                               control="mindset", group_col: str = "program_type",
                               day_col: str = "days", events_col: str = "events",
                               censored_col: str = "censored", alpha: float = 0.05) -> dict:
    """Restricted mean time to re-employment up to `tau` days, per group, and the difference.

    ``durations`` has one row per group x day with the number placed (``events_col``) and
    the number censored (``censored_col``) on that day, days counted from enrollment, as
    stats.kaplan_meier takes them. Each group's curve is that product-limit estimate; its
    restricted mean is the area under it from day 0 to `tau`: the expected number of days,
    out of the first `tau`, spent before the first placement, E[min(T, tau)]. Unlike a mean
    over the placed it keeps everyone still searching; unlike a median it exists when fewer
    than half are placed. Lower is sooner re-employment. It assumes censoring (being followed
    for less time) unrelated to the chance of placement, and is estimable only up to the last
    day a group is followed (a group followed for less than `tau` with people still searching
    gets NaN and a reason).

    Standard error: the Greenwood-type variance of the area, the sum over event days
    t_i <= tau of ``A_i**2 d_i / (n_i (n_i - d_i))``, with A_i the area under the curve
    from t_i to tau, d_i placed and n_i at risk on t_i. The difference (treated minus control;
    negative means the treated group is placed sooner within tau days) has the normal interval
    with the two variances added (independent groups). The difference is not adjusted for
    who enrolled: it is a raw comparison of the two groups' curves, not an effect.

    Returns a dict: ``tau``; ``treated_rmst, treated_se, treated_low, treated_high,
    treated_n, treated_events_by_tau, treated_reason``, the same for ``control_``;
    ``difference, difference_se, difference_low, difference_high``; ``alpha``.
    """
    tau = float(tau)
    if not np.isfinite(tau) or tau <= 0:
        raise ValueError("tau must be a positive number of days")
    z = _z(alpha)
    result: dict = {"tau": tau}
    groups = durations[group_col]
    for prefix, value in (("treated", treated), ("control", control)):
        part = durations[(groups == value).to_numpy()]
        one = _rmst(part[day_col].to_numpy(), part[events_col].to_numpy(),
                    part[censored_col].to_numpy(), tau)
        result.update({
            f"{prefix}_rmst": one["rmst"],
            f"{prefix}_se": one["se"],
            f"{prefix}_low": one["rmst"] - z * one["se"],
            f"{prefix}_high": one["rmst"] + z * one["se"],
            f"{prefix}_n": one["n"],
            f"{prefix}_events_by_tau": one["events_by_tau"],
            f"{prefix}_reason": one["reason"],
        })
    diff = result["treated_rmst"] - result["control_rmst"]
    se = float(np.hypot(result["treated_se"], result["control_se"]))
    result.update(difference=diff, difference_se=se, difference_low=diff - z * se,
                  difference_high=diff + z * se, alpha=alpha)
    return result
