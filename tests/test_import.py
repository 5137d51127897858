"""`python -m reemploy import`: a corpus of bad inputs, each checked for its exit status, the rejected
rows and their reasons, that no row was lost, and that a failed import left the previous extract
byte for byte as it was."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reemploy import cli, importer
from reemploy.contract import ENROLLMENT_COLUMNS, PLACEMENT_COLUMNS
from reemploy.extracts import open_extract

AS_OF = "2002-12-31"

ENROLLMENTS = [
    dict(enrollment_id="E1", person_id="P1", district="北山", prior_sector="textiles", gender="F",
         birth_year="1960", education="senior_secondary", laid_off_on="1999-05-01",
         prior_monthly_wage="600", program_type="skills", program_name="Computer operation",
         provider="Centre", enrolled_on="2000-01-10", exited_on="2000-03-10", completed="true",
         cost="600"),
    dict(enrollment_id="E2", person_id="P2", district="Hexi", prior_sector="coal mining", gender="M",
         birth_year="1955", education="primary", laid_off_on="", prior_monthly_wage="",
         program_type="mindset", program_name="Job-search motivation", provider="Union",
         enrolled_on="2001-02-01", exited_on="2001-02-08", completed="true", cost="80"),
    dict(enrollment_id="E3", person_id="P3", district="Hexi", prior_sector="machinery", gender="",
         birth_year="", education="", laid_off_on="2000-11-30", prior_monthly_wage="550.5",
         program_type="none", program_name="No training", provider="", enrolled_on="2001-06-01",
         exited_on="2001-06-01", completed="", cost="0"),
]
PLACEMENTS = [
    dict(placement_id="J1", enrollment_id="E1", started_on="2000-05-01", ended_on="",
         sector="services", employer_type="private", monthly_wage="550"),
    dict(placement_id="J2", enrollment_id="E2", started_on="2001-04-01", ended_on="2002-04-01",
         sector="retail", employer_type="self_employed", monthly_wage=""),
    dict(placement_id="J3", enrollment_id="E3", started_on="2001-07-01", ended_on="",
         sector="catering", employer_type="state_owned", monthly_wage="700"),
]


def write_csv(path: Path, rows: list[dict], encoding="utf-8", delimiter=",", columns=None) -> Path:
    columns = columns or list(rows[0])
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(c, "") for c in columns])
    return path


def changed(rows: list[dict], index: int, **values) -> list[dict]:
    """A copy of `rows` with row `index` (0-based) changed."""
    copy = [dict(r) for r in rows]
    copy[index].update(values)
    return copy


def run_import(enrollments, placements, out, *extra, as_of=AS_OF) -> int:
    return cli.main(["import", "--enrollments", str(enrollments), "--placements", str(placements),
                     "--as-of", as_of, "--out", str(out), "--quiet", *extra])


def tree_digest(out: Path) -> dict:
    """Every file of the extract (through the symlink) with its SHA-256, and where `out` points."""
    root = out.resolve()
    files = {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }
    return {"target": str(root), "files": files}


def report(out: Path) -> dict:
    return json.loads((out / "import-report.json").read_text(encoding="utf-8"))


def rejected_rows(out: Path, table: str) -> list[dict]:
    path = out / "rejected" / f"{table}.csv"
    if not path.exists():
        return []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def rejected(out: Path, table: str) -> dict[int, str]:
    """Rejected rows as {source data row: reason}."""
    return {int(row["row"]): row["reason"] for row in rejected_rows(out, table)}


def assert_nothing_lost(out: Path, sources: dict[str, list[dict]]) -> None:
    """Every source row is accepted or rejected, once, and the counts say so."""
    for table, rows in sources.items():
        counts = report(out)["tables"][table]
        assert counts["read"] == len(rows) == counts["accepted"] + counts["rejected"], table
        key = "enrollment_id" if table == "enrollments" else "placement_id"
        accepted = [r[key] for r in pq.read_table(out / f"{table}.parquet").to_pylist()]
        refused = rejected_rows(out, table)
        assert sorted(accepted + [r[key].strip() for r in refused]) == sorted(r[key].strip() for r in rows)
        assert all(r["reason"] for r in refused), table
        by_reason = counts["rejected_by_reason"].values()
        assert not refused or (max(by_reason) <= len(refused) <= sum(by_reason)), table


@pytest.fixture
def inputs(tmp_path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    return folder


@pytest.fixture(scope="module")
def imported_once(tmp_path_factory) -> Path:
    """A data folder with one extract imported from the valid files (copied by `previous`)."""
    folder = tmp_path_factory.mktemp("imported")
    inputs = folder / "in"
    inputs.mkdir()
    code = run_import(write_csv(inputs / "ok_e.csv", ENROLLMENTS),
                      write_csv(inputs / "ok_p.csv", PLACEMENTS), folder / "data" / "extract")
    assert code == 0
    return folder / "data"


@pytest.fixture
def previous(tmp_path, inputs, imported_once) -> tuple[Path, dict]:
    """An imported extract of the valid files (the inputs are in `inputs`) and its digest."""
    write_csv(inputs / "ok_e.csv", ENROLLMENTS)
    write_csv(inputs / "ok_p.csv", PLACEMENTS)
    shutil.copytree(imported_once, tmp_path / "data", symlinks=True)
    out = tmp_path / "data" / "extract"
    return out, tree_digest(out)


def assert_unchanged(previous) -> None:
    out, digest = previous
    assert tree_digest(out) == digest
    leftovers = [p.name for p in out.parent.iterdir() if ".partial-" in p.name or ".link-" in p.name]
    assert not leftovers


# --------------------------------------------------------------------------------------------
# Rows rejected, the rest imported: exit status 1
# --------------------------------------------------------------------------------------------

REJECTION_CASES = {
    # name: (enrollment rows, placement rows, {table: {data row: expected reason texts}})
    "enrolled after as_of": (
        changed(ENROLLMENTS, 1, enrolled_on="2003-01-05", exited_on="2003-01-06"),
        PLACEMENTS,
        {"enrollments": {2: ["enrolled_on: after as_of 2002-12-31 ('2003-01-05')",
                             "exited_on: after as_of 2002-12-31 ('2003-01-06')"]},
         "placements": {2: ["enrollment_id: its enrollment was rejected ('E2', enrollments row 2)"]}},
    ),
    "impossible and unreadable dates": (
        changed(changed(ENROLLMENTS, 0, enrolled_on="2001-02-30"), 2, laid_off_on="last spring"),
        PLACEMENTS,
        {"enrollments": {1: ["enrolled_on: not a date (use YYYY-MM-DD) ('2001-02-30')"],
                         3: ["laid_off_on: not a date (use YYYY-MM-DD) ('last spring')"]},
         "placements": {1: ["its enrollment was rejected ('E1', enrollments row 1)"],
                        3: ["its enrollment was rejected ('E3', enrollments row 3)"]}},
    ),
    "a date before 1900": (
        changed(ENROLLMENTS, 2, laid_off_on="0200-11-30"),
        PLACEMENTS[:2],
        {"enrollments": {3: ["laid_off_on: before 1900-01-01 ('0200-11-30')"]}},
    ),
    "codes outside their domains": (
        changed(changed(ENROLLMENTS, 0, program_type="vocational", gender="X"), 1, education="college"),
        PLACEMENTS[2:],
        {"enrollments": {1: ["program_type: not one of skills, mindset, combined, none ('vocational')",
                             "gender: not one of F, M ('X')"],
                         2: ["education: not one of primary, junior_secondary"]}},
    ),
    "employer type outside its domain": (
        ENROLLMENTS,
        changed(PLACEMENTS, 0, employer_type="government"),
        {"placements": {1: ["employer_type: not one of state_owned"]}},
    ),
    "duplicate enrollment ids": (
        changed(ENROLLMENTS, 2, enrollment_id="E1"),
        PLACEMENTS[:2],
        {"enrollments": {1: ["enrollment_id: duplicate ('E1' also on row 3)"],
                         3: ["enrollment_id: duplicate ('E1' also on row 1)"]},
         "placements": {1: ["enrollment_id: its enrollment was rejected ('E1', enrollments row 1)"]}},
    ),
    "duplicate placement ids": (
        ENROLLMENTS,
        changed(PLACEMENTS, 2, placement_id="J1"),
        {"placements": {1: ["placement_id: duplicate ('J1' also on row 3)"],
                        3: ["placement_id: duplicate ('J1' also on row 1)"]}},
    ),
    "exited before enrolled": (
        changed(ENROLLMENTS, 1, exited_on="2001-01-31"),
        PLACEMENTS[:1],
        {"enrollments": {2: ["exited_on: before enrolled_on ('2001-01-31' < '2001-02-01')"]}},
    ),
    "completed without an exit": (
        changed(ENROLLMENTS, 0, exited_on="", completed="false"),
        PLACEMENTS[1:],
        {"enrollments": {1: ["completed: set but exited_on is empty ('false')"]}},
    ),
    "a placement for an unknown enrollment": (
        ENROLLMENTS,
        changed(PLACEMENTS, 1, enrollment_id="E9"),
        {"placements": {2: ["enrollment_id: not in the enrollments file ('E9')"]}},
    ),
    "a placement before its enrollment": (
        ENROLLMENTS,
        changed(PLACEMENTS, 0, started_on="1999-12-31"),
        {"placements": {1: ["started_on: before the enrollment's enrolled_on ('1999-12-31' < '2000-01-10')"]}},
    ),
    "a job ending before it started": (
        ENROLLMENTS,
        changed(PLACEMENTS, 1, ended_on="2001-03-01"),
        {"placements": {2: ["ended_on: before started_on ('2001-03-01' < '2001-04-01')"]}},
    ),
    "negative wages and costs": (
        changed(ENROLLMENTS, 0, cost="-600", prior_monthly_wage="-1"),
        changed(PLACEMENTS, 2, monthly_wage="-700"),
        {"enrollments": {1: ["prior_monthly_wage: negative ('-1')", "cost: negative ('-600')"]},
         "placements": {1: ["its enrollment was rejected"], 3: ["monthly_wage: negative ('-700')"]}},
    ),
    "an id used in both files": (
        ENROLLMENTS,
        changed(PLACEMENTS, 2, placement_id="E2"),
        {"placements": {3: ["placement_id: also an enrollment_id ('E2')"]}},
    ),
    "missing required values": (
        changed(ENROLLMENTS, 1, district="  ", person_id="NULL"),
        changed(PLACEMENTS, 0, sector=""),
        {"enrollments": {2: ["person_id: missing", "district: missing"]},
         "placements": {1: ["sector: missing"], 2: ["its enrollment was rejected"]}},
    ),
    "values that are not numbers, years or booleans": (
        changed(ENROLLMENTS, 0, prior_monthly_wage="abc", birth_year="19x0", completed="maybe"),
        changed(PLACEMENTS, 1, monthly_wage="1.2.3"),
        {"enrollments": {1: ["prior_monthly_wage: not a number ('abc')",
                             "birth_year: not a whole number ('19x0')",
                             "completed: not true/false ('maybe')"]},
         "placements": {1: ["its enrollment was rejected"], 2: ["monthly_wage: not a number ('1.2.3')"]}},
    ),
    "an implausible birth year": (
        changed(ENROLLMENTS, 1, birth_year="2010"),
        PLACEMENTS[:1],
        {"enrollments": {2: ["birth_year: not between 1900 and 2002 ('2010')"]}},
    ),
}


@pytest.mark.parametrize("case", REJECTION_CASES, ids=list(REJECTION_CASES))
def test_rejected_rows_carry_every_reason_and_the_rest_is_imported(inputs, tmp_path, case):
    enrollments, placements, expected = REJECTION_CASES[case]
    out = tmp_path / "extract"
    code = run_import(write_csv(inputs / "e.csv", enrollments), write_csv(inputs / "p.csv", placements), out)
    assert code == 1
    for table in ("enrollments", "placements"):
        got = rejected(out, table)
        assert set(got) == set(expected.get(table, {})), (table, got)
        for row, reasons in expected.get(table, {}).items():
            for reason in reasons:
                assert reason in got[row], (table, row, got[row])
    assert_nothing_lost(out, {"enrollments": enrollments, "placements": placements})


def test_rejected_files_keep_every_original_column_and_value(inputs, tmp_path):
    enrollments = [{**row, "notes": f"note {i}"} for i, row in enumerate(ENROLLMENTS, start=1)]
    enrollments[1]["gender"] = " x "
    out = tmp_path / "extract"
    assert run_import(write_csv(inputs / "e.csv", enrollments), write_csv(inputs / "p.csv", PLACEMENTS[::2]), out) == 1
    with (out / "rejected" / "enrollments.csv").open(encoding="utf-8-sig", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert list(row) == ["row", *enrollments[1], "reason"]
    assert {k: row[k] for k in enrollments[1]} == enrollments[1]  # untrimmed, as in the source
    assert report(out)["sources"]["enrollments"]["ignored_columns"] == ["notes"]


def test_a_row_with_the_wrong_number_of_fields_is_rejected_and_later_rows_keep_their_numbers(inputs, tmp_path):
    path = write_csv(inputs / "e.csv", ENROLLMENTS)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(2, "E9,P9,Hexi")  # becomes data row 2; E2 and E3 move to rows 3 and 4
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "extract"
    assert run_import(path, write_csv(inputs / "p.csv", PLACEMENTS), out) == 1
    assert rejected(out, "enrollments") == {2: "row: wrong number of fields (3, the header has 16)"}
    counts = report(out)["tables"]["enrollments"]
    assert (counts["read"], counts["accepted"], counts["rejected"]) == (4, 3, 1)
    assert counts["rejected_by_reason"] == {"row: wrong number of fields": 1}


# --------------------------------------------------------------------------------------------
# Spellings and formats that must import: exit status 0
# --------------------------------------------------------------------------------------------


def read_table(out: Path, table: str) -> list[dict]:
    return pq.read_table(out / f"{table}.parquet").to_pylist()


def test_normalised_codes_dates_and_numbers_are_accepted(inputs, tmp_path):
    enrollments = changed(ENROLLMENTS, 0, program_type=" Skills ", gender="女", education="Senior Secondary",
                          enrolled_on="2000/1/10", exited_on="20000310", laid_off_on="1999年5月1日",
                          prior_monthly_wage="1,200.50", completed="Yes", birth_year="1960.0")
    enrollments = changed(enrollments, 1, gender="male", completed="1", cost="\u300080\u3000")
    placements = changed(PLACEMENTS, 1, employer_type="Self-Employed", started_on="2001-04-01 00:00:00")
    out = tmp_path / "extract"
    assert run_import(write_csv(inputs / "e.csv", enrollments), write_csv(inputs / "p.csv", placements), out) == 0
    first, second = sorted(read_table(out, "enrollments"), key=lambda r: r["enrollment_id"])[:2]
    assert (first["program_type"], first["gender"], first["education"]) == ("skills", "F", "senior_secondary")
    assert (first["enrolled_on"], first["exited_on"], first["laid_off_on"]) == (
        dt.date(2000, 1, 10), dt.date(2000, 3, 10), dt.date(1999, 5, 1))
    assert (first["prior_monthly_wage"], first["completed"], first["birth_year"]) == (1200.5, True, 1960)
    assert (second["gender"], second["completed"], second["cost"]) == ("M", True, 80.0)
    jobs = {r["placement_id"]: r for r in read_table(out, "placements")}
    assert jobs["J2"]["employer_type"] == "self_employed"
    assert not (out / "rejected").exists()


def test_a_gb18030_csv_with_chinese_districts_imports_correctly(inputs, tmp_path):
    enrollments = changed(ENROLLMENTS, 1, district="南岗区", prior_sector="纺织")
    out = tmp_path / "extract"
    code = run_import(write_csv(inputs / "e.csv", enrollments, encoding="gb18030"),
                      write_csv(inputs / "p.csv", PLACEMENTS, encoding="gb18030"), out)
    assert code == 0
    districts = {r["enrollment_id"]: r["district"] for r in read_table(out, "enrollments")}
    assert districts == {"E1": "北山", "E2": "南岗区", "E3": "Hexi"}
    assert report(out)["sources"]["enrollments"]["encoding"] == "gb18030"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_a_csv_with_a_byte_order_mark_imports_with_clean_column_names(inputs, tmp_path, encoding):
    out = tmp_path / "extract"
    code = run_import(write_csv(inputs / "e.csv", ENROLLMENTS, encoding=encoding),
                      write_csv(inputs / "p.csv", PLACEMENTS, encoding=encoding), out)
    assert code == 0
    assert {r["district"] for r in read_table(out, "enrollments")} == {"北山", "Hexi"}


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_semicolon_tab_and_pipe_delimiters_are_detected(inputs, tmp_path, delimiter):
    enrollments = changed(ENROLLMENTS, 0, program_name="Computer operation, basic")
    out = tmp_path / "extract"
    code = run_import(write_csv(inputs / "e.csv", enrollments, delimiter=delimiter),
                      write_csv(inputs / "p.csv", PLACEMENTS, delimiter=delimiter), out)
    assert code == 0
    names = {r["program_name"] for r in read_table(out, "enrollments")}
    assert "Computer operation, basic" in names


def test_mapped_and_differently_spelled_headers_are_renamed(inputs, tmp_path):
    renamed = {"enrollment_id": "Enrolment No", "enrolled_on": "Date of entry"}
    enrollments = [{renamed.get(k, k.replace("_", " ").title()): v for k, v in row.items()} for row in ENROLLMENTS]
    placements = [{("id" if k == "placement_id" else k): v for k, v in row.items()} for row in PLACEMENTS]
    out = tmp_path / "extract"
    code = run_import(write_csv(inputs / "e.csv", enrollments), write_csv(inputs / "p.csv", placements), out,
                      "--map", "Enrolment No=enrollment_id", "--map", "date_of_entry=enrolled_on",
                      "--map", "placements.id=placement_id")
    assert code == 0
    assert {r["enrollment_id"] for r in read_table(out, "enrollments")} == {"E1", "E2", "E3"}
    assert report(out)["sources"]["enrollments"]["columns"]["enrolled_on"] == "Date of entry"


def test_excel_real_dates_and_serial_numbers_import_as_dates(inputs, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(ENROLLMENT_COLUMNS))
    for row in ENROLLMENTS:
        cells = [row[c] for c in ENROLLMENT_COLUMNS]
        sheet.append(cells)
    sheet["M2"] = dt.datetime(2000, 1, 10)  # enrolled_on of E1 as a real date cell
    sheet["N2"] = 36595  # exited_on of E1 as an unformatted serial: 2000-03-10
    sheet["F3"] = 1955  # birth_year as a number cell
    sheet.append([None] * 16)  # blank formatted rows at the end are not data
    book.save(inputs / "e.xlsx")
    out = tmp_path / "extract"
    assert run_import(inputs / "e.xlsx", write_csv(inputs / "p.csv", PLACEMENTS), out) == 0
    rows = {r["enrollment_id"]: r for r in read_table(out, "enrollments")}
    assert (rows["E1"]["enrolled_on"], rows["E1"]["exited_on"]) == (dt.date(2000, 1, 10), dt.date(2000, 3, 10))
    assert rows["E2"]["birth_year"] == 1955
    assert report(out)["tables"]["enrollments"]["read"] == 3


def test_parquet_inputs_import(inputs, tmp_path):
    table = pa.table({c: [r[c] or None for r in PLACEMENTS] for c in PLACEMENT_COLUMNS})
    table = table.set_column(2, "started_on", pa.array([dt.date(2000, 5, 1), dt.date(2001, 4, 1), dt.date(2001, 7, 1)]))
    pq.write_table(table, inputs / "p.parquet")
    out = tmp_path / "extract"
    assert run_import(write_csv(inputs / "e.csv", ENROLLMENTS), inputs / "p.parquet", out) == 0
    assert len(read_table(out, "placements")) == 3


def test_a_latin1_file_is_refused_unless_its_encoding_is_named(inputs, tmp_path, previous):
    out, _ = previous
    enrollments = [dict(row, district="Zürich-Höngg") for row in ENROLLMENTS]
    latin = write_csv(inputs / "e.csv", enrollments, encoding="latin-1")
    placements = write_csv(inputs / "p.csv", PLACEMENTS)
    assert run_import(latin, placements, out) == 2
    assert_unchanged(previous)
    assert run_import(latin, placements, out, "--encoding", "latin-1") == 0
    assert {r["district"] for r in read_table(out, "enrollments")} == {"Zürich-Höngg"}


# --------------------------------------------------------------------------------------------
# Unusable input: exit status 2 and the previous extract untouched
# --------------------------------------------------------------------------------------------


def _bytes(name: str, data: bytes):
    def make(folder: Path) -> Path:
        (folder / name).write_bytes(data)
        return folder / name

    return make


def _unclosed_quote(folder: Path) -> Path:
    path = write_csv(folder / "e.csv", ENROLLMENTS)
    text = path.read_text(encoding="utf-8").replace("Computer operation", '"Computer operation')
    path.write_text(text, encoding="utf-8")
    return path


def _truncated_parquet(folder: Path) -> Path:
    pq.write_table(pa.table({c: [r[c] for r in ENROLLMENTS] for c in ENROLLMENT_COLUMNS}), folder / "e.parquet")
    data = (folder / "e.parquet").read_bytes()
    (folder / "e.parquet").write_bytes(data[: len(data) // 2])
    return folder / "e.parquet"


UNUSABLE_CASES = {
    "a missing file": (lambda f: f / "nowhere.csv", "no such file"),
    "an empty file": (_bytes("e.csv", b""), "empty"),
    "a file of blank lines": (_bytes("e.csv", b"\n\n  \n"), "empty"),
    "a header-only file": (
        lambda f: write_csv(f / "e.csv", ENROLLMENTS[:0], columns=list(ENROLLMENT_COLUMNS)), "no data rows"),
    "a missing required column": (
        lambda f: write_csv(f / "e.csv", [{k: v for k, v in r.items() if k != "enrolled_on"} for r in ENROLLMENTS]),
        "required column(s) missing: enrolled_on"),
    "two columns meaning the same": (
        lambda f: write_csv(f / "e.csv", [{**r, "District ": r["district"]} for r in ENROLLMENTS]),
        "both mean district"),
    "a truncated Parquet file": (_truncated_parquet, "not a readable Parquet file"),
    "an old binary Excel file": (_bytes("e.xls", b"\xd0\xcf\x11\xe0" + bytes(600)), ".xls"),
    "a broken xlsx": (_bytes("e.xlsx", b"PK\x03\x04garbage"), "not a readable Excel workbook"),
    "binary data": (_bytes("e.csv", b"\x00\x01\x02\x03" * 50), "binary"),
    "an unclosed quote": (_unclosed_quote, "never closed"),
    "nothing valid": (
        lambda f: write_csv(f / "e.csv", [dict(r, enrolled_on="2005-01-01") for r in ENROLLMENTS]),
        "none of its 3 rows is valid"),
}


@pytest.mark.parametrize("case", UNUSABLE_CASES, ids=list(UNUSABLE_CASES))
def test_unusable_input_changes_nothing(inputs, previous, capsys, case):
    make, message = UNUSABLE_CASES[case]
    out, _ = previous
    capsys.readouterr()
    code = run_import(make(inputs), write_csv(inputs / "p.csv", PLACEMENTS), out)
    assert code == 2
    error = capsys.readouterr().err
    assert message in error and "unchanged" in error
    assert_unchanged(previous)


@pytest.mark.parametrize("mapping", ["enrolled_on", "x=not_a_column", "placements.x=district"])
def test_a_bad_map_option_changes_nothing(inputs, previous, mapping):
    out, _ = previous
    code = run_import(inputs / "ok_e.csv", inputs / "ok_p.csv", out, "--map", mapping)
    assert code == 2
    assert_unchanged(previous)


@pytest.mark.parametrize("stage, failure", [
    ("_write_manifest", RuntimeError("disk on fire")),
    ("write_accepted", KeyboardInterrupt()),
    ("check_sets", duckdb.InterruptException("INTERRUPT Error: Interrupted!")),  # Ctrl-C in a query
    ("publish_swap", RuntimeError("disk on fire")),
    ("publish_swap", KeyboardInterrupt()),
], ids=["manifest-error", "writing-ctrl-c", "query-ctrl-c", "swap-error", "swap-ctrl-c"])
def test_a_failure_midway_leaves_the_previous_extract_byte_for_byte(inputs, previous, monkeypatch, capsys,
                                                                    stage, failure):
    out, _ = previous

    def fail(*args, **kwargs):
        raise failure

    # Patched where the import looks each one up.
    if stage in ("write_accepted", "check_sets"):
        monkeypatch.setattr(importer.validation._Validator, stage, fail)
    elif stage == "publish_swap":
        monkeypatch.setattr(importer.publishing, "_swap", fail)
    else:
        monkeypatch.setattr(importer.run, stage, fail)
    enrollments = write_csv(inputs / "e.csv", changed(ENROLLMENTS, 0, district="Changed"))
    code = run_import(enrollments, inputs / "ok_p.csv", out)
    assert code == (2 if isinstance(failure, RuntimeError) else 130)
    assert "unchanged" in capsys.readouterr().err
    assert_unchanged(previous)
    assert len(importer.version_folders(out)) == 1


# --------------------------------------------------------------------------------------------
# Publishing, manifest and the app
# --------------------------------------------------------------------------------------------


def test_each_import_gets_a_new_version_and_only_the_previous_one_is_kept(inputs, previous):
    out, first = previous
    versions = []
    for as_of in ("2002-12-31", "2003-06-30", "2003-12-31"):
        assert run_import(inputs / "ok_e.csv", inputs / "ok_p.csv", out, "--min-cell", "15", as_of=as_of) == 0
        extract = open_extract(out)
        versions.append(extract.version)
        assert extract.as_of.isoformat() == as_of
        assert extract.manifest["min_cell"] == 15
    assert len(set(versions)) == 3  # even the same files and as_of give a new version
    kept = importer.version_folders(out)
    assert len(kept) == 2 and out.resolve() in kept
    assert out.is_symlink() and Path(first["target"]) not in kept


def test_the_first_import_over_a_real_folder_keeps_it_as_the_previous_version(inputs, tmp_path):
    out = tmp_path / "extract"
    out.mkdir()
    (out / "manifest.json").write_text('{"as_of": "2002-12-31"}')
    (out / "districts.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    assert run_import(write_csv(inputs / "e.csv", ENROLLMENTS), write_csv(inputs / "p.csv", PLACEMENTS), out) == 0
    assert out.is_symlink()
    kept = importer.version_folders(out)
    assert [p.name.endswith("-previous") for p in kept].count(True) == 1
    assert (out / "districts.geojson").is_file()  # boundaries carried over


def test_a_folder_that_is_not_an_extract_is_never_replaced(inputs, tmp_path):
    out = tmp_path / "documents"
    out.mkdir()
    (out / "thesis.docx").write_text("precious")
    assert run_import(write_csv(inputs / "e.csv", ENROLLMENTS), write_csv(inputs / "p.csv", PLACEMENTS), out) == 2
    assert (out / "thesis.docx").read_text() == "precious" and not out.is_symlink()


def test_the_report_accounts_for_every_row_and_names_the_sources(inputs, tmp_path):
    out = tmp_path / "extract"
    placements = changed(PLACEMENTS, 0, enrollment_id="E9")
    assert run_import(write_csv(inputs / "e.csv", ENROLLMENTS), write_csv(inputs / "p.csv", placements), out) == 1
    document = report(out)
    assert document["as_of"] == AS_OF and document["exit_code"] == 1
    assert document["started_at"] <= document["finished_at"]
    source = document["sources"]["placements"]
    assert source["sha256"] == hashlib.sha256((inputs / "p.csv").read_bytes()).hexdigest()
    assert (source["format"], source["encoding"], source["delimiter"]) == ("csv", "utf-8", "comma")
    assert document["tables"]["placements"] == {
        "read": 3, "accepted": 2, "rejected": 1,
        "rejected_by_reason": {"enrollment_id: not in the enrollments file": 1},
        "rejected_file": "rejected/placements.csv",
    }
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["import_id"] == document["import_id"]
    assert manifest["sources"]["placements"]["sha256"] == source["sha256"]


def test_the_app_shows_a_new_import_without_a_restart(inputs, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    out = tmp_path / "extract"
    assert run_import(write_csv(inputs / "e.csv", ENROLLMENTS), write_csv(inputs / "p.csv", PLACEMENTS), out) == 0
    monkeypatch.setenv("REEMPLOY_DATA", str(out))
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "dashboard.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert any("2002-12-31" in c.value for c in at.sidebar.caption)
    assert run_import(inputs / "e.csv", inputs / "p.csv", out, as_of="2003-06-30") == 0
    at.run()
    assert not at.exception
    assert any("2003-06-30" in c.value for c in at.sidebar.caption)
    assert not any("2002-12-31" in c.value for c in at.sidebar.caption)


def test_an_open_extract_keeps_reading_its_version_after_the_next_import(inputs, previous):
    out, _ = previous
    before = open_extract(out)
    assert run_import(inputs / "ok_e.csv", write_csv(inputs / "p2.csv", PLACEMENTS[:1]), out) == 0
    after = open_extract(out)
    assert before.path != after.path and before.version != after.version
    # the previous version is kept, so a page run that opened it finishes on the same data
    assert pq.read_metadata(before.files["placements"][0]).num_rows == 3
    assert pq.read_metadata(after.files["placements"][0]).num_rows == 1


def test_a_recorded_min_cell_raises_the_operators_threshold_and_never_lowers_it(inputs, tmp_path, capsys,
                                                                              monkeypatch):
    # Issue 13: `import --min-cell 1` wrote a threshold that lowered suppression for every user.
    from reemploy import ui

    monkeypatch.delenv("REEMPLOY_MIN_CELL", raising=False)
    out = tmp_path / "extract"
    e, p = write_csv(inputs / "e.csv", ENROLLMENTS), write_csv(inputs / "p.csv", PLACEMENTS)
    capsys.readouterr()
    assert run_import(e, p, out, "--min-cell", "1") == 2
    assert "below the operator's threshold 10" in capsys.readouterr().err and not out.exists()
    assert run_import(e, p, out, "--min-cell", "25") == 0

    def threshold(*options) -> int:
        capsys.readouterr()
        assert cli.main(["summary", "--data", str(out), *options]) == 0
        return json.loads(capsys.readouterr().out)["suppression_threshold"]

    assert threshold() == 25
    assert threshold("--min-cell", "40") == 40
    assert threshold("--min-cell", "3") == 25  # the recorded one is higher: it stays
    assert ui.min_cell(open_extract(out)) == 25
    monkeypatch.setenv("REEMPLOY_MIN_CELL", "30")
    assert ui.min_cell(open_extract(out)) == 30
    monkeypatch.setenv("REEMPLOY_MIN_CELL", "2")  # the operator may lower their own setting ...
    assert ui.min_cell(open_extract(out)) == 25  # ... but not below what the extract asks for
    # A manifest written by hand with a lower threshold cannot lower it either.
    manifest = out / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "min_cell": 1}))
    monkeypatch.delenv("REEMPLOY_MIN_CELL")
    assert ui.min_cell(open_extract(out)) == 10
    assert threshold() == 10


def test_rejected_rows_file_writes_formula_like_values_as_text(inputs, tmp_path):
    # Issue 13: rejected/<table>.csv sits beside person identifiers and is opened in Excel.
    formula = "=cmd|' /C calc'!A0"
    rows = changed(ENROLLMENTS, 0, district=formula, enrolled_on="not a date")
    rows = changed(rows, 1, provider="@SUM(A1)", cost="-5")
    out = tmp_path / "extract"
    assert run_import(write_csv(inputs / "e.csv", rows), write_csv(inputs / "p.csv", PLACEMENTS), out) == 1
    refused = {r["enrollment_id"]: r for r in rejected_rows(out, "enrollments")}
    assert refused["E1"]["district"] == "'" + formula
    assert refused["E2"]["provider"] == "'@SUM(A1)"
    assert refused["E2"]["cost"] == "-5"  # a plain number is not a formula
    assert refused["E1"]["row"] == "1"


# --------------------------------------------------------------------------------------------
# Issue 13: imports that changed data without a word
# --------------------------------------------------------------------------------------------


def _enrollments_parquet(path: Path, **columns) -> Path:
    table = pa.table({c: [r[c] for r in ENROLLMENTS] for c in ENROLLMENT_COLUMNS})
    for name, array in columns.items():
        table = table.set_column(table.schema.get_field_index(name), name, array)
    pq.write_table(table, path)
    return path


def test_parquet_day_counts_in_a_date_column_are_refused_unless_their_unit_is_stated(inputs, previous, capsys):
    out, _ = previous
    # 2000-01-10, 2001-02-01, 2001-06-01 as days since 1970 (an int32 column, no date type).
    days = [(dt.date.fromisoformat(r["enrolled_on"]) - dt.date(1970, 1, 1)).days for r in ENROLLMENTS]
    assert days == [10966, 11354, 11474]
    source = _enrollments_parquet(inputs / "e.parquet", enrolled_on=pa.array(days, pa.int32()))
    capsys.readouterr()
    assert run_import(source, inputs / "ok_p.csv", out) == 2
    error = capsys.readouterr().err
    assert "'enrolled_on'" in error and "--integer-dates" in error
    assert_unchanged(previous)
    assert run_import(source, inputs / "ok_p.csv", out, "--integer-dates", "epoch-days") == 0
    rows = {r["enrollment_id"]: r["enrolled_on"] for r in read_table(out, "enrollments")}
    assert rows == {"E1": dt.date(2000, 1, 10), "E2": dt.date(2001, 2, 1), "E3": dt.date(2001, 6, 1)}


def test_parquet_zoned_timestamps_give_the_date_on_their_own_wall_clock(inputs, tmp_path):
    import pandas as pd

    # 23:30 in Los Angeles is 07:30 UTC the next day; the enrollment was on the local day.
    local = pd.Series([pd.Timestamp(r["enrolled_on"] + " 23:30") for r in ENROLLMENTS]).dt.tz_localize(
        "America/Los_Angeles")
    naive = pa.array([dt.datetime(2000, 3, 10, 23, 59), dt.datetime(2001, 2, 8, 0, 0),
                      dt.datetime(2001, 6, 1, 12, 0)], pa.timestamp("ms"))
    source = _enrollments_parquet(inputs / "e.parquet", enrolled_on=pa.array(local), exited_on=naive)
    out = tmp_path / "extract"
    assert run_import(source, write_csv(inputs / "p.csv", PLACEMENTS), out) == 0
    rows = {r["enrollment_id"]: (r["enrolled_on"], r["exited_on"]) for r in read_table(out, "enrollments")}
    assert rows == {"E1": (dt.date(2000, 1, 10), dt.date(2000, 3, 10)),
                    "E2": (dt.date(2001, 2, 1), dt.date(2001, 2, 8)),
                    "E3": (dt.date(2001, 6, 1), dt.date(2001, 6, 1))}


def test_a_nested_parquet_column_is_refused_by_name_and_an_unused_one_ignored(inputs, previous, capsys):
    out, _ = previous
    nested = pa.array([{"name": r["district"]} for r in ENROLLMENTS])
    source = _enrollments_parquet(inputs / "e.parquet", district=nested)
    capsys.readouterr()
    assert run_import(source, inputs / "ok_p.csv", out) == 2
    error = capsys.readouterr().err
    assert "column 'district'" in error and "nested" in error and "Traceback" not in error
    assert_unchanged(previous)
    extra = pa.table({c: [r[c] for r in ENROLLMENTS] for c in ENROLLMENT_COLUMNS}).append_column(
        "tags", pa.array([["a"], [], ["b", "c"]]))
    pq.write_table(extra, inputs / "e2.parquet")
    assert run_import(inputs / "e2.parquet", inputs / "ok_p.csv", out) == 0
    assert report(out)["sources"]["enrollments"]["ignored_columns"] == ["tags"]


def test_excel_formulas_without_a_saved_value_are_refused_with_the_cell(inputs, previous, capsys):
    openpyxl = pytest.importorskip("openpyxl")
    out, _ = previous
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(ENROLLMENT_COLUMNS))
    for row in ENROLLMENTS:
        sheet.append([row[c] for c in ENROLLMENT_COLUMNS])
    for number in (2, 3, 4):
        sheet[f"P{number}"] = f"=I{number}*2"  # cost; openpyxl saves no computed value
    book.save(inputs / "e.xlsx")
    capsys.readouterr()
    assert run_import(inputs / "e.xlsx", inputs / "ok_p.csv", out) == 2
    error = capsys.readouterr().err
    assert "3 formula cell(s) have no saved value" in error
    assert "data row 1, column 'cost' (cell P2: =I2*2)" in error
    assert_unchanged(previous)


def test_a_nul_byte_after_the_first_4_kb_is_refused_with_its_row(inputs, previous, capsys):
    out, _ = previous
    filler = [dict(ENROLLMENTS[0], enrollment_id=f"F{i}", program_name="x" * 100) for i in range(60)]
    path = write_csv(inputs / "e.csv", ENROLLMENTS + filler)
    data = path.read_bytes()
    position = data.index(b"F55,P1,")
    assert position > 4096
    path.write_bytes(data.replace(b"F55,P1,\xe5\x8c\x97\xe5\xb1\xb1", b"F55,P1,Hexi\x00evil"))
    capsys.readouterr()
    assert run_import(path, inputs / "ok_p.csv", out) == 2
    assert "a NUL byte at data row 59" in capsys.readouterr().err  # 3 rows, then F0..F55
    assert_unchanged(previous)


def test_a_nul_character_in_parquet_text_rejects_the_row(inputs, tmp_path):
    districts = pa.array(["Hexi\x00evil", "Hexi", "Hexi"])
    source = _enrollments_parquet(inputs / "e.parquet", district=districts)
    out = tmp_path / "extract"
    assert run_import(source, write_csv(inputs / "p.csv", PLACEMENTS), out) == 1
    assert rejected(out, "enrollments") == {1: "district: contains a NUL character ('Hexi\\0evil')"}


def test_invisible_characters_are_removed_and_text_is_nfc_so_ids_and_names_match(inputs, tmp_path):
    rows = [dict(ENROLLMENTS[0], enrollment_id="E1\u200b", district="Zu\u0308rich\u00ad"),
            dict(ENROLLMENTS[1], enrollment_id="\u2060E2", district="Z\u00fcrich"),
            dict(ENROLLMENTS[2], enrollment_id="E3", district="He\u200dxi\u200e")]
    out = tmp_path / "extract"
    assert run_import(write_csv(inputs / "e.csv", rows), write_csv(inputs / "p.csv", PLACEMENTS), out) == 0
    got = {r["enrollment_id"]: r["district"] for r in read_table(out, "enrollments")}
    assert got == {"E1": "Z\u00fcrich", "E2": "Z\u00fcrich", "E3": "Hexi"}
    # ... and an id that differs from another only by an invisible character is a duplicate.
    rows = [dict(ENROLLMENTS[0], enrollment_id="E1\u200b"), *ENROLLMENTS]
    assert run_import(write_csv(inputs / "e2.csv", rows), inputs / "p.csv", out) == 1
    assert set(rejected(out, "enrollments")) == {1, 2}


@pytest.mark.parametrize("endings, message", [
    ([b"\r\n", b"\n", b"\r\n", b"\r\n"], "the header ends in CRLF but data row 1 in LF"),
    ([b"\n", b"\n", b"\r\n", b"\n"], "the header ends in LF but data row 2 in CRLF"),
    ([b"\r", b"\r", b"\r", b"\r"], "carriage return alone"),
], ids=["crlf-then-lf", "lf-then-crlf", "cr-only"])
def test_mixed_or_cr_only_line_endings_are_refused_naming_the_file_and_row(inputs, previous, capsys,
                                                                          endings, message):
    out, _ = previous
    lines = write_csv(inputs / "e.csv", ENROLLMENTS).read_bytes().split(b"\n")[:4]
    path = inputs / "e.csv"
    path.write_bytes(b"".join(line + end for line, end in zip(lines, endings)))
    capsys.readouterr()
    assert run_import(path, inputs / "ok_p.csv", out) == 2
    error = capsys.readouterr().err
    assert message in error and str(path) in error and "Traceback" not in error
    assert_unchanged(previous)


def test_a_crlf_file_with_line_breaks_inside_quoted_values_still_imports(inputs, tmp_path):
    rows = changed(ENROLLMENTS, 0, program_name="Computer\noperation")
    path = inputs / "e.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(list(rows[0]))
        writer.writerows([list(r.values()) for r in rows])
    out = tmp_path / "extract"
    assert run_import(path, write_csv(inputs / "p.csv", PLACEMENTS), out) == 0
    names = {r["enrollment_id"]: r["program_name"] for r in read_table(out, "enrollments")}
    assert names["E1"] == "Computer\noperation"


def test_input_files_inside_the_extract_folder_are_refused_and_kept(inputs, previous, capsys):
    # Issue 13: publishing moved them away with the old version and a later import deleted them.
    out, _ = previous
    inside = out.resolve() / "new_enrollments.csv"
    write_csv(inside, ENROLLMENTS)
    digest = tree_digest(out)
    capsys.readouterr()
    assert run_import(inside, inputs / "ok_p.csv", out) == 2
    assert "is inside the extract folder" in capsys.readouterr().err
    assert tree_digest(out) == digest and inside.is_file()


def test_a_symlink_at_the_lock_file_is_refused_not_followed(inputs, previous, tmp_path, capsys):
    out, _ = previous
    target = tmp_path / "elsewhere.txt"
    lock = out.parent / f"{out.name}.lock"
    lock.unlink(missing_ok=True)
    lock.symlink_to(target)
    capsys.readouterr()
    assert run_import(inputs / "ok_e.csv", inputs / "ok_p.csv", out) == 2
    assert "is a symlink" in capsys.readouterr().err
    assert not target.exists()
    assert_unchanged(previous)


def test_a_symlinked_districts_geojson_is_refused_not_copied_into_the_extract(inputs, previous, tmp_path,
                                                                             capsys):
    out, _ = previous
    secret = tmp_path / "secret.txt"
    secret.write_text("not boundaries")
    (out / "districts.geojson").symlink_to(secret)
    digest = tree_digest(out)
    capsys.readouterr()
    assert run_import(inputs / "ok_e.csv", inputs / "ok_p.csv", out) == 2
    assert "districts.geojson is a symlink" in capsys.readouterr().err
    assert tree_digest(out) == digest
    assert not [p for p in out.parent.rglob("districts.geojson") if p.read_text() == "not boundaries"
                and not p.is_symlink()]


def test_leftovers_of_killed_imports_and_builds_are_removed_when_no_import_runs(previous):
    out, _ = previous
    partial = out.parent / f"{out.name}.partial-deadbeef"
    (partial / ".work").mkdir(parents=True)
    (partial / ".work" / "e.utf8.csv").write_text("half")
    derived = out.resolve() / ".derived" / open_extract(out).version
    dead = derived / ".enrollment_outcomes-x.parquet.999999999.1.tmp"  # no such process
    alive = derived / f".enrollment_outcomes-x.parquet.{os.getpid()}.1.tmp"
    dead.write_text("half")
    alive.write_text("being written")
    with importer.publishing._Lock(out):  # an import is running: nothing is touched
        assert importer.clean_leftovers_if_idle(out) is False
    assert partial.is_dir() and dead.is_file()
    assert importer.clean_leftovers_if_idle(out) is True
    assert not partial.exists() and not dead.exists() and alive.is_file()
