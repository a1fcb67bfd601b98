"""Plots in scikit-learn's Display style (matplotlib is imported lazily).

``SimilarityMatrixDisplay`` shows item-item cosine heatmaps (the paper's
Figure 1); ``NeighborStabilityDisplay`` shows neighbour stability against a
swept parameter, like scikit-learn's ``ValidationCurveDisplay``.
"""

from ._similarity import SimilarityMatrixDisplay, cluster_order
from ._stability_curve import NeighborStabilityDisplay

__all__ = ["NeighborStabilityDisplay", "SimilarityMatrixDisplay", "cluster_order"]
