"""Splitters for evaluating recommenders on held-out interactions."""

from ._split import train_test_split_interactions

__all__ = ["train_test_split_interactions"]
