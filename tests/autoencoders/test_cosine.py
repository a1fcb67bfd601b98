"""CosineAutoencoder: Objective 3 (docs/user_guide/objectives.rst), both losses."""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from skcosim import CosineAutoencoder
from skcosim._linalg._gauge import sample_gauge
from skcosim.datasets import make_clustered_interactions
from skcosim.metrics import neighbor_label_agreement

LOSSES = ["softmax", "squared"]

# Short fits are the point of most tests here; the warning itself is tested
# with pytest.warns, which records it regardless of this filter.


@pytest.fixture(scope="module")
def clustered():
    return make_clustered_interactions(
        n_users=1000, n_items=100, n_clusters=5, random_state=0
    )


def _loss_with_factors(model, X, A, B):
    """The model's objective on X with other factors (the fitted c kept)."""
    other = CosineAutoencoder(
        model.n_components, loss=model.loss, temperature=model.temperature
    )
    other.__dict__.update(
        {k: v for k, v in model.__dict__.items() if k.endswith("_")},
        encoder_=A,
        decoder_=B,
    )
    return other.objective(X)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("loss", LOSSES)
def test_loss_changes_under_a_diagonal_rescaling(clustered, loss):
    # No free gauge: A D, B D^{-1} moves the cosines and so the loss.
    X = clustered.data
    model = CosineAutoencoder(8, loss=loss, max_iter=30).fit(X)
    A, B = model.encoder_, model.decoder_
    D = np.diag(sample_gauge("diagonal", 8, random_state=0))
    fitted = model.objective(X)
    rescaled = _loss_with_factors(model, X, A * D, B / D)
    assert rescaled > fitted * (1 + 1e-3)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("loss", LOSSES)
def test_loss_is_unchanged_under_a_rotation(clustered, loss):
    # Only rotations A R, B R remain: they keep every cosine.
    X = clustered.data
    model = CosineAutoencoder(8, loss=loss, max_iter=30).fit(X)
    R = sample_gauge("orthogonal", 8, random_state=0)
    rotated = _loss_with_factors(model, X, model.encoder_ @ R, model.decoder_ @ R)
    assert_allclose(rotated, model.objective(X), rtol=1e-10)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("loss", LOSSES)
def test_default_init_is_deterministic(clustered, loss):
    X = clustered.data
    a = CosineAutoencoder(8, loss=loss, max_iter=30, random_state=0).fit(X)
    b = CosineAutoencoder(8, loss=loss, max_iter=30, random_state=1).fit(X)
    assert_allclose(a.decoder_, b.decoder_, rtol=0, atol=0)
    assert_allclose(a.encoder_, b.encoder_, rtol=0, atol=0)


@pytest.mark.slow
@pytest.mark.parametrize("loss", LOSSES)
def test_random_init_recovers_the_clusters_for_every_seed(clustered, loss):
    X = clustered.data
    for seed in range(3):
        model = CosineAutoencoder(
            8, loss=loss, init="random", max_iter=500, random_state=seed
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X)
        agreement = neighbor_label_agreement(model.decoder_, clustered.item_labels)
        assert agreement >= 0.9, (seed, agreement)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("loss", LOSSES)
def test_training_lowers_the_loss_from_the_weight_decay_start(clustered, loss):
    model = CosineAutoencoder(8, loss=loss, max_iter=30).fit(clustered.data)
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    assert np.all(np.diff(model.loss_curve_) <= 1e-9 * model.loss_curve_[0])
    assert model.n_iter_ == len(model.loss_curve_) - 1
    assert_allclose(model.objective(clustered.data), model.loss_curve_[-1], rtol=1e-8)


@pytest.mark.parametrize("loss", LOSSES)
def test_warm_start_continues_from_the_previous_fit(clustered, loss):
    X = clustered.data
    model = CosineAutoencoder(8, loss=loss, max_iter=10, warm_start=True)
    with pytest.warns(ConvergenceWarning):
        model.fit(X)
    first_end = model.loss_curve_[-1]
    with pytest.warns(ConvergenceWarning):
        model.fit(X)
    assert_allclose(model.loss_curve_[0], first_end, rtol=1e-8)
    assert model.loss_curve_[-1] < first_end


def test_max_iter_raises_a_convergence_warning(clustered):
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        model = CosineAutoencoder(8, max_iter=2).fit(clustered.data)
    assert model.n_iter_ == 2


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_squared_loss_objective_matches_the_dense_formula(clustered):
    X = clustered.data
    model = CosineAutoencoder(8, loss="squared", max_iter=20).fit(X)
    Xd = X.toarray()
    P = Xd @ model.encoder_
    P /= np.linalg.norm(P, axis=1, keepdims=True)
    C = P @ model.decoder_.T
    assert model.scale_ > 0
    assert_allclose(model.objective(X), np.sum((Xd - model.scale_ * C) ** 2), 1e-9)
    assert_allclose(
        model.reconstruction_loss(X), model.objective(X) / X.shape[0], rtol=1e-12
    )
    assert_allclose(
        model.inverse_transform(model.transform(X)), model.scale_ * C, rtol=1e-9
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_softmax_inverse_transform_gives_distributions_over_items(clustered):
    X = clustered.data
    model = CosineAutoencoder(8, max_iter=20).fit(X)
    probabilities = model.inverse_transform(model.transform(X[:50]))
    assert probabilities.shape == (50, X.shape[1])
    assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)
    # The multinomial likelihood of the data under these probabilities.
    expected = -np.sum(X[:50].toarray() * np.log(probabilities))
    assert_allclose(model.objective(X[:50]), expected, rtol=1e-9)


@pytest.mark.parametrize("loss", LOSSES)
def test_users_and_items_without_interactions_give_no_nan(loss):
    rng = np.random.RandomState(0)
    X = (rng.rand(60, 20) < 0.3).astype(float)
    X[:5] = 0.0  # users without interactions
    X[:, :3] = 0.0  # items without interactions
    for init in ("weight_decay", "random"):
        model = CosineAutoencoder(4, loss=loss, init=init, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X)
        assert np.all(np.isfinite(model.encoder_))
        assert np.all(np.isfinite(model.decoder_))
        assert_allclose(model.decoder_[:3], 0.0)  # N(0) = 0
        assert_allclose(np.linalg.norm(model.decoder_[3:], axis=1), 1.0, rtol=1e-9)
        assert np.isfinite(model.score(X))
        assert np.isfinite(model.reconstruction_loss(X))
        assert np.all(np.isfinite(model.inverse_transform(model.transform(X))))


@pytest.mark.parametrize("loss", LOSSES)
def test_float32_input_gives_float32_output(clustered, loss):
    X = clustered.data.astype(np.float32)
    model = CosineAutoencoder(8, loss=loss, max_iter=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    assert model.encoder_.dtype == np.float32
    assert model.decoder_.dtype == np.float32
    assert model.transform(X).dtype == np.float32


def test_alpha_above_the_spectrum_is_rejected_by_the_default_start(clustered):
    with pytest.raises(ValueError, match="weight-decay start is zero"):
        CosineAutoencoder(8, init_alpha=1e6).fit(clustered.data)


def test_verbose_reports_every_iteration(clustered, capsys):
    model = CosineAutoencoder(8, loss="squared", max_iter=4, verbose=2)
    with pytest.warns(ConvergenceWarning):
        model.fit(clustered.data)
    lines = [line for line in capsys.readouterr().out.splitlines() if "loss =" in line]
    assert len(lines) == model.n_iter_ + 1


# -- memory ---------------------------------------------------------------------------


def _peak_fit_memory(estimator, X):
    """Peak bytes allocated (tracemalloc, numpy included) during ``fit``."""
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _random_sparse(n, p, nnz, seed=0):
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n, size=nnz)
    cols = rng.integers(0, p, size=nnz)
    X = sp.csr_matrix((np.ones(nnz), (rows, cols)), shape=(n, p))
    X.data[:] = 1.0  # binary, duplicates merged
    return X


@pytest.mark.slow
def test_squared_loss_fits_a_large_sparse_matrix_in_little_memory():
    # 200,000 x 20,000 with 2,000,000 non-zeros: n x p dense would be 32 GB.
    X = _random_sparse(200_000, 20_000, 2_000_000)
    model = CosineAutoencoder(8, loss="squared", max_iter=3)
    peak = _peak_fit_memory(model, X)
    assert peak < 2 * 1024**3
    assert np.all(np.isfinite(model.decoder_))


@pytest.mark.slow
def test_softmax_peak_memory_is_set_by_batch_size_not_n_samples():
    p = 5000
    small_n = _random_sparse(2000, p, 40_000, seed=1)
    large_n = _random_sparse(8000, p, 160_000, seed=2)

    def peak(X, batch_size):
        model = CosineAutoencoder(
            4, init="random", max_iter=1, batch_size=batch_size, random_state=0
        )
        return _peak_fit_memory(model, X)

    block = 500 * p * 8  # bytes of one batch_size x p block
    small, large = peak(small_n, 500), peak(large_n, 500)
    # 4x the users, same batch_size: the peak grows by much less than a block.
    assert abs(large - small) < 0.25 * block
    # 4x the batch_size on the same data: the peak grows by about 3 blocks.
    assert peak(large_n, 2000) - large > 2 * block


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_public_surface_matches_the_other_autoencoders(clustered):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(clustered.data.toarray(), columns=[f"item{j}" for j in range(100)])
    model = CosineAutoencoder(8, max_iter=5).set_output(transform="pandas").fit(X)
    Z = model.transform(X)
    assert list(Z.columns) == [f"cosineautoencoder{i}" for i in range(8)]
    assert list(model.feature_names_in_) == list(X.columns)
    for kind in ("decoder", "encoder", "projected"):
        assert model.item_embeddings(kind).shape == (100, 8)
    # Rotations are the only gauge left, and they keep every cosine.
    R = sample_gauge("orthogonal", 8, random_state=0)
    E, E_rot = model.item_embeddings(), model.item_embeddings(gauge=R)
    cos = E @ E.T
    assert_allclose(E_rot @ E_rot.T, cos, atol=1e-12)
