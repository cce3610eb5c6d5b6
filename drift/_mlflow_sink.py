"""An alert sink that keeps MLflow's model registry in step with halfcost's champions.

On each ``promotion`` event the new champion is logged to MLflow as a run with its
scores and its model (a pyfunc model), registered as a new version of the registered
model, and the ``champion`` alias is moved to that version. A ``refusal`` of a
challenger is logged as a run (scores and reason) and never registered or aliased.
Like every sink it never stops the watch: a failure is printed and kept in
``failures``, and the watch records it in the event.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO

from halfcost.drift._sinks import AlertSink, report_failure

CHAMPION_ALIAS = "champion"


class MLflowSink(AlertSink):
    """Registers promoted champions in MLflow and moves their alias; logs refusals.

    Args:
        uri: the tracking URI (default ``$MLFLOW_TRACKING_URI``; e.g. ``sqlite:///mlflow.db``).
        model_name: the registered model (e.g. the project's name).
        experiment: the experiment the promotion and refusal runs go to.
        alias: the alias that follows the champion.
        stream: where failures are printed (default: standard error).

    Attributes:
        failures: messages of failed deliveries, oldest first.
        versions: halfcost champion version -> registered model version, as registered.
    """

    def __init__(
        self,
        uri: str | None = None,
        *,
        model_name: str,
        experiment: str = "halfcost-drift",
        alias: str = CHAMPION_ALIAS,
        stream: TextIO | None = None,
    ) -> None:
        from halfcost.automl import mlflow_tracking_uri

        self.uri = mlflow_tracking_uri(uri)
        self.model_name = model_name
        self.experiment = experiment
        self.alias = alias
        self.stream = stream
        self.failures: list[str] = []
        self.versions: dict[str, str] = {}

    def send(self, event: dict[str, Any]) -> None:
        """Register a promotion or log a refusal; other events are not MLflow's business."""
        kind = event.get("kind")
        if kind not in ("promotion", "refusal"):
            return
        try:
            if kind == "promotion":
                self._register(event)
            elif event.get("scores"):  # a challenger was compared and refused
                self._log_run(event)
        except Exception as exc:  # a registry that is down must not stop the watch
            self._fail(f"{type(exc).__name__}: {exc}")

    def _mlflow(self) -> Any:
        from halfcost.automl import require_mlflow

        mlflow = require_mlflow()
        if self.uri:
            mlflow.set_tracking_uri(self.uri)
        mlflow.set_experiment(self.experiment)
        return mlflow

    def _log_run(self, event: dict[str, Any], model_dir: Path | None = None) -> Any:
        """One run for the event: its scores as metrics, its decision and reason as tags."""
        from halfcost.automl._mlflow import log_model

        mlflow = self._mlflow()
        name = f"{event['kind']} {event.get('champion') or ''}".strip()
        with mlflow.start_run(run_name=name):
            mlflow.set_tags(
                {
                    "halfcost.kind": event["kind"],
                    "halfcost.decision": str(event.get("decision")),
                    "halfcost.project": str(event.get("project")),
                    "halfcost.champion": str(event.get("champion")),
                    "halfcost.batch": str(event.get("batch")),
                    "halfcost.event_id": str(event.get("event_id")),
                    "halfcost.reason": str(event.get("reason", ""))[:5000],
                }
            )
            scores = event.get("scores") or {}
            mlflow.log_metrics({k: float(v) for k, v in scores.items() if _is_number(v)})
            if model_dir is None:
                return None
            return log_model(model_dir, registered_model_name=self.model_name)

    def _register(self, event: dict[str, Any]) -> None:
        """Log and register the promoted champion; move the alias to its version."""
        champion = str(event["champion"])
        model_dir = Path(event["details"]["path"]) / "model"
        info = self._log_run(event, model_dir)
        version = str(info.registered_model_version)
        client = self._mlflow().MlflowClient()
        client.set_model_version_tag(self.model_name, version, "halfcost.champion", champion)
        client.set_registered_model_alias(self.model_name, self.alias, version)
        self.versions[champion] = version

    def _fail(self, why: str) -> None:
        report_failure(self, f"MLflow registry at {self.uri or '(default)'} failed ({why})")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
