"""`python -m reemploy generate | summary | import ...`: the command line over the same logic as the app."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import sys
import traceback
from pathlib import Path

from reemploy import disclosure
from reemploy.figures import catalogue, headline
from reemploy.summary import summary
from reemploy.contract import AGE_BANDS, EDUCATION_LEVELS, GENDERS, PROGRAM_TYPES
from reemploy.db import connect
from reemploy.extracts import (
    REPO_ROOT,
    ExtractError,
    effective_min_cell,
    open_extract,
    operator_min_cell,
    resolve_data_dir,
)
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
    parser.add_argument("--min-cell", type=_positive, default=None,
                        help="suppress rates and medians whose denominator is below this (default: "
                             "$REEMPLOY_MIN_CELL, else 10; a higher threshold recorded at import wins)")


def _min_cell(args: argparse.Namespace, extract) -> int:
    # The operator's threshold (--min-cell, else $REEMPLOY_MIN_CELL, else 10), raised, never
    # lowered, by the one recorded at import: the manifest is data (issue 13).
    return effective_min_cell(extract, args.min_cell)


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
    from reemploy.importer import UnusableInput, publish_folder
    from reemploy.synthetic import generate_extract

    out = Path(args.out) if args.out else resolve_data_dir()
    started = dt.datetime.now()
    try:
        # Published like an import (issue 13): a later import over it swaps a symlink.
        publish_folder(out, lambda folder: generate_extract(folder, args.enrollments, seed=args.seed,
                                                            progress=not args.quiet))
    except UnusableInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seconds = (dt.datetime.now() - started).total_seconds()
    print(f"Wrote {args.enrollments:,} enrollments to {out} in {seconds:.1f} s (with the outcome "
          "table the app reads)", file=sys.stderr)
    _start_warming(out)
    return 0


def _start_warming(folder: Path) -> None:
    from reemploy.tools.warm import start_warming, warm_log

    process = start_warming(folder)
    if process is not None:
        print(f"Answering the views a review meeting opens first in the background (process "
              f"{process.pid}, log {warm_log(folder)}).", file=sys.stderr)


def unknown_filter_values(con, extract, filters: Filters) -> list[str]:
    """What a --district or --sector names that the extract does not hold, as error lines: a
    misspelt name would otherwise match nothing and print nothing, with exit status 0."""
    values = catalogue.filter_catalogue(con, extract)
    problems = []
    for option, attr in (("--district", "districts"), ("--sector", "sectors")):
        known = list(values[attr])
        for value in getattr(filters, attr):
            if value not in known:
                shown = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
                problems.append(f"error: {option} {value!r} is not in the extract; it has: {shown}")
    return problems


def _open_view(args: argparse.Namespace):
    """The extract, filters, connection and threshold the arguments name, or None after saying
    which district or sector the extract does not hold."""
    extract = open_extract(resolve_data_dir(args.data))
    filters = filters_from_args(args)
    con = connect(extract)
    problems = unknown_filter_values(con, extract, filters)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return None
    return extract, filters, con, _min_cell(args, extract)


def _cmd_summary(args: argparse.Namespace) -> int:
    view = _open_view(args)
    if view is None:
        return 2
    extract, filters, con, min_cell = view
    reason = disclosure.withheld_view(con, extract, filters, min_cell)
    if reason:
        print(f"error: these figures are withheld: {reason} (data/README.md, Threat model). "
              "Widen the filters.", file=sys.stderr)
        return 2
    document = summary(con, extract, filters, min_cell=min_cell)
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


def _cmd_export(args: argparse.Namespace) -> int:
    from reemploy import export, i18n, pack

    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm", ".pdf"):
        raise SystemExit(f"error: --out must end in .html or .pdf, not {out.name!r}")
    # Checked before the pack is built (seconds to minutes), not when it is written.
    if out.is_dir():
        print(f"error: --out {out} is a folder; name the file to write, e.g. {out / 'pack.html'}",
              file=sys.stderr)
        return 2
    folder = out.absolute().parent
    if not folder.is_dir():
        print(f"error: --out {out}: the folder {folder} does not exist; create it first",
              file=sys.stderr)
        return 2
    if not os.access(folder, os.W_OK):
        print(f"error: --out {out}: the folder {folder} is not writable", file=sys.stderr)
        return 2
    if out.suffix.lower() == ".pdf" and not export.images_available():
        print(f"error: {export.IMAGES_UNAVAILABLE}\nThe HTML pack needs no browser: --out FILE.html",
              file=sys.stderr)
        return 2
    view = _open_view(args)
    if view is None:
        return 2
    extract, filters, con, min_cell = view
    first_open = headline.first_open_month(headline.headline_by_program(con, extract, filters, min_cell))
    for view in pack.views_of(filters, extract.as_of, first_open_month=first_open):
        reason = disclosure.withheld_view(con, extract, view, min_cell)
        if reason:
            print(f"error: the pack is withheld: for {view.describe()}, {reason} (data/README.md, "
                  "Threat model). Widen the filters.", file=sys.stderr)
            return 2

    def load(question, for_filters: Filters, **options):
        return question(con, extract, for_filters, min_cell, **options)

    # Every period a figure of the pack covers (pack.measure_periods), not only the 180-day one.
    for view in pack.views_of(filters, extract.as_of, load=load, min_cell=min_cell):
        reason = disclosure.withheld_view(con, extract, view, min_cell)
        if reason:
            print(f"error: the pack is withheld: for {view.describe()}, {reason} (data/README.md, "
                  "Threat model). Widen the filters.", file=sys.stderr)
            return 2
    started = dt.datetime.now()
    with i18n.using(args.lang):
        document = pack.build_pack(load, extract.as_of, filters, min_cell)
        pack.write_pack(document, out)
    seconds = (dt.datetime.now() - started).total_seconds()
    print(f"Wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {len(document.sections)} charts, "
          f"{filters.describe()}) in {seconds:.1f} s", file=sys.stderr)
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from reemploy.tools import bench

    data = Path(args.data) if args.data else REPO_ROOT / "bench" / f"extract-{args.enrollments}"
    report = bench.run_benchmark(args.enrollments, data, args.interactions, args.skip_pandas,
                                 args.browser, tuple(args.scope or ()), pairs=not args.no_pairs)
    if args.out:  # first: the report of a long run is kept even if printing it fails
        Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    print(bench.format_report(report))
    return 1 if report.get("errors") or report.get("scope_comparison", {}).get("errors") else 0


def _cmd_import(args: argparse.Namespace) -> int:
    from reemploy import importer

    out = Path(args.out) if args.out else resolve_data_dir()
    floor = operator_min_cell()
    if args.min_cell is not None and args.min_cell < floor:
        print(f"error: --min-cell {args.min_cell} is below the operator's threshold {floor} "
              "($REEMPLOY_MIN_CELL, default 10); an extract can raise the threshold, never lower it. "
              f"Nothing was imported; the extract in {out} is unchanged.", file=sys.stderr)
        return importer.EXIT_UNUSABLE
    try:
        result = importer.import_extract(
            args.enrollments, args.placements, args.as_of, out, mappings=args.map,
            min_cell=args.min_cell, encoding=args.encoding, progress=False if args.quiet else None,
            integer_dates=args.integer_dates,
        )
    except importer.UnusableInput as exc:
        print(f"error: {exc}\nNothing was imported; the extract in {out} is unchanged.", file=sys.stderr)
        return importer.EXIT_UNUSABLE
    except KeyboardInterrupt:
        print(f"\nInterrupted; the extract in {out} is unchanged.", file=sys.stderr)
        return 130
    except Exception:
        # Not exit status 1, which means "some rows rejected, the rest imported".
        traceback.print_exc()
        print(f"error: the import failed; the extract in {out} is unchanged.", file=sys.stderr)
        return importer.EXIT_UNUSABLE
    _start_warming(out)
    return result.exit_code


def _cmd_warm(args: argparse.Namespace) -> int:
    from reemploy.tools.warm import warm

    os.nice(10)  # behind the officials' own page runs
    report = warm(str(resolve_data_dir(args.data)), pairs=not args.no_pairs, quiet=args.quiet)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 1 if report["errors"] else 0


def _cmd_loadtest(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from reemploy.tools import loadtest

    folder = resolve_data_dir(args.data)
    extract = open_extract(folder)
    districts = list(catalogue.filter_catalogue(connect(extract), extract)["districts"])
    # "" is the entry page (Overview); other pages are addressed by their file name.
    pages = ["", *sorted(p.stem for p in (REPO_ROOT / "pages").glob("*.py"))]
    # The folder as named, not the version it points at: an import in the middle swaps it.
    server = loadtest.local_app(str(folder)) if args.url is None else nullcontext()
    with server as app:
        url, pid = (args.url, None) if app is None else (app.url, app.process.pid)
        report = loadtest.run_load_test(url, args.sessions, args.seconds, pages, districts, pid,
                                        import_at=args.import_at, data=Path(folder))
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 1 if report["errors"] else 0


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

    imports = commands.add_parser(
        "import", help="validate CSV/XLSX/Parquet exports and make them the extract",
        description="Exit status: 0 every row accepted, 1 some rows rejected (the rest imported, "
                    "see DIR/rejected/), 2 the input is unusable (nothing changed).")
    imports.add_argument("--enrollments", required=True, metavar="FILE")
    imports.add_argument("--placements", required=True, metavar="FILE")
    imports.add_argument("--as-of", required=True, type=_date, metavar="YYYY-MM-DD",
                         help="the date the exports describe; later dates are rejected")
    imports.add_argument("--out", metavar="DIR",
                         help="extract folder (default: $REEMPLOY_DATA or data/extracts)")
    imports.add_argument("--map", action="append", default=[], metavar="SOURCE=CONTRACT",
                         help="rename a source column (repeatable; prefix the source with "
                              "'enrollments.' or 'placements.' to limit it to one file)")
    imports.add_argument("--min-cell", type=_positive, metavar="K",
                         help="record this suppression threshold in the extract's manifest; it can "
                              "raise the operator's threshold ($REEMPLOY_MIN_CELL, default 10), "
                              "never lower it")
    imports.add_argument("--encoding", help="the CSV files' text encoding when detection is "
                         "not enough (e.g. latin-1, big5)")
    imports.add_argument("--integer-dates", choices=("epoch-days", "excel-days"),
                         help="what whole numbers in a Parquet date column count: days since "
                              "1970-01-01 or Excel day numbers (refused unless stated)")
    imports.add_argument("--quiet", action="store_true", help="no progress bar")
    imports.set_defaults(handler=_cmd_import)

    export = commands.add_parser(
        "export", help="write the meeting pack (headline figures and key charts) as HTML or PDF")
    export.add_argument("--out", required=True, metavar="FILE.html|FILE.pdf",
                        help="the file to write; its suffix picks the format")
    export.add_argument("--lang", choices=("en", "zh"), default="en",
                        help="the language of the pack: en (English, the default) or zh "
                             "(Simplified Chinese)")
    add_filter_arguments(export)
    export.set_defaults(handler=_cmd_export)

    bench = commands.add_parser("bench", help="time every page's queries at a given size")
    bench.add_argument("--enrollments", type=_positive, default=1_000_000)
    bench.add_argument("--data", help="extract folder; generated there if empty "
                       "(default: bench/extract-N)")
    bench.add_argument("--interactions", type=_positive, default=30)
    bench.add_argument("--out", metavar="FILE.json", help="also write the report as JSON")
    bench.add_argument("--skip-pandas", action="store_true",
                       help="leave out the pandas comparison (it needs several GB at 10M)")
    bench.add_argument("--browser", action="store_true",
                       help="also time the first chart and a filter change in Chromium")
    bench.add_argument("--no-pairs", action="store_true",
                       help="warm without the district x prior sector views (as warm --no-pairs)")
    bench.add_argument("--scope", action="append", metavar="DISTRICT",
                       help="instead, compare every page signed in with this district scope "
                            "(repeatable) against open access filtered to the same districts")
    bench.set_defaults(handler=_cmd_bench)

    warm = commands.add_parser(
        "warm", help="answer the views a review meeting opens first into the extract's store",
        description="Runs every page under each view (unfiltered, each district, each prior "
                    "sector, each programme, the quick periods, each district with each prior "
                    "sector) and keeps the answers beside the extract version, for every server "
                    "process. generate and import start it in the background.")
    warm.add_argument("--data", help="extract folder (default: $REEMPLOY_DATA or data/extracts)")
    warm.add_argument("--no-pairs", action="store_true",
                      help="leave out the district x prior sector views")
    warm.add_argument("--quiet", action="store_true", help="no line per view")
    warm.set_defaults(handler=_cmd_warm)

    load = commands.add_parser("loadtest", help="concurrent sessions against a local server")
    load.add_argument("--data", help="extract folder for the server it starts")
    load.add_argument("--url", help="a running server on this machine (default: start one)")
    load.add_argument("--sessions", type=_positive, default=16)
    load.add_argument("--seconds", type=_positive, default=60)
    load.add_argument("--import-at", type=float, metavar="SECONDS",
                      help="import the extract over itself this many seconds in (the first "
                           "import when the folder is a real one, e.g. an old sample)")
    load.set_defaults(handler=_cmd_loadtest)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ExtractError as exc:
        print(f"error: {exc.problem}\n{exc.fix}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `summary | head` closed the pipe: not an error of ours. Point stdout at devnull so
        # Python's exit flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
