"""What every number means: definitions, denominators and caveats, as data.

The About page renders these, and so can anything else that needs to explain a figure (the
meeting pack, a table's help text). The wording follows data/README.md (Metrics) and
what queries/*.sql and reemploy/figures/ compute; `queries` names the SQL files so a reader
can check.
"""

from __future__ import annotations

from dataclasses import dataclass

from reemploy.figures.common import DEFAULT_MIN_CELL, UNRELIABLE_BELOW


@dataclass(frozen=True)
class Definition:
    """One metric: its name on screen, what it counts, over whom, and how not to misread it."""

    label: str
    unit: str  # "rate", "days", "yuan", "ratio", "count"
    definition: str
    denominator: str
    caveats: tuple[str, ...] = ()
    queries: tuple[str, ...] = ()
    phrase: str = ""  # how a sentence names it ("placement within 180 days of exit")
    standard: str = ""  # the field's nearest standard indicator, for analysts

    @property
    def in_words(self) -> str:
        """The metric as a noun phrase inside a sentence."""
        return self.phrase or self.label.lower()


@dataclass(frozen=True)
class Method:
    """A statistical rule every page follows."""

    label: str
    text: str


FOLLOW_UP = ("All figures are per programme type, under the filters in the sidebar, and relative "
             "to the extract's as_of date: anything after it is unknown, not absent.")

PROGRAMMES = {
    "skills": "Vocational courses of one to six months (electrician, computer operation, domestic "
              "services, catering, driving, bookkeeping...).",
    "mindset": "Short courses (days to two weeks) on which jobs to accept, job-search motivation, "
               "self-employment and entrepreneurship.",
    "combined": "Both in one programme.",
    "none": "Registered job seekers without training: the reference group.",
}

METRICS: dict[str, Definition] = {
    "enrolled_count": Definition(
        label="Enrolled",
        unit="count",
        definition="Enrollments whose enrolled_on lies in the selected period. A person who "
                   "enrolled twice counts twice.",
        denominator="None: a count.",
        caveats=("Counts are not suppressed; rates and medians computed from them are.",
                 "The quarter that contains as_of is still running: its count is partial."),
        queries=("headline_by_program", "placement_rate_by_cohort"),
    ),
    "completion_rate": Definition(
        label="Completed the course",
        unit="rate",
        definition="Share of enrollments that completed the course.",
        denominator="Enrollments that have left (exited_on on or before as_of) with completion "
                    "recorded.",
        caveats=("Not defined for 'No training' (registered job seekers without a course).",
                 "People still in training are not in the denominator yet."),
        queries=("headline_by_program",),
    ),
    "placement_rate_180d": Definition(
        label="Placed within 180 days of exit",
        unit="rate",
        definition="Share whose first job after enrollment started between enrolled_on and "
                   "exited_on + 180 days (inclusive). Jobs found during the course count.",
        denominator="Enrollments that left at least 180 days before as_of (exited_on + 180 days "
                    "<= as_of), in enrollment months that are fully observed: months in which "
                    "everyone has been followed 180 days after leaving.",
        caveats=("The clock starts at exit: a long course gets its whole length for free and a "
                 "job found during it counts as a success. Placement within 180 days of "
                 "enrollment, beside it on the Overview, shows the other side (lock-in).",
                 "Recent enrollment months are left out until everyone in them has been followed "
                 "180 days after leaving: before that they would count only those who left early "
                 "(dropouts, short courses). The Overview says which months are covered.",
                 "Enrollments with no exit recorded a year after enrolling are left out (and "
                 "counted on this page).",
                 "A snapshot at one horizon favours short programmes, so compare the curves over "
                 "time too."),
        queries=("headline_by_program", "placement_rate_by_cohort", "outcomes_by_characteristic"),
        phrase="placement within 180 days of exit",
        standard="The nearest indicator of the field is the employment rate in the second quarter "
                 "after exit (US WIOA), measured from exit among all who exited, as here.",
    ),
    "placement_rate_180d_from_enrollment": Definition(
        label="Placed within 180 days of enrollment",
        unit="rate",
        definition="Share whose first job after enrollment started by enrolled_on + 180 days, "
                   "whether or not the course had ended.",
        denominator="Enrollments made at least 180 days before as_of (enrolled_on + 180 days "
                    "<= as_of), whatever their exit.",
        caveats=("The clock starts at enrollment: people search less while they train, so a "
                 "long course looks worse here than from exit (lock-in). Read the two together.",),
        queries=("headline_by_program",),
        phrase="placement within 180 days of enrollment",
        standard="Measured from the start of the programme, as evaluations of training do to "
                 "show lock-in (Card, Kluve and Weber 2018); no administrative indicator.",
    ),
    "employment_rate_q2_after_exit": Definition(
        label="Employed in the 2nd quarter after exit",
        unit="rate",
        definition="Share holding any job (not only the first) on at least one day of days 91 to "
                   "182 after exited_on: a status, not a placement.",
        denominator="Everyone who left at least 182 days before as_of, in fully observed "
                    "enrollment months.",
        caveats=("Counts a job that started before exit and is still held; does not count a job "
                 "that ended before day 91.",),
        queries=("headline_by_program",),
        phrase="employment in the 2nd quarter after exit",
        standard="US WIOA primary indicator: employment rate in the second quarter after exit.",
    ),
    "employment_rate_q4_after_exit": Definition(
        label="Employed in the 4th quarter after exit",
        unit="rate",
        definition="Share holding any job on at least one day of days 274 to 365 after exited_on: "
                   "employed about 12 months after leaving.",
        denominator="Everyone who left at least 365 days before as_of, in fully observed "
                    "enrollment months.",
        caveats=("Refers to older cohorts than the 180-day measures: a year of follow-up is "
                 "needed.",),
        queries=("headline_by_program",),
        phrase="employment in the 4th quarter after exit",
        standard="US WIOA primary indicator: employment rate in the fourth quarter after exit.",
    ),
    "placement_rate_365d": Definition(
        label="Placed within 365 days of exit",
        unit="rate",
        definition="As the 180-day rate, with a first job starting by exited_on + 365 days.",
        denominator="Enrollments that left at least 365 days before as_of.",
        caveats=("Its cohorts become fully observed half a year later than the 180-day rate's.",),
        queries=("placement_rate_by_cohort", "placement_rate_by_program_and_horizon"),
        phrase="placement within 365 days of exit",
    ),
    "median_days_to_placement": Definition(
        label="Median days to first job",
        unit="days",
        definition="Kaplan-Meier median of the days from enrolled_on to the start of the first "
                   "job: the first day on which at least half are estimated to have found one.",
        denominator="Everyone enrolled by as_of. People not yet placed count until as_of and are "
                    "then censored (their search is still going on), not dropped.",
        caveats=("Never an average over the people already placed: that drops everyone still "
                 "searching and flatters whichever group has more of them.",
                 "'Not reached' means fewer than half have found a job within the follow-up so far.",
                 "The clock starts at enrollment, so long courses start with a handicap; the "
                 "Compare page also shows the curves from exit."),
        queries=("time_to_placement",),
    ),
    "reemployed": Definition(
        label="Share re-employed by days since enrollment (or exit)",
        unit="rate",
        definition="1 minus the Kaplan-Meier survival curve of the search, per programme, with its "
                   "pointwise 95% band (Greenwood variance, log-log scale).",
        denominator="People still searching and followed on that day (at risk).",
        caveats=("The tail of a curve where fewer people than the suppression threshold remain at "
                 "risk is not drawn.",),
        queries=("time_to_placement",),
    ),
    "retention_12m": Definition(
        label="Still in the first job after 12 months (among those placed)",
        unit="rate",
        definition="Share of first jobs still held 365 days after they started (ended_on empty or "
                   "on or after started_on + 365 days).",
        denominator="Those placed, not everyone enrolled: first jobs that started at least 365 "
                    "days before as_of. For everyone who left, see employment in the 4th quarter "
                    "after exit.",
        caveats=("Counts the first job only: someone who moved to a better job is not retained.",
                 "Refers to older cohorts than the placement rate, because a job needs a year of "
                 "follow-up."),
        queries=("headline_by_program", "outcomes_by_characteristic"),
        phrase="keeping the first job for 12 months",
        standard="No WIOA equivalent: WIOA measures employment status after exit, not job "
                 "tenure.",
    ),
    "median_monthly_wage": Definition(
        label="Median monthly wage, first job",
        unit="yuan",
        definition="Median monthly_wage (yuan) of first jobs started by as_of that have a wage "
                   "recorded (the two middle values averaged for an even count).",
        denominator="First jobs with a recorded wage.",
        caveats=("Self-employment often has no recorded wage, so programmes that lead to "
                 "self-employment have more of their jobs left out.",
                 "Nominal yuan: not adjusted for prices across years or districts.",
                 "On Who benefits its 95% interval is distribution-free (order statistics)."),
        queries=("headline_by_program", "outcomes_by_characteristic"),
        phrase="the median wage of the first job",
    ),
    "median_wage_replacement": Definition(
        label="Median wage replacement",
        unit="ratio",
        definition="Median of (wage at the first job / prior_monthly_wage, the wage of the job "
                   "lost). 0.80 means the new job pays 80% of the old one.",
        denominator="First jobs with a recorded wage whose person has a prior wage above 0.",
        caveats=("Re-employment after the lay-offs often went to private firms, self-employment "
                 "and services at lower wages: below 1 is normal.",),
        queries=("headline_by_program",),
    ),
    "cost_per_placement": Definition(
        label="Cost per placement",
        unit="yuan",
        definition="Total cost of the enrollments followed for 180 days after exit, divided by "
                   "their placements within 180 days.",
        denominator="Placements within 180 days of exit (the rate's numerator).",
        caveats=("A cost per job found, not per job caused: people would find some jobs without "
                 "training.",
                 "Enrollments with no recorded cost count as 0."),
        queries=("headline_by_program",),
    ),
    "employer_share": Definition(
        label="Employer mix of first jobs",
        unit="rate",
        definition="Share of first jobs by employer type: state-owned, collective, private, "
                   "foreign-funded, self-employed, public works. Wilson 95% intervals.",
        denominator="First jobs started by as_of.",
        caveats=("Mindset training aims at accepting private jobs and self-employment, so its "
                 "effect shows here more than in the placement rate.",),
        queries=("employer_mix_by_program",),
    ),
}

METHODS: dict[str, Method] = {
    "first_job": Method(
        "What counts as a job",
        "The first placement that starts on or after enrolled_on (ties broken by placement_id). "
        "Jobs that started before the enrollment are not outcomes of it.",
    ),
    "wilson": Method(
        "Intervals for rates (Wilson)",
        "Every rate carries a Wilson score 95% interval, which stays inside 0-100% and behaves "
        "with small numbers (never the Wald interval, which does not).",
    ),
    "newcombe": Method(
        "Intervals for differences (Newcombe)",
        "A difference of two rates (skills minus mindset, this quarter minus last) carries "
        "Newcombe's hybrid score 95% interval. An interval that includes 0 means the data cannot "
        "tell the two apart.",
    ),
    "median_interval": Method(
        "Intervals for medians",
        "A median wage carries a distribution-free 95% interval from the sorted wages (the values "
        "at ranks n/2 -/+ 1.96 * sqrt(n) / 2). Differences of medians, and differences between "
        "two gaps, use a normal approximation with each standard error taken from its interval.",
    ),
    "raw_vs_adjusted": Method(
        "Raw and adjusted differences: not causal effects",
        "The programmes enroll different people, so the raw difference mixes the programme with "
        "who took it. The adjusted differences compare the same mix of age band x gender x "
        "education x prior sector x district in three ways: direct standardisation to the "
        "pooled skills and mindset enrollees (people in groups only one programme has are left "
        "out, and their share is shown), inverse-probability weighting from a logistic model of "
        "who enrolled in skills (with the balance of each group before and after weighting), and "
        "regression and doubly robust estimates from a logistic model of placement. The "
        "standardised difference's interval comes from a seeded bootstrap over enrollees (200 "
        "replicates, at least 50 on large extracts), which counts the uncertainty of the mix "
        "itself; the models' intervals come from their influence functions. They remove only "
        "the recorded differences. None is a causal effect: people also differ in ways the data "
        "do not record.",
    ),
    "clocks": Method(
        "From enrollment or from exit",
        "A measure from exit gives a long course its length for free and counts jobs found "
        "during the course; a measure from enrollment shows the lock-in of long courses (people "
        "search less while they train). The Overview shows both, with the status measures of "
        "the field (employed in the 2nd and 4th quarter after exit), and says which way each "
        "points.",
    ),
    "days_without_job": Method(
        "Days without a job (restricted mean)",
        "Of the first 180, 365 or 730 days since enrollment (or exit), the average number spent "
        "before the first job: the area above the Kaplan-Meier curve up to that day. Where the "
        "curves cross, the log-rank test says only that they differ; these windows say who is "
        "ahead when. A raw comparison, with a normal 95% interval (Greenwood-type variance).",
    ),
    "median_rule": Method(
        "The median day, exactly",
        "The median days to a first job is the first day on which the Kaplan-Meier estimate "
        "of still searching is at or below one half, decided in exact arithmetic: a curve that "
        "lands exactly on one half (15 of 30 placed) has its median on that day.",
    ),
    "unit": Method(
        "The unit is the enrollment",
        "Every figure counts enrollments, not people: a person who enrolled twice counts twice, "
        "and a repeat enrollment can begin while a job from the earlier one is still held. "
        "Enrollments with no exit recorded a year after enrolling are left out of the exit-based "
        "rates (they count in enrollments, placement from enrollment and the curves from "
        "enrollment). This page counts both under the current filters.",
    ),
    "suppression": Method(
        "Small numbers are suppressed",
        f"A rate, median or difference whose denominator is below the threshold (default "
        f"{DEFAULT_MIN_CELL}, set with REEMPLOY_MIN_CELL for the app or --min-cell for the command "
        "line) is blank everywhere: charts, tables, downloads and exports. Charts leave a gap and "
        "say so; tables say 'suppressed'.",
    ),
    "unreliable": Method(
        f"Unreliable below {UNRELIABLE_BELOW}",
        f"Figures shown with fewer than {UNRELIABLE_BELOW} people in the denominator are flagged "
        "as unreliable (hollow markers on Who benefits, a note on the headline cards): their "
        "intervals are wide, read them as a rough indication.",
    ),
    "incomplete_cohorts": Method(
        "Enrollment months not yet fully observed",
        "An enrollment month is fully observed for a horizon when everyone enrolled in it (but "
        "those with an unrecorded exit) has been followed that long after exit, all programmes "
        "together so they are compared over the same months. Exit-based rates count only such "
        "months: before that, a month's rate would cover only the people who left early. Charts "
        "draw quarters that are not fully observed hollow in a shaded band and change tables "
        "leave them out.",
    ),
}


def definition(metric: str) -> Definition:
    """The definition of a metric column (KeyError names the metric when it has none)."""
    try:
        return METRICS[metric]
    except KeyError:
        raise KeyError(f"No definition for metric {metric!r}; add it to reemploy/definitions.py") from None


def metric_label(metric: str) -> str:
    """The on-screen name of a metric column."""
    return definition(metric).label


def metric_markdown(metric: str) -> str:
    """A metric's definition, denominator, caveats and SQL files as Markdown (About, meeting pack)."""
    d = definition(metric)
    lines = [f"**{d.label}.** {d.definition}", "", f"*Denominator:* {d.denominator}"]
    lines += [f"- {caveat}" for caveat in d.caveats]
    if d.standard:
        lines += ["", f"*For analysts:* {d.standard}"]
    if d.queries:
        lines += ["", "*Computed in* " + ", ".join(f"`queries/{q}.sql`" for q in d.queries)]
    return "\n".join(lines)


def method_markdown(key: str) -> str:
    """A statistical rule as Markdown."""
    method = METHODS[key]
    return f"**{method.label}.** {method.text}"
