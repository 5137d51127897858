"""An extract on object storage: the same questions, the same answers as from local disk.

DuckDB's httpfs extension cannot be installed for DuckDB 2.0.1 on this machine (docs/scaling.md),
so DuckDB reads s3:// and http:// through fsspec (s3fs), registered on its connection. The store
is moto's S3-compatible server on 127.0.0.1, started here; nothing leaves the machine.
Needs `pip install -r requirements-scale.txt` (fsspec, s3fs, moto, flask); skips without.
"""

from __future__ import annotations

import json
import socket
import tempfile
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("fsspec", reason="fsspec not installed (pip install -r requirements-scale.txt)")
s3fs = pytest.importorskip("s3fs", reason="s3fs not installed (pip install -r requirements-scale.txt)")
moto_server = pytest.importorskip("moto.server",
                                  reason="moto not installed (pip install -r requirements-scale.txt)")
boto3 = pytest.importorskip("boto3", reason="boto3 not installed (it comes with moto)")

from streamlit.testing.v1 import AppTest  # noqa: E402

from reemploy import db  # noqa: E402
from reemploy import summary as summary_document
from reemploy.cli import main  # noqa: E402
from reemploy.extracts import ExtractError, open_extract, remote_filesystem  # noqa: E402
from reemploy.filters import Filters  # noqa: E402
from tests.conftest import AS_OF, D, TINY_ENROLLMENTS, TINY_PLACEMENTS, run_app, write_extract  # noqa: E402

BUCKET = "extracts"
FILTER_SETS = [
    Filters(),
    Filters(districts=("北山",)),
    Filters(programs=("skills", "mindset"), date_from=D("2001-01-01"), date_to=D("2002-06-30")),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]




@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """An S3-compatible server on loopback, with the AWS_* variables pointing s3fs (and any
    AWS client) at it for this module, and the local working folders of remote extracts in a
    temporary folder."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                            "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint}.items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        patch.setattr(tempfile, "tempdir", str(tmp_path_factory.mktemp("work")))
        # s3fs keeps one instance per set of arguments; one made for another endpoint must go.
        s3fs.S3FileSystem.clear_instance_cache()
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        yield endpoint, client
        s3fs.S3FileSystem.clear_instance_cache()
    server.stop()


def upload(client, folder: Path, prefix: str, public: bool = False) -> None:
    extra = {"ACL": "public-read"} if public else {}
    for file in sorted(folder.rglob("*")):
        if file.is_file() and ".derived" not in file.parts:
            client.upload_file(str(file), BUCKET, f"{prefix}/{file.relative_to(folder).as_posix()}",
                               ExtraArgs=extra)


@pytest.fixture(scope="module")
def tiny_on_disk(tmp_path_factory) -> Path:
    return write_extract(tmp_path_factory.mktemp("disk") / "tiny", TINY_ENROLLMENTS, TINY_PLACEMENTS)


@pytest.fixture(scope="module")
def tiny_on_s3(store, tiny_on_disk) -> str:
    _, client = store
    upload(client, tiny_on_disk, "tiny")
    return f"s3://{BUCKET}/tiny"


def answers(location, filters: Filters) -> dict[str, pd.DataFrame]:
    extract = open_extract(location)
    con = db.connect(extract)
    try:
        params = db.query_params(extract, filters, horizons_days=[90, 180, 365, 30], by="district",
                                 origin="exit", by_district=True)
        return {name: db.run_query(con, name, params) for name in db.query_names()}
    finally:
        con.close()


@pytest.mark.parametrize("filters", FILTER_SETS, ids=["all", "one district", "period"])
def test_every_question_on_an_s3_extract_gives_the_same_rows_as_on_disk(tiny_on_disk, tiny_on_s3,
                                                                        filters):
    on_disk, on_s3 = answers(tiny_on_disk, filters), answers(tiny_on_s3, filters)
    assert list(on_s3) == db.query_names()
    for name in on_disk:
        pd.testing.assert_frame_equal(on_s3[name], on_disk[name], obj=name)


def test_an_s3_extract_keeps_its_url_and_lists_its_tables_there(tiny_on_s3):
    extract = open_extract(tiny_on_s3 + "/")
    assert extract.url == extract.location == tiny_on_s3
    assert extract.as_of == AS_OF
    assert extract.files == {"enrollments": (f"{tiny_on_s3}/enrollments.parquet",),
                             "placements": (f"{tiny_on_s3}/placements.parquet",)}
    # The derived table is written on this machine, never to the store.
    assert db.build_outcomes(extract).is_relative_to(extract.path)
    # DuckDB fetches the byte ranges it asks for, without s3fs's 50 MB read-ahead.
    assert remote_filesystem(tiny_on_s3).default_cache_type == "none"


def test_the_headline_figures_from_s3_are_the_hand_worked_ones(tiny_on_s3):
    extract = open_extract(tiny_on_s3)
    skills = summary_document.summary(db.connect(extract), extract, Filters(), min_cell=1)["programs"]["skills"]
    assert skills["enrolled"] == 5
    assert skills["placement_rate_180d"] == pytest.approx(0.5)
    assert skills["median_monthly_wage"] == 650.0


def test_summary_command_reads_an_extract_at_an_s3_url(tiny_on_disk, tiny_on_s3, capsys):
    assert main(["summary", "--data", str(tiny_on_disk), "--min-cell", "1"]) == 0
    on_disk = json.loads(capsys.readouterr().out)
    assert main(["summary", "--data", tiny_on_s3, "--min-cell", "1"]) == 0
    on_s3 = json.loads(capsys.readouterr().out)
    assert on_s3["programs"] == on_disk["programs"]


def test_a_hive_partitioned_extract_on_s3_is_read_with_its_partition_column(store, tmp_path):
    _, client = store
    import pyarrow.parquet as pq

    flat = write_extract(tmp_path / "flat", TINY_ENROLLMENTS, TINY_PLACEMENTS)
    layout = tmp_path / "partitioned"
    (layout / "placements").mkdir(parents=True)
    (layout / "manifest.json").write_bytes((flat / "manifest.json").read_bytes())
    pq.write_to_dataset(pq.read_table(flat / "enrollments.parquet"), layout / "enrollments",
                        partition_cols=["program_type"])
    (layout / "placements" / "part-0.parquet").write_bytes((flat / "placements.parquet").read_bytes())
    upload(client, layout, "partitioned")

    extract = open_extract(f"s3://{BUCKET}/partitioned")
    assert len(extract.files["enrollments"]) == 3  # program_type=mindset/none/skills
    assert all("/enrollments/program_type=" in f for f in extract.files["enrollments"])
    params = db.query_params(extract, Filters())
    pd.testing.assert_frame_equal(
        db.run_query(db.connect(extract), "headline_by_program", params),
        db.run_query(db.connect(open_extract(flat)), "headline_by_program", params))


def test_replacing_an_object_on_s3_gives_a_new_version_and_new_answers(store, tmp_path):
    _, client = store
    upload(client, write_extract(tmp_path / "v1", TINY_ENROLLMENTS, TINY_PLACEMENTS), "moving")
    before = open_extract(f"s3://{BUCKET}/moving")
    # The next export drops every placement.
    upload(client, write_extract(tmp_path / "v2", TINY_ENROLLMENTS, []), "moving")
    after = open_extract(f"s3://{BUCKET}/moving")
    assert after.version != before.version
    placed = db.run_query(db.connect(after), "headline_by_program", db.query_params(after, Filters()))
    assert placed["placed_180d_count"].sum() == 0


def test_replacing_a_file_behind_an_http_url_gives_a_new_version(store, tmp_path):
    endpoint, client = store
    upload(client, write_extract(tmp_path / "v1", TINY_ENROLLMENTS, TINY_PLACEMENTS), "web", public=True)
    before = open_extract(f"{endpoint}/{BUCKET}/web")
    client.upload_file(str(write_extract(tmp_path / "v2", TINY_ENROLLMENTS, []) / "placements.parquet"),
                       BUCKET, "web/placements.parquet", ExtraArgs={"ACL": "public-read"})
    assert open_extract(f"{endpoint}/{BUCKET}/web").version != before.version


def test_a_url_without_a_manifest_says_what_is_missing(store):
    with pytest.raises(ExtractError, match="has no manifest.json"):
        open_extract(f"s3://{BUCKET}/nothing-here")


def test_the_same_extract_over_plain_https_style_urls_gives_the_same_answers(store, tiny_on_disk):
    # What a web server or a CDN in front of the bucket would serve: anonymous GETs with ranges.
    endpoint, client = store
    upload(client, tiny_on_disk, "public", public=True)
    url = f"{endpoint}/{BUCKET}/public"
    on_http, on_disk = answers(url, FILTER_SETS[1]), answers(tiny_on_disk, FILTER_SETS[1])
    for name in ("headline_by_program", "outcomes_by_district", "filter_values"):
        pd.testing.assert_frame_equal(on_http[name], on_disk[name], obj=name)


def overview(location, monkeypatch, page: str = "dashboard.py", **query) -> AppTest:
    at = run_app(location, monkeypatch, page, **query)
    assert not at.exception, at.exception
    assert not [error.value for error in at.error]  # e.g. "The extract cannot be used"
    return at


# The pages whose code touches where the extract lives (its URL, its side files); every page
# goes through the same ui.Session, so the others differ only in what they ask.
@pytest.mark.parametrize("page", ["dashboard.py", "pages/districts.py", "pages/data.py"])
def test_pages_render_from_an_extract_on_s3(tiny_on_s3, monkeypatch, page):
    overview(tiny_on_s3, monkeypatch, page)


def test_the_overview_from_s3_shows_what_it_shows_from_disk(tiny_on_disk, tiny_on_s3, monkeypatch):
    def shown(at):
        return [m.value for m in at.markdown], [(m.label, m.value) for m in at.metric]

    from_s3 = shown(overview(tiny_on_s3, monkeypatch, district=["北山"]))
    from_disk = shown(overview(tiny_on_disk, monkeypatch, district=["北山"]))
    assert from_s3 == from_disk
    assert any("2 enrolled" in text for text in from_s3[0])
