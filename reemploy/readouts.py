"""Words and display tables from reemploy.figures results, for Trends and Who benefits.

Pure functions (no Streamlit, no DuckDB): sentences that say only what the 95% intervals
support, lists of suppressed cells, and the period-over-period table as people read it.
"""

from __future__ import annotations

import pandas as pd

from reemploy import formatting as fmt
from reemploy import stats
from reemploy.labels import COVARIATE_LABELS, level_label, program_label
from reemploy.definitions import definition, metric_label
from reemploy.figures.common import COMPARED_PROGRAMS
from reemploy.figures.headline import first_open_month
from reemploy.figures.trends import CHANGE_LAGS, COHORT_MEASURES
from reemploy.figures.who_benefits import CHARACTERISTIC_LEVELS


def _quarter(timestamp) -> str:
    timestamp = pd.Timestamp(timestamp)
    return f"{timestamp.year} Q{timestamp.quarter}"


def _signed(value: float, digits: int = 1) -> str:
    """+1.5 / -0.3 / 0.0: no "-0.0" for a value that rounds to zero."""
    return "0.0" if round(value, digits) == 0 else f"{value:+,.{digits}f}"


def _amount(value: float, measure: str) -> str:
    if measure == "median_monthly_wage":
        return f"{_signed(value, 0)} yuan"
    return f"{_signed(value * 100)} pp"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def characteristic_sentence(gaps: pd.DataFrame, characteristic: str) -> str | None:
    """One sentence on how the skills-vs-mindset gap (figures.who_benefits.program_gaps_by_characteristic)
    varies across the levels of `characteristic`, claiming only what the intervals support.

    - no level's interval excludes 0: "no clear difference";
    - clear gaps in both directions: who does better where;
    - clear gaps one way: "X's advantage is largest for A, clearly more than for B" (A and B the
      levels with the largest and smallest gap) only when the gap at A is itself clear and
      clearly larger than at B (stats.difference_from_intervals); otherwise where X does better.
    Levels 'unknown' and suppressed cells are not compared; None when no level can be.
    """
    part = gaps[(gaps["characteristic"] == characteristic) & (gaps["level"] != "unknown")
                & gaps["gap"].notna() & gaps["gap_low"].notna()]
    if part.empty:
        return None
    measure = part["measure"].iat[0]
    what = definition(measure).in_words
    by = COVARIATE_LABELS.get(characteristic, characteristic).lower()
    first, second = (program_label(p) for p in COMPARED_PROGRAMS)
    names = {level: level_label(characteristic, level) for level in part["level"]}
    ahead = part[part["gap_low"] > 0]
    behind = part[part["gap_high"] < 0]
    if ahead.empty and behind.empty:
        return (f"By {by}: no group shows a clear difference between {first.lower()} and "
                f"{second.lower()} in {what} (every 95% interval includes zero).")
    if not ahead.empty and not behind.empty:
        return (f"By {by}: {first} does better on {what} for "
                f"{_join([names[v] for v in ahead['level']])}, {second.lower()} for "
                f"{_join([names[v] for v in behind['level']])}.")
    if ahead.empty:
        winner, clear = second, behind
        advantage = part.assign(a=-part["gap"], a_low=-part["gap_high"], a_high=-part["gap_low"])
    else:
        winner, clear = first, ahead
        advantage = part.assign(a=part["gap"], a_low=part["gap_low"], a_high=part["gap_high"])
    top = advantage.loc[advantage["a"].idxmax()]
    bottom = advantage.loc[advantage["a"].idxmin()]
    if len(advantage) > 1:
        _, low, _ = stats.difference_from_intervals(top["a"], top["a_low"], top["a_high"],
                                                    bottom["a"], bottom["a_low"], bottom["a_high"])
        if low > 0 and top["a_low"] > 0:
            return (f"By {by}: {winner}'s advantage in {what} is largest for {names[top['level']]} "
                    f"({_amount(top['a'], measure)}), clearly more than for "
                    f"{names[bottom['level']]} ({_amount(bottom['a'], measure)}).")
    if len(clear) < len(part):
        return (f"By {by}: {winner} does better on {what} for "
                f"{_join([names[v] for v in clear['level']])}; elsewhere the difference is not clear.")
    if len(part) == 1:
        return f"By {by}: {winner} does better on {what} for {names[part['level'].iat[0]]}."
    return (f"By {by}: {winner} does better on {what} in every group; the data do not show the "
            "advantage differing between groups.")


def characteristic_sentences(gaps: pd.DataFrame, adjusted: bool = False) -> list[str]:
    """characteristic_sentence for age band, gender and education, those that have one, each
    saying whether it rests on gaps adjusted for who enrolled within the group
    (figures.who_benefits.adjusted_gaps_by_characteristic) or on raw gaps."""
    kind = "Adjusted for who enrolled within the group" if adjusted else "Raw, not adjusted"
    sentences = (characteristic_sentence(gaps, c) for c in CHARACTERISTIC_LEVELS)
    return [f"{kind}: {s[0].lower()}{s[1:]}" for s in sentences if s]


def suppressed_cells(df: pd.DataFrame, measure: str, min_cell: int) -> str | None:
    """"Not shown (fewer than 10 people): Mindset training, age 50+ (n = 4); ..." or None, then
    the cells hidden beside them so they cannot be worked out from the programme's total
    (complementary suppression). Cells with nobody to count (n = 0) hide nothing and are not
    listed."""
    hidden = df[df[f"{measure}_suppressed"].astype(bool) & (df[f"{measure}_n"] > 0)]
    if hidden.empty:
        return None
    reasons = hidden.get(f"{measure}_suppressed_reason", pd.Series("small", index=hidden.index))
    parts = {"small": [], "complementary": []}
    for row, reason in zip(hidden.to_dict("records"), reasons):
        characteristic = COVARIATE_LABELS.get(row["characteristic"], row["characteristic"]).lower()
        parts["complementary" if reason == "complementary" else "small"].append(
            f"{program_label(row['program_type'])}, {characteristic} "
            f"{level_label(row['characteristic'], row['level'])} (n = {int(row[f'{measure}_n']):,})")
    sentences = []
    if parts["small"]:
        sentences.append(f"Not shown (fewer than {min_cell} people): " + "; ".join(parts["small"]) + ".")
    if parts["complementary"]:
        sentences.append("Also not shown, so those cannot be worked out from the programme's total: "
                         + "; ".join(parts["complementary"]) + ".")
    return " ".join(sentences)


def _change_text(row: dict, change: str, min_cell: int) -> str:
    if not row[f"{change}_available"]:
        return "–"
    if row[f"{change}_suppressed"]:
        return fmt.suppressed_text(min_cell, row.get(f"{change}_suppressed_reason", "small"))
    value, low, high = (_signed(row[f"{change}{s}"] * 100) for s in ("", "_low", "_high"))
    return f"{value} pp ({low} to {high})"


CHANGE_HEADERS = {
    "change_vs_previous_quarter": "vs previous quarter (95% CI)",
    "change_vs_year_earlier": "vs same quarter a year earlier (95% CI)",
}


def changes_table(df: pd.DataFrame, measure: str, min_cell: int) -> pd.DataFrame:
    """figures.trends.placement_rate_changes as people read it: one row per quarter x programme with the
    rate, its n and the two changes in percentage points with Newcombe intervals;
    "suppressed (n < 10)" where either cohort is small, "–" where there is nothing to compare."""
    label = metric_label(measure)
    rows = []
    for row in df.to_dict("records"):
        if row[f"{measure}_suppressed"]:
            rate = fmt.suppressed_text(min_cell, row.get(f"{measure}_suppressed_reason", "small"))
        else:
            interval = fmt.interval(row[f"{measure}_low"], row[f"{measure}_high"])
            rate = f"{fmt.percent(row[measure])} ({interval})"
        shown = {
            "Quarter": _quarter(row["cohort_start"]),
            "Programme": program_label(row["program_type"]),
            label: rate,
            "Followed (n)": f"{int(row[f'{measure}_n']):,}",
        }
        for change in CHANGE_LAGS:
            shown[CHANGE_HEADERS[change]] = _change_text(row, change, min_cell)
        rows.append(shown)
    columns = ["Quarter", "Programme", label, "Followed (n)", *CHANGE_HEADERS.values()]
    return pd.DataFrame(rows, columns=columns)


def unobserved_quarters_note(cohorts: pd.DataFrame, measure: str) -> str | None:
    """Which recent quarters each programme leaves out of the change table because they are not
    fully observed yet (from figures.trends.placement_rate_by_cohort), or None."""
    _, complete = COHORT_MEASURES[measure]
    parts = []
    for program, part in cohorts.groupby("program_type", sort=False):
        done = part.loc[part[complete].astype(bool), "cohort_start"]
        later = part if done.empty else part[part["cohort_start"] > done.max()]
        if later.empty:
            continue
        parts.append(f"{program_label(program)} from {_quarter(later['cohort_start'].min())}")
    if not parts:
        return None
    return ("Not yet fully observed, so not in the table (their rates cover only the people who "
            "left early): " + "; ".join(parts) + ".")


def _verdict(row: dict) -> str:
    """ahead / behind / not clearly different, from the difference's 95% interval."""
    first, second = (program_label(p) for p in COMPARED_PROGRAMS)
    if row["difference_low"] > 0:
        return f"{first} is ahead"
    if row["difference_high"] < 0:
        return f"{first} is behind"
    return f"{first} and {second} cannot be told apart"


def _difference_text(row: dict) -> str:
    return (f"{_signed(row['difference'] * 100)} pp, 95% CI "
            f"{_signed(row['difference_low'] * 100)} to {_signed(row['difference_high'] * 100)}")


def clock_sentence(differences: pd.DataFrame) -> str | None:
    """The sentence that says which way each clock points (figures.headline.program_differences): placement
    within 180 days from exit, from enrollment and adjusted for who enrolled, and why they can
    differ. None when none of the three can be shown (suppressed or without both programmes)."""
    wanted = [("placement_rate_180d", "raw", "from exit"),
              ("placement_rate_180d_from_enrollment", "raw", "from enrollment"),
              ("placement_rate_180d", "adjusted", "adjusted for who enrolled (from exit)")]
    parts, verdicts = [], set()
    for measure, estimate, words in wanted:
        found = differences[(differences["measure"] == measure)
                            & (differences["estimate"] == estimate)]
        if found.empty or found["difference"].isna().iat[0] or found["difference_low"].isna().iat[0]:
            continue
        row = found.iloc[0].to_dict()
        verdict = _verdict(row)
        verdicts.add(verdict)
        parts.append(f"{words}, {verdict} ({_difference_text(row)})")
    if not parts:
        return None
    first, second = (program_label(p) for p in COMPARED_PROGRAMS)
    opening = (f"Placement within 180 days, {first} minus {second}: "
               if len(verdicts) == 1 else
               f"Which training is ahead in placement within 180 days depends on how it is "
               f"measured. {first} minus {second}: ")
    reason = ("Measured from exit, a long course gets its length for free and a job found during "
              "the course counts as a success; measured from enrollment, people still in a course "
              "search less (lock-in). The adjusted difference compares the same mix of age, "
              "gender, education, prior sector and district; it is not a causal effect.")
    return opening + "; ".join(parts) + ". " + reason


def observed_months_note(headline: pd.DataFrame) -> str | None:
    """Which enrollments the exit-based rates cover (figures.headline.headline_by_program): a visible note
    when enrollments followed already are left out because their month is not fully observed."""
    if headline.empty or "followed_180d_not_counted_count" not in headline:
        return None
    left_out = int(headline["followed_180d_not_counted_count"].sum())
    first_open = first_open_month(headline)
    if left_out == 0 or first_open is None:
        return None
    return (f"Placement within 180 days of exit counts only enrollment months in which everyone "
            f"has been followed 180 days after leaving (the first that is not: "
            f"{first_open:%Y-%m}); {left_out:,} enrollments of other months, followed already, are "
            "left out, because they are the ones who left early and counting them alone would "
            "flatter short courses. Employment in the 2nd and 4th "
            "quarter after exit needs longer follow-up and covers earlier months.")
