"""`python -m reemploy loadtest`: many concurrent sessions against a running server.

Each session speaks Streamlit's own websocket protocol, as a browser tab does: it opens
`/_stcore/stream`, asks for a page with a query string, then changes the District filter by
sending the multiselect's new value (found by its URL key in the page the server sent) and
switches pages, for a fixed time. It counts script runs that end in an exception, answers that
never come and lost connections; latency is from sending a request to the script's end. The
server's memory is sampled from /proc while it runs. Only addresses on this machine are allowed.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlparse

import numpy as np

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def free_port() -> int:
    """A port of 127.0.0.1 nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunningApp:
    url: str
    process: subprocess.Popen


@contextmanager
def local_app(data: str, log: Path | None = None, wait_seconds: float = 60, port: int | None = None,
              **env: str):
    """`streamlit run dashboard.py` on a free port of 127.0.0.1 (or `port`) over the extract at
    `data` (and any other environment variables given), for the benchmark, loadtest and the
    browser tests. Yields a RunningApp once /_stcore/health answers; stops the server on exit.
    Its output goes to `log` if given, else nowhere."""
    from reemploy.extracts import REPO_ROOT

    port = port or free_port()
    output = log.open("wb") if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "dashboard.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
         "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
        cwd=REPO_ROOT, env={**os.environ, "REEMPLOY_DATA": str(data), **env},
        stdout=output, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            if process.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:] if log is not None else ""
                raise RuntimeError(f"streamlit exited with status {process.returncode}. {tail}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not answer /_stcore/health in {wait_seconds} s")
                time.sleep(0.05)
        yield RunningApp(url, process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        if log is not None:
            output.close()


@dataclass
class SessionStats:
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _back_msg(query: dict[str, list[str]], page_name: str, district_widget: str | None,
              districts: list[str] | None) -> bytes:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    message = BackMsg()
    state = message.rerun_script
    state.query_string = urlencode(query, doseq=True)
    state.page_name = page_name
    if district_widget is not None and districts is not None:
        widget = state.widget_states.widgets.add()
        widget.id = district_widget
        widget.string_array_value.data.extend(districts)
    return message.SerializeToString()


async def _run_script(ws, payload: bytes, timeout: float) -> tuple[float, str | None, str | None]:
    """Send one rerun request; wait for the script to finish. Returns latency, the District
    widget id seen and an error text if the run raised."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    started = time.perf_counter()
    await ws.send(payload)
    district_widget, error = None, None
    deadline = started + timeout
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return (time.perf_counter() - started) * 1000, district_widget, "no answer in time"
        raw = await asyncio.wait_for(ws.recv(), timeout=remaining)
        message = ForwardMsg()
        message.ParseFromString(raw)
        kind = message.WhichOneof("type")
        if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            element = message.delta.new_element
            which = element.WhichOneof("type")
            if which == "exception":
                error = f"{element.exception.type}: {element.exception.message[:200]}"
            elif which == "multiselect" and element.multiselect.query_param_key == "district":
                district_widget = element.multiselect.id
        elif kind == "script_finished":
            # FINISHED_EARLY_FOR_RERUN (2) is a run our own next request superseded.
            if message.script_finished in (0, 3):
                return (time.perf_counter() - started) * 1000, district_widget, error


async def _session(url: str, pages: list[str], districts: list[str], seconds: float,
                   seed: int, stats: SessionStats) -> None:
    import websockets

    rng = random.Random(seed)
    parsed = urlparse(url)
    stream = f"ws://{parsed.netloc}/_stcore/stream"
    end = time.perf_counter() + seconds
    try:
        async with websockets.connect(stream, subprotocols=["streamlit"], max_size=2**26,
                                      origin=f"http://{parsed.netloc}") as ws:
            page = rng.choice(pages)
            query = {"district": [rng.choice(districts)]}
            latency, widget, error = await _run_script(ws, _back_msg(query, page, None, None), 60)
            stats.latencies_ms.append(latency)
            if error:
                stats.errors.append(error)
            while time.perf_counter() < end:
                if rng.random() < 0.5 or widget is None:
                    page = rng.choice(pages)  # a page switch keeps the filters in the URL
                    payload = _back_msg(query, page, None, None)
                else:
                    query = {"district": rng.sample(districts, rng.randint(1, 3))}
                    payload = _back_msg(query, page, widget, query["district"])
                latency, seen, error = await _run_script(ws, payload, 60)
                widget = seen or widget
                stats.latencies_ms.append(latency)
                if error:
                    stats.errors.append(error)
                await asyncio.sleep(rng.uniform(0.2, 1.0))  # a person reads before clicking
    except Exception as exc:  # a dropped connection is a failure of the test, not of the script
        stats.errors.append(f"connection: {type(exc).__name__}: {exc}")


def listening_pid(url: str) -> int | None:
    """The process listening on the URL's port on this machine (from /proc/net/tcp and the
    processes' open sockets), so the memory of a server given by --url is measured too; None
    where /proc does not tell (another OS, another user's process)."""
    port = urlparse(url).port
    if port is None:
        return None
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # local address "IP:PORT" in hex; state 0A is LISTEN
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    return int(proc.name)
        except OSError:
            continue
    return None


def reimport(data: Path) -> dict:
    """Import the extract at `data` over itself (its own tables, copied out first: input files
    inside the extract are refused), as an import in the middle of a load test does; over a real
    folder this is the first import. Returns what it did."""
    import shutil
    import tempfile

    from reemploy import importer
    from reemploy.extracts import open_extract

    extract = open_extract(data)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="reemploy-loadtest-") as folder:
        copies = {}
        for table, files in extract.files.items():
            copies[table] = Path(folder) / f"{table}.parquet"
            shutil.copyfile(files[0], copies[table])
        first = not Path(data).is_symlink()
        result = importer.import_extract(copies["enrollments"], copies["placements"], extract.as_of,
                                         data, log=lambda text: None)
    return {"first_import": first, "exit_code": result.exit_code,
            "seconds": round(time.perf_counter() - started, 1)}


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _sample_memory(pid: int | None, until: float, samples: list[float]) -> None:
    while pid and time.perf_counter() < until:
        try:
            samples.append(_rss_mb(pid))
        except OSError:
            return
        await asyncio.sleep(1)


def run_load_test(url: str, sessions: int, seconds: float, pages: list[str],
                  districts: list[str], server_pid: int | None = None,
                  import_at: float | None = None, data: Path | None = None) -> dict:
    """Run `sessions` concurrent sessions for `seconds`; return latency, errors and memory. With
    `import_at`, the extract at `data` is imported over itself that many seconds in (reimport)."""
    host = urlparse(url).hostname
    if host not in LOCAL_HOSTS:
        raise ValueError(f"load tests only target this machine, not {host!r}")
    stats = [SessionStats() for _ in range(sessions)]
    memory: list[float] = []
    server_pid = server_pid or listening_pid(url)
    imported: dict = {}

    async def import_later() -> None:
        await asyncio.sleep(import_at)
        imported.update(await asyncio.to_thread(reimport, data))

    async def main() -> None:
        until = time.perf_counter() + seconds + 30
        sampler = asyncio.create_task(_sample_memory(server_pid, until, memory))
        swap = asyncio.create_task(import_later()) if import_at is not None else None
        await asyncio.gather(*(
            _session(url, pages, districts, seconds, index, stats[index]) for index in range(sessions)
        ))
        if swap is not None:
            await swap
        sampler.cancel()

    asyncio.run(main())
    latencies = np.array([value for s in stats for value in s.latencies_ms]) if any(
        s.latencies_ms for s in stats) else np.array([np.nan])
    errors = [error for s in stats for error in s.errors]
    return {
        "sessions": sessions,
        "seconds": seconds,
        "script_runs": int(sum(len(s.latencies_ms) for s in stats)),
        "errors": len(errors),
        "error_examples": errors[:10],
        "p50_ms": round(float(np.nanpercentile(latencies, 50)), 1),
        "p95_ms": round(float(np.nanpercentile(latencies, 95)), 1),
        "max_ms": round(float(np.nanmax(latencies)), 1),
        "server_rss_mb_first": round(memory[0], 1) if memory else None,
        "server_rss_mb_last": round(memory[-1], 1) if memory else None,
        "server_rss_mb_max": round(max(memory), 1) if memory else None,
        "server_pid": server_pid,
        "import": imported or None,
    }
