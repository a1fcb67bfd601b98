"""components_, explained_variance_ and explained_variance_ratio_ as in TruncatedSVD."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.decomposition import TruncatedSVD

from skcosim import CosineAutoencoder, DropoutAutoencoder, WeightDecayAutoencoder


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
        DropoutAutoencoder(6, alpha=0.0, scaling="random", random_state=0),
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
            5, alpha=2.0, dropout=0.3, scaling=scaling, random_state=1
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
