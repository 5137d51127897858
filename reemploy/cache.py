"""The one result cache: every figure and every question of queries/, keyed by extract version.

A function decorated with `@answer` takes `(con, extract, ...)`; its result is kept under the
function, the extract's location and version and the other arguments (defaults filled in, so
`f(con, e, filters)` and `f(con, e, filters, 10)` are one entry). A new extract version (an
import, a regenerated sample) is a new key, so nothing outlives the data it was computed from.
Every caller gets its own copy, so no caller can change what another one reads. One process
holds one cache in memory, shared by every Streamlit session, the CLI and the benchmark;
`clear()` empties it.

Beside it, each extract version has a store on disk (`answers/<digest of the definitions>/` in
its derived folder), shared
by every process that opens the version and kept across restarts. `python -m reemploy warm`
fills it with the views a review meeting opens first (reemploy.tools.warm, started in the
background by `generate` and `import`); a process reads it on a miss, and `preload` reads all of
it into memory at once. `@answer(persist=True)` writes its results there whenever it computes
them (the filter catalogue: its distinct count of people reads every enrollment).

The store holds DataFrames as Parquet and other answers as JSON, never pickles, and an answer
is stored only when reading it back gives exactly what was computed; anything else stays in
memory only.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import inspect
import json
import math
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Callable, TypeVar

import pandas as pd

from reemploy.extracts import REPO_ROOT

# The warmed views of a large extract are a few thousand small answers.
MAX_ENTRIES = 8192
ANSWERS_FOLDER = "answers"

_ENTRIES: OrderedDict = OrderedDict()
_LOCK = threading.Lock()
# How deep in answers this thread is: the store keeps what a caller asked for (depth 0), not
# the questions a figure asks on the way, which a stored figure never needs again.
_DEPTH = threading.local()
# "read": a miss looks in the store first (the default); "write": also store what is computed
# (the warming process); "off": neither (the benchmark's cold replay).
_STORE_MODE = {"mode": "read"}
STORE_MODES = ("read", "write", "off")
# Where answers came from since the last reset_counts(): memory, the store, or computed.
COUNTS = {"memory": 0, "store": 0, "computed": 0}

F = TypeVar("F", bound=Callable)


def clear() -> None:
    """Forget every result held in memory (the benchmark measures interactions cold). The store
    on disk stays: it belongs to its extract version."""
    with _LOCK:
        _ENTRIES.clear()


def reset_counts() -> dict:
    """The counts so far, then zero them."""
    with _LOCK:
        counts = dict(COUNTS)
        COUNTS.update(dict.fromkeys(COUNTS, 0))
    return counts


def set_store_mode(mode: str) -> str:
    """Set how misses use the store on disk (see STORE_MODES); returns the previous mode."""
    if mode not in STORE_MODES:
        raise ValueError(f"unknown store mode {mode!r}; use one of {STORE_MODES}")
    previous, _STORE_MODE["mode"] = _STORE_MODE["mode"], mode
    return previous


def _private_copy(value):
    if isinstance(value, pd.DataFrame):
        return value.copy()
    return copy.deepcopy(value)


@functools.cache
def definition_digest() -> str:
    """A digest of the SQL and the code that compute the figures: a stored answer written by
    other definitions is never read as this one's."""
    # All of the package but its tools: a figure also depends on the statistics, the filters'
    # parameters and this module's own encoding, and a stale answer must never pass as current.
    package = REPO_ROOT / "reemploy"
    sources = sorted((REPO_ROOT / "queries").rglob("*.sql")) + sorted(
        path for path in package.rglob("*.py") if package / "tools" not in path.parents)
    digest = hashlib.sha256()
    for path in sources:
        digest.update(str(path.relative_to(REPO_ROOT)).encode("utf-8"))
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def store_dir(extract) -> Path:
    """This extract version's store for the current definitions: answers that older SQL or code
    wrote stay in their own folder, never read (nor preloaded) as this code's."""
    return _derived_answers(str(extract.path), extract.version) / definition_digest()


@functools.lru_cache(maxsize=64)
def _derived_answers(extract_path: str, version: str) -> Path:
    # Once per version: derived_dir probes whether the extract's folder is writable.
    from types import SimpleNamespace

    from reemploy.db import derived_dir

    return derived_dir(SimpleNamespace(path=Path(extract_path), version=version)) / ANSWERS_FOLDER


def _digest(function: Callable, arguments: tuple) -> str:
    text = repr((function.__module__, function.__qualname__, arguments))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


_MISSING = object()


def _read_stored(folder: Path, stem: str):
    """The stored answer, or _MISSING when there is none or it cannot be read."""
    try:
        frame = folder / f"{stem}.parquet"
        if frame.is_file():
            return pd.read_parquet(frame)
        other = folder / f"{stem}.json"
        if other.is_file():
            return _decode(json.loads(other.read_text(encoding="utf-8"))["value"], folder)
    except (OSError, ValueError, KeyError, TypeError):
        return _MISSING
    return _MISSING


_FRAME = "__frame__"


def _encode(value, folder: Path, stem: str, frames: list[Path]):
    """JSON for an answer that is not one DataFrame: the DataFrames inside it (a model's
    balance table) go to Parquet files of their own, named in the JSON."""
    if isinstance(value, pd.DataFrame):
        path = folder / f"{stem}.{len(frames)}.frame"
        value.to_parquet(path)
        frames.append(path)
        return {_FRAME: path.name}
    if isinstance(value, dict):
        if _FRAME in value or not all(isinstance(k, str) for k in value):
            raise TypeError("not a dict JSON can hold")
        return {k: _encode(v, folder, stem, frames) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v, folder, stem, frames) for v in value]
    return value


def _decode(value, folder: Path):
    if isinstance(value, dict):
        if set(value) == {_FRAME}:
            return pd.read_parquet(folder / value[_FRAME])
        return {k: _decode(v, folder) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, folder) for v in value]
    return value


def _equal(a, b) -> bool:
    # NaN reads back as NaN, which == would call different; a tuple reads back as a list, which
    # is a different value and so is not stored.
    if isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame):
        try:
            pd.testing.assert_frame_equal(a, b, check_exact=True)
        except AssertionError:
            return False
        return a.attrs == b.attrs
    if isinstance(a, float) and isinstance(b, float):  # numpy's float64 is a float, read back as one
        return a == b or (math.isnan(a) and math.isnan(b))
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return a == b


def _write_stored(folder: Path, stem: str, value) -> bool:
    """Store the answer if it reads back exactly; True when it was stored."""
    is_frame = isinstance(value, pd.DataFrame)
    path = folder / f"{stem}.{'parquet' if is_frame else 'json'}"
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    frames: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if is_frame:
            value.to_parquet(partial)
            stored = pd.read_parquet(partial)
        else:
            # The JSON, written last, is what makes the frames it names part of the store.
            encoded = json.dumps({"value": _encode(value, folder, stem, frames)})
            partial.write_text(encoded, encoding="utf-8")
            stored = _decode(json.loads(partial.read_text(encoding="utf-8"))["value"], folder)
        if not _equal(stored, value):
            raise ValueError("does not read back as computed")
        os.replace(partial, path)
        return True
    except (OSError, TypeError, ValueError):
        # A read-only place, or a value the store cannot hold: the answer stays in memory only.
        for leftover in (partial, *frames):
            try:
                leftover.unlink(missing_ok=True)
            except OSError:
                pass
        return False


def preload(extract, pause_s: float = 0.0) -> int:
    """Read the whole store of this extract version into memory (what is not there yet);
    returns how many answers were read. The server calls it once per version in the
    background, so the warmed views are answered from memory, with a pause after each answer
    so that the page runs of the time keep the interpreter."""
    folder = store_dir(extract)
    read = 0
    try:
        files = sorted(folder.iterdir())
    except OSError:
        return 0
    for path in files:
        if path.name.startswith(".") or path.suffix not in (".parquet", ".json"):
            continue
        digest = path.stem.rsplit("-", 1)[-1]  # <function name>-<digest of its arguments>
        key = (extract.location, extract.version, digest)
        with _LOCK:
            if key in _ENTRIES:
                continue
        value = _read_stored(folder, path.stem)
        if value is _MISSING:
            continue
        with _LOCK:
            _ENTRIES.setdefault(key, value)
            while len(_ENTRIES) > MAX_ENTRIES:
                _ENTRIES.popitem(last=False)
        read += 1
        if pause_s:
            time.sleep(pause_s)
    return read


def _hashable(parameter: inspect.Parameter, value):
    if parameter.kind is inspect.Parameter.VAR_KEYWORD:
        return tuple(sorted(value.items()))
    if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
        return tuple(value)
    return value


def question_name(function: Callable, arguments: dict) -> str:
    """The name an answer goes by in file names: the function's, with its text options
    (`reemployment_curves_exit`)."""
    texts = [str(value) for name, value in arguments.items() if isinstance(value, str)]
    return "_".join([function.__name__, *texts])


def answer(function: F | None = None, *, persist: bool = False) -> F:
    """Decorate `function(con, extract, *args, **kwargs)` so that its results are kept here.
    DataFrame results carry their question_name in `.attrs["question"]`."""

    def decorate(function):
        signature = inspect.signature(function)
        parameters = list(signature.parameters.values())[2:]

        @functools.wraps(function)
        def cached(con, extract, *args, **kwargs):
            bound = signature.bind(con, extract, *args, **kwargs)
            bound.apply_defaults()
            arguments = {p.name: _hashable(p, bound.arguments[p.name]) for p in parameters}
            values = tuple(arguments.items())
            hash(values)  # an unhashable option is refused rather than cached under its repr
            digest = _digest(function, values)
            key = (extract.location, extract.version, digest)
            with _LOCK:
                if key in _ENTRIES:
                    _ENTRIES.move_to_end(key)
                    COUNTS["memory"] += 1
                    return _private_copy(_ENTRIES[key])
            mode = _STORE_MODE["mode"]
            stem = f"{function.__name__}-{digest}"
            value = _read_stored(store_dir(extract), stem) if persist or mode != "off" else _MISSING
            with _LOCK:
                COUNTS["store" if value is not _MISSING else "computed"] += 1
            if value is _MISSING:
                outermost = getattr(_DEPTH, "value", 0) == 0
                _DEPTH.value = getattr(_DEPTH, "value", 0) + 1
                try:
                    value = function(con, extract, *args, **kwargs)
                finally:
                    _DEPTH.value -= 1
                if isinstance(value, pd.DataFrame):
                    value.attrs["question"] = question_name(function, arguments)
                if persist or (mode == "write" and outermost):
                    _write_stored(store_dir(extract), stem, value)
            with _LOCK:
                _ENTRIES[key] = value
                while len(_ENTRIES) > MAX_ENTRIES:
                    _ENTRIES.popitem(last=False)
            return _private_copy(value)

        cached.uncached = function
        return cached

    return decorate(function) if function is not None else decorate
