"""The linear autoencoders: Objectives 1, 2 and 3 of the user guide.

Each reconstructs ``X A B^T`` (:ref:`objectives`) and shares the transformer,
recommender and item-embedding API of their base class.
"""

from ._cosine import CosineAutoencoder
from ._dropout import DropoutAutoencoder
from ._weight_decay import WeightDecayAutoencoder

__all__ = ["CosineAutoencoder", "DropoutAutoencoder", "WeightDecayAutoencoder"]
