"""``alpha="auto"`` (and ``init_alpha="auto"``): the audit's data-driven rule."""

import types

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.utils._param_validation import InvalidParameterError

from skcosim import CosineAutoencoder, DropoutAutoencoder, WeightDecayAutoencoder
from skcosim.autoencoders import _alpha
from tests._long_tailed import long_tailed_interactions


def _reference_auto_alpha(X, k):
    """The rule from a dense numpy SVD: ``min(median(s > 0), s_1 / 2)`` over
    the top ``k`` singular values (1.0 when X is all zero)."""
    s = np.linalg.svd(np.asarray(sp.csr_matrix(X).toarray()), compute_uv=False)[:k]
    s = s[s > 1e-10 * max(s.max(initial=0), 1)]
    if s.size == 0:
        return 1.0
    return float(min(np.median(s), s[0] / 2))


@pytest.mark.catalogue(
    "E92",
    input=(
        '``alpha="auto"`` / ``init_alpha="auto"`` on a long-tailed matrix with '
        "unseen items, single-interaction users, stored zeros, and with "
        "``n_components`` above the rank; every solver path"
    ),
    outcome=(
        "Correct: ``alpha_`` equals ``min(median(s), s_1 / 2)`` of a dense "
        "numpy SVD (squared for Objective 1), and the fit equals the one with "
        "that number passed explicitly (``rtol=1e-9``)"
    ),
)
@pytest.mark.parametrize("k", [6, 80])
def test_auto_alpha_matches_dense_svd_reference(k):
    """E92: the value ``"auto"`` resolves to is the documented rule."""
    X = long_tailed_interactions()  # rank below 80: zero singular values
    a = _reference_auto_alpha(X, k)

    wd = WeightDecayAutoencoder(k, alpha="auto").fit(X)
    assert_allclose(wd.alpha_, a, rtol=1e-9)
    explicit = WeightDecayAutoencoder(k, alpha=a).fit(X)
    assert_allclose(wd.objective(X), explicit.objective(X), rtol=1e-9)
    assert_allclose(
        wd.decoder_ @ wd.decoder_.T, explicit.decoder_ @ explicit.decoder_.T, atol=1e-9
    )

    do = DropoutAutoencoder(k, alpha="auto").fit(X)
    assert_allclose(do.alpha_, a**2, rtol=1e-9)
    explicit = DropoutAutoencoder(k, alpha=a**2).fit(X)
    assert_allclose(do.objective(X), explicit.objective(X), rtol=1e-9)
    assert_allclose(
        do.encoder_ @ do.decoder_.T, explicit.encoder_ @ explicit.decoder_.T, atol=1e-9
    )


@pytest.mark.catalogue("E92b", part_of="E92")
@pytest.mark.parametrize(
    "estimator, squared",
    [
        (DropoutAutoencoder(5, alpha="auto", dropout=0.3), True),
        (DropoutAutoencoder(5, alpha="auto", solver="lbfgs", max_iter=5), True),
        (
            DropoutAutoencoder(
                5, alpha="auto", solver="dropout-sgd", max_iter=2, random_state=0
            ),
            True,
        ),
        (WeightDecayAutoencoder(5, alpha="auto", solver="lbfgs", max_iter=5), False),
        (WeightDecayAutoencoder(5, alpha="auto", solver="randomized"), False),
    ],
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_auto_alpha_on_every_solver(estimator, squared):
    """E92b: the dropout closed form and the gradient solvers resolve
    ``"auto"`` from the same spectrum, and train with that number (their
    objective uses ``alpha_``)."""
    X = long_tailed_interactions()
    a = _reference_auto_alpha(X, 5)
    model = estimator.fit(X)
    # The randomized solver's spectrum is approximate.
    assert_allclose(model.alpha_, a**2 if squared else a, rtol=1e-6)
    explicit = estimator.set_params(alpha=model.alpha_).fit(X)
    assert_allclose(model.objective(X), explicit.objective(X), rtol=1e-9)


@pytest.mark.catalogue(
    "E95",
    input=(
        '``CosineAutoencoder(init_alpha="auto")`` with the weight-decay and '
        "the random start, on a long-tailed matrix with unseen items"
    ),
    outcome=(
        "Correct: ``init_alpha_`` is the dense-SVD rule's value and the fit "
        "equals the one with that number passed (``rtol=1e-9``)"
    ),
)
@pytest.mark.parametrize("init", ["weight_decay", "random"])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_cosine_init_alpha_auto(init):
    """E95: ``CosineAutoencoder(init_alpha="auto")`` starts from the
    weight-decay model with the rule's value, the same as passing it."""
    X = long_tailed_interactions()
    a = _reference_auto_alpha(X, 5)
    auto = CosineAutoencoder(
        5, init_alpha="auto", init=init, max_iter=3, random_state=0
    ).fit(X)
    assert_allclose(auto.init_alpha_, a, rtol=1e-9)
    explicit = CosineAutoencoder(
        5, init_alpha=auto.init_alpha_, init=init, max_iter=3, random_state=0
    ).fit(X)
    assert_allclose(auto.decoder_, explicit.decoder_, rtol=1e-9, atol=1e-12)
    assert explicit.init_alpha_ == auto.init_alpha_


def test_auto_alpha_scales_with_the_data():
    """Scaling ``X`` by ``c`` scales ``alpha_`` by ``c`` (``c^2`` for
    Objective 1), and leaves the fitted cosines unchanged."""
    X = long_tailed_interactions()
    for c in (1e-3, 37.0):
        small = WeightDecayAutoencoder(6, alpha="auto").fit(X)
        scaled = WeightDecayAutoencoder(6, alpha="auto").fit(X * c)
        assert_allclose(scaled.alpha_, c * small.alpha_, rtol=1e-9)
        do, do_scaled = (DropoutAutoencoder(6, alpha="auto").fit(Y) for Y in (X, X * c))
        assert_allclose(do_scaled.alpha_, c**2 * do.alpha_, rtol=1e-9)
        assert_allclose(
            do.encoder_ @ do.decoder_.T,
            do_scaled.encoder_ @ do_scaled.decoder_.T,
            atol=1e-9,
        )


def test_auto_alpha_on_all_zero_data():
    """No singular value to read: ``alpha_`` is 1.0 (1.0 squared for
    Objective 1), and the model is the all-zero one."""
    X = sp.csr_matrix((20, 7))
    wd = WeightDecayAutoencoder(3, alpha="auto").fit(X)
    do = DropoutAutoencoder(3, alpha="auto").fit(X)
    assert wd.alpha_ == 1.0 and do.alpha_ == 1.0
    assert not np.any(wd.decoder_) and not np.any(do.encoder_)


def test_numeric_alpha_is_kept_in_alpha_():
    X = long_tailed_interactions()
    assert WeightDecayAutoencoder(4, alpha=2.5).fit(X).alpha_ == 2.5
    assert DropoutAutoencoder(4, alpha=0).fit(X).alpha_ == 0.0


@pytest.mark.parametrize("bad", ["Auto", "median", -1.0, None])
@pytest.mark.parametrize("cls", [WeightDecayAutoencoder, DropoutAutoencoder])
def test_bad_alpha_values_are_refused(cls, bad):
    X = long_tailed_interactions()
    with pytest.raises(InvalidParameterError, match="alpha"):
        cls(4, alpha=bad).fit(X)


def test_bad_init_alpha_is_refused():
    X = long_tailed_interactions()
    with pytest.raises(InvalidParameterError, match="init_alpha"):
        CosineAutoencoder(4, init_alpha="AUTO").fit(X)


def test_the_audit_calls_the_library_rule(monkeypatch):
    """``skcosim audit`` without ``--alpha`` takes the estimators' rule: the
    same number as ``alpha="auto"``, and through the library function (a
    patched rule changes the audit's alpha)."""
    from skcosim.cli._audit import _rank_and_alpha

    X = long_tailed_interactions()
    args = types.SimpleNamespace(n_components=6, alpha=None, seed=0)
    progress = types.SimpleNamespace(step=lambda message: None)
    k, alpha = _rank_and_alpha(args, X, progress)
    assert k == 6
    assert_allclose(alpha, WeightDecayAutoencoder(6, alpha="auto").fit(X).alpha_)
    monkeypatch.setattr(_alpha, "auto_alpha", lambda s: 123.0)
    assert _rank_and_alpha(args, X, progress) == (6, 123.0)


@pytest.mark.filterwarnings("ignore:.*fewer than 3 interactions:UserWarning")
def test_auto_alpha_is_resolved_per_fold_in_a_search():
    """In a cross-validation each fold's model reads ``alpha`` from its own
    training users; a grid can put ``"auto"`` next to fixed values."""
    X = long_tailed_interactions(n=400)
    cv = KFold(3, shuffle=True, random_state=0)
    result = cross_validate(
        WeightDecayAutoencoder(6, alpha="auto"), X, cv=cv, return_estimator=True
    )
    for (train, _), model in zip(cv.split(X), result["estimator"], strict=True):
        assert_allclose(model.alpha_, _reference_auto_alpha(X[train], 6), rtol=1e-9)
    assert len({model.alpha_ for model in result["estimator"]}) == 3
    search = GridSearchCV(
        DropoutAutoencoder(6), {"alpha": ["auto", 1.0, 1e4]}, cv=cv
    ).fit(X)
    assert search.cv_results_["param_alpha"].tolist() == ["auto", 1.0, 1e4]
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    best = search.best_estimator_
    expected = best.alpha if best.alpha != "auto" else _reference_auto_alpha(X, 6) ** 2
    assert_allclose(best.alpha_, expected, rtol=1e-9)
