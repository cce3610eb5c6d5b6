"""halfcost: the cheapest model that is good enough, kept good, with the bill to prove it.

Subpackages:
    halfcost.automl      cheapest-model search, cost measurement, data cleaning.
    halfcost.drift       drift checks, alert policy, DVC retraining and promotion.
    halfcost.governance  the registry of teams, projects, datasets, models, costs; ROI.
    halfcost.app         the Streamlit app for managers.
"""

from __future__ import annotations

import os

__version__ = "0.1.0"

# Nothing halfcost runs may phone home. setdefault keeps an explicit user choice.
for _name, _value in (
    ("DO_NOT_TRACK", "1"),  # Evidently
    ("GX_ANALYTICS_ENABLED", "false"),  # Great Expectations
    ("DVC_NO_ANALYTICS", "1"),  # DVC
    ("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false"),  # Streamlit
    # MLflow 3 reads DO_NOT_TRACK only when it is "true", so its own switch is set too
    ("MLFLOW_DISABLE_TELEMETRY", "true"),  # MLflow
):
    os.environ.setdefault(_name, _value)

__all__ = ["__version__"]
