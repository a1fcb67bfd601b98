"""The audit's cosine-trained row: its resample and restart fits run in worker
processes started before the other models, and its loss and cap on
iterations are what the estimator's ``loss="auto"`` resolves to."""

import warnings

import numpy as np
import pytest

from skcosim.cli import _models
from skcosim.datasets import make_clustered_interactions


@pytest.fixture(scope="module")
def X():
    return make_clustered_interactions(300, 40, 4, random_state=0).data


class _Steps:
    """A progress that records the steps it is told."""

    bar = None

    def __init__(self):
        self.steps = []

    def step(self, text):
        self.steps.append(text)

    def advance(self):
        pass


def _compare(X, specs, n_jobs, progress=None):
    return _models.compare_models(
        specs,
        X,
        n_neighbors=5,
        n_draws=1,
        resample_draws=1,
        iterative_resample_draws=1,
        iterative_n_jobs=n_jobs,
        random_state=0,
        progress=progress,
    )


@pytest.mark.catalogue(
    "M71",
    input=(
        "The comparison of ``skcosim audit``: the cosine-trained model's "
        "resample and restart fits in 2 worker processes started before any "
        "model is fitted, against the same comparison without workers"
    ),
    outcome=(
        "The same scores (resample and restart stability exactly) and the same "
        "notes in every row, rows in the same order (the cosine model fitted first)"
    ),
)
def test_background_refits_give_the_same_rows(X):
    """M71: the background fits change no number of the comparison."""

    def specs():
        return _models.default_models(4, 3.0, random_state=0, max_iter=5, restarts=2)

    progress = _Steps()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing escapes the rows' notes
        background = _compare(X, specs(), 2, progress)
    inline = _compare(X, specs(), None)
    # The iterative model is fitted first, beside its workers; rows keep
    # their order.
    assert progress.steps[0] == "Objective 3 (trained for cosine): fit"
    assert [r.spec.name for r in background] == [r.spec.name for r in inline]
    for got, expected in zip(background, inline, strict=True):
        assert got.scores.keys() == expected.scores.keys()
        for key, value in expected.scores.items():
            if key != "fit_seconds":
                assert got.scores[key] == value, (got.spec.name, key)
    cosine = next(r for r in background if r.spec.iterative)
    assert cosine.scores["restart_stability"] is not None
    assert cosine.scores["resample_stability"] is not None


class _Failing:
    """An iterative model whose fit fails on any data."""

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self

    def fit(self, X):
        raise ValueError("init_alpha is too large for these data")


def test_background_refits_of_a_model_that_cannot_be_fitted(X):
    """M71: a failed fit is a note; its background fits end without a trace."""
    specs = [
        _models.ModelSpec(
            "failing", "Objective 3", _Failing(), iterative=True, optional=True
        ),
        _models.default_models(4, 3.0, random_state=0)[4],  # Objective 2
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        failing, wd = _compare(X, specs, 2)
    assert failing.scores["notes"] == [
        "not fitted: init_alpha is too large for these data"
    ]
    assert wd.scores["gauge_stability"] == 1.0
    assert np.isfinite(wd.scores["resample_stability"])


def test_audit_reads_the_loss_the_estimator_resolved(tmp_path, monkeypatch):
    """The audit's cap on the cosine model's iterations and its intro follow
    what the estimator's ``loss="auto"`` resolves to, not a rule of its own:
    an estimator that samples on this small log gets epochs."""
    import json

    import pandas as pd

    from skcosim import CosineAutoencoder, cli
    from skcosim.cli import _settings

    monkeypatch.setattr(_settings, "AUDIT_MAX_EPOCHS", 2)
    monkeypatch.setattr(_settings, "AUDIT_RESTARTS", 0)
    monkeypatch.setattr(
        CosineAutoencoder, "_resolved_loss", lambda self, n, p: "sampled_softmax"
    )
    X = make_clustered_interactions(200, 30, 3, random_state=0).data.tocoo()
    log = tmp_path / "log.csv"
    pd.DataFrame({"user": X.row, "item": X.col}).to_csv(log, index=False)
    argv = ["audit", str(log), "--user-col", "user", "--item-col", "item"]
    argv += ["--n-components", "3", "--out", str(tmp_path / "out"), "--no-progress"]
    assert cli.main(argv) == 0
    report = json.loads((tmp_path / "out" / "audit.json").read_text())
    assert (
        "at most 2 epochs of a sampled softmax"
        in (tmp_path / "out" / "audit.md").read_text()
    )
    row = next(m for m in report["models"] if m["name"].startswith("Objective 3"))
    assert row["loss"] is not None


def test_every_row_reports_the_objective_of_its_model():
    """The loss column is ``model.objective(X)`` in every row (the closed forms
    read it from their fit), on long-tailed data with unseen items, an empty
    user, single-interaction users and stored zeros (rtol 1e-10)."""
    from .._long_tailed import long_tailed_interactions

    X = long_tailed_interactions()
    specs = _models.default_models(4, 1.0, random_state=0, max_iter=5)
    for result in _compare(X, specs, None):
        expected = result.model.objective(X)
        assert abs(result.scores["loss"] - expected) <= 1e-10 * abs(expected)
