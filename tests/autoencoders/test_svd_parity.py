"""components_, explained_variance_ and explained_variance_ratio_ as in TruncatedSVD."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.decomposition import TruncatedSVD

from skcosim import CosineAutoencoder, DropoutAutoencoder, WeightDecayAutoencoder

from .._long_tailed import long_tailed_interactions


@pytest.fixture(scope="module")
def X():
    """Sparse non-negative data with distinct top singular values."""
    rng = np.random.RandomState(0)
    return sp.csr_matrix(rng.rand(150, 40) * (rng.rand(150, 40) < 0.3))


def _aligned(components, reference):
    """``components`` with each row's sign matched to ``reference``."""
    signs = np.sign(np.sum(components * reference, axis=1))
    return components * signs[:, None]


def _svd(X, k):
    return TruncatedSVD(k, algorithm="arpack", random_state=0).fit(X)


@pytest.mark.parametrize("sparse", [True, False], ids=["sparse", "dense"])
@pytest.mark.parametrize(
    "model",
    [
        WeightDecayAutoencoder(6, alpha=0.0),
        DropoutAutoencoder(6, alpha=0.0),
        DropoutAutoencoder(6, alpha=0.0, gauge="random", random_state=0),
    ],
    ids=["weight_decay", "dropout", "dropout_random_gauge"],
)
def test_unregularized_models_match_truncated_svd(X, model, sparse):
    data = X if sparse else X.toarray()
    model.fit(data)
    svd = _svd(data, 6)
    assert model.components_.shape == (6, X.shape[1])
    assert_allclose(
        _aligned(model.components_, svd.components_), svd.components_, atol=1e-8
    )
    assert_allclose(model.explained_variance_, svd.explained_variance_, rtol=1e-8)
    assert_allclose(
        model.explained_variance_ratio_, svd.explained_variance_ratio_, rtol=1e-8
    )


def test_weight_decay_shrinks_the_explained_variance_by_its_closed_form(X):
    alpha = 1.0
    model = WeightDecayAutoencoder(6, alpha=alpha).fit(X)
    svd = _svd(X, 6)
    s = model.singular_values_
    assert np.all(s > alpha)
    assert_allclose(
        _aligned(model.components_, svd.components_), svd.components_, atol=1e-8
    )
    shrink = ((s - alpha) / s) ** 2
    assert_allclose(model.explained_variance_, shrink * svd.explained_variance_, 1e-8)
    assert np.all(model.explained_variance_ratio_ < svd.explained_variance_ratio_)


def test_attributes_do_not_depend_on_the_gauge(X):
    identity = DropoutAutoencoder(5, alpha=2.0, dropout=0.3).fit(X)
    for scaling in ("symmetric", "random"):
        other = DropoutAutoencoder(
            5, alpha=2.0, dropout=0.3, gauge=scaling, random_state=1
        ).fit(X)
        assert_allclose(
            _aligned(other.components_, identity.components_),
            identity.components_,
            atol=1e-8,
        )
        assert_allclose(
            other.explained_variance_, identity.explained_variance_, rtol=1e-8
        )


def test_components_beyond_the_rank_are_zero():
    rng = np.random.RandomState(0)
    X = rng.rand(30, 3) @ rng.rand(3, 12)  # rank 3
    model = WeightDecayAutoencoder(5, alpha=0.0).fit(X)
    assert_allclose(model.components_[3:], 0.0)
    assert_allclose(model.explained_variance_[3:], 0.0)
    C = model.components_[:3]
    assert_allclose(C @ C.T, np.eye(3), atol=1e-10)
    # Rank 3 data, all of it reconstructed: the ratios add up to one.
    assert model.explained_variance_ratio_.sum() == pytest.approx(1.0, rel=1e-8)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_cosine_model_has_orthonormal_components_and_float32_is_kept(X):
    model = CosineAutoencoder(4, max_iter=20).fit(X.astype(np.float32))
    assert model.components_.dtype == np.float32
    assert_allclose(model.components_ @ model.components_.T, np.eye(4), atol=1e-5)
    assert np.all(model.explained_variance_ >= 0)
    assert np.all(np.isfinite(model.explained_variance_ratio_))


def test_constant_data_has_zero_ratio_not_nan():
    model = WeightDecayAutoencoder(2, alpha=0.0).fit(np.ones((6, 4)))
    assert_allclose(model.explained_variance_ratio_, 0.0)


# -- explained_variance_ratio_ is a ratio, on every container ----------------------


DATA = {
    "uniform": lambda: sp.csr_matrix(
        np.random.RandomState(1).rand(200, 40)
        * (np.random.RandomState(2).rand(200, 40) < 0.3)
    ),
    "long_tailed": long_tailed_interactions,
}


def _container(X, kind):
    if kind == "sparse":
        return X
    if kind == "dense":
        return X.toarray()
    da = pytest.importorskip("dask.array")
    return da.from_array(X, chunks=(70, -1), asarray=False)


RATIO_MODELS = {
    "weight_decay": lambda: WeightDecayAutoencoder(5, alpha=1.0),
    "dropout": lambda: DropoutAutoencoder(5, alpha=2.0, dropout=0.2),
    "cosine_softmax": lambda: CosineAutoencoder(5, loss="softmax", max_iter=30),
    "cosine_sampled": lambda: CosineAutoencoder(
        5, loss="sampled_softmax", n_negatives=16, max_iter=5, random_state=0
    ),
}


def _reference_attributes(model, X):
    """``components_`` and ``explained_variance_ratio_`` from the dense
    reconstruction: its SVD by numpy, variances by ``np.var``.

    Only the normalization ``N`` is the model's own (it defines the cosine
    model's reconstruction); the rest is computed from scratch.
    """
    from skcosim._optim._losses import floored_unit_rows

    D = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    P = D @ model.encoder_.astype(np.float64)
    cosine = isinstance(model, CosineAutoencoder)
    if cosine:
        P = model.scale_ * floored_unit_rows(P)[0]
    X_hat = P @ model.decoder_.astype(np.float64).T
    _, s, Vt = np.linalg.svd(X_hat, full_matrices=False)
    k = model.components_.shape[0]
    Vt = Vt[:k]
    # TruncatedSVD's explained variance: of the data the component describes
    # (X itself for the cosine model, whose reconstruction has its own scale).
    along = (D if cosine else X_hat) @ Vt.T
    ratio = np.var(along, axis=0) / np.var(D, axis=0).sum()
    used = s[:k] > s[0] * 1e-8
    return Vt[used], ratio[used], used


@pytest.mark.catalogue(
    "E88",
    input=(
        "``explained_variance_ratio_`` of every estimator (``CosineAutoencoder`` "
        "with the exact and the sampled softmax) on sparse, dense and Dask, "
        "uniform and long-tailed data (unseen items, empty and single-"
        "interaction users, stored zeros)"
    ),
    outcome=(
        "Correct: each ratio in [0, 1], sum at most 1, components and ratios as the "
        "dense reconstruction's SVD (components to 1e-6, ratios to rtol 1e-6)."
    ),
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kind", ["sparse", "dense", "dask"])
@pytest.mark.parametrize("data", sorted(DATA))
@pytest.mark.parametrize("name", sorted(RATIO_MODELS))
def test_explained_variance_ratio_is_a_ratio_and_matches_dense_numpy(name, data, kind):
    """E88: explained_variance_ratio_ is a ratio, on every container.

    Regression: the cosine model's ratios were the variance of its cosines
    over the variance of X (a sum of 2.5 here, 7.41 on a real log), and on a
    dask array the normalization of the reconstruction was skipped.
    """
    X = DATA[data]()
    model = RATIO_MODELS[name]().fit(_container(X, kind))
    ratio = model.explained_variance_ratio_
    assert np.all(ratio >= 0) and np.all(ratio <= 1)
    assert ratio.sum() <= 1 + 1e-12
    components, reference, used = _reference_attributes(model, X)
    assert_allclose(
        _aligned(model.components_[used], components), components, atol=1e-6
    )
    assert_allclose(ratio[used], reference, rtol=1e-6, atol=1e-12)
    assert_allclose(ratio[~used], 0.0)


@pytest.mark.slow  # four Dask fits of the cosine model
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("chunks", ["sparse", "dense"])
@pytest.mark.parametrize("loss", ["softmax", "sampled_softmax"])
def test_cosine_attributes_on_dask_are_the_in_memory_ones(loss, chunks):
    """E88: the same factors give the same attributes on Dask and in memory.

    Regression: on a dask array the reconstruction was ``X A N(B)^T``, not
    ``N(X A) N(B)^T``: ratios 0.298 against 0.042 in memory on a real log.
    """
    from skcosim.autoencoders._explained import set_explained_variance

    X = long_tailed_interactions()
    Xd = _container(X if chunks == "sparse" else X.toarray(), "dask")
    model = CosineAutoencoder(
        4, loss=loss, n_negatives=16, max_iter=5, random_state=0
    ).fit(Xd)
    on_dask = (
        model.components_,
        model.explained_variance_,
        model.explained_variance_ratio_,
    )
    set_explained_variance(model, X)
    assert_allclose(on_dask[0], model.components_, rtol=1e-8, atol=1e-12)
    assert_allclose(on_dask[1], model.explained_variance_, rtol=1e-8)
    assert_allclose(on_dask[2], model.explained_variance_ratio_, rtol=1e-8)
