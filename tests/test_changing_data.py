"""Changing data (issue 7): an import replaces the extract under open sessions, and a missing,
truncated or broken extract gets a page that says what is wrong and how to fix it."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from streamlit.testing.v1 import AppTest

from conftest import D, TINY_ENROLLMENTS, TINY_PLACEMENTS, write_extract
from reemploy import importer
from reemploy import summary as summary_document
from reemploy.labels import program_label
from reemploy.db import connect
from reemploy.extracts import open_extract
from reemploy.filters import Filters

ROOT = Path(__file__).resolve().parent.parent
OLD_AS_OF, NEW_AS_OF = D("2002-12-31"), D("2003-06-30")
# The import rejects a job that starts before its enrollment (J5a in TINY, there to test the
# queries); it is not an outcome either way.
OLD_PLACEMENTS = [p for p in TINY_PLACEMENTS if p["placement_id"] != "J5a"]
# The new extract: the TINY rows and five more skills trainees in 北山, followed to mid-2003.
NEW_ENROLLMENTS = TINY_ENROLLMENTS + [
    dict(enrollment_id=f"S1{i}", program_type="skills", district="北山", prior_sector="coal",
         enrolled_on=D("2002-03-01"), exited_on=D("2002-06-01"), completed=True, cost=900.0)
    for i in range(5)
]
NEW_PLACEMENTS = OLD_PLACEMENTS + [
    dict(placement_id=f"J1{i}", enrollment_id=f"S1{i}", started_on=D("2002-07-01"), monthly_wage=650.0)
    for i in range(3)
]


def import_rows(tmp_path: Path, name: str, enrollments, placements, as_of, out: Path) -> None:
    """`python -m reemploy import` of these rows (written as Parquet inputs) into `out`."""
    source = write_extract(tmp_path / name, enrollments, placements, as_of)
    result = importer.import_extract(source / "enrollments.parquet", source / "placements.parquet",
                                     as_of, out, log=lambda text: None)
    assert result.exit_code == importer.EXIT_OK, result.report


def session(out: Path, monkeypatch, page: str = "dashboard.py") -> AppTest:
    monkeypatch.setenv("REEMPLOY_DATA", str(out))
    monkeypatch.setenv("REEMPLOY_MIN_CELL", "1")
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    if page != "dashboard.py":
        at.switch_page(str(ROOT / page))
    return at.run()


def shown_as_of(at: AppTest) -> set[str]:
    """Every "as of" date a page run prints (sidebar and page captions)."""
    texts = [c.value for c in at.caption] + [c.value for c in at.sidebar.caption]
    return {match for text in texts for match in re.findall(r"as of \**(\d{4}-\d{2}-\d{2})", text)}


def enrolled_cards(at: AppTest) -> dict[str, int]:
    """The Overview's "<programme> ... N enrolled" headers (no training: "N registered")."""
    cards = {}
    for markdown in at.markdown:
        match = re.search(r"<b>(.+?)</b><br><small>([\d,]+) (?:enrolled|registered)", markdown.value)
        if match:
            cards[match.group(1)] = int(match.group(2).replace(",", ""))
    return cards


def test_open_sessions_show_a_new_import_at_their_next_run_and_only_it(tmp_path, monkeypatch):
    out = tmp_path / "extract"
    import_rows(tmp_path, "old", TINY_ENROLLMENTS, OLD_PLACEMENTS, OLD_AS_OF, out)
    overview = session(out, monkeypatch)
    compare = session(out, monkeypatch, "pages/compare_programs.py")
    assert shown_as_of(overview) == shown_as_of(compare) == {"2002-12-31"}
    assert enrolled_cards(overview)["Skills training"] == 5

    import_rows(tmp_path, "new", NEW_ENROLLMENTS, NEW_PLACEMENTS, NEW_AS_OF, out)
    extract = open_extract(out)
    summary = summary_document.summary(connect(extract), extract, Filters(), 1)
    for at in (overview.run(), compare.run()):
        assert not at.exception, at.exception
        # Every figure of the run comes from the new version: no caption still says the old date.
        assert shown_as_of(at) == {"2003-06-30"}
        assert f"{len(NEW_ENROLLMENTS):,} enrollments" in " ".join(c.value for c in at.sidebar.caption)
    assert enrolled_cards(overview) == {program_label(p): values["enrolled"]
                                        for p, values in summary["programs"].items()}
    skills = summary["programs"]["skills"]
    assert f"{skills['placement_rate_180d'] * 100:.1f}%" in [m.value for m in overview.metric]
    # A page switch after the import lands on the new data too.
    overview.switch_page(str(ROOT / "pages/districts.py")).run()
    assert not overview.exception and shown_as_of(overview) == {"2003-06-30"}


def test_a_run_pinned_to_the_old_extract_finishes_on_it_after_an_import(tmp_path):
    # A page run opens the extract once (its version folder, behind the symlink the importer
    # swaps) and answers every query from it: an import during the run cannot mix versions.
    out = tmp_path / "extract"
    import_rows(tmp_path, "old", TINY_ENROLLMENTS, OLD_PLACEMENTS, OLD_AS_OF, out)
    old = open_extract(out)
    old_con = connect(old)
    before = summary_document.summary(old_con, old, Filters(), 1)
    import_rows(tmp_path, "new", NEW_ENROLLMENTS, NEW_PLACEMENTS, NEW_AS_OF, out)
    assert summary_document.summary(old_con, old, Filters(), 1) == before
    assert summary_document.summary(connect(old), old, Filters(), 1) == before  # the files are still there
    new = open_extract(out)
    assert new.path != old.path and new.version != old.version and new.as_of == NEW_AS_OF


# --------------------------------------------------------------------------- broken extracts


def _truncate(path: Path) -> None:
    data = (path / "placements.parquet").read_bytes()
    (path / "placements.parquet").write_bytes(data[: len(data) // 2])


def _drop_column(path: Path) -> None:
    table = pq.read_table(path / "enrollments.parquet")
    pq.write_table(table.drop_columns(["district"]), path / "enrollments.parquet")


def _text_dates(path: Path) -> None:
    table = pq.read_table(path / "enrollments.parquet")
    column = table.schema.get_field_index("enrolled_on")
    as_text = pa.array([str(d) for d in table.column("enrolled_on").to_pylist()])
    pq.write_table(table.set_column(column, "enrolled_on", as_text), path / "enrollments.parquet")


def _damage_a_data_page(path: Path) -> None:
    # Footer intact (the schema still reads), a data page garbled: only reading the rows fails.
    file = path / "enrollments.parquet"
    data = bytearray(file.read_bytes())
    for i in range(200, len(data) // 3):
        data[i] = (data[i] * 7 + 13) % 256
    file.write_bytes(bytes(data))
    assert pq.read_schema(file).names


def _no_enrollments(path: Path) -> None:
    write_extract(path, [], [])


def _missing(path: Path) -> None:
    for file in path.iterdir():
        file.unlink()
    path.rmdir()


MANY = [dict(row, enrollment_id=f"{row['enrollment_id']}-{i}") for i in range(300) for row in TINY_ENROLLMENTS]
BROKEN = {
    "truncated Parquet": (_truncate, "placements.parquet is not a readable Parquet file"),
    "a missing column": (_drop_column, "lacks the required column(s) district"),
    "a column of the wrong type": (_text_dates, "the column enrolled_on holds string, not a date"),
    "a damaged data page": (_damage_a_data_page, "could not be read"),
    "no enrollments": (_no_enrollments, "holds no enrollments"),
    "a missing folder": (_missing, "does not exist"),
}


@pytest.mark.parametrize("page", ["dashboard.py", "pages/sectors.py"])
@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_extract_gets_a_page_saying_what_is_wrong_and_how_to_fix_it(tmp_path, monkeypatch, case, page):
    path = write_extract(tmp_path / "broken", MANY, TINY_PLACEMENTS)
    damage, problem = BROKEN[case]
    damage(path)
    at = session(path, monkeypatch, page)
    assert not at.exception, at.exception
    assert len(at.error) == 1 and problem in at.error[0].value, [e.value for e in at.error]
    assert any(m.value.startswith("**How to fix it:**") and "python -m reemploy" in m.value
               for m in at.markdown)
    assert not at.get("plotly_chart")  # the page stops there


def test_a_repaired_extract_is_used_at_the_next_run_without_a_restart(tmp_path, monkeypatch):
    path = write_extract(tmp_path / "broken", TINY_ENROLLMENTS, TINY_PLACEMENTS)
    _truncate(path)
    at = session(path, monkeypatch)
    assert at.error
    write_extract(path, TINY_ENROLLMENTS, TINY_PLACEMENTS)
    at.run()
    assert not at.exception and not at.error and shown_as_of(at) == {"2002-12-31"}


# --------------------------------------------------------------------------- issue 13: faults


def test_the_sample_the_app_generates_survives_the_first_import_under_an_open_session(tmp_path):
    # Before issue 13 the sample was a real folder until the first import, which moved it away:
    # a run that had opened it then failed with "No files found ... .derived/<old version>".
    from reemploy.synthetic import generate_extract

    out = tmp_path / "extract"
    importer.publish_folder(out, lambda folder: generate_extract(folder, 2_000))
    assert out.is_symlink()
    old = open_extract(out)
    old_con = connect(old)
    before = summary_document.summary(old_con, old, Filters(), 1)
    import_rows(tmp_path, "new", NEW_ENROLLMENTS, NEW_PLACEMENTS, NEW_AS_OF, out)
    assert summary_document.summary(old_con, old, Filters(), 1) == before
    assert summary_document.summary(connect(old), old, Filters(), 1) == before
    assert open_extract(out).as_of == NEW_AS_OF


def test_the_app_first_start_publishes_the_sample_behind_a_symlink(tmp_path, monkeypatch):
    from reemploy import ui

    monkeypatch.setattr(ui, "SAMPLE_SIZE", 1_000)
    default = tmp_path / "data" / "extracts"
    default.mkdir(parents=True)  # an empty real folder, as a fresh checkout may have
    monkeypatch.setattr(ui, "DEFAULT_DATA_DIR", default)
    ui._ensure_sample(str(default))
    assert default.is_symlink() and open_extract(default).as_of is not None
    assert [p.name for p in importer.version_folders(default)] == [default.resolve().name]


def test_a_disk_that_fills_while_preparing_the_new_extract_leaves_the_previous_in_service(
        tmp_path, monkeypatch, capsys):
    import errno

    from reemploy import cli, db

    out = tmp_path / "extract"
    import_rows(tmp_path, "old", TINY_ENROLLMENTS, OLD_PLACEMENTS, OLD_AS_OF, out)
    old = open_extract(out)
    source = write_extract(tmp_path / "new", NEW_ENROLLMENTS, NEW_PLACEMENTS, NEW_AS_OF)
    files_before = sorted(p.name for p in out.parent.iterdir())

    def full(extract):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(db, "build_outcomes", full)
    code = cli.main(["import", "--enrollments", str(source / "enrollments.parquet"), "--placements",
                     str(source / "placements.parquet"), "--as-of", NEW_AS_OF.isoformat(),
                     "--out", str(out), "--quiet"])
    assert code == 2
    error = capsys.readouterr().err
    assert "No space left on device" in error and "unchanged" in error
    assert open_extract(out).version == old.version and out.resolve() == old.path
    assert sorted(p.name for p in out.parent.iterdir()) == files_before


def test_an_import_publishes_the_outcome_table_the_app_reads_already_built(tmp_path, monkeypatch):
    from reemploy import db

    out = tmp_path / "extract"
    import_rows(tmp_path, "old", TINY_ENROLLMENTS, OLD_PLACEMENTS, OLD_AS_OF, out)
    built = list((out / ".derived" / open_extract(out).version).glob("enrollment_outcomes-*.parquet"))
    assert len(built) == 1

    def never(*args, **kwargs):
        raise AssertionError("the outcome table was built again after publishing")

    monkeypatch.setattr(db, "_new_connection", never)
    assert db.build_outcomes(open_extract(out)) == built[0].resolve()


@pytest.mark.parametrize("module, reader", [("reemploy.figures.headline", "headline_by_program"),
                                            ("reemploy.disclosure", "withheld_view")])
def test_a_run_that_finds_its_real_folder_extract_moved_away_starts_again_on_the_new_one(
        tmp_path, monkeypatch, module, reader):
    # A sample written before issue 13 is a real folder; the first import over it moves it away
    # while sessions read it. The page run that hits the moved files reruns on the new extract.
    out = tmp_path / "extract"
    write_extract(out, TINY_ENROLLMENTS, OLD_PLACEMENTS, OLD_AS_OF)
    at = session(out, monkeypatch)
    assert shown_as_of(at) == {OLD_AS_OF.isoformat()}
    import importlib

    owner = importlib.import_module(module)
    real_load = getattr(owner, reader)
    calls = {"n": 0}

    def swapped_during_the_run(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            import_rows(tmp_path, "new", NEW_ENROLLMENTS, NEW_PLACEMENTS, NEW_AS_OF, out)
            import duckdb
            raise duckdb.IOException("IO Error: No files found that match the pattern")
        return real_load(*args, **kwargs)

    monkeypatch.setattr(owner, reader, swapped_during_the_run)
    at.run()
    assert not at.exception
    assert shown_as_of(at) == {NEW_AS_OF.isoformat()}


def test_streamlit_never_shows_a_traceback_to_users():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"


def test_a_data_folder_with_other_files_is_never_filled_with_the_sample(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("mine")
    at = session(home, monkeypatch)
    assert not at.exception
    assert [p.name for p in home.iterdir()] == ["notes.txt"]
    assert not list(tmp_path.glob("home.*"))
    assert "There is no extract in" in at.error[0].value
    assert "python -m reemploy import" in " ".join(m.value for m in at.markdown)


def test_an_empty_or_missing_folder_named_by_reemploy_data_is_not_filled_either(tmp_path, monkeypatch):
    for folder in (tmp_path / "mount", tmp_path / "missing"):
        if folder.name == "mount":
            folder.mkdir()
        at = session(folder, monkeypatch)
        expected = "There is no extract in" if folder.name == "mount" else "does not exist"
        assert not at.exception and expected in at.error[0].value
        assert not list(tmp_path.glob(f"{folder.name}.*"))
        assert folder.name != "mount" or not any(folder.iterdir())


def test_a_file_where_the_data_folder_should_be_gets_a_clear_page(tmp_path, monkeypatch):
    file = tmp_path / "extract"
    file.write_text("not a folder")
    at = session(file, monkeypatch)
    assert not at.exception
    assert "is a file, not an extract folder" in at.error[0].value
    assert file.read_text() == "not a folder"


def test_an_unreadable_data_folder_gets_a_clear_page(tmp_path, monkeypatch):
    # Tests run as root here, so permissions cannot make it unreadable: the OS error is forced.
    from reemploy import extracts

    folder = tmp_path / "extract"
    write_extract(folder, TINY_ENROLLMENTS, OLD_PLACEMENTS, OLD_AS_OF)

    def denied(root):
        raise PermissionError(13, "Permission denied", str(root / "manifest.json"))

    monkeypatch.setattr(extracts, "_read_as_of", denied)
    at = session(folder, monkeypatch)
    assert not at.exception
    assert "cannot be read (Permission denied)" in at.error[0].value
