"""The figure of the README and the docs is what ``skcosim reproduce`` draws.

``docs/_static/figure1.png`` is committed (the README on a code host shows it
from the repository); this test redraws it with the command's default
settings and compares the pixels, so a change to the models, the defaults or
the plotting cannot leave a stale figure behind.
"""

from pathlib import Path

import numpy as np
import pytest

from skcosim import cli

image = pytest.importorskip("matplotlib.image")

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "_static" / "figure1.png"
REGENERATE = (
    "regenerate it: skcosim reproduce --out /tmp/figure && "
    "cp /tmp/figure/figure1.png docs/_static/figure1.png"
)
# Other matplotlib or FreeType releases move anti-aliased edges of the text by
# a pixel; a changed heatmap moves far more than this.
MEAN_TOLERANCE = 0.01
OFF_PIXELS_TOLERANCE = 0.005


@pytest.mark.slow
def test_committed_figure_is_what_reproduce_draws_today(tmp_path):
    assert cli.main(["reproduce", "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    drawn = image.imread(tmp_path / "out" / "figure1.png")
    committed = image.imread(COMMITTED)
    assert drawn.shape == committed.shape, REGENERATE
    difference = np.abs(drawn - committed).max(axis=-1)
    assert difference.mean() <= MEAN_TOLERANCE, REGENERATE
    assert (difference > 0.25).mean() <= OFF_PIXELS_TOLERANCE, REGENERATE
