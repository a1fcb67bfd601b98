"""Fixtures shared by the command-line tests."""

import pytest

from skcosim.cli import _models


@pytest.fixture
def fast_models(monkeypatch):
    """Only two cheap models in the comparison: the first and the last."""
    original = _models.default_models

    def two_models(*args, **kwargs):
        specs = original(*args, **kwargs)
        return [specs[0], specs[-1]]

    monkeypatch.setattr(_models, "default_models", two_models)
