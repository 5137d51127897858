"""Time and count what reading an extract from S3 costs against local disk (docs/scaling.md).

    python scripts/scale_object_storage.py DIR

Starts moto's S3-compatible server on 127.0.0.1, uploads the extract in DIR, and for the folder
and for s3://extracts/big reports: open_extract, building enrollment_outcomes, and the median of
5 runs of four questions, with the bytes the store sent. moto is a Python server on loopback:
its times say nothing about a real object store; the bytes and requests are DuckDB's.
Needs requirements-scale.txt.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUESTIONS = ("filter_values", "extract_profile", "headline_by_program", "outcomes_by_district")


def main(source: Path) -> None:
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                      AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}")
    client = boto3.client("s3")
    client.create_bucket(Bucket="extracts")
    for file in source.iterdir():
        if file.is_file():
            client.upload_file(str(file), "extracts", f"big/{file.name}")
    tempfile.tempdir = tempfile.mkdtemp()
    local = Path(tempfile.tempdir) / "big"
    shutil.copytree(source, local, ignore=shutil.ignore_patterns(".derived"))

    from reemploy import db
    from reemploy.extracts import open_extract, remote_filesystem
    from reemploy.filters import Filters

    sent = {"bytes": 0, "requests": 0}

    def count(parsed=None, **_):
        sent["requests"] += 1
        sent["bytes"] += int(parsed.get("ContentLength", 0) or 0)

    fs = remote_filesystem("s3://extracts/big")
    fs.connect()
    fs.s3.meta.events.register("after-call.s3.GetObject", count)

    try:
        for label, location in (("disk", str(local)), ("s3", "s3://extracts/big")):
            sent.update(bytes=0, requests=0)
            started = time.perf_counter()
            extract = open_extract(location)
            opened = time.perf_counter() - started
            opened_bytes = sent["bytes"]
            started = time.perf_counter()
            db.build_outcomes(extract)
            built = time.perf_counter() - started
            print(f"{label}: open {opened * 1000:.0f} ms ({opened_bytes:,} bytes); build "
                  f"{built:.1f} s ({sent['bytes'] - opened_bytes:,} bytes in {sent['requests']} GETs)")
            con = db.connect(extract)
            params = db.query_params(extract, Filters())
            for name in QUESTIONS:
                before, runs = sent["bytes"], []
                for _ in range(5):
                    started = time.perf_counter()
                    db.run_query(con, name, params)
                    runs.append(time.perf_counter() - started)
                print(f"  {name:28s} {statistics.median(runs) * 1000:6.0f} ms "
                      f"{(sent['bytes'] - before) // 5:>12,} bytes per run")
            con.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
