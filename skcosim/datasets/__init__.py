"""Data for skcosim: simulated interactions and a loader for your own logs."""

from ._simulate import make_clustered_interactions

__all__ = ["make_clustered_interactions"]
