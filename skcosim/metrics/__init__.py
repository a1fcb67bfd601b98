"""Neighbour-stability and ranking metrics."""

from ._neighbors import cosine_neighbors

__all__ = ["cosine_neighbors"]
