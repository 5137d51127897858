"""Where an extract came from and how fresh it is: the manifest and the last import report.

Pure helpers for the Data page (no Streamlit here). Sentences are in the language of the current
run (reemploy.i18n); the report tables keep their column names (the page configures columns by
them) and COLUMN_TITLES / column_titles() say how each reads.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass

import pandas as pd

from reemploy import i18n
from reemploy.extracts import Extract
from reemploy.i18n import _, N_

STALE_DAYS_ENV_VAR = "REEMPLOY_STALE_DAYS"
DEFAULT_STALE_DAYS = 90
REPORT = "import-report.json"  # written by reemploy.importer


def stale_days() -> int:
    """How old an extract may get before the Data page warns: $REEMPLOY_STALE_DAYS, else 90."""
    try:
        return max(0, int(os.environ.get(STALE_DAYS_ENV_VAR, DEFAULT_STALE_DAYS)))
    except ValueError:
        return DEFAULT_STALE_DAYS


def imported_on(manifest: dict) -> dt.date | None:
    """The day the extract was imported (or created), from its manifest; None when unrecorded."""
    for key in ("imported_at", "created_at"):
        text = manifest.get(key)
        if not text:
            continue
        try:
            return dt.datetime.fromisoformat(str(text)).date()
        except ValueError:
            continue
    return None


@dataclass(frozen=True)
class Freshness:
    """How far `as_of` lies before the reference day (the import, or today when unrecorded)."""

    as_of: dt.date
    reference: dt.date
    imported: bool
    limit: int
    synthetic: bool

    @property
    def days(self) -> int:
        return (self.reference - self.as_of).days

    @property
    def stale(self) -> bool:
        return self.days > self.limit

    def explanation(self) -> str:
        """Why the warning shows, in one paragraph (no setting names: see operator_note)."""
        if self.imported:
            text = _("The data end on {as_of}, {days} days before the day it was imported "
                     "({reference}): more than the {limit} days allowed.")
        else:
            text = _("The data end on {as_of}, {days} days before today ({reference}): more than "
                     "the {limit} days allowed.")
        text = text.format(as_of=i18n.date(self.as_of), days=i18n.number(self.days),
                           reference=i18n.date(self.reference), limit=i18n.number(self.limit))
        text = _("{sentence} {next_sentence}").format(
            sentence=text,
            next_sentence=_("The figures say nothing about enrollments or jobs after {as_of}; "
                            "people not yet placed on that date count as still "
                            "searching.").format(as_of=i18n.date(self.as_of)))
        if self.synthetic:
            text = _("{sentence} {next_sentence}").format(
                sentence=text,
                next_sentence=_("This is the synthetic sample (`python -m reemploy generate`), "
                                "whose dates are fictional; import real exports to replace it."))
        return text

    def operator_note(self) -> str:
        """For the operator: which setting sets the limit."""
        return _("The limit of {limit} days is set by the environment variable "
                 "{variable}.").format(limit=i18n.number(self.limit), variable=STALE_DAYS_ENV_VAR)


def extract_freshness(extract: Extract, today: dt.date, limit: int) -> Freshness:
    """Compare as_of with the manifest's import date if recorded, else with `today`."""
    imported = imported_on(extract.manifest)
    created_by = str(extract.manifest.get("created_by", ""))
    return Freshness(
        as_of=extract.as_of,
        reference=imported or today,
        imported=imported is not None,
        limit=limit,
        synthetic=created_by.endswith("generate") or "generator" in extract.manifest,
    )


def import_report(extract: Extract) -> dict | None:
    """The import-report.json the extract was imported with; None when absent or unreadable."""
    path = extract.path / REPORT
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return report if isinstance(report, dict) and isinstance(report.get("tables"), dict) else None


# How the columns of report_counts, report_reasons and report_sources read on screen.
COLUMN_TITLES = {
    "table": N_("table"),
    "source file": N_("source file"),
    "read": N_("read"),
    "accepted": N_("accepted"),
    "rejected": N_("rejected"),
    "reason": N_("reason"),
    "rows": N_("rows"),
    "file": N_("file"),
    "format": N_("format"),
    "read as": N_("read as"),
    "bytes": N_("bytes"),
    "sha256": N_("SHA-256"),
    "ignored columns": N_("ignored columns"),
}


def column_titles(columns) -> dict[str, str]:
    """Column name -> its title in the current language, for st.column_config or rename."""
    return {column: _(COLUMN_TITLES[column]) if column in COLUMN_TITLES else column
            for column in columns}


def report_counts(report: dict) -> pd.DataFrame:
    """One row per table: read, accepted, rejected (read = accepted + rejected)."""
    rows = [
        {"table": table, "source file": os.path.basename(report.get("sources", {}).get(table, {}).get("path", "")),
         "read": counts.get("read"), "accepted": counts.get("accepted"), "rejected": counts.get("rejected")}
        for table, counts in report["tables"].items()
    ]
    return pd.DataFrame(rows, columns=["table", "source file", "read", "accepted", "rejected"])


def report_reasons(report: dict) -> pd.DataFrame:
    """One row per table and rejection reason with the number of rows it rejected.

    A row rejected for several reasons counts under each, so the rows here may add up to more
    than the rejected total.
    """
    rows = [
        {"table": table, "reason": reason, "rows": n}
        for table, counts in report["tables"].items()
        for reason, n in (counts.get("rejected_by_reason") or {}).items()
    ]
    return pd.DataFrame(rows, columns=["table", "reason", "rows"])


def report_sources(report: dict) -> pd.DataFrame:
    """One row per source file: format, encoding, delimiter or sheet, size and SHA-256."""
    rows = []
    for table, source in (report.get("sources") or {}).items():
        rows.append({
            "table": table,
            "file": source.get("path", ""),
            "format": source.get("format", ""),
            "read as": ", ".join(str(source[k]) for k in ("encoding", "delimiter", "sheet") if source.get(k)),
            "bytes": source.get("bytes"),
            "sha256": source.get("sha256", ""),
            "ignored columns": ", ".join(source.get("ignored_columns") or []),
        })
    return pd.DataFrame(rows, columns=["table", "file", "format", "read as", "bytes", "sha256", "ignored columns"])


def describe_import(report: dict) -> str:
    """One sentence: when the import finished, its id and the date its data run to."""
    finished = report.get("finished_at", "")
    try:
        when = dt.datetime.fromisoformat(finished).strftime("%Y-%m-%d %H:%M UTC")
    except (TypeError, ValueError):
        when = finished or None
    as_of = report.get("as_of")
    try:
        as_of = i18n.date(dt.date.fromisoformat(str(as_of)))
    except ValueError:
        as_of = str(as_of) if as_of else "?"
    template = (_("Imported {when} (import `{import_id}`), with data up to {as_of}.") if when else
                _("Imported at an unknown time (import `{import_id}`), with data up to {as_of}."))
    return template.format(when=when, import_id=str(report.get("import_id", ""))[:8], as_of=as_of)
