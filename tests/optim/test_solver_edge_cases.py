"""The gradient solvers (``lbfgs``, ``dropout-sgd``) on degenerate data and from
extreme starts: the closed form's loss or an error naming the parameter.
"""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from skcosim import DropoutAutoencoder

from .._closed_forms import _assert_finite, closed_forms

# The cosine model runs few iterations here: it is the input handling that is
# tested, not convergence.


def _degenerate_cases(small_binary):
    unseen = small_binary.copy()
    unseen[:, 2] = 0
    return {
        "zero": np.zeros((6, 4)),
        "one-user": small_binary[[1]],
        "one-item": small_binary[:, [0]],
        "unseen-item": unseen,
    }


@pytest.mark.catalogue(
    "E46",
    input=(
        '``solver="lbfgs"`` (Objectives 1, 2 and dropout) on zero ``X``, '
        "one user, one item, an unseen item"
    ),
    outcome=(
        "Correct: finite factors; the loss of the closed form to ``1e-5`` "
        "relative to ``||X||^2``"
    ),
)
@closed_forms
@pytest.mark.parametrize("case", ["zero", "one-user", "one-item", "unseen-item"])
def test_lbfgs_on_degenerate_data_reaches_the_closed_form_loss(
    estimator, small_binary, case
):
    """E46: solver="lbfgs" (with and without dropout) on degenerate data.

    Finite factors, and the loss of the closed form within 1e-5 of
    ||X||^2 (the loss is a sum over all entries).
    """
    X = _degenerate_cases(small_binary)[case]
    closed = clone(estimator).fit(X)
    trained = clone(estimator).set_params(solver="lbfgs", random_state=0).fit(X)
    _assert_finite(trained)
    scale = max(1.0, float(np.sum(X**2)))
    assert abs(trained.objective(X) - closed.objective(X)) <= 1e-5 * scale


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.catalogue(
    "E47",
    input='``solver="dropout-sgd"`` on the same degenerate data',
    outcome="Correct: finite factors, loss and embeddings",
)
@pytest.mark.parametrize("case", ["zero", "one-user", "one-item", "unseen-item"])
def test_dropout_sgd_on_degenerate_data_is_finite(small_binary, case):
    """E47: solver="dropout-sgd" (real random masks) on the same degenerate data."""
    X = _degenerate_cases(small_binary)[case]
    model = DropoutAutoencoder(
        n_components=3, dropout=0.3, solver="dropout-sgd", max_iter=5, random_state=0
    ).fit(X)
    _assert_finite(model)
    assert np.isfinite(model.objective(X))
    assert np.all(np.isfinite(model.transform(X)))
    if case == "zero":
        # Every item is unseen: the start is the zero model and training,
        # whose gradient is zero there, cannot leave it, at any step size.
        huge = clone(model).set_params(learning_rate=1e6).fit(X)
        assert_array_equal(huge.encoder_, 0.0)
        assert_array_equal(huge.decoder_, 0.0)


@pytest.mark.catalogue(
    "E48",
    input=(
        '``gauge`` other than ``"identity"`` (a name or an array) with '
        '``solver="lbfgs"`` or ``"dropout-sgd"``'
    ),
    outcome=(
        "``ValueError``: \"gauge='random' needs a closed-form solver: with "
        "solver='lbfgs' the split is the one training reaches\""
    ),
)
@pytest.mark.parametrize("solver", ["lbfgs", "dropout-sgd"])
@pytest.mark.parametrize("scaling", ["symmetric", "random", np.ones(3)], ids=str)
def test_a_split_requested_from_a_gradient_solver_names_the_conflict(
    small_binary, solver, scaling
):
    """E48: scaling other than "identity" with a gradient solver."""
    model = DropoutAutoencoder(
        n_components=3, dropout=0.3, gauge=scaling, solver=solver, max_iter=2
    )
    with pytest.raises(ValueError, match="needs a closed-form solver"):
        model.fit(small_binary)


@pytest.mark.catalogue(
    "E50",
    input=(
        '``init_scale`` ``1e100`` or ``1e200`` with ``solver="lbfgs"`` or '
        '``"dropout-sgd"`` (the initial factors overflow float64)'
    ),
    outcome=(
        '``ValueError``: "init_scale=1e+100 makes the initial factors overflow float64 '
        '(the loss at the start is nan); lower init_scale".'
    ),
)
@pytest.mark.parametrize("solver", ["lbfgs", "dropout-sgd"])
@pytest.mark.parametrize("init_scale", [1e100, 1e200])
def test_gradient_solver_overflowing_start_names_init_scale(
    small_binary, solver, init_scale
):
    """E50: init_scale so large that the initial factors overflow float64.

    Regression: solver="lbfgs" blamed X ("X is too large: its squared
    reconstruction error overflows"), dropout-sgd with 1e200 failed inside
    numpy ("Eigenvalues did not converge").
    """
    model = DropoutAutoencoder(
        n_components=3, solver=solver, init_scale=init_scale, random_state=0
    )
    match = rf"init_scale={init_scale:g} makes the initial factors overflow float64"
    with pytest.raises(ValueError, match=match.replace("+", r"\+")) as info:
        model.fit(small_binary)
    assert "X is too large" not in str(info.value)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.catalogue(
    "E51",
    input=(
        '``solver="dropout-sgd"`` with ``learning_rate=1e6`` on the '
        "degenerate data of E47 (``max_iter`` 5 or 500), or "
        "``learning_rate=100`` on the whole matrix"
    ),
    outcome=(
        '``ValueError`` (also a ``FloatingPointError``): "... diverged: the loss ended '
        "at 5.05e+107 after 5 epochs, more than 10 times its start in magnitude (the "
        'loss at the start is 4.27); lower learning_rate (now 1e+06)", or "the loss is '
        'nan after epoch 15" when it overflows. The default ``learning_rate`` trains '
        "the same data"
    ),
)
@pytest.mark.parametrize(
    "case, learning_rate, max_iter",
    [
        ("one-user", 1e6, 5),
        ("unseen-item", 1e6, 5),
        ("unseen-item", 1e6, 500),
        ("all", 100.0, 500),
    ],
)
def test_dropout_sgd_diverging_learning_rate_names_it(
    small_binary, case, learning_rate, max_iter
):
    """E51: dropout-sgd with a learning_rate that diverges, finite or overflowing.

    Regression: with learning_rate=1e6 and max_iter=5 the run ended at a
    finite loss near 1e107, over 1e100 times its start, with only the
    ConvergenceWarning of max_iter; with learning_rate=100 on the whole
    matrix it stopped as converged after 41 epochs (no warning at all) at a
    loss near 5e122: a growing loss never improves, so the plateau rule ended
    it. Only a loss
    that overflowed raised (a FloatingPointError). All now raise a ValueError
    (still also a FloatingPointError) naming learning_rate.
    """
    X = small_binary if case == "all" else _degenerate_cases(small_binary)[case]
    model = DropoutAutoencoder(
        n_components=3,
        dropout=0.3,
        solver="dropout-sgd",
        learning_rate=learning_rate,
        max_iter=max_iter,
        random_state=0,
    )
    match = rf"diverged: .* lower learning_rate \(now {learning_rate:g}\)"
    with pytest.raises(ValueError, match=match.replace("+", r"\+")) as info:
        model.fit(X)
    assert isinstance(info.value, FloatingPointError)
    # The default step trains the same data: no error, the loss goes down.
    fitted = clone(model).set_params(learning_rate=0.2).fit(X)
    assert np.isfinite(fitted.objective(X))
    assert fitted.loss_curve_[-1] <= fitted.loss_curve_[0]


@pytest.mark.catalogue(
    "E52",
    input=(
        '``solver="lbfgs"`` (with and without ``dropout``) from a huge but '
        "finite ``init_scale``: ``1e10``, ``1e30``, ``1e50``"
    ),
    outcome=(
        "``ValueError`` (a ``DivergenceError``, also a ``FloatingPointError``): "
        '"init_scale=1e+30 is too large: L-BFGS could not take a first step: its line '
        "search found no loss below the start's 7.02e+123 (the all-zero model has 87); "
        'lower init_scale", or, from ``1e10`` (on this data from about ``1e4``), "the '
        "factors grew so large that float64 resolves the loss only to about 2.81e+26, "
        'more than 0.1 times the loss of the all-zero model ...".'
    ),
)
@pytest.mark.parametrize("dropout", [0.0, 0.3], ids=["objective1", "edlae"])
@pytest.mark.parametrize("init_scale", [1e10, 1e30, 1e50])
def test_lbfgs_from_a_huge_finite_start_names_init_scale(
    small_binary, init_scale, dropout
):
    """E52: solver="lbfgs" from a huge but finite init_scale (1e10, 1e30, 1e50).

    Regression: from 1e30 and 1e50 L-BFGS could not take a first step (its
    line search ended ABNORMAL at iteration 0) and the random start came back
    as the model, loss about 1e123 or 1e203 against ||X||^2 = 87, without any
    warning; from 1e10 it stopped as converged at a loss near 1e31. Now a
    ValueError (a DivergenceError, also a FloatingPointError) names
    init_scale and its value.
    """
    model = DropoutAutoencoder(
        n_components=3,
        dropout=dropout,
        solver="lbfgs",
        init_scale=init_scale,
        random_state=0,
    )
    match = rf"init_scale={init_scale:g} is too large.*lower init_scale"
    with pytest.raises(ValueError, match=match.replace("+", r"\+")) as info:
        model.fit(small_binary)
    assert isinstance(info.value, FloatingPointError)


@pytest.mark.catalogue(
    "E53",
    input='``solver="lbfgs"`` (with and without ``dropout``) with ``init_scale=1e3``',
    outcome=(
        "Trains: the loss ends below that of the all-zero model (``||X||^2``), though "
        "above the closed form (42 against 25.8 without dropout; see the known "
        "limitations)."
    ),
)
@pytest.mark.parametrize("dropout", [0.0, 0.3], ids=["objective1", "edlae"])
def test_lbfgs_from_init_scale_1e3_trains_below_the_zero_model(small_binary, dropout):
    """E53: solver="lbfgs" with init_scale=1e3: trains, no early stop.

    Regression: the gradient tolerance was relative to the gradient at the
    start (about 1e12 here), so L-BFGS stopped as converged, without any
    warning, at a loss about 24 times (3 times with dropout) that of the
    all-zero model (||X||^2 = 87). Now the tolerance is capped at the data's
    scale (s_1^2): the fit ends below ||X||^2, though above the closed form
    (training conserves A^T A - B^T B, here of order 1e6: a badly
    conditioned split).
    """
    model = DropoutAutoencoder(
        n_components=3, dropout=dropout, solver="lbfgs", init_scale=1e3, random_state=0
    ).fit(small_binary)
    _assert_finite(model)
    zero_model = float(np.sum(small_binary**2))
    assert model.objective(small_binary) < zero_model
    assert model.loss_curve_[-1] < zero_model
    closed = clone(model).set_params(solver="auto").fit(small_binary)
    assert model.objective(small_binary) >= closed.objective(small_binary) - 1e-9


@pytest.mark.catalogue(
    "E54",
    input=(
        '``solver="dropout-sgd"`` (with and without ``dropout``) from a '
        "huge but finite ``init_scale``: ``1e4``, ``1e30``, ``1e50`` "
        "(``max_iter=20``)"
    ),
    outcome=(
        "``ValueError`` (a ``DivergenceError``, also a ``FloatingPointError``): "
        '"init_scale=1e+30 is too large: the factors are so large that float64 '
        "resolves the loss only to about 6.38e+107, more than 0.1 times the loss of "
        "the all-zero model (87; the loss ended at 6.22e+122 after 20 epochs, from "
        '7.02e+123); lower init_scale", the check of E52 (start and end both '
        "unresolved)."
    ),
)
@pytest.mark.parametrize("dropout", [0.0, 0.3], ids=["objective1", "edlae"])
@pytest.mark.parametrize("init_scale", [1e4, 1e30, 1e50])
def test_dropout_sgd_from_a_huge_finite_start_names_init_scale(
    small_binary, init_scale, dropout
):
    """E54: solver="dropout-sgd" from a huge but finite init_scale (1e4 to 1e50).

    Regression: the run went on to max_iter and ended with only a
    ConvergenceWarning ("increase max_iter"), at a loss of 1e16 (1e4) to
    1e201 (1e50) times that of the all-zero model (||X||^2 = 87), which float64
    could not even resolve. Training conserves A^T A - B^T B, so such factors
    do not shrink: more epochs do not help. Now a ValueError (a
    DivergenceError, also a FloatingPointError) names init_scale and its
    value, as with solver="lbfgs" (E52).
    """
    model = DropoutAutoencoder(
        n_components=3,
        dropout=dropout,
        solver="dropout-sgd",
        init_scale=init_scale,
        max_iter=20,
        random_state=0,
    )
    match = rf"init_scale={init_scale:g} is too large.*lower init_scale"
    with pytest.raises(ValueError, match=match.replace("+", r"\+")) as info:
        model.fit(small_binary)
    assert isinstance(info.value, FloatingPointError)
    assert "learning_rate" not in str(info.value)


@pytest.mark.catalogue(
    "E55",
    input=(
        '``solver="dropout-sgd"`` (with and without ``dropout``) with '
        "``init_scale=1e3`` and ``max_iter=20``"
    ),
    outcome=(
        "``ConvergenceWarning``, not an error (the loss is resolved and "
        'going down), which now adds "Its loss (6.22e+14) is still above '
        "that of the all-zero model (87): this model is worse than none. "
        "Its start (7.02e+15) was far above it too: a smaller init_scale "
        '(now 1000) trains faster". With ``random_state=0`` and '
        "``max_iter=5000`` the fit ends below ``||X||^2``"
    ),
)
@pytest.mark.parametrize("dropout", [0.0, 0.3], ids=["objective1", "edlae"])
def test_dropout_sgd_from_init_scale_1e3_warns_then_trains(small_binary, dropout):
    """E55: solver="dropout-sgd" with init_scale=1e3: slow, a warning, not an error.

    Stopped at max_iter=20 far above the all-zero model (about 1e13 times
    ||X||^2 = 87), its loss is still resolved (rounding error about 5e-3
    times ||X||^2) and going down: the ConvergenceWarning, not an error. It
    now says that the model is worse than none and that a smaller init_scale
    trains faster (it only said "increase max_iter"). With random_state=0 the
    run ends below ||X||^2 within 5,000 epochs, as solver="lbfgs" does from
    the same start (E53); other seeds need more.
    """
    model = DropoutAutoencoder(
        n_components=3,
        dropout=dropout,
        solver="dropout-sgd",
        init_scale=1e3,
        max_iter=20,
        random_state=0,
    )
    match = r"increase max_iter.*worse than none.*smaller init_scale \(now 1000\)"
    with pytest.warns(ConvergenceWarning, match=match):
        model.fit(small_binary)
    zero_model = float(np.sum(small_binary**2))
    assert model.loss_curve_[-1] > 1e6 * zero_model
    model.set_params(max_iter=5000).fit(small_binary)
    _assert_finite(model)
    assert model.loss_curve_[-1] < zero_model
    assert model.objective(small_binary) < zero_model
