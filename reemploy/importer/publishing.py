"""Publishing an extract atomically: a complete, fsynced folder becomes a versioned sibling of the
extract folder, put behind its symlink in one rename, under a lock that lets one import run at a
time; what killed imports left behind is removed; inputs inside the extract and targets that are
not an extract are refused."""

from __future__ import annotations

import ctypes
import datetime as dt
import errno
import os
import re
import shutil
import sys
import uuid
from pathlib import Path
from typing import Callable

from reemploy.extracts import GEOJSON, MANIFEST
from reemploy.importer.results import UnusableInput


_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for folder, _, files in os.walk(root):
        for name in files:
            _fsync_path(Path(folder) / name)
        _fsync_path(Path(folder))


_VERSION = r"\d{8}T\d{6}-(?:[0-9a-f]{8}|previous)"


def version_folders(out: Path) -> list[Path]:
    """The versioned extract folders beside `out` (`<name>.<UTC stamp>-<import id>`), oldest first."""
    pattern = re.compile(re.escape(out.name) + r"\." + _VERSION + r"$")
    if not out.parent.is_dir():
        return []
    return sorted(p for p in out.parent.iterdir() if pattern.match(p.name) and p.is_dir() and not p.is_symlink())


def publish(staging: Path, out: Path, stamp: str, import_id: str) -> Path:
    """Make the complete folder `staging` the extract at `out`; return the new version folder.

    `out` becomes (or stays) a symlink to a sibling version folder `<out>.<stamp>-<id>`; the
    switch is one atomic rename of a symlink over `out`, so readers see the old or the new
    extract, never a mix. A first import over a real folder (e.g. the generated sample) swaps it
    with the symlink atomically too (renameat2 RENAME_EXCHANGE) and keeps it as the previous
    version. Older versions are deleted; the previous one is kept for rollback and for app
    sessions still reading it.
    """
    parent = out.parent
    version = parent / f"{out.name}.{stamp}-{import_id[:8]}"
    os.rename(staging, version)
    _fsync_path(parent)
    previous = out.resolve() if out.is_symlink() else None
    link = parent / f"{out.name}.link-{import_id[:8]}"
    try:
        os.symlink(version.name, link)
        previous = _swap(link, out) or previous
    except BaseException:
        if link.is_symlink():
            link.unlink()
        if out.resolve() != version.resolve():
            shutil.rmtree(version, ignore_errors=True)
        raise
    _fsync_path(parent)
    for old in version_folders(out):
        if old not in (version, previous):
            shutil.rmtree(old, ignore_errors=True)
    return version


def _swap(link: Path, out: Path) -> Path | None:
    """Put the symlink `link` at `out`; when `out` was a real folder, return where it was kept."""
    parent = out.parent
    if out.is_symlink() or not out.exists():
        os.replace(link, out)
        return None
    old_stamp = dt.datetime.fromtimestamp(out.stat().st_mtime, dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    kept = parent / f"{out.name}.{old_stamp}-previous"
    if _exchange(link, out):
        os.rename(link, kept)  # `link` now names the old real folder
        return kept
    # Without an atomic exchange there is a moment with no `out`: an app page run that starts
    # just then reports a missing extract; the next one finds the new extract.
    os.rename(out, kept)
    try:
        os.replace(link, out)
    except OSError:
        os.rename(kept, out)
        raise
    return kept


class _Lock:
    """One import at a time per extract folder (an exclusive flock on `<out>.lock`)."""

    def __init__(self, out: Path):
        self.path = out.parent / f"{out.name}.lock"
        self.handle = None

    def __enter__(self):
        import fcntl

        try:
            # O_NOFOLLOW: a symlink planted at the lock's name is refused, not followed (issue 13).
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnusableInput(f"{self.path} is a symlink; the import lock must be a plain "
                                    "file. Remove the symlink and try again.") from None
            raise UnusableInput(f"{self.path}: cannot create the import lock ({exc.strerror}).") from None
        self.handle = os.fdopen(fd, "a")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.handle.close()
            raise UnusableInput(f"Another import into {self.path.parent} is running; try again later.") from None
        return self

    def __exit__(self, *exc):
        self.handle.close()


def _clean_leftovers(out: Path) -> None:
    # What imports killed midway left behind (we hold the lock, so none is running). A `link-`
    # path that is a real folder is an old extract an interrupted exchange left there: keep it.
    for path in out.parent.glob(f"{out.name}.partial-*"):
        shutil.rmtree(path, ignore_errors=True)
    for path in out.parent.glob(f"{out.name}.link-*"):
        if path.is_symlink():
            path.unlink()
    from reemploy.db import remove_stale_partials

    # Half-written derived files of app processes that were killed (their pid is gone).
    for version in [*version_folders(out), out]:
        derived = version / ".derived"
        if derived.is_dir() and not derived.is_symlink():
            for folder in [derived, *(p for p in derived.iterdir() if p.is_dir() and not p.is_symlink())]:
                remove_stale_partials(folder)


def clean_leftovers_if_idle(out: str | os.PathLike) -> bool:
    """Remove what killed imports and builds left beside and in the extract at `out`, unless an
    import is running now (it holds the lock); the app calls this once per folder when it starts,
    so leftovers do not wait for the next import (issue 13). True when it cleaned."""
    out = Path(out).expanduser().absolute()
    if not out.parent.is_dir():
        return False
    try:
        with _Lock(out):
            _clean_leftovers(out)
    except UnusableInput:
        return False
    return True


def _check_inputs(sources: dict, out: Path) -> None:
    """Refuse input files kept inside the extract or its versions: publishing moves the folder
    they are in and a later import deletes it (issue 13)."""
    kept = [out.resolve(), *(p.resolve() for p in version_folders(out))] if out.exists() else []
    kept += [p.resolve() for p in out.parent.glob(f"{out.name}.*") if p.is_dir()] if out.parent.is_dir() else []
    for source in sources.values():
        real = source.path.resolve()
        for folder in kept:
            if real.is_relative_to(folder):
                raise UnusableInput(
                    f"{source.path} is inside the extract folder {folder}, which this import "
                    "replaces and a later import deletes. Keep input files elsewhere (move it out "
                    "first).")


def _previous_geojson(out: Path) -> Path | None:
    """The boundaries the app has now, to carry into the new extract; a symlink is refused, not
    followed: its target (any file) would be copied into the extract (issue 13)."""
    current = out / GEOJSON
    if current.is_symlink():
        raise UnusableInput(
            f"{current} is a symlink (to {os.readlink(current)}); boundaries are copied into "
            "every new extract, so it must be the file itself. Replace the link with a copy of "
            "the file and import again.")
    return current if current.is_file() else None


def _check_target(out: Path) -> None:
    if out.is_symlink() or not out.exists():
        return
    if not out.is_dir():
        raise UnusableInput(f"--out {out} is a file, not an extract folder.")
    if any(out.iterdir()) and not (out / MANIFEST).exists() and not (out / "enrollments.parquet").exists():
        raise UnusableInput(
            f"--out {out} holds files but no extract (no {MANIFEST}); refusing to replace it. "
            "Choose an empty or new folder."
        )


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def prepare_for_app(staging: Path) -> None:
    """Build the app's per-version outcome table and catalogue inside the staging folder, before
    it is published: a disk that fills up then fails the import (the previous extract stays in
    service), never the app after the switch (issue 13). The version does not depend on the
    folder's name, so the app finds them after the rename."""
    from reemploy.db import connect
    from reemploy.extracts import ExtractError, open_extract
    from reemploy.figures.catalogue import extract_catalogue

    try:
        extract = open_extract(staging)
        extract_catalogue(connect(extract), extract)
    except ExtractError as exc:
        raise UnusableInput(f"the new extract could not be prepared for the app: {exc.problem}") from None
    except OSError as exc:
        raise UnusableInput(f"the new extract could not be prepared for the app in {staging.parent}: "
                            f"{exc.strerror or exc}.") from None
    _fsync_tree(staging)


def publish_folder(out: str | os.PathLike, build: Callable[[Path], object]) -> Path:
    """Make what `build(folder)` writes into an empty folder the extract at `out`, the way an
    import does: under the lock, prepared for the app, then behind the symlink (see `publish`).
    The generated sample goes this way too, so even the first import over it is a symlink swap
    that open sessions survive (issue 13)."""
    out = Path(out).expanduser().absolute()
    _check_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    import_id = uuid.uuid4().hex
    with _Lock(out):
        _clean_leftovers(out)
        if out.is_dir() and not out.is_symlink() and not any(out.iterdir()):
            out.rmdir()  # an empty real folder: nothing to keep as a previous version
        staging = out.parent / f"{out.name}.partial-{import_id[:8]}"
        staging.mkdir()
        try:
            build(staging)
            prepare_for_app(staging)
            return publish(staging, out, _utc_now().strftime("%Y%m%dT%H%M%S"), import_id)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
