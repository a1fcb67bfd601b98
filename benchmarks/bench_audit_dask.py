"""``skcosim audit --dask`` against the in-memory audit on power-law logs.

Writes each log once into ``benchmarks/.cache`` as a partitioned Parquet
dataset (``powerlaw-NAME.parquet/part-*.parquet``, rows in random order,
users spread over the files) and as one Parquet file for the in-memory
audit, from ``_data.make_powerlaw`` (Zipf items, log-normal users; the
generator of ``bench_audit.py``), or MovieLens-100k (``--sizes ml-100k``,
binary, from the recbole wheel as the other benchmarks read it). Each audit
runs in a subprocess; its process tree is sampled every half second, so the
peak memory (RSS) of the main process and of every Dask worker is reported,
with the number of worker processes seen (more than ``--workers``: a worker
was killed and restarted). Then the two reports are compared: closed-form
losses (relative difference), stabilities (absolute difference).

Run: ``python benchmarks/bench_audit_dask.py --sizes ml-100k,1m`` for the
equal answers (target: closed-form losses within 1e-8, stabilities within
0.01);
``--sizes 10m`` for the overhead (target: ``--dask`` at most 2x the
in-memory wall time); ``--sizes 30m --modes dask --memory-limit 3GB`` for the
log beyond memory (target: main process under 2 GB, no worker killed).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
from _data import CACHE, load_movielens_100k, make_powerlaw

#: name: (n_users, n_items, interactions)
LOGS = {
    "100k": (10_000, 5_000, 100_000),
    "1m": (100_000, 20_000, 1_000_000),
    "10m": (1_000_000, 20_000, 10_000_000),
    "30m": (3_000_000, 20_000, 30_000_000),
}
#: Rows per file of the partitioned dataset.
ROWS_PER_FILE = 250_000


def dataset_paths(name):
    """``(directory, single_file)`` of the log ``name``, written once."""
    directory = CACHE / f"powerlaw-{name}.parquet"
    single = CACHE / f"powerlaw-{name}-single.parquet"
    if directory.exists() and single.exists():
        return directory, single
    if name == "ml-100k":
        X = load_movielens_100k().tocoo()
    else:
        n_users, n_items, nnz = LOGS[name]
        X = make_powerlaw(n_users, n_items, nnz, random_state=0).tocoo()
    order = np.random.default_rng(0).permutation(X.nnz)  # a log, not sorted
    frame = pd.DataFrame(
        {
            "user": np.char.add("u", X.row[order].astype(str)),
            "item": np.char.add("i", X.col[order].astype(str)),
        }
    )
    del X, order
    directory.mkdir(parents=True, exist_ok=True)
    per_file = min(ROWS_PER_FILE, -(-len(frame) // 4))  # at least 4 files
    for i, start in enumerate(range(0, len(frame), per_file)):
        part = frame.iloc[start : start + per_file]
        part.to_parquet(directory / f"part-{i:04d}.parquet", index=False)
    frame.to_parquet(single, index=False)
    return directory, single


def _role(proc):
    try:
        cmd = " ".join(proc.cmdline())
    except psutil.Error:
        return None
    if "skcosim" in cmd and "audit" in cmd:
        return "main"
    if "spawn_main" in cmd and "loky" not in cmd:
        return "worker"
    return "other"


def run_audit(path, out, extra):
    """Run one audit; return its wall time, peak RSS per process and report."""
    command = [sys.executable, "-m", "skcosim", "audit", str(path)]
    command += ["--user-col", "user", "--item-col", "item", "--out", str(out)]
    command += ["--no-progress", *extra]
    start = time.perf_counter()
    # A file, not a pipe: a pipe nobody reads while polling would block the
    # audit once it fills.
    log = tempfile.TemporaryFile()
    main = psutil.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
    peaks = {}
    while main.poll() is None:
        for proc in [main, *main.children(recursive=True)]:
            try:
                rss = proc.memory_info().rss
            except psutil.Error:
                continue
            key = (proc.pid, _role(proc))
            peaks[key] = max(peaks.get(key, 0), rss)
        time.sleep(0.5)
    wall = time.perf_counter() - start
    log.seek(0)
    stderr = log.read().decode(errors="replace")
    log.close()
    if main.returncode != 0:
        raise RuntimeError(f"audit failed ({main.returncode}):\n{stderr}")
    report = json.loads((Path(out) / "audit.json").read_text())
    return wall, peaks, report, stderr


def _print_run(mode, wall, peaks, report, n_workers):
    data = report["data"]
    print(
        f"\n### {mode}: {data['n_users']} users x {data['n_items']} items, "
        f"{data['n_nonzero']} interactions; wall {wall:.1f} s"
    )
    print("| process | peak RSS (GB) |\n|---|---:|")
    for (pid, role), rss in sorted(peaks.items(), key=lambda kv: -kv[1]):
        if rss > 50 * 2**20:  # "other": e.g. the in-memory audit's joblib workers
            print(f"| {role} (pid {pid}) | {rss / 2**30:.2f} |")
    workers = [key for key in peaks if key[1] == "worker"]
    if mode == "dask" and n_workers:
        # Worker processes and their nannies (a nanny is small): a killed
        # worker is restarted under a new pid.
        print(f"worker-side processes seen: {len(workers)}")
    print("| step | seconds |\n|---|---:|")
    for step, seconds in report["step_seconds"].items():
        print(f"| {step} | {seconds:.1f} |")


def _compare(memory, dask):
    print("\n| model | loss rel. diff | gauge diff | resample diff | restart diff |")
    print("|---|---:|---:|---:|---:|")
    for a, b in zip(dask["models"], memory["models"], strict=True):
        diffs = []
        for key in ("gauge_stability", "resample_stability", "restart_stability"):
            x, y = a[key], b[key]
            diffs.append("n/a" if x is None or y is None else f"{x - y:+.4f}")
        loss = (
            "n/a"
            if a["loss"] is None or b["loss"] is None
            else f"{a['loss'] / b['loss'] - 1:+.2e}"
        )
        print(f"| {a['name']} | {loss} | {' | '.join(diffs)} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m")
    parser.add_argument("--modes", default="memory,dask")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="3GB")
    args = parser.parse_args()
    for name in args.sizes.split(","):
        directory, single = dataset_paths(name)
        print(f"\n## {name}: {directory}")
        reports = {}
        for mode in args.modes.split(","):
            extra = []
            path = single
            if mode == "dask":
                path = directory
                extra = ["--dask", "--dask-workers", str(args.workers)]
                extra += ["--dask-memory-limit", args.memory_limit]
            with tempfile.TemporaryDirectory() as out:
                wall, peaks, report, _ = run_audit(path, out, extra)
            _print_run(mode, wall, peaks, report, args.workers)
            reports[mode] = (wall, report)
        if len(reports) == 2:
            (w_mem, memory), (w_dask, dask) = reports["memory"], reports["dask"]
            print(f"\n--dask / in-memory wall time: {w_dask / w_mem:.2f}")
            _compare(memory, dask)


if __name__ == "__main__":
    main()
