"""The cosine matrices of SimilarityMatrixDisplay and the command line's figure."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal


@pytest.mark.catalogue(
    "M25",
    input=(
        "Similarity heatmaps (``SimilarityMatrixDisplay.from_embeddings``, "
        "the command line's figure) of embeddings with rows of norm "
        "``1e-7`` (float32) and zero rows"
    ),
    outcome=("Correct: the cosines of the unscaled rows (to ``1e-6``); zero rows 0."),
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_similarity_matrices_are_scale_free_and_zero_rows_are_zero(embedding, dtype):
    """M25: the cosine matrices of SimilarityMatrixDisplay and the CLI figure.

    Rows of norm 1e-7 (float32) keep their cosines, zero rows have cosine 0.
    Regression: sklearn's cosine_similarity treats rows of norm < 10 eps as
    zero, so such items showed cosine 0 with everything.
    """
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from skcosim.cli import _figure
    from skcosim.plotting import SimilarityMatrixDisplay

    E = embedding[:12].astype(dtype)
    E[3] = 0
    scaled = E * np.logspace(-7, 0, len(E)).astype(dtype)[:, None]
    norms = np.linalg.norm(E.astype(np.float64), axis=1, keepdims=True)
    U = E / np.where(norms > 0, norms, 1)
    expected = U @ U.T
    tol = 1e-12 if dtype == np.float64 else 1e-6
    display = SimilarityMatrixDisplay.from_embeddings(scaled)
    plt.close("all")
    assert_allclose(display.similarities, expected, atol=tol)
    assert_array_equal(display.similarities[3], 0)

    class Result:  # the fields similarity_panels reads
        def __init__(self, E):
            self.embeddings = E
            self.spec = type("Spec", (), {"name": "m"})()

    ((_, S),) = _figure.similarity_panels([Result(scaled)], np.arange(12))
    assert_allclose(S, expected, atol=tol)
    assert not np.isnan(S).any()
