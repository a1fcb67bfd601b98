"""Neighbour-stability and ranking metrics of skcosim.metrics."""

import numpy as np

from skcosim import DropoutAutoencoder, WeightDecayAutoencoder

from .common import embeddings, interactions


class NeighborOverlap:
    params = ["jaccard", "rbo"]
    param_names = ["method"]

    def setup(self, method):
        self.E1 = embeddings(20_000)
        rng = np.random.default_rng(1)
        self.E2 = self.E1 * rng.lognormal(size=self.E1.shape[1]).astype(np.float32)

    def time_neighbor_overlap(self, method):
        from skcosim.metrics import neighbor_overlap

        neighbor_overlap(self.E1, self.E2, 10, method=method)


class Stability:
    timeout = 300

    def setup(self):
        self.X = interactions(20_000, 2_000)
        self.dropout = DropoutAutoencoder(n_components=32, random_state=0).fit(self.X)
        self.weight_decay = WeightDecayAutoencoder(n_components=32, random_state=0)

    def time_gauge_stability(self):
        from skcosim.metrics import gauge_stability

        gauge_stability(self.dropout, 10, n_draws=5, random_state=0)

    def time_resample_stability(self):
        from skcosim.metrics import resample_stability

        resample_stability(self.weight_decay, self.X, 10, n_resamples=3, random_state=0)


class Ranking:
    timeout = 300

    def setup(self):
        from skcosim.model_selection import train_test_split_interactions

        X = interactions(20_000, 2_000)
        self.X_train, self.X_test = train_test_split_interactions(X, random_state=0)
        self.model = WeightDecayAutoencoder(n_components=64, random_state=0).fit(
            self.X_train
        )

    def time_recall_at_20(self):
        from skcosim.metrics import recall_at_k

        recall_at_k(self.model, self.X_train, self.X_test, 20)

    def time_ndcg_at_20(self):
        from skcosim.metrics import ndcg_at_k

        ndcg_at_k(self.model, self.X_train, self.X_test, 20)
