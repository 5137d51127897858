"""What an import ends in: its exit status, the refusal of an input that cannot be used, and the
row accounting per table."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


EXIT_OK, EXIT_REJECTED, EXIT_UNUSABLE = 0, 1, 2


class UnusableInput(Exception):
    """The input cannot be imported at all (exit status 2); nothing was changed."""


@dataclass
class TableResult:
    """Row accounting of one table: read = accepted + rejected, and rejected rows per reason."""

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    rejected_file: str | None = None


@dataclass
class ImportResult:
    """What an import did: exit status, the per-table accounting and the published folder."""

    exit_code: int
    report: dict
    tables: dict[str, TableResult]
    published: Path | None
