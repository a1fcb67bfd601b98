"""The 0.1 names of CHANGES.rst: ``init_alpha``, ``gauge_diagonal_`` and the
gauge groups, with no deprecated aliases."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.model_selection import GridSearchCV, KFold

from skcosim import CosineAutoencoder, DropoutAutoencoder, WeightDecayAutoencoder
from skcosim.datasets import make_clustered_interactions
from skcosim.metrics import gauge_stability
from skcosim.metrics._stability import mean_gauge_overlap


@pytest.fixture(scope="module")
def X():
    return make_clustered_interactions(
        n_users=200, n_items=40, n_clusters=4, random_state=0
    ).data


# -- CosineAutoencoder(init_alpha=...) -------------------------------------------


def test_cosine_has_no_alpha_parameter(X):
    """``init_alpha`` is the only name of the start's weight decay."""
    assert "alpha" not in CosineAutoencoder().get_params()
    with pytest.raises(TypeError, match="alpha"):
        CosineAutoencoder(4, alpha=3.0)


def test_cosine_init_alpha_above_the_spectrum_names_init_alpha(X):
    with pytest.raises(ValueError, match=r"init_alpha=.*Lower init_alpha"):
        CosineAutoencoder(4, init_alpha=1e6).fit(X)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
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


# -- DropoutAutoencoder.gauge_diagonal_ -------------------------------------------


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "params",
    [
        {"gauge": "random", "random_state": 0},
        {"gauge": "symmetric"},
        {"solver": "lbfgs", "max_iter": 5, "random_state": 0},
    ],
)
def test_gauge_diagonal_is_the_diagonal_of_the_split(X, params):
    model = DropoutAutoencoder(4, alpha=10.0, **params).fit(X)
    assert model.gauge_diagonal_.shape == (4,)
    assert not hasattr(model, "gauge_")  # no alias: nothing was released
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
