"""The extract contract: tables, columns, types and code lists (documented in data/README.md)."""

from __future__ import annotations

PROGRAM_TYPES = ("skills", "mindset", "combined", "none")
EMPLOYER_TYPES = (
    "state_owned",
    "collective",
    "private",
    "foreign_funded",
    "self_employed",
    "public_works",
)
EDUCATION_LEVELS = ("primary", "junior_secondary", "senior_secondary", "vocational", "tertiary")
GENDERS = ("F", "M")
# Age at enrollment, from birth_year; "unknown" where birth_year is missing.
AGE_BANDS = ("16-29", "30-39", "40-49", "50+")

# column -> (DuckDB type, nullable)
ENROLLMENT_COLUMNS: dict[str, tuple[str, bool]] = {
    "enrollment_id": ("VARCHAR", False),
    "person_id": ("VARCHAR", False),
    "district": ("VARCHAR", False),
    "prior_sector": ("VARCHAR", False),
    "gender": ("VARCHAR", True),
    "birth_year": ("INTEGER", True),
    "education": ("VARCHAR", True),
    "laid_off_on": ("DATE", True),
    "prior_monthly_wage": ("DOUBLE", True),
    "program_type": ("VARCHAR", False),
    "program_name": ("VARCHAR", False),
    "provider": ("VARCHAR", True),
    "enrolled_on": ("DATE", False),
    "exited_on": ("DATE", True),
    "completed": ("BOOLEAN", True),
    "cost": ("DOUBLE", True),
}

PLACEMENT_COLUMNS: dict[str, tuple[str, bool]] = {
    "placement_id": ("VARCHAR", False),
    "enrollment_id": ("VARCHAR", False),
    "started_on": ("DATE", False),
    "ended_on": ("DATE", True),
    "sector": ("VARCHAR", False),
    "employer_type": ("VARCHAR", False),
    "monthly_wage": ("DOUBLE", True),
}

TABLES = {"enrollments": ENROLLMENT_COLUMNS, "placements": PLACEMENT_COLUMNS}
