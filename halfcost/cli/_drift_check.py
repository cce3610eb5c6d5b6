"""`halfcost drift check`: does a batch drift from the reference? (Evidently's tests, fast)."""

from __future__ import annotations

import argparse

HELP = "compare a batch with the reference (a table or a saved profile) for drift"
DESCRIPTION = """\
Decide, column by column, whether CUR drifts from REF with the test Evidently's
DataDriftPreset would choose (Wasserstein / Jensen-Shannon distances for references of more
than 1,000 rows, K-S / chi-square / Z p-values for smaller ones), computed on the whole
batch from the reference's statistics. Writes DIR/drift.json and DIR/drift.html (Evidently's
report, rendered from row samples; drift.json says what was sampled).

exit status: 0 checked (drift or not); 1 drift with --fail-on-drift; 2 bad input.

examples:
  halfcost drift profile train.csv --out train.profile
  halfcost drift check --reference train.profile --current batch.csv --out reports/batch1
  halfcost drift check --reference train.csv --current batch.parquet --fail-on-drift --json
"""


def register(parser: argparse.ArgumentParser) -> None:
    """Add the check flags."""
    parser.add_argument(
        "--reference", required=True, metavar="REF", help="reference table or saved profile"
    )
    parser.add_argument("--current", required=True, metavar="CUR", help="the batch (.csv/.parquet)")
    parser.add_argument(
        "--out", default="drift-check", metavar="DIR", help="report folder (default: drift-check)"
    )
    parser.add_argument(
        "--fail-on-drift", action="store_true", help="exit 1 when dataset drift is detected"
    )
    parser.add_argument("--json", action="store_true", help="print drift.json on stdout")
    parser.add_argument(
        "--drift-share",
        type=float,
        default=0.5,
        metavar="F",
        help="share of drifted columns that means dataset drift (default 0.5, Evidently's)",
    )
    parser.add_argument(
        "--sample-rows",
        type=int,
        default=None,
        metavar="N",
        help="rows per side rendered into drift.html (default 20000); decisions use all rows",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the row samples")
    parser.add_argument(
        "--columns", nargs="+", metavar="COL", help="check only these columns (others may differ)"
    )
    parser.add_argument(
        "--target", metavar="COL", help="the label column; a batch without it is still checked"
    )
    parser.add_argument("--no-html", action="store_true", help="skip drift.html (faster)")


def run(args: argparse.Namespace) -> int:
    """Check the batch, write the report, print a summary."""
    from halfcost.drift import check_drift, load_reference, summarized_warnings
    from halfcost.jsonio import to_json
    from halfcost.tables import read_table

    reference = load_reference(args.reference)
    current = read_table(args.current)
    with summarized_warnings(f"checking {len(current)} row(s) for drift"):  # one line in all
        result = check_drift(
            reference,
            current,
            drift_share=args.drift_share,
            sample_rows=args.sample_rows,
            seed=args.seed,
            columns=args.columns,
            target=args.target,
        )
        path = result.save(args.out, html=not args.no_html)
    if args.json:
        print(to_json(result.to_dict()))
    else:
        print(_summary(result, path))
    return 1 if args.fail_on_drift and result.drift_detected else 0


def _summary(result, path) -> str:
    lines = [f"{'column':<24} {'type':<12} {'method':<30} {'score':>10} {'threshold':>9}  drift"]
    for name, col in result.columns.items():
        lines.append(
            f"{name[:24]:<24} {col.kind:<12} {col.method.display_name[:30]:<30} "
            f"{col.score:>10.4g} {col.threshold:>9.4g}  {'DRIFT' if col.drifted else '-'}"
        )
    for name, why in result.skipped.items():
        lines.append(f"{name[:24]:<24} skipped: {why}")
    verdict = "DRIFT DETECTED" if result.drift_detected else "no dataset drift"
    lines.append(
        f"{verdict}: {len(result.drifted_columns)} of {len(result.columns)} columns drifted "
        f"(share {result.share_drifted:.2f}, threshold {result.drift_share:.2f}); "
        f"report: {path.parent}"
    )
    return "\n".join(lines)
