"""PopularityScaler and ProjectedEmbedding on degenerate data and bad parameters."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, clone
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from skcosim import CosineAutoencoder, DropoutAutoencoder, WeightDecayAutoencoder
from skcosim.preprocessing import (
    PopularityScaler,
    ProjectedEmbedding,
    project_factors,
)

from .._closed_forms import CLOSED_FORMS, all_estimators
from .._stored_zeros import (
    long_tailed,
    unseen_by_brute_force,
    with_cancelling_duplicates,
)

# The cosine model runs few iterations here: it is the input handling that is
# tested, not convergence.


@pytest.mark.catalogue(
    "P01",
    input=(
        "``PopularityScaler(beta=200)`` (or -200, 1000) on data with an "
        "item seen by 1 user in 200"
    ),
    outcome=(
        '``ValueError``: "beta=200.0 makes popularity ** -beta overflow or underflow '
        'float64 ...".'
    ),
)
@pytest.mark.parametrize("beta", [200.0, -200.0, 1000.0])
def test_popularity_scaler_beta_overflowing_float64_names_beta(beta):
    """P01: |beta| so large that popularity ** -beta is inf or 0.

    Regression: the scale was inf (or 0) with only a RuntimeWarning; a
    following autoencoder then failed with "Input X contains NaN".
    """
    X = np.zeros((200, 3))
    X[0, 0], X[:, 1], X[::2, 2] = 1, 1, 1  # popularity 1/200, 1, 1/2
    with pytest.raises(ValueError, match=f"beta={beta} makes popularity"):
        PopularityScaler(beta=beta).fit(X)


@pytest.mark.catalogue(
    "P02",
    input="``beta`` NaN, inf or a string",
    outcome="``InvalidParameterError`` naming ``beta``",
)
@pytest.mark.parametrize("beta", [np.nan, np.inf, "0.5"])
def test_popularity_scaler_bad_beta_names_the_parameter(small_binary, beta):
    """P02: beta NaN, inf or a string."""
    with pytest.raises(InvalidParameterError, match="'beta' parameter"):
        PopularityScaler(beta=beta).fit(small_binary)


@pytest.mark.catalogue(
    "P03",
    input="An item nobody saw; an all-zero ``X``",
    outcome=(
        "Correct: an unseen item counts as one user (documented); an "
        "all-zero ``X`` scales every column by ``n^beta``; "
        "``inverse_transform`` undoes ``transform``"
    ),
)
def test_popularity_scaler_on_unseen_items_and_empty_data_is_finite(small_binary):
    """P03: an unseen item counts as one user; an all-zero X scales evenly."""
    X = small_binary.copy()
    X[:, 4] = 0
    scaler = PopularityScaler(beta=1.0).fit(X)
    n = X.shape[0]
    assert_allclose(scaler.popularity_[4], 1 / n)
    assert_allclose(scaler.popularity_, np.maximum((X != 0).sum(0), 1) / n)
    assert_allclose(scaler.transform(X), X / scaler.popularity_)
    zero = PopularityScaler(beta=1.0).fit(np.zeros((5, 3)))
    assert_allclose(zero.scale_, 5.0)
    assert_array_equal(zero.inverse_transform(zero.transform(np.ones((2, 3)))), 1)


@pytest.mark.catalogue(
    "P04",
    input="COO, DOK, LIL, CSC input",
    outcome="Correct: sparse output with the values of the dense path",
)
@pytest.mark.parametrize("fmt", ["coo_matrix", "dok_matrix", "lil_matrix", "csc_array"])
def test_popularity_scaler_on_any_sparse_format_gives_the_dense_result(
    small_binary, fmt
):
    """P04: COO / DOK / LIL / CSC input: sparse output, values of the dense path."""
    X = getattr(sp, fmt)(small_binary)
    scaler = PopularityScaler().fit(X)
    out = scaler.transform(X)
    assert sp.issparse(out)
    assert_allclose(out.toarray(), PopularityScaler().fit_transform(small_binary))


@pytest.mark.catalogue(
    "P05",
    input=(
        "Scaler + autoencoder pipeline on data with unseen items and empty "
        "users, ``beta`` = ±0.5"
    ),
    outcome=(
        "Correct: finite embeddings, empty users embedded at 0, finite reconstruction"
    ),
)
@pytest.mark.parametrize("beta", [0.5, -0.5])
def test_pipeline_with_popularity_scaler_on_degenerate_data_is_finite(
    small_binary, beta
):
    """P05: scaler + autoencoder on data with unseen items and empty users."""
    X = small_binary.copy()
    X[:, [1, 6]] = 0
    X[[0, 5]] = 0
    for model in CLOSED_FORMS:
        pipe = make_pipeline(PopularityScaler(beta=beta), clone(model)).fit(X)
        Z = pipe.transform(X)
        assert np.all(np.isfinite(Z))
        assert_array_equal(Z[[0, 5]], 0)
        assert np.all(np.isfinite(pipe.inverse_transform(Z)))


@pytest.mark.catalogue(
    "P06",
    input="``ProjectedEmbedding(PCA())``",
    outcome=r'``TypeError``: "PCA has no encoder\_ and decoder\_ after fit"',
)
def test_projected_embedding_of_a_non_autoencoder_names_the_problem(small_binary):
    """P06: ProjectedEmbedding(PCA()): not a linear autoencoder."""
    with pytest.raises(TypeError, match="has no encoder_ and decoder_"):
        ProjectedEmbedding(PCA(2)).fit(small_binary)


@pytest.mark.catalogue(
    "P07",
    input="``ProjectedEmbedding`` of a zero model (zero ``X``, or every component cut)",
    outcome="Correct: zero projected embeddings, not NaN",
)
@pytest.mark.parametrize(
    "X",
    [np.zeros((6, 5)), None],
    ids=["zero-X", "every-component-cut"],
)
def test_projected_embedding_of_a_zero_model_is_zero(small_binary, X):
    """P07: the wrapped model is all zero: projected embeddings are 0, no NaN."""
    X = small_binary if X is None else X
    proj = ProjectedEmbedding(WeightDecayAutoencoder(n_components=3, alpha=1e6))
    proj.fit(X)
    assert_array_equal(proj.item_embeddings(), 0)
    assert_array_equal(proj.transform(X), 0)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.catalogue(
    "P08",
    input="``ProjectedEmbedding``: NaN at fit, fewer items at transform",
    outcome='``ValueError``: "NaN" / "X has 4 features"',
)
@all_estimators
def test_projected_embedding_rejects_nan_and_other_columns(estimator, small_binary):
    """P08: NaN at fit; a different number of items at transform."""
    bad = small_binary.copy()
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ProjectedEmbedding(clone(estimator)).fit(bad)
    proj = ProjectedEmbedding(clone(estimator)).fit(small_binary)
    with pytest.raises(ValueError, match="X has 4 features"):
        proj.transform(small_binary[:, :4])


@pytest.mark.catalogue(
    "P09",
    input=(
        "``datetime64`` input to ``PopularityScaler`` or "
        "``ProjectedEmbedding`` (fit or transform)"
    ),
    outcome=(
        '``TypeError``: "interactions must be numbers, not dates or durations" (as E45)'
    ),
)
@pytest.mark.parametrize(
    "transformer",
    [PopularityScaler(), ProjectedEmbedding()],
    ids=["PopularityScaler", "ProjectedEmbedding"],
)
def test_preprocessing_rejects_dates_at_fit_and_transform(transformer, small_binary):
    """P09: datetime64 input to PopularityScaler and ProjectedEmbedding."""
    dates = np.arange(12).reshape(4, 3).astype("datetime64[D]")
    with pytest.raises(TypeError, match="not dates or durations"):
        clone(transformer).fit(dates)
    fitted = clone(transformer).fit(small_binary[:, :3])
    with pytest.raises(TypeError, match="not dates or durations"):
        fitted.transform(dates)


@pytest.mark.catalogue(
    "P10",
    input=(
        "CSR, CSC or COO input (``*_matrix`` or ``*_array``) to "
        "``PopularityScaler.transform`` / ``inverse_transform``"
    ),
    outcome=(
        "Correct: output in the input's sparse format and container, values of the "
        "dense path."
    ),
)
@pytest.mark.parametrize(
    "fmt", ["csr_matrix", "csc_matrix", "coo_matrix", "csr_array", "coo_array"]
)
def test_popularity_scaler_keeps_the_sparse_format(small_binary, fmt):
    """P10: CSR, CSC, COO in: the same format (and container) out, same values.

    Regression: COO input came back as CSR although the docstring promised
    the sparse format is kept.
    """
    X = getattr(sp, fmt)(small_binary)
    scaler = PopularityScaler(beta=1.0).fit(X)
    dense = PopularityScaler(beta=1.0).fit_transform(small_binary)
    for out, expected in [
        (scaler.transform(X), dense),
        (scaler.fit_transform(X), dense),
        (scaler.inverse_transform(scaler.transform(X)), small_binary),
    ]:
        assert type(out) is type(X)
        assert out.format == X.format
        assert_allclose(out.toarray(), expected, rtol=1e-12)


@pytest.mark.catalogue(
    "P11",
    input=(
        "float32 data with ``PopularityScaler(beta=20)`` (or -20) and an "
        "item seen by 1 user in 200 (``200 ** 20 = 1e46`` overflows "
        "float32); float32 data transformed by a scaler fitted on float64"
    ),
    outcome=(
        '``ValueError``: "beta=20.0 makes popularity ** -beta overflow or underflow '
        'float32", as float64 (P01).'
    ),
)
@pytest.mark.parametrize("beta", [20.0, -20.0])
def test_popularity_scaler_in_float32_refuses_factors_float32_cannot_hold(beta):
    """P11: float32 data, ``beta=20`` (or -20), an item seen by 1 user in 200.

    ``200 ** 20 = 1e46`` overflows float32 (``200 ** -20`` underflows to 0).
    Regression: the output held inf and NaN (or the entry was erased) with
    only RuntimeWarnings; float64 data already got the clear error (P01),
    and so does float32 data transformed by a scaler fitted on float64.
    """
    X = np.zeros((200, 3), dtype=np.float32)
    X[:, 0], X[0, 1], X[:, 2] = 1, 1, 1  # popularity 1, 1/200, 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning on the way
        with pytest.raises(ValueError, match="overflow or underflow float32"):
            PopularityScaler(beta=beta).fit(X)
        scaler = PopularityScaler(beta=beta).fit(X.astype(np.float64))
        assert np.all(np.isfinite(scaler.transform(X.astype(np.float64))))
        for method in (scaler.transform, scaler.inverse_transform):
            with pytest.raises(ValueError, match="overflow or underflow float32"):
                method(X)
    assert_allclose(PopularityScaler(beta=5.0).fit_transform(X)[0], [1, 200**5, 1])


@pytest.mark.catalogue(
    "P12",
    input=(
        "``ProjectedEmbedding.item_embeddings(gauge=...)`` with a zero, a "
        "wrongly sized, a singular or a NaN gauge"
    ),
    outcome=(
        '``ValueError``: "gauge must be invertible" / "must have shape (3, 3)" / '
        '"NaN", the autoencoders\' check (E38, one shared function).'
    ),
)
@pytest.mark.parametrize(
    "gauge, match",
    [
        (np.zeros((3, 3)), "must be invertible"),
        (np.eye(2), r"must have shape \(3, 3\)"),
        (np.ones((3, 3)), "must be invertible"),
        (np.diag([1.0, 1.0, np.nan]), "NaN"),
    ],
    ids=["zero", "wrong-size", "singular", "nan"],
)
def test_projected_embedding_checks_the_gauge_as_the_autoencoders_do(
    small_binary, gauge, match
):
    """P12: ``ProjectedEmbedding.item_embeddings(gauge=...)`` with a zero, a
    wrongly sized, a singular or a NaN gauge.

    Regression: a ``LinAlgError`` or a broadcast error; it now shares the
    autoencoders' gauge check (E38).
    """
    proj = ProjectedEmbedding(DropoutAutoencoder(3, alpha=1.0)).fit(small_binary)
    with pytest.raises(ValueError, match=match):
        proj.item_embeddings(gauge=gauge)
    with pytest.raises(ValueError, match=match):
        proj.estimator_.item_embeddings(gauge=gauge)


@pytest.mark.catalogue(
    "P13",
    input=(
        "``ProjectedEmbedding`` of a model with more components than items "
        "(``n_components=12`` on 9 items); found by the metrics fuzz test"
    ),
    outcome=(
        "Correct: ``projected_encoder_`` of shape ``(9, 12)`` (the extra columns "
        "zero), the wrapped model's reconstruction, ``gauge_stability`` 1.0."
    ),
)
def test_projected_embedding_with_more_components_than_items_keeps_its_shape(
    small_binary,
):
    """P13: ``ProjectedEmbedding`` of a model with ``n_components=12`` on 9
    items (found by the metrics fuzz test).

    Regression: the projection had ``min(n_features, n_components)`` columns,
    against the documented ``(n_features, n_components)``, so the gauge drawn
    by ``gauge_stability`` did not fit the wrapped model (a shape error).
    The added columns are zero; the reconstruction is unchanged.
    """
    from skcosim.metrics import gauge_stability

    proj = ProjectedEmbedding(DropoutAutoencoder(12, alpha=1.0)).fit(small_binary)
    assert proj.projected_encoder_.shape == (9, 12)
    assert proj.transform(small_binary).shape == (25, 12)
    assert_array_equal(proj.projected_encoder_[:, 9:], 0)
    inner = proj.estimator_
    assert_allclose(
        proj.inverse_transform(proj.transform(small_binary)),
        inner.inverse_transform(inner.transform(small_binary)),
        atol=1e-12,
    )
    assert gauge_stability(proj, 3, random_state=0) == 1.0


class _SVDFactors(BaseEstimator):
    """A linear autoencoder of another make: TruncatedSVD's ``V`` as both
    factors, with its rounding left in the rows of unseen items."""

    def fit(self, X, y=None):
        V = TruncatedSVD(3, random_state=0).fit(X).components_.T  # randomized
        self.encoder_ = self.decoder_ = V
        return self

    def transform(self, X):
        return X @ self.encoder_


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.catalogue("E70b", part_of="E70")
@pytest.mark.parametrize(
    "estimator",
    [
        WeightDecayAutoencoder(5, alpha=0.5, solver="gram"),
        DropoutAutoencoder(5, alpha=2.0, solver="lbfgs", max_iter=30, random_state=0),
        CosineAutoencoder(5, loss="softmax", max_iter=15),
        _SVDFactors(),
    ],
    ids=["weight-decay-gram", "dropout-lbfgs", "cosine", "other-make"],
)
def test_projected_embedding_of_unseen_items_is_exactly_zero(estimator):
    """E70b: ProjectedEmbedding and project_factors, items nobody interacted with."""
    X = long_tailed()
    unseen = unseen_by_brute_force(X)
    proj = ProjectedEmbedding(estimator).fit(X)
    E = proj.item_embeddings()
    assert_array_equal(E[unseen], 0.0)
    assert np.any(E[~unseen] != 0)
    gauge = np.diag([2.0, 0.5, 1.0, 3.0, 0.25][: E.shape[1]])
    if isinstance(estimator, DropoutAutoencoder):
        assert_array_equal(proj.item_embeddings(gauge=gauge)[unseen], 0.0)
    # project_factors: a zero row of the item factors stays exactly zero.
    V = np.array(proj.estimator_.decoder_, dtype=np.float64)
    V[unseen] = 0.0
    F = project_factors(proj.transform(X), V)
    assert_array_equal(F[unseen], 0.0)


def test_popularity_scaler_counts_only_nonzero_values():
    """Stored zeros and duplicates that sum to zero are no user of an item."""
    X = long_tailed()
    dirty = with_cancelling_duplicates(X, users=range(0, 240, 7))
    scaler = PopularityScaler(0.5).fit(dirty)
    counts = np.count_nonzero(dirty.toarray(), axis=0)
    assert_allclose(scaler.popularity_, np.maximum(counts, 1) / X.shape[0])
