"""skcosim: is the cosine similarity of your embeddings about similarity?

scikit-learn compatible linear autoencoders, metrics and tools after
H. Steck, C. Ekanadham and N. Kallus, "Is Cosine-Similarity of Embeddings
Really About Similarity?" (WWW'24 Companion, arXiv:2403.05440).
"""

from .autoencoders import (
    CosineAutoencoder,
    DropoutAutoencoder,
    WeightDecayAutoencoder,
)

__version__ = "0.1.0"

__all__ = [
    "CosineAutoencoder",
    "DropoutAutoencoder",
    "WeightDecayAutoencoder",
    "__version__",
]
