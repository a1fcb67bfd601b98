"""The parameters of a gradient fit: float64 data, a random start, one vector.

Parameters are packed as ``[A.ravel(), B.ravel()]`` in float64.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def as_float64(X):
    """``X`` in float64 (CSR when sparse), the precision every loss is computed in."""
    if sp.issparse(X):
        return sp.csr_matrix(X, dtype=np.float64)
    return np.asarray(X, dtype=np.float64)


def random_factors(n_features, n_components, init_scale, random_state):
    """``A, B`` with independent ``N(0, init_scale^2)`` entries (float64)."""
    A = random_state.normal(0.0, init_scale, size=(n_features, n_components))
    B = random_state.normal(0.0, init_scale, size=(n_features, n_components))
    return A, B


def pack(A, B):
    """``[A.ravel(), B.ravel()]`` in float64."""
    return np.concatenate([A.ravel(), B.ravel()]).astype(np.float64, copy=False)


def unpack(theta, n_features, n_components):
    """Inverse of :func:`pack` (views, no copy)."""
    size = n_features * n_components
    A = theta[:size].reshape(n_features, n_components)
    B = theta[size:].reshape(n_features, n_components)
    return A, B
