"""Column mapping: which header is which contract column (`--map SOURCE=CONTRACT`, else the
header's own name, normalised)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable

from reemploy.contract import TABLES
from reemploy.importer.results import UnusableInput
from reemploy.importer.rules import TRIMMED

if TYPE_CHECKING:
    from reemploy.importer.reading import Source


def normalise_name(name: str) -> str:
    """A header as a contract name: trimmed, lower-case, runs of spaces/hyphens/dots as '_'."""
    return re.sub(r"[\s\-.]+", "_", name.strip(TRIMMED).lower()).strip("_")


def parse_mappings(pairs: Iterable[str]) -> dict[tuple[str | None, str], str]:
    """`--map source=contract` values as {(table or None, source name): contract name}.

    The source may be qualified with its table (`placements.id=placement_id`).
    """
    parsed: dict[tuple[str | None, str], str] = {}
    for pair in pairs:
        source_name, sep, target = pair.partition("=")
        source_name, target = source_name.strip(), target.strip()
        if not sep or not source_name or not target:
            raise UnusableInput(f"--map {pair!r}: expected SOURCE_NAME=CONTRACT_NAME.")
        table = None
        head, dot, rest = source_name.partition(".")
        if dot and head in TABLES and rest:
            table, source_name = head, rest
        known = set(TABLES[table]) if table else set().union(*TABLES.values())
        if target not in known:
            raise UnusableInput(
                f"--map {pair!r}: {target!r} is not a contract column"
                + (f" of {table}" if table else "") + f" (one of {', '.join(sorted(known))})."
            )
        parsed[(table, source_name)] = target
    return parsed


def _map_columns(source: Source, mappings: dict) -> None:
    contract = TABLES[source.table]
    renames = {}
    for (table, source_name), target in mappings.items():
        if table in (None, source.table) and target in contract:
            renames[source_name] = target
    by_normalised = {normalise_name(k): v for k, v in renames.items()}
    mapping: dict[str, int] = {}
    ignored = []
    for index, name in enumerate(source.header):
        target = renames.get(name) or by_normalised.get(normalise_name(name)) or normalise_name(name)
        if target not in contract:
            ignored.append(name)
            continue
        if target in mapping:
            first = source.header[mapping[target]]
            raise UnusableInput(
                f"{source.path}: columns {first!r} and {name!r} both mean {target}; "
                "drop one or rename it with --map."
            )
        mapping[target] = index
    missing = [column for column in contract if column not in mapping]
    if missing:
        raise UnusableInput(
            f"{source.path}: required column(s) missing: {', '.join(missing)}. The file has: "
            f"{', '.join(repr(h) for h in source.header) or 'no header'}. Rename columns with "
            "--map SOURCE_NAME=CONTRACT_NAME (every contract column must be present; it may be "
            "empty where data/README.md allows)."
        )
    source.mapping = mapping
    source.ignored = ignored
