"""The registry of what ML costs and returns: teams, projects, datasets, models, costs, value.

Public names are imported lazily (see :mod:`halfcost._lazy`), so importing this package
does not load SQLAlchemy or pandas until a name is used.
"""

from halfcost._lazy import lazy_exports

_EXPORTS = {
    # connecting and migrating
    "connect": "_db",
    "migrate": "_db",
    "ensure_schema": "_db",
    "upgrade": "_db",
    "resolve_url": "_db",
    "describe_url": "_db",
    "require_schema": "_db",
    "create_reader_role": "_db",
    # writing: ingestion, cost import, manual records, seeded history
    "ingest": "_ingest",
    "REVIEW_COST_PER_ROW_USD": "_ingest",
    "ingest_into": "_ingest",
    "IngestContext": "_ingest",
    "ReportReader": "_ingest",
    "DEFAULT_READERS": "_ingest",
    "IngestResult": "_ingest",
    "import_costs": "_costs",
    "import_costs_into": "_costs",
    "add_team": "_add",
    "add_project": "_add",
    "add_dataset": "_add",
    "add_value": "_add",
    "add_use": "_add",
    "add_cost": "_add",
    "seed_history": "_seed",
    "fill_demo_registry": "_demo",
    # reading: what the app and `registry report` show
    "Filters": "_queries",
    "Overview": "_queries",
    "registry_is_empty": "_queries",
    "change_marker": "_queries",
    "lever_estimate": "_queries",
    "list_teams": "_queries",
    "list_projects": "_queries",
    "date_bounds": "_queries",
    "overview": "_queries",
    "savings_by_month": "_queries",
    "projects_table": "_queries",
    "teams_table": "_queries",
    "project_detail": "_queries",
    "datasets_reuse": "_queries",
    "dataset_usage": "_queries",
    "dataset_usage_by_team": "_queries",
    "models_inventory": "_queries",
    "pareto_points": "_queries",
    "drift_timeline": "_queries",
    "drift_reports": "_queries",
    "provenance_counts": "_queries",
    "evidence_file": "_queries",
    "PROVENANCES": "_models",
    "build_report": "_report",
    # the arithmetic
    "roi": "_roi",
    "roi_note": "_roi",
    "MIN_SPEND_FOR_ROI": "_roi",
    "FORMULAS": "_roi",
    "payback_months": "_roi",
    "cost_per_1k_predictions": "_roi",
    "cheaper_model_saving": "_roi",
    "reuse_avoided_cost": "_roi",
    "labeling_saved": "_roi",
    "cleaning_saved": "_roi",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
