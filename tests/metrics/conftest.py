"""Fixtures shared by the metrics tests."""

import numpy as np
import pytest


@pytest.fixture
def interactions():
    rng = np.random.RandomState(5)
    return (rng.rand(80, 15) < 0.3).astype(np.float64)
