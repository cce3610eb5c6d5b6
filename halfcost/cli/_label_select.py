"""`halfcost label select`: the N pool rows to label next, best first."""

from __future__ import annotations

import argparse
import sys

HELP = "pick the N unlabelled rows worth labelling next"
DESCRIPTION = """\
Train the learner (LightGBM defaults on halfcost's encoding, or --learner FAMILY) on
LABELED, score every row of POOL with the strategy, and write the N rows to label next,
best first, to PICKS.csv: the pool's columns plus halfcost_row (0-based row number in
POOL) and halfcost_score (the score that picked it). POOL holds LABELED's columns without
the target (a target column in POOL is ignored); pool rows identical to a labelled row are
never picked.

strategies: margin (default; smallest gap between the two likeliest classes), entropy,
diverse (uncertain rows spread over the data by weighted k-means), random (the baseline).

exit status: 0 picked; 2 bad input.

example:
  halfcost label select --pool unlabelled.csv --labeled labelled.csv --target churned \\
      --n 200 --strategy diverse --out picks.csv
"""


def register(parser: argparse.ArgumentParser) -> None:
    """Add the select flags."""
    parser.add_argument(
        "--pool", required=True, metavar="POOL", help="unlabelled rows (.csv/.parquet)"
    )
    parser.add_argument(
        "--labeled", required=True, metavar="LABELED", help="labelled rows, with the target"
    )
    parser.add_argument("--target", required=True, metavar="COL", help="the label column")
    parser.add_argument("--n", required=True, type=int, metavar="N", help="rows to pick")
    parser.add_argument(
        "--strategy", default="margin", metavar="S", help="margin|entropy|diverse|random (margin)"
    )
    parser.add_argument("--seed", type=int, default=0, metavar="K", help="random seed (0)")
    parser.add_argument(
        "--learner",
        metavar="FAMILY",
        help="a search family (linear, lightgbm, tree, mlp, "
        "hist_gb, forest); default LightGBM defaults",
    )
    parser.add_argument(
        "--out", default="picks.csv", metavar="PICKS.csv", help="where to write (picks.csv)"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")


def run(args: argparse.Namespace) -> int:
    """Pick the rows and write them."""
    from halfcost.automl import picks_as_read, select_rows
    from halfcost.errors import BadInputError
    from halfcost.jsonio import to_json
    from halfcost.tables import read_table, table_suffix, write_table

    table_suffix(args.out)  # a bad output name fails before any work
    pool = read_table(args.pool, allow_empty=True)
    labeled = read_table(args.labeled)
    if len(pool) == 0:
        raise BadInputError(f"{args.pool}: the pool has no rows; give at least one unlabelled row.")
    picks = select_rows(
        pool,
        labeled,
        args.target,
        args.n,
        strategy=args.strategy,
        learner=args.learner,
        seed=args.seed,
    )
    path = write_table(picks_as_read(args.pool, picks), args.out)
    summary = {
        "picks": str(path),
        "rows": len(picks),
        "strategy": args.strategy,
        "pool_rows": len(pool),
        "labeled_rows": len(labeled),
        "halfcost_row": picks["halfcost_row"].tolist()[:20],
    }
    line = (
        f"picked {len(picks)} of {len(pool)} pool rows with {args.strategy} "
        f"(learned from {len(labeled)} labelled rows): {path}"
    )
    if args.json:
        print(to_json(summary))
        print(f"halfcost label select: {line}", file=sys.stderr)
    else:
        print(line)
    return 0
