"""The row rules: the spellings each contract column accepts, the SQL converting a cell to its
type, and the checks every row must pass (one bit each), with the SQL saying which failed and why."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reemploy.contract import EDUCATION_LEVELS, EMPLOYER_TYPES, GENDERS, PROGRAM_TYPES, TABLES

if TYPE_CHECKING:
    from reemploy.importer.reading import Source


EARLIEST_DATE = dt.date(1900, 1, 1)

# Cells meaning "no value" in exports from spreadsheets, databases and pandas (case-insensitive).
NULL_TOKENS = ("", "null", "na", "n/a", "#n/a", "nan")
# Whitespace trimmed from every cell: ASCII, no-break space, ideographic (full-width) space, BOM.
TRIMMED = " \t\r\n\u00a0\u3000\ufeff"
TRUE_WORDS = ("true", "t", "yes", "y", "1", "是")
FALSE_WORDS = ("false", "f", "no", "n", "0", "否")
GENDER_WORDS = {"F": ("f", "female", "woman", "w", "女"), "M": ("m", "male", "man", "男")}
DATE_FORMATS = ("%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")
DOMAINS = {
    "program_type": PROGRAM_TYPES,
    "employer_type": EMPLOYER_TYPES,
    "education": EDUCATION_LEVELS,
    "gender": GENDERS,
}
NON_NEGATIVE = ("prior_monthly_wage", "cost", "monthly_wage")


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Rule:
    """One check of a row: `condition` (SQL, never NULL) true means the row breaks it."""

    column: str
    text: str
    condition: str
    shown: str  # SQL text of the offending value(s)

    @property
    def label(self) -> str:
        return f"{self.column}: {self.text}"


def _trim(r: str) -> str:
    return f"trim({r}, {_sql_string(TRIMMED)})"


def _null_token(x: str) -> str:
    longest = max(len(t) for t in NULL_TOKENS)
    tokens = ", ".join(_sql_string(t) for t in NULL_TOKENS)
    return f"(strlen({x}) <= {longest} and lower({x}) in ({tokens}))"


def _blank(r: str) -> str:
    """SQL: the raw cell `r` holds no value (absent, whitespace or a null token)."""
    return f"({r} is null or {_null_token(_trim(r))})"


def _typed_expr(column: str, kind: str, r: str) -> str:
    """SQL converting the raw text `r` to the contract type; NULL when blank or not convertible.

    Clean cells take a cheap first branch; trimming and other spellings are only tried for the
    rest, which keeps a 10-million-row import fast.
    """
    clean = _trim(r)
    if column in DOMAINS:
        allowed = ", ".join(_sql_string(code) for code in DOMAINS[column])
        if column == "gender":
            cases = " ".join(
                f"when lower({clean}) in ({', '.join(_sql_string(w) for w in words)}) then '{code}'"
                for code, words in GENDER_WORDS.items()
            )
            return f"case when {r} in ({allowed}) then {r} {cases} end"
        normalised = f"replace(replace(lower({clean}), ' ', '_'), '-', '_')"
        return f"case when {r} in ({allowed}) then {r} when {normalised} in ({allowed}) then {normalised} end"
    if kind == "VARCHAR":
        edge = " or ".join(
            [f"ascii({r}) <= 32", f"ascii({r}) in (160, 12288, 65279)"]
            + [f"suffix({r}, {_sql_string(ch)})" for ch in (" ", "\t", "\r", "\u3000", "\u00a0")]
        )
        return (
            f"case when {edge} then (case when {_null_token(clean)} then null else {clean} end) "
            f"when {_null_token(r)} then null else {r} end"
        )
    if kind == "DATE":
        formats = ", ".join(_sql_string(f) for f in DATE_FORMATS)
        # Excel day numbers (1900 date system) appear when a date column was exported unformatted.
        serial = (
            f"case when regexp_full_match({clean}, '[0-9]{{5}}(\\.0+)?') "
            f"then date '1899-12-30' + cast(cast({clean} as double) as integer) end"
        )
        return (
            f"coalesce(try_cast({r} as date), try_cast({clean} as date), "
            f"cast(try_strptime({clean}, [{formats}]) as date), {serial})"
        )
    if kind in ("DOUBLE", "INTEGER"):
        grouped = (
            f"case when regexp_full_match({clean}, '-?[0-9]{{1,3}}(,[0-9]{{3}})+(\\.[0-9]+)?') "
            f"then try_cast(replace({clean}, ',', '') as double) end"
        )
        # Infinite, NaN and fractional years stay in the value; rules reject them.
        return f"coalesce(try_cast({r} as double), try_cast({clean} as double), {grouped})"
    if kind == "BOOLEAN":
        true_words = ", ".join(_sql_string(w) for w in TRUE_WORDS)
        false_words = ", ".join(_sql_string(w) for w in FALSE_WORDS)
        return (
            f"case when {r} = 'true' then true when {r} = 'false' then false "
            f"when lower({clean}) in ({true_words}) then true "
            f"when lower({clean}) in ({false_words}) then false end"
        )
    raise ValueError(kind)


def _normalised_text(c: str) -> str:
    """SQL: the text cell `c` in Unicode NFC with invisible format characters (category Cf:
    zero-width spaces and joiners, direction marks, soft hyphens, BOMs) removed, so `E1` and
    `E1<U+200B>` are one id and a composed and a decomposed `é` one district. ASCII-only cells
    (strlen, in bytes, equals length, in characters) skip the work."""
    return f"case when strlen({c}) = length({c}) then {c} else regexp_replace(nfc_normalize({c}), '\\p{{Cf}}', '', 'g') end"


def _quoted(r: str) -> str:
    return f"'''' || coalesce(left({r}, 60), '') || ''''"


def rules_for(table: str, as_of: dt.date) -> list[Rule]:
    """The row-level rules of a table, in the order their reasons are listed.

    Conditions read `r_<column>` (the raw text) and `t_<column>` (the converted value).
    """
    columns = TABLES[table]
    rules: list[Rule] = []
    for column, (kind, nullable) in columns.items():
        r, t = f"r_{column}", f"t_{column}"
        invalid = f"{t} is null and not {_blank(r)}"
        if not nullable:
            missing = f"{t} is null" if kind == "VARCHAR" and column not in DOMAINS else f"{t} is null and {_blank(r)}"
            rules.append(Rule(column, "missing", missing, "''"))
        if kind == "VARCHAR" and column not in DOMAINS:
            # A CSV with a NUL is refused whole (_decode_file); Parquet and Excel text can hold
            # one too, and "Hexi\0evil" must not become a district of its own.
            rules.append(Rule(column, "contains a NUL character", f"coalesce(contains({r}, chr(0)), false)",
                              f"replace({_quoted(r)}, chr(0), '\\0')"))
        if column in DOMAINS:
            rules.append(Rule(column, f"not one of {', '.join(DOMAINS[column])}", invalid, _quoted(r)))
        elif kind == "DATE":
            rules.append(Rule(column, "not a date (use YYYY-MM-DD)", invalid, _quoted(r)))
            rules.append(Rule(column, f"after as_of {as_of.isoformat()}", f"coalesce({t} > $as_of, false)", _quoted(r)))
            rules.append(Rule(column, f"before {EARLIEST_DATE.isoformat()}",
                              f"coalesce({t} < $earliest, false)", _quoted(r)))
        elif kind == "DOUBLE":
            rules.append(Rule(column, "not a number",
                              f"({invalid}) or coalesce(not isfinite({t}), false)", _quoted(r)))
        elif kind == "INTEGER":
            rules.append(Rule(column, "not a whole number",
                              f"({invalid}) or coalesce(not isfinite({t}) or {t} <> floor({t}), false)",
                              _quoted(r)))
        elif kind == "BOOLEAN":
            rules.append(Rule(column, "not true/false", invalid, _quoted(r)))
        if column in NON_NEGATIVE:
            rules.append(Rule(column, "negative", f"coalesce({t} < 0, false)", _quoted(r)))
    if table == "enrollments":
        rules += [
            Rule("birth_year", f"not between 1900 and {as_of.year}",
                 "coalesce(t_birth_year = floor(t_birth_year) "
                 "and t_birth_year not between 1900 and year($as_of), false)",
                 _quoted("r_birth_year")),
            Rule("exited_on", "before enrolled_on", "coalesce(t_exited_on < t_enrolled_on, false)",
                 f"{_quoted('r_exited_on')} || ' < ' || {_quoted('r_enrolled_on')}"),
            Rule("completed", "set but exited_on is empty",
                 f"t_completed is not null and t_exited_on is null and {_blank('r_exited_on')}",
                 _quoted("r_completed")),
        ]
    else:
        rules.append(Rule("ended_on", "before started_on", "coalesce(t_ended_on < t_started_on, false)",
                          f"{_quoted('r_ended_on')} || ' < ' || {_quoted('r_started_on')}"))
    if len(rules) > 64:
        raise AssertionError("one bit per rule: at most 64 rules per table")
    return rules


def _typed_relation(source: Source, relation: str | None = None) -> str:
    """SQL: _k, r_<column> (raw text) and t_<column> (converted) for every contract column."""
    contract = TABLES[source.table]
    raw = ", ".join(
        f"{_normalised_text(f'c{source.mapping[c]}') if kind == 'VARCHAR' else f'c{source.mapping[c]}'} as r_{c}"
        for c, (kind, _) in contract.items())
    typed = ", ".join(f"{_typed_expr(c, kind, f'r_{c}')} as t_{c}" for c, (kind, _) in contract.items())
    return f"select *, {typed} from (select _k, {raw} from ({relation or source.relation}))"


def _ok_expr(rules: list[Rule]) -> str:
    # DuckDB short-circuits AND/OR only in filter and CASE WHEN contexts (in a plain projection it
    # evaluates every operand for every row), so the rules go inside a CASE. Which rules failed is
    # worked out later, for the rejected rows only.
    return "case when " + " or ".join(f"({rule.condition})" for rule in rules) + " then false else true end"


def _bits_expr(rules: list[Rule]) -> str:
    return " | ".join(
        f"(case when {rule.condition} then {1 << i}::ubigint else 0::ubigint end)"
        for i, rule in enumerate(rules)
    )


def _reason_expr(rules: list[Rule]) -> str:
    parts = ", ".join(
        f"case when {rule.condition} then {_sql_string(rule.label + ' (')} || {rule.shown} || ')' end"
        for rule in rules
    )
    return f"concat_ws('; ', {parts})"
