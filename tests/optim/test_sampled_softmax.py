"""The sampled softmax of CosineAutoencoder: loss, gradients, sampler, solvers."""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from skcosim import CosineAutoencoder
from skcosim._optim._losses import cosine_softmax_loss_grad
from skcosim._optim._sampled_softmax import (
    BLOCK_ENTRIES,
    NegativeSample,
    NegativeSampler,
    item_popularity,
    sampled_batch_size,
    sampled_softmax_loss_grad,
    use_sampled_softmax,
)
from skcosim.datasets import make_clustered_interactions


@pytest.fixture
def counts():
    X = sp.random(30, 50, density=0.2, random_state=0, format="csr")
    X.data = np.ceil(X.data * 3)  # counts 1..3
    return X


def _loss(X, A, B, sample, t=0.3, batch_size=7):
    return sampled_softmax_loss_grad(
        X, A, B, temperature=t, sample=sample, batch_size=batch_size
    )


def test_gradients_match_finite_differences(counts):
    rng = np.random.RandomState(0)
    A, B = rng.standard_normal((50, 4)), rng.standard_normal((50, 4))
    sample = NegativeSampler(item_popularity(counts), 20, 0.5, rng).draw()
    _, dA, dB = _loss(counts, A, B, sample)
    eps = 1e-6
    for M, grad in ((A, dA), (B, dB)):
        numeric = np.zeros_like(M)
        for idx in np.ndindex(M.shape):
            M[idx] += eps
            up = _loss(counts, A, B, sample)[0]
            M[idx] -= 2 * eps
            down = _loss(counts, A, B, sample)[0]
            M[idx] += eps
            numeric[idx] = (up - down) / (2 * eps)
        # central differences: error O(eps^2) plus rounding of losses ~1e3
        assert_allclose(grad, numeric, atol=1e-5 * np.abs(grad).max())


def test_a_sample_of_every_item_with_weight_one_is_the_full_softmax(counts):
    """The collision correction: positives counted once, whatever was drawn."""
    rng = np.random.RandomState(1)
    A, B = rng.standard_normal((50, 4)), rng.standard_normal((50, 4))
    p = counts.shape[1]
    everything = NegativeSample(
        items=np.arange(p), log_weight=np.zeros(p), weight=np.ones(p)
    )
    loss, dA, dB = _loss(counts, A, B, everything)
    full, fA, fB = cosine_softmax_loss_grad(counts, A, B, temperature=0.3, batch_size=7)
    assert_allclose(loss, full, rtol=1e-12)
    assert_allclose(dA, fA, rtol=1e-9, atol=1e-12)
    assert_allclose(dB, fB, rtol=1e-9, atol=1e-12)


def test_sampler_draws_in_proportion_to_popularity_power():
    popularity = np.array([0, 1, 4, 16, 0, 9])
    sampler = NegativeSampler(popularity, 4000, 0.5, np.random.default_rng(0))
    draws = np.zeros(6)
    for _ in range(50):
        sample = sampler.draw()
        # weight c_j / (S q_j): draws per item recovered from the weights
        draws[sample.items] += (
            sample.weight[sample.items] * 4000 * sampler.q[sample.items]
        )
    expected = np.sqrt(popularity) / np.sqrt(popularity).sum()
    assert draws[popularity == 0].sum() == 0  # never an item without users
    # 200,000 draws: standard error of a share below 0.0012
    assert_allclose(draws / draws.sum(), expected, atol=0.005)


def test_importance_weights_make_the_partition_function_unbiased(counts):
    """E[sum over the sample of w_j exp(s_uj)] = sum over all items of exp(s_uj)."""
    rng = np.random.RandomState(2)
    A, B = rng.standard_normal((50, 4)), rng.standard_normal((50, 4))
    popularity = np.maximum(item_popularity(counts), 1)
    sampler = NegativeSampler(popularity, 30, 0.5, np.random.default_rng(0))
    P = counts @ A
    P /= np.linalg.norm(P, axis=1, keepdims=True)
    Q = B / np.linalg.norm(B, axis=1, keepdims=True)
    E = np.exp(P @ Q.T / 0.3)
    estimates = [
        E[:, s.items] @ s.weight[s.items] for s in (sampler.draw() for _ in range(4000))
    ]
    # 4000 draws of 30: relative standard error below 1 %
    assert_allclose(np.mean(estimates, axis=0), E.sum(axis=1), rtol=0.03)


def test_memory_is_bounded_by_the_batch_not_n_times_p():
    """3,000 x 4,000 users x items: an n x p float64 array would be 96 MB."""
    n, p, k = 3_000, 4_000, 8
    X = sp.random(n, p, density=0.002, random_state=0, format="csr")
    X.data[:] = 1.0
    rng = np.random.RandomState(0)
    A, B = rng.standard_normal((p, k)), rng.standard_normal((p, k))
    sample = NegativeSampler(item_popularity(X), 1024, 0.5, rng).draw()
    batch = sampled_batch_size(1024, n)
    assert batch * 1024 <= BLOCK_ENTRIES
    tracemalloc.start()
    _loss(X, A, B, sample, t=0.1, batch_size=batch)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 32 * 2**20  # a few blocks of 2 MB, nowhere near 96 MB


@pytest.fixture(scope="module")
def clustered():
    sim = make_clustered_interactions(
        n_users=600, n_items=120, n_clusters=4, random_state=0
    )
    return sim.data.tocsr()


def _sampled(**params):
    defaults = dict(n_components=6, loss="sampled_softmax", n_negatives=32, max_iter=30)
    return CosineAutoencoder(**{**defaults, **params})


def test_sampled_fit_is_deterministic_given_random_state(clustered):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = _sampled(random_state=0).fit(clustered)
        b = _sampled(random_state=0).fit(clustered)
        c = _sampled(random_state=1).fit(clustered)
    assert_array_equal(a.decoder_, b.decoder_)
    assert not np.allclose(a.decoder_, c.decoder_)
    assert a.loss_used_ == "sampled_softmax"


def test_sampled_fit_lowers_the_full_softmax_loss(clustered):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = CosineAutoencoder(6, loss="softmax", max_iter=1).fit(clustered)
        model = _sampled(random_state=0).fit(clustered)

    def full_loss(m):
        return cosine_softmax_loss_grad(
            clustered, m.encoder_, m.decoder_, temperature=0.1, batch_size=600
        )[0]

    assert full_loss(model) < 0.99 * full_loss(start)


def test_auto_loss_samples_when_an_exact_evaluation_is_costly(clustered):
    """The rule of ``loss="auto"`` (its catalogue case is E64)."""
    assert not use_sampled_softmax(943, 1682)  # MovieLens-100k
    assert not use_sampled_softmax(20_000, 1_000)  # skcosim reproduce
    assert use_sampled_softmax(100_000, 20_000)
    # A mid-size catalogue with many users: n p = 1.6e8 per exact evaluation.
    assert use_sampled_softmax(48_880, 3_283)
    assert use_sampled_softmax(10**6, 2_000)
    model = CosineAutoencoder(4, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(clustered)
    assert model.loss == "auto" and model.loss_used_ == "softmax"


def test_sampled_softmax_rejects_negative_values(clustered):
    X = clustered.copy()
    X.data[0] = -1.0
    with pytest.raises(ValueError, match="sampled_softmax"):
        _sampled().fit(X)


@pytest.mark.catalogue(
    "E65",
    input=(
        "``CosineAutoencoder(loss='sampled_softmax')`` whose last epochs are "
        "worse than its best"
    ),
    outcome=(
        "Correct: ``loss_curve_[-1]`` is the evaluation loss of the returned "
        "model and ``n_iter_`` its epoch"
    ),
)
@pytest.mark.parametrize("seed", range(4))
def test_sampled_fit_reports_the_model_it_returns(clustered, monkeypatch, seed):
    """E65: the curve and the epoch count stop at the returned (best) epoch.

    The evaluation loss is recomputed on the returned factors with the
    evaluation set the fit drew; before, the curve went on to later, worse
    epochs (seeds 0, 2 and 3 here).
    """
    import skcosim._optim._sampled_softmax as sampled
    from skcosim._optim._losses import NORM_FLOOR

    drawn = {}

    def spy(*args, **kwargs):
        drawn["monitor"] = sampled._monitor.__wrapped__(*args, **kwargs)
        return drawn["monitor"]

    spy.__wrapped__ = sampled._monitor
    monkeypatch.setattr(sampled, "_monitor", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = _sampled(random_state=seed, learning_rate=0.3).fit(clustered)
    Xm, sample, total = drawn["monitor"]
    loss = sampled_softmax_loss_grad(
        Xm,
        model.encoder_,
        model.decoder_,
        temperature=model.temperature,
        sample=sample,
        batch_size=Xm.shape[0],
        floor=NORM_FLOOR,
    )[0]
    assert_allclose(loss / total, model.loss_curve_[-1], rtol=1e-12)
    assert model.loss_curve_[-1] == min(model.loss_curve_[1:])
    assert model.n_iter_ == len(model.loss_curve_) - 1


def test_minibatch_unique_matches_numpy():
    """The sort-based distinct items of a minibatch equal ``np.unique``: empty,
    one item, all equal, repeated and unsorted indices (int32, as CSR's)."""
    from skcosim._optim._sampled_softmax import _unique

    rng = np.random.RandomState(0)
    cases = [
        np.array([], dtype=np.int32),
        np.array([7], dtype=np.int32),
        np.full(5, 3, dtype=np.int32),
        rng.randint(0, 50, 200).astype(np.int32),
        rng.zipf(1.5, 1000).astype(np.int32) % 20_000,
    ]
    for indices in cases:
        got = _unique(indices)
        np.testing.assert_array_equal(got, np.unique(indices))
        assert got.dtype == indices.dtype


@pytest.mark.parametrize("batch_size", [1, 7, 30])
def test_sampled_loss_without_gradient_is_the_same_loss(counts, batch_size):
    """``with_grad=False`` (the evaluation loss of Adam's stopping rule): the
    loss of the full computation, on data with an empty user and items nobody
    interacted with, to 1e-12 relative (some numpy builds round one product
    of the two paths differently in the last bit)."""
    X = counts.tolil()
    X[3] = 0
    X[:, [5, 6]] = 0
    X = X.tocsr()
    rng = np.random.RandomState(0)
    A, B = rng.standard_normal((50, 4)), rng.standard_normal((50, 4))
    popularity = item_popularity(X)
    sample = NegativeSampler(popularity, 20, 0.5, rng).draw()
    full = _loss(X, A, B, sample, batch_size=batch_size)[0]
    alone = sampled_softmax_loss_grad(
        X, A, B, temperature=0.3, sample=sample, batch_size=batch_size, with_grad=False
    )
    assert alone == pytest.approx(full, rel=1e-12)


@pytest.mark.catalogue(
    "E97",
    input='``CosineAutoencoder(loss="sampled_softmax", batch_size=5)``',
    outcome=(
        "Correct: the logits are computed 5 users at a time (the parameter was "
        'ignored); the fit equals ``batch_size="auto"``\'s to float32 rounding'
    ),
)
def test_sampled_softmax_blocks_of_batch_size_users(clustered, monkeypatch):
    """E97: ``batch_size`` sets the sampled softmax's blocks of users (it was
    ignored): every block has at most ``batch_size`` users, and the fit
    equals the ``"auto"`` one to float32 rounding, since blocks only split
    sums."""
    from skcosim._optim import _sampled_softmax

    seen = []
    original = _sampled_softmax.sampled_softmax_loss_grad

    def spy(X, *args, batch_size, **kwargs):
        seen.append(batch_size)
        return original(X, *args, batch_size=batch_size, **kwargs)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        auto = _sampled(random_state=0, max_iter=3).fit(clustered)
        monkeypatch.setattr(_sampled_softmax, "sampled_softmax_loss_grad", spy)
        small = _sampled(random_state=0, max_iter=3, batch_size=5).fit(clustered)
    assert seen and set(seen) == {5}
    assert_allclose(small.decoder_, auto.decoder_, atol=1e-4)
    assert sampled_batch_size(32, 3, 5) == 3  # never more users than there are
