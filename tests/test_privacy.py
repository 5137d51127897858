"""Privacy (issue 7): no suppressed figure can be worked out from what the dashboard hands out,
and no download or export carries a person, enrollment or placement identifier.

The attacker here reads every download table a page offers (export.table_for_export of the
metrics table behind each chart), the headline figures for the same filters (summary JSON, the
meeting pack's headline table) and knows every cell's denominator. For each breakdown whose
cells add up to a programme's total, they subtract the visible cells from the total and bound
each hidden cell's numerator between 0 and its n. Without complementary suppression that pins
the small district's placements exactly (the control test shows it); with it, every hidden
cell keeps a range of possible values.

Differencing across filter sets (the headline for a district minus that district's row under a
sector filter), out of reach of cell suppression, is issue 13's attack: reemploy.disclosure
withholds the view or cell instead; the tests at the end run it as the issue wrote it.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import re
import zipfile
from dataclasses import dataclass, replace

import pandas as pd
import pypdf
import pytest

from conftest import D, write_extract
from reemploy.contract import PROGRAM_TYPES
from reemploy import cli, export, figures, pack, stats
from reemploy import summary as summary_document
from reemploy.db import connect, query_params, run_query
from reemploy.extracts import open_extract
from reemploy.filters import Filters

QUESTIONS = {question.__name__: question for question in figures.questions()}


def _question(metric):
    """A figure by its name, or the function itself (what the pack passes)."""
    return QUESTIONS[metric] if isinstance(metric, str) else metric

MIN_CELL = 10
AS_OF = D("2002-12-31")
SMALL_DISTRICT = "小镇"
needs_browser = pytest.mark.skipif(
    not export.images_available(), reason="no Chrome/Chromium to print the PDF pack")


def _rows():
    """About 350 enrollments over four districts, one of them small (6 skills and 4 mindset
    trainees), prior sectors and age bands with a small one each, and eight quarters, with
    identifiers that cannot turn up in a file by accident."""
    rng = random.Random(7)
    enrollments, placements = [], []
    sizes = {"东城": 55, "西城": 50, "南山": 45, SMALL_DISTRICT: 5}
    sectors = ["textiles", "coal", "machinery", "metallurgy", "military"]
    number = 0
    for district, size in sizes.items():
        for program in ("skills", "mindset", "none"):
            count = size + (1 if program == "skills" else -1) if district == SMALL_DISTRICT else size
            count = count if program != "none" else max(2, count // 3)
            for _ in range(count):
                number += 1
                enrollment_id = f"ENR-{number:05d}-Q7XK"
                enrolled = D("2000-01-15") + dt.timedelta(days=rng.randrange(0, 720))
                exited = enrolled + dt.timedelta(days=rng.choice([10, 30, 90, 150]))
                # The military sector is small (about 1 in 40): a small cell of its own.
                sector = "military" if rng.random() < 0.025 else rng.choice(sectors[:4])
                enrollments.append(dict(
                    enrollment_id=enrollment_id, person_id=f"PER-{number:05d}-Z3VW",
                    program_type=program, district=district, prior_sector=sector,
                    # Workers aged 50+ (born 1950) are few: a small age band.
                    gender=rng.choice(["F", "M"]),
                    birth_year=1950 if rng.random() < 0.03 else rng.choice([1958, 1965, 1972, 1980]),
                    education=rng.choice(["primary", "junior_secondary", "senior_secondary"]),
                    enrolled_on=enrolled, exited_on=exited, completed=rng.random() < 0.8,
                    prior_monthly_wage=600.0 + rng.randrange(0, 400), cost=500.0))
                if rng.random() < {"skills": 0.55, "mindset": 0.5, "none": 0.35}[program]:
                    start = exited + dt.timedelta(days=rng.randrange(-5, 170))
                    placements.append(dict(
                        placement_id=f"JOB-{number:05d}-M8RT", enrollment_id=enrollment_id,
                        started_on=max(start, enrolled),
                        ended_on=None if rng.random() < 0.7 else start + dt.timedelta(days=200),
                        sector=rng.choice(["services", "retail", "construction"]),
                        employer_type=rng.choice(["private", "self_employed", "state_owned"]),
                        monthly_wage=500.0 + rng.randrange(0, 500)))
    return enrollments, placements


ENROLLMENTS, PLACEMENTS = _rows()
IDENTIFIERS = sorted({row["enrollment_id"] for row in ENROLLMENTS}
                     | {row["person_id"] for row in ENROLLMENTS}
                     | {row["placement_id"] for row in PLACEMENTS})


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = write_extract(tmp_path_factory.mktemp("privacy") / "small", ENROLLMENTS, PLACEMENTS, AS_OF)
    extract = open_extract(path)
    return extract, connect(extract)


def load(small, metric, filters=Filters(), **options):
    extract, con = small
    return _question(metric)(con, extract, filters, MIN_CELL, **options)


def download(small, metric, filters=Filters(), **options) -> pd.DataFrame:
    """The table behind a chart as its CSV and Excel buttons hand it out."""
    return export.table_for_export(load(small, metric, filters, **options), MIN_CELL)


# --------------------------------------------------------------------------- the attacker


@dataclass
class Known:
    """What the attacker knows of one cell: its n, and its numerator if any table shows it."""

    n: int
    x: float | None = None


def numerator(row: dict, rate: str, count: str | None) -> float | None:
    """The numerator a download row gives away: the count itself, or rate x n."""
    if count and count in row and pd.notna(row[count]):
        return float(row[count])
    if pd.notna(row.get(rate)):
        return round(float(row[rate]) * float(row[f"{rate}_n"]))
    return None


def learn(cells: dict, table: pd.DataFrame, key, rate: str, count: str | None) -> None:
    """Add what `table` shows to `cells` (keyed by key(row), rows with None left out); a value
    seen in any table is known."""
    for row in table.to_dict("records"):
        k = key(row)
        n = row[f"{rate}_n"]
        if k is None or pd.isna(n) or int(n) == 0:
            continue
        cell = cells.setdefault(k, Known(int(n)))
        value = numerator(row, rate, count)
        if value is not None:
            cell.x = value


def recovered(total: float, cells: dict[object, Known]) -> dict[object, tuple[float, float]]:
    """The hidden cells whose numerator the attacker pins down exactly: total minus the visible
    cells is shared among the hidden ones, each between 0 and its n."""
    rest = total - sum(c.x for c in cells.values() if c.x is not None)
    hidden = {k: c for k, c in cells.items() if c.x is None}
    pinned = {}
    for k, cell in hidden.items():
        others = sum(c.n for j, c in hidden.items() if j != k)
        low, high = max(0.0, rest - others), min(float(cell.n), rest)
        if low >= high:
            pinned[k] = (low, high)
    return pinned


def headline_numerators(small, filters=Filters()) -> dict[tuple[str, str], float]:
    """(programme, measure) -> numerator, from the summary the CLI prints (rate x n)."""
    extract, con = small
    document = summary_document.summary(con, extract, filters, MIN_CELL)
    totals = {}
    for program, values in document["programs"].items():
        for measure in ("placement_rate_180d", "retention_12m"):
            if values[measure] is not None:
                totals[(program, measure)] = round(values[measure] * values[f"{measure}_n"])
    return totals


def attack(small, filters: Filters) -> list[str]:
    """Every hidden cell of every breakdown download that the attacker recovers exactly."""
    totals = headline_numerators(small, filters)
    found = []

    def check(what: str, program: str, measure: str, cells: dict, total=None) -> None:
        if total is None:
            if (program, measure) not in totals:
                return  # the programme's own total is suppressed: nothing to subtract from
            total = totals[(program, measure)]
        found.extend(f"{what}, {program}: {k} = {v}" for k, v in recovered(total, cells).items())

    every_district = replace(filters, districts=())
    by_district = download(small, "outcomes_by_district", every_district)
    gaps = download(small, "placement_gap_by_district", every_district)
    for program in PROGRAM_TYPES:
        cells: dict = {}
        learn(cells, by_district, lambda r: r["district"] if r["program_type"] == program else None,
              "placement_rate_180d", "placed_180d_count")
        if program in figures.common.COMPARED_PROGRAMS:
            learn(cells, gaps, lambda r: r["district"], f"{program}_placement_rate_180d",
                  f"{program}_placed_180d_count")
            other = [p for p in figures.common.COMPARED_PROGRAMS if p != program][0]
            # A visible gap and the other side give this side: p = other + gap (or other - gap).
            sign = 1 if program == figures.common.COMPARED_PROGRAMS[0] else -1
            for row in gaps.to_dict("records"):
                known = cells.get(row["district"])
                side = row[f"{other}_placement_rate_180d"]
                if known and known.x is None and pd.notna(row["gap"]) and pd.notna(side):
                    known.x = round((side + sign * row["gap"]) * known.n)
        check("placement rate by district", program, "placement_rate_180d", cells)

    every_sector = replace(filters, sectors=())
    sectors = download(small, "placement_rate_by_prior_sector", every_sector)
    for program in PROGRAM_TYPES:
        cells = {}
        learn(cells, sectors, lambda r: r["prior_sector"] if r["program_type"] == program else None,
              "placement_rate_180d", "placed_180d_count")
        check("placement rate by prior sector", program, "placement_rate_180d", cells)

    cohorts = download(small, "placement_rate_by_cohort", filters)
    changes = {m: download(small, "placement_rate_changes", filters, measure=m, quarters=16)
               for m in figures.trends.COHORT_MEASURES}
    horizon = download(small, "placement_rate_by_program_and_horizon", filters)
    for measure, (successes, _) in figures.trends.COHORT_MEASURES.items():
        for program in PROGRAM_TYPES:
            cells = {}
            quarter = lambda r: r["cohort_start"] if r["program_type"] == program else None  # noqa: E731
            learn(cells, cohorts, quarter, measure, successes)
            learn(cells, changes[measure], quarter, measure, successes)
            if measure == "placement_rate_180d":
                check("placement rate by quarter", program, measure, cells)
            else:
                row = horizon[(horizon["program_type"] == program) & (horizon["horizon_days"] == 365)]
                if not row.empty and pd.notna(row["placement_rate"].iloc[0]):
                    total = round(row["placement_rate"].iloc[0] * row["placement_rate_n"].iloc[0])
                    check("placement within 365 days by quarter", program, measure, cells, total)

    cells_table = load(small, "outcomes_by_characteristic", filters)
    characteristics = export.table_for_export(cells_table, MIN_CELL)
    first, second = figures.common.COMPARED_PROGRAMS
    for measure, successes in figures.who_benefits.CHARACTERISTIC_MEASURES.items():
        if not successes:
            continue  # medians do not add up to a total
        # Who benefits also hands out the gap skills - mindset per group.
        gaps = export.table_for_export(figures.who_benefits.characteristic_gaps(cells_table, measure, MIN_CELL), MIN_CELL)
        for program in PROGRAM_TYPES:
            for characteristic in figures.who_benefits.CHARACTERISTIC_LEVELS:
                cells = {}
                learn(cells, characteristics,
                      lambda r: r["level"] if (r["program_type"], r["characteristic"]) == (program, characteristic) else None,
                      measure, successes)
                if program in figures.common.COMPARED_PROGRAMS:
                    other, sign = (second, 1) if program == first else (first, -1)
                    for row in gaps[gaps["characteristic"] == characteristic].to_dict("records"):
                        known = cells.get(row["level"])
                        side = row[f"{other}_{measure}"]
                        if known and known.x is None and pd.notna(row["gap"]) and pd.notna(side):
                            known.x = round((side + sign * row["gap"]) * known.n)
                check(f"{measure} by {characteristic}", program, measure, cells)
    return found


@pytest.mark.parametrize("filters", [Filters(), Filters(date_from=D("2000-07-01"), date_to=D("2001-06-30")),
                                     Filters(genders=("F",))], ids=["all", "a period", "women"])
def test_no_suppressed_cell_can_be_worked_out_from_the_totals_and_its_siblings(small, filters):
    assert not attack(small, filters)


def test_the_small_district_is_suppressed_and_another_hidden_beside_it(small):
    table = load(small, "outcomes_by_district")
    tiny = table[table["district"] == SMALL_DISTRICT].set_index("program_type")
    assert tiny.loc["skills", "placement_rate_180d_n"] < MIN_CELL
    assert tiny.loc["skills", "placement_rate_180d_suppressed_reason"] == "small"
    skills = table[table["program_type"] == "skills"]
    assert (skills["placement_rate_180d_suppressed_reason"] == "complementary").sum() >= 1
    note = download(small, "outcomes_by_district")["note"]
    assert note.str.contains("would give a smaller group away").any()


def test_without_complementary_suppression_the_attack_recovers_the_small_district(small):
    # The control: with only the primary rule (n < 10 hidden), total minus the visible
    # districts is the small district's numerator, exactly.
    extract, con = small
    counts = run_query(con, "outcomes_by_district", query_params(extract, Filters()))
    rates = figures.common.add_rate(counts, "placement_rate_180d", "placed_180d_count")
    primary_only = export.table_for_export(
        stats.suppress(rates, MIN_CELL, extra={"placement_rate_180d": ["placed_180d_count"]}), MIN_CELL)
    cells: dict = {}
    learn(cells, primary_only, lambda r: r["district"] if r["program_type"] == "skills" else None,
          "placement_rate_180d", "placed_180d_count")
    pinned = recovered(headline_numerators(small)[("skills", "placement_rate_180d")], cells)
    truth = counts.set_index(["program_type", "district"]).loc[("skills", SMALL_DISTRICT), "placed_180d_count"]
    assert pinned == {SMALL_DISTRICT: (truth, truth)}


def test_complementary_suppression_covers_a_lone_small_cell_with_the_next_smallest():
    df = pd.DataFrame({"program_type": ["a"] * 4, "district": list("wxyz"),
                       "rate_n": [4, 40, 12, 100], "placed": [1, 20, 6, 50]})
    df["rate"] = df["placed"] / df["rate_n"]
    suppressed = stats.suppress(df, 10, extra={"rate": ["placed"]})
    out = stats.complementary_suppress(suppressed, ["program_type"], "rate", 10,
                                       successes=df["placed"], blank=["placed"])
    assert list(out["rate_suppressed_reason"]) == ["small", "", "complementary", ""]
    assert out["placed"].isna().tolist() == [True, False, True, False]
    assert out["rate_n"].tolist() == [4, 40, 12, 100]  # denominators stay


def test_complementary_suppression_adds_cells_until_the_hidden_ones_hold_min_cell_people():
    df = pd.DataFrame({"g": ["a"] * 4, "rate_n": [3, 4, 50, 60], "placed": [1, 2, 20, 30]})
    df["rate"] = df["placed"] / df["rate_n"]
    out = stats.complementary_suppress(stats.suppress(df, 10), ["g"], "rate", 10, successes=df["placed"])
    # 3 + 4 < 10 people hidden: the next smallest (50) joins them.
    assert list(out["rate_suppressed_reason"]) == ["small", "small", "complementary", ""]


def test_complementary_suppression_breaks_hidden_cells_that_all_failed_or_all_succeeded():
    # 0 of 4 and 0 of 12 hidden together: the sum (0) would give both away; a cell with
    # placements joins them. Cells with nobody hide nothing and are never chosen.
    df = pd.DataFrame({"g": ["a"] * 5, "rate_n": [4, 12, 0, 30, 90], "placed": [0, 0, 0, 0, 45]})
    df["rate"] = df["placed"] / df["rate_n"].where(df["rate_n"] > 0)
    out = stats.complementary_suppress(stats.suppress(df, 10), ["g"], "rate", 10, successes=df["placed"])
    assert list(out["rate_suppressed_reason"]) == ["small", "complementary", "small", "", "complementary"]


def test_complementary_suppression_leaves_groups_without_a_small_cell_alone():
    df = pd.DataFrame({"g": ["a", "a", "b", "b"], "rate_n": [20, 30, 5, 0], "placed": [5, 9, 1, 0]})
    df["rate"] = df["placed"] / df["rate_n"].where(df["rate_n"] > 0)
    out = stats.complementary_suppress(stats.suppress(df, 10), ["g"], "rate", 10, successes=df["placed"])
    # Group b: the only cell with people is small, so the group total is small and suppressed too.
    assert list(out["rate_suppressed_reason"]) == ["", "", "small", "small"]
    assert out["rate"].notna().tolist() == [True, True, False, False]


def test_the_trends_changes_hide_every_change_with_a_hidden_quarter(small):
    cohorts = load(small, "placement_rate_by_cohort")
    hidden = set(map(tuple, cohorts.loc[cohorts["placement_rate_180d_suppressed"],
                                        ["program_type", "cohort_start"]].to_numpy()))
    changes = load(small, "placement_rate_changes", quarters=16)
    for row in changes.to_dict("records"):
        if (row["program_type"], row["cohort_start"]) in hidden:
            assert row["placement_rate_180d_suppressed"] and pd.isna(row["placed_180d_count"])
            assert all(row[f"{c}_suppressed"] or not row[f"{c}_available"] for c in figures.trends.CHANGE_LAGS)


# --------------------------------------------------------------------------- identifiers

def _texts_of_xlsx(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return b"".join(book.read(name) for name in book.namelist())


ID_SHAPE = re.compile(rb"(?:ENR|PER|JOB)-\d{5}-[A-Z0-9]{4}")


def _leaks(data: bytes) -> list[bytes]:
    """Every fixture identifier in `data` (each has the shape ID_SHAPE, and nothing else does)."""
    return ID_SHAPE.findall(data)


def _metrics_tables() -> list[str]:
    """Every figure a page charts and downloads (reemploy.figures.questions)."""
    return sorted(QUESTIONS)


def test_the_fixture_identifiers_are_distinctive():
    assert len(IDENTIFIERS) > 500 and all(ID_SHAPE.fullmatch(i.encode()) for i in IDENTIFIERS)
    assert _leaks(" ".join(IDENTIFIERS).encode()) == [i.encode() for i in IDENTIFIERS]


@pytest.mark.parametrize("min_cell", [1, MIN_CELL])
def test_no_download_table_carries_an_identifier(small, min_cell):
    extract, con = small
    for metric in _metrics_tables():
        data = _question(metric)(con, extract, Filters(), min_cell)
        table = export.table_for_export(data, min_cell)
        about = {"what": metric, "filters": Filters().describe()}
        assert not _leaks(export.csv_bytes(table)), metric
        assert not _leaks(_texts_of_xlsx(export.xlsx_bytes(table, about))), metric


@pytest.fixture(scope="module")
def meeting(small):
    extract, con = small

    def loader(metric, filters, **options):
        return _question(metric)(con, extract, filters, MIN_CELL, **options)

    return pack.build_pack(loader, extract.as_of, Filters(), MIN_CELL)


def test_neither_the_html_pack_nor_its_figures_carry_an_identifier(meeting):
    assert not _leaks(pack.pack_html(meeting).encode("utf-8"))
    for section in meeting.sections:
        assert not _leaks(section.figure.to_json().encode("utf-8")), section.entry.name


@needs_browser
def test_the_pdf_pack_carries_no_identifier(meeting):
    data = pack.pack_pdf(meeting)
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    assert "meeting pack" in text  # the text layer was read
    assert not _leaks(data) and not _leaks(text.encode("utf-8"))


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_the_summary_command_carries_no_identifier(small, capsys, fmt):
    extract, _ = small
    assert cli.main(["summary", "--data", str(extract.path), "--format", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        assert json.loads(out)["programs"]
    assert not _leaks(out.encode("utf-8"))


def test_the_attacker_model_adds_up_the_breakdowns_to_the_totals_it_subtracts_from(small):
    # With nothing suppressed, each breakdown's numerators add up to the headline numerator the
    # attack subtracts from; so an attack that finds nothing is not an attack that misread totals.
    extract, con = small
    totals = summary_document.summary(con, extract, Filters(), 1)["programs"]
    for metric, dimension in (("outcomes_by_district", "district"),
                              ("placement_rate_by_prior_sector", "prior_sector"),
                              ("placement_rate_by_cohort", "cohort_start")):
        table = _question(metric)(con, extract, Filters(), 1)
        sums = table.groupby("program_type")["placed_180d_count"].sum()
        for program, values in totals.items():
            expected = round(values["placement_rate_180d"] * values["placement_rate_180d_n"])
            assert sums[program] == expected, (metric, program)
    characteristics = figures.who_benefits.outcomes_by_characteristic(con, extract, Filters(), 1)
    sums = characteristics.groupby(["program_type", "characteristic"])["retained_12m_count"].sum()
    for (program, _), value in sums.items():
        values = totals[program]
        assert value == round(values["retention_12m"] * values["retention_12m_n"])


def test_the_fixture_has_a_small_cell_in_every_breakdown_the_attack_reads(small):
    for metric, dimension in (("outcomes_by_district", "district"),
                              ("placement_rate_by_prior_sector", "prior_sector"),
                              ("placement_rate_by_cohort", "cohort_start"),
                              ("outcomes_by_characteristic", "level")):
        table = load(small, metric)
        reasons = set(table["placement_rate_180d_suppressed_reason"])
        assert {"small", "complementary"} <= reasons, metric


# --------------------------------------------------------------------------- issue 13: differencing

ATTACK_DISTRICT = "Hexi"


def _attack_rows():
    """Issue 13's attack as written: in the small district Hexi, skills trainees who lost a job in
    machinery (30, 12 placed within 180 days) and in textiles (4, 3 placed); so the Overview for
    Hexi shows skills 15 placed of 34, Districts filtered to machinery Hexi's skills 12 of 30,
    and 15 - 12 = 3 of 4 is the hidden skills x textiles cell. Mindset in Hexi is machinery only
    (20, 10 placed); the big district Tiexi has 40 of each programme and sector."""
    cells = [("Hexi", "skills", "machinery", 30, 12), ("Hexi", "skills", "textiles", 4, 3),
             ("Hexi", "mindset", "machinery", 20, 10),
             ("Tiexi", "skills", "machinery", 40, 20), ("Tiexi", "skills", "textiles", 40, 10),
             ("Tiexi", "mindset", "machinery", 40, 16), ("Tiexi", "mindset", "textiles", 40, 12)]
    enrollments, placements = [], []
    for district, program, sector, size, placed in cells:
        for i in range(size):
            eid = f"{district[0]}{program[0]}{sector[0]}{i}"
            enrollments.append(dict(enrollment_id=eid, program_type=program, district=district,
                                    prior_sector=sector, enrolled_on=D("2001-01-01"),
                                    exited_on=D("2001-02-01"), completed=True))
            if i < placed:
                placements.append(dict(placement_id=f"J{eid}", enrollment_id=eid,
                                       started_on=D("2001-03-01"), monthly_wage=600.0))
    return enrollments, placements


@pytest.fixture(scope="module")
def attack_extract(tmp_path_factory):
    enrollments, placements = _attack_rows()
    path = write_extract(tmp_path_factory.mktemp("attack") / "extract", enrollments, placements, AS_OF)
    extract = open_extract(path)
    return extract, connect(extract)


def _skills(table: pd.DataFrame, **where) -> dict:
    rows = table[table["program_type"] == "skills"]
    for column, value in where.items():
        rows = rows[rows[column] == value]
    assert len(rows) == 1
    return rows.iloc[0].to_dict()


def test_the_overview_of_the_small_district_is_shown_exactly(attack_extract):
    from reemploy import disclosure

    extract, con = attack_extract
    hexi = Filters(districts=(ATTACK_DISTRICT,))
    assert disclosure.withheld_view(con, extract, hexi, MIN_CELL) is None
    skills = _skills(figures.headline.headline_by_program(con, extract, hexi, MIN_CELL))
    assert (skills["placed_180d_count"], skills["placement_rate_180d_n"]) == (15, 34)


def test_districts_filtered_to_machinery_withholds_the_small_districts_skills_cell(attack_extract):
    extract, con = attack_extract
    machinery = Filters(sectors=("machinery",))
    for metric in ("outcomes_by_district", "placement_gap_by_district"):
        table = _question(metric)(con, extract, machinery, MIN_CELL)
        if metric == "outcomes_by_district":
            hexi = _skills(table, district=ATTACK_DISTRICT)
            assert hexi["placement_rate_180d_suppressed"]
            assert hexi["placement_rate_180d_suppressed_reason"] == "differencing"
            assert pd.isna(hexi["placed_180d_count"]) and pd.isna(hexi["placement_rate_180d"])
            # Mindset in Hexi has no other sector: nothing to subtract, it stays.
            mindset = table[(table["program_type"] == "mindset") & (table["district"] == ATTACK_DISTRICT)]
            assert mindset["placed_180d_count"].tolist() == [10]
            note = export.table_for_export(table, MIN_CELL)["note"]
            assert note.str.contains("another view minus this cell").sum() == 1
        else:
            row = table[table["district"] == ATTACK_DISTRICT].iloc[0]
            assert row["skills_placement_rate_180d_suppressed"] and pd.isna(row["skills_placed_180d_count"])
            assert row["gap_suppressed"]


def test_the_attack_of_the_issue_cannot_recover_the_hidden_cell(attack_extract):
    # 15 - 12 = 3 of 4 needs the 12: no view of the three (Overview for Hexi, Districts and its
    # gap chart filtered to machinery, Sectors for Hexi) and no download of them gives it.
    extract, con = attack_extract
    hexi, machinery = Filters(districts=(ATTACK_DISTRICT,)), Filters(sectors=("machinery",))
    total = _skills(figures.headline.headline_by_program(con, extract, hexi, MIN_CELL))["placed_180d_count"]
    candidates = []
    for table in (figures.districts.outcomes_by_district(con, extract, machinery, MIN_CELL),):
        hexi_row = export.table_for_export(table, MIN_CELL)
        hexi_row = hexi_row[(hexi_row["program_type"] == "skills") & (hexi_row["district"] == ATTACK_DISTRICT)]
        candidates += [v for v in hexi_row["placed_180d_count"] if pd.notna(v)]
    sectors = export.table_for_export(figures.sectors.placement_rate_by_prior_sector(con, extract, hexi, MIN_CELL), MIN_CELL)
    skills = sectors[sectors["program_type"] == "skills"]
    assert skills["placed_180d_count"].isna().all()  # textiles small, machinery beside it
    assert candidates == [] and total == 15


@pytest.mark.parametrize("filters, withheld", [
    (Filters(districts=(ATTACK_DISTRICT,), sectors=("machinery",)), True),  # all-minus: 4
    (Filters(districts=(ATTACK_DISTRICT,), sectors=("machinery", "textiles")), True),  # a value: 4
    # The 4 themselves: nothing else differs by a small group; their rates are suppressed as
    # every rate of fewer than 10 people is.
    (Filters(districts=(ATTACK_DISTRICT,), sectors=("textiles",)), False),
    (Filters(districts=("Tiexi",), sectors=("machinery",)), False),
    (Filters(sectors=("machinery",)), False),
    (Filters(districts=(ATTACK_DISTRICT,)), False),
    (Filters(districts=(ATTACK_DISTRICT,), sectors=("machinery",), programs=("mindset",)), False),
], ids=["district-and-sector", "two-sectors", "the-small-sector", "big-district", "sector", "district",
        "mindset-only"])
def test_a_view_that_differs_from_another_by_a_small_group_is_withheld(attack_extract, filters, withheld):
    from reemploy import disclosure

    extract, con = attack_extract
    assert (disclosure.withheld_view(con, extract, filters, MIN_CELL) is not None) is withheld


def test_summary_and_the_pack_refuse_a_withheld_view_and_name_why(attack_extract, tmp_path, capsys):
    extract, _ = attack_extract
    capsys.readouterr()
    assert cli.main(["summary", "--data", str(extract.path), "--district", ATTACK_DISTRICT,
                     "--sector", "machinery"]) == 2
    error = capsys.readouterr().err
    assert "withheld" in error and "prior sector filter" in error
    assert cli.main(["export", "--out", str(tmp_path / "p.html"), "--data", str(extract.path),
                     "--district", ATTACK_DISTRICT, "--sector", "machinery"]) == 2
    assert not (tmp_path / "p.html").exists()
    assert cli.main(["summary", "--data", str(extract.path), "--district", ATTACK_DISTRICT]) == 0


@pytest.mark.parametrize("page", ["dashboard.py", "pages/districts.py", "pages/meeting_pack.py"])
def test_the_app_withholds_the_view_with_a_notice_and_no_figures(attack_extract, monkeypatch, page):
    from conftest import run_app

    extract, _ = attack_extract
    at = run_app(extract.path, monkeypatch, page, min_cell=MIN_CELL,
                 district=[ATTACK_DISTRICT], sector=["machinery"])
    assert not at.exception
    assert [w.value for w in at.warning if "This view is withheld" in w.value]
    assert not at.get("plotly_chart") and not at.get("download_button")


def _rate_table(placed: int, n: int) -> pd.DataFrame:
    df = pd.DataFrame({"program_type": ["skills"], "placement_rate_180d_n": [n], "placed_180d_count": [placed]})
    df = figures.common.add_rate(df, "placement_rate_180d", "placed_180d_count")
    return stats.suppress(df, min_cell=MIN_CELL, extra={"placement_rate_180d": ["placed_180d_count"]})


@pytest.mark.parametrize("placed, n, hidden", [
    (12, 12, True), (0, 29, True), (29, 29, True),  # everyone or no one of fewer than 30
    (30, 30, False), (0, 30, False), (11, 12, False), (5, 9, True),  # 5 of 9: fewer than 10
])
def test_a_rate_of_0_or_100_percent_on_fewer_than_three_times_the_threshold_is_suppressed(placed, n, hidden):
    table = _rate_table(placed, n)
    row = table.iloc[0]
    assert bool(row["placement_rate_180d_suppressed"]) is hidden
    assert pd.isna(row["placed_180d_count"]) is hidden
    assert "placement_rate_180d_extreme" not in table.columns  # it would say which is 0 or 100%
    if hidden and n >= MIN_CELL:
        assert row["placement_rate_180d_suppressed_reason"] == "extreme"
        note = export.table_for_export(table, MIN_CELL)["note"].iloc[0]
        assert note.startswith("suppressed: would tell the outcome of everyone in a group of fewer than 30")


def test_an_employer_mix_that_names_a_small_group_is_hidden_whole(tmp_path):
    # 25 skills first jobs: 22 private, 3 self-employed (a group of 3); 40 mindset: 20 and 20.
    enrollments, placements = [], []
    for program, types in (("skills", ["private"] * 22 + ["self_employed"] * 3),
                           ("mindset", ["private"] * 20 + ["collective"] * 20)):
        for i, employer in enumerate(types):
            eid = f"{program[0]}{i}"
            enrollments.append(dict(enrollment_id=eid, program_type=program, enrolled_on=D("2001-01-01"),
                                    exited_on=D("2001-02-01"), completed=True))
            placements.append(dict(placement_id=f"J{eid}", enrollment_id=eid, started_on=D("2001-03-01"),
                                   employer_type=employer))
    extract = open_extract(write_extract(tmp_path / "mix", enrollments, placements, AS_OF))
    mix = figures.compare.employer_mix_by_program(connect(extract), extract, Filters(), MIN_CELL)
    skills, mindset = (mix[mix["program_type"] == p] for p in ("skills", "mindset"))
    assert skills["employer_share_suppressed"].all() and skills["placement_count"].isna().all()
    assert mindset.set_index("employer_type")["employer_share"]["collective"] == pytest.approx(0.5)
    assert not mindset["employer_share_suppressed"].any()
