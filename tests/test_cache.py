"""The one result cache (reemploy.cache): one answer per function, extract version and
arguments; a private copy for every caller; a new version is a new answer; persisted answers
are read back, and a damaged one is computed again."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from reemploy import cache


def fake_extract(tmp_path, version="v1"):
    (tmp_path / "extract").mkdir(exist_ok=True)
    return SimpleNamespace(location=str(tmp_path / "extract"), version=version, path=tmp_path / "extract")


@pytest.fixture
def counted():
    calls = []

    @cache.answer
    def placement_by_thing(con, extract, filters, min_cell=10, origin="enrollment"):
        calls.append((filters, min_cell, origin))
        return pd.DataFrame({"thing": ["a", "b"], "n": [min_cell, 2 * min_cell]})

    return placement_by_thing, calls


def test_one_answer_per_arguments_however_they_are_passed(tmp_path, counted):
    figure, calls = counted
    extract = fake_extract(tmp_path)
    first = figure(None, extract, "all")
    assert figure(None, extract, "all", 10).equals(first)
    assert figure(None, extract, filters="all", min_cell=10, origin="enrollment").equals(first)
    assert len(calls) == 1
    figure(None, extract, "all", origin="exit")
    figure(None, extract, "all", 5)
    assert len(calls) == 3


def test_every_caller_gets_its_own_copy(tmp_path, counted):
    figure, _ = counted
    extract = fake_extract(tmp_path)
    mine = figure(None, extract, "all")
    mine["n"] = -1
    mine.attrs["question"] = "changed"
    assert figure(None, extract, "all").attrs["question"] == "placement_by_thing_all_enrollment"
    assert list(figure(None, extract, "all")["n"]) == [10, 20]


def test_a_new_extract_version_is_a_new_answer_and_clear_forgets_them_all(tmp_path, counted):
    figure, calls = counted
    figure(None, fake_extract(tmp_path, "v1"), "all")
    figure(None, fake_extract(tmp_path, "v2"), "all")
    assert len(calls) == 2
    cache.clear()
    figure(None, fake_extract(tmp_path, "v1"), "all")
    assert len(calls) == 3


def test_an_answer_is_named_after_its_function_and_text_options(tmp_path, counted):
    figure, _ = counted
    extract = fake_extract(tmp_path)
    assert figure(None, extract, "all").attrs["question"] == "placement_by_thing_all_enrollment"
    assert figure(None, extract, 3, origin="exit").attrs["question"] == "placement_by_thing_exit"


def test_a_persisted_answer_is_read_back_after_a_restart_and_a_damaged_one_computed_again(tmp_path):
    calls = []

    @cache.answer(persist=True)
    def extract_size(con, extract):
        calls.append(1)
        return pd.DataFrame({"enrollment_count": [len(calls) * 100]})

    extract = fake_extract(tmp_path)
    assert extract_size(None, extract)["enrollment_count"].tolist() == [100]
    cache.clear()  # a restart: nothing in memory
    assert extract_size(None, extract)["enrollment_count"].tolist() == [100]
    assert len(calls) == 1
    (stored,) = (tmp_path / "extract" / ".derived" / "v1" / cache.ANSWERS_FOLDER).rglob("extract_size-*.parquet")
    stored.write_bytes(b"not parquet")
    cache.clear()
    assert extract_size(None, extract)["enrollment_count"].tolist() == [200]
    assert len(calls) == 2


def test_unhashable_options_are_refused_rather_than_cached_wrongly(tmp_path, counted):
    figure, _ = counted
    with pytest.raises(TypeError):
        figure(None, fake_extract(tmp_path), ["a", "list"])


def test_a_stored_answer_of_other_definitions_is_computed_again(tmp_path, monkeypatch):
    calls = []

    @cache.answer
    def placed(con, extract, filters):
        calls.append(filters)
        return pd.DataFrame({"placed": [len(calls)]})

    extract = fake_extract(tmp_path)
    previous = cache.set_store_mode("write")
    try:
        placed(None, extract, "all")
        cache.clear()
        cache.set_store_mode("read")
        assert placed(None, extract, "all")["placed"].tolist() == [1]  # from the store
        assert len(calls) == 1
        # Another version of the SQL or the code (a deploy), the same extract: not read.
        monkeypatch.setattr(cache, "definition_digest", lambda: "other-code")
        cache.clear()
        assert placed(None, extract, "all")["placed"].tolist() == [2]
    finally:
        cache.set_store_mode(previous)


def test_the_definitions_digest_covers_the_statistics_and_the_queries(monkeypatch):
    from reemploy.extracts import REPO_ROOT

    read = []
    original = type(REPO_ROOT).read_bytes

    def watched(path):
        read.append(path.relative_to(REPO_ROOT).as_posix())
        return original(path)

    cache.definition_digest.cache_clear()
    monkeypatch.setattr(type(REPO_ROOT), "read_bytes", watched)
    cache.definition_digest()
    monkeypatch.undo()
    cache.definition_digest.cache_clear()
    assert {"reemploy/stats.py", "reemploy/adjustment.py", "reemploy/figures/compare.py",
            "reemploy/cache.py", "queries/headline_by_program.sql"} <= set(read)
    assert not any(path.startswith("reemploy/tools/") for path in read)
