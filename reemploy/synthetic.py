"""Synthetic extract: fictional laid-off SOE workers, re-employment training and the jobs they found.

Everything here is invented. The districts, providers and people are fictional; the numbers are
calibration choices (the targets and what they gave are under "Calibration" below), not findings.

The model, per enrollment (all vectorised, generated in chunks of ``CHUNK_SIZE`` enrollments):

* **People.** District (fixed profiles: size, local labour market, programme mix, dominant
  industries), prior sector (a declining state industry, tilted by district), gender (by sector;
  ~2 % missing), age at first enrollment 20-58 with a bump at 35-50 (the "4050" cohort),
  education (older people less educated; ~2 % missing), lay-off date 0-3 years before the first
  enrollment (~1 % missing), prior monthly wage lognormal with a sector median of 480-680 yuan
  (~3 % missing). About 10 % of enrollments are a repeat of an earlier person (90-1000 days after
  that person's first enrollment and within 3 years of the lay-off, same person attributes, new
  programme draw). Simplification: a repeat's outcomes are drawn independently of the earlier
  enrollment's, so a person may hold a job from one enrollment while enrolled in the next.
* **Dates.** Enrollment dates from 1998-01-01 to ``as_of``, most in 1998-2000, fewer in February
  (Spring Festival) and at weekends. Enrollments are globally sorted by ``enrolled_on`` (then by
  person), so Parquet row-group statistics let DuckDB prune on dates and ids; placements follow
  the enrollment order.
* **Programme choice.** Multinomial logit: skills ~40 %, mindset ~30 %, combined ~10 %, none ~20 %.
  Skills attracts younger, better educated people; mindset older, less educated ones; the mix
  shifts by district and combined programmes grow over time. The course within a type depends on
  gender and education (catalogue: 15 skills courses of 30-180 days / 300-1500 yuan, 6 mindset
  courses of 3-14 days / 50-300 yuan, 3 combined), each run by 1-3 providers.
* **Training spell.** Random drop-out (skills 10 %, mindset 7.5 %); someone who finds a job
  during the course leaves on the job's start date (``completed = False``); completion ends up
  ~85 % (skills) and ~92 % (mindset). If the exit would fall after ``as_of`` the person is still in
  training: ``exited_on`` and ``completed`` are null.
* **The 'none' group** (registered job seekers, the comparison group): ``program_name`` "No
  training (registered job seeker)", ``provider`` null, ``cost`` 0, ``exited_on = enrolled_on``
  (there is no course to leave; this keeps "placement within 180 days of exit" defined for them)
  and ``completed`` null (there was nothing to complete).
* **Time to first job** from ``enrolled_on``: a piecewise-constant hazard drawn by exact inverse
  CDF. Baseline hazard falls with search duration, is multiplied by covariate effects (age,
  education, gender, prior sector, district, time since lay-off, enrollment year: the market
  gets worse from 1998 to 2002) and by a programme multiplier by time relative to the exit:
  skills/combined search less during the course (lock-in) and more after it; mindset searches
  more in the first six months and slightly less later (the effect fades). Programme effects are
  60 % as large (on the log scale) for people aged 40+ and 20 % larger for women. People whose
  job would start after ``as_of`` are unplaced (censored).
* **Jobs.** Employer type by programme (mindset: more self-employed and private; few state-owned
  or foreign-funded for everyone); sector from the employer type and, for skills courses, often
  the trade learnt; wage = latent prior wage x lognormal replacement ratio (median ~0.88 skills,
  ~0.86 combined, ~0.81 none, ~0.78 mindset; ~4 % of wages missing, more for the self-employed);
  Weibull job tenure with 12-month retention ~72 % skills vs ~60 % none/mindset; about 30 % of the
  placed find a second job after the first one ends. ``ended_on`` is null if the job lasts beyond
  ``as_of``.

Calibration targets (assumptions for the sample, after the field's stylised facts: training pays
off late, job-search help early and fading; Card, Kluve and Weber 2018): the no-training group
25-45 % re-employed at 12 months, falling from 1998 to 2002; skills -3..0 pp against no training
90 days after enrollment and +6..+10 pp at 24 months; mindset +4..+8 pp at 90-180 days, fading to
0..+3 pp at 24 months; self-employment 30-50 % of mindset and 15-30 % of skills placements; median
wage replacement 0.75-0.90, skills above mindset; smaller effects for middle-aged workers;
districts differ.

Calibration, measured on 200,000 enrollments (seed 1; raw shares re-employed d days after
enrollment, among enrollments observable for d days):

    days after enrollment      90     180    365    730
    none                      12.1   21.6   34.8   50.5   (365 days: 39 % for 1998 -> 30 % for 2001)
    skills - none (pp)        -1.6   +2.7   +6.6   +8.4
    mindset - none (pp)       +5.1   +6.6   +3.7   +0.5
    combined - none (pp)      +0.7   +4.4   +7.1   +8.2

Self-employment: 37 % of mindset vs 22 % of skills first placements. Median wage replacement
0.88 skills, 0.85 combined, 0.79 none, 0.76 mindset (0.83 overall). These are raw differences.
Selection into programmes makes them differ from the built-in effects (the same people with the
programme multipliers set to 1): skills -2.7 / +0.9 / +4.4 / +5.8 pp, mindset +5.9 / +8.2 / +6.1 /
+3.7 pp, so an adjusted comparison should move skills down and mindset up. Districts confound too
(district affects both the programme mix and the hazard).

Determinism: ``numpy.random.default_rng`` seeded from ``SeedSequence(seed).spawn(...)``: one
stream for the enrollment skeleton, one per person block and one per enrollment chunk, so the same
``n_enrollments`` and ``seed`` give identical rows in identical order (and identical Parquet
bytes with the same pyarrow). A smaller extract is not a prefix of a larger one with the same seed.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from reemploy.contract import (
    EDUCATION_LEVELS,
    EMPLOYER_TYPES,
    ENROLLMENT_COLUMNS,
    GENDERS,
    PLACEMENT_COLUMNS,
    PROGRAM_TYPES,
)

__all__ = ["DEFAULT_AS_OF", "DISTRICTS", "PRIOR_SECTORS", "generate_extract"]

DEFAULT_AS_OF = datetime.date(2002, 12, 31)
FIRST_ENROLLMENT_DATE = datetime.date(1998, 1, 1)
CHUNK_SIZE = 1_000_000  # enrollments per chunk = per Parquet row group
NO_TRAINING_NAME = "No training (registered job seeker)"

_EPOCH = datetime.date(1970, 1, 1)
_PARQUET_COMPRESSION = "zstd"

# --------------------------------------------------------------------------------------------
# Fixed (seed-independent) world: districts, industries, courses, providers.
# --------------------------------------------------------------------------------------------

# name, relative size, log-hazard effect (local labour market),
# programme utility shifts (skills, mindset, combined), dominant prior sectors
_DISTRICT_PROFILES = (
    ("Anqiao", 1.30, 0.10, (0.20, -0.10, 0.00), ("machinery", "metallurgy")),
    ("Baitang", 1.00, -0.15, (-0.20, 0.30, 0.00), ("textiles", "light industry")),
    ("Chunlin", 0.80, 0.20, (0.30, -0.20, 0.10), ("electronics", "light industry")),
    ("Dongquan", 1.10, -0.25, (-0.10, 0.20, -0.20), ("coal mining", "building materials")),
    ("Fengxia", 0.90, 0.00, (0.00, 0.00, 0.30), ("chemicals", "machinery")),
    ("Hualing", 1.20, 0.15, (0.10, 0.10, 0.00), ("textiles", "machinery")),
    ("Jinmu", 0.70, -0.20, (-0.30, 0.40, -0.10), ("forestry", "coal mining")),
    ("Liushan", 1.00, -0.05, (0.10, -0.10, 0.20), ("military industry", "metallurgy")),
    ("Nanpo", 0.85, 0.05, (0.20, 0.00, -0.10), ("light industry", "chemicals")),
    ("Qingyao", 0.95, -0.10, (0.00, 0.20, 0.10), ("metallurgy", "building materials")),
    ("Songbei", 1.15, 0.25, (0.30, -0.30, 0.00), ("electronics", "textiles")),
    ("Yuanhe", 0.75, -0.10, (-0.10, 0.10, 0.20), ("military industry", "forestry")),
)
DISTRICTS: tuple[str, ...] = tuple(p[0] for p in _DISTRICT_PROFILES)

# sector, share, share of women, median prior monthly wage (yuan), log-hazard effect
_SECTOR_PROFILES = (
    ("textiles", 0.16, 0.70, 480.0, -0.05),
    ("coal mining", 0.10, 0.12, 650.0, -0.25),
    ("machinery", 0.17, 0.30, 600.0, 0.00),
    ("metallurgy", 0.11, 0.22, 680.0, -0.10),
    ("military industry", 0.07, 0.30, 620.0, -0.15),
    ("chemicals", 0.09, 0.38, 620.0, 0.00),
    ("forestry", 0.05, 0.30, 500.0, -0.20),
    ("light industry", 0.12, 0.58, 520.0, 0.05),
    ("building materials", 0.07, 0.30, 540.0, 0.00),
    ("electronics", 0.06, 0.50, 590.0, 0.10),
)
PRIOR_SECTORS: tuple[str, ...] = tuple(p[0] for p in _SECTOR_PROFILES)

JOB_SECTORS: tuple[str, ...] = (
    "services",
    "retail",
    "catering",
    "construction",
    "domestic services",
    "transport",
    "manufacturing",
    "self-employed trade",
    "repair and maintenance",
    "security and cleaning",
)

_P_LABOUR = "Municipal Labour Bureau Re-employment Training Centre"
_P_VOC2 = "No. 2 Municipal Vocational School"
_P_TECH = "Municipal Technician College"
_P_UNION = "Federation of Trade Unions Workers' School"
_P_WOMEN = "Women's Federation Home Services School"
_P_DRIVE = "Xinglong Driving School"
_P_MACH = "Machinery Bureau Technical School"
_P_PRIV = "Mingde Private Vocational Training School"
_P_START = "Labour Bureau Entrepreneurship Guidance Centre"
_P_COMM = "Street Community Service Centre"
_P_ACCT = "Finance Bureau Accounting Training Centre"

# programme type, course name, duration (days), cost (yuan), providers, matched job sector,
# log-weight tilt for women, log-weight tilt per education score, base weight,
# self-employment tilt (multiplier on the self-employed employer weight)
_COURSES = (
    ("skills", "Electrician (low-voltage)", 90, 900, (_P_MACH, _P_TECH, _P_VOC2), "construction", -1.2, 0.3, 1.0, 1.0),
    ("skills", "Computer operation", 60, 600, (_P_VOC2, _P_PRIV, _P_UNION), "services", 0.2, 1.0, 1.2, 1.0),
    ("skills", "Domestic services (housekeeping)", 30, 300, (_P_WOMEN, _P_LABOUR), "domestic services", 1.2, -0.6, 1.2, 1.2),
    ("skills", "Catering and Chinese cooking", 90, 800, (_P_VOC2, _P_PRIV), "catering", 0.0, -0.2, 1.1, 1.5),
    ("skills", "Motor vehicle driving", 120, 1500, (_P_DRIVE, _P_LABOUR), "transport", -1.5, 0.0, 1.0, 1.3),
    ("skills", "Bookkeeping and accounting", 120, 700, (_P_ACCT, _P_VOC2), "services", 0.6, 1.2, 0.7, 0.6),
    ("skills", "Tailoring and garment making", 60, 500, (_P_WOMEN, _P_UNION), "manufacturing", 1.2, -0.4, 0.7, 1.8),
    ("skills", "Hairdressing and beauty", 90, 800, (_P_PRIV, _P_WOMEN), "services", 1.0, -0.2, 0.7, 2.0),
    ("skills", "Electric and gas welding", 90, 1000, (_P_MACH, _P_TECH), "manufacturing", -1.5, 0.0, 0.7, 0.8),
    ("skills", "Elderly and infant care", 45, 400, (_P_WOMEN, _P_COMM, _P_LABOUR), "domestic services", 1.3, -0.5, 0.8, 1.0),
    ("skills", "Household appliance repair", 120, 900, (_P_TECH, _P_PRIV), "repair and maintenance", -1.0, 0.3, 0.6, 1.6),
    ("skills", "Property management and security", 30, 350, (_P_LABOUR, _P_COMM), "security and cleaning", -0.6, -0.3, 0.8, 0.3),
    ("skills", "Retail sales and cashier", 30, 300, (_P_LABOUR, _P_UNION, _P_PRIV), "retail", 0.8, 0.0, 0.9, 1.0),
    ("skills", "Building decoration and masonry", 60, 600, (_P_TECH, _P_LABOUR), "construction", -1.2, -0.4, 0.7, 1.2),
    ("skills", "Numerical control machining", 180, 1400, (_P_TECH, _P_MACH), "manufacturing", -0.8, 0.8, 0.4, 0.3),
    ("mindset", "Changing job-choice concepts", 3, 50, (_P_LABOUR, _P_UNION), None, 0.0, 0.0, 1.3, 1.0),
    ("mindset", "Job-search motivation and methods", 5, 80, (_P_LABOUR, _P_COMM), None, 0.0, 0.2, 1.2, 0.8),
    ("mindset", "Self-employment orientation", 7, 120, (_P_LABOUR, _P_UNION), None, 0.0, 0.0, 0.9, 1.8),
    ("mindset", "Start and Improve Your Business (SIYB-style)", 14, 300, (_P_START, _P_LABOUR), None, -0.2, 0.5, 0.6, 2.2),
    ("mindset", "Re-employment policy and rights", 3, 50, (_P_UNION, _P_COMM), None, 0.0, -0.2, 0.8, 0.8),
    ("mindset", "Coping with lay-off: confidence and adjustment", 5, 100, (_P_UNION, _P_WOMEN), None, 0.4, -0.2, 0.7, 0.8),
    ("combined", "Domestic services with job-choice counselling", 45, 450, (_P_WOMEN, _P_LABOUR), "domestic services", 1.0, -0.5, 1.0, 1.0),
    ("combined", "Start-up skills and entrepreneurship training", 60, 700, (_P_START, _P_VOC2), "self-employed trade", -0.2, 0.4, 0.8, 1.8),
    ("combined", "Community jobs: skills and motivation", 40, 400, (_P_COMM, _P_LABOUR), "services", 0.0, -0.3, 0.9, 0.6),
)

# per programme type (PROGRAM_TYPES order): share of random drop-outs
_DROPOUT = np.array([0.10, 0.075, 0.09, 0.0])

# --- hazard of the first job (per day), from enrollment ---------------------------------------
_BASE_BREAKS = np.array([90.0, 180.0, 365.0, 730.0])
_BASE_HAZARD = np.array([0.00300, 0.00260, 0.00200, 0.00140, 0.00095])
# programme multipliers: during the course, then 0-90, 90-180, 180-365, 365+ days after the exit
_PROG_BREAKS = np.array([0.0, 90.0, 180.0, 365.0])
_PROG_MULT = np.array(
    [
        [0.40, 1.55, 1.45, 1.33, 1.23],  # skills
        [0.95, 1.80, 1.50, 0.88, 0.87],  # mindset
        [0.55, 1.60, 1.50, 1.40, 1.30],  # combined
        [1.00, 1.00, 1.00, 1.00, 1.00],  # none
    ]
)
_EDU_HAZARD = np.array([-0.30, -0.10, 0.0, 0.10, 0.25, -0.10])  # EDUCATION_LEVELS order, then missing
_EDU_SCORE = np.array([-1.0, -0.5, 0.0, 0.3, 0.8, -0.3])  # for programme and course choice

# --- jobs ----------------------------------------------------------------------------------
# employer type probabilities (EMPLOYER_TYPES order) per programme type (PROGRAM_TYPES order)
_EMPLOYER_P = np.array(
    [
        [0.07, 0.15, 0.50, 0.05, 0.20, 0.03],  # skills
        [0.03, 0.10, 0.42, 0.02, 0.36, 0.07],  # mindset
        [0.04, 0.12, 0.46, 0.03, 0.30, 0.05],  # combined
        [0.06, 0.14, 0.42, 0.03, 0.24, 0.11],  # none
    ]
)
# job sector probabilities (JOB_SECTORS order) per employer type
_SECTOR_P = np.array(
    [
        [0.25, 0.05, 0.02, 0.10, 0.00, 0.18, 0.30, 0.00, 0.05, 0.05],  # state_owned
        [0.20, 0.15, 0.08, 0.15, 0.02, 0.08, 0.22, 0.00, 0.05, 0.05],  # collective
        [0.18, 0.15, 0.12, 0.14, 0.06, 0.08, 0.17, 0.00, 0.05, 0.05],  # private
        [0.20, 0.10, 0.05, 0.00, 0.00, 0.05, 0.60, 0.00, 0.00, 0.00],  # foreign_funded
        [0.10, 0.18, 0.15, 0.02, 0.05, 0.08, 0.00, 0.35, 0.07, 0.00],  # self_employed
        [0.30, 0.00, 0.00, 0.10, 0.00, 0.00, 0.00, 0.00, 0.00, 0.60],  # public_works
    ]
)
# median wage replacement (placement wage / prior wage) per programme type; log shift by employer
_WAGE_RATIO = np.array([0.885, 0.78, 0.86, 0.81])
_WAGE_EMPLOYER = np.array([0.05, -0.05, 0.0, 0.12, 0.0, -0.20])
_WAGE_SIGMA = np.array([0.20, 0.20, 0.20, 0.20, 0.32, 0.15])
_WAGE_MISSING = np.array([0.02, 0.02, 0.03, 0.02, 0.10, 0.01])
# 12-month retention of the first job per programme type; shift by employer type
_RETENTION = np.array([0.72, 0.58, 0.70, 0.60])
_RETENTION_EMPLOYER = np.array([0.08, 0.0, 0.0, 0.05, -0.06, -0.25])
_TENURE_SHAPE = 0.8
_SECOND_JOB = 0.68  # probability of another job after the first one ended
_SECOND_GAP_MEAN = 80.0  # days between jobs

_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "INTEGER": pa.int32(),
    "DATE": pa.date32(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
}


def _schema(columns: dict[str, tuple[str, bool]]) -> pa.Schema:
    return pa.schema([pa.field(c, _ARROW_TYPES[t], nullable=n) for c, (t, n) in columns.items()])


ENROLLMENT_SCHEMA = _schema(ENROLLMENT_COLUMNS)
PLACEMENT_SCHEMA = _schema(PLACEMENT_COLUMNS)


# --------------------------------------------------------------------------------------------
# Small vectorised helpers
# --------------------------------------------------------------------------------------------


def _day(d: datetime.date) -> int:
    return (d - _EPOCH).days


def _year(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int32) + 1970


def _draw(rng: np.random.Generator, probs: np.ndarray, n: int | None = None) -> np.ndarray:
    """Category indices: ``probs`` is a weight vector (then ``n`` draws) or an (n, k) matrix."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim == 1:
        cum = np.cumsum(probs / probs.sum())
        idx = np.searchsorted(cum, rng.random(n), side="right")
        return np.minimum(idx, len(cum) - 1).astype(np.int8 if len(cum) < 128 else np.int32)
    cum = np.cumsum(probs, axis=1)
    u = rng.random(probs.shape[0]) * cum[:, -1]
    idx = (cum <= u[:, None]).sum(axis=1)
    return np.minimum(idx, probs.shape[1] - 1).astype(np.int8 if probs.shape[1] < 128 else np.int32)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded numbers as an Arrow string array, built from raw buffers."""
    n = len(numbers)
    w = 1 + width
    buf = np.empty((n, w), dtype=np.uint8)
    buf[:, 0] = ord(prefix)
    x = numbers.astype(np.int64, copy=True)
    for j in range(width, 0, -1):
        buf[:, j] = 48 + x % 10
        x //= 10
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(buf)))


def _labels(labels, idx: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    dictionary = pa.array(list(labels), type=pa.string())
    return dictionary.take(pa.array(idx.astype(np.int32), mask=null))


def _dates(days: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(days.astype(np.int32), type=pa.int32(), mask=null).view(pa.date32())


# --------------------------------------------------------------------------------------------
# Stage 1: enrollment skeleton (person and date of every enrollment) and person attributes
# --------------------------------------------------------------------------------------------


def _enrollment_day_weights(start: int, as_of: int) -> np.ndarray:
    days = np.arange(start, as_of + 1)
    year = _year(days)
    w = np.select([year <= 2000, year == 2001, year == 2002], [1.0, 0.8, 0.65], 0.55)
    month = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1
    w = np.where(month == 2, w * 0.6, w)
    weekday = (days + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    return np.where(weekday >= 5, w * 0.3, w)


def _persons(rng: np.random.Generator, first_day: np.ndarray) -> dict[str, np.ndarray]:
    """Attributes of persons whose first enrollment is on ``first_day`` (compact dtypes)."""
    n = len(first_day)
    dw = np.array([p[1] for p in _DISTRICT_PROFILES])
    district = _draw(rng, dw, n)

    sector_w = np.array([p[1] for p in _SECTOR_PROFILES])
    boost = np.ones((len(DISTRICTS), len(PRIOR_SECTORS)))
    for i, p in enumerate(_DISTRICT_PROFILES):
        for s in p[4]:
            boost[i, PRIOR_SECTORS.index(s)] = 3.0
    sector = _draw(rng, (sector_w * boost)[district])

    female_share = np.array([p[2] for p in _SECTOR_PROFILES])[sector]
    gender = (rng.random(n) >= female_share).astype(np.int8)  # 0 = F, 1 = M
    women = gender == 0
    # age at first enrollment: the "4050" bump plus a broad spread; women retire earlier
    bump = rng.random(n) < 0.45
    age = np.where(
        bump,
        35.0 + 15.0 * rng.beta(1.6, 1.4, n),
        20.0 + 38.0 * rng.beta(1.8, 1.8, n),
    )
    age = np.where(women & (age > 52), 36.0 + 16.0 * rng.random(n), age)
    age = np.clip(np.floor(age), 20, 58).astype(np.int8)
    birth_year = (_year(first_day) - age).astype(np.int16)
    gender = np.where(rng.random(n) < 0.02, -1, gender).astype(np.int8)

    young = np.array([0.04, 0.30, 0.33, 0.25, 0.08])
    old = np.array([0.20, 0.46, 0.22, 0.10, 0.02])
    t = np.clip((age.astype(np.float64) - 20.0) / 35.0, 0.0, 1.0)[:, None]
    education = _draw(rng, young + (old - young) * t)
    education = np.where(rng.random(n) < 0.02, -1, education).astype(np.int8)

    laid_off_gap = np.minimum(1 + np.floor(rng.exponential(260.0, n)), 1095).astype(np.int32)
    laid_off = first_day - laid_off_gap

    median = np.array([p[3] for p in _SECTOR_PROFILES])[sector]
    edu_wage = np.array([-0.08, -0.03, 0.0, 0.04, 0.12, 0.0])[education]
    wage = median * np.exp(edu_wage + np.where(gender == 1, 0.04, 0.0) + rng.normal(0.0, 0.25, n))
    wage = np.round(wage)
    return {
        "district": district,
        "sector": sector,
        "gender": gender,
        "age": age,
        "birth_year": birth_year,
        "birth_year_null": rng.random(n) < 0.01,
        "education": education,
        "laid_off": laid_off,
        "laid_off_null": rng.random(n) < 0.01,
        "wage": wage.astype(np.float32),
        "wage_null": rng.random(n) < 0.03,
    }


def _skeleton(rng: np.random.Generator, ss: np.random.SeedSequence, n: int, start: int, as_of: int):
    """Person index and day of every enrollment, sorted by day; and the person attribute table."""
    n_repeat = int(round(0.10 * n)) if n >= 20 and as_of - start >= 90 else 0
    n_persons = n - n_repeat
    w = _enrollment_day_weights(start, as_of)
    cum = np.cumsum(w / w.sum())
    first_day = np.minimum(np.searchsorted(cum, rng.random(n_persons), side="right"), len(w) - 1)
    first_day = np.sort(first_day.astype(np.int32) + start)

    persons: dict[str, np.ndarray] = {}
    blocks = max(1, -(-n_persons // CHUNK_SIZE))
    for b, child in enumerate(ss.spawn(blocks)):
        part = _persons(np.random.default_rng(child), first_day[b * CHUNK_SIZE : (b + 1) * CHUNK_SIZE])
        for k, v in part.items():
            persons.setdefault(k, []).append(v)
    persons = {k: np.concatenate(v) for k, v in persons.items()}

    # repeats: 90-1000 days after the first enrollment, before as_of, within 3 years of the lay-off
    since_lay_off = first_day - persons["laid_off"]
    eligible = np.flatnonzero((first_day <= as_of - 90) & (persons["age"] <= 55) & (since_lay_off <= 1005))
    if len(eligible) == 0:  # tiny samples or an as_of close to 1998-01-01
        eligible = np.arange(n_persons)
    src = eligible[rng.integers(0, len(eligible), n_repeat)]
    latest = np.minimum(np.minimum(1000, as_of - first_day[src]), 1095 - since_lay_off[src])
    min_gap = np.maximum(0, np.minimum(90, latest))
    room = np.maximum(0, latest - min_gap)
    gap = min_gap + np.floor(rng.random(n_repeat) * (room + 1)).astype(np.int32)
    repeat_day = first_day[src] + gap

    person = np.concatenate([np.arange(n_persons, dtype=np.int32), src.astype(np.int32)])
    day = np.concatenate([first_day, repeat_day.astype(np.int32)])
    order = np.argsort(day, kind="stable")
    return person[order], day[order], persons


# --------------------------------------------------------------------------------------------
# Stage 2: programmes, training spells, outcomes (per chunk of enrollments)
# --------------------------------------------------------------------------------------------


def _first_job_days(
    e: np.ndarray, spell: np.ndarray, ptype: np.ndarray, effect_scale: np.ndarray, log_rel: np.ndarray
) -> np.ndarray:
    """Days from enrollment to the first job, by inverting a piecewise-constant cumulative hazard.

    ``e`` are Exp(1) draws, ``spell`` the days spent in training (0 for none), ``ptype`` the
    programme type index, ``effect_scale`` scales the log programme multipliers per person and
    ``log_rel`` is the person's log relative hazard from covariates.
    """
    n = len(e)
    breaks = np.empty((n, 8))
    breaks[:, :4] = _BASE_BREAKS
    breaks[:, 4:] = spell[:, None] + _PROG_BREAKS
    breaks.sort(axis=1)
    starts = np.empty((n, 9))
    starts[:, 0] = 0.0
    starts[:, 1:] = breaks
    widths = np.empty((n, 9))
    widths[:, :8] = np.diff(starts, axis=1)
    widths[:, 8] = np.inf

    base = _BASE_HAZARD[np.searchsorted(_BASE_BREAKS, starts, side="right")]
    rel = starts - spell[:, None]
    pidx = np.where(rel < 0, 0, np.searchsorted(_PROG_BREAKS, rel, side="right"))
    log_mult = np.log(_PROG_MULT)[ptype[:, None], pidx] * effect_scale[:, None]
    hazard = base * np.exp(log_mult + log_rel[:, None])

    cum = np.cumsum(hazard * widths, axis=1)
    seg = np.argmax(cum >= e[:, None], axis=1)
    rows = np.arange(n)
    before = np.where(seg == 0, 0.0, cum[rows, np.maximum(seg - 1, 0)])
    return starts[rows, seg] + (e - before) / hazard[rows, seg]


def _course_table():
    types = np.array([PROGRAM_TYPES.index(c[0]) for c in _COURSES])
    return {
        "type": types,
        "days": np.array([c[2] for c in _COURSES], dtype=np.float64),
        "cost": np.array([c[3] for c in _COURSES], dtype=np.float64),
        "n_prov": np.array([len(c[4]) for c in _COURSES]),
        "female": np.array([c[6] for c in _COURSES]),
        "edu": np.array([c[7] for c in _COURSES]),
        "weight": np.array([c[8] for c in _COURSES]),
        "self_emp": np.array([c[9] for c in _COURSES]),
        "sector": np.array([JOB_SECTORS.index(c[5]) if c[5] else -1 for c in _COURSES]),
    }


_COURSE = _course_table()
PROGRAM_NAMES: tuple[str, ...] = tuple(c[1] for c in _COURSES) + (NO_TRAINING_NAME,)
PROVIDERS: tuple[str, ...] = tuple(dict.fromkeys(p for c in _COURSES for p in c[4]))
# provider index per (course, slot) and a fixed price factor per provider
_COURSE_PROVIDER = np.array(
    [[PROVIDERS.index(c[4][min(j, len(c[4]) - 1)]) for j in range(3)] for c in _COURSES]
)
_PROVIDER_PRICE = 0.9 + 0.2 * (np.arange(len(PROVIDERS)) * 7 % len(PROVIDERS)) / max(1, len(PROVIDERS) - 1)


def _simulate_chunk(rng: np.random.Generator, person: np.ndarray, day: np.ndarray, persons: dict, as_of: int):
    """All enrollment and placement columns (as numpy arrays) for one chunk of enrollments."""
    n = len(day)
    g = {k: v[person] for k, v in persons.items()}
    year = _year(day)
    age = (year - g["birth_year"]).astype(np.float64)
    edu = g["education"].astype(np.int64)  # -1 -> last entry (missing)
    women = g["gender"] == 0
    district = g["district"].astype(np.int64)

    # --- programme choice: multinomial logit, 'none' is the reference -----------------------
    shifts = np.array([p[3] for p in _DISTRICT_PROFILES])[district]
    es = _EDU_SCORE[edu]
    a = age - 40.0
    util = np.empty((n, 4))
    util[:, 0] = 0.85 + 0.45 * es - 0.022 * a + 0.10 * women + shifts[:, 0]
    util[:, 1] = 0.45 - 0.40 * es + 0.028 * a - 0.05 * (year - 1998) + shifts[:, 1]
    util[:, 2] = -0.90 + 0.15 * es - 0.010 * a + 0.15 * (year - 1998) + shifts[:, 2]
    util[:, 3] = 0.0
    ptype = _draw(rng, np.exp(util)).astype(np.int64)

    # --- course within the type ---------------------------------------------------------------
    cw = np.log(_COURSE["weight"])[None, :] + women[:, None] * _COURSE["female"][None, :]
    cw = cw + np.where(g["gender"] == 1, -0.5, 0.0)[:, None] * _COURSE["female"][None, :]
    cw = cw + es[:, None] * _COURSE["edu"][None, :]
    cw = np.exp(cw) * (_COURSE["type"][None, :] == ptype[:, None])
    trained = ptype != 3
    course = np.full(n, len(_COURSES), dtype=np.int64)  # index of NO_TRAINING_NAME
    if trained.any():
        course[trained] = _draw(rng, cw[trained])
    del cw
    c = np.minimum(course, len(_COURSES) - 1)
    slot = np.floor(rng.random(n) * _COURSE["n_prov"][c]).astype(np.int64)
    provider = _COURSE_PROVIDER[c, slot]
    cost = np.where(trained, np.round(_COURSE["cost"][c] * _PROVIDER_PRICE[provider] / 10.0) * 10.0, 0.0)

    # --- training spell -------------------------------------------------------------------
    planned = _COURSE["days"][c] * np.where(ptype == 0, rng.uniform(0.9, 1.1, n), 1.0)
    planned = np.where(trained, np.round(planned), 0.0)
    dropout = rng.random(n) < _DROPOUT[ptype]
    spell = np.where(dropout, np.maximum(1.0, np.round(planned * rng.uniform(0.1, 0.8, n))), planned)

    # --- time to first job --------------------------------------------------------------
    sector_eff = np.array([p[4] for p in _SECTOR_PROFILES])[g["sector"].astype(np.int64)]
    district_eff = np.array([p[2] for p in _DISTRICT_PROFILES])[district]
    laid_off_years = (day - g["laid_off"]) / 365.25
    frac_year = (day - _day(FIRST_ENROLLMENT_DATE)) / 365.25
    log_rel = (
        -0.022 * np.maximum(age - 28.0, 0.0)
        + _EDU_HAZARD[edu]
        - 0.15 * women
        + sector_eff
        + district_eff
        - 0.12 * laid_off_years
        - 0.11 * frac_year
    )
    effect_scale = np.where(age >= 40, 0.6, 1.0) * np.where(women, 1.2, 1.0)
    t = _first_job_days(rng.exponential(1.0, n), spell, ptype, effect_scale, log_rel)
    t_day = np.floor(t)
    left_for_job = trained & (t_day < spell)
    exit_days = np.where(left_for_job, t_day, spell)
    completed = ~(dropout | left_for_job)
    exited_on = day + exit_days.astype(np.int64)
    in_training = exited_on > as_of
    first_start = day + np.minimum(t_day, 1e6).astype(np.int64)
    placed = first_start <= as_of

    enroll = {
        "district": district,
        "sector": g["sector"],
        "gender": g["gender"],
        "birth_year": g["birth_year"],
        "birth_year_null": g["birth_year_null"],
        "education": g["education"],
        "laid_off": g["laid_off"],
        "laid_off_null": g["laid_off_null"],
        "wage": g["wage"].astype(np.float64),
        "wage_null": g["wage_null"],
        "ptype": ptype,
        "course": course,
        "provider": provider,
        "provider_null": ~trained,
        "enrolled_on": day,
        "exited_on": exited_on,
        "exited_null": in_training,
        "completed": completed,
        "completed_null": in_training | ~trained,
        "cost": cost,
    }

    # --- first jobs ---------------------------------------------------------------------
    idx = np.flatnonzero(placed)
    m = len(idx)
    pt = ptype[idx]
    emp_p = _EMPLOYER_P[pt].copy()
    emp_p[:, 4] *= _COURSE["self_emp"][np.minimum(course[idx], len(_COURSES) - 1)] ** (pt != 3)
    emp_p[:, 5] *= np.where(age[idx] >= 40, 1.6, 1.0)
    employer = _draw(rng, emp_p).astype(np.int64)
    job_sector = _draw(rng, _SECTOR_P[employer]).astype(np.int64)
    matched = _COURSE["sector"][np.minimum(course[idx], len(_COURSES) - 1)]
    use_match = (pt != 3) & (matched >= 0) & (employer != 3) & (employer != 5) & (rng.random(m) < 0.45)
    job_sector = np.where(use_match, matched, job_sector)

    latent = g["wage"][idx].astype(np.float64)
    ratio = np.exp(np.log(_WAGE_RATIO[pt]) + _WAGE_EMPLOYER[employer] + rng.normal(0.0, 1.0, m) * _WAGE_SIGMA[employer])
    wage1 = np.round(latent * ratio)
    wage1_null = rng.random(m) < _WAGE_MISSING[employer]

    retention = np.clip(_RETENTION[pt] + _RETENTION_EMPLOYER[employer], 0.2, 0.95)
    scale = 365.0 / (-np.log(retention)) ** (1.0 / _TENURE_SHAPE)
    tenure = np.maximum(1.0, np.ceil(scale * rng.exponential(1.0, m) ** (1.0 / _TENURE_SHAPE)))
    start1 = first_start[idx]
    end1 = start1 + np.minimum(tenure, 1e6).astype(np.int64)
    end1_null = end1 > as_of

    # --- second jobs --------------------------------------------------------------------
    start2 = end1 + 1 + np.floor(rng.exponential(_SECOND_GAP_MEAN, m)).astype(np.int64)
    has2 = ~end1_null & (rng.random(m) < _SECOND_JOB) & (start2 <= as_of)
    emp2_p = np.where(rng.random(m)[:, None] < 0.6, emp_p, _EMPLOYER_P[3][None, :])
    employer2 = _draw(rng, emp2_p).astype(np.int64)
    sector2 = np.where(rng.random(m) < 0.5, job_sector, _draw(rng, _SECTOR_P[employer2]).astype(np.int64))
    wage2 = np.round(
        np.where(wage1_null, latent * ratio, wage1)
        * np.exp(0.03 + _WAGE_EMPLOYER[employer2] - _WAGE_EMPLOYER[employer] + rng.normal(0.0, 0.12, m))
    )
    wage2_null = rng.random(m) < _WAGE_MISSING[employer2]
    ret2 = np.clip(_RETENTION[3] + _RETENTION_EMPLOYER[employer2], 0.2, 0.95)
    scale2 = 365.0 / (-np.log(ret2)) ** (1.0 / _TENURE_SHAPE)
    tenure2 = np.maximum(1.0, np.ceil(scale2 * rng.exponential(1.0, m) ** (1.0 / _TENURE_SHAPE)))
    end2 = start2 + np.minimum(tenure2, 1e6).astype(np.int64)

    # interleave: first job then (optional) second job, in enrollment order
    k = has2.astype(np.int64) + 1
    pos1 = np.cumsum(k) - k
    total = int(k.sum())
    keep2 = np.flatnonzero(has2)
    pos2 = pos1[keep2] + 1

    def merge(a1, a2, dtype=None):
        out = np.empty(total, dtype=dtype or np.result_type(a1, a2))
        out[pos1] = a1
        out[pos2] = a2[keep2]
        return out

    place = {
        "enrollment_row": merge(idx, idx),
        "started_on": merge(start1, start2),
        "ended_on": merge(end1, end2),
        "ended_null": merge(end1_null, end2 > as_of),
        "sector": merge(job_sector, sector2),
        "employer": merge(employer, employer2),
        "wage": merge(wage1, wage2),
        "wage_null": merge(wage1_null, wage2_null),
    }
    return enroll, place


def _enrollment_table(e: dict, first_row: int, width: int, person_ids: np.ndarray) -> pa.Table:
    n = len(e["enrolled_on"])
    cols = {
        "enrollment_id": _ids("E", np.arange(first_row + 1, first_row + n + 1), width),
        "person_id": _ids("P", person_ids + 1, width),
        "district": _labels(DISTRICTS, e["district"]),
        "prior_sector": _labels(PRIOR_SECTORS, e["sector"]),
        "gender": _labels(GENDERS, np.maximum(e["gender"], 0), e["gender"] < 0),
        "birth_year": pa.array(e["birth_year"].astype(np.int32), mask=e["birth_year_null"]),
        "education": _labels(EDUCATION_LEVELS, np.maximum(e["education"], 0), e["education"] < 0),
        "laid_off_on": _dates(e["laid_off"], e["laid_off_null"]),
        "prior_monthly_wage": pa.array(e["wage"], mask=e["wage_null"]),
        "program_type": _labels(PROGRAM_TYPES, e["ptype"]),
        "program_name": _labels(PROGRAM_NAMES, e["course"]),
        "provider": _labels(PROVIDERS, e["provider"], e["provider_null"]),
        "enrolled_on": _dates(e["enrolled_on"]),
        "exited_on": _dates(e["exited_on"], e["exited_null"]),
        "completed": pa.array(e["completed"], mask=e["completed_null"]),
        "cost": pa.array(e["cost"]),
    }
    return pa.Table.from_arrays([cols[c] for c in ENROLLMENT_SCHEMA.names], schema=ENROLLMENT_SCHEMA)


def _placement_table(p: dict, first_enrollment_row: int, first_id: int, width: int, placement_width: int) -> pa.Table:
    m = len(p["started_on"])
    cols = {
        "placement_id": _ids("J", np.arange(first_id + 1, first_id + m + 1), placement_width),
        "enrollment_id": _ids("E", p["enrollment_row"] + first_enrollment_row + 1, width),
        "started_on": _dates(p["started_on"]),
        "ended_on": _dates(p["ended_on"], p["ended_null"]),
        "sector": _labels(JOB_SECTORS, p["sector"]),
        "employer_type": _labels(EMPLOYER_TYPES, p["employer"]),
        "monthly_wage": pa.array(p["wage"].astype(np.float64), mask=p["wage_null"]),
    }
    return pa.Table.from_arrays([cols[c] for c in PLACEMENT_SCHEMA.names], schema=PLACEMENT_SCHEMA)


# --------------------------------------------------------------------------------------------
# districts.geojson
# --------------------------------------------------------------------------------------------


def build_districts_geojson() -> dict:
    """Fictional district shapes: a 4 x 3 jittered grid around lon 123.4, lat 41.8 (RFC 7946)."""
    cols, rows = 4, 3
    dx, dy = 0.075, 0.055
    lon0, lat0 = 123.4 - cols * dx / 2, 41.8 - rows * dy / 2
    jit = np.random.default_rng(20021231)  # fixed: the map does not depend on the seed
    vx = lon0 + dx * np.arange(cols + 1)[None, :] + np.zeros((rows + 1, 1))
    vy = lat0 + dy * np.arange(rows + 1)[:, None] + np.zeros((1, cols + 1))
    vx[1:-1, 1:-1] += jit.uniform(-0.18, 0.18, (rows - 1, cols - 1)) * dx
    vy[1:-1, 1:-1] += jit.uniform(-0.18, 0.18, (rows - 1, cols - 1)) * dy
    # outer boundary vertices move along the boundary only
    vx[[0, -1], 1:-1] += jit.uniform(-0.15, 0.15, (2, cols - 1)) * dx
    vy[1:-1, [0, -1]] += jit.uniform(-0.15, 0.15, (rows - 1, 2)) * dy
    # shared jittered edge midpoints (perpendicular offsets), so neighbours fit exactly
    hmid = jit.uniform(-0.12, 0.12, (rows + 1, cols)) * dy  # horizontal edges: offset in lat
    vmid = jit.uniform(-0.12, 0.12, (rows, cols + 1)) * dx  # vertical edges: offset in lon

    def h(i, j):  # midpoint of the horizontal edge from vertex (i, j) to (i, j + 1)
        return ((vx[i, j] + vx[i, j + 1]) / 2, (vy[i, j] + vy[i, j + 1]) / 2 + hmid[i, j])

    def v(i, j):  # midpoint of the vertical edge from vertex (i, j) to (i + 1, j)
        return ((vx[i, j] + vx[i + 1, j]) / 2 + vmid[i, j], (vy[i, j] + vy[i + 1, j]) / 2)

    features = []
    for k, name in enumerate(DISTRICTS):
        i, j = divmod(k, cols)
        i = rows - 1 - i  # first districts in the north
        ring = [
            (vx[i, j], vy[i, j]),
            h(i, j),
            (vx[i, j + 1], vy[i, j + 1]),
            v(i, j + 1),
            (vx[i + 1, j + 1], vy[i + 1, j + 1]),
            h(i + 1, j),
            (vx[i + 1, j], vy[i + 1, j]),
            v(i, j),
        ]  # counter-clockwise: along the south edge eastwards, north, west, south
        coords = [[round(float(x), 6), round(float(y), 6)] for x, y in ring]
        coords.append(coords[0])
        features.append(
            {
                "type": "Feature",
                "properties": {"district": name},
                "geometry": {"type": "Polygon", "coordinates": [coords]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def generate_extract(
    out_dir: str | Path,
    n_enrollments: int,
    seed: int = 1,
    as_of: datetime.date = DEFAULT_AS_OF,
    progress: bool = False,
) -> Path:
    """Write a synthetic extract (manifest.json, enrollments.parquet, placements.parquet,
    districts.geojson) into ``out_dir`` and return it as a Path.

    Same ``n_enrollments`` and ``seed`` give identical files. Enrollments are sorted by
    ``enrolled_on``; placements follow the enrollments. Files are written under temporary names
    and moved into place, the manifest last.
    """
    if isinstance(as_of, str):
        as_of = datetime.date.fromisoformat(as_of)
    if isinstance(as_of, datetime.datetime):
        as_of = as_of.date()
    if as_of < FIRST_ENROLLMENT_DATE:
        raise ValueError(f"as_of must be on or after {FIRST_ENROLLMENT_DATE}")
    n = int(n_enrollments)
    if n < 0:
        raise ValueError("n_enrollments must be >= 0")
    seed = int(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start, end = _day(FIRST_ENROLLMENT_DATE), _day(as_of)
    width = max(8, len(str(n)))  # enrollment and person ids
    placement_width = max(8, len(str(2 * n)))  # at most two jobs per enrollment
    n_chunks = -(-n // CHUNK_SIZE)

    root = np.random.SeedSequence(seed)
    skeleton_ss, persons_ss, chunks_ss = root.spawn(3)
    chunk_seeds = chunks_ss.spawn(n_chunks)

    tmp = {name: out / f".{name}.{os.getpid()}.tmp" for name in ("enrollments.parquet", "placements.parquet", "districts.geojson", "manifest.json")}
    try:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, unit="enrollments", unit_scale=True, disable=not progress, desc="generate")
        ew = pq.ParquetWriter(tmp["enrollments.parquet"], ENROLLMENT_SCHEMA, compression=_PARQUET_COMPRESSION)
        pw = pq.ParquetWriter(tmp["placements.parquet"], PLACEMENT_SCHEMA, compression=_PARQUET_COMPRESSION)
        try:
            if n > 0:
                person, day, persons = _skeleton(np.random.default_rng(skeleton_ss), persons_ss, n, start, end)
                pending: list[pa.Table] = []
                pending_rows = 0
                placement_count = 0
                for k, child in enumerate(chunk_seeds):
                    lo, hi = k * CHUNK_SIZE, min(n, (k + 1) * CHUNK_SIZE)
                    e, p = _simulate_chunk(np.random.default_rng(child), person[lo:hi], day[lo:hi], persons, end)
                    ew.write_table(_enrollment_table(e, lo, width, person[lo:hi]), row_group_size=CHUNK_SIZE)
                    del e
                    pt = _placement_table(p, lo, placement_count, width, placement_width)
                    placement_count += pt.num_rows
                    pending.append(pt)
                    pending_rows += pt.num_rows
                    if pending_rows >= CHUNK_SIZE:  # full row groups of CHUNK_SIZE placements
                        table = pa.concat_tables(pending)
                        full = pending_rows // CHUNK_SIZE * CHUNK_SIZE
                        pw.write_table(table.slice(0, full), row_group_size=CHUNK_SIZE)
                        pending, pending_rows = [table.slice(full)], pending_rows - full
                    bar.update(hi - lo)
                if pending_rows:
                    pw.write_table(pa.concat_tables(pending), row_group_size=CHUNK_SIZE)
        finally:
            ew.close()
            pw.close()
            bar.close()

        tmp["districts.geojson"].write_text(json.dumps(build_districts_geojson(), indent=1) + "\n", encoding="utf-8")
        manifest = {
            "as_of": as_of.isoformat(),
            "generator": {"enrollments": n, "seed": seed},
            "created_by": "reemploy generate",
        }
        tmp["manifest.json"].write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        for name in ("enrollments.parquet", "placements.parquet", "districts.geojson", "manifest.json"):
            os.replace(tmp[name], out / name)
    finally:
        for path in tmp.values():
            if path.exists():
                path.unlink()
    return out
