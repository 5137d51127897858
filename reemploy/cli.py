"""`python -m reemploy generate | summary ...`: the command line over the same logic as the app."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from pathlib import Path

from reemploy import metrics
from reemploy.contract import AGE_BANDS, EDUCATION_LEVELS, GENDERS, PROGRAM_TYPES
from reemploy.db import connect
from reemploy.extracts import ExtractError, open_extract, resolve_data_dir
from reemploy.filters import Filters


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    """The common filters, as repeatable options (the same set the sidebar and the URL use)."""
    parser.add_argument("--data", help="extract folder (default: $REEMPLOY_DATA or data/extracts)")
    parser.add_argument("--district", action="append", default=[], metavar="D")
    parser.add_argument("--sector", action="append", default=[], metavar="S",
                        help="prior sector (the sector of the job lost)")
    parser.add_argument("--program", action="append", default=[], choices=PROGRAM_TYPES)
    parser.add_argument("--gender", action="append", default=[], choices=GENDERS)
    parser.add_argument("--age", action="append", default=[], choices=AGE_BANDS + ("unknown",))
    parser.add_argument("--education", action="append", default=[], choices=EDUCATION_LEVELS)
    parser.add_argument("--from", dest="date_from", type=_date, metavar="YYYY-MM-DD",
                        help="enrolled on or after this date")
    parser.add_argument("--to", dest="date_to", type=_date, metavar="YYYY-MM-DD",
                        help="enrolled on or before this date")
    parser.add_argument("--min-cell", type=_positive, default=metrics.DEFAULT_MIN_CELL,
                        help="suppress rates and medians whose denominator is below this (default 10)")


def filters_from_args(args: argparse.Namespace) -> Filters:
    if args.date_from and args.date_to and args.date_from > args.date_to:
        raise SystemExit(f"error: --from {args.date_from} is after --to {args.date_to}")
    return Filters(
        districts=tuple(dict.fromkeys(args.district)),
        sectors=tuple(dict.fromkeys(args.sector)),
        programs=tuple(dict.fromkeys(args.program)),
        date_from=args.date_from,
        date_to=args.date_to,
        genders=tuple(dict.fromkeys(args.gender)),
        age_bands=tuple(dict.fromkeys(args.age)),
        educations=tuple(dict.fromkeys(args.education)),
    )


def _cmd_generate(args: argparse.Namespace) -> int:
    from reemploy.synthetic import generate_extract

    out = Path(args.out) if args.out else resolve_data_dir()
    started = dt.datetime.now()
    generate_extract(out, args.enrollments, seed=args.seed, progress=not args.quiet)
    seconds = (dt.datetime.now() - started).total_seconds()
    print(f"Wrote {args.enrollments:,} enrollments to {out} in {seconds:.1f} s", file=sys.stderr)
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    extract = open_extract(resolve_data_dir(args.data))
    filters = filters_from_args(args)
    document = metrics.summary(connect(extract), extract, filters, min_cell=args.min_cell)
    if args.format == "json":
        json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    writer = csv.writer(sys.stdout)
    columns = None
    for program, figures in document["programs"].items():
        flat = {k: v for k, v in figures.items() if not k.endswith("_ci")}
        for key, value in figures.items():
            if key.endswith("_ci"):
                base = key[: -len("_ci")]
                flat[f"{base}_low"], flat[f"{base}_high"] = value if value else (None, None)
        if columns is None:
            columns = list(flat)
            writer.writerow(["as_of", "program_type", *columns])
        writer.writerow([document["as_of"], program, *("" if flat[c] is None else flat[c] for c in columns)])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reemploy",
        description="Re-employment outcomes: sample data, headline figures, imports and exports.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write a seeded synthetic extract")
    generate.add_argument("--enrollments", type=_positive, default=200_000)
    generate.add_argument("--seed", type=int, default=1)
    generate.add_argument("--out", help="folder to write (default: the data folder)")
    generate.add_argument("--quiet", action="store_true", help="no progress bar")
    generate.set_defaults(handler=_cmd_generate)

    summary = commands.add_parser("summary", help="print the headline figures per programme type")
    add_filter_arguments(summary)
    summary.add_argument("--format", choices=("json", "csv"), default="json")
    summary.set_defaults(handler=_cmd_summary)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ExtractError as exc:
        print(f"error: {exc.problem}\n{exc.fix}", file=sys.stderr)
        return 2
