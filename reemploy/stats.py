"""Statistics behind the dashboard: intervals, survival curves, standardisation, suppression.

Pure functions on numpy / pandas input (no Streamlit, no DuckDB). The SQL layer aggregates
first (one row per group x day, or per group x stratum) so that nothing here ever has to see
one row per person; the definitions are in data/README.md ("Metrics").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from statistics import NormalDist

import numpy as np
import pandas as pd

# scipy.stats is imported where the log-rank test uses it: loaded with statsmodels' proportion
# module it would delay the first page every official opens after a server start
# (docs/performance.md). statsmodels remains the oracle the tests compare these intervals with.

KM_COLUMNS = ["day", "at_risk", "events", "censored", "survival", "survival_low", "survival_high"]


def _z(alpha: float) -> float:
    """The two-sided normal critical value (1.959964 for alpha = 0.05)."""
    return NormalDist().inv_cdf(1 - alpha / 2)


def _to_float(a) -> np.ndarray:
    """Float array with NaN for missing values (None, pd.NA, nullable dtypes)."""
    if np.ndim(a) == 0:
        return np.asarray(np.nan if pd.isna(a) else a, dtype=float)
    if isinstance(a, np.ndarray) and a.dtype.kind in "iuf":
        return a.astype(float)
    return pd.to_numeric(pd.Series(np.ravel(np.asarray(a, dtype=object))), errors="coerce") \
        .to_numpy(dtype=float, na_value=np.nan).reshape(np.shape(a))


# --------------------------------------------------------------------------- rates


def wilson_interval(successes, n, alpha: float = 0.05):
    """Wilson score interval for ``successes / n``, vectorised.

    The closed form ``(p + z²/2n -/+ z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)``, as
    ``statsmodels.stats.proportion.proportion_confint(method="wilson")`` computes it (the tests
    compare the two); written out so the first page does not wait for statsmodels' import.
    ``successes`` and ``n`` may be scalars, numpy arrays or pandas Series (aligned by
    position). Where ``n`` is 0 or missing, both limits are NaN; no warning is emitted.

    Returns ``(low, high)``: floats for scalar input, float numpy arrays otherwise.
    """
    scalar = np.ndim(successes) == 0 and np.ndim(n) == 0
    x, m = np.broadcast_arrays(np.atleast_1d(_to_float(successes)), np.atleast_1d(_to_float(n)))
    valid = np.isfinite(x) & np.isfinite(m) & (m > 0)
    if np.any(valid & ((x < 0) | (x > m))):
        raise ValueError("successes must lie between 0 and n")
    # A harmless n where the answer is NaN anyway, so nothing divides by zero.
    x, m = np.where(valid, x, 0.0), np.where(valid, m, 1.0)
    z2 = _z(alpha) ** 2
    p = x / m
    denominator = 1 + z2 / m
    center = (p + z2 / (2 * m)) / denominator
    half = np.sqrt(z2 * (p * (1 - p) / m + z2 / (4 * m**2))) / denominator
    low, high = center - half, center + half
    low = np.where(valid, low, np.nan).astype(float)
    high = np.where(valid, high, np.nan).astype(float)
    if scalar:
        return float(low[0]), float(high[0])
    return low, high


def newcombe_difference(x1, n1, x2, n2, alpha: float = 0.05) -> tuple[float, float, float]:
    """Difference ``p1 - p2`` with Newcombe's hybrid score interval (1998, method 10).

    From the two Wilson intervals (l1, u1) and (l2, u2): ``d - sqrt((p1 - l1)² + (u2 - p2)²)``
    to ``d + sqrt((u1 - p1)² + (p2 - l2)²)``, as ``confint_proportions_2indep(method="newcomb",
    compare="diff")`` in statsmodels computes it (the tests compare the two). Written out
    because the Trends and Who benefits pages ask for dozens of differences and statsmodels'
    per-call cost adds up (docs/performance.md). Returns ``(difference, low, high)``; all NaN if either
    denominator is 0 or missing.
    """
    difference, low, high = newcombe_differences(*([v] for v in (x1, n1, x2, n2)), alpha=alpha)
    return float(difference[0]), float(low[0]), float(high[0])


def newcombe_differences(x1, n1, x2, n2, alpha: float = 0.05):
    """newcombe_difference for many pairs at once (sequences aligned by position): three float
    arrays ``(difference, low, high)``, NaN where either denominator is 0 or missing."""
    x1, n1, x2, n2 = (np.atleast_1d(_to_float(v)).astype(float) for v in (x1, n1, x2, n2))
    valid = np.isfinite(x1) & np.isfinite(n1) & np.isfinite(x2) & np.isfinite(n2) \
        & (n1 > 0) & (n2 > 0)
    low1, high1 = wilson_interval(np.where(valid, x1, np.nan), n1, alpha)
    low2, high2 = wilson_interval(np.where(valid, x2, np.nan), n2, alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = x1 / n1, x2 / n2
    difference = np.where(valid, p1 - p2, np.nan)
    low = difference - np.sqrt((p1 - low1) ** 2 + (high2 - p2) ** 2)
    high = difference + np.sqrt((high1 - p1) ** 2 + (p2 - low2) ** 2)
    return difference, low, high


# --------------------------------------------------------------------------- survival


def kaplan_meier(days, events, censored, alpha: float = 0.05) -> pd.DataFrame:
    """Kaplan-Meier curve from aggregated counts (one group).

    ``days``, ``events``, ``censored`` are parallel arrays: for each day, how many people had
    the event (placement) and how many were censored on that day. Repeated days are summed;
    missing counts count as 0.
    The people at risk on day t are everyone with time >= t, so people censored on t still
    count as at risk for the events on t.

    Returns one row per distinct day, sorted, with columns ``day, at_risk, events, censored,
    survival, survival_low, survival_high``. ``survival`` is the product-limit estimate;
    the band is the pointwise interval on the log(-log) scale with Greenwood's variance,
    ``S ** exp(+-z * se / (S * |log S|))``, i.e. the "cloglog" transform statsmodels uses in
    ``SurvfuncRight.quantile_ci`` with the Greenwood SE of ``SurvfuncRight.surv_prob_se``.
    Before the first event the band is [1, 1]; once survival reaches 0 (everyone at risk had
    the event) Greenwood's variance is undefined and the band is NaN, as in statsmodels.

    Works on the counts directly (no expansion to one row per person), so it costs
    O(number of distinct days) whatever the number of people.
    """
    if np.asarray(days).size == 0:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in KM_COLUMNS})
    uday, at_risk, ev, ce, survival = _product_limit(days, events, censored)

    with np.errstate(divide="ignore", invalid="ignore"):
        # Greenwood: an all-events day (n == d) makes the variance infinite from then on;
        # statsmodels reports NaN there, and so do we.
        term = np.where(ev > 0, ev / (at_risk * (at_risk - ev)), 0.0)
        greenwood = np.cumsum(np.where(np.isfinite(term), term, np.nan))
        se = survival * np.sqrt(greenwood)
        low, high = _loglog_band(survival, se, _z(alpha))

    # Counts arrive as integers from SQL; keep them integers unless weights were fractional.
    counts = np.stack([at_risk, ev, ce])
    if np.all(counts == np.round(counts)):
        at_risk, ev, ce = counts.astype(np.int64)
    return pd.DataFrame({
        "day": uday,
        "at_risk": at_risk,
        "events": ev,
        "censored": ce,
        "survival": survival,
        "survival_low": low,
        "survival_high": high,
    })


def _product_limit(days, events, censored):
    """Distinct days (sorted) with the people at risk, events, censored and the product-limit
    survival on each: the arithmetic kaplan_meier and km_median_days share."""
    day_arr = np.asarray(days)
    ev_in, ce_in = _counts(events), _counts(censored)
    if (ev_in < 0).any() or (ce_in < 0).any():
        raise ValueError("event and censoring counts must be non-negative")
    uday, inv = np.unique(day_arr, return_inverse=True)
    ev = np.bincount(inv.ravel(), weights=ev_in, minlength=len(uday))
    ce = np.bincount(inv.ravel(), weights=ce_in, minlength=len(uday))
    at_risk = np.cumsum((ev + ce)[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(1.0 - np.where(ev > 0, ev / at_risk, 0.0))
    return uday, at_risk, ev, ce, survival


def _counts(values) -> np.ndarray:
    """Float counts with missing (or unreadable) ones as 0."""
    return np.nan_to_num(_to_float(np.asarray(values)), nan=0.0)


def km_median_days(days, events, censored) -> float | None:
    """Median time to the event: the smallest day on which the product-limit survival is at or
    below one half, or None if it never gets there. Only the survival column is computed: a
    median per district and programme is asked dozens of times per page.

    "At or below one half" is decided exactly. The floating-point running product misses the
    exact half by one unit in the last place (15 of 30 placed gives 0.5000000000000001), which
    put the median at the next event day or made it "not reached". Days whose float survival
    lies within ``_HALF_TOLERANCE`` of 0.5 are therefore settled in exact rational arithmetic
    (``_survival_at_or_below_half``); every other day is far enough from 0.5 that the float
    answer is the exact one.

    Note: ``SurvfuncRight.quantile(0.5)`` uses a strict ``< 0.5`` (the SAS convention) and so
    answers a later day when the curve sits exactly at 0.5; lifelines compares floats."""
    if np.asarray(days).size == 0:
        return None
    uday, at_risk, ev, _, survival = _product_limit(days, events, censored)
    candidates = np.flatnonzero(survival <= 0.5 + _HALF_TOLERANCE)
    for index in candidates:
        if survival[index] < 0.5 - _HALF_TOLERANCE:
            return float(uday[index])
        if _survival_at_or_below_half(at_risk[: index + 1], ev[: index + 1]):
            return float(uday[index])
    return None


# The float product of k factors is within about k * 1e-16 (relative) of the exact product; the
# tests check cases at 1e-12 of one half. 1e-9 leaves room for a million distinct days.
_HALF_TOLERANCE = 1e-9


def _survival_at_or_below_half(at_risk: np.ndarray, events: np.ndarray) -> bool:
    """Whether prod(1 - events/at_risk) <= 1/2, in exact arithmetic: 2 * prod(n - d) <= prod(n)
    for integer counts, Fractions of the (exactly represented) floats otherwise."""
    from fractions import Fraction

    steps = events > 0
    n, d = at_risk[steps], events[steps]
    if np.all(n == np.round(n)) and np.all(d == np.round(d)):
        numerator, denominator = 1, 1
        for people, placed in zip(n.astype(np.int64).tolist(), d.astype(np.int64).tolist()):
            numerator *= people - placed
            denominator *= people
        return 2 * numerator <= denominator
    product = Fraction(1)
    for people, placed in zip(n.tolist(), d.tolist()):
        product *= 1 - Fraction(placed) / Fraction(people)
    return product <= Fraction(1, 2)


def _loglog_band(survival: np.ndarray, se: np.ndarray, z: float):
    """Pointwise log(-log) interval; [1, 1] where S == 1, NaN where S == 0 or se is NaN."""
    inner = (survival > 0) & (survival < 1) & np.isfinite(se)
    s = np.where(inner, survival, 0.5)
    se_g = np.where(inner, se, 0.0) / (s * np.abs(np.log(s)))
    low = np.where(inner, s ** np.exp(z * se_g), np.nan)
    high = np.where(inner, s ** np.exp(-z * se_g), np.nan)
    at_one = survival >= 1
    low[at_one] = 1.0
    high[at_one] = 1.0
    return low, high


def logrank_test(groups: pd.DataFrame) -> tuple[float, float]:
    """Log-rank test from aggregated counts; returns ``(chi2, p_value)`` with k - 1 df.

    ``groups`` has columns ``group, day, events, censored`` (one row per group x day; repeated
    rows are summed). Two or more groups. Same statistic as
    ``statsmodels.duration.survfunc.survdiff`` on the expanded data, but computed on the
    day x group table. NaN if fewer than two groups have anyone at risk or there are no events.
    """
    codes, labels = pd.factorize(groups["group"])
    ev_in = pd.to_numeric(groups["events"], errors="coerce").fillna(0).to_numpy(float)
    ce_in = pd.to_numeric(groups["censored"], errors="coerce").fillna(0).to_numpy(float)
    uday, di = np.unique(groups["day"].to_numpy(), return_inverse=True)

    k = len(labels)
    E = np.zeros((len(uday), k))
    C = np.zeros((len(uday), k))
    np.add.at(E, (di.ravel(), codes), ev_in)
    np.add.at(C, (di.ravel(), codes), ce_in)
    present = (E + C).sum(axis=0) > 0
    E, C = E[:, present], C[:, present]
    k = E.shape[1]
    if k < 2:
        return np.nan, np.nan

    N = np.cumsum((E + C)[::-1], axis=0)[::-1]
    d = E.sum(axis=1)
    n = N.sum(axis=1)
    keep = n > 1  # a single person at risk contributes nothing (as in statsmodels)
    E, N, d, n = E[keep], N[keep], d[keep], n[keep]

    r = N / n[:, None]
    o_minus_e = (E - r * d[:, None]).sum(axis=0)
    s = d * (n - d) / (n - 1)
    # Hypergeometric covariance summed over days: diag(sum s r) - sum s r r'.
    V = np.diag((s[:, None] * r).sum(axis=0)) - (r * s[:, None]).T @ r
    # The k statistics sum to zero; drop one group to get an invertible (k-1)x(k-1) system.
    try:
        chi2 = float(o_minus_e[1:] @ np.linalg.solve(V[1:, 1:], o_minus_e[1:]))
    except np.linalg.LinAlgError:
        return np.nan, np.nan
    if not np.isfinite(chi2):
        return np.nan, np.nan
    from scipy.stats import chi2 as chi2_distribution

    return chi2, float(chi2_distribution.sf(chi2, k - 1))


# --------------------------------------------------------------------------- composition


def _two_group_table(df, value_cols, group_col, strata_cols, treated, control):
    """Sum value_cols by stratum for the two groups; columns become (value, group)."""
    strata_cols = list(strata_cols)
    sub = df[df[group_col].isin([treated, control])]
    agg = sub.groupby(strata_cols + [group_col], dropna=False, observed=True)[list(value_cols)].sum()
    wide = agg.unstack(group_col, fill_value=0)
    for col in value_cols:
        for g in (treated, control):
            if (col, g) not in wide.columns:
                wide[(col, g)] = 0.0
    return wide.astype(float)


def adjusted_difference(df: pd.DataFrame, outcome_n: str, outcome_x: str, group_col: str,
                        strata_cols: Iterable[str], treated, control, alpha: float = 0.05) -> dict:
    """Raw and directly standardised rates for two groups, and their difference.

    ``df`` has one row per group x stratum with a denominator ``outcome_n`` and successes
    ``outcome_x``. The standard population is the two groups' pooled denominators, restricted
    to strata where both groups have n > 0 (common support). Each group's adjusted rate is
    ``sum_s w_s * p_gs`` with ``w_s`` the pooled share of stratum s within the common support;
    the interval for the adjusted difference is normal with variance
    ``sum_s w_s**2 * (p1 (1 - p1) / n1 + p0 (1 - p0) / n0)``.

    Returns a dict with ``raw_treated, raw_control, raw_difference, adjusted_treated,
    adjusted_control, adjusted_difference, adjusted_low, adjusted_high, excluded_share``
    (share of the pooled denominator outside common support), ``strata_used``, and the sums
    ``treated_n, control_n, treated_x, control_x`` (all strata) and ``treated_n_common,
    control_n_common`` (common support).
    This is an "adjusted difference", not an effect: it only removes the listed composition.
    """
    wide = _two_group_table(df, [outcome_n, outcome_x], group_col, strata_cols, treated, control)
    n1, n0 = wide[(outcome_n, treated)].to_numpy(), wide[(outcome_n, control)].to_numpy()
    x1, x0 = wide[(outcome_x, treated)].to_numpy(), wide[(outcome_x, control)].to_numpy()

    with np.errstate(divide="ignore", invalid="ignore"):
        raw_t = x1.sum() / n1.sum() if n1.sum() > 0 else np.nan
        raw_c = x0.sum() / n0.sum() if n0.sum() > 0 else np.nan
        pooled = n1 + n0
        common = (n1 > 0) & (n0 > 0)
        total = pooled.sum()
        excluded = float(pooled[~common].sum() / total) if total > 0 else np.nan
        result = {
            "raw_treated": float(raw_t),
            "raw_control": float(raw_c),
            "raw_difference": float(raw_t - raw_c),
            "adjusted_treated": np.nan,
            "adjusted_control": np.nan,
            "adjusted_difference": np.nan,
            "adjusted_low": np.nan,
            "adjusted_high": np.nan,
            "excluded_share": excluded,
            "strata_used": int(common.sum()),
            "treated_n": float(n1.sum()),
            "control_n": float(n0.sum()),
            "treated_x": float(x1.sum()),
            "control_x": float(x0.sum()),
            "treated_n_common": float(n1[common].sum()),
            "control_n_common": float(n0[common].sum()),
        }
        if not common.any():
            return result
        w = pooled[common] / pooled[common].sum()
        p1 = x1[common] / n1[common]
        p0 = x0[common] / n0[common]
        adj_t, adj_c = float(w @ p1), float(w @ p0)
        var = float(np.sum(w**2 * (p1 * (1 - p1) / n1[common] + p0 * (1 - p0) / n0[common])))
    half = _z(alpha) * np.sqrt(var)
    diff = adj_t - adj_c
    result.update(adjusted_treated=adj_t, adjusted_control=adj_c, adjusted_difference=diff,
                  adjusted_low=diff - half, adjusted_high=diff + half)
    return result


def balance_table(df: pd.DataFrame, group_col: str, strata_cols: Iterable[str], count_col: str,
                  treated, control) -> pd.DataFrame:
    """Covariate balance between two groups, one row per covariate x level.

    For each column in ``strata_cols`` and each of its levels: the share of ``count_col``
    among treated, among control, in the pooled standard population, and the raw standardized
    difference ``(p1 - p0) / sqrt((p1 (1 - p1) + p0 (1 - p0)) / 2)``. After direct
    standardisation both groups carry the pooled shares, so the adjusted difference is 0 by
    construction and is not a column. Missing levels are kept as their own level.

    Columns: ``covariate, level, share_treated, share_control, share_pooled, std_diff_raw``.
    """
    frames = []
    groups = df[group_col]
    in_treated, in_control = (groups == treated).to_numpy(), (groups == control).to_numpy()
    both = in_treated | in_control
    weights = df[count_col].to_numpy(dtype=float)[both]
    treated_weights = np.where(in_treated[both], weights, 0.0)
    control_weights = np.where(in_control[both], weights, 0.0)
    for cov in strata_cols:
        # The levels present in either group, sorted, a missing level last (as groupby sorts);
        # counted with bincount: grouping strings with pandas took four times as long.
        codes, levels = pd.factorize(df.loc[both, cov], sort=True, use_na_sentinel=False)
        c1 = pd.Series(np.bincount(codes, weights=treated_weights, minlength=len(levels)))
        c0 = pd.Series(np.bincount(codes, weights=control_weights, minlength=len(levels)))
        with np.errstate(divide="ignore", invalid="ignore"):
            p1 = c1 / c1.sum()
            p0 = c0 / c0.sum()
            pp = (c1 + c0) / (c1.sum() + c0.sum())
            denom = np.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2)
            # Levels at 0 % (or 100 %) in both groups are perfectly balanced, not undefined.
            std = np.where(p1 == p0, 0.0, (p1 - p0) / denom)
        frames.append(pd.DataFrame({
            "covariate": cov,
            "level": np.asarray(levels, dtype=object),
            "share_treated": p1.to_numpy(),
            "share_control": p0.to_numpy(),
            "share_pooled": pp.to_numpy(),
            "std_diff_raw": std,
        }))
    if not frames:
        return pd.DataFrame(columns=["covariate", "level", "share_treated", "share_control",
                                     "share_pooled", "std_diff_raw"])
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- disclosure


def suppress(df: pd.DataFrame, min_cell: int = 10, unreliable_below: int = 30,
             extra: Mapping[str, list[str]] | None = None) -> pd.DataFrame:
    """The one disclosure-control step: blank small-denominator measures, flag unreliable ones.

    Convention: a measure column ``m`` has its denominator in ``m_n``. The columns governed by
    ``m_n`` are exactly ``m``, ``m_low``, ``m_high`` (those present) plus any listed in
    ``extra[m]``. Governed values become NaN where ``m_n < min_cell``; a missing ``m_n`` counts
    as 0. Adds boolean ``m_suppressed`` (n < min_cell) and ``m_unreliable``
    (min_cell <= n < unreliable_below). ``m_n`` itself is kept. Returns a copy.

    The explicit list (rather than "every column starting with m_") keeps ``placement_rate_n``
    from blanking ``placement_rate_180d`` and its limits, which ``placement_rate_180d_n`` governs.
    """
    extra = dict(extra or {})
    cols = list(df.columns)
    present = set(cols)
    measures = [c[:-2] for c in cols
                if isinstance(c, str) and c.endswith("_n") and (c[:-2] in present or c[:-2] in extra)]
    # The new columns are gathered and the frame built once: a page suppresses a dozen tables,
    # and setting columns one by one copies the frame each time.
    changed: dict = {}
    dropped = []
    for m in measures:
        n = pd.to_numeric(df[f"{m}_n"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        n = np.nan_to_num(n, nan=0.0)
        hidden = n < min_cell
        if f"{m}_extreme" in present:
            # A rate of 0% or 100% tells every member of a small group their outcome (issue 13).
            extreme = (df[f"{m}_extreme"].astype("boolean").fillna(False).to_numpy(dtype=bool)
                       & (n < EXTREME_FACTOR * min_cell) & ~hidden & (min_cell > 1))
            if extreme.any():
                changed[f"{m}_suppressed_reason"] = np.where(
                    hidden, SUPPRESSED_SMALL, np.where(extreme, SUPPRESSED_EXTREME, "")).astype(object)
            hidden = hidden | extreme
            dropped.append(f"{m}_extreme")  # it would say which hidden rate is 0% or 100%
        governed = [c for c in [m, f"{m}_low", f"{m}_high", *extra.get(m, [])] if c in present]
        for c in dict.fromkeys(governed):
            changed[c] = _blank(df[c], hidden)
        changed[f"{m}_suppressed"] = hidden
        changed[f"{m}_unreliable"] = (n >= min_cell) & (n < unreliable_below)
    columns = {c: changed.pop(c) if c in changed else df[c] for c in cols if c not in dropped}
    columns.update(changed)
    return pd.DataFrame(columns, index=df.index)


def _blank(col: pd.Series, hidden: np.ndarray) -> pd.Series:
    """NaN where hidden; numeric columns become float64 so NaN is never pd.NA."""
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        values = col.to_numpy(dtype=float, na_value=np.nan)
        return pd.Series(np.where(hidden, np.nan, values), index=col.index, name=col.name)
    return col.astype(object).where(~hidden, np.nan)


SUPPRESSED_SMALL = "small"
SUPPRESSED_COMPLEMENTARY = "complementary"
SUPPRESSED_EXTREME = "extreme"
# A 0% or 100% rate is suppressed below this many times the threshold (30 people at 10). A
# threshold of 1 means no suppression at all (hand-worked tests, local analysis): none either.
EXTREME_FACTOR = 3


def suppress_cells(df: pd.DataFrame, measure: str, hidden, reason: str = SUPPRESSED_COMPLEMENTARY,
                   blank: Iterable[str] = ()) -> pd.DataFrame:
    """Suppress `measure` in the rows where `hidden` is True, whatever their denominator: blank
    ``m``, ``m_low``, ``m_high`` and the `blank` columns (numerators), set ``m_suppressed`` and
    ``m_suppressed_reason`` (`reason`; rows already suppressed keep theirs), clear
    ``m_unreliable``. For cells that would give a suppressed one away (see
    complementary_suppress). Returns a copy; ``m_n`` is kept."""
    hidden = np.asarray(hidden, dtype=bool)
    flag, why = f"{measure}_suppressed", f"{measure}_suppressed_reason"
    unreliable = f"{measure}_unreliable"
    before = (df[flag].astype("boolean").fillna(False).to_numpy(dtype=bool) if flag in df
              else np.zeros(len(df), dtype=bool))
    reasons = (df[why].astype(object).to_numpy() if why in df
               else np.where(before, SUPPRESSED_SMALL, "").astype(object))
    # Gathered and built once, as in suppress.
    changed: dict = {why: np.where(hidden & ~before, reason, reasons)}
    for column in dict.fromkeys([measure, f"{measure}_low", f"{measure}_high", *blank]):
        if column in df:
            changed[column] = _blank(df[column], hidden)
    changed[flag] = before | hidden
    if unreliable in df:
        changed[unreliable] = df[unreliable].astype(bool).to_numpy() & ~changed[flag]
    columns = {c: changed.pop(c) if c in changed else df[c] for c in df.columns}
    columns.update(changed)
    return pd.DataFrame(columns, index=df.index)


def complementary_suppress(df: pd.DataFrame, group_cols: Iterable[str], measure: str,
                           min_cell: int = 10, successes=None,
                           blank: Iterable[str] = ()) -> pd.DataFrame:
    """Complementary suppression: hide more cells so no suppressed one can be worked out by
    subtraction.

    A breakdown's cells add up, within each group (a programme's districts, its enrollment
    quarters, its age bands), to a total shown elsewhere (the programme's headline figure for the
    same filters). One suppressed cell beside visible siblings is then the total minus the
    siblings. So within each group of `group_cols`, while the hidden cells with anybody in them
    are exactly one, or have fewer than `min_cell` people together, the visible cell with the
    fewest people is hidden too. With `successes` (the numerators before suppression, aligned
    with `df`), cells are also added while the hidden ones are all failures or all successes
    (their sum would then give every one of them), using only cells that change that; when the
    whole group is all failures or all successes, its total gives every cell away and hiding
    more cannot help. Cells with nobody hide nothing and cover nothing.

    `df` is the output of `suppress` for `measure` (``m_n``, ``m_suppressed``). Added cells are
    suppressed by suppress_cells (reason "complementary", `blank` columns blanked), and every row
    gets ``m_suppressed_reason``: "small" (fewer than min_cell), "complementary" or "".
    Denominators stay: the protection holds even for a reader who knows every cell's n.
    """
    n = pd.to_numeric(df[f"{measure}_n"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    n = np.nan_to_num(n, nan=0.0)
    hidden = df[f"{measure}_suppressed"].astype("boolean").fillna(False).to_numpy(dtype=bool).copy()
    primary = hidden.copy()
    x = None if successes is None else np.nan_to_num(
        pd.to_numeric(pd.Series(np.asarray(successes)), errors="coerce").to_numpy(dtype=float,
                                                                              na_value=np.nan))
    group_cols = list(group_cols)
    groups = (df.reset_index(drop=True).groupby(group_cols, sort=False, dropna=False).indices.values()
              if group_cols else [np.arange(len(df))])
    for rows in groups:
        people = np.asarray(rows)[n[np.asarray(rows)] > 0]
        while True:
            covered = people[hidden[people]]
            if covered.size == 0:
                break
            candidates = people[~hidden[people]]
            if covered.size == 1 or n[covered].sum() < min_cell:
                useful = candidates
            elif x is not None and x[covered].sum() in (0, n[covered].sum()):
                all_failed = x[covered].sum() == 0
                useful = candidates[x[candidates] > 0] if all_failed else \
                    candidates[x[candidates] < n[candidates]]
            else:
                break
            if useful.size == 0:
                break
            # The first of the smallest: the same cells on every run.
            hidden[useful[np.argmin(n[useful])]] = True
    out = suppress_cells(df, measure, np.zeros(len(df), dtype=bool))
    return suppress_cells(out, measure, hidden & ~primary, SUPPRESSED_COMPLEMENTARY, blank)


def difference_from_intervals(a, a_low, a_high, b, b_low, b_high,
                              alpha: float = 0.05) -> tuple[float, float, float]:
    """``a - b`` for two independent estimates known only by their 95% intervals.

    Each standard error is recovered from its interval as ``(high - low) / (2 z)`` and the
    difference gets the normal interval ``(a - b) +- z * sqrt(se_a**2 + se_b**2)``. Meant for
    estimates without a closed-form difference interval: two medians with order-statistic
    intervals, or two rate differences at different levels of a characteristic (is the gap
    larger for one group of people than for another?). Asymmetric intervals are averaged into
    one standard error, which is approximate. Returns ``(difference, low, high)``; all NaN if
    any input is missing.
    """
    values = [float(_to_float(v)) for v in (a, a_low, a_high, b, b_low, b_high)]
    if not np.isfinite(values).all():
        return np.nan, np.nan, np.nan
    a, a_low, a_high, b, b_low, b_high = values
    z = _z(0.05)
    se = np.hypot((a_high - a_low) / (2 * z), (b_high - b_low) / (2 * z))
    half = _z(alpha) * se
    return a - b, a - b - half, a - b + half
