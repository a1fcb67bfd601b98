"""Tests of skcosim.preprocessing: PopularityScaler and ProjectedEmbedding."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer

from skcosim import DropoutAutoencoder, WeightDecayAutoencoder
from skcosim.metrics import cosine_neighbors
from skcosim.preprocessing import PopularityScaler, ProjectedEmbedding


def _interactions(n=150, p=40, density=0.15, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((n, p)) < density).astype(np.float64)


def _cosines(E):
    norms = np.linalg.norm(E, axis=1, keepdims=True)
    U = np.divide(E, norms, out=np.zeros_like(E), where=norms > 0)
    return U @ U.T


# scikit-learn's common checks of both transformers run in tests/test_common.py.


# -- PopularityScaler -----------------------------------------------------------


@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0, -0.3])
def test_popularity_scaler_scales_columns_by_popularity_power(beta):
    X = _interactions()
    scaler = PopularityScaler(beta=beta).fit(X)
    popularity = np.maximum((X != 0).sum(axis=0), 1) / X.shape[0]
    assert_allclose(scaler.popularity_, popularity, rtol=1e-15)
    assert_allclose(scaler.transform(X), X * popularity**-beta, rtol=1e-14)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_popularity_scaler_sparse_in_sparse_out(fmt, dtype):
    X = _interactions().astype(dtype)
    Xs = sp.csr_matrix(X).asformat(fmt)
    scaler = PopularityScaler(beta=0.7).fit(Xs)
    Xt = scaler.transform(Xs)
    assert sp.issparse(Xt)
    assert Xt.format == fmt
    assert Xt.dtype == dtype
    assert Xt.nnz == Xs.nnz
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    assert_allclose(
        Xt.toarray(), PopularityScaler(beta=0.7).fit_transform(X), rtol=rtol
    )
    assert_allclose(scaler.inverse_transform(Xt).toarray(), X, rtol=rtol)


def test_popularity_scaler_unseen_items_count_as_one_interaction():
    X = _interactions()
    X[:, 3] = 0
    scaler = PopularityScaler(beta=1.0).fit(X)
    assert_allclose(scaler.scale_[3], X.shape[0], rtol=1e-15)
    assert np.all(np.isfinite(scaler.scale_))


def test_popularity_scaler_in_pipeline_with_sklearn_normalizer():
    X = sp.csr_matrix(_interactions())
    pipe = make_pipeline(PopularityScaler(beta=0.5), Normalizer())
    Xt = pipe.fit_transform(X)
    assert sp.issparse(Xt)
    norms = sp.linalg.norm(Xt, axis=1)
    nonzero_rows = np.diff(X.indptr) > 0
    assert_allclose(norms[nonzero_rows], 1.0, rtol=1e-12)


# -- ProjectedEmbedding -------------------------------------------------------


@pytest.mark.parametrize(
    "estimator",
    [
        WeightDecayAutoencoder(n_components=6, alpha=1.0),
        DropoutAutoencoder(n_components=6, alpha=5.0),
        DropoutAutoencoder(n_components=6, alpha=5.0, dropout=0.3),
    ],
)
def test_projected_embedding_has_cosines_of_the_reconstruction(estimator):
    # Remedy 2: cos(X A L) = cos(X A B^T) (users), cos(A L) = cos(A B^T) (items).
    X = _interactions()
    proj = ProjectedEmbedding(estimator).fit(X)
    A, B = proj.estimator_.encoder_, proj.estimator_.decoder_
    assert_allclose(_cosines(proj.transform(X)), _cosines(X @ A @ B.T), atol=1e-10)
    assert_allclose(_cosines(proj.item_embeddings()), _cosines(A @ B.T), atol=1e-10)


def test_projected_embedding_is_the_same_for_every_gauge_of_dropout():
    X = _interactions()
    fits = [
        ProjectedEmbedding(
            DropoutAutoencoder(n_components=5, alpha=3.0, gauge=scaling)
        ).fit(X)
        for scaling in ["identity", "symmetric", "encoder", np.exp(np.arange(5.0))]
    ]
    reference = _cosines(fits[0].item_embeddings())
    for proj in fits[1:]:
        assert_allclose(_cosines(proj.item_embeddings()), reference, atol=1e-10)
        ind, _ = cosine_neighbors(proj.item_embeddings(), 5)
        assert_array_equal(ind, cosine_neighbors(fits[0].item_embeddings(), 5)[0])
    # ... whereas the decoder rows themselves move with the gauge.
    assert not np.allclose(
        _cosines(fits[0].estimator_.decoder_), _cosines(fits[3].estimator_.decoder_)
    )


def test_projected_embedding_inverse_transform_reconstructs_x_a_bt():
    X = _interactions()
    # Components with s_i <= alpha are zero: L is singular.
    s = np.linalg.svd(X, compute_uv=False)
    alpha = (s[4] + s[5]) / 2
    proj = ProjectedEmbedding(WeightDecayAutoencoder(n_components=8, alpha=alpha))
    Z = proj.fit_transform(X)
    ae = proj.estimator_
    assert np.any(np.all(ae.decoder_ == 0, axis=0))
    assert_allclose(
        proj.inverse_transform(Z), X @ ae.encoder_ @ ae.decoder_.T, atol=1e-10
    )


def test_projected_embedding_default_wraps_weight_decay():
    X = _interactions()
    proj = ProjectedEmbedding().fit(X)
    assert isinstance(proj.estimator_, WeightDecayAutoencoder)
    assert proj.get_feature_names_out()[0] == "projectedembedding0"


def test_projected_embedding_rejects_other_kinds_and_non_autoencoders():
    X = _interactions()
    proj = ProjectedEmbedding().fit(X)
    with pytest.raises(ValueError, match="only has embedding='projected'"):
        proj.item_embeddings("decoder")
    with pytest.raises(TypeError, match="encoder_ and decoder_"):
        ProjectedEmbedding(Normalizer()).fit(X)


@pytest.mark.catalogue(
    "E98",
    input=(
        '``item_embeddings("projected")`` of an estimator and '
        "``ProjectedEmbedding(estimator).item_embeddings()``"
    ),
    outcome=(
        "Correct: the same rows (``A L W``, the ``U S`` of ``A B^T``), not only "
        "the same cosines, for every gauge"
    ),
)
@pytest.mark.parametrize("scaling", ["identity", "random"])
def test_the_projected_embedding_has_one_definition(scaling):
    """E98: ``item_embeddings("projected")`` of an estimator and ProjectedEmbedding
    give the same rows, not only the same cosines (they were ``A L`` and
    ``A L W``), and the rows are those of the canonical form ``U S`` of the
    SVD of ``A B^T`` restricted to its span, checked against a dense numpy
    reference up to the sign of each column."""
    rng = np.random.RandomState(3)
    X = sp.random(60, 25, density=0.15, random_state=rng, format="csr")
    X.data[:] = 1.0
    X[:, 7] = 0  # an unseen item: a zero row
    X.eliminate_zeros()
    model = DropoutAutoencoder(4, alpha=2.0, gauge=scaling, random_state=0).fit(X)
    direct = model.item_embeddings("projected")
    wrapped = ProjectedEmbedding(model).fit(X).item_embeddings()
    assert_allclose(direct, wrapped, rtol=1e-12, atol=1e-12)
    # Reference: A B^T = U S V^T; the rows of A L W are U S (k columns).
    A, B = model.encoder_.astype(np.float64), model.decoder_.astype(np.float64)
    U, S, _ = np.linalg.svd(A @ B.T)
    reference = U[:, :4] * S[:4]
    signs = np.sign(np.sum(reference * direct, axis=0))
    assert_allclose(direct, reference * signs, atol=1e-10)
