"""What every number means: definitions, denominators and caveats, as data.

The About page renders these, and so can anything else that needs to explain a figure (the
meeting pack, a table's help text). The wording follows data/README.md (Metrics) and
what queries/*.sql and reemploy/figures/ compute; `queries` names the SQL files so an analyst
can check (shown only in the "For analysts" note of metric_markdown, never in the definition).

The texts are English msgids marked with N_(): a Definition's and a Method's attributes
(`label`, `definition`, `denominator`, `caveats`, `in_words`, `standard`, `text`, `analysts`)
return them translated into the language of the current run (reemploy.i18n), with their
{placeholders} filled, so `definition(metric).label`, `METRICS[metric].denominator`,
`METHODS[key].text`, metric_label, metric_markdown and method_markdown all read in that
language. The data dictionary (data/README.md) keeps the column names and codes.
"""

from __future__ import annotations

from reemploy import i18n
from reemploy.i18n import _, N_
from reemploy.figures.common import DEFAULT_MIN_CELL, UNRELIABLE_BELOW

# The {placeholders} the texts may hold, filled when they are read.
_VALUES = {"min_cell": DEFAULT_MIN_CELL, "unreliable_below": UNRELIABLE_BELOW}


def _translated(message: str) -> str:
    if not message:
        return ""
    text = _(message)
    if "{" not in text:
        return text
    return text.format(**{key: i18n.number(value) for key, value in _VALUES.items()})


class Definition:
    """One metric: its name on screen, what it counts, over whom, and how not to misread it.

    Constructed from English msgids; every text attribute reads translated (module docstring).
    `unit` and `queries` are codes: "rate", "days", "yuan", "ratio", "count"; SQL file names."""

    __slots__ = ("unit", "queries", "_label", "_definition", "_denominator", "_caveats",
                 "_phrase", "_standard")

    def __init__(self, label: str, unit: str, definition: str, denominator: str,
                 caveats: tuple[str, ...] = (), queries: tuple[str, ...] = (), phrase: str = "",
                 standard: str = ""):
        self._label = label
        self.unit = unit
        self._definition = definition
        self._denominator = denominator
        self._caveats = tuple(caveats)
        self.queries = tuple(queries)
        self._phrase = phrase  # how a sentence names it ("placement within 180 days of exit")
        self._standard = standard  # the field's nearest standard indicator, for analysts

    def __repr__(self) -> str:
        return f"Definition({self._label!r}, unit={self.unit!r})"

    @property
    def msgids(self) -> dict:
        """The English source texts (for the catalogue's tests and the data dictionary)."""
        return {"label": self._label, "definition": self._definition,
                "denominator": self._denominator, "caveats": self._caveats,
                "phrase": self._phrase, "standard": self._standard}

    @property
    def label(self) -> str:
        return _translated(self._label)

    @property
    def definition(self) -> str:
        return _translated(self._definition)

    @property
    def denominator(self) -> str:
        return _translated(self._denominator)

    @property
    def caveats(self) -> tuple[str, ...]:
        return tuple(_translated(caveat) for caveat in self._caveats)

    @property
    def phrase(self) -> str:
        return _translated(self._phrase)

    @property
    def standard(self) -> str:
        """The field's nearest standard indicator: a note for analysts, never the definition."""
        return _translated(self._standard)

    @property
    def in_words(self) -> str:
        """The metric as a noun phrase inside a sentence."""
        return self.phrase or self.label.lower()


class Method:
    """A statistical rule every page follows; `analysts` holds what only an analyst needs
    (settings, formulas), shown apart from the rule."""

    __slots__ = ("_label", "_text", "_analysts")

    def __init__(self, label: str, text: str, analysts: str = ""):
        self._label = label
        self._text = text
        self._analysts = analysts

    def __repr__(self) -> str:
        return f"Method({self._label!r})"

    @property
    def msgids(self) -> dict:
        return {"label": self._label, "text": self._text, "analysts": self._analysts}

    @property
    def label(self) -> str:
        return _translated(self._label)

    @property
    def text(self) -> str:
        return _translated(self._text)

    @property
    def analysts(self) -> str:
        return _translated(self._analysts)


FOLLOW_UP_TEXT = N_("All figures are per programme type, under the filters in the sidebar, and "
                    "relative to the data's cut-off date: anything after it is unknown, not "
                    "absent.")
# Kept for callers that index it; translate with _() or call follow_up().
FOLLOW_UP = FOLLOW_UP_TEXT


def follow_up() -> str:
    """FOLLOW_UP in the current language."""
    return _(FOLLOW_UP_TEXT)


PROGRAMMES = {
    "skills": N_("Vocational courses of one to six months (electrician, computer operation, "
                 "domestic services, catering, driving, bookkeeping...)."),
    "mindset": N_("Short courses (days to two weeks) on which jobs to accept, job-search "
                  "motivation, self-employment and entrepreneurship."),
    "combined": N_("Both in one programme."),
    "none": N_("Registered job seekers without training: the reference group."),
}


def programme_descriptions() -> dict[str, str]:
    """PROGRAMMES (programme code -> what it is) in the current language."""
    return {program: _(text) for program, text in PROGRAMMES.items()}


METRICS: dict[str, Definition] = {
    "enrolled_count": Definition(
        label=N_("Enrolled"),
        unit="count",
        definition=N_("Enrollments whose enrollment date lies in the selected period. A person "
                      "who enrolled twice counts twice."),
        denominator=N_("None: a count."),
        caveats=(N_("Counts are not suppressed; rates and medians computed from them are."),
                 N_("The quarter that contains the data's cut-off date is still running: its "
                    "count is partial.")),
        queries=("headline_by_program", "placement_rate_by_cohort"),
    ),
    "completion_rate": Definition(
        label=N_("Completed the course"),
        unit="rate",
        definition=N_("Share of enrollments that completed the course."),
        denominator=N_("Enrollments that had left the programme by the data's cut-off date and "
                       "whose completion is recorded."),
        caveats=(N_("Not defined for 'No training' (registered job seekers without a course)."),
                 N_("People still in training are not in the denominator yet.")),
        queries=("headline_by_program",),
    ),
    "placement_rate_180d": Definition(
        label=N_("Placed within 180 days of exit"),
        unit="rate",
        definition=N_("Share whose first job after enrollment started between the enrollment "
                      "date and 180 days after leaving the programme (both days included). Jobs "
                      "found during the course count."),
        denominator=N_("Enrollments that left the programme at least 180 days before the data's "
                       "cut-off date, in enrollment months that are fully observed: months in "
                       "which everyone has been followed 180 days after leaving."),
        caveats=(N_("The clock starts when people leave the programme: a long course gets its "
                    "whole length for free and a job found during it counts as a success. "
                    "Placement within 180 days of enrollment, beside it on the Overview, shows "
                    "the other side (lock-in)."),
                 N_("Recent enrollment months are left out until everyone in them has been "
                    "followed 180 days after leaving: before that they would count only those "
                    "who left early (dropouts, short courses). The Overview says which months "
                    "are covered."),
                 N_("Enrollments with no exit recorded a year after enrolling are left out (and "
                    "counted on this page)."),
                 N_("A snapshot at one horizon favours short programmes, so compare the curves "
                    "over time too.")),
        queries=("headline_by_program", "placement_rate_by_cohort", "outcomes_by_characteristic"),
        phrase=N_("placement within 180 days of exit"),
        standard=N_("The nearest standard indicator is the employment rate in the second quarter "
                    "after exit of the US Workforce Innovation and Opportunity Act (WIOA), "
                    "measured from exit among all who left, as here."),
    ),
    "placement_rate_180d_from_enrollment": Definition(
        label=N_("Placed within 180 days of enrollment"),
        unit="rate",
        definition=N_("Share whose first job after enrollment started within 180 days of the "
                      "enrollment date, whether or not the course had ended."),
        denominator=N_("Enrollments made at least 180 days before the data's cut-off date, "
                       "whether or not they have left the programme."),
        caveats=(N_("The clock starts at enrollment: people search less while they train, so a "
                    "long course looks worse here than from exit (lock-in). Read the two "
                    "together."),),
        queries=("headline_by_program",),
        phrase=N_("placement within 180 days of enrollment"),
        standard=N_("Measured from the start of the programme, as evaluations of training do to "
                    "show lock-in (Card, Kluve and Weber 2018); no administrative indicator."),
    ),
    "employment_rate_q2_after_exit": Definition(
        label=N_("Employed in the 2nd quarter after exit"),
        unit="rate",
        definition=N_("Share holding any job (not only the first) on at least one day of days 91 "
                      "to 182 after leaving the programme: a status, not a placement."),
        denominator=N_("Everyone who left the programme at least 182 days before the data's "
                       "cut-off date, in fully observed enrollment months."),
        caveats=(N_("Counts a job that started before exit and is still held; does not count a "
                    "job that ended before day 91."),),
        queries=("headline_by_program",),
        phrase=N_("employment in the 2nd quarter after exit"),
        standard=N_("A primary indicator of the US Workforce Innovation and Opportunity Act "
                    "(WIOA): the employment rate in the second quarter after exit."),
    ),
    "employment_rate_q4_after_exit": Definition(
        label=N_("Employed in the 4th quarter after exit"),
        unit="rate",
        definition=N_("Share holding any job on at least one day of days 274 to 365 after "
                      "leaving the programme: employed about 12 months after leaving."),
        denominator=N_("Everyone who left the programme at least 365 days before the data's "
                       "cut-off date, in fully observed enrollment months."),
        caveats=(N_("Refers to older cohorts than the 180-day measures: a year of follow-up is "
                    "needed."),),
        queries=("headline_by_program",),
        phrase=N_("employment in the 4th quarter after exit"),
        standard=N_("A primary indicator of the US Workforce Innovation and Opportunity Act "
                    "(WIOA): the employment rate in the fourth quarter after exit."),
    ),
    "placement_rate_365d": Definition(
        label=N_("Placed within 365 days of exit"),
        unit="rate",
        definition=N_("As the 180-day rate, with a first job starting within 365 days of leaving "
                      "the programme."),
        denominator=N_("Enrollments that left the programme at least 365 days before the data's "
                       "cut-off date."),
        caveats=(N_("Its cohorts become fully observed half a year later than the 180-day "
                    "rate's."),),
        queries=("placement_rate_by_cohort", "placement_rate_by_program_and_horizon"),
        phrase=N_("placement within 365 days of exit"),
    ),
    "median_days_to_placement": Definition(
        label=N_("Median days to first job"),
        unit="days",
        definition=N_("Kaplan-Meier median of the days from the enrollment date to the start of "
                      "the first job: the first day on which at least half are estimated to have "
                      "found one."),
        denominator=N_("Everyone enrolled by the data's cut-off date. People not yet placed count "
                       "until that date and are then censored (their search is still going on), "
                       "not dropped."),
        caveats=(N_("Never an average over the people already placed: that drops everyone still "
                    "searching and flatters whichever group has more of them."),
                 N_("'Not reached' means fewer than half have found a job within the follow-up "
                    "so far."),
                 N_("The clock starts at enrollment, so long courses start with a handicap; the "
                    "Compare page also shows the curves from exit.")),
        queries=("time_to_placement",),
    ),
    "reemployed": Definition(
        label=N_("Share re-employed by days since enrollment (or exit)"),
        unit="rate",
        definition=N_("1 minus the Kaplan-Meier curve of those still searching, per programme, "
                      "with its pointwise 95% band (Greenwood variance, log-log scale)."),
        denominator=N_("People still searching and followed on that day (at risk)."),
        caveats=(N_("The tail of a curve where fewer people than the suppression threshold "
                    "remain at risk is not drawn."),),
        queries=("time_to_placement",),
    ),
    "retention_12m": Definition(
        label=N_("Still in the first job after 12 months (among those placed)"),
        unit="rate",
        definition=N_("Share of first jobs still held 365 days after they started (no end date "
                      "recorded, or an end date at least 365 days after the start)."),
        denominator=N_("Those placed, not everyone enrolled: first jobs that started at least "
                       "365 days before the data's cut-off date. For everyone who left, see "
                       "employment in the 4th quarter after exit."),
        caveats=(N_("Counts the first job only: someone who moved to a better job is not "
                    "retained."),
                 N_("Refers to older cohorts than the placement rate, because a job needs a year "
                    "of follow-up.")),
        queries=("headline_by_program", "outcomes_by_characteristic"),
        phrase=N_("keeping the first job for 12 months"),
        standard=N_("No WIOA equivalent: WIOA measures employment status after exit, not job "
                    "tenure."),
    ),
    "median_monthly_wage": Definition(
        label=N_("Median monthly wage, first job"),
        unit="yuan",
        definition=N_("Median monthly wage (yuan) of first jobs started by the data's cut-off "
                      "date that have a wage recorded (the two middle values averaged for an "
                      "even count)."),
        denominator=N_("First jobs with a recorded wage."),
        caveats=(N_("Self-employment often has no recorded wage, so programmes that lead to "
                    "self-employment have more of their jobs left out."),
                 N_("Nominal yuan: not adjusted for prices across years or districts."),
                 N_("On Who benefits its 95% interval is distribution-free (order statistics).")),
        queries=("headline_by_program", "outcomes_by_characteristic"),
        phrase=N_("the median wage of the first job"),
    ),
    "median_wage_replacement": Definition(
        label=N_("Median wage replacement"),
        unit="ratio",
        definition=N_("Median of the wage at the first job divided by the wage of the job lost, "
                      "as a percentage: 80% means the new job pays 80% of the old one."),
        denominator=N_("First jobs with a recorded wage, of people whose lost job's wage is "
                       "recorded and above 0."),
        caveats=(N_("Re-employment after the lay-offs often went to private firms, "
                    "self-employment and services at lower wages: below 100% is normal."),),
        queries=("headline_by_program",),
    ),
    "cost_per_placement": Definition(
        label=N_("Cost per placement"),
        unit="yuan",
        definition=N_("Total cost of the enrollments followed for 180 days after leaving the "
                      "programme, divided by their placements within 180 days."),
        denominator=N_("Placements within 180 days of exit (the rate's numerator)."),
        caveats=(N_("A cost per job found, not per job caused: people would find some jobs "
                    "without training."),
                 N_("Enrollments with no recorded cost count as 0.")),
        queries=("headline_by_program",),
    ),
    "employer_share": Definition(
        label=N_("Employer mix of first jobs"),
        unit="rate",
        definition=N_("Share of first jobs by employer type: state-owned, collective, private, "
                      "foreign-funded, self-employed, public works. Wilson 95% intervals."),
        denominator=N_("First jobs started by the data's cut-off date."),
        caveats=(N_("Mindset training aims at accepting private jobs and self-employment, so its "
                    "effect shows here more than in the placement rate."),),
        queries=("employer_mix_by_program",),
    ),
}

METHODS: dict[str, Method] = {
    "first_job": Method(
        N_("What counts as a job"),
        N_("The first placement that starts on or after the enrollment date (of two that start "
           "on the same day, the one recorded first). Jobs that started before the enrollment "
           "are not outcomes of it."),
    ),
    "wilson": Method(
        N_("Intervals for rates (Wilson)"),
        N_("Every rate carries a Wilson score 95% interval, which stays inside 0-100% and "
           "behaves with small numbers (never the Wald interval, which does not)."),
    ),
    "newcombe": Method(
        N_("Intervals for differences (Newcombe)"),
        N_("A difference of two rates (skills minus mindset, this quarter minus last) carries "
           "Newcombe's hybrid score 95% interval. An interval that includes 0 means the data "
           "cannot tell the two apart."),
    ),
    "median_interval": Method(
        N_("Intervals for medians"),
        N_("A median wage carries a distribution-free 95% interval taken from the sorted wages. "
           "Differences of medians, and differences between two gaps, use a normal "
           "approximation with each standard error taken from its interval."),
        N_("The interval's ends are the wages at ranks n/2 -/+ 1.96 * sqrt(n) / 2 of the n "
           "sorted wages."),
    ),
    "raw_vs_adjusted": Method(
        N_("Raw and adjusted differences: not causal effects"),
        N_("The programmes enroll different people, so the raw difference mixes the programme "
           "with who took it. The adjusted differences compare the same mix of age band, gender, "
           "education, prior sector and district in three ways: direct standardisation to the "
           "pooled skills and mindset enrollees (people in groups only one programme has are "
           "left out, and their share is shown), inverse-probability weighting from a logistic "
           "model of who enrolled in skills (with the balance of each group before and after "
           "weighting), and regression and doubly robust estimates from a logistic model of "
           "placement. They remove only the recorded differences. None is a causal effect: "
           "people also differ in ways the data do not record."),
        N_("The standardised difference's interval comes from a seeded bootstrap over enrollees "
           "(200 replicates, at least 50 on large extracts), which counts the uncertainty of the "
           "mix itself; the models' intervals come from their influence functions."),
    ),
    "clocks": Method(
        N_("From enrollment or from exit"),
        N_("A measure from exit gives a long course its length for free and counts jobs found "
           "during the course; a measure from enrollment shows the lock-in of long courses "
           "(people search less while they train). The Overview shows both, with the status "
           "measures of the field (employed in the 2nd and 4th quarter after exit), and says "
           "which way each points."),
    ),
    "days_without_job": Method(
        N_("Days without a job (restricted mean)"),
        N_("Of the first 180, 365 or 730 days since enrollment (or exit), the average number "
           "spent before the first job: the area above the Kaplan-Meier curve up to that day. "
           "Where the curves cross, the log-rank test says only that they differ; these windows "
           "say who is ahead when. A raw comparison, with a normal 95% interval (Greenwood-type "
           "variance)."),
    ),
    "median_rule": Method(
        N_("The median day, exactly"),
        N_("The median days to a first job is the first day on which the Kaplan-Meier estimate "
           "of still searching is at or below one half, decided in exact arithmetic: a curve "
           "that lands exactly on one half (15 of 30 placed) has its median on that day."),
    ),
    "unit": Method(
        N_("The unit is the enrollment"),
        N_("Every figure counts enrollments, not people: a person who enrolled twice counts "
           "twice, and a repeat enrollment can begin while a job from the earlier one is still "
           "held. Enrollments with no exit recorded a year after enrolling are left out of the "
           "exit-based rates (they count in enrollments, placement from enrollment and the "
           "curves from enrollment). This page counts both under the current filters."),
    ),
    "suppression": Method(
        N_("Small numbers are suppressed"),
        N_("A rate, median or difference whose denominator is below the threshold (default "
           "{min_cell} people) is blank everywhere: charts, tables, downloads and exports. "
           "Charts leave a gap and say so; tables say 'suppressed'."),
        N_("The threshold is set with the environment variable `REEMPLOY_MIN_CELL` for the app, "
           "or `--min-cell` on the command line."),
    ),
    "unreliable": Method(
        N_("Unreliable below {unreliable_below}"),
        N_("Figures shown with fewer than {unreliable_below} people in the denominator are "
           "flagged as unreliable (hollow markers on Who benefits, a note on the headline "
           "cards): their intervals are wide, read them as a rough indication."),
    ),
    "incomplete_cohorts": Method(
        N_("Enrollment months not yet fully observed"),
        N_("An enrollment month is fully observed for a horizon when everyone enrolled in it "
           "(but those with an unrecorded exit) has been followed that long after exit, all "
           "programmes together so they are compared over the same months. Exit-based rates "
           "count only such months: before that, a month's rate would cover only the people who "
           "left early. Charts draw quarters that are not fully observed hollow in a shaded band "
           "and change tables leave them out."),
    ),
}


def definition(metric: str) -> Definition:
    """The definition of a metric column (KeyError names the metric when it has none); its
    attributes read in the current language."""
    try:
        return METRICS[metric]
    except KeyError:
        raise KeyError(f"No definition for metric {metric!r}; add it to reemploy/definitions.py") from None


def method(key: str) -> Method:
    """A statistical rule (METHODS[key]); its attributes read in the current language."""
    return METHODS[key]


def metric_label(metric: str) -> str:
    """The on-screen name of a metric column, in the current language."""
    return definition(metric).label


def analysts_note(metric: str) -> str:
    """What only an analyst needs about a metric: the field's nearest standard indicator and
    the SQL files that compute it; "" when there is nothing."""
    d = definition(metric)
    parts = []
    if d.standard:
        parts.append(d.standard)
    if d.queries:
        files = i18n.join([f"`queries/{q}.sql`" for q in d.queries])
        parts.append(_("Computed in {files}.").format(files=files))
    return " ".join(parts)


def metric_markdown(metric: str, analysts: bool = True) -> str:
    """A metric's definition, denominator and caveats as Markdown (About, meeting pack), then,
    with `analysts`, a separate "For analysts" note (standard indicator, SQL files)."""
    d = definition(metric)
    lines = [_("**{label}.** {definition}").format(label=d.label, definition=d.definition), "",
             _("*Denominator:* {denominator}").format(denominator=d.denominator)]
    lines += [f"- {caveat}" for caveat in d.caveats]
    note = analysts_note(metric) if analysts else ""
    if note:
        lines += ["", _("*For analysts:* {note}").format(note=note)]
    return "\n".join(lines)


def method_markdown(key: str, analysts: bool = True) -> str:
    """A statistical rule as Markdown, with its "For analysts" note apart when it has one."""
    rule = METHODS[key]
    text = _("**{label}.** {definition}").format(label=rule.label, definition=rule.text)
    if analysts and rule.analysts:
        text += "\n\n" + _("*For analysts:* {note}").format(note=rule.analysts)
    return text
