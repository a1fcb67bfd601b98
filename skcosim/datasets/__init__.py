"""Data for skcosim: simulated interactions, a loader for your own logs and
item labels, and the k-core filter of recommender-system benchmarks."""

from ._filter import filter_interactions
from ._load import load_interactions, load_item_labels
from ._simulate import make_clustered_interactions

__all__ = [
    "filter_interactions",
    "load_interactions",
    "load_item_labels",
    "make_clustered_interactions",
]
