"""Words and display tables from reemploy.figures results, for Trends and Who benefits.

Pure functions (no Streamlit, no DuckDB): sentences that say only what the 95% intervals
support, lists of suppressed cells, and the period-over-period table as people read it.
Every sentence is one gettext message with named placeholders (reemploy.i18n), in the language
of the current run; numbers and intervals come from reemploy.formatting.
"""

from __future__ import annotations

import pandas as pd

from reemploy import formatting as fmt
from reemploy import i18n
from reemploy import stats
from reemploy.i18n import _, N_
from reemploy.labels import covariate_label, level_label, program_label
from reemploy.definitions import definition, metric_label
from reemploy.figures.common import COMPARED_PROGRAMS
from reemploy.figures.headline import first_open_month
from reemploy.figures.trends import CHANGE_LAGS, COHORT_MEASURES
from reemploy.figures.who_benefits import CHARACTERISTIC_LEVELS


def _quarter(timestamp) -> str:
    timestamp = pd.Timestamp(timestamp)
    return i18n.quarter(timestamp.year, timestamp.quarter)


def _amount(value: float, measure: str) -> str:
    if measure == "median_monthly_wage":
        return fmt.signed(value, 0, "yuan")
    return fmt.points(value)


def _sentences(sentences: list[str]) -> str:
    """Sentences one after the other (a space between them in English, none in Chinese)."""
    text = ""
    for sentence in sentences:
        text = sentence if not text else _("{sentence} {next_sentence}").format(
            sentence=text, next_sentence=sentence)
    return text


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
    by = i18n.inside_sentence(covariate_label(characteristic))
    first, second = (program_label(p) for p in COMPARED_PROGRAMS)
    names = {level: level_label(characteristic, level) for level in part["level"]}
    ahead = part[part["gap_low"] > 0]
    behind = part[part["gap_high"] < 0]
    if ahead.empty and behind.empty:
        return _("By {characteristic}: no group shows a clear difference between {first} and "
                 "{second} in {measure} (every 95% interval includes zero).").format(
            characteristic=by, first=i18n.inside_sentence(first), second=i18n.inside_sentence(second), measure=what)
    if not ahead.empty and not behind.empty:
        return _("By {characteristic}: {first} does better on {measure} for {first_groups}, "
                 "{second} for {second_groups}.").format(
            characteristic=by, first=first, measure=what,
            first_groups=i18n.join([names[v] for v in ahead["level"]]), second=i18n.inside_sentence(second),
            second_groups=i18n.join([names[v] for v in behind["level"]]))
    if ahead.empty:
        winner, clear = second, behind
        advantage = part.assign(a=-part["gap"], a_low=-part["gap_high"], a_high=-part["gap_low"])
    else:
        winner, clear = first, ahead
        advantage = part.assign(a=part["gap"], a_low=part["gap_low"], a_high=part["gap_high"])
    top = advantage.loc[advantage["a"].idxmax()]
    bottom = advantage.loc[advantage["a"].idxmin()]
    if len(advantage) > 1:
        _difference, low, _high = stats.difference_from_intervals(
            top["a"], top["a_low"], top["a_high"], bottom["a"], bottom["a_low"], bottom["a_high"])
        if low > 0 and top["a_low"] > 0:
            return _("By {characteristic}: {programme}'s advantage in {measure} is largest for "
                     "{top_group} ({top_amount}), clearly more than for {bottom_group} "
                     "({bottom_amount}).").format(
                characteristic=by, programme=winner, measure=what,
                top_group=names[top["level"]], top_amount=_amount(top["a"], measure),
                bottom_group=names[bottom["level"]], bottom_amount=_amount(bottom["a"], measure))
    if len(clear) < len(part):
        return _("By {characteristic}: {programme} does better on {measure} for {groups}; "
                 "elsewhere the difference is not clear.").format(
            characteristic=by, programme=winner, measure=what,
            groups=i18n.join([names[v] for v in clear["level"]]))
    if len(part) == 1:
        return _("By {characteristic}: {programme} does better on {measure} for "
                 "{group}.").format(characteristic=by, programme=winner, measure=what,
                                    group=names[part["level"].iat[0]])
    return _("By {characteristic}: {programme} does better on {measure} in every group; the "
             "data do not show the advantage differing between groups.").format(
        characteristic=by, programme=winner, measure=what)


def characteristic_sentences(gaps: pd.DataFrame, adjusted: bool = False) -> list[str]:
    """characteristic_sentence for age band, gender and education, those that have one, each
    saying whether it rests on gaps adjusted for who enrolled within the group
    (figures.who_benefits.adjusted_gaps_by_characteristic) or on raw gaps."""
    template = (_("Adjusted for who enrolled within the group: {sentence}") if adjusted
                else _("Raw, not adjusted: {sentence}"))
    sentences = (characteristic_sentence(gaps, c) for c in CHARACTERISTIC_LEVELS)
    return [template.format(sentence=s[0].lower() + s[1:] if i18n.language() == "en" else s)
            for s in sentences if s]


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
        parts["complementary" if reason == "complementary" else "small"].append(
            _("{programme}, {characteristic} {group} (n = {n})").format(
                programme=program_label(row["program_type"]),
                characteristic=i18n.inside_sentence(covariate_label(row["characteristic"])),
                group=level_label(row["characteristic"], row["level"]),
                n=i18n.number(int(row[f"{measure}_n"]))))
    separator = _("; ")
    sentences = []
    if parts["small"]:
        sentences.append(_("Not shown (fewer than {min_cell} people): {cells}.").format(
            min_cell=i18n.number(min_cell), cells=separator.join(parts["small"])))
    if parts["complementary"]:
        sentences.append(_("Also not shown, so those cannot be worked out from the programme's "
                           "total: {cells}.").format(cells=separator.join(parts["complementary"])))
    return _sentences(sentences)


def _change_text(row: dict, change: str, min_cell: int) -> str:
    if not row[f"{change}_available"]:
        return fmt.MISSING
    if row[f"{change}_suppressed"]:
        return fmt.suppressed_text(min_cell, row.get(f"{change}_suppressed_reason", "small"))
    return fmt.with_interval(fmt.points(row[change]),
                             fmt.interval(row[f"{change}_low"], row[f"{change}_high"],
                                          kind="difference"))


CHANGE_HEADERS = {
    "change_vs_previous_quarter": N_("vs previous quarter (95% CI)"),
    "change_vs_year_earlier": N_("vs same quarter a year earlier (95% CI)"),
}


def change_header(change: str) -> str:
    """The title of a change column of changes_table, in the current language."""
    return _(CHANGE_HEADERS[change])


def changes_table(df: pd.DataFrame, measure: str, min_cell: int) -> pd.DataFrame:
    """figures.trends.placement_rate_changes as people read it: one row per quarter x programme with the
    rate, its n and the two changes in percentage points with Newcombe intervals;
    "suppressed (n < 10)" where either cohort is small, "–" where there is nothing to compare."""
    label = metric_label(measure)
    quarter, programme, followed = _("Quarter"), _("Programme"), _("Followed (n)")
    headers = {change: change_header(change) for change in CHANGE_LAGS}
    rows = []
    for row in df.to_dict("records"):
        if row[f"{measure}_suppressed"]:
            rate = fmt.suppressed_text(min_cell, row.get(f"{measure}_suppressed_reason", "small"))
        else:
            rate = fmt.with_interval(fmt.percent(row[measure]),
                                     fmt.interval(row[f"{measure}_low"], row[f"{measure}_high"]))
        shown = {
            quarter: _quarter(row["cohort_start"]),
            programme: program_label(row["program_type"]),
            label: rate,
            followed: i18n.number(int(row[f"{measure}_n"])),
        }
        for change in CHANGE_LAGS:
            shown[headers[change]] = _change_text(row, change, min_cell)
        rows.append(shown)
    columns = [quarter, programme, label, followed, *headers.values()]
    return pd.DataFrame(rows, columns=columns)


def unobserved_quarters_note(cohorts: pd.DataFrame, measure: str) -> str | None:
    """Which recent quarters each programme leaves out of the change table because they are not
    fully observed yet (from figures.trends.placement_rate_by_cohort), or None."""
    _placed, complete = COHORT_MEASURES[measure]
    parts = []
    for program, part in cohorts.groupby("program_type", sort=False):
        done = part.loc[part[complete].astype(bool), "cohort_start"]
        later = part if done.empty else part[part["cohort_start"] > done.max()]
        if later.empty:
            continue
        parts.append(_("{programme} from {quarter}").format(
            programme=program_label(program), quarter=_quarter(later["cohort_start"].min())))
    if not parts:
        return None
    return _("Not yet fully observed, so not in the table (their rates cover only the people who "
             "left early): {quarters}.").format(quarters=_("; ").join(parts))


def _verdict(row: dict) -> str:
    """ahead / behind / not clearly different, from the difference's 95% interval."""
    first, second = (program_label(p) for p in COMPARED_PROGRAMS)
    if row["difference_low"] > 0:
        return _("{first} is ahead").format(first=first)
    if row["difference_high"] < 0:
        return _("{first} is behind").format(first=first)
    return _("{first} and {second} cannot be told apart").format(first=first, second=second)


def _difference_text(row: dict) -> str:
    """"+1.5 pp, 95% CI -0.3 to +3.2 pp"."""
    return _("{difference}, {interval}").format(
        difference=fmt.points(row["difference"]),
        interval=fmt.interval(row["difference_low"], row["difference_high"], kind="difference"))


CLOCKS = (
    ("placement_rate_180d", "raw", N_("from exit")),
    ("placement_rate_180d_from_enrollment", "raw", N_("from enrollment")),
    ("placement_rate_180d", "adjusted", N_("adjusted for who enrolled (from exit)")),
)


def clock_sentence(differences: pd.DataFrame) -> str | None:
    """The sentence that says which way each clock points (figures.headline.program_differences): placement
    within 180 days from exit, from enrollment and adjusted for who enrolled, and why they can
    differ. None when none of the three can be shown (suppressed or without both programmes)."""
    parts, verdicts = [], set()
    for measure, estimate, words in CLOCKS:
        found = differences[(differences["measure"] == measure)
                            & (differences["estimate"] == estimate)]
        if found.empty or found["difference"].isna().iat[0] or found["difference_low"].isna().iat[0]:
            continue
        row = found.iloc[0].to_dict()
        verdict = _verdict(row)
        verdicts.add(verdict)
        parts.append(_("{clock}, {verdict} ({difference})").format(
            clock=_(words), verdict=verdict, difference=_difference_text(row)))
    if not parts:
        return None
    first, second = (program_label(p) for p in COMPARED_PROGRAMS)
    clocks = _("; ").join(parts)
    if len(verdicts) == 1:
        opening = _("Placement within 180 days, {first} minus {second}: {clocks}.").format(
            first=i18n.inside_sentence(first), second=i18n.inside_sentence(second), clocks=clocks)
    else:
        opening = _("Which training is ahead in placement within 180 days depends on how it is "
                    "measured. {first} minus {second}: {clocks}.").format(
            first=first, second=i18n.inside_sentence(second), clocks=clocks)
    reason = _("Measured from exit, a long course gets its length for free and a job found "
               "during the course counts as a success; measured from enrollment, people still in "
               "a course search less (lock-in). The adjusted difference compares the same mix of "
               "age, gender, education, prior sector and district; it is not a causal effect.")
    return _sentences([opening, reason])


def observed_months_note(headline: pd.DataFrame) -> str | None:
    """Which enrollments the exit-based rates cover (figures.headline.headline_by_program): a visible note
    when enrollments followed already are left out because their month is not fully observed."""
    if headline.empty or "followed_180d_not_counted_count" not in headline:
        return None
    left_out = int(headline["followed_180d_not_counted_count"].sum())
    first_open = first_open_month(headline)
    if left_out == 0 or first_open is None:
        return None
    return _("Placement within 180 days of exit counts only enrollment months in which everyone "
             "has been followed 180 days after leaving (the first that is not: {month}); "
             "{count} enrollments of other months, followed already, are left out, because they "
             "are the ones who left early and counting them alone would flatter short courses. "
             "Employment in the 2nd and 4th quarter after exit needs longer follow-up and covers "
             "earlier months.").format(month=i18n.month(first_open), count=i18n.number(left_out))


def _p_value(p: float) -> str:
    if p < 0.001:
        return _("p < 0.001")
    return _("p = {p}").format(p=i18n.number(p, 3))


def logrank_sentence(logrank: pd.DataFrame, curves_cross: bool = False) -> str:
    """What the log-rank test of figures.compare.reemployment_logrank says, in words: whether
    the skills and mindset curves differ more than chance would explain (p < 0.05), and, when
    the curves cross, that the test does not say which is ahead. The statistic itself is in
    logrank_note, for analysts."""
    first, second = (program_label(p) for p in COMPARED_PROGRAMS)
    test = logrank.iloc[0] if not logrank.empty else None
    if test is None or bool(test.get("logrank_chi2_suppressed", False)) \
            or pd.isna(test["logrank_chi2"]):
        return _("Whether the {first} and {second} curves differ is not shown (too few "
                 "people).").format(first=i18n.inside_sentence(first), second=i18n.inside_sentence(second))
    if test["logrank_p_value"] < 0.05:
        text = _("The {first} and {second} curves differ by more than chance would "
                 "explain.").format(first=i18n.inside_sentence(first), second=i18n.inside_sentence(second))
        if curves_cross:
            text = _sentences([text, _("The curves cross, so this says only that they differ, "
                                       "not which is ahead: see days without a job below.")])
        return text
    return _("The data cannot tell the {first} and {second} curves apart: the difference "
             "between them is within what chance would give.").format(
        first=i18n.inside_sentence(first), second=i18n.inside_sentence(second))


def logrank_note(logrank: pd.DataFrame) -> str | None:
    """The log-rank statistic behind logrank_sentence, for analysts: "For analysts: log-rank
    test, chi-squared = 404.2 with 1 degree of freedom, p < 0.001."; None when not shown."""
    test = logrank.iloc[0] if not logrank.empty else None
    if test is None or bool(test.get("logrank_chi2_suppressed", False)) \
            or pd.isna(test["logrank_chi2"]):
        return None
    return _("For analysts: log-rank test, χ² = {chi2} with 1 degree of freedom, "
             "{p_value}.").format(chi2=i18n.number(test["logrank_chi2"], 1),
                                  p_value=_p_value(test["logrank_p_value"]))
