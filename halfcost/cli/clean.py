"""`halfcost clean`: learn what clean data looks like, then repair or quarantine a batch."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from halfcost.cli._record import add_record_flags, check_registry, record

HELP = "validate a batch with Great Expectations; repair or quarantine bad rows"
DESCRIPTION = """\
Learn a Great Expectations suite from a clean reference (or load one with --suite),
validate DATA with it, repair what needs no guessing (category spelling, numbers stored
as text, the majority value of an entity's rows, typos of a frequent value), and
quarantine every other bad row with its reason. Cells not repaired are written as read.
Writes, in --out: clean.<ext>, quarantine.<ext>, report.json, report.html, suite.json.

examples:
  halfcost clean batch.csv --reference clean_sample.csv --out cleaned/
  halfcost clean batch.csv --suite cleaned/suite.json --policy POLICY.yaml --out next/
  halfcost clean batch.parquet --reference ref.parquet --kind account_no=identifier --out o/

exit status: 0 success (also when rows were quarantined), 2 bad input."""


def register(parser: argparse.ArgumentParser) -> None:
    """Add the flags of `halfcost clean`."""
    parser.add_argument("data", metavar="DATA", help="the batch to clean (.csv or .parquet)")
    parser.add_argument(
        "--reference",
        metavar="REF",
        help="a clean sample to learn the suite from (needed unless --suite is given)",
    )
    parser.add_argument(
        "--suite", metavar="SUITE.json", help="use this GX suite instead of learning"
    )
    parser.add_argument(
        "--policy", metavar="POLICY.yaml", help="per-column repair/quarantine policy"
    )
    parser.add_argument("--out", metavar="DIR", required=True, help="output folder")
    parser.add_argument(
        "--kind",
        metavar="COLUMN=KIND",
        action="append",
        default=[],
        help="override a column's classification when learning (repeatable); kinds: "
        "identifier, code, datetime, counter, numeric, measure, categorical, text, boolean, "
        "empty",
    )
    parser.add_argument("--json", action="store_true", help="print the report summary as JSON")
    add_record_flags(parser)


def _parse_kinds(pairs: list[str]) -> dict[str, str]:
    from halfcost.errors import BadInputError

    kinds = {}
    for pair in pairs:
        column, sep, kind = pair.partition("=")
        if not sep or not column or not kind:
            raise BadInputError(
                f"--kind {pair!r}: write it as COLUMN=KIND, e.g. order_no=identifier."
            )
        kinds[column] = kind
    return kinds


def run(args: argparse.Namespace) -> int:
    """Clean DATA and write the outputs; returns the exit code."""
    from halfcost.automl import (
        CleaningPolicy,
        check_columns,
        clean_frame,
        learn_suite,
        load_suite,
        read_exact_table,
        write_clean_outputs,
    )
    from halfcost.errors import BadInputError
    from halfcost.tables import table_suffix

    if args.reference is None and args.suite is None:
        raise BadInputError("give --reference REF (a clean sample) or --suite SUITE.json.")
    if args.kind and args.suite:
        raise BadInputError(
            "--kind applies when learning a suite; with --suite, edit the suite's JSON instead."
        )
    suffix = table_suffix(args.data)
    check_registry(args)
    policy = CleaningPolicy.from_yaml(args.policy) if args.policy else CleaningPolicy()
    suite = load_suite(args.suite) if args.suite else None
    # read as text (CSV): what is written back is exactly what was read
    reference = read_exact_table(args.reference) if args.reference else None
    data = read_exact_table(args.data)
    if reference is not None:
        check_columns(
            data, [str(c) for c in reference.columns], what=f"the reference {args.reference}"
        )
    policy.check_columns([str(c) for c in data.columns])
    if suite is None:
        suite = learn_suite(reference, kinds=_parse_kinds(args.kind))
    result = clean_frame(data, suite, policy)
    paths = write_clean_outputs(result, args.out, suite=suite, suffix=suffix, data_path=args.data)
    record(args, paths["report"], default_project=Path(args.out).resolve().name)
    report = result.report
    summary = {
        key: report[key] for key in ("rows_in", "rows_clean", "rows_repaired", "rows_quarantined")
    }
    summary["out"] = str(args.out)
    summary["files"] = {name: str(path) for name, path in paths.items()}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"{summary['rows_in']} rows: {summary['rows_clean']} clean "
            f"({summary['rows_repaired']} repaired), {summary['rows_quarantined']} quarantined "
            f"-> {args.out}",
            file=sys.stdout,
        )
    return 0
