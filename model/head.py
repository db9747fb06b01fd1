"""The trained head: a scikit-learn pipeline (standardise, then multinomial logistic regression)
over the backbone's frozen 1280 features. A plain estimator, no I/O: fit, predict_proba,
pickle, compare."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

C = 1.0  # inverse L2 strength: scikit-learn's default, kept until a snapshot shows better
MAX_ITER = 2000


def fit_head(features: np.ndarray, labels: np.ndarray, seed: int) -> Pipeline:
    """The head fitted on the features; the same features, labels and seed give the same head
    (lbfgs is deterministic; the seed reaches the one random_state there is)."""
    head = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=C, max_iter=MAX_ITER, random_state=seed),
    )
    return head.fit(features, labels)


def params(head: Pipeline, seed: int) -> dict[str, str | int | float]:
    """The head's hyperparameters, as a run records them."""
    regression = head[-1]
    return {"head": "StandardScaler+LogisticRegression", "head.C": regression.C,
            "head.max_iter": regression.max_iter, "head.solver": regression.solver, "seed": seed}
