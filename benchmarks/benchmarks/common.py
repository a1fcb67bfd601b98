"""Data shared by the asv benchmarks (the generator of ``benchmarks/_data.py``)."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _data import make_powerlaw


def interactions(n_users, n_items, nnz_per_user=12, dtype=np.float64):
    """A power-law binary CSR matrix, deterministic (seed 0)."""
    return make_powerlaw(
        n_users, n_items, n_users * nnz_per_user, dtype=dtype, random_state=0
    )


def embeddings(n_rows, dim=64, n_clusters=50):
    """Clustered float32 embeddings (``n_clusters`` Gaussian centres)."""
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((n_clusters, dim)).astype(np.float32)
    noise = rng.standard_normal((n_rows, dim), dtype=np.float32)
    return centres[rng.integers(0, n_clusters, n_rows)] + noise
