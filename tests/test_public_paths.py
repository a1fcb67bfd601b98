"""The public paths of the splitter and of the exceptions."""

import numpy as np
import pytest

from skcosim.exceptions import DivergenceError
from skcosim.model_selection import train_test_split_interactions


def test_splitter_under_its_old_metrics_path_warns_and_is_the_same_function():
    import skcosim.metrics as metrics

    with pytest.warns(FutureWarning, match=r"skcosim\.model_selection"):
        old = metrics.train_test_split_interactions
    assert old is train_test_split_interactions
    with pytest.warns(FutureWarning, match="deprecated"):
        from skcosim.metrics import train_test_split_interactions as imported
    assert imported is train_test_split_interactions
    assert "train_test_split_interactions" not in metrics.__all__


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
