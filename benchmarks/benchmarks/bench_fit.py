"""Fitting the closed forms (and the solvers of the top-k spectrum)."""

import numpy as np

from skcosim import DropoutAutoencoder, WeightDecayAutoencoder
from skcosim._linalg._spectrum import top_k_spectrum

from .common import interactions


class FitClosedForms:
    params = (["WeightDecayAutoencoder", "DropoutAutoencoder"], ["float64", "float32"])
    param_names = ["estimator", "dtype"]
    timeout = 300

    def setup(self, estimator, dtype):
        self.X = interactions(50_000, 3_000, dtype=np.dtype(dtype))
        cls = {
            "WeightDecayAutoencoder": WeightDecayAutoencoder,
            "DropoutAutoencoder": DropoutAutoencoder,
        }[estimator]
        self.model = cls(n_components=64, random_state=0)

    def time_fit(self, estimator, dtype):
        self.model.fit(self.X)

    def peakmem_fit(self, estimator, dtype):
        self.model.fit(self.X)


class FitDropoutExact:
    timeout = 300

    def setup(self):
        self.X = interactions(20_000, 1_000)
        self.model = DropoutAutoencoder(n_components=64, dropout=0.3)

    def time_fit(self):
        self.model.fit(self.X)


class TopKSpectrum:
    params = (["gram", "arpack", "randomized"], [500, 2_000, 5_000])
    param_names = ["solver", "n_items"]
    timeout = 300

    def setup(self, solver, n_items):
        self.X = interactions(40 * n_items, n_items)

    def time_top_k_spectrum(self, solver, n_items):
        top_k_spectrum(self.X, 64, solver=solver, random_state=0)
