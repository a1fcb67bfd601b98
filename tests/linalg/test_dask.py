"""The Dask paths give the in-memory embeddings, on a real local cluster.

A ``distributed.LocalCluster`` with two worker processes on the loopback
interface runs every computation here, so block functions are pickled and
executed in other processes, as on a real cluster.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skcosim import CosineAutoencoder, DropoutAutoencoder, WeightDecayAutoencoder

from .._stored_zeros import long_tailed, unseen_by_brute_force

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")


@pytest.fixture(scope="module")
def X():
    """Rank 8 (singular values 100 down to 20) plus small noise, sparsified."""
    rng = np.random.RandomState(0)
    n, p = 600, 80
    U = np.linalg.qr(rng.randn(n, 8))[0]
    V = np.linalg.qr(rng.randn(p, 8))[0]
    D = (U * np.geomspace(100, 20, 8)) @ V.T + 0.02 * rng.randn(n, p)
    return sp.csr_matrix(np.where(np.abs(D) > 0.1, D, 0.0))


def _dask(X, kind, chunk_rows=150):
    if kind == "sparse":
        return da.from_array(X, chunks=(chunk_rows, -1), asarray=False)
    return da.from_array(X.toarray(), chunks=(chunk_rows, 40))  # column chunks too


def _cosines(E):
    norms = np.linalg.norm(E, axis=1, keepdims=True)
    U = E / np.where(norms > 0, norms, 1.0)
    return U @ U.T


ESTIMATORS = [
    WeightDecayAutoencoder(6, alpha=0.5),
    DropoutAutoencoder(6, alpha=2.0),
    DropoutAutoencoder(6, alpha=2.0, dropout=0.3),
]


@pytest.mark.parametrize("kind", ["sparse", "dense"])
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
def test_dask_fit_gives_the_in_memory_item_cosines(client, X, kind, estimator):
    memory = estimator.__class__(**estimator.get_params()).fit(X)
    dask = estimator.__class__(**estimator.get_params()).fit(_dask(X, kind))
    assert_allclose(dask.singular_values_, memory.singular_values_, rtol=1e-10)
    for attr in ("decoder_", "encoder_"):
        E_dask, E_memory = getattr(dask, attr), getattr(memory, attr)
        assert_allclose(_cosines(E_dask), _cosines(E_memory), atol=1e-6)
    assert dask.n_features_in_ == X.shape[1]


@pytest.mark.parametrize("kind", ["sparse", "dense"])
def test_dask_fit_gives_the_in_memory_explained_variance(client, X, kind):
    memory = DropoutAutoencoder(5, alpha=2.0).fit(X)
    dask = DropoutAutoencoder(5, alpha=2.0).fit(_dask(X, kind))
    assert_allclose(dask.explained_variance_, memory.explained_variance_, rtol=1e-8)
    assert_allclose(
        dask.explained_variance_ratio_, memory.explained_variance_ratio_, rtol=1e-8
    )
    assert_allclose(np.abs(dask.components_), np.abs(memory.components_), atol=1e-8)


def test_dask_arpack_solver_gives_the_in_memory_item_cosines(client, X):
    # One Dask computation per Lanczos product: slow on a cluster, so one case.
    params = {"n_components": 6, "alpha": 0.5, "solver": "arpack", "random_state": 0}
    memory = WeightDecayAutoencoder(**params).fit(X)
    dask = WeightDecayAutoencoder(**params).fit(_dask(X, "sparse", chunk_rows=300))
    assert_allclose(dask.singular_values_, memory.singular_values_, rtol=1e-10)
    assert_allclose(_cosines(dask.decoder_), _cosines(memory.decoder_), atol=1e-6)


def test_dask_randomized_solver_is_close_to_the_exact_spectrum(client, X):
    exact = WeightDecayAutoencoder(6, alpha=0.5, solver="gram").fit(X)
    dask = WeightDecayAutoencoder(6, alpha=0.5, solver="randomized", random_state=0)
    dask.fit(_dask(X, "sparse"))
    # Approximate by design (Dask's svd_compressed, 10 power iterations), but
    # after s_8 = 20 the spectrum drops to ~1: the power iterations resolve it.
    assert_allclose(dask.singular_values_, exact.singular_values_, rtol=1e-8)
    assert_allclose(_cosines(dask.decoder_), _cosines(exact.decoder_), atol=1e-6)


@pytest.mark.parametrize("kind", ["sparse", "dense"])
def test_transform_of_a_dask_array_is_a_dask_array_with_the_same_values(
    client, X, kind
):
    model = WeightDecayAutoencoder(6, alpha=0.5).fit(X)
    Xd = _dask(X, kind)
    Z = model.transform(Xd)
    assert isinstance(Z, da.Array)
    assert Z.shape == (X.shape[0], 6)
    assert Z.chunks[0] == Xd.chunks[0]
    assert_allclose(Z.compute(), model.transform(X), rtol=1e-12, atol=1e-12)


def test_float32_dask_input_gives_float32_model_and_transform(client, X):
    Xd = _dask(X.astype(np.float32), "sparse")
    model = WeightDecayAutoencoder(6, alpha=0.5).fit(Xd)
    assert model.decoder_.dtype == np.float32
    assert model.transform(Xd).dtype == np.float32
    exact = WeightDecayAutoencoder(6, alpha=0.5).fit(X)
    assert_allclose(_cosines(model.decoder_), _cosines(exact.decoder_), atol=1e-4)


def test_non_finite_dask_input_raises_value_error(client, X):
    bad = X.copy()
    bad.data[3] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        WeightDecayAutoencoder(6).fit(_dask(bad, "sparse"))


def test_dask_transform_with_wrong_number_of_features_raises(client, X):
    model = WeightDecayAutoencoder(6).fit(X)
    with pytest.raises(ValueError, match="features"):
        model.transform(_dask(X[:, :50], "sparse"))


def test_grid_search_under_the_dask_joblib_backend_matches_the_default(client, X):
    grid = {"alpha": [0.1, 1.0, 10.0], "n_components": [4, 8]}
    search = GridSearchCV(WeightDecayAutoencoder(), grid, cv=3)
    with joblib.parallel_config(backend="dask"):
        search.fit(X)
    reference = GridSearchCV(WeightDecayAutoencoder(), grid, cv=3).fit(X)
    assert search.best_params_ == reference.best_params_
    assert_allclose(
        search.cv_results_["mean_test_score"],
        reference.cv_results_["mean_test_score"],
        rtol=1e-10,
    )


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
def test_objective_and_loss_of_a_dask_array_equal_the_in_memory_ones(
    client, X, estimator
):
    model = estimator.__class__(**estimator.get_params()).fit(X)
    Xd = _dask(X, "sparse")
    assert_allclose(model.objective(Xd), model.objective(X), rtol=1e-10)
    assert_allclose(
        model.reconstruction_loss(Xd), model.reconstruction_loss(X), rtol=1e-10
    )
    with pytest.raises(TypeError, match="needs X in memory"):
        model.score(Xd)
    dask_fit = estimator.__class__(**estimator.get_params()).fit(Xd)
    assert_allclose(dask_fit.loss_curve_, model.loss_curve_, rtol=1e-8)


def test_gradient_solver_on_a_dask_array_raises_type_error(client, X):
    with pytest.raises(TypeError, match="needs X in memory"):
        WeightDecayAutoencoder(4, solver="lbfgs").fit(_dask(X, "sparse"))


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["softmax", "sampled_softmax"])
def test_cosine_autoencoder_fits_a_dask_array_block_by_block(client, X, loss):
    """The softmax gradients summed over the blocks as one Dask computation."""
    params = dict(n_components=4, loss=loss, n_negatives=16, max_iter=8)
    X = abs(X)  # counts for the softmax
    Xd = _dask(X, "sparse")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dask_fit = CosineAutoencoder(**params, random_state=0).fit(Xd)
        again = CosineAutoencoder(**params, random_state=0).fit(Xd)
        memory = CosineAutoencoder(**params, random_state=0).fit(X)
    assert_allclose(dask_fit.decoder_, again.decoder_, rtol=0, atol=0)
    assert_allclose(dask_fit.objective(Xd), dask_fit.objective(X), rtol=1e-10)
    if loss == "softmax":  # the same L-BFGS run, block sums in another order
        assert_allclose(dask_fit.decoder_, memory.decoder_, atol=1e-6)
    # Against the start: one L-BFGS step, or one Adam epoch of no length
    # (one Adam epoch of real steps may already be most of the fit).
    start = {**params, "max_iter": 1, "learning_rate": 1e-12, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start_loss = CosineAutoencoder(**start).fit(Xd).objective(Xd)
    assert dask_fit.objective(Xd) < 0.99 * start_loss


def test_cosine_autoencoder_squared_loss_needs_x_in_memory(client, X):
    with pytest.raises(ValueError, match="needs X in memory"):
        CosineAutoencoder(4, loss="squared").fit(_dask(X, "sparse"))


def test_cosine_autoencoder_rejects_negative_values_in_a_dask_array(client, X):
    assert (X < 0).sum() > 0
    with pytest.raises(ValueError, match="Negative values"):
        CosineAutoencoder(4, loss="softmax").fit(_dask(X, "sparse"))


@pytest.mark.catalogue(
    "E71",
    input=(
        "A row-chunked dask array (sparse chunks with stored 0.0 entries, or "
        "dense chunks) of a long-tailed log with items nobody interacted "
        "with: closed forms (Gram, ARPACK, randomized, dropout) and "
        "``CosineAutoencoder`` (softmax, sampled softmax)"
    ),
    outcome=(
        "Correct: those items' encoder, decoder and projected rows are exactly 0.0 "
        "(counted over the blocks, stored zeros ignored), and the closed forms equal "
        "the in-memory fit (``A B^T`` to ``1e-8``)."
    ),
)
@pytest.mark.parametrize("kind", ["sparse", "dense"])
@pytest.mark.parametrize(
    "estimator",
    [
        WeightDecayAutoencoder(5, alpha=0.5, solver="gram"),
        WeightDecayAutoencoder(5, alpha=0.5, solver="arpack", random_state=0),
        WeightDecayAutoencoder(5, alpha=0.5, solver="randomized", random_state=0),
        DropoutAutoencoder(5, alpha=2.0, dropout=0.3),
        CosineAutoencoder(5, loss="softmax", max_iter=5),
        CosineAutoencoder(
            5, loss="sampled_softmax", n_negatives=8, max_iter=5, random_state=0
        ),
    ],
    ids=["gram", "arpack", "randomized", "dropout", "softmax", "sampled"],
)
def test_unseen_items_of_a_dask_array_get_exactly_zero_rows(client, kind, estimator):
    """E71: the Dask paths give unseen items (incl. only stored zeros) zero rows."""
    X = long_tailed()
    unseen = unseen_by_brute_force(X)
    Xd = da.from_array(X, chunks=(60, -1), asarray=False)
    if kind == "dense":
        Xd = da.from_array(X.toarray(), chunks=(60, 25))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = clone(estimator).fit(Xd)
    for embedding in ("encoder", "decoder", "projected"):
        E = np.asarray(model.item_embeddings(embedding))
        assert_array_equal(E[unseen], 0.0, err_msg=embedding)
        assert np.any(E[~unseen] != 0), embedding
    if not isinstance(estimator, CosineAutoencoder):
        memory = clone(estimator).fit(X)
        assert_allclose(
            model.encoder_ @ model.decoder_.T,
            memory.encoder_ @ memory.decoder_.T,
            atol=1e-8,
        )
