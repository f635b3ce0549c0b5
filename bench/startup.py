"""What installing sweeper costs every other Hydra app: a plain app's single run, timed.

    python bench/startup.py BARE_PYTHON SWEEPER_PYTHON [--runs 30]

BARE_PYTHON: an environment with hydra-core only; SWEEPER_PYTHON: the same plus sweeper
and its Hydra launcher plugins (e.g. `pip install hydra-core hydra-joblib-launcher
hydra-submitit-launcher && pip install --no-deps .`: what Hydra's plugin scan sees; torch,
Optuna and matplotlib are never imported by a run). Runs alternate between the two
interpreters so that machine noise hits both alike; prints each one's median wall time
and the ratio. The app is bench/plain_app/app.py (no sweeper import).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

APP = Path(__file__).resolve().parent / "plain_app" / "app.py"


def one_run(python: str, folder: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [python, str(APP), "+x=2", f"hydra.run.dir={folder}"],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bare")
    parser.add_argument("with_sweeper")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    times: dict[str, list[float]] = {args.bare: [], args.with_sweeper: []}
    with tempfile.TemporaryDirectory() as folder:
        for i in range(args.runs):
            for python in times:
                times[python].append(one_run(python, f"{folder}/{i}"))
    bare, swept = (statistics.median(times[p]) for p in (args.bare, args.with_sweeper))
    print(f"without sweeper: {bare:.3f} s   ({args.bare})")
    print(f"with sweeper:    {swept:.3f} s   ({args.with_sweeper})")
    print(f"ratio:           {swept / bare:.3f}  (median of {args.runs} runs each)")


if __name__ == "__main__":
    main()
