"""Cheapest-model search, cost measurement and automated data cleaning.

Public names are imported lazily (see :mod:`halfcost._lazy`), so importing this package
is instant and scikit-learn or Great Expectations load only when used.
"""

from halfcost._lazy import lazy_exports

_EXPORTS = {
    # the search (issue: foundation and cheapest-model search)
    "CheapestModelSearch": "_search",
    "run_worker": "_search_worker",
    "SearchWarning": "_search",
    "write_report": "_report",
    "get_metric": "_metrics",
    "ModelFamily": "_families",
    "default_families": "_families",
    "measure_cost": "_cost",
    "CostMeasurement": "_cost",
    "METRICS": "_metrics",
    "score": "_metrics",
    "HalfcostModel": "_model_io",
    "load_model": "_model_io",
    "save_model": "_model_io",
    "evaluate_model": "_evaluate",
    # serving (issue 14)
    "export_onnx": "_onnx",
    "OBJECTIVES": "_cost",
    "RUNTIMES": "_cost",
    # data cleaning with Great Expectations
    "learn_suite": "_clean_profile",
    "save_suite": "_clean_profile",
    "load_suite": "_clean_profile",
    "CleaningPolicy": "_clean_policy",
    "clean_frame": "_clean",
    "check_columns": "_clean",
    "CleanResult": "_clean",
    "inject_errors": "_clean_inject",
    "write_clean_outputs": "_clean_report",
    # active learning (issue 11)
    "LabelSelector": "_label",
    "QueryStrategy": "_label",
    "STRATEGIES": "_label",
    "select_rows": "_label",
    "picks_as_read": "_label",
    "LabelingSimulation": "_label_simulate",
    "labeling_report": "_label_report",
    "write_labeling_outputs": "_label_report",
    "read_exact_table": "_clean_report",
    "make_entities": "_clean_entities",
    # serving and export (issue 14)
    "create_app": "_serve",
    "serve_model": "_serve",
    "cost_card": "_model_card",
    "export_mlflow": "_mlflow",
    "log_search": "_mlflow",
    "mlflow_tracking_uri": "_mlflow",
    "require_mlflow": "_mlflow",
    "dirty_entities": "_clean_entities",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
