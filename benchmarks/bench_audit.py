"""The whole ``skcosim audit`` on generated power-law logs, step by step.

Writes each log once into ``benchmarks/.cache`` (``user,item`` CSV from
``_data.make_powerlaw``: Zipf items, log-normal users), runs the audit with
its default settings in a subprocess under ``/usr/bin/time -v`` (peak RSS),
and prints the wall time of each step from the report's ``step_seconds``:
read, spectrum, each model (fit, loss and gauge stability, resample
stability), the heatmaps, and the rest (start-up, rendering and writing the
report). The cosine-trained model's resample and restart fits run in the
audit's two worker processes from its start, beside the other steps: their
own steps show only the wait for them, and the peak RSS is the main
process's (the workers hold their own copies of the data).

Run: ``python benchmarks/bench_audit.py --sizes 1m,10m`` (about 12 minutes).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _data import CACHE, make_powerlaw

#: name: (n_users, n_items, interactions)
LOGS = {
    "1m": (100_000, 20_000, 1_000_000),
    "4m": (400_000, 20_000, 4_000_000),
    "10m": (1_000_000, 20_000, 10_000_000),
}


def log_path(name):
    n_users, n_items, nnz = LOGS[name]
    path = CACHE / f"powerlaw-{name}.csv"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        X = make_powerlaw(n_users, n_items, nnz, random_state=0).tocoo()
        order = np.random.default_rng(0).permutation(X.nnz)  # a log, not sorted
        pd.DataFrame(
            {
                "user": np.char.add("u", X.row[order].astype(str)),
                "item": np.char.add("i", X.col[order].astype(str)),
            }
        ).to_csv(path, index=False)
    return path


def run_audit(path, out):
    command = [
        "/usr/bin/time",
        "-v",
        sys.executable,
        "-m",
        "skcosim",
        "audit",
        str(path),
        "--user-col",
        "user",
        "--item-col",
        "item",
        "--out",
        str(out),
    ]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    report = json.loads((Path(out) / "audit.json").read_text())
    return wall, int(rss.group(1)) / 2**20, report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m,10m")
    args = parser.parse_args()
    for name in args.sizes.split(","):
        path = log_path(name)
        with tempfile.TemporaryDirectory() as out:
            wall, rss_gb, report = run_audit(path, out)
        data = report["data"]
        print(
            f"\n## {name}: {data['n_users']} users x {data['n_items']} items, "
            f"{data['n_nonzero']} interactions; wall {wall:.1f} s, peak RSS "
            f"{rss_gb:.2f} GB"
        )
        print("| step | seconds |\n|---|---:|")
        steps = report["step_seconds"]
        for step, seconds in steps.items():
            print(f"| {step} | {seconds:.1f} |")
        rest = wall - sum(steps.values())
        print(f"| start-up, report rendering and writing | {rest:.1f} |")
        for model in report["models"]:
            print(f"  {model.get('name')}: notes {model.get('notes')}")


if __name__ == "__main__":
    main()
