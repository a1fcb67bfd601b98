"""The public paths of the splitter and of the exceptions."""

import numpy as np
import pytest

from skcosim.exceptions import DivergenceError
from skcosim.model_selection import train_test_split_interactions


def test_splitter_has_one_public_path():
    """Nothing was released, so the splitter has no second path in metrics."""
    import skcosim.metrics as metrics

    assert train_test_split_interactions.__module__.startswith(
        "skcosim.model_selection"
    )
    with pytest.raises(AttributeError, match="train_test_split_interactions"):
        metrics.train_test_split_interactions  # noqa: B018


def test_unknown_metrics_attribute_is_an_attribute_error():
    import skcosim.metrics as metrics

    with pytest.raises(AttributeError, match="no_such_metric"):
        metrics.no_such_metric  # noqa: B018


def test_divergence_error_is_public_with_its_bases():
    assert issubclass(DivergenceError, ValueError)
    assert issubclass(DivergenceError, FloatingPointError)


def test_a_diverging_dropout_sgd_run_raises_the_public_divergence_error():
    from skcosim import DropoutAutoencoder

    X = np.random.RandomState(0).binomial(1, 0.3, size=(40, 12)).astype(float)
    model = DropoutAutoencoder(
        n_components=3,
        dropout=0.3,
        solver="dropout-sgd",
        learning_rate=1e6,
        max_iter=30,
        random_state=0,
    )
    with pytest.raises(DivergenceError, match="lower learning_rate"):
        model.fit(X)


PUBLIC_MODULES = (
    "skcosim",
    "skcosim.datasets",
    "skcosim.exceptions",
    "skcosim.metrics",
    "skcosim.model_selection",
    "skcosim.plotting",
    "skcosim.preprocessing",
)


def _public_docstrings():
    """(name, docstring) of every public object and of its public methods."""
    import importlib
    import inspect

    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        yield module_name, module.__doc__ or ""
        for name in module.__all__:
            obj = getattr(module, name)
            yield f"{module_name}.{name}", getattr(obj, "__doc__", None) or ""
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") and callable(member):
                        yield f"{module_name}.{name}.{attr}", member.__doc__ or ""


def test_public_docstrings_link_no_private_object():
    """The API reference renders these docstrings: a link into a private module
    (``skcosim._linalg...``) points at a page that does not exist."""
    import re

    private = re.compile(r"`~?skcosim\.(\w+\.)*_\w+")
    offenders = [
        name for name, doc in _public_docstrings() if private.search(doc) is not None
    ]
    assert offenders == []


@pytest.mark.parametrize("estimator", ["WeightDecayAutoencoder", "DropoutAutoencoder"])
def test_solver_auto_rule_in_the_docstrings_matches_the_code(estimator):
    """The thresholds of ``solver="auto"`` are written out for users: the
    numbers must be the ones the code uses."""
    import skcosim
    from skcosim._linalg._dask import DASK_GRAM_MAX_FEATURES
    from skcosim._linalg._spectrum import GRAM_MAX_DIM, _choose_solver

    doc = " ".join(getattr(skcosim, estimator).__doc__.split())
    assert f"<= {GRAM_MAX_DIM}`` or ``n_components >= m - 1``" in doc
    if estimator == "WeightDecayAutoencoder":
        assert f"``n_features <= {DASK_GRAM_MAX_FEATURES}``" in doc
    m = GRAM_MAX_DIM + 100
    assert _choose_solver(5 * m, m, 10) == "arpack"
    assert _choose_solver(5 * m, GRAM_MAX_DIM, 10) == "gram"
    assert _choose_solver(5 * m, m, m - 1) == "gram"
