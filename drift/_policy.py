"""The alert policy: when a drift check becomes an alert, and when an alert becomes a retrain.

Retraining on every wobble costs as much as never retraining. The policy (``monitor:`` in
``params.yaml``) raises an alert only when enough *important* columns drift, on a batch big
enough to judge, for enough consecutive batches — or when the champion's measured score on
a labelled batch falls below the target, or a person asks. An alert retrains unless the
last retrain is more recent than the cooldown. Consecutive counts and the cooldown come
from the event log, so there is no second state file to get out of step.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from halfcost.drift._events import parse_time
from halfcost.errors import BadInputError

if TYPE_CHECKING:
    from halfcost.drift._check import DriftResult
    from halfcost.drift._sinks import AlertSink

RETRAIN_KINDS = ("retrain_started", "retrain", "retrain_failed", "promotion")  # start a cooldown
RESET_KINDS = ("retrain", "promotion")  # a new model: drifting batches are counted afresh
DECISION_DRIFT = "drift"
DECISION_NO_DRIFT = "no_drift"
DECISION_TOO_SMALL = "too_small"


@dataclass(frozen=True)
class AlertPolicy:
    """The ``monitor:`` section of ``params.yaml``.

    Attributes:
        drift_share: share of drifted columns at which a check reports dataset drift.
        alert_share: (importance-weighted) share of drifted columns that makes a batch drifting.
        importance_weighted: weight columns by the model's feature importances, when known.
        min_batch_rows: smaller batches are too small to judge drift.
        consecutive_batches: drifting batches in a row needed for a drift alert.
        cooldown_hours: no retrain within this many hours of the previous one (0: none).
        manual_trigger: retrain on the next batch whatever the data says.
        score_drop_trigger: alert when the champion's score on a labelled batch is below target.
        webhook_url: where alerts are POSTed as JSON (None: printed and logged only).
        sample_rows: rows per side rendered into the Evidently HTML report.
    """

    drift_share: float = 0.5
    alert_share: float = 0.3
    importance_weighted: bool = True
    min_batch_rows: int = 100
    consecutive_batches: int = 1
    cooldown_hours: float = 0.0
    manual_trigger: bool = False
    score_drop_trigger: bool = True
    webhook_url: str | None = None
    sample_rows: int = 100_000

    def __post_init__(self) -> None:
        _check_share("drift_share", self.drift_share)
        _check_share("alert_share", self.alert_share)
        _check_int("min_batch_rows", self.min_batch_rows, 0)
        _check_int("consecutive_batches", self.consecutive_batches, 1)
        _check_int("sample_rows", self.sample_rows, 100)
        if not _is_number(self.cooldown_hours) or self.cooldown_hours < 0:
            raise BadInputError(
                f"monitor.cooldown_hours must be a number >= 0, but got {self.cooldown_hours!r}."
            )
        for name in ("importance_weighted", "manual_trigger", "score_drop_trigger"):
            if not isinstance(getattr(self, name), bool):
                raise BadInputError(
                    f"monitor.{name} must be true or false, but got {getattr(self, name)!r}."
                )
        url = self.webhook_url
        if url is not None and not (
            isinstance(url, str) and url.startswith(("http://", "https://"))
        ):
            raise BadInputError(
                f"monitor.webhook_url must be an http(s) URL or null, but got {url!r}."
            )

    @classmethod
    def from_params(cls, monitor_section: dict[str, Any] | None) -> AlertPolicy:
        """Build the policy from ``params['monitor']``; missing keys take their defaults.

        Raises:
            BadInputError: an unknown key (the valid ones are listed) or an invalid value.
        """
        section = dict(monitor_section or {})
        valid = [f.name for f in fields(cls)]
        unknown = sorted(set(section) - set(valid))
        if unknown:
            raise BadInputError(
                f"unknown key(s) {', '.join(unknown)} in params.yaml monitor:; "
                f"choose from {', '.join(valid)}."
            )
        return cls(**section)

    def to_dict(self) -> dict[str, Any]:
        """The section as a plain dict (what ``params.yaml`` holds)."""
        return asdict(self)

    def sinks(self) -> list[AlertSink]:
        """Where alerts go: printed always, and POSTed when ``webhook_url`` is set."""
        from halfcost.drift._sinks import PrintSink, WebhookSink

        out: list[AlertSink] = [PrintSink()]
        if self.webhook_url:
            out.append(WebhookSink(self.webhook_url))
        return out

    def decide(
        self,
        result: DriftResult,
        *,
        events: list[dict[str, Any]],
        batch_rows: int,
        importances: dict[str, float] | None = None,
        labelled_score: float | None = None,
        target_score: float | None = None,
        manual: bool = False,
        now: datetime | None = None,
    ) -> AlertDecision:
        """Decide whether a checked batch raises an alert and whether to retrain.

        Args:
            result: the batch's drift check.
            events: the project's event log so far (without this batch's check).
            batch_rows: rows in the batch.
            importances: the champion's feature importances (column -> weight).
            labelled_score: the champion's score on the batch, when labels came with it.
            target_score: the score the model must meet.
            manual: a person asked for a retrain (as ``manual_trigger`` does).
            now: the current time (default: now, UTC).
        """
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        reasons: list[str] = []
        share, weighted = self._weighted_share(result, importances)
        drifting, judged = self._judge_drift(
            result, share, weighted, batch_rows, importances, reasons
        )
        consecutive = previous_drifting_batches(events) + 1 if drifting else 0
        triggers: list[str] = []
        if drifting:
            if consecutive >= self.consecutive_batches:
                triggers.append("drift")
                if self.consecutive_batches > 1:
                    reasons.append(
                        f"{consecutive} consecutive drifting batches "
                        f"(≥ {self.consecutive_batches} needed)"
                    )
            else:
                reasons.append(
                    f"drifting batch {consecutive} of {self.consecutive_batches} consecutive "
                    "needed: no alert yet"
                )
        if self._score_dropped(labelled_score, target_score, reasons):
            triggers.append("score_drop")
        if manual or self.manual_trigger:
            triggers.append("manual")
            reasons.append("manual trigger" + (" (monitor.manual_trigger)" if not manual else ""))
        alert = bool(triggers)
        retrain = alert and self._cooldown_allows(events, moment, "manual" in triggers, reasons)
        if not alert:
            reasons.append("no alert")
        return AlertDecision(
            alert=alert,
            retrain=retrain,
            reasons=reasons,
            weighted_share=share,
            drifting=drifting,
            judged=judged,
            consecutive=consecutive,
            triggers=triggers,
            drifted_columns=result.drifted_columns,
            batch_rows=int(batch_rows),
        )

    def _weighted_share(
        self, result: DriftResult, importances: dict[str, float] | None
    ) -> tuple[float, bool]:
        """(share, whether it is importance-weighted)."""
        columns = list(result.columns)
        if not (self.importance_weighted and importances and columns):
            return result.share_drifted, False
        weights = {c: max(float(importances.get(c, 0.0)), 0.0) for c in columns}
        total = sum(weights.values())
        if total <= 0:
            return result.share_drifted, False
        return sum(weights[c] for c in result.drifted_columns) / total, True

    def _judge_drift(
        self,
        result: DriftResult,
        share: float,
        weighted: bool,
        batch_rows: int,
        importances: dict[str, float] | None,
        reasons: list[str],
    ) -> tuple[bool, bool]:
        """(drifting, judged): is this batch drifting, and was it big enough to say."""
        if batch_rows < self.min_batch_rows:
            reasons.append(
                f"batch too small to judge drift: {batch_rows} rows < "
                f"min_batch_rows {self.min_batch_rows}"
            )
            return False, False
        drifted = result.drifted_columns
        if weighted and importances:
            drifted = sorted(drifted, key=lambda c: -float(importances.get(c, 0.0)))
        drifting = bool(drifted) and share >= self.alert_share
        label = "weighted share" if weighted else "share"
        sign = "≥" if drifting else "<"
        text = (
            f"{len(result.drifted_columns)} of {len(result.columns)} columns drifted "
            f"({label} {share:.2f} {sign} {self.alert_share:.2f})"
        )
        reasons.append(text + (f": {', '.join(drifted)}" if drifted else ""))
        return drifting, True

    def _score_dropped(
        self, labelled_score: float | None, target_score: float | None, reasons: list[str]
    ) -> bool:
        if labelled_score is None or target_score is None:
            return False
        if labelled_score < target_score:
            if self.score_drop_trigger:
                reasons.append(
                    f"champion's score on the labelled batch {labelled_score:.4f} "
                    f"< target {target_score:.4f}"
                )
                return True
            reasons.append(
                f"champion's score {labelled_score:.4f} < target {target_score:.4f}, "
                "but score_drop_trigger is off"
            )
            return False
        reasons.append(
            f"champion's score on the labelled batch {labelled_score:.4f} "
            f"≥ target {target_score:.4f}"
        )
        return False

    def _cooldown_allows(
        self, events: list[dict[str, Any]], now: datetime, manual: bool, reasons: list[str]
    ) -> bool:
        if self.cooldown_hours <= 0:
            return True
        last = last_retrain_time(events)
        if last is None:
            return True
        elapsed = now - last
        cooldown = timedelta(hours=self.cooldown_hours)
        if elapsed >= cooldown:
            return True
        text = f"last retrain {_duration(elapsed)} ago < {_duration(cooldown)}"
        if manual:
            reasons.append(f"manual trigger overrides the cooldown ({text})")
            return True
        reasons.append(f"cooldown: {text}; alert only, no retrain")
        return False


@dataclass
class AlertDecision:
    """What the policy decided for one batch, and why.

    Attributes:
        alert: raise an alert (print, log, webhook).
        retrain: retrain now (an alert outside the cooldown, or a manual trigger).
        reasons: human-readable reasons, in the order they were found.
        weighted_share: the (importance-weighted when possible) share of drifted columns.
        drifting: the batch counts as drifting.
        judged: the batch was big enough to judge drift.
        consecutive: drifting batches in a row, this one included (0 if not drifting).
        triggers: what fired: any of ``"drift"``, ``"score_drop"``, ``"manual"``.
        drifted_columns: the check's drifted columns.
        batch_rows: rows in the batch.
    """

    alert: bool
    retrain: bool
    reasons: list[str]
    weighted_share: float
    drifting: bool = False
    judged: bool = True
    consecutive: int = 0
    triggers: list[str] = field(default_factory=list)
    drifted_columns: list[str] = field(default_factory=list)
    batch_rows: int = 0

    @property
    def reason(self) -> str:
        """The reasons as one line."""
        return "; ".join(self.reasons)

    @property
    def check_decision(self) -> str:
        """The ``decision`` of this batch's ``check`` event: drift, no_drift or too_small."""
        if not self.judged:
            return DECISION_TOO_SMALL
        return DECISION_DRIFT if self.drifting else DECISION_NO_DRIFT

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    def check_event_fields(self, result: DriftResult | None = None) -> dict[str, Any]:
        """``decision``, ``reason``, ``scores`` and ``details`` for this batch's check event.

        The policy later reads ``details.drifting`` / ``details.judged`` back to count
        consecutive drifting batches. Add project, batch, batch_rows and model versions.
        """
        details: dict[str, Any] = {
            "drifting": self.drifting,
            "judged": self.judged,
            "alert": self.alert,
            "retrain": self.retrain,
            "consecutive": self.consecutive,
            "triggers": list(self.triggers),
            "weighted_share": self.weighted_share,
            "drifted_columns": list(self.drifted_columns),
        }
        scores: dict[str, float] = {"weighted_share": self.weighted_share}
        if result is not None:
            details["drift_detected"] = result.drift_detected
            scores["share_drifted"] = result.share_drifted
        return {
            "decision": self.check_decision,
            "reason": self.reason,
            "scores": scores,
            "details": details,
        }


def previous_drifting_batches(events: list[dict[str, Any]]) -> int:
    """Drifting ``check`` events in a row at the end of the log.

    Counting stops at a non-drifting check or at a retrain/promotion (a new model starts
    afresh); checks of batches too small to judge neither count nor break the run.
    """
    count = 0
    for event in reversed(events):
        kind = event.get("kind")
        if kind in RESET_KINDS:
            break
        if kind != "check":
            continue
        details = event.get("details") or {}
        if details.get("judged") is False or event.get("decision") == DECISION_TOO_SMALL:
            continue
        drifting = details.get("drifting", event.get("decision") == DECISION_DRIFT)
        if not drifting:
            break
        count += 1
    return count


def last_retrain_time(events: list[dict[str, Any]]) -> datetime | None:
    """Time of the latest retrain-related event (started, done, failed or promoted)."""
    times = [parse_time(e["time"]) for e in events if e.get("kind") in RETRAIN_KINDS]
    return max(times) if times else None


def _duration(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours >= 1:
        return f"{hours:.0f}h" if abs(hours - round(hours)) < 0.05 else f"{hours:.1f}h"
    return f"{max(delta.total_seconds() / 60, 0):.0f}min"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_share(name: str, value: Any) -> None:
    if not _is_number(value) or not 0 < value <= 1:
        raise BadInputError(f"monitor.{name} must be in (0, 1], but got {value!r}.")


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise BadInputError(f"monitor.{name} must be an integer >= {minimum}, but got {value!r}.")
