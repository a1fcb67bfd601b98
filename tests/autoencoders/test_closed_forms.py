"""Properties of the closed-form linear autoencoders (Objectives 1 and 2)."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.optimize import minimize

from skcosim import DropoutAutoencoder, WeightDecayAutoencoder
from skcosim._linalg._gauge import apply_gauge, sample_gauge
from skcosim._linalg._spectrum import top_k_spectrum


def _clustered(n_users=300, n_items=60, n_clusters=3, seed=0):
    """Binary users x items with block structure and uneven item popularity."""
    rng = np.random.RandomState(seed)
    item_c = np.repeat(np.arange(n_clusters), n_items // n_clusters)
    user_c = rng.randint(n_clusters, size=n_users)
    pop = 1.0 / np.arange(1, n_items // n_clusters + 1) ** 0.7
    pop = np.tile(pop, n_clusters)
    p = np.where(user_c[:, None] == item_c[None, :], 0.5, 0.05) * pop
    return (rng.rand(n_users, n_items) < p).astype(float), item_c


def _top_neighbors(E, k=10):
    """Brute-force top-k cosine neighbours (self excluded), for these tests only."""
    norms = np.linalg.norm(E, axis=1, keepdims=True)
    U = E / np.where(norms > 0, norms, 1)
    S = U @ U.T
    np.fill_diagonal(S, -np.inf)
    return np.argsort(-S, axis=1, kind="stable")[:, :k]


def _mean_jaccard(N1, N2):
    return np.mean(
        [
            len(set(a) & set(b)) / len(set(a) | set(b))
            for a, b in zip(N1, N2, strict=True)
        ]
    )


def _cosines(E):
    norms = np.linalg.norm(E, axis=1, keepdims=True)
    U = E / np.where(norms > 0, norms, 1)
    return U @ U.T


# -- losses written out densely, independent of the package, for the optimizer ----


def _objective1_and_grad(theta, X, k, lam):
    """||X - X A B^T||^2 + ||diag(lam)^(1/2) A B^T||^2 and its gradient."""
    p = X.shape[1]
    A, B = theta[: p * k].reshape(p, k), theta[p * k :].reshape(p, k)
    W = A @ B.T
    R = X - X @ W
    f = np.sum(R**2) + np.sum(lam[:, None] * W**2)
    dW = -2 * X.T @ R + 2 * lam[:, None] * W
    return f, np.concatenate([(dW @ B).ravel(), (dW.T @ A).ravel()])


def _objective2_and_grad(theta, X, k, alpha):
    """||X - X A B^T||^2 + alpha (||X A||^2 + ||B||^2) and its gradient."""
    p = X.shape[1]
    A, B = theta[: p * k].reshape(p, k), theta[p * k :].reshape(p, k)
    P = X @ A
    R = X - P @ B.T
    f = np.sum(R**2) + alpha * (np.sum(P**2) + np.sum(B**2))
    dA = X.T @ (-2 * R @ B + 2 * alpha * P)
    dB = -2 * R.T @ P + 2 * alpha * B
    return f, np.concatenate([dA.ravel(), dB.ravel()])


def _best_local_minimum(fun, X, k, extra, n_starts=4, seed=0):
    rng = np.random.RandomState(seed)
    p = X.shape[1]
    best = np.inf
    for _ in range(n_starts):
        theta0 = rng.normal(scale=0.3, size=2 * p * k)
        res = minimize(
            fun,
            theta0,
            args=(X, k, extra),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 20000, "ftol": 1e-15, "gtol": 1e-10},
        )
        best = min(best, res.fun)
    return best


@pytest.fixture(scope="module")
def small():
    X, _ = _clustered(n_users=40, n_items=12, n_clusters=3, seed=1)
    return X


# -- optimality ---------------------------------------------------------------------


def test_objective2_closed_form_is_optimal(small):
    X, k, alpha = small, 3, 1.5
    model = WeightDecayAutoencoder(k, alpha=alpha).fit(X)
    loss = model.objective(X)
    theta = np.concatenate([model.encoder_.ravel(), model.decoder_.ravel()])
    f_theta, _ = _objective2_and_grad(theta, X, k, alpha)
    assert_allclose(loss, f_theta, rtol=1e-10)  # objective() is the written loss
    rng = np.random.RandomState(0)
    for _ in range(20):
        f, _ = _objective2_and_grad(
            theta + 1e-3 * rng.normal(size=theta.size), X, k, alpha
        )
        assert f > loss
    best = _best_local_minimum(_objective2_and_grad, X, k, alpha)
    assert best >= loss * (1 - 1e-6)
    assert best <= loss * (1 + 1e-4)  # the search is a real one: it gets there


@pytest.mark.parametrize("dropout", [None, 0.3])
def test_objective1_closed_form_is_optimal(small, dropout):
    X, k, alpha = small, 3, 2.0
    model = DropoutAutoencoder(k, alpha=alpha, dropout=dropout).fit(X)
    loss = model.objective(X)
    lam = np.full(X.shape[1], alpha)
    if dropout:
        lam = lam + dropout / (1 - dropout) * np.sum(X**2, axis=0)
    theta = np.concatenate([model.encoder_.ravel(), model.decoder_.ravel()])
    assert_allclose(loss, _objective1_and_grad(theta, X, k, lam)[0], rtol=1e-10)
    rng = np.random.RandomState(0)
    for _ in range(20):
        f, _ = _objective1_and_grad(
            theta + 1e-3 * rng.normal(size=theta.size), X, k, lam
        )
        assert f > loss
    best = _best_local_minimum(_objective1_and_grad, X, k, lam)
    assert best >= loss * (1 - 1e-6)
    assert best <= loss * (1 + 1e-4)


def test_dropout_zero_is_objective1():
    X, _ = _clustered(seed=2)
    a = DropoutAutoencoder(6, alpha=5.0).fit(X)
    b = DropoutAutoencoder(6, alpha=5.0, dropout=0.0).fit(X)
    c = DropoutAutoencoder(6, alpha=5.0, dropout=1e-12).fit(X)  # the EDLAE path
    W = a.encoder_ @ a.decoder_.T
    assert_allclose(b.encoder_ @ b.decoder_.T, W, atol=1e-10)
    assert_allclose(c.encoder_ @ c.decoder_.T, W, atol=1e-8)


def test_dropout_closed_form_matches_monte_carlo_dropout_loss():
    X, _ = _clustered(n_users=60, n_items=15, seed=3)
    q = 0.4
    model = DropoutAutoencoder(4, alpha=0.0, dropout=q).fit(X)
    W = model.encoder_ @ model.decoder_.T
    rng = np.random.RandomState(0)
    losses = np.array(
        [
            np.sum((X - (X * (rng.rand(*X.shape) > q) / (1 - q)) @ W) ** 2)
            for _ in range(4000)
        ]
    )
    se = losses.std(ddof=1) / np.sqrt(losses.size)
    # Expected input-dropout loss (EDLAE) vs its Monte Carlo mean: within 4 s.e.
    assert abs(losses.mean() - model.objective(X)) < 4 * se


# -- gauges -------------------------------------------------------------------------


def test_objective1_loss_is_gauge_invariant_but_neighbours_change():
    X, _ = _clustered(n_users=400, n_items=90, seed=4)
    scalings = ["identity", "symmetric", "encoder", "random", np.linspace(0.2, 5, 8)]
    models = [
        DropoutAutoencoder(8, alpha=20.0, gauge=s, random_state=0).fit(X)
        for s in scalings
    ]
    losses = [m.objective(X) for m in models]
    assert_allclose(losses, losses[0], rtol=1e-9)
    products = [m.encoder_ @ m.decoder_.T for m in models]
    for P in products[1:]:
        assert_allclose(P, products[0], atol=1e-10)
    reference = _top_neighbors(models[0].item_embeddings("decoder"))
    overlaps = [
        _mean_jaccard(reference, _top_neighbors(m.item_embeddings("decoder")))
        for m in models[1:]
    ]
    # Every other split moves the neighbours; the named ones less (g is close to 1
    # for the leading components), random gauges by a lot (docs/user_guide/gauges.rst).
    assert max(overlaps) < 0.95, overlaps
    assert max(overlaps[2:]) < 0.6, overlaps


def test_named_scalings_have_their_documented_column_norms():
    X, _ = _clustered(seed=5)
    s = {
        name: DropoutAutoencoder(5, alpha=10.0, gauge=name).fit(X)
        for name in ["identity", "symmetric", "encoder"]
    }
    s_vals = s["identity"].singular_values_
    g = s_vals**2 / (s_vals**2 + 10.0)
    norm = lambda M: np.linalg.norm(M, axis=0)  # noqa: E731
    assert_allclose(norm(s["identity"].decoder_), 1.0, rtol=1e-10)
    assert_allclose(norm(s["identity"].encoder_), g, rtol=1e-10)
    assert_allclose(norm(s["symmetric"].encoder_), np.sqrt(g), rtol=1e-10)
    assert_allclose(norm(s["symmetric"].decoder_), np.sqrt(g), rtol=1e-10)
    assert_allclose(norm(s["encoder"].encoder_), 1.0, rtol=1e-10)
    assert_allclose(norm(s["encoder"].decoder_), g, rtol=1e-10)


def test_random_scaling_depends_on_random_state_only():
    X, _ = _clustered(seed=6)
    a = DropoutAutoencoder(5, gauge="random", random_state=3).fit(X)
    b = DropoutAutoencoder(5, gauge="random", random_state=3).fit(X)
    c = DropoutAutoencoder(5, gauge="random", random_state=4).fit(X)
    assert_allclose(a.decoder_, b.decoder_, rtol=0, atol=0)
    assert not np.allclose(a.gauge_diagonal_, c.gauge_diagonal_)


def test_objective2_cosines_are_rotation_invariant_and_unique():
    X, _ = _clustered(seed=7)
    model = WeightDecayAutoencoder(6, alpha=1.0).fit(X)
    R = sample_gauge("orthogonal", 6, random_state=0)
    A2, B2 = apply_gauge(model.encoder_, model.decoder_, R)
    loss = model.objective(X)
    model.encoder_, model.decoder_ = A2, B2
    assert_allclose(model.objective(X), loss, rtol=1e-10)
    assert_allclose(_cosines(B2), _cosines(model.item_embeddings()), atol=1e-12)


def test_objective2_cosines_are_the_same_whatever_the_solver():
    rng = np.random.RandomState(8)
    # low rank plus noise: a clear spectral gap, so every solver is accurate
    X = rng.rand(500, 8) @ rng.rand(8, 120) + 0.01 * rng.rand(500, 120)
    cosines = [
        _cosines(
            WeightDecayAutoencoder(6, alpha=1.0, solver=s, random_state=0)
            .fit(X)
            .decoder_
        )
        for s in ["gram", "arpack", "randomized", "auto"]
    ]
    for C in cosines[1:]:
        assert_allclose(C, cosines[0], atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
def test_objective2_cosines_trained_by_lbfgs_are_the_closed_form_ones(seed):
    # Unique cosines: any solver that reaches the optimum must find them,
    # L-BFGS too from a random start with its default settings (before its
    # preconditioner it stopped at max_iter 0.1 to 0.3 above the optimum
    # here, cosines off by up to 0.4).
    rng = np.random.RandomState(8)
    X = rng.rand(500, 8) @ rng.rand(8, 120) + 0.01 * rng.rand(500, 120)
    closed = WeightDecayAutoencoder(6, alpha=1.0).fit(X)
    trained = WeightDecayAutoencoder(
        6, alpha=1.0, solver="lbfgs", random_state=seed
    ).fit(X)
    assert trained.n_iter_ < trained.max_iter
    assert_allclose(trained.objective(X), closed.objective(X), rtol=1e-4)
    # measured: at most 2e-3 over four seeds
    assert_allclose(_cosines(trained.decoder_), _cosines(closed.decoder_), atol=1e-2)


def test_alpha_moves_objective2_neighbours():
    X, _ = _clustered(n_users=400, n_items=90, seed=9)
    s = WeightDecayAutoencoder(8, alpha=0.0).fit(X).singular_values_
    small = _top_neighbors(WeightDecayAutoencoder(8, alpha=0.0).fit(X).decoder_)
    large = _top_neighbors(WeightDecayAutoencoder(8, alpha=0.9 * s[7]).fit(X).decoder_)
    assert _mean_jaccard(small, large) < 1.0  # the per-dimension scale is set by alpha


def test_objective2_cuts_components_below_alpha():
    X, _ = _clustered(seed=10)
    s = WeightDecayAutoencoder(8, alpha=0.0).fit(X).singular_values_
    model = WeightDecayAutoencoder(8, alpha=(s[2] + s[3]) / 2).fit(X)
    assert np.all(np.linalg.norm(model.decoder_[:, :3], axis=0) > 0)
    assert_allclose(model.decoder_[:, 3:], 0, atol=0)
    assert_allclose(model.encoder_[:, 3:], 0, atol=0)
    cut_all = WeightDecayAutoencoder(8, alpha=2 * s[0]).fit(X)
    assert_allclose(cut_all.transform(X), 0, atol=0)


# -- the spectrum module --------------------------------------------------------------


def test_gram_and_randomized_solvers_agree_on_singular_values():
    rng = np.random.RandomState(11)
    # rank 12 plus small noise, made sparse by dropping the smallest entries: the
    # spectral gap after the 12th value lets the randomized range finder converge
    X = rng.rand(800, 12) @ rng.rand(12, 300) + 0.01 * rng.rand(800, 300)
    X[X < np.quantile(X, 0.02)] = 0
    X = sp.csr_matrix(X)
    s_gram, _ = top_k_spectrum(X, 10, solver="gram")
    s_rand, _ = top_k_spectrum(X, 10, solver="randomized", random_state=0)
    s_arpack, _ = top_k_spectrum(X, 10, solver="arpack", random_state=0)
    assert_allclose(s_rand, s_gram, rtol=1e-6)
    assert_allclose(s_arpack, s_gram, rtol=1e-6)


def test_components_above_the_rank_are_zero():
    X = np.outer(np.arange(1.0, 6.0), np.arange(1.0, 4.0))  # rank 1, 5 x 3
    model = WeightDecayAutoencoder(5, alpha=0.0).fit(X)
    assert model.decoder_.shape == (3, 5)
    assert model.singular_values_[0] > 0
    assert_allclose(model.singular_values_[1:], 0, atol=0)
    assert_allclose(model.inverse_transform(model.transform(X)), X, rtol=1e-10)


# -- the transformer surface ----------------------------------------------------------


@pytest.mark.parametrize(
    "Estimator", [WeightDecayAutoencoder, DropoutAutoencoder], ids=lambda c: c.__name__
)
def test_sparse_and_dense_inputs_give_the_same_embeddings(Estimator):
    X, _ = _clustered(seed=12)
    dense = Estimator(6, alpha=2.0).fit(X)
    for fmt in ["csr", "csc"]:
        sparse = Estimator(6, alpha=2.0).fit(sp.csr_matrix(X).asformat(fmt))
        assert_allclose(sparse.decoder_, dense.decoder_, atol=1e-10)
        assert_allclose(
            sparse.transform(sp.csr_matrix(X)), dense.transform(X), atol=1e-10
        )


@pytest.mark.parametrize(
    "model",
    [WeightDecayAutoencoder(5), DropoutAutoencoder(5, alpha=3.0, dropout=0.2)],
    ids=["weight_decay", "dropout"],
)
def test_transform_inverse_transform_and_reconstruction_loss(model):
    X, _ = _clustered(seed=13)
    model.fit(X)
    Z = model.transform(X)
    assert_allclose(Z, X @ model.encoder_, rtol=1e-12)
    X_hat = model.inverse_transform(Z)
    assert_allclose(X_hat, X @ model.encoder_ @ model.decoder_.T, rtol=1e-10)
    assert_allclose(
        model.reconstruction_loss(X), np.sum((X - X_hat) ** 2) / X.shape[0], rtol=1e-9
    )
    with pytest.raises(ValueError, match="n_components=5"):
        model.inverse_transform(Z[:, :3])


def test_float32_is_preserved():
    X, _ = _clustered(seed=14)
    X32 = sp.csr_matrix(X, dtype=np.float32)
    for model in [WeightDecayAutoencoder(4), DropoutAutoencoder(4, dropout=0.2)]:
        model.fit(X32)
        assert model.encoder_.dtype == np.float32
        assert model.transform(X32).dtype == np.float32
        assert model.item_embeddings("projected").dtype == np.float32
        ref = type(model)(**model.get_params()).fit(X)
        assert_allclose(model.transform(X32), ref.transform(X), rtol=1e-3, atol=1e-4)


def test_pandas_output_has_named_columns():
    X, _ = _clustered(seed=15)
    items = [f"item{i}" for i in range(X.shape[1])]
    df = pd.DataFrame(X, columns=items)
    model = WeightDecayAutoencoder(3).set_output(transform="pandas").fit(df)
    out = model.transform(df)
    assert list(out.columns) == [f"weightdecayautoencoder{i}" for i in range(3)]
    assert list(model.feature_names_in_) == items


@pytest.mark.parametrize("scaling", ["identity", "symmetric", "random"])
def test_projected_item_embeddings_are_gauge_free(scaling):
    X, _ = _clustered(seed=16)
    model = DropoutAutoencoder(6, alpha=5.0, dropout=0.2, gauge=scaling, random_state=0)
    model.fit(X)
    W = model.encoder_ @ model.decoder_.T  # p x p: fine at this size, for the check
    # Remedy 2: cosines of the rows of A B^T, computed in k dimensions
    assert_allclose(
        _cosines(model.item_embeddings("projected")), _cosines(W), atol=1e-10
    )
    R = sample_gauge("diagonal", 6, random_state=1)
    assert_allclose(
        _cosines(model.item_embeddings("projected", gauge=R)), _cosines(W), atol=1e-10
    )
    assert not np.allclose(
        _cosines(model.item_embeddings("decoder", gauge=R)),
        _cosines(model.item_embeddings("decoder")),
        atol=1e-3,
    )


def test_item_embeddings_rejects_bad_arguments():
    X, _ = _clustered(seed=17)
    model = WeightDecayAutoencoder(4).fit(X)
    with pytest.raises(ValueError, match="embedding must be one of"):
        model.item_embeddings("users")
    with pytest.raises(ValueError, match=r"gauge must have shape \(4, 4\)"):
        model.item_embeddings(gauge=np.eye(3))


@pytest.mark.parametrize(
    "scaling, error, match",
    [
        ([1.0, 2.0], ValueError, r"gauge must have shape \(3,\)"),
        ([1.0, -2.0, 1.0], ValueError, "finite positive"),
        ([1.0, np.inf, 1.0], ValueError, "finite positive"),
        (np.array(["a", "b", "c"]), TypeError, "array of numbers"),
    ],
)
def test_bad_scaling_arrays_are_rejected(scaling, error, match):
    X, _ = _clustered(seed=18)
    with pytest.raises(error, match=match):
        DropoutAutoencoder(3, gauge=scaling).fit(X)
