"""transform, inverse_transform, item embeddings of a fitted model."""

import numpy as np

from skcosim import DropoutAutoencoder, WeightDecayAutoencoder

from .common import interactions


class Transform:
    params = ["float64", "float32"]
    param_names = ["dtype"]

    def setup(self, dtype):
        X = interactions(100_000, 3_000, dtype=np.dtype(dtype))
        self.X = X
        self.model = WeightDecayAutoencoder(n_components=64, random_state=0).fit(X)
        self.Z = self.model.transform(X[:5_000])

    def time_transform(self, dtype):
        self.model.transform(self.X)

    def time_inverse_transform_5000_users(self, dtype):
        self.model.inverse_transform(self.Z)

    def time_score(self, dtype):
        self.model.score(self.X)


class ItemEmbeddings:
    params = ["decoder", "projected"]
    param_names = ["kind"]

    def setup(self, kind):
        X = interactions(20_000, 3_000)
        self.model = DropoutAutoencoder(n_components=64, random_state=0).fit(X)
        self.gauge = np.diag(np.random.default_rng(0).lognormal(size=64))

    def time_item_embeddings(self, kind):
        self.model.item_embeddings(kind, gauge=self.gauge)
