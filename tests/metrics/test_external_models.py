"""The neighbour metrics on models skcosim did not fit: scikit-learn estimators
with ``components_`` and callables ``fit_item_factors(X) -> V``."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.decomposition import NMF, PCA, TruncatedSVD
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skcosim import DropoutAutoencoder, WeightDecayAutoencoder
from skcosim.metrics import (
    factor_gauge_stability,
    gauge_stability,
    neighbor_label_agreement,
    resample_stability,
)
from skcosim.metrics import sample_gauge as public_sample_gauge

from .._long_tailed import long_tailed_interactions
from ._reference import _brute_force


def _svd_factors(X, k=6):
    return TruncatedSVD(n_components=k, random_state=0).fit(X).components_.T


def _jaccard_by_hand(V1, V2, k):
    """Mean Jaccard of the brute-force top-k of two embeddings, over the items
    with a nonzero row in both (numpy only)."""
    ind1, _ = _brute_force(V1, k)
    ind2, _ = _brute_force(V2, k)
    keep = np.any(V1 != 0, axis=1) & np.any(V2 != 0, axis=1)
    scores = [
        len(set(a) & set(b)) / len(set(a) | set(b))
        for a, b, kept in zip(ind1, ind2, keep, strict=True)
        if kept
    ]
    return float(np.mean(scores))


def _dense_interactions(seed=0, n=240, p=40):
    """Long-tailed popularity, but every item has users in every half (so that
    no factor row is zero or a rounding residue)."""
    rng = np.random.RandomState(seed)
    pop = 0.05 + 0.5 / np.arange(1, p + 1)
    return (rng.rand(n, p) < pop).astype(np.float64)


@pytest.mark.catalogue(
    "M52",
    input=(
        "``resample_stability`` of a fitted-or-not TruncatedSVD (item factors "
        "``components_.T``) and of a callable ``fit_item_factors(X) -> V`` "
        "wrapping it"
    ),
    outcome=(
        "Correct: the mean Jaccard of TruncatedSVD refitted by hand on the same "
        "halves with the same seeds and compared by brute force (to 1e-12); "
        "the callable gives the same number as the estimator, with the unseen "
        "items, single-interaction users and stored zeros of a long-tailed log "
        "too."
    ),
)
@pytest.mark.parametrize("seed", [0, 3])
def test_resample_stability_of_truncated_svd_matches_refits_by_hand(seed):
    """M52: resample_stability of TruncatedSVD and of a callable, by hand."""
    X = _dense_interactions(seed)
    k, n_resamples = 5, 3
    got = resample_stability(
        TruncatedSVD(n_components=6, random_state=0),
        X,
        n_neighbors=k,
        n_resamples=n_resamples,
        random_state=seed,
    )
    rng = np.random.RandomState(seed)
    n_sub = X.shape[0] // 2
    expected = []
    for _ in range(n_resamples):
        perm = rng.permutation(X.shape[0])
        halves = np.sort(perm[:n_sub]), np.sort(perm[n_sub : 2 * n_sub])
        V1, V2 = (_svd_factors(X[rows]) for rows in halves)
        expected.append(_jaccard_by_hand(V1, V2, k))
    assert got == pytest.approx(np.mean(expected), abs=1e-12)
    assert 0.0 < got < 1.0

    by_callable = resample_stability(
        _svd_factors, X, n_neighbors=k, n_resamples=n_resamples, random_state=seed
    )
    assert by_callable == got


def test_callable_and_estimator_agree_on_a_long_tailed_log():
    """M52: the callable equals the estimator on awkward data, for every metric."""
    X = long_tailed_interactions(seed=1)
    svd = TruncatedSVD(n_components=6, random_state=0)
    kw = dict(n_neighbors=5, n_resamples=2, random_state=0)
    assert resample_stability(_svd_factors, X, **kw) == resample_stability(svd, X, **kw)
    fitted = TruncatedSVD(n_components=6, random_state=0).fit(X)
    for group in ("diagonal", "invertible"):
        assert gauge_stability(
            _svd_factors, X=X, group=group, random_state=0
        ) == gauge_stability(fitted, group=group, random_state=0)
    labels = np.arange(X.shape[1]) % 4
    assert neighbor_label_agreement(
        _svd_factors, labels, 5, X=X
    ) == neighbor_label_agreement(fitted.components_.T, labels, 5)
    assert neighbor_label_agreement(fitted, labels, 5) == neighbor_label_agreement(
        fitted.components_.T, labels, 5
    )


@pytest.mark.catalogue(
    "M53",
    input=(
        "``gauge_stability`` of a fitted TruncatedSVD, PCA or NMF (or a Pipeline "
        "ending in one) and ``neighbor_label_agreement`` given the estimator"
    ),
    outcome=(
        "Correct: ``factor_gauge_stability`` of ``components_.T`` with the same "
        "group and seed (exactly equal); TruncatedSVD and PCA default to "
        "diagonal draws of their invertible gauge, NMF to its diagonal one, a "
        "penalized NMF is 1.0; an inadmissible ``group`` is a ValueError."
    ),
)
def test_gauge_stability_of_components_estimators_is_that_of_their_factors():
    """M53: gauge_stability(estimator with components_) = that of components_.T."""
    X = _dense_interactions(2)
    kw = dict(n_neighbors=5, n_draws=3, random_state=4)
    for est, default in [
        (TruncatedSVD(n_components=6, random_state=0), "diagonal"),
        (PCA(n_components=6, random_state=0), "diagonal"),
        (NMF(n_components=6, init="nndsvda", max_iter=300, random_state=0), "diagonal"),
    ]:
        est.fit(X)
        V = est.components_.T
        assert gauge_stability(est, **kw) == factor_gauge_stability(
            V, group=default, **kw
        )
        assert gauge_stability(est, **kw) < 1.0
        pipe = make_pipeline(FunctionTransformer(), est)
        assert gauge_stability(pipe, **kw) == gauge_stability(est, **kw)
    svd = TruncatedSVD(n_components=6, random_state=0).fit(X)
    assert gauge_stability(svd, group="invertible", **kw) == factor_gauge_stability(
        svd.components_.T, group="invertible", **kw
    )
    # Per item too: the same draws, the same values.
    per_item = factor_gauge_stability(
        svd.components_.T, group="invertible", average=False, **kw
    )
    assert per_item.shape == (X.shape[1],)
    np.testing.assert_array_equal(
        per_item, gauge_stability(svd, group="invertible", average=False, **kw)
    )
    assert per_item.mean() == pytest.approx(
        gauge_stability(svd, group="invertible", **kw), abs=1e-12
    )
    penalized = NMF(
        n_components=6, alpha_W=0.01, init="nndsvda", max_iter=300, random_state=0
    ).fit(X)
    assert gauge_stability(penalized, **kw) == 1.0
    with pytest.raises(ValueError, match="group='invertible' is not admissible"):
        gauge_stability(penalized, group="invertible")
    nmf = NMF(n_components=6, init="nndsvda", max_iter=300, random_state=0).fit(X)
    with pytest.raises(ValueError, match="only by diagonal transforms"):
        gauge_stability(nmf, group="invertible")


@pytest.mark.catalogue(
    "M54",
    input=(
        "A callable ``fit_item_factors`` that returns the wrong shape (transposed, "
        "1-D, too few rows), NaN or infinite factors, or not an array; a callable "
        "without ``X``, ``X`` with a fitted model, an estimator with neither "
        "``item_embeddings`` nor ``components_``"
    ),
    outcome=(
        "A ValueError or TypeError naming the problem (the shape and what was "
        "expected, the first item with NaN, the type returned, the missing "
        "``X``); never a number."
    ),
)
def test_bad_callables_and_models_are_refused_with_a_clear_error():
    """M54: callables returning bad factors, missing X, models without factors."""
    X = _dense_interactions(0, n=60, p=12)
    rng = np.random.RandomState(0)
    V = rng.randn(12, 3)
    with_nan = V.copy()
    with_nan[4, 1] = np.nan
    cases = [
        (lambda X: V.T, ValueError, r"has 3 rows but X has 12 items.*not V.T"),
        (lambda X: V[:10], ValueError, "has 10 rows but X has 12 items"),
        (lambda X: V[:, 0], ValueError, "must be 2-D.*shape \\(12,\\)"),
        (lambda X: np.ones((12, 0)), ValueError, "must be 2-D"),
        (lambda X: with_nan, ValueError, "NaN or infinite values in 1 rows.*item 4"),
        (lambda X: V * np.inf, ValueError, "NaN or infinite"),
        (lambda X: None, TypeError, "got NoneType"),
        (lambda X: "factors", TypeError, "got str"),
        (lambda X: np.array([["a"] * 3] * 12), TypeError, "must hold numbers"),
    ]
    for func, error, match in cases:
        with pytest.raises(error, match=match):
            resample_stability(func, X, n_neighbors=3, n_resamples=1)
        with pytest.raises(error, match=match):
            gauge_stability(func, X=X, group="diagonal", n_neighbors=3)
        with pytest.raises(error, match=match):
            neighbor_label_agreement(func, np.arange(12) % 2, 3, X=X)
    with pytest.raises(ValueError, match="needs the data it is fitted on: pass X="):
        gauge_stability(lambda X: V, group="diagonal")
    with pytest.raises(TypeError, match="declares no gauge group: pass group="):
        gauge_stability(lambda X: V, X=X)
    svd = TruncatedSVD(n_components=3, random_state=0).fit(X)
    with pytest.raises(ValueError, match="X is for a callable"):
        gauge_stability(svd, X=X)
    with pytest.raises(ValueError, match="X is for a callable"):
        neighbor_label_agreement(V, np.arange(12) % 2, 3, X=X)
    with pytest.raises(TypeError, match="no item_embeddings method and no components_"):
        gauge_stability(TruncatedSVD(n_components=3))  # not fitted
    with pytest.raises(ValueError, match=r"no 'projected' embedding.*project_factors"):
        gauge_stability(svd, embedding="projected")


def test_a_callable_can_be_refitted_in_worker_processes():
    """M52: a callable is cloned and refitted like an estimator, also with n_jobs."""
    X = _dense_interactions(1)
    kw = dict(n_neighbors=5, n_resamples=2, random_state=0)
    assert resample_stability(_svd_factors, X, n_jobs=2, **kw) == resample_stability(
        _svd_factors, X, **kw
    )


@pytest.mark.parametrize("seed", range(3))
def test_components_gauge_is_applied_to_the_item_factors(seed):
    """gauge_stability's regauged embedding of an SVD is V R^{-T} (by hand)."""
    X = _dense_interactions(seed)
    svd = TruncatedSVD(n_components=5, random_state=0).fit(X)
    V = svd.components_.T
    R = public_sample_gauge("invertible", 5, seed)
    by_hand = V @ np.linalg.inv(R).T
    from skcosim.metrics._estimators import fitted_item_model

    assert_allclose(
        fitted_item_model(svd).item_embeddings(gauge=R), by_hand, rtol=1e-12
    )


def test_skcosim_models_keep_their_gauge_and_defaults():
    """The new group= leaves skcosim's defaults as they were, and refuses
    transforms outside an orthogonal gauge."""
    X = _dense_interactions(0)
    do = DropoutAutoencoder(n_components=5, alpha=5.0).fit(X)
    kw = dict(embedding="decoder", n_neighbors=5, n_draws=3, random_state=0)
    assert gauge_stability(do, **kw) == gauge_stability(do, group="diagonal", **kw)
    labels = np.arange(X.shape[1]) % 3
    for kind, E in [("decoder", do.decoder_), ("encoder", do.encoder_)]:
        assert neighbor_label_agreement(
            do, labels, 5, embedding=kind
        ) == neighbor_label_agreement(E, labels, 5)
    assert neighbor_label_agreement(do, labels, 5) == neighbor_label_agreement(
        do.item_embeddings(), labels, 5
    )
    wd = WeightDecayAutoencoder(n_components=5, alpha=1.0).fit(X)
    assert gauge_stability(wd) == 1.0
    with pytest.raises(ValueError, match="not admissible for WeightDecayAutoencoder"):
        gauge_stability(wd, group="diagonal")


@pytest.mark.catalogue(
    "M55",
    input=(
        "``gauge_stability(DropoutAutoencoder, group=g)`` and "
        "``factor_gauge_stability(decoder_, group=g)`` for each group, and both "
        "on item factors with a known diagonal gauge ``V = V0 D``"
    ),
    outcome=(
        "Correct: the same number for the same group and seed (they draw the "
        "same ``R``); ``group`` names what is drawn, and the default of "
        "``gauge_stability`` is the diagonal draw (what the two once reported "
        "as 0.340 and 0.298 were diagonal and invertible draws); the overlap of "
        "``V0 D`` with ``V0`` computed by brute force matches a one-draw "
        "stability to 1e-12."
    ),
)
def test_gauge_stability_and_factor_gauge_stability_share_one_definition():
    """M55: one definition: group names the draws, same number for both."""
    X = _dense_interactions(4)
    do = DropoutAutoencoder(n_components=6, alpha=5.0).fit(X)
    kw = dict(n_neighbors=5, n_draws=3, random_state=7)
    for group in ("diagonal", "invertible", "orthogonal"):
        assert gauge_stability(
            do, embedding="decoder", group=group, **kw
        ) == factor_gauge_stability(do.decoder_, group=group, **kw)
    assert gauge_stability(do, embedding="decoder", **kw) == factor_gauge_stability(
        do.decoder_, group="diagonal", **kw
    )
    # A known gauge: V = V0 D^{-1} for the D that one draw of seed 3 gives.
    V0 = _svd_factors(X)
    D = public_sample_gauge("diagonal", V0.shape[1], 3)
    by_hand = _jaccard_by_hand(V0, V0 / np.diag(D), 5)
    one_draw = factor_gauge_stability(
        V0, group="diagonal", n_neighbors=5, n_draws=1, random_state=3
    )
    assert one_draw == pytest.approx(by_hand, abs=1e-12)
    assert one_draw < 1.0


@pytest.mark.catalogue(
    "M56",
    input=(
        "Public ``sample_gauge(group, d)`` and ``apply_gauge(U, V, R)``; a "
        "singular, non-square, NaN ``R``, factors with different numbers of "
        "columns, an unknown group"
    ),
    outcome=(
        "Correct: ``(U R, V R^{-T})`` as numpy computes it (rtol 1e-12), the "
        "same scores ``U V^T``; diagonal draws positive, orthogonal ones "
        "orthonormal; a ValueError (``InvalidParameterError`` for the group) "
        "naming the problem."
    ),
)
@pytest.mark.parametrize("group", ["diagonal", "orthogonal", "invertible"])
def test_public_sample_and_apply_gauge(group):
    """M56: sample_gauge and apply_gauge against numpy, and their bad inputs."""
    from sklearn.utils._param_validation import InvalidParameterError

    from skcosim.metrics import apply_gauge

    rng = np.random.RandomState(0)
    U, V = rng.randn(30, 4), rng.randn(12, 4)
    V[2] = 0.0  # an item without factors
    R = public_sample_gauge(group, 4, random_state=5)
    U_R, V_R = apply_gauge(U, V, R)
    assert_allclose(U_R, U @ R, rtol=1e-12, atol=1e-14)
    assert_allclose(V_R, V @ np.linalg.inv(R).T, rtol=1e-10, atol=1e-14)
    assert_allclose(U_R @ V_R.T, U @ V.T, rtol=1e-10, atol=1e-12)
    if group == "diagonal":
        assert np.all(np.diag(R) > 0) and np.count_nonzero(R - np.diag(np.diag(R))) == 0
    if group == "orthogonal":
        assert_allclose(R @ R.T, np.eye(4), atol=1e-12)
    with pytest.raises(ValueError, match="invertible"):
        apply_gauge(U, V, np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"shape \(4, 4\)"):
        apply_gauge(U, V, np.eye(3))
    with pytest.raises(ValueError, match="NaN"):
        apply_gauge(U, V, np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match="one column per component"):
        apply_gauge(U, V[:, :3], R)
    with pytest.raises(InvalidParameterError, match="group"):
        public_sample_gauge("rotation", 4)
