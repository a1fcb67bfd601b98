"""Order of the gallery examples: the paper's story, not the alphabet.

sphinx-gallery imports this by name (``"_gallery_order.ExampleOrder"`` in
conf.py): a class defined in conf.py itself could not be pickled with the
configuration, which Sphinx reports as a warning (an error under -W).
"""

from __future__ import annotations

import os

# The paper's result first, then the question it raises (which split does
# training pick), the remedies, model selection, and an audit of real data.
ORDER = [
    "plot_figure1.py",
    "plot_dropout_gauge.py",
    "plot_cosine_seeds.py",
    "plot_restart_stability.py",
    "plot_grid_search.py",
    "plot_movielens_audit.py",
    "plot_external_models.py",
    "plot_word2vec_gauge.py",
]


class ExampleOrder:
    """Sort key: examples in ``ORDER`` first, in that order; others by name."""

    def __init__(self, src_dir: str) -> None:
        self.src_dir = src_dir

    def __call__(self, filename: str) -> tuple[int, str]:
        name = os.path.basename(filename)
        rank = ORDER.index(name) if name in ORDER else len(ORDER)
        return rank, name

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
