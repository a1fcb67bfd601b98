"""CosineAutoencoder trains on long-tailed logs, and says so when it cannot.

The awkward log: a clustered power-law core plus isolated communities whose
users' Objective 2 start embedding ``X A`` is zero (the components carrying
their items are cut by ``init_alpha``), users with a single interaction, an
item nobody used (an all-zero column) and a stored explicit zero.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from skcosim import CosineAutoencoder, WeightDecayAutoencoder
from skcosim._linalg._spectrum import top_k_spectrum
from skcosim.datasets import make_clustered_interactions

K = 10
TEMPERATURE = 0.1
FLOOR = 1e-3  # the documented floor, in units of the start's mean row norm


def _awkward_log(seed=0):
    rng = np.random.default_rng(seed)
    core = make_clustered_interactions(
        300, 60, 3, n_interactions=6, random_state=seed
    ).data
    rows, cols = [], []
    for c in range(4):  # 4 isolated communities of 12 users and 4 items
        for u in range(12):
            extra = rng.choice(4, size=rng.integers(0, 2), replace=False)
            items = np.union1d([u % 4], extra)
            rows += [c * 12 + u] * len(items)
            cols += list(c * 4 + items)
    corner = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(48, 16))
    X = sp.block_diag([core, corner, sp.csr_matrix((0, 1))]).tocoo()
    # The last item: nobody used it, one user holds a stored explicit zero.
    X = sp.csr_matrix(
        (np.r_[X.data, 0.0], (np.r_[X.row, 347], np.r_[X.col, 76])), shape=(348, 77)
    )
    assert X.nnz == X.data.size and X[347, 76] == 0 and 76 in X.indices
    return X


@pytest.fixture(scope="module")
def awkward():
    X = _awkward_log()
    s, _ = top_k_spectrum(X, K, random_state=0)
    # The audit's alpha: the median of the top-k singular values.
    alpha = float(min(np.median(s[s > 0]), s[0] / 2))
    return X, alpha


def _dense_softmax_loss(X, A, B, temperature=TEMPERATURE, floor=FLOOR):
    """Reference: the exact softmax loss from dense arrays, row by row."""
    Xd = np.asarray(X.todense())
    Z = Xd @ A
    P = Z / np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), floor)
    Q = B / np.maximum(np.linalg.norm(B, axis=1, keepdims=True), floor)
    S = P @ Q.T / temperature
    m = S.max(axis=1, keepdims=True)
    log_softmax = S - m - np.log(np.exp(S - m).sum(axis=1, keepdims=True))
    return float(-(Xd * log_softmax).sum())


def _scaled_start(X, A, B):
    """Factors scaled as the fit scales its start: mean user norm 1, unit items."""
    norms = np.linalg.norm(np.asarray(X @ A), axis=1)
    A = A / norms[norms > 0].mean()
    Bn = np.linalg.norm(B, axis=1, keepdims=True)
    return A, B / np.where(Bn > 0, Bn, 1.0)


def _jaccard_at_10(E1, E2):
    """Reference: mean Jaccard of the top-10 cosine neighbours, brute force."""

    def top(E):
        n = np.linalg.norm(E, axis=1, keepdims=True)
        U = E / np.where(n > 0, n, 1.0)
        C = U @ U.T
        np.fill_diagonal(C, -np.inf)
        return [set(np.argsort(-row, kind="stable")[:10]) for row in C]

    return np.mean(
        [len(a & b) / len(a | b) for a, b in zip(top(E1), top(E2), strict=True)]
    )


@pytest.mark.catalogue(
    "E61",
    input=(
        "``CosineAutoencoder`` (default start and loss) on a long-tailed log with "
        "users whose Objective 2 start embedding is zero"
    ),
    outcome=(
        "Trains: its exact loss falls by more than 20 % from the start and its "
        "top-10 neighbours move (overlap with the start below 0.6), without a "
        "warning"
    ),
)
def test_fit_leaves_the_start_on_a_log_with_zero_start_users(awkward):
    """E61: users with ``X A = 0`` at the start no longer stall the fit.

    Under the former absolute floor (1e-12) their gradient was 1e12 times
    their unnormalized one: the fit gained 3.7 % here and kept every
    neighbour of its start (overlap 1.0).
    """
    X, alpha = awkward
    start = WeightDecayAutoencoder(K, alpha=alpha).fit(X)
    Z = np.asarray(X @ start.encoder_)
    zero_users = np.linalg.norm(Z, axis=1) < 1e-10 * np.abs(Z).max()
    assert zero_users.sum() >= 40  # the awkward part is there
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = CosineAutoencoder(K, init_alpha=alpha, loss="softmax").fit(X)
    before = _dense_softmax_loss(X, *_scaled_start(X, start.encoder_, start.decoder_))
    after = _dense_softmax_loss(X, model.encoder_, model.decoder_)
    assert (before - after) / before > 0.2
    active = np.asarray((X != 0).sum(axis=0)).ravel() > 0
    overlap = _jaccard_at_10(start.decoder_[active], model.decoder_[active])
    assert overlap < 0.6
    # The curve describes the returned model and its start.
    assert_allclose(after, model.loss_curve_[-1], rtol=1e-9)
    assert_allclose(before, model.loss_curve_[0], rtol=0.05)  # same start, filled
    assert model.fit_warning_ is None


@pytest.mark.catalogue(
    "E62",
    input=(
        "``CosineAutoencoder`` whose Objective 2 start cuts components "
        "(``s_i <= init_alpha``)"
    ),
    outcome=(
        "Trains all ``n_components``: the loss changes to first order along "
        "every column of both factors at the start, and every column moves"
    ),
)
def test_start_has_no_zero_column_saddle(awkward):
    """E62: the cut components are put back at a small scale.

    Zero columns in both factors are a saddle: the gradient in a column is
    proportional to the same column of the other factor, so they stayed zero
    forever (half of the components on a real dependency graph).
    """
    X, alpha = awkward
    s, _ = top_k_spectrum(X, K, random_state=0)
    assert np.sum(s > alpha) < K  # the start cuts components
    model = CosineAutoencoder(K, init_alpha=alpha, loss="softmax")
    A, B, _ = model._start(X, init_alpha=alpha, has_data=True)
    A, B = _scaled_start(X, A, B)
    rng = np.random.default_rng(0)
    h = 1e-4
    f0 = _dense_softmax_loss(X, A, B)
    for j in range(K):
        for which in (0, 1):
            D = np.zeros_like(A)
            D[:, j] = rng.standard_normal(A.shape[0])
            plus = [A + h * D, B] if which == 0 else [A, B + h * D]
            minus = [A - h * D, B] if which == 0 else [A, B - h * D]
            slope = (_dense_softmax_loss(X, *plus) - _dense_softmax_loss(X, *minus)) / (
                2 * h
            )
            # A zero-column saddle has slope 0 to rounding (~1e-12 f0 / h).
            assert abs(slope) > 1e-6 * f0, (j, which)
    fitted = CosineAutoencoder(K, init_alpha=alpha, loss="softmax").fit(X)
    moved_A = np.linalg.norm(fitted.encoder_ - A, axis=0)
    assert np.all(moved_A > 1e-3 * np.linalg.norm(A, axis=0).max())
    assert np.all(np.linalg.norm(fitted.decoder_, axis=0) > 1e-2)


@pytest.mark.catalogue(
    "E63",
    input=(
        "``CosineAutoencoder`` fits that stop near their start: ``max_iter=1``, "
        "a ``tol`` that stops after one iteration, a stalled line search"
    ),
    outcome=(
        "Warns: a ``ConvergenceWarning`` with the loss gain and gradient, "
        "stored in ``fit_warning_``"
    ),
)
@pytest.mark.parametrize(
    "params, match",
    [
        ({"max_iter": 1}, "max_iter=1"),
        ({"tol": 0.05}, "stopped close to its start"),
    ],
)
def test_a_fit_that_stops_near_its_start_warns(awkward, params, match):
    """E63: a crippled fit says so, and the reason is kept for the audit."""
    X, alpha = awkward
    model = CosineAutoencoder(K, init_alpha=alpha, loss="softmax", **params)
    with pytest.warns(ConvergenceWarning, match=match) as record:
        model.fit(X)
    assert model.fit_warning_ is not None and match in model.fit_warning_
    assert model.fit_warning_ == " ".join(str(record[-1].message).split())


@pytest.mark.catalogue("E63b", part_of="E63")
def test_a_stalled_fit_warns(awkward, monkeypatch):
    """E63b: with the former absolute floor the fit stalls; the check sees it."""
    import skcosim.autoencoders._cosine as cosine_module

    X, alpha = awkward
    monkeypatch.setattr(cosine_module, "NORM_FLOOR", 1e-12)
    model = CosineAutoencoder(K, init_alpha=alpha, loss="softmax")
    with pytest.warns(ConvergenceWarning, match="relative gradient"):
        model.fit(X)
    assert "stopped close to its start" in model.fit_warning_


def test_warm_start_at_a_solution_does_not_warn(awkward):
    X, alpha = awkward
    model = CosineAutoencoder(K, init_alpha=alpha, loss="softmax", warm_start=True)
    model.fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(X)
    assert model.fit_warning_ is None


@pytest.mark.catalogue(
    "E64",
    input="``CosineAutoencoder(loss='auto')`` on 48,880 users x 3,283 items",
    outcome=(
        "Correct: the sampled softmax (one exact evaluation would cost n p k "
        "= 1.6e8 k); MovieLens-sized data keeps the exact softmax"
    ),
)
def test_auto_loss_follows_the_cost_of_an_exact_evaluation():
    """E64: ``loss="auto"`` is decided by ``n_samples * n_features``."""
    model = CosineAutoencoder()
    assert model._resolved_loss(48_880, 3_283) == "sampled_softmax"
    assert model._resolved_loss(10**6, 500) == "sampled_softmax"
    assert model._resolved_loss(943, 1_682) == "softmax"
    assert model._resolved_loss(20_000, 1_000) == "softmax"
