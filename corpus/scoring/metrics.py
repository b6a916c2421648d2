"""Held-out metrics of a scoring classifier: rank correlation, AUC at the decision threshold,
F1 per bin and the confusion table of true vs predicted bins (scipy / scikit-learn)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from corpus.scoring import bins


def evaluate(
    labels: np.ndarray, scores: np.ndarray, threshold: float, edges: Sequence[float]
) -> dict[str, Any]:
    """Metrics of predicted ``scores`` against true ``labels`` (both float arrays, same length).

    * ``spearman``: Spearman's rho of scores vs labels (None when either is constant);
    * ``auc``: ROC AUC of ``scores`` for the binary task ``label >= threshold`` (None when the
      held-out rows hold one class only);
    * ``f1_per_bin``: F1 of predicted bin (the bin of the score) vs true bin, per bin;
    * ``confusion``: ``confusion[i][j]`` = rows of true bin i predicted in bin j;
    * ``mae``: mean absolute error of the score.
    """
    from scipy.stats import spearmanr
    from sklearn.metrics import confusion_matrix, f1_score, roc_auc_score

    labels = np.asarray(labels, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    n_bins = len(edges) + 1
    true_bin, pred_bin = bins.assign(labels, edges), bins.assign(scores, edges)
    positive = labels >= threshold
    constant = len(labels) < 2 or np.ptp(labels) == 0 or np.ptp(scores) == 0
    rho = None if constant else float(spearmanr(labels, scores).statistic)
    auc = float(roc_auc_score(positive, scores)) if 0 < positive.sum() < len(labels) else None
    f1 = f1_score(true_bin, pred_bin, labels=list(range(n_bins)), average=None, zero_division=0)
    return {
        "n": len(labels),
        "threshold": threshold,
        "positives": int(positive.sum()),
        "spearman": rho,
        "auc": auc,
        "mae": float(np.abs(labels - scores).mean()) if len(labels) else None,
        "f1_per_bin": [round(float(x), 4) for x in f1],
        "confusion": confusion_matrix(true_bin, pred_bin, labels=list(range(n_bins))).tolist(),
    }
