"""Shared test settings: a fixed hypothesis profile and an independent reference.

The ``"ci"`` hypothesis profile is loaded by default so that every run draws the
same examples (``derandomize=True``) and the property tests stay bounded in
time; set ``HYPOTHESIS_PROFILE=dev`` locally for a longer random search.
"""

import os

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=50,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _dense(X):
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    return X.astype(np.float64)


def _gauge_free_reference(estimator, X):
    """Gauge-free matrices of the model ``estimator`` describes, fitted on ``X``.

    Computed from scratch with ``numpy.linalg`` (dense SVD, pseudo-inverse),
    independently of skcosim's solvers, from docs/user_guide/objectives.rst:

    - Objective 2: ``A B^T = V diag(h / s) V^T`` and ``B B^T = V diag(h) V^T``,
      ``h = (s - alpha)_+``;
    - Objective 1: ``A B^T = V diag(g) V^T``, ``g = s^2 / (s^2 + alpha)``;
    - exact dropout: ``A B^T = W Q_k Q_k^T`` with ``W = (G + Lambda)^+ G`` and
      ``Q_k`` the top eigenvectors of ``G W``.

    Components with a numerically zero singular value are dropped (they are
    zero in every model). Returns a dict with key ``"AB"`` and, for
    Objective 2, ``"BB"``.
    """
    X = _dense(X)
    params = estimator.get_params()
    k, alpha = params["n_components"], float(params["alpha"])
    name = type(estimator).__name__
    if name == "DropoutAutoencoder" and params.get("dropout"):
        q = params["dropout"]
        G = X.T @ X
        lam = q / (1 - q) * np.diag(G) + alpha
        W = np.linalg.pinv(G + np.diag(lam)) @ G
        M = G @ W
        w, Q = np.linalg.eigh((M + M.T) / 2)
        order = np.argsort(w)[::-1][:k]
        w, Q = w[order], Q[:, order]
        Q = Q[:, w > max(w.max(initial=0), 0) * max(X.shape) * 1e-12]
        return {"AB": W @ Q @ Q.T}
    _, s, Vt = np.linalg.svd(X, full_matrices=False)
    keep = s > s.max(initial=0) * max(X.shape) * np.finfo(float).eps
    s, V = s[keep][:k], Vt[keep][:k].T
    if name == "WeightDecayAutoencoder":
        h = np.clip(s - alpha, 0, None)
        return {"AB": (V * (h / s)) @ V.T, "BB": (V * h) @ V.T}
    if name == "DropoutAutoencoder":
        return {"AB": (V * (s**2 / (s**2 + alpha))) @ V.T}
    raise ValueError(f"no closed-form reference for {name}")


@pytest.fixture
def gauge_free_reference():
    """The function ``_gauge_free_reference(estimator, X)``."""
    return _gauge_free_reference


@pytest.fixture
def small_binary():
    """A 25 x 9 binary matrix with 9 distinct nonzero singular values."""
    rng = np.random.RandomState(0)
    return (rng.rand(25, 9) < 0.4).astype(np.float64)


@pytest.fixture
def embedding():
    rng = np.random.RandomState(0)
    return rng.randn(60, 5)


@pytest.fixture(scope="module")
def client():
    """A 2-worker ``distributed.LocalCluster`` (processes, loopback only) and
    its client, one per test module that asks for it."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client
