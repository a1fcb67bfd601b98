"""Property-based tests (hypothesis) of the invariants every model must keep.

Runs under the ``"ci"`` profile of ``conftest.py``: derandomized and bounded,
so CI sees the same examples every time. The drawn matrices are small integer
matrices, so that zero rows and columns, repeated rows, ties and rank
deficiency all turn up.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone

import skcosim
from skcosim import DropoutAutoencoder, WeightDecayAutoencoder
from skcosim._linalg._gauge import apply_gauge, sample_gauge
from skcosim.metrics import cosine_neighbors, gauge_stability, resample_stability
from skcosim.preprocessing import ProjectedEmbedding

# The cosine model runs few iterations here: convergence is not what is tested.


@st.composite
def interaction_matrices(draw, max_users=12, max_items=8, low=-2, high=3):
    """Small integer-valued float64 matrices (users x items)."""
    n = draw(st.integers(1, max_users))
    p = draw(st.integers(1, max_items))
    values = st.integers(low, high).map(float)
    return draw(arrays(np.float64, (n, p), elements=values))


binary_matrices = interaction_matrices(low=0, high=1)
n_components = st.integers(1, 6)
alphas = st.sampled_from([0.0, 1e-8, 0.1, 1.0, 10.0])
dropouts = st.sampled_from([None, 0.1, 0.5, 0.9])
seeds = st.integers(0, 2**31 - 1)


def _with_gauge(model, R):
    """A copy of the fitted ``model`` re-split as ``A R, B R^{-T}``."""
    other = clone(model)
    other.__dict__.update({k: v for k, v in model.__dict__.items() if k.endswith("_")})
    other.encoder_, other.decoder_ = apply_gauge(model.encoder_, model.decoder_, R)
    return other


def _cosines(E):
    """Cosine matrix of the rows of E; rows of zeros have cosine 0 (documented)."""
    norms = np.linalg.norm(E, axis=1, keepdims=True)
    U = E / np.where(norms > 0, norms, 1)
    return U @ U.T


def _loss_tolerance(X):
    # Losses are sums of O(||X||^2) terms: compare on that scale.
    return 1e-9 * max(1.0, float(np.sum(X**2)))


def _cosine_models():
    return [WeightDecayAutoencoder, skcosim.CosineAutoencoder]


# -- gauge invariance -------------------------------------------------------------


@given(
    X=interaction_matrices(),
    k=n_components,
    alpha=alphas,
    dropout=dropouts,
    log_d=arrays(np.float64, 6, elements=st.floats(-6, 6)),
)
def test_objective1_loss_is_invariant_under_any_positive_diagonal_gauge(
    X, k, alpha, dropout, log_d
):
    """||X - X A B^T||^2 + ||Lambda^(1/2) A B^T||^2 is the same for A D, B D^-1."""
    model = DropoutAutoencoder(n_components=k, alpha=alpha, dropout=dropout).fit(X)
    D = np.diag(np.exp(log_d[:k]))
    moved = _with_gauge(model, D)
    assert_allclose(
        moved.objective(X), model.objective(X), rtol=1e-9, atol=_loss_tolerance(X)
    )
    assert_allclose(
        moved.reconstruction_loss(X),
        model.reconstruction_loss(X),
        rtol=1e-9,
        atol=_loss_tolerance(X),
    )


@given(X=interaction_matrices(), k=n_components, alpha=alphas, seed=seeds)
def test_objective2_loss_and_cosines_are_invariant_under_rotations(X, k, alpha, seed):
    """A R, B R (R orthogonal): same Objective 2 loss, same item and user cosines."""
    model = WeightDecayAutoencoder(n_components=k, alpha=alpha).fit(X)
    R = sample_gauge("orthogonal", k, seed)
    moved = _with_gauge(model, R)
    assert_allclose(
        moved.objective(X), model.objective(X), rtol=1e-9, atol=_loss_tolerance(X)
    )
    assert_allclose(
        _cosines(moved.decoder_), _cosines(model.decoder_), rtol=1e-9, atol=1e-9
    )
    assert_allclose(
        _cosines(moved.transform(X)), _cosines(model.transform(X)), atol=1e-9
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@given(X=binary_matrices, k=st.integers(1, 4), seed=seeds)
def test_cosine_model_cosines_are_invariant_under_rotations(X, k, seed):
    """Objective 3: rotating both factors keeps every user-item cosine and the loss."""
    # init_alpha=0: the weight-decay start is never cut to zero (init_alpha >= s_1 is a
    # documented ValueError of the default init).
    model = skcosim.CosineAutoencoder(
        n_components=k, init_alpha=0.0, max_iter=5, random_state=0
    )
    model.fit(X)
    R = sample_gauge("orthogonal", k, seed)
    moved = _with_gauge(model, R)
    assert_allclose(_cosines(moved.decoder_), _cosines(model.decoder_), atol=1e-9)
    assert_allclose(
        moved.objective(X), model.objective(X), rtol=1e-9, atol=_loss_tolerance(X)
    )


# -- transform ---------------------------------------------------------------------


def _all_models(k, alpha, dropout, X):
    # The softmax loss (the default) rejects negative X: the squared loss then.
    loss = "softmax" if X.min() >= 0 else "squared"
    models = [
        WeightDecayAutoencoder(n_components=k, alpha=alpha),
        DropoutAutoencoder(n_components=k, alpha=alpha, dropout=dropout),
        skcosim.CosineAutoencoder(
            n_components=k, loss=loss, init_alpha=0.0, max_iter=5, random_state=0
        ),
    ]
    return models


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@given(
    X=interaction_matrices(),
    k=n_components,
    alpha=alphas,
    dropout=dropouts,
    sparse=st.booleans(),
    dtype=st.sampled_from([np.float64, np.float32]),
)
def test_transform_is_X_times_the_encoder(X, k, alpha, dropout, sparse, dtype):
    """transform(X) == X @ encoder_, dense or sparse, float32 or float64."""
    Xt = X.astype(dtype)
    Xt = sp.csr_matrix(Xt) if sparse else Xt
    for model in _all_models(k, alpha, dropout, X):
        model.fit(Xt)
        Z = model.transform(Xt)
        assert Z.dtype == dtype
        expected = X @ model.encoder_.astype(np.float64)
        tol = 1e-12 if dtype == np.float64 else 1e-4
        assert_allclose(Z, expected, rtol=tol, atol=tol * max(1.0, np.abs(X).max()))
        assert np.all(np.isfinite(Z))


# -- determinism ---------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@given(
    X=binary_matrices,
    k=n_components,
    seed=seeds,
    solver=st.sampled_from(["randomized", "arpack", "gram", "lbfgs", "dropout-sgd"]),
)
def test_same_random_state_gives_identical_results(X, k, seed, solver):
    """Two fits with the same random_state agree bit for bit."""
    gradient = {"max_iter": 5} if solver in ("lbfgs", "dropout-sgd") else {}
    models = [
        DropoutAutoencoder(
            n_components=k,
            # the split of a trained model is the one training reaches
            gauge="identity" if gradient else "random",
            solver=solver,
            random_state=seed,
            dropout=0.3 if solver == "dropout-sgd" else None,
            **gradient,
        ),
    ]
    if solver != "dropout-sgd":  # a DropoutAutoencoder solver only
        models.append(
            WeightDecayAutoencoder(
                n_components=k, solver=solver, random_state=seed, **gradient
            )
        )
    models.append(
        skcosim.CosineAutoencoder(
            n_components=k, init_alpha=0.0, max_iter=5, random_state=seed
        )
    )
    for model in models:
        a, b = clone(model).fit(X), clone(model).fit(X)
        assert_array_equal(a.encoder_, b.encoder_)
        assert_array_equal(a.decoder_, b.decoder_)
        assert_array_equal(a.transform(X), b.transform(X))


# -- inputs are never modified -----------------------------------------------------


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@given(
    X=interaction_matrices(),
    k=n_components,
    dropout=dropouts,
    fmt=st.sampled_from(["C", "F", "csr", "csc", "coo", "float32"]),
)
def test_input_X_is_never_modified_in_place(X, k, dropout, fmt):
    """fit, transform, score, recommend, objective, inverse_transform keep X as is."""
    if fmt in ("C", "F"):
        Xin = np.array(X, order=fmt)
    elif fmt == "float32":
        Xin = X.astype(np.float32)
    else:
        Xin = getattr(sp, f"{fmt}_matrix")(X)
    before = Xin.copy() if sp.issparse(Xin) else Xin.copy(order="K")
    trained = [  # gradient solvers: real dropout masks must not touch X
        DropoutAutoencoder(
            n_components=k,
            dropout=0.5,
            solver="dropout-sgd",
            max_iter=2,
            random_state=0,
        ),
        WeightDecayAutoencoder(n_components=k, solver="lbfgs", max_iter=3),
    ]
    for model in _all_models(k, 1.0, dropout, X) + trained:
        model.fit(Xin)
        Z = model.transform(Xin)
        Z_before = Z.copy()
        if np.any(np.count_nonzero(X, axis=1) >= 3):  # score holds one out, keeps one
            model.score(Xin)
        model.reconstruction_loss(Xin)
        model.recommend(Xin, k=1)
        model.objective(Xin)
        model.inverse_transform(Z)
        model.item_embeddings("projected")
        assert_array_equal(Z, Z_before)
        if sp.issparse(Xin):
            assert Xin.format == before.format
            assert_array_equal(Xin.toarray(), before.toarray())
            if fmt != "coo":
                assert_array_equal(Xin.indices, before.indices)
                assert_array_equal(Xin.indptr, before.indptr)
        else:
            assert Xin.dtype == before.dtype
            assert Xin.flags.f_contiguous == before.flags.f_contiguous
            assert_array_equal(Xin, before)


@given(
    X=interaction_matrices(),
    k=n_components,
    alpha=st.sampled_from([0.1, 1.0, 10.0]),
    log_d=arrays(np.float64, 6, elements=st.floats(-4, 4)),
)
def test_projected_embedding_cosines_do_not_depend_on_the_split(X, k, alpha, log_d):
    """Remedy 2: ProjectedEmbedding of any diagonal split has the same cosines."""
    base = ProjectedEmbedding(DropoutAutoencoder(n_components=k, alpha=alpha)).fit(X)
    d = np.exp(log_d[:k])
    other = ProjectedEmbedding(
        DropoutAutoencoder(n_components=k, alpha=alpha, gauge=d)
    ).fit(X)
    assert_allclose(
        _cosines(other.item_embeddings()), _cosines(base.item_embeddings()), atol=1e-7
    )
    assert_allclose(other.transform(X), X @ other.projected_encoder_, atol=1e-12)


@given(
    E=arrays(
        np.float64,
        st.tuples(st.integers(2, 15), st.integers(1, 4)),
        elements=st.integers(-2, 2).map(float),
    ),
    fortran=st.booleans(),
)
def test_cosine_neighbors_never_modifies_E_and_has_no_nan(E, fortran):
    """cosine_neighbors: input untouched, similarities finite in [-1, 1]."""
    E = np.asfortranarray(E) if fortran else E
    before = E.copy(order="K")
    k = min(3, E.shape[0] - 1)
    indices, sims = cosine_neighbors(E, k)
    assert_array_equal(E, before)
    assert np.all(np.isfinite(sims))
    assert np.all(np.abs(sims) <= 1 + 1e-12)
    assert np.all(indices != np.arange(E.shape[0])[:, None])


@settings(max_examples=20)  # two metric runs of several fits each per example
@given(X=binary_matrices.filter(lambda X: X.shape[1] >= 3), seed=seeds)
def test_stability_metrics_with_the_same_random_state_are_identical(X, seed):
    """gauge_stability and resample_stability repeat exactly for one seed."""
    model = DropoutAutoencoder(n_components=2, alpha=1.0).fit(X)
    assert gauge_stability(model, 2, n_draws=2, random_state=seed) == gauge_stability(
        model, 2, n_draws=2, random_state=seed
    )
    if X.shape[0] >= 2:
        estimator = WeightDecayAutoencoder(n_components=2, alpha=0.5)
        a = resample_stability(estimator, X, 2, n_resamples=1, random_state=seed)
        b = resample_stability(estimator, X, 2, n_resamples=1, random_state=seed)
        assert a == b
