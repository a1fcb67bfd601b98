"""Neighbour-stability and ranking metrics, and scorers for model selection.

Every neighbour metric uses :func:`cosine_neighbors` (user guide:
:ref:`stability`).
"""

from ._available import NOT_AVAILABLE
from ._factors import factor_gauge_stability
from ._gauge import apply_gauge, sample_gauge
from ._labels import neighbor_label_agreement
from ._neighbors import cosine_neighbors
from ._overlap import neighbor_overlap
from ._ranking import ndcg_at_k, recall_at_k
from ._restart import restart_stability
from ._scorers import make_ndcg_scorer, make_recall_scorer, make_stability_scorer
from ._stability import gauge_stability, resample_stability

__all__ = [
    "NOT_AVAILABLE",
    "apply_gauge",
    "cosine_neighbors",
    "factor_gauge_stability",
    "gauge_stability",
    "make_ndcg_scorer",
    "make_recall_scorer",
    "make_stability_scorer",
    "ndcg_at_k",
    "neighbor_label_agreement",
    "neighbor_overlap",
    "recall_at_k",
    "resample_stability",
    "restart_stability",
    "sample_gauge",
]
