"""`python -m reemploy import`: turn officials' exports into an extract, row by row accountable.

What it guarantees (the contract and the accepted spellings are in data/README.md, "Importing"):

* Every data row of each input is either accepted into the new extract or written to
  ``DIR/rejected/<table>.csv`` with all its original columns and every reason it was rejected;
  ``read = accepted + rejected`` per table, reported per reason on stderr and in
  ``DIR/import-report.json``.
* The previous extract is never touched. The new one is built in a sibling folder, fsynced, and
  published by swapping a symlink (see `publishing.publish`), so the app sees either the old extract or the
  complete new one.
* Exit status 0 (every row accepted), 1 (some rows rejected, the rest imported) or 2 (the input is
  unusable and nothing changed).

The heavy lifting is DuckDB: files are read with every column as text (nothing is lost to type
sniffing), converted with ``try_cast``-style expressions and checked in SQL. Each row-level rule is
one bit of a 64-bit mask, so the first pass over a large file stores only typed values and a
number; the reason texts are built in a second pass over the rejected rows only.

The package, by concern: `reading` (format, encoding, header: each input as a relation of text
columns), `mapping` (headers to contract columns), `rules` (the row rules and their SQL),
`validation` (the checks, the counts, the accepted and rejected rows written out), `publishing`
(versioned folders behind a symlink, the lock, leftovers), `run` (`import_extract`, the report
and the manifest) and `results` (exit statuses, `UnusableInput`, the row accounting). This module
re-exports the public names, which is what the rest of the project imports.
"""

from __future__ import annotations

from reemploy.importer.mapping import normalise_name, parse_mappings
from reemploy.importer.publishing import (
    clean_leftovers_if_idle,
    prepare_for_app,
    publish,
    publish_folder,
    version_folders,
)
from reemploy.importer.reading import CHUNK_BYTES, DELIMITER_NAMES, DELIMITERS, INTEGER_DATE_UNITS, Source
from reemploy.importer.results import (
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_UNUSABLE,
    ImportResult,
    TableResult,
    UnusableInput,
)
from reemploy.importer.rules import (
    DATE_FORMATS,
    DOMAINS,
    EARLIEST_DATE,
    FALSE_WORDS,
    GENDER_WORDS,
    NON_NEGATIVE,
    NULL_TOKENS,
    TRIMMED,
    TRUE_WORDS,
    Rule,
    rules_for,
)
from reemploy.importer.run import DUCKDB_MEMORY_LIMIT, PROGRESS_MIN_BYTES, REJECTED_DIR, import_extract
from reemploy.importer.validation import ID_COLUMNS, ROW_GROUP_SIZE, SHOWN_EXAMPLES, SORT_KEYS

__all__ = [
    # the import and its outcome
    "import_extract", "ImportResult", "TableResult", "UnusableInput",
    "EXIT_OK", "EXIT_REJECTED", "EXIT_UNUSABLE", "REJECTED_DIR",
    # publishing
    "publish_folder", "prepare_for_app", "publish", "version_folders", "clean_leftovers_if_idle",
    # reading, mapping and the rules
    "Source", "normalise_name", "parse_mappings", "Rule", "rules_for",
    "DELIMITERS", "DELIMITER_NAMES", "INTEGER_DATE_UNITS", "NULL_TOKENS", "TRIMMED", "TRUE_WORDS",
    "FALSE_WORDS", "GENDER_WORDS", "DATE_FORMATS", "DOMAINS", "NON_NEGATIVE", "EARLIEST_DATE",
    # how the work is sized and written
    "CHUNK_BYTES", "ROW_GROUP_SIZE", "PROGRESS_MIN_BYTES", "DUCKDB_MEMORY_LIMIT", "SHOWN_EXAMPLES",
    "ID_COLUMNS", "SORT_KEYS",
]
