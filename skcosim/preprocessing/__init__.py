"""Transformers that sit in a Pipeline around skcosim's autoencoders."""

from ._popularity import PopularityScaler
from ._projected import ProjectedEmbedding, project_factors

__all__ = ["PopularityScaler", "ProjectedEmbedding", "project_factors"]
