"""The MLflow pyfunc model of a halfcost model folder (an MLflow "model from code").

``export_mlflow`` hands this file to ``mlflow.pyfunc.save_model`` as the model's code,
so the MLflow model holds no pickle: MLflow runs this file, which builds
:class:`HalfcostPyfunc`, and ``load_context`` loads the halfcost folder kept as an
artifact with :func:`load_model` (whose type checks apply).
"""

from __future__ import annotations

import mlflow
import pandas as pd


class HalfcostPyfunc(mlflow.pyfunc.PythonModel):
    """Predicts like ``halfcost predict``: ``prediction`` plus ``proba_<class>`` columns."""

    def load_context(self, context) -> None:
        """Load the halfcost model folder stored as the ``model`` artifact."""
        from halfcost.automl import load_model

        self.model = load_model(context.artifacts["model"])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        """One row per input row, in input order."""
        frame = pd.DataFrame(model_input)
        result = pd.DataFrame({"prediction": self.model.predict(frame)})
        if self.model.is_classifier:
            proba = self.model.predict_proba(frame)
            for i, cls in enumerate(self.model.classes_):
                result[f"proba_{cls}"] = proba[:, i]
        return result


mlflow.models.set_model(HalfcostPyfunc())
