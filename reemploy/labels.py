"""How codes read on screen and which colour they are: programmes, levels of the personal
characteristics, employer types, covariates, district metrics, the house font.

Shared by the charts, tables, readouts, the pack and the pages, so one programme has one name
and one colour everywhere. Imports nothing from the modules that use it.

The label tables hold English msgids marked with N_(): index them and translate with _() where
they are shown, or call the getters below (program_label, level_label, covariate_label,
employer_label, estimate_label, curve_origin_text, district_metric_label, flow_column_titles),
which return the text in the language of the current run. Codes stay the keys.
"""

from __future__ import annotations

from reemploy.i18n import _, N_

PROGRAM_COLORS = {
    # Okabe-Ito: distinguishable with the common colour-vision deficiencies.
    "skills": "#0072B2",
    "mindset": "#E69F00",
    "combined": "#009E73",
    "none": "#7F7F7F",
}
PROGRAM_LABELS = {
    "skills": N_("Skills training"),
    "mindset": N_("Mindset training"),
    "combined": N_("Combined"),
    "none": N_("No training"),
}
FONT_FAMILY = "Noto Sans, Noto Sans CJK SC, Arial, sans-serif"


def program_label(program: str) -> str:
    """A programme's name in the current language ("skills" -> "Skills training" / "技能培训")."""
    label = PROGRAM_LABELS.get(program)
    return _(label) if label else str(program)


def program_color(program: str) -> str:
    return PROGRAM_COLORS.get(program, "#444444")


LEVEL_LABELS = {
    "gender": {"F": N_("Women"), "M": N_("Men")},
    "education": {
        "primary": N_("Primary"),
        "junior_secondary": N_("Junior secondary"),
        "senior_secondary": N_("Senior secondary"),
        "vocational": N_("Vocational"),
        "tertiary": N_("Tertiary"),
    },
    # Age at enrollment: the English label is the band as written; other languages add the unit.
    "age_band": {
        "16-29": N_("16-29"),
        "30-39": N_("30-39"),
        "40-49": N_("40-49"),
        "50+": N_("50+"),
    },
}
NOT_RECORDED = N_("Not recorded")


def level_label(characteristic: str, level: str) -> str:
    """How a level of a personal characteristic reads on screen ("F" -> "Women" / "女")."""
    if level == "unknown":
        return _(NOT_RECORDED)
    label = LEVEL_LABELS.get(characteristic, {}).get(level)
    return _(label) if label else str(level)


COVARIATE_LABELS = {
    "age_band": N_("Age"),
    "gender": N_("Gender"),
    "education": N_("Education"),
    "prior_sector": N_("Prior sector"),
    "district": N_("District"),
}


def covariate_label(covariate: str) -> str:
    """A personal characteristic's name ("age_band" -> "Age" / "年龄")."""
    label = COVARIATE_LABELS.get(covariate)
    return _(label) if label else str(covariate)

# Employer types ordered from the jobs laid-off workers used to expect (state-owned,
# foreign-funded) to the ones the mindset courses promote (private, self-employment).
EMPLOYER_ORDER = ("state_owned", "foreign_funded", "collective", "public_works", "private",
                  "self_employed")
EMPLOYER_LABELS = {
    "state_owned": N_("State-owned"),
    "foreign_funded": N_("Foreign-funded"),
    "collective": N_("Collective"),
    "public_works": N_("Public works"),
    "private": N_("Private"),
    "self_employed": N_("Self-employed"),
}


def employer_label(employer: str) -> str:
    """An employer type's name ("self_employed" -> "Self-employed" / "自谋职业"); anything
    else (a value from the data) as it is."""
    label = EMPLOYER_LABELS.get(employer)
    return _(label) if label else str(employer)
# Paul Tol's muted palette: no clash with the programme colours used on the same page.
EMPLOYER_COLORS = {
    "state_owned": "#332288",
    "foreign_funded": "#88CCEE",
    "collective": "#44AA99",
    "public_works": "#DDCC77",
    "private": "#CC6677",
    "self_employed": "#882255",
}
# The employer colours dark enough to need white text on them.
DARK_EMPLOYER_COLORS = {"state_owned", "self_employed", "private"}

# Where the clock of the re-employment curves starts, as the axis and title say it.
CURVE_ORIGIN_TEXT = {"enrollment": N_("enrollment"), "exit": N_("leaving the programme")}


def curve_origin_text(origin: str) -> str:
    """Where a curve's clock starts, as a noun phrase inside a title ("days since {origin}")."""
    text = CURVE_ORIGIN_TEXT.get(origin)
    return _(text) if text else str(origin)


# The rows of the raw-and-adjusted difference chart: estimate -> its name.
ESTIMATE_LABELS = {"raw": N_("Raw"), "adjusted": N_("Standardised to the same mix"),
                   "ipw": N_("Propensity weighted"), "regression": N_("Regression adjusted"),
                   "doubly_robust": N_("Doubly robust")}


def estimate_label(estimate: str) -> str:
    """The name of an estimate of a difference ("ipw" -> "Propensity weighted" / "倾向得分加权")."""
    label = ESTIMATE_LABELS.get(estimate)
    return _(label) if label else str(estimate)


# What the district map and its ranked fallback can be coloured by: metric -> (label, unit).
DISTRICT_METRICS = {
    "gap": (N_("Skills minus mindset, placed within 180 days of exit"), "pp"),
    "placement_rate_180d": (N_("Placed within 180 days of exit"), "percent"),
    "median_days_to_placement": (N_("Median days from enrollment to first job"), "days"),
    "median_monthly_wage": (N_("Median monthly wage at the first job"), "yuan"),
    "enrolled_count": (N_("Enrolled"), "people"),
}


def district_metric_label(metric: str) -> str:
    return _(DISTRICT_METRICS[metric][0])


# The three columns of the sector flows, left to right.
FLOW_COLUMN_TITLES = (N_("Lost a job in"), N_("First new job in"), N_("Employer of the new job"))


def flow_column_title(index: int) -> str:
    """The title of column `index` (0, 1, 2) of the sector flows."""
    return _(FLOW_COLUMN_TITLES[index])


def flow_column_titles() -> tuple[str, ...]:
    """The three titles of the sector flows, left to right, in the current language."""
    return tuple(_(title) for title in FLOW_COLUMN_TITLES)
