"""``load_interactions`` on a CSV log against a plain ``pyarrow.csv.read_csv``.

Reads the same ``user,item`` log (ids like ``u123``, ``i45``; written once
into ``benchmarks/.cache`` by ``bench_audit.log_path`` from
``_data.make_powerlaw``) three ways, interleaved in one run, and prints the
best of ``--repeat`` rounds with the ratios to pyarrow:

- ``pyarrow.csv.read_csv``: the file parsed, types inferred, nothing checked;
- ``load_interactions``: read (the columnar path), ids mapped, matrix built;
- strict reader: the same call with the columnar path turned off, so that
  Python's csv module reads every record (what a file with an irregular
  quote or a damaged line gets).

Run: ``python benchmarks/bench_loader.py --sizes 4m,10m --repeat 3``.
"""

from __future__ import annotations

import argparse
from unittest import mock

import pyarrow.csv as pv
from _timing import interleaved
from bench_audit import LOGS, log_path

from skcosim.datasets import load_interactions


def methods(path):
    def strict():
        with mock.patch("skcosim.datasets._load._columnar_csv", return_value=None):
            return load_interactions(path, "user", "item")

    return {
        "pyarrow.csv.read_csv": lambda: pv.read_csv(path),
        "load_interactions": lambda: load_interactions(path, "user", "item"),
        "strict reader (csv module)": strict,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="4m,10m", help=f"of {sorted(LOGS)}")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-strict", action="store_true", help="skip the slow one")
    args = parser.parse_args()
    for name in args.sizes.split(","):
        path = log_path(name)
        timed = methods(path)
        if args.no_strict:
            timed.pop("strict reader (csv module)")
        best = interleaved(timed, args.repeat)
        fast = best["load_interactions"][1]
        print(
            f"\n## {name}: {path.name}, {path.stat().st_size / 2**20:.0f} MB, "
            f"{fast.data.nnz} interactions, {fast.data.shape[0]} users x "
            f"{fast.data.shape[1]} items; best of {args.repeat}"
        )
        print("| reader | seconds | x pyarrow |\n|---|---:|---:|")
        base = best["pyarrow.csv.read_csv"][0]
        for method, (seconds, _) in best.items():
            print(f"| {method} | {seconds:.2f} | {seconds / base:.1f} |")
        if "strict reader (csv module)" in best:
            strict = best["strict reader (csv module)"][1]
            same = (
                (strict.data != fast.data).nnz == 0
                and strict.user_ids.equals(fast.user_ids)
                and strict.item_ids.equals(fast.item_ids)
            )
            print(f"strict and columnar results identical: {same}")


if __name__ == "__main__":
    main()
