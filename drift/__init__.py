"""Drift monitoring with Evidently, the alert policy, and retraining through DVC.

Public names are imported lazily (see :mod:`halfcost._lazy`).
"""

from halfcost._lazy import lazy_exports

_EXPORTS = {
    # monitoring: profiles, checks, policy, event log, alert sinks
    "ReferenceProfile": "_profile",
    "build_profile": "_profile",
    "load_profile": "_profile",
    "check_drift": "_check",
    "summarized_warnings": "_check",
    "load_reference": "_profile",
    "DriftResult": "_check",
    "self_contained_html": "_html",
    "AlertPolicy": "_policy",
    "AlertDecision": "_policy",
    "EventLog": "_events",
    "AlertSink": "_sinks",
    "PrintSink": "_sinks",
    "WebhookSink": "_sinks",
    "MLflowSink": "_mlflow_sink",
    "notify": "_sinks",
    # the pipeline: project layout, champions, watch, history, init
    "Project": "_project",
    "ChampionStore": "_champions",
    "watch_batch": "_watch",
    "history": "_history",
    "format_history": "_history",
    "prepare": "_prepare",
    "init_project": "_init",
    "run_drift_demo": "_demo",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
