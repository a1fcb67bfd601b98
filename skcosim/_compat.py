"""The private scikit-learn names skcosim uses, in one guarded place.

scikit-learn may move or rename anything private in any release, so no other
module of skcosim imports from a private scikit-learn module or a private
name. Here each one is either

- **vendored**: a small helper copied with its behaviour (the plotting
  helpers, ``check_matplotlib_support``, ``_num_samples``), so a release
  cannot break it; or
- **guarded**: imported from where scikit-learn keeps it, with a fallback.
  The parameter-constraint classes (``Interval``, ``StrOptions``,
  ``HasMethods``, ``validate_params``) cannot be vendored: scikit-learn's own
  ``BaseEstimator._validate_params`` recognizes only its own classes. If
  ``sklearn.utils._param_validation`` moves, they are taken from the module
  ``sklearn.base`` itself validates with. ``_fit_context`` and
  ``_safe_indexing`` fall back to equivalent vendored code.

``tests/test_compat.py`` checks the vendored helpers against scikit-learn's
while both exist.
"""

from __future__ import annotations

import functools
import importlib

import numpy as np
import scipy.sparse as sp
import sklearn
import sklearn.base


def _param_validation_module():
    try:
        return importlib.import_module("sklearn.utils._param_validation")
    except ImportError:  # moved: take the module sklearn.base validates with
        validator = getattr(sklearn.base, "validate_parameter_constraints", None)
        if validator is None:
            raise ImportError(
                f"scikit-learn {sklearn.__version__} keeps its parameter "
                "validation where skcosim cannot find it; install a scikit-learn "
                "release that skcosim supports (see pyproject.toml)."
            ) from None
        return importlib.import_module(validator.__module__)


_pv = _param_validation_module()
HasMethods = _pv.HasMethods
Hidden = _pv.Hidden
Interval = _pv.Interval
StrOptions = _pv.StrOptions
validate_params = _pv.validate_params


try:
    from sklearn.base import _fit_context
except ImportError:  # pragma: no cover - only on a scikit-learn without it

    def _fit_context(*, prefer_skip_nested_validation):
        """Validate the parameters, then fit (scikit-learn's ``_fit_context``)."""
        from sklearn import config_context, get_config

        def decorator(fit_method):
            @functools.wraps(fit_method)
            def wrapper(estimator, *args, **kwargs):
                skip = get_config().get("skip_parameter_validation", False)
                if not skip:
                    estimator._validate_params()
                with config_context(
                    skip_parameter_validation=prefer_skip_nested_validation or skip
                ):
                    return fit_method(estimator, *args, **kwargs)

            return wrapper

        return decorator


try:
    from sklearn.utils import _safe_indexing
except ImportError:  # pragma: no cover - only on a scikit-learn without it

    def _safe_indexing(X, indices, *, axis=0):
        """Rows of an array, sparse matrix or DataFrame (axis 0 only)."""
        if axis != 0:
            raise NotImplementedError("skcosim indexes rows only.")
        if hasattr(X, "iloc"):
            return X.iloc[indices]
        if sp.issparse(X):
            return X.tocsr()[indices] if X.format in ("coo", "dia") else X[indices]
        if hasattr(X, "shape"):
            return X[indices]
        return [X[i] for i in indices]


def _num_samples(X):
    """Number of rows of an array-like (scikit-learn's ``_num_samples``)."""
    if hasattr(X, "shape") and X.shape is not None:
        if len(X.shape) == 0:
            raise TypeError(
                f"Singleton array {X!r} cannot be considered a valid collection."
            )
        return int(X.shape[0])
    if not hasattr(X, "__len__"):
        raise TypeError(f"Expected sequence or array-like, got {type(X)}.")
    return len(X)


def check_matplotlib_support(caller_name):
    """Raise an ImportError naming ``caller_name`` when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"{caller_name} requires matplotlib. You can install matplotlib with "
            "`pip install matplotlib`"
        ) from exc


def _interval_max_min_ratio(data):
    """Ratio of the largest to the smallest gap between sorted values.

    Above 5, a parameter range reads better on a log scale.
    """
    diff = np.diff(np.sort(data))
    return diff.max() / diff.min()


# Matplotlib raises when an alias and its full name are both given.
_STYLE_ALIASES = {
    "ls": "linestyle",
    "c": "color",
    "ec": "edgecolor",
    "fc": "facecolor",
    "lw": "linewidth",
    "mec": "markeredgecolor",
    "mfcalt": "markerfacecoloralt",
    "ms": "markersize",
    "mew": "markeredgewidth",
    "mfc": "markerfacecolor",
    "aa": "antialiased",
    "ds": "drawstyle",
    "font": "fontproperties",
    "family": "fontfamily",
    "name": "fontname",
    "size": "fontsize",
    "stretch": "fontstretch",
    "style": "fontstyle",
    "variant": "fontvariant",
    "weight": "fontweight",
    "ha": "horizontalalignment",
    "va": "verticalalignment",
    "ma": "multialignment",
}


def _validate_style_kwargs(default_style_kwargs, user_style_kwargs):
    """Default style keywords updated by the user's, aliases resolved.

    A user keyword given by its alias replaces the default given by its full
    name; giving both an alias and its full name raises a TypeError.
    """
    for alias, full in _STYLE_ALIASES.items():
        if alias in user_style_kwargs and full in user_style_kwargs:
            raise TypeError(
                f"Got both {alias} and {full}, which are aliases of one another"
            )
    valid = default_style_kwargs.copy()
    for key, value in user_style_kwargs.items():
        valid[_STYLE_ALIASES.get(key, key)] = value
    return valid
