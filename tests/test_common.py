"""scikit-learn's common estimator checks on every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skcosim import DropoutAutoencoder, WeightDecayAutoencoder


def _estimators():
    yield WeightDecayAutoencoder()
    yield DropoutAutoencoder()
    yield DropoutAutoencoder(dropout=0.25, scaling="symmetric")
    yield DropoutAutoencoder(scaling="random", solver="arpack")
    yield WeightDecayAutoencoder(solver="randomized")


@parametrize_with_checks(list(_estimators()))
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
