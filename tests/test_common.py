"""scikit-learn's common estimator checks on every public estimator of skcosim."""

import pytest
from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

import skcosim
import skcosim.preprocessing
from skcosim import CosineAutoencoder, DropoutAutoencoder, WeightDecayAutoencoder
from skcosim.preprocessing import PopularityScaler, ProjectedEmbedding

PUBLIC_MODULES = [skcosim, skcosim.preprocessing]


def _public_estimator_classes():
    for module in PUBLIC_MODULES:
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and issubclass(obj, BaseEstimator):
                yield obj


# Every public estimator with its defaults, plus the configurations that take
# other code paths (solvers, dropout, random gauge, the squared cosine loss).
ESTIMATORS = [cls() for cls in _public_estimator_classes()] + [
    WeightDecayAutoencoder(solver="randomized"),
    DropoutAutoencoder(dropout=0.25, gauge="symmetric"),
    DropoutAutoencoder(gauge="random", solver="arpack"),
    CosineAutoencoder(loss="squared", max_iter=50),
    CosineAutoencoder(init="random", max_iter=50),
    PopularityScaler(beta=1.0),
    ProjectedEmbedding(DropoutAutoencoder(n_components=3, gauge="random")),
]


def test_every_public_estimator_is_checked():
    checked = {type(est) for est in ESTIMATORS}
    public = set(_public_estimator_classes())
    assert public == checked
    assert {WeightDecayAutoencoder, DropoutAutoencoder, CosineAutoencoder} <= public


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
