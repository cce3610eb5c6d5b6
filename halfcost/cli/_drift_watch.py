"""`halfcost drift watch`: check a new batch; on alert, retrain through DVC and promote."""

from __future__ import annotations

import argparse
import sys

from halfcost.cli._flags import add_mlflow_flag, add_on_bad_values_flag
from halfcost.cli._record import add_record_flags, check_registry, record

HELP = "check a batch; when the alert policy says so, retrain with `dvc repro` and promote"
DESCRIPTION = """\
Check BATCH against the champion's reference profile, record the check, and apply the
alert policy in params.yaml (monitor: section). When it says retrain, the labelled batch
is added to data/batches/ (tracked with `dvc add`), `dvc repro` trains a challenger, and
the challenger replaces the champion only if it meets search.min_score on held-out data
and is not worse than the champion by more than promotion.margin there and on the batch's
held-out rows. A failed retrain or a refused challenger leaves the champion untouched;
the batch is then moved to .halfcost/set_aside/. Every step is one line in
.halfcost/events.jsonl (see `halfcost drift history`).

With no champion yet, watch first runs `dvc repro` and promotes the first challenger that
meets the target as v0001. Only one watch runs per project at a time (.halfcost/watch.lock).
A retrain whose watch was killed outright is found by the next watch, which stops what is
left of its `dvc repro`, sets its batch aside and records `retrain_failed` ("interrupted
(found on restart)") before anything else. Batches are named by their content's hash: the
same batch is never added to the training data twice.

LABELS holds the target column for the batch's rows: matched by an id column both tables
have (params.yaml data.id_column, else any shared column), otherwise by row order.

exit status: 0 done (no alert, alert, promoted or refused); 1 the retrain failed;
2 bad input (also text in a numeric or date feature, unless --on-bad-values); 4 another
watch is running on the project, or another DVC process holds DVC's lock.

examples:
  halfcost drift watch --batch new.csv --labels new_labels.csv --project .
  halfcost drift watch --batch new.parquet --force --json
"""


def register(parser: argparse.ArgumentParser) -> None:
    """Add the flags of `halfcost drift watch`."""
    parser.add_argument(
        "--batch", required=True, metavar="NEW", help="the new batch (.csv/.parquet)"
    )
    parser.add_argument("--labels", metavar="LABELS", help="the batch's labels (.csv/.parquet)")
    parser.add_argument(
        "--project", default=".", metavar="DIR", help="the project folder (default: .)"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="manual trigger: retrain whatever the drift check says",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another watch on the project (default: exit at once)",
    )
    parser.add_argument(
        "--out", metavar="DIR", help="also save the drift check here (drift.json, drift.html)"
    )
    add_on_bad_values_flag(parser, counted_in="the check event")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    add_mlflow_flag(
        parser,
        what="promotions (a new version of the registered model named after the project, "
        "its `champion` alias moved) and refusals",
    )
    add_record_flags(parser, project_flag="--registry-project")


def run(args: argparse.Namespace) -> int:
    """Watch the batch; exit 1 when the retrain failed."""
    from halfcost.automl import mlflow_tracking_uri, require_mlflow
    from halfcost.drift import MLflowSink, PrintSink, Project, WebhookSink, watch_batch
    from halfcost.jsonio import to_json

    project = Project.open(args.project)
    check_registry(args)
    sinks = [PrintSink(stream=sys.stderr)]
    url = project.params()["monitor"].get("webhook_url")
    if url:
        sinks.append(WebhookSink(url))
    mlflow_uri = mlflow_tracking_uri(args.mlflow)
    if mlflow_uri:
        require_mlflow()  # before the watch: a missing MLflow fails fast
        sinks.append(MLflowSink(mlflow_uri, model_name=project.name))
    result = watch_batch(
        args.batch,
        labels=args.labels,
        project=project,
        force=args.force,
        wait_s=args.wait,
        sinks=sinks,
        report_dir=args.out,
        on_bad_values=args.on_bad_values,
    )
    if args.json:
        print(to_json(result.to_dict()))
    else:
        champion = result.champion or "none"
        print(f"{result.outcome}: {result.reason} (champion: {champion})")
    record(args, project.root, default_project=project.name)
    if result.outcome == "retrain_failed":
        print(f"halfcost drift watch: error: {result.reason}", file=sys.stderr)
        return 1
    return 0
