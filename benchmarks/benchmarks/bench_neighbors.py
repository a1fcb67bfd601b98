"""Exact top-k cosine neighbours (skcosim.metrics.cosine_neighbors)."""

from .common import embeddings


class CosineNeighbors:
    params = ([10_000, 50_000], [10, 50])
    param_names = ["n_rows", "n_neighbors"]
    timeout = 300

    def setup(self, n_rows, n_neighbors):
        self.E = embeddings(n_rows)

    def time_cosine_neighbors(self, n_rows, n_neighbors):
        from skcosim.metrics import cosine_neighbors

        cosine_neighbors(self.E, n_neighbors)

    def peakmem_cosine_neighbors(self, n_rows, n_neighbors):
        from skcosim.metrics import cosine_neighbors

        cosine_neighbors(self.E, n_neighbors)
