"""The gradient machinery: analytic gradients, L-BFGS and dropout-SGD solvers."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from skcosim import DropoutAutoencoder, WeightDecayAutoencoder
from skcosim._linalg._spectrum import top_k_spectrum
from skcosim._optim._lbfgs import SpectralPreconditioner, fit_factors_lbfgs
from skcosim._optim._losses import (
    cosine_softmax_loss_grad,
    cosine_squared_loss_grad,
    floored_unit_rows,
    floored_unit_rows_backward,
    product_penalty_loss_grad,
    weight_decay_loss_grad,
)
from skcosim.metrics import neighbor_overlap


def _data(n=40, p=15, density=0.3, seed=0, sparse=True):
    rng = np.random.RandomState(seed)
    X = (rng.rand(n, p) < density) * rng.randint(1, 4, size=(n, p)).astype(float)
    X[0] = 0.0  # a user without interactions
    return sp.csr_matrix(X) if sparse else X


def _factors(p=15, k=4, seed=1):
    rng = np.random.RandomState(seed)
    return rng.randn(p, k), rng.randn(p, k)


def _assert_gradient_matches_central_differences(loss_grad, A, B, *, rtol=1e-6):
    """Directional derivatives along random directions vs central differences."""
    _, dA, dB = loss_grad(A, B)
    rng = np.random.RandomState(42)
    h = 1e-6
    for _ in range(5):
        VA, VB = rng.randn(*A.shape), rng.randn(*B.shape)
        f_plus = loss_grad(A + h * VA, B + h * VB)[0]
        f_minus = loss_grad(A - h * VA, B - h * VB)[0]
        numeric = (f_plus - f_minus) / (2 * h)
        analytic = np.sum(dA * VA) + np.sum(dB * VB)
        assert_allclose(analytic, numeric, rtol=rtol, atol=1e-6 * abs(f_plus))


def _naive_reconstruction(X, A, B):
    X = np.asarray(X.todense()) if sp.issparse(X) else X
    return np.sum((X - X @ A @ B.T) ** 2)


@pytest.mark.parametrize("sparse", [True, False])
def test_weight_decay_gradient_matches_finite_differences(sparse):
    X = _data(sparse=sparse)
    A, B = _factors()
    _assert_gradient_matches_central_differences(
        lambda A, B: weight_decay_loss_grad(X, A, B, 2.0), A, B
    )


def test_weight_decay_loss_is_objective_2():
    X = _data()
    A, B = _factors()
    Xd = X.toarray()
    expected = _naive_reconstruction(X, A, B) + 2.0 * (
        np.sum((Xd @ A) ** 2) + np.sum(B**2)
    )
    assert_allclose(weight_decay_loss_grad(X, A, B, 2.0)[0], expected, rtol=1e-10)


@pytest.mark.parametrize("sparse", [True, False])
@pytest.mark.parametrize("dropout", [0.0, 0.4])
def test_product_penalty_gradient_matches_finite_differences(sparse, dropout):
    # Objective 1 (dropout = 0) and the EDLAE expected loss (dropout > 0).
    X = _data(sparse=sparse)
    Xd = X.toarray() if sparse else X
    lam = 3.0 + dropout / (1 - dropout) * np.sum(Xd**2, axis=0)
    A, B = _factors()
    _assert_gradient_matches_central_differences(
        lambda A, B: product_penalty_loss_grad(X, A, B, lam), A, B
    )


def test_product_penalty_loss_is_edlae_expected_loss():
    X = _data()
    Xd = X.toarray()
    q = 0.4
    lam = 3.0 + q / (1 - q) * np.sum(Xd**2, axis=0)
    A, B = _factors()
    W = A @ B.T
    expected = _naive_reconstruction(X, A, B) + np.sum(lam[:, None] * W**2)
    assert_allclose(product_penalty_loss_grad(X, A, B, lam)[0], expected, rtol=1e-10)


def test_floored_unit_rows_backward_matches_finite_differences():
    rng = np.random.RandomState(0)
    Z = rng.randn(6, 3)
    G = rng.randn(6, 3)
    Z_hat, r = floored_unit_rows(Z)
    analytic = floored_unit_rows_backward(Z_hat, r, G)
    h = 1e-6
    numeric = np.zeros_like(Z)
    for idx in np.ndindex(Z.shape):
        E = np.zeros_like(Z)
        E[idx] = h
        numeric[idx] = (
            np.sum(G * floored_unit_rows(Z + E)[0])
            - np.sum(G * floored_unit_rows(Z - E)[0])
        ) / (2 * h)
    assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_floored_unit_rows_maps_zero_rows_to_zero_without_nan():
    Z = np.array([[3.0, 4.0], [0.0, 0.0]])
    Z_hat, r = floored_unit_rows(Z)
    assert_allclose(Z_hat, [[0.6, 0.8], [0.0, 0.0]], rtol=1e-12)
    grad = floored_unit_rows_backward(Z_hat, r, np.ones_like(Z))
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("sparse", [True, False])
def test_cosine_squared_gradient_matches_finite_differences(sparse):
    X = _data(sparse=sparse)
    A, B = _factors()
    _assert_gradient_matches_central_differences(
        lambda A, B: cosine_squared_loss_grad(X, A, B)[:3], A, B
    )


def test_cosine_squared_loss_is_the_expanded_loss_at_the_optimal_scale():
    X = _data()
    Xd = X.toarray()
    A, B = _factors()
    loss, _, _, c = cosine_squared_loss_grad(X, A, B)
    P, Q = floored_unit_rows(Xd @ A)[0], floored_unit_rows(B)[0]
    C = P @ Q.T
    assert_allclose(loss, np.sum((Xd - c * C) ** 2), rtol=1e-10)
    # c minimizes the loss over the scale: perturbing it only increases it.
    for delta in (-1e-3, 1e-3):
        assert np.sum((Xd - (c + delta) * C) ** 2) > loss


@pytest.mark.parametrize("sparse", [True, False])
@pytest.mark.parametrize("batch_size", [7, 40])
def test_cosine_softmax_gradient_matches_finite_differences(sparse, batch_size):
    X = _data(sparse=sparse)
    A, B = _factors()
    _assert_gradient_matches_central_differences(
        lambda A, B: cosine_softmax_loss_grad(
            X, A, B, temperature=0.5, batch_size=batch_size
        ),
        A,
        B,
    )


def test_cosine_softmax_loss_is_the_multinomial_likelihood_for_any_batch_size():
    X = _data()
    Xd = X.toarray()
    A, B = _factors()
    t = 0.2
    S = floored_unit_rows(Xd @ A)[0] @ floored_unit_rows(B)[0].T / t
    log_softmax = S - np.log(np.exp(S).sum(axis=1, keepdims=True))
    expected = -np.sum(Xd * log_softmax)
    full = cosine_softmax_loss_grad(X, A, B, temperature=t, batch_size=40)
    blocks = cosine_softmax_loss_grad(X, A, B, temperature=t, batch_size=3)
    assert_allclose(full[0], expected, rtol=1e-10)
    assert_allclose(blocks[0], expected, rtol=1e-10)
    assert_allclose(blocks[1], full[1], rtol=1e-9, atol=1e-12)
    assert_allclose(blocks[2], full[2], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("t", [1.0, 0.1, 0.01])
def test_cosine_softmax_loss_with_float32_blocks_matches_the_dense_loss(t):
    """The float32 log-partition blocks: within a few ``eps32 / t`` per unit of
    ``X`` of a dense float64 numpy computation (long-tailed data: an empty
    user, single-interaction users, unseen items, stored zeros)."""
    from .._long_tailed import long_tailed_interactions

    X = long_tailed_interactions()
    Xd = X.toarray()
    A, B = _factors(p=X.shape[1], k=6, seed=3)
    B[-3:] = 0.0  # unseen items: zero embeddings, cosine 0 with everyone
    P, Q = floored_unit_rows(Xd @ A, 1e-3)[0], floored_unit_rows(B, 1e-3)[0]
    S = P @ Q.T / t
    m = S.max(axis=1, keepdims=True)
    expected = -np.sum(Xd * (S - m - np.log(np.exp(S - m).sum(axis=1, keepdims=True))))
    kwargs = dict(temperature=t, batch_size=7, floor=1e-3, with_grad=False)
    loss64 = cosine_softmax_loss_grad(X, A, B, **kwargs)
    loss32 = cosine_softmax_loss_grad(X, A, B, logit_dtype=np.float32, **kwargs)
    assert_allclose(loss64, expected, rtol=1e-10)
    bound = 4 * np.finfo(np.float32).eps / t * Xd.sum()
    assert abs(loss32 - expected) <= bound
    assert abs(loss32 - expected) > 0  # float32 for real
    # Blocks on threads, summed in order: the same sum (to the last bits, which
    # BLAS may round differently on a thread of its own).
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(3) as pool:
        for dtype, serial in ((np.float64, loss64), (np.float32, loss32)):
            threaded = cosine_softmax_loss_grad(
                X, A, B, logit_dtype=dtype, pool=pool, **kwargs
            )
            assert threaded == pytest.approx(serial, rel=1e-13)
    with pytest.raises(ValueError, match="float64"):
        cosine_softmax_loss_grad(
            X, A, B, temperature=t, batch_size=7, logit_dtype=np.float32
        )


# -- L-BFGS against the closed forms ---------------------------------------------------


def _small_interactions():
    rng = np.random.RandomState(0)
    return sp.csr_matrix((rng.rand(300, 60) < 0.15).astype(float))


@pytest.mark.parametrize(
    "estimator",
    [
        WeightDecayAutoencoder(6, alpha=2.0),
        DropoutAutoencoder(6, alpha=5.0),
        DropoutAutoencoder(6, alpha=1.0, dropout=0.3),
    ],
    ids=["objective2", "objective1", "edlae"],
)
def test_lbfgs_reaches_the_closed_form_loss(estimator):
    X = _small_interactions()
    closed = estimator.fit(X).objective(X)
    trained = estimator.set_params(
        solver="lbfgs", tol=1e-12, max_iter=3000, random_state=0
    ).fit(X)
    assert_allclose(trained.objective(X), closed, rtol=1e-4)
    assert trained.n_iter_ == len(trained.loss_curve_) - 1
    assert trained.loss_curve_[-1] < trained.loss_curve_[0]


def _power_law_interactions(n=400, p=200, density=0.05, seed=0):
    """Binary data with Zipf item popularity and log-normal user activity."""
    rng = np.random.RandomState(seed)
    item = 1.0 / np.arange(1, p + 1)
    user = rng.lognormal(0.0, 1.0, n)
    prob = density * np.outer(user / np.median(user), item * p / item.sum())
    return sp.csr_matrix((rng.rand(n, p) < np.clip(prob, 0, 1)).astype(float))


@pytest.mark.parametrize("seed", [0, 1])
def test_weight_decay_lbfgs_defaults_reach_the_closed_form_on_power_law_data(seed):
    # Popular items make X^T X badly conditioned (s_1 / s_20 about 7 here):
    # unpreconditioned L-BFGS from a 0.1 start ended at max_iter=500 still
    # 4e-4 to 9e-4 above the closed form (seeds 0 to 3).
    X = _power_law_interactions()
    closed = WeightDecayAutoencoder(20, alpha=2.0).fit(X).objective(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = WeightDecayAutoencoder(
            20, alpha=2.0, solver="lbfgs", random_state=seed
        ).fit(X)
    assert model.n_iter_ < model.max_iter  # stopped on tol
    assert_allclose(model.objective(X), closed, rtol=1e-4)


@pytest.mark.parametrize("scale", [1e-4, 1e4])
@pytest.mark.parametrize(
    "estimator, alpha_power",
    [
        (WeightDecayAutoencoder(6, alpha=2.0), 1),
        (DropoutAutoencoder(6, alpha=5.0), 2),
        (DropoutAutoencoder(6, alpha=1.0, dropout=0.3), 2),
    ],
    ids=["objective2", "objective1", "edlae"],
)
def test_lbfgs_defaults_reach_the_closed_form_at_any_data_scale(
    estimator, alpha_power, scale
):
    # The same problem in other units (alpha scales as X, or X squared).
    # Before: on X * 1e-4 every objective stopped after 3 to 11 iterations,
    # 5e-2 to 3e-1 above the closed form, without a warning; Objective 2 on
    # X * 1e4 after 24, 3e-1 above it.
    X = _small_interactions() * scale
    estimator = clone(estimator).set_params(alpha=estimator.alpha * scale**alpha_power)
    closed = estimator.fit(X).objective(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        trained = clone(estimator).set_params(solver="lbfgs", random_state=0).fit(X)
    assert_allclose(trained.objective(X), closed, rtol=1e-4)


def test_spectral_preconditioner_whitens_x_on_the_top_spectrum():
    X = _power_law_interactions(n=60, p=30, density=0.2).toarray()
    s, V = top_k_spectrum(X, 5)
    pre = SpectralPreconditioner(s, V)
    M = pre.apply(np.eye(30))
    assert_allclose(M, M.T, atol=1e-12)  # so the gradient in A' is M dA
    assert_allclose(pre.solve(M), np.eye(30), atol=1e-10)
    sv = np.linalg.svd(X @ M, compute_uv=False)
    assert_allclose(sv[:5], 1.0, rtol=1e-8)  # s_1 / s_5 in X itself
    assert sv[5] <= 1.0 + 1e-8
    assert_allclose(sv[5:], np.linalg.svd(X, compute_uv=False)[5:] / s[4], rtol=1e-8)


def test_spectral_preconditioner_of_a_zero_spectrum_is_the_identity():
    pre = SpectralPreconditioner(np.zeros(3), np.zeros((7, 3)))
    Z = np.arange(21.0).reshape(7, 3)
    assert_allclose(pre.apply(Z), Z, rtol=0, atol=0)
    assert_allclose(pre.solve(Z), Z, rtol=0, atol=0)


def test_preconditioned_lbfgs_moves_the_encoder_within_the_row_space_only():
    # More items than users, one never seen: X has a null space, on which
    # the loss does not depend; as with plain gradient steps the encoder
    # keeps its start there.
    Xd = _data(n=12, p=20, density=0.3, sparse=False)
    Xd[:, 3] = 0.0
    X = sp.csr_matrix(Xd)
    s, V = top_k_spectrum(X, 4)
    A0, B0 = _factors(p=20, k=4)
    A, _, _, _ = fit_factors_lbfgs(
        X,
        A0,
        B0,
        lambda X, A, B: weight_decay_loss_grad(X, A, B, 1.0),
        max_iter=200,
        tol=1e-10,
        grad_scale=float(s[0]),
        preconditioner=SpectralPreconditioner(s, V),
    )
    null = np.eye(20) - np.linalg.pinv(Xd) @ Xd
    assert np.linalg.norm(A - A0) > 1.0  # it trained
    assert_allclose(null @ (A - A0), 0.0, atol=1e-8 * np.linalg.norm(A - A0))
    assert_allclose(A[3], A0[3], rtol=1e-10)


def test_lbfgs_warns_at_max_iter():
    X = _small_interactions()
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        model = WeightDecayAutoencoder(6, solver="lbfgs", max_iter=3).fit(X)
    assert model.n_iter_ == 3


def test_lbfgs_is_deterministic_given_random_state():
    X = _small_interactions()
    a = DropoutAutoencoder(4, solver="lbfgs", random_state=3).fit(X)
    b = DropoutAutoencoder(4, solver="lbfgs", random_state=3).fit(X)
    assert_allclose(a.decoder_, b.decoder_, rtol=0, atol=0)


def test_gradient_solvers_reject_a_requested_scaling():
    X = _small_interactions()
    with pytest.raises(ValueError, match="split is the one training reaches"):
        DropoutAutoencoder(4, solver="lbfgs", gauge="symmetric").fit(X)


def test_gradient_solvers_keep_float32():
    X = _small_interactions().astype(np.float32)
    model = DropoutAutoencoder(4, solver="lbfgs", random_state=0).fit(X)
    assert model.encoder_.dtype == np.float32
    assert model.transform(X).dtype == np.float32


def test_verbose_reports_every_iteration(capsys):
    X = _small_interactions()
    model = WeightDecayAutoencoder(
        4, solver="lbfgs", max_iter=5, verbose=2, random_state=0
    )
    with pytest.warns(ConvergenceWarning):
        model.fit(X)
    lines = [
        line for line in capsys.readouterr().out.splitlines() if ", loss =" in line
    ]
    assert len(lines) == model.n_iter_ + 1


# -- dropout SGD: which gauge does training pick? ------------------------------------


@pytest.fixture(scope="module")
def gauge_data():
    """Low-rank data whose 8 components all matter (docs/user_guide/gauges.rst)."""
    rng = np.random.RandomState(0)
    n, p, k = 1000, 100, 8
    V = np.linalg.qr(rng.randn(p, k))[0]
    s = np.linspace(2.0, 1.0, k)
    return rng.randn(n, k) @ np.diag(s) @ V.T + 0.3 * rng.randn(n, p)


def _dropout_sgd_fit(X, init_scale, seed):
    return DropoutAutoencoder(
        8,
        alpha=1.0,
        dropout=0.5,
        solver="dropout-sgd",
        init_scale=init_scale,
        random_state=seed,
    ).fit(X)


@pytest.mark.slow
def test_dropout_sgd_init_scale_decides_the_gauge(gauge_data):
    X = gauge_data
    closed = DropoutAutoencoder(8, alpha=1.0, dropout=0.5).fit(X)
    symmetric = DropoutAutoencoder(8, alpha=1.0, dropout=0.5, gauge="symmetric")
    symmetric = symmetric.fit(X).decoder_
    ordinary = [_dropout_sgd_fit(X, 0.1, seed) for seed in (0, 1)]
    tiny = _dropout_sgd_fit(X, 0.001, 0)

    # Every run reaches the closed-form expected loss within 2 %.
    for model in [*ordinary, tiny]:
        assert_allclose(model.objective(X), closed.objective(X), rtol=0.02)
    # Ordinary init: same loss, different neighbours (a seed-dependent gauge).
    overlap = neighbor_overlap(ordinary[0].decoder_, ordinary[1].decoder_)
    assert overlap < 0.85
    # Tiny init: near the balanced split A^T A = B^T B, so near "symmetric".
    imbalance = tiny.encoder_.T @ tiny.encoder_ - tiny.decoder_.T @ tiny.decoder_
    assert np.linalg.norm(imbalance) < 0.1 * np.linalg.norm(tiny.decoder_) ** 2
    assert neighbor_overlap(tiny.decoder_, symmetric) >= 0.9
    assert neighbor_overlap(tiny.decoder_, symmetric) > max(
        neighbor_overlap(m.decoder_, symmetric) for m in ordinary
    )


def test_dropout_sgd_warns_at_max_iter(gauge_data):
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        model = DropoutAutoencoder(
            8, dropout=0.5, solver="dropout-sgd", max_iter=2, random_state=0
        ).fit(gauge_data)
    assert model.n_iter_ == 2
    assert len(model.loss_curve_) == 2


def test_dropout_sgd_on_sparse_input_lowers_the_loss():
    X = _small_interactions()
    model = DropoutAutoencoder(
        4, dropout=0.3, solver="dropout-sgd", max_iter=20, batch_size=50, random_state=0
    )
    with pytest.warns(ConvergenceWarning):
        model.fit(X)
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    # Better than the zero model, whose loss is ||X||^2.
    assert model.objective(X) < 0.9 * X.multiply(X).sum()
    assert np.all(np.isfinite(model.encoder_))


def test_verbose_one_shows_a_tqdm_progress_bar(capsys):
    pytest.importorskip("tqdm")
    X = _small_interactions()
    model = WeightDecayAutoencoder(
        4, solver="lbfgs", max_iter=5, verbose=1, random_state=0
    )
    with pytest.warns(ConvergenceWarning):
        model.fit(X)
    captured = capsys.readouterr()
    assert "%|" in captured.err  # the bar, on stderr
    assert ", loss =" not in captured.out  # no per-iteration lines


def test_dropout_sgd_divergence_raises_a_clear_error():
    X = _small_interactions()
    model = DropoutAutoencoder(
        4, solver="dropout-sgd", learning_rate=1e4, max_iter=50, random_state=0
    )
    with pytest.raises(FloatingPointError, match="lower learning_rate"):
        model.fit(X)


@pytest.mark.catalogue(
    "E66",
    input=(
        "The three cosine losses with the fits' floor on factors with a zero "
        "user embedding, a user and an item below the floor and unit rows"
    ),
    outcome=(
        "Correct: rows above the floor get exact unit norm, rows below "
        "``z / floor``; the analytic gradients match central differences and "
        "stay below ``1 / floor`` times the gradient's scale"
    ),
)
@pytest.mark.parametrize("loss", ["softmax", "squared", "sampled_softmax"])
def test_floored_normalization_gradients_match_finite_differences(loss):
    """E66: one floor rule, ``N(z) = z / max(||z||, floor)``, in every loss."""
    from skcosim._optim._losses import NORM_FLOOR
    from skcosim._optim._sampled_softmax import (
        NegativeSampler,
        item_popularity,
        sampled_softmax_loss_grad,
    )

    X = _data()
    A, B = _factors()
    # Item 2 (alone) makes user 5's embedding tiny; item 3's decoder row is tiny.
    X = X.tolil()
    X[5, :] = 0.0
    X[5, 2] = 1.0
    X = X.tocsr()
    A[2] = 1e-6
    B[3] = 1e-6
    Z = np.asarray(X @ A)
    norms = np.linalg.norm(Z, axis=1)
    assert norms[0] == 0.0 and 0 < norms[5] < NORM_FLOOR / 10
    Z_hat, _ = floored_unit_rows(Z, NORM_FLOOR)
    assert_allclose(Z_hat[5], Z[5] / NORM_FLOOR, rtol=1e-15)
    big = norms > NORM_FLOOR
    assert_allclose(np.linalg.norm(Z_hat[big], axis=1), 1.0, rtol=1e-15)
    if loss == "softmax":

        def loss_grad(A, B):
            return cosine_softmax_loss_grad(
                X, A, B, temperature=0.3, batch_size=7, floor=NORM_FLOOR
            )
    elif loss == "squared":

        def loss_grad(A, B):
            return cosine_squared_loss_grad(X, A, B, floor=NORM_FLOOR)[:3]
    else:
        sampler = NegativeSampler(item_popularity(X), 8, 0.5, np.random.RandomState(0))
        sample = sampler.draw()

        def loss_grad(A, B):
            return sampled_softmax_loss_grad(
                X, A, B, temperature=0.3, sample=sample, batch_size=7, floor=NORM_FLOOR
            )

    _assert_gradient_matches_central_differences(loss_grad, A, B, rtol=1e-5)
    _, dA, dB = loss_grad(A, B)
    _, dA_ref, dB_ref = loss_grad(*_factors())
    scale = max(np.abs(dA_ref).max(), np.abs(dB_ref).max())
    assert max(np.abs(dA).max(), np.abs(dB).max()) < 10 * scale / NORM_FLOOR
