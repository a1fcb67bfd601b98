"""skcosim imports nothing private from scikit-learn outside skcosim._compat."""

import ast
import pathlib

import numpy as np
import pytest
import scipy.sparse as sp

import skcosim
from skcosim import _compat

PACKAGE = pathlib.Path(skcosim.__file__).parent


def _private_sklearn_imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "sklearn"
        ):
            private_module = any(p.startswith("_") for p in node.module.split("."))
            for alias in node.names:
                if private_module or alias.name.startswith("_"):
                    yield f"{path.relative_to(PACKAGE)}:{node.lineno} {alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "sklearn" and any(p.startswith("_") for p in parts):
                    yield f"{path.relative_to(PACKAGE)}:{node.lineno} {alias.name}"


def test_no_module_but_compat_imports_private_scikit_learn_names():
    found = [
        hit
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "_compat.py"
        for hit in _private_sklearn_imports(path)
    ]
    assert found == []


def test_constraint_classes_are_the_ones_scikit_learn_validates_with():
    from sklearn.utils import _param_validation

    assert _compat.Interval is _param_validation.Interval
    assert _compat.StrOptions is _param_validation.StrOptions
    assert _compat.HasMethods is _param_validation.HasMethods


@pytest.mark.parametrize(
    "X",
    [np.zeros((4, 2)), sp.csr_matrix(np.eye(3)), [[1, 2], [3, 4], [5, 6]]],
    ids=["ndarray", "sparse", "list"],
)
def test_vendored_num_samples_matches_scikit_learn(X):
    from sklearn.utils.validation import _num_samples

    assert _compat._num_samples(X) == _num_samples(X)


def test_vendored_num_samples_rejects_a_scalar_array():
    with pytest.raises(TypeError, match="Singleton array"):
        _compat._num_samples(np.array(3.0))


def test_vendored_style_kwargs_match_scikit_learn():
    from sklearn.utils._plotting import _validate_style_kwargs

    default = {"color": "k", "linestyle": "-", "alpha": 0.5}
    for user in [{"c": "r"}, {"ls": "--", "lw": 2}, {"marker": "o"}, {}]:
        assert _compat._validate_style_kwargs(default, user) == _validate_style_kwargs(
            default, user
        )
    with pytest.raises(TypeError, match="aliases of one another"):
        _compat._validate_style_kwargs(default, {"c": "r", "color": "b"})


def test_vendored_interval_ratio_matches_scikit_learn():
    from sklearn.utils._plotting import _interval_max_min_ratio

    data = np.array([0.1, 1.0, 10.0, 100.0])
    assert _compat._interval_max_min_ratio(data) == _interval_max_min_ratio(data)
