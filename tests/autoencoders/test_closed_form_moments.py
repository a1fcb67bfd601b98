"""The closed forms' bookkeeping from the spectrum: ``loss_curve_``, the unseen
items' rows and TruncatedSVD's attributes without a product with ``X`` after
the spectrum, equal to a dense numpy computation from the fitted factors."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.utils import extmath

import skcosim.autoencoders._base as base_module
import skcosim.autoencoders._dropout as dropout_module
import skcosim.autoencoders._explained as explained_module
import skcosim.autoencoders._weight_decay as weight_decay_module
from skcosim import DropoutAutoencoder, WeightDecayAutoencoder
from skcosim._linalg import _matrix

RTOL = 1e-10


def _awkward(kind, seed=0):
    """Dense float64 users x items: long-tailed items and counts, unseen items,
    a user with a single interaction; ``"rank-deficient"``: rank 6, below
    ``n_components`` (and no single-interaction user, which would add one)."""
    rng = np.random.RandomState(seed)
    n, p = 150, 40
    popularity = 1.0 / np.arange(1, p + 1) ** 1.2  # long-tailed items
    activity = rng.lognormal(0, 1, size=n)[:, None]
    X = (rng.rand(n, p) < np.clip(0.6 * activity * popularity, 0, 0.9)).astype(float)
    X *= np.floor(rng.pareto(1.5, size=(n, p)) + 1)  # long-tailed counts
    if kind == "rank-deficient":
        X = X[:, :6] @ np.floor(rng.pareto(1.0, size=(6, p)) + 1)
    X[:, [5, 17, 33]] = 0  # unseen items
    X[0] = 0
    if kind != "rank-deficient":
        X[0, 2] = 1  # a user with a single interaction
    return X


def _as_input(X, container, dtype):
    """``X`` in ``dtype``, dense or sparse; sparse with stored zeros, in seen
    items and in an unseen one (not interactions: the same fit as without)."""
    X = X.astype(dtype)
    if container == "dense":
        return X
    rows, cols = np.nonzero(X[:20] == 0)
    rows, cols = np.r_[rows, np.arange(7)], np.r_[cols, np.full(7, 5)]
    coo = sp.coo_matrix(X)
    S = sp.csr_matrix(
        (
            np.r_[coo.data, np.zeros(rows.size, dtype)],
            (np.r_[coo.row, rows], np.r_[coo.col, cols]),
        ),
        shape=X.shape,
    )
    assert S.nnz > np.count_nonzero(X)
    return S if container == "csr" else S.tocsc()


def _reference(model, X):
    """The attributes from the fitted factors, densely in float64, with numpy
    only: ``(loss, components, explained variance, ratio)``."""
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    A = model.encoder_.astype(np.float64)
    B = model.decoder_.astype(np.float64)
    P = X @ A
    X_hat = P @ B.T
    loss = np.sum((X - X_hat) ** 2)
    if isinstance(model, WeightDecayAutoencoder):
        loss += model.alpha * (np.sum(P**2) + np.sum(B**2))
    else:  # Objective 1: alpha ||A B^T||^2
        loss += model.alpha * np.sum((A @ B.T) ** 2)
    _, S, Vt = np.linalg.svd(X_hat, full_matrices=False)
    k = model.n_components
    components = Vt[:k].copy()
    # Directions the reconstruction does not use are zero.
    components[S[:k] ** 2 <= S[0] ** 2 * 1e-12] = 0
    peak = np.abs(components).argmax(axis=1)
    signs = np.sign(components[np.arange(k), peak])
    components *= np.where(signs == 0, 1, signs)[:, None]
    variance = np.var(X_hat @ components.T, axis=0)
    ratio = variance / np.var(X, axis=0).sum()
    return loss, components, variance, ratio


ESTIMATORS = [
    pytest.param(WeightDecayAutoencoder, id="weight-decay"),
    pytest.param(DropoutAutoencoder, id="dropout"),
]


@pytest.mark.catalogue(
    "E90",
    input=(
        "A closed form (Objectives 1 and 2, exact solvers) on long-tailed "
        "counts with unseen items, a single-interaction user, stored zeros, "
        "a rank below ``n_components``; float64 and float32, dense, CSR, CSC"
    ),
    outcome=(
        "Correct: ``loss_curve_``, ``components_``, ``explained_variance_``, "
        "``explained_variance_ratio_`` and ``singular_values_`` equal a dense "
        "numpy computation from the fitted factors to ``1e-10`` (float32 "
        "factors and values: to their own precision), unseen items' rows "
        "exactly zero"
    ),
)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("kind", ["long-tailed", "rank-deficient"])
@pytest.mark.parametrize("container", ["dense", "csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver", ["auto", "arpack"])
def test_closed_form_attributes_equal_a_dense_reference(
    Estimator, kind, container, dtype, solver
):
    """E90: the closed forms' bookkeeping from the spectrum equals a dense
    numpy computation from the fitted factors."""
    X_dense = _awkward(kind)
    X = _as_input(X_dense, container, dtype)
    model = Estimator(n_components=12, alpha=1.0, solver=solver, random_state=0)
    model.fit(X)
    loss, components, variance, ratio = _reference(model, X_dense.astype(dtype))
    # float32 factors and singular values carry float32 rounding; the sums
    # over them are float64 either way.
    tol = RTOL if dtype == np.float64 else 1e-5
    assert model.n_iter_ == 1
    # The loss is ||X||^2 - 2 tr(P^T X B) + ...: its digits are those of ||X||^2.
    scale = np.sum(X_dense.astype(dtype).astype(np.float64) ** 2)
    assert_allclose(model.loss_curve_, [loss], rtol=RTOL, atol=RTOL * scale)
    assert_allclose(model.components_, components, rtol=0, atol=tol)
    assert_allclose(
        model.explained_variance_, variance, rtol=RTOL, atol=RTOL * variance.max()
    )
    assert_allclose(
        model.explained_variance_ratio_, ratio, rtol=RTOL, atol=RTOL * ratio.max()
    )
    s = np.linalg.svd(X_dense, compute_uv=False)[:12]
    s[s <= s[0] * 1e-10] = 0
    assert_allclose(model.singular_values_, s, rtol=tol, atol=tol * s[0])
    unseen = np.count_nonzero(X_dense, axis=0) == 0
    assert unseen.sum() == 3
    assert not model.encoder_[unseen].any()
    assert not model.decoder_[unseen].any()
    if kind == "rank-deficient":  # components beyond the rank are unused
        assert not model.components_[6:].any()


@pytest.mark.catalogue(
    "E91",
    input=(
        "A closed form (Objectives 1 and 2, exact solvers, float64) on a "
        "sparse or dense ``X``"
    ),
    outcome=(
        "No product with ``X`` after the spectrum: ``loss_curve_``, the "
        "unseen items' rows and the explained variance come from the "
        "spectrum and one pass of column statistics"
    ),
)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("container", ["dense", "csr"])
def test_no_product_with_X_after_the_spectrum(Estimator, container, monkeypatch):
    """E91: after the spectrum, the closed forms multiply nothing by ``X``."""
    X = _as_input(_awkward("long-tailed"), container, np.float64)
    after_spectrum = []

    def spectrum(*args, **kwargs):
        out = top_k_spectrum(*args, **kwargs)
        after_spectrum.append(True)
        return out

    def product(a, b, **kwargs):
        assert not after_spectrum, "a product with X after the spectrum"
        return extmath.safe_sparse_dot(a, b, **kwargs)

    top_k_spectrum = weight_decay_module.top_k_spectrum
    for module in (weight_decay_module, dropout_module):
        monkeypatch.setattr(module, "top_k_spectrum", spectrum)
    for module in (base_module, explained_module, _matrix):
        monkeypatch.setattr(module, "safe_sparse_dot", product)
    model = Estimator(n_components=8, random_state=0).fit(X)
    assert after_spectrum
    # The same model as without the patches.
    monkeypatch.undo()
    reference = Estimator(n_components=8, random_state=0).fit(X)
    for name in ("loss_curve_", "explained_variance_", "components_"):
        assert_allclose(getattr(model, name), getattr(reference, name), rtol=RTOL)
