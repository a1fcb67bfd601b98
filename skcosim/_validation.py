"""Input checks shared by the estimators and the transformers."""

from __future__ import annotations


def check_not_dates(X):
    """Raise a TypeError for datetime64 / timedelta64 arrays and DataFrame
    columns (tz-aware ones included).

    ``check_array(dtype=float)`` would cast them to numbers (days or
    nanoseconds since 1970) and the fit would go ahead; a DataFrame mixing
    them with numbers failed inside numpy ("DTypePromotionError").
    """
    kind = getattr(getattr(X, "dtype", None), "kind", None)
    if kind in ("m", "M"):
        raise TypeError(
            f"X has dtype {X.dtype}: interactions must be numbers, not dates "
            "or durations."
        )
    dtypes = getattr(X, "dtypes", None)
    for name, dtype in getattr(dtypes, "items", dict().items)():
        if getattr(dtype, "kind", None) in ("m", "M"):
            raise TypeError(
                f"X has column {name!r} of dtype {dtype}: interactions must be "
                "numbers, not dates or durations."
            )
