"""The deprecated names of CHANGES.rst: each warns and gives what its new name gives."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold

from skcosim import CosineAutoencoder, DropoutAutoencoder, WeightDecayAutoencoder
from skcosim.datasets import make_clustered_interactions
from skcosim.metrics import gauge_stability
from skcosim.metrics._stability import mean_gauge_overlap

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def X():
    return make_clustered_interactions(
        n_users=200, n_items=40, n_clusters=4, random_state=0
    ).data


# -- CosineAutoencoder(alpha=...) -> init_alpha -----------------------------------


@pytest.mark.parametrize("loss", ["softmax", "squared"])
def test_cosine_alpha_warns_and_is_used_as_init_alpha(X, loss):
    new = CosineAutoencoder(4, loss=loss, init_alpha=3.0, max_iter=20).fit(X)
    old = CosineAutoencoder(4, loss=loss, alpha=3.0, max_iter=20)
    with pytest.warns(FutureWarning, match=r"renamed 'init_alpha'.*removed in 0\.3"):
        old.fit(X)
    assert_array_equal(old.encoder_, new.encoder_)
    assert_array_equal(old.decoder_, new.decoder_)
    # The value is used: another init_alpha gives another start, so other factors.
    other = CosineAutoencoder(4, loss=loss, init_alpha=10.0, max_iter=20).fit(X)
    assert not np.allclose(other.decoder_, new.decoder_)


def test_cosine_alpha_overrides_init_alpha(X):
    """When both are given the deprecated one is used, as scikit-learn does."""
    new = CosineAutoencoder(4, init_alpha=3.0, max_iter=20).fit(X)
    both = CosineAutoencoder(4, init_alpha=10.0, alpha=3.0, max_iter=20)
    with pytest.warns(FutureWarning):
        both.fit(X)
    assert_array_equal(both.decoder_, new.decoder_)


def test_cosine_alpha_warns_with_a_random_start_too(X):
    model = CosineAutoencoder(4, init="random", alpha=3.0, max_iter=5, random_state=0)
    with pytest.warns(FutureWarning, match="init_alpha"):
        model.fit(X)


def test_cosine_default_does_not_warn_and_keeps_alpha_hidden(X):
    model = CosineAutoencoder(4, max_iter=5)
    assert model.get_params()["alpha"] == "deprecated"
    assert model.get_params()["init_alpha"] == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        model.fit(X)
        clone(model).fit(X)


def test_cosine_deprecated_alpha_is_still_validated(X):
    with pytest.raises(ValueError, match="'alpha' parameter"):
        CosineAutoencoder(4, alpha=-1.0).fit(X)


def test_cosine_init_alpha_above_the_spectrum_names_init_alpha(X):
    with pytest.raises(ValueError, match=r"init_alpha=.*Lower init_alpha"):
        CosineAutoencoder(4, init_alpha=1e6).fit(X)


def test_grid_search_over_init_alpha(X):
    """init_alpha is an ordinary hyperparameter: cloned, set and refitted."""
    search = GridSearchCV(
        CosineAutoencoder(4, loss="squared", max_iter=20),
        {"init_alpha": [0.5, 3.0]},
        cv=KFold(2, shuffle=True, random_state=0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        search.fit(X)
    assert search.best_params_["init_alpha"] in (0.5, 3.0)
    assert search.best_estimator_.init_alpha == search.best_params_["init_alpha"]
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    refit = CosineAutoencoder(
        4, loss="squared", max_iter=20, init_alpha=search.best_params_["init_alpha"]
    ).fit(X)
    assert_array_equal(search.best_estimator_.decoder_, refit.decoder_)


# -- DropoutAutoencoder.gauge_ -> gauge_diagonal_ ---------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"gauge": "random", "random_state": 0},
        {"gauge": "symmetric"},
        {"solver": "lbfgs", "max_iter": 5, "random_state": 0},
    ],
)
def test_gauge_attribute_warns_and_is_the_diagonal(X, params):
    model = DropoutAutoencoder(4, alpha=10.0, **params).fit(X)
    assert model.gauge_diagonal_.shape == (4,)
    with pytest.warns(FutureWarning, match="renamed `gauge_diagonal_`"):
        old = model.gauge_
    assert_array_equal(old, model.gauge_diagonal_)
    # The diagonal is the R of the split: the identity split times it.
    identity = DropoutAutoencoder(4, alpha=10.0, **params)
    if "solver" not in params:
        identity.set_params(gauge="identity").fit(X)
        assert_array_equal(identity.gauge_diagonal_, np.ones(4))
        R = np.diag(model.gauge_diagonal_)
        np.testing.assert_allclose(
            identity.item_embeddings(gauge=R), model.item_embeddings(), rtol=1e-5
        )


def test_gauge_attribute_is_not_there_before_fit():
    with pytest.raises(AttributeError):
        DropoutAutoencoder(4).gauge_diagonal_  # noqa: B018


# -- _gauge_group "diagonal" -> "invertible" (private, no shim) -------------------


def test_gauge_groups_name_the_admissible_transforms():
    assert DropoutAutoencoder._gauge_group == "invertible"
    assert WeightDecayAutoencoder._gauge_group == "orthogonal"
    assert CosineAutoencoder._gauge_group == "orthogonal"


def test_gauge_stability_of_objective_1_still_draws_diagonal_gauges(X):
    """The renamed group draws what it drew before: positive diagonal R."""
    model = DropoutAutoencoder(4, alpha=10.0).fit(X)
    expected = mean_gauge_overlap(
        model.item_embeddings("decoder"),
        lambda R: model.item_embeddings("decoder", gauge=R),
        "diagonal",
        n_neighbors=5,
        n_draws=3,
        method="jaccard",
        random_state=0,
    )
    got = gauge_stability(
        model, n_neighbors=5, n_draws=3, embedding="decoder", random_state=0
    )
    assert got == expected
    assert got < 1.0
