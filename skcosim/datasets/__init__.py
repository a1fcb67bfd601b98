"""Data for skcosim: simulated interactions and a loader for your own logs."""

from ._load import load_interactions
from ._simulate import make_clustered_interactions

__all__ = ["load_interactions", "make_clustered_interactions"]
