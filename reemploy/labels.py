"""How codes read on screen and which colour they are: programmes, levels of the personal
characteristics, employer types, covariates, district metrics, the house font.

Shared by the charts, tables, readouts, the pack and the pages, so one programme has one name
and one colour everywhere. Imports nothing from the modules that use it.
"""

from __future__ import annotations

PROGRAM_COLORS = {
    # Okabe-Ito: distinguishable with the common colour-vision deficiencies.
    "skills": "#0072B2",
    "mindset": "#E69F00",
    "combined": "#009E73",
    "none": "#7F7F7F",
}
PROGRAM_LABELS = {
    "skills": "Skills training",
    "mindset": "Mindset training",
    "combined": "Combined",
    "none": "No training",
}
FONT_FAMILY = "Noto Sans, Noto Sans CJK SC, Arial, sans-serif"


def program_label(program: str) -> str:
    return PROGRAM_LABELS.get(program, str(program))


def program_color(program: str) -> str:
    return PROGRAM_COLORS.get(program, "#444444")


LEVEL_LABELS = {
    "gender": {"F": "Women", "M": "Men"},
    "education": {
        "primary": "Primary",
        "junior_secondary": "Junior secondary",
        "senior_secondary": "Senior secondary",
        "vocational": "Vocational",
        "tertiary": "Tertiary",
    },
}


def level_label(characteristic: str, level: str) -> str:
    """How a level of a personal characteristic reads on screen ("F" -> "Women")."""
    if level == "unknown":
        return "Not recorded"
    return LEVEL_LABELS.get(characteristic, {}).get(level, str(level))


COVARIATE_LABELS = {
    "age_band": "Age",
    "gender": "Gender",
    "education": "Education",
    "prior_sector": "Prior sector",
    "district": "District",
}

# Employer types ordered from the jobs laid-off workers used to expect (state-owned,
# foreign-funded) to the ones the mindset courses promote (private, self-employment).
EMPLOYER_ORDER = ("state_owned", "foreign_funded", "collective", "public_works", "private",
                  "self_employed")
EMPLOYER_LABELS = {
    "state_owned": "State-owned",
    "foreign_funded": "Foreign-funded",
    "collective": "Collective",
    "public_works": "Public works",
    "private": "Private",
    "self_employed": "Self-employed",
}
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
CURVE_ORIGIN_TEXT = {"enrollment": "enrollment", "exit": "leaving the programme"}
# The rows of the raw-and-adjusted difference chart: estimate -> its name.
ESTIMATE_LABELS = {"raw": "Raw", "adjusted": "Standardised to the same mix",
                   "ipw": "Propensity weighted", "regression": "Regression adjusted",
                   "doubly_robust": "Doubly robust"}

# What the district map and its ranked fallback can be coloured by: metric -> (label, unit).
DISTRICT_METRICS = {
    "gap": ("Skills minus mindset, placed within 180 days of exit", "pp"),
    "placement_rate_180d": ("Placed within 180 days of exit", "percent"),
    "median_days_to_placement": ("Median days from enrollment to first job", "days"),
    "median_monthly_wage": ("Median monthly wage at the first job", "yuan"),
    "enrolled_count": ("Enrolled", "people"),
}


def district_metric_label(metric: str) -> str:
    return DISTRICT_METRICS[metric][0]


# The three columns of the sector flows, left to right.
FLOW_COLUMN_TITLES = ("Lost a job in", "First new job in", "Employer of the new job")
