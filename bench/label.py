"""Benchmark: halfcost's active-learning strategies against random labelling and scikit-activeml.

The data sets and their generators were fixed before any strategy was tuned, and are not
changed afterwards (see :data:`LABEL_SETS`): three offline sets of different sizes, class
balance and column types, one of them with at least 50k rows.
"""

from __future__ import annotations

#: (data set name in bench._datasets, rows; None = the set's own size). Fixed before tuning.
LABEL_SETS: tuple[tuple[str, int | None], ...] = (
    ("breast_cancer", None),  # 569 rows, 30 numeric columns, binary 63/37, accuracy
    ("segments", 30_000),  # 5 imbalanced classes, strings + numbers, 4% noisy labels, accuracy
    ("fraud", 60_000),  # ~5% positives, high-cardinality strings, ROC AUC
)
