"""The one result cache: every figure and every question of queries/, keyed by extract version.

A function decorated with `@answer` takes `(con, extract, ...)`; its result is kept under the
function, the extract's location and version and the other arguments (defaults filled in, so
`f(con, e, filters)` and `f(con, e, filters, 10)` are one entry). A new extract version (an
import, a regenerated sample) is a new key, so nothing outlives the data it was computed from.
Every caller gets its own copy, so no caller can change what another one reads. One process
holds one cache, shared by every Streamlit session, the CLI and the benchmark; `clear()` empties
it.

`@answer(persist=True)` also writes the result (a DataFrame) as Parquet beside the extract
version's derived table, so a restart or another process reads it instead of scanning the
extract again (the filter catalogue: its distinct count of people reads every enrollment).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import inspect
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable, TypeVar

import pandas as pd

from reemploy.extracts import REPO_ROOT

MAX_ENTRIES = 512
ANSWERS_FOLDER = "answers"

_ENTRIES: OrderedDict = OrderedDict()
_LOCK = threading.Lock()

F = TypeVar("F", bound=Callable)


def clear() -> None:
    """Forget every result held in memory (the benchmark measures interactions cold). Files
    written with persist=True stay: they belong to their extract version."""
    with _LOCK:
        _ENTRIES.clear()


def _private_copy(value):
    if isinstance(value, pd.DataFrame):
        return value.copy()
    return copy.deepcopy(value)


@functools.cache
def definition_digest() -> str:
    """A digest of the SQL and the code that compute the figures: a persisted answer written by
    other definitions is never read as this one's."""
    sources = sorted((REPO_ROOT / "queries").rglob("*.sql")) + sorted(
        (REPO_ROOT / "reemploy" / "figures").glob("*.py"))
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.name.encode("utf-8"))
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _persisted_path(extract, name: str, key: tuple) -> Path:
    from reemploy.db import derived_dir

    text = repr((name, key, definition_digest())).encode("utf-8")
    return derived_dir(extract) / ANSWERS_FOLDER / f"{name}-{hashlib.sha256(text).hexdigest()[:16]}.parquet"


def _read_persisted(path: Path) -> pd.DataFrame | None:
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError):
        return None


def _write_persisted(path: Path, value: pd.DataFrame) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        value.to_parquet(partial, index=False)
        os.replace(partial, path)
    except OSError:
        pass  # a read-only place: the answer stays in memory only


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
            key = (function.__module__, function.__qualname__, extract.location, extract.version,
                   tuple(arguments.items()))
            with _LOCK:
                if key in _ENTRIES:
                    _ENTRIES.move_to_end(key)
                    return _private_copy(_ENTRIES[key])
            value = None
            if persist:
                path = _persisted_path(extract, function.__name__, key[4:])
                value = _read_persisted(path)
            if value is None:
                value = function(con, extract, *args, **kwargs)
                if persist:
                    _write_persisted(path, value)
            if isinstance(value, pd.DataFrame):
                value.attrs["question"] = question_name(function, arguments)
            with _LOCK:
                _ENTRIES[key] = value
                while len(_ENTRIES) > MAX_ENTRIES:
                    _ENTRIES.popitem(last=False)
            return _private_copy(value)

        cached.uncached = function
        return cached

    return decorate(function) if function is not None else decorate
