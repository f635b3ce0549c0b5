"""Benchmark: the assignment's loops (bench/baseline.py) against sweeper's own commands.

Both sides run as whole commands on this machine in one invocation, alternating
baseline and sweeper `--repeats` times, so the ratio survives a noisy machine:

    adder     6 configs (hidden 3/5/10 x mse/ce): wall seconds, bit and exact accuracy
    memory    3 configs (hidden 2/5/10): wall seconds, accuracy
    mnist     LSTM hidden 128, batch 100: seconds per training epoch, test accuracy
              (sweeper's default trainer.precision=auto, bf16 on a CPU with AVX512-BF16,
              and again with trainer.precision=fp32)
    fixed     one job's fixed cost inside a sweep: (wall of 6 tiny jobs - wall of 1) / 5
    parallel  a 12-job grid of ~5 s jobs, sequential vs hydra/launcher=joblib
    pruning   a 24-trial memory learning-rate search (TPE, seed 0, lr log-uniform over 3
              decades, 8x the task's epoch size): pruner=none vs pruner=median (total
              epochs, wall seconds, best val_accuracy), then the pruned search through
              hydra/launcher=joblib with n_jobs=2 vs n_jobs=1, and vs in-process n_jobs=1
    scale     a 1001-trial TPE search on SQLite whose trials return at once: the search's
              own cost per trial (the gap between two trials' starts) at trials 981-1000
              against trials 1-20 (baseline column: the first window; --scale-trials)
    compose   a job's config made from its shape's first (sweeper/sweeps/compose.py)
              against Hydra composing every job (SWEEPER_COMPOSE_EVERY_JOB=1): a grid
              job's fixed cost as in `fixed`, and a 41-trial instant search's own cost
              per trial (median of trials 1-40), alternating the two ways
    plugin    a plain Hydra app (bench/plain_app) searched with instant trials on SQLite,
              41 trials, n_jobs=1: hydra-optuna-sweeper (baseline; run by the Python
              given with --plugin-python, a venv of its own since it pins optuna<3)
              against sweeper's drop-in `hydra/sweeper=optuna`: the mean gap between
              trial starts over trials 1-40. Only with --plugin-python; that venv:
                python3 -m venv /tmp/hos && /tmp/hos/bin/pip install \
                  hydra-optuna-sweeper==1.2.0 'hydra-core==1.3.*' 'sqlalchemy<2' 'alembic<1.14'

    python bench/benchmark.py                 # everything (about 9 minutes on 2 cores, plus
                                              # four 24-trial searches for pruning)
    python bench/benchmark.py --only adder,memory --repeats 3
    python bench/benchmark.py --quick         # seconds; run by the test suite so it cannot rot

Prints one table; no timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
BASELINE = [sys.executable, str(ROOT / "bench" / "baseline.py")]
SWEEPER = [sys.executable, "-m", "sweeper"]


def timed(command: list[str], cwd: Path, checkout: bool = True) -> tuple[float, str]:
    """Wall seconds of a whole command (interpreter start included) and its stdout; with
    this checkout on the path unless `checkout` is false (another venv's own packages)."""
    started = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(ROOT)} if checkout else env,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return seconds, result.stdout


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def sweep_results(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "results.csv")


def compare_grid(
    name: str,
    baseline_args: list[str],
    sweeper_args: list[str],
    repeats: int,
    work: Path,
    accuracy: dict[str, str],
) -> dict:
    """Alternate baseline and sweeper runs; median walls, their ratio, accuracies."""
    walls: dict[str, list[float]] = {"baseline": [], "sweeper": []}
    for repeat in range(repeats):
        seconds, out = timed([*BASELINE, *baseline_args], work)
        walls["baseline"].append(seconds)
        base_rows = json_lines(out)[:-1]
        folder = work / f"{name}-{repeat}"
        seconds, _ = timed([*SWEEPER, *sweeper_args, f"hydra.sweep.dir={folder}", "-m"], work)
        walls["sweeper"].append(seconds)
        ours = sweep_results(folder)
    row = {
        "benchmark": name,
        "baseline s": statistics.median(walls["baseline"]),
        "sweeper s": statistics.median(walls["sweeper"]),
    }
    row["ratio"] = row["sweeper s"] / row["baseline s"]
    for label, (base_key, our_key) in accuracy.items():
        row[f"baseline {label}"] = ", ".join(f"{r[base_key]:.4f}" for r in base_rows)
        row[f"sweeper {label}"] = ", ".join(f"{v:.4f}" for v in ours[our_key])
    row["runs"] = (
        f"{repeats} each, walls {[round(w, 1) for w in walls['baseline']]} vs "
        f"{[round(w, 1) for w in walls['sweeper']]}"
    )
    return row


def bench_adder(repeats: int, work: Path, quick: bool) -> dict:
    base = ["adder"] + (["--epochs", "1", "--train-size", "20", "--hidden", "3"] if quick else [])
    ours = ["task=adder", "loss=mse,ce"] + (
        ["model.hidden=3", "trainer.epochs=1", "task.train_size=64"]
        if quick
        else ["model.hidden=3,5,10"]
    )
    if quick:
        base += ["--loss", "mse", "ce"]
    accuracy = {
        "bit acc": ("bit_accuracy", "test_accuracy"),
        "exact": ("exact_accuracy", "test_exact_accuracy"),
    }
    return compare_grid("adder", base, ours, repeats, work, accuracy)


def bench_memory(repeats: int, work: Path, quick: bool) -> dict:
    base = ["memory"] + (["--epochs", "1", "--train-size", "5", "--hidden", "5"] if quick else [])
    ours = ["task=memory"] + (
        ["model.hidden=5", "trainer.epochs=1", "task.train_size=64"]
        if quick
        else ["model.hidden=2,5,10"]
    )
    return compare_grid("memory", base, ours, repeats, work, {"acc": ("accuracy", "test_accuracy")})


def bench_mnist(repeats: int, work: Path, data_root: str) -> list[dict]:
    """Seconds per training epoch (training steps only) at the same model and batch size:
    the baseline, sweeper's default run (trainer.precision=auto) and a float32 one."""
    precisions = ("auto", "fp32")
    base_epoch, base_acc = [], []
    ours_epoch: dict[str, list[float]] = {p: [] for p in precisions}
    ours_acc: dict[str, list[float]] = {p: [] for p in precisions}
    resolved: dict[str, str] = {}
    for repeat in range(repeats):
        _, out = timed([*BASELINE, "mnist", "--epochs", "1", "--data-root", data_root], work)
        result = json_lines(out)[0]
        base_epoch.append(result["epoch_seconds"])
        base_acc.append(result["test_accuracy"])
        for precision in precisions:
            folder = work / f"mnist-{precision}-{repeat}"
            timed(
                [
                    *SWEEPER,
                    "task=mnist",
                    "model=lstm",
                    "trainer.epochs=1",
                    f"trainer.precision={precision}",
                    f"task.data_root={data_root}",
                    f"hydra.run.dir={folder}",
                ],
                work,
            )
            history = pd.read_csv(folder / "history.csv")
            ours_epoch[precision].append(float(history["train_seconds"].iloc[0]))
            record = json.loads((folder / "metrics.json").read_text())
            ours_acc[precision].append(record["metrics"]["test_accuracy"])
            resolved[precision] = record["settings"]["trainer.precision"]
    rows = []
    for precision in precisions:
        name = "default, " if precision == "auto" else ""
        row = {
            "benchmark": f"mnist epoch ({name}{resolved[precision]})",
            "baseline s": statistics.median(base_epoch),
            "sweeper s": statistics.median(ours_epoch[precision]),
        }
        row["ratio"] = row["sweeper s"] / row["baseline s"]
        row["baseline acc"] = ", ".join(f"{a:.4f}" for a in base_acc)
        row["sweeper acc"] = ", ".join(f"{a:.4f}" for a in ours_acc[precision])
        row["runs"] = (
            f"{repeats} each, 1 epoch, test accuracy after it; epochs "
            f"{[round(x, 2) for x in base_epoch]} vs {[round(x, 2) for x in ours_epoch[precision]]}"
        )
        rows.append(row)
    return rows


def bench_fixed(repeats: int, work: Path) -> dict:
    """A job's fixed cost in a sweep: Hydra job set-up, config, data, writing results."""
    tiny = [
        "task=adder",
        "trainer.epochs=1",
        "task.train_size=64",
        "task.val_size=20",
        "task.test_per_length=5",
        "task.extrapolation_lengths=[24]",
    ]
    one, six = [], []
    for repeat in range(repeats):
        one.append(
            timed(
                [*SWEEPER, *tiny, "seed=0", f"hydra.sweep.dir={work / f'f1-{repeat}'}", "-m"], work
            )[0]
        )
        six.append(
            timed(
                [
                    *SWEEPER,
                    *tiny,
                    "seed=0,1,2,3,4,5",
                    f"hydra.sweep.dir={work / f'f6-{repeat}'}",
                    "-m",
                ],
                work,
            )[0]
        )
    per_job = (statistics.median(six) - statistics.median(one)) / 5
    return {
        "benchmark": "fixed cost per job",
        "sweeper s": per_job,
        "runs": f"1-job sweep {statistics.median(one):.1f} s (process start included), "
        f"6-job sweep {statistics.median(six):.1f} s",
    }


def bench_parallel(repeats: int, work: Path, quick: bool) -> dict:
    """The same grid on 2 cores: one job at a time vs joblib (1 torch thread per job).

    80-epoch jobs of about 5 s each: long enough that the pool's fixed cost (starting
    two workers that import torch and Hydra, about 2 s, and waiting for them to exit,
    about 1 s) is paid off. The gain depends on job length: with the 4 s jobs of 60
    epochs the same grid gained 1.61x, with 1 s jobs about 1.3x."""
    grid = [
        "task=memory",
        "model.hidden=5,10",
        "seed=0,1,2,3,4,5",
        "trainer.patience=0",
        "trainer.stop_accuracy=null",
        "trainer.epochs=" + ("1" if quick else "80"),
    ]
    if quick:
        grid[2] = "seed=0,1"
    sequential, parallel = [], []
    for repeat in range(repeats):
        sequential.append(
            timed([*SWEEPER, *grid, f"hydra.sweep.dir={work / f'seq-{repeat}'}", "-m"], work)[0]
        )
        parallel.append(
            timed(
                [
                    *SWEEPER,
                    *grid,
                    "hydra/launcher=joblib",
                    f"hydra.sweep.dir={work / f'par-{repeat}'}",
                    "-m",
                ],
                work,
            )[0]
        )
    row = {
        "benchmark": "parallel grid (joblib)",
        "baseline s": statistics.median(sequential),
        "sweeper s": statistics.median(parallel),
    }
    row["ratio"] = row["sweeper s"] / row["baseline s"]
    row["runs"] = f"sequential vs joblib, speed-up {1 / row['ratio']:.2f}x"
    return row


# The pruning benchmark's search: val_accuracy is its objective (never the test set), so
# the best value is a validation value whichever default objective the task has.
PRUNING_SEARCH = [
    "task=memory",
    "hparams_search=lr",
    "optim.lr=tag(log, interval(0.0003, 0.3))",
    "objective.metric=val_accuracy",
    "seed=0",
    # The memory task's own training (patience 5, stop after two epochs at 100 %), at most
    # 20 epochs a trial, on 8x its default 6144 sequences an epoch: with the default an
    # epoch takes ~0.07 s on one quiet core, so a trial is mostly its fixed cost (Hydra's
    # job set-up ~0.3 s, data, test, curves.png ~0.2 s) and no pruner can save much wall
    # time; measured both ways in docs/benchmarks.md#pruning. Small validation and
    # test sets.
    "task.train_size=49152",
    "task.val_size=540",
    "task.test_per_length=20",
    "task.extrapolation_lengths=[13]",
    "trainer.epochs=20",
    # One torch thread per trial in all three searches (joblib's two jobs get one each
    # anyway): n_jobs=2 vs 1 then compares two trials at a time with one, not 2 threads
    # with 1, and a 2-thread torch on 2 cores shared with other work runs tiny models slower.
    "device.threads=1",
]


def search_figures(folder: Path) -> tuple[int, float | None, int]:
    """(epochs trained over all trials, best trial's value, pruned trials) of a search folder."""
    import yaml

    epochs = sum(len(pd.read_csv(h)) for h in folder.glob("*/history.csv"))
    best = yaml.safe_load((folder / "best_trial.yaml").read_text())
    value = best.get("best", {}).get("value")
    return epochs, value, int(best.get("pruned_trials", 0))


def bench_pruning(repeats: int, work: Path, quick: bool) -> list[dict]:
    """The same seeded search four ways, in one run: no pruning, median pruning, and median
    pruning through joblib with one and with two trials at a time. Median walls over
    `repeats`."""
    search = [*PRUNING_SEARCH, "hydra.sweeper.n_trials=" + ("4" if quick else "24")]
    if quick:
        search += ["trainer.epochs=2", "task.train_size=192", "task.val_size=270"]
    joblib = ["pruner=median", "hydra/launcher=joblib"]
    variants = {
        "off": ["pruner=none"],
        "median": ["pruner=median"],
        "median, joblib n_jobs=1": [*joblib, "hydra.sweeper.n_jobs=1"],
        "median, joblib n_jobs=2": [*joblib, "hydra.sweeper.n_jobs=2"],
    }
    walls: dict[str, list[float]] = {name: [] for name in variants}
    figures: dict[str, tuple[int, float | None, int]] = {}
    for repeat in range(repeats):
        for i, (name, extra) in enumerate(variants.items()):
            folder = work / f"pruning-{i}-{repeat}"
            seconds, _ = timed([*SWEEPER, *search, *extra, f"hydra.sweep.dir={folder}", "-m"], work)
            walls[name].append(seconds)
            figures[name] = search_figures(folder)
    wall = {name: statistics.median(w) for name, w in walls.items()}

    def describe(name: str) -> str:
        epochs, best, pruned = figures[name]
        shown = "none" if best is None else f"{best:.4f}"
        return f"{name}: {epochs} epochs, best val_accuracy {shown}, {pruned} pruned"

    def points(a: str, b: str) -> str:
        first, second = figures[a][1], figures[b][1]
        return "n/a" if first is None or second is None else f"{100 * (second - first):+.2f} pp"

    off, on, one, two = variants
    return [
        {
            "benchmark": "pruning: median vs none (lr search)",
            "baseline s": wall[off],
            "sweeper s": wall[on],
            "ratio": wall[on] / wall[off],
            "runs": f"{describe(off)}; {describe(on)}; epochs "
            f"{figures[on][0] / max(1, figures[off][0]):.2f}x, best {points(off, on)}",
        },
        {
            "benchmark": "pruning: joblib n_jobs=2 vs joblib n_jobs=1",
            "baseline s": wall[one],
            "sweeper s": wall[two],
            "ratio": wall[two] / wall[one],
            "runs": f"{describe(two)}; speed-up {wall[one] / wall[two]:.2f}x",
        },
        {
            "benchmark": "pruning: joblib n_jobs=2 vs n_jobs=1 in-process",
            "baseline s": wall[on],
            "sweeper s": wall[two],
            "ratio": wall[two] / wall[on],
            "runs": f"speed-up {wall[on] / wall[two]:.2f}x (the workers' start-up included)",
        },
    ]


SCALE_WINDOW = 20
# sweeper's CLI with the training replaced by a run that writes its metrics.json and
# returns at once: what is left of a trial is the search's own cost.
INSTANT = """
import json, pathlib, sys
import sweeper.run.job as t
from hydra.core.hydra_config import HydraConfig

def instant(cfg):
    value = -abs(float(cfg.optim.lr) - 0.01)
    record = {"status": "ok", "objective": value, "objective_metric": "test_accuracy",
              "objective_direction": "maximize", "metrics": {}, "settings": {},
              "wall_seconds": 0.0}
    out = pathlib.Path(HydraConfig.get().runtime.output_dir)
    (out / "metrics.json").write_text(json.dumps(record))
    return value

t.train = instant
sys.argv[0] = "sweeper"
from sweeper.__main__ import cli
cli()
"""


def search_overheads(db: Path, study_name: str) -> list[float]:
    """Per trial, in trial order: seconds from its start to the next trial's start minus
    its run's wall seconds (metrics.json): sampling, storage, folder set-up, Hydra."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=study_name, storage=f"sqlite:///{db}")
    trials = sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
    overheads = []
    for trial, following in zip(trials, trials[1:]):
        record = json.loads((Path(trial.user_attrs["job_dir"]) / "metrics.json").read_text())
        gap = (following.datetime_start - trial.datetime_start).total_seconds()
        overheads.append(gap - record["wall_seconds"])
    return overheads


def bench_scale(work: Path, quick: bool, trials: int = 1001) -> dict:
    """A search's own cost per trial as the study grows (TPE, SQLite, basic launcher):
    the median overhead of the last 20 trials against trials 1-20 (target: at most 1.5x).
    The trials are instant (INSTANT), so the machine's load touches only the overhead."""
    window = 3 if quick else SCALE_WINDOW  # quick: only checks that the row runs
    n_trials = 2 * window + 1 if quick else trials
    folder = work / "scale"
    seconds, _ = timed(
        [
            sys.executable,
            "-c",
            INSTANT,
            "task=adder",
            "hparams_search=lr",
            f"hydra.sweeper.n_trials={n_trials}",
            "hydra.sweeper.study_name=scale",
            f"hydra.sweep.dir={folder}",
            "-m",
        ],
        work,
    )
    overheads = search_overheads(folder / "optuna.db", "scale")
    first = statistics.median(overheads[:window])
    last = statistics.median(overheads[-window:])
    return {
        "benchmark": f"search overhead per trial, {n_trials - window}-{n_trials - 1} vs 1-{window}",
        "baseline s": first,
        "sweeper s": last,
        "ratio": last / first,
        "runs": f"{n_trials} instant trials (TPE, SQLite) in {seconds:.0f} s",
    }


def bench_compose(repeats: int, work: Path, quick: bool) -> list[dict]:
    """Composing each job from its shape's template (default) vs Hydra composing every job
    (baseline), both ways in turn `repeats` times: grid fixed cost and instant trials."""
    every = {"SWEEPER_COMPOSE_EVERY_JOB": "1"}
    fixed: dict[str, list[float]] = {"every": [], "once": []}
    trial: dict[str, list[float]] = {"every": [], "once": []}
    n_trials = 7 if quick else 41
    for repeat in range(repeats):
        for way, env in (("every", every), ("once", {})):
            with patched_environ(env):
                (work / f"compose-{way}-{repeat}").mkdir()
                fixed[way].append(bench_fixed(1, work / f"compose-{way}-{repeat}")["sweeper s"])
                folder = work / f"compose-search-{way}-{repeat}"
                timed(
                    [sys.executable, "-c", INSTANT, "task=adder", "hparams_search=lr",
                     f"hydra.sweeper.n_trials={n_trials}", "hydra.sweeper.study_name=c",
                     f"hydra.sweep.dir={folder}", "-m"],
                    work,
                )  # fmt: skip
                trial[way].append(statistics.median(search_overheads(folder / "optuna.db", "c")))
    rows = []
    for name, values in (
        ("grid job fixed cost: compose once vs every job", fixed),
        (f"instant search, cost per trial ({n_trials} trials): compose once vs every job", trial),
    ):
        before, after = statistics.median(values["every"]), statistics.median(values["once"])
        rows.append(
            {
                "benchmark": name,
                "baseline s": before,
                "sweeper s": after,
                "ratio": after / before,
                "runs": f"medians of {repeats}, the two ways alternating",
            }
        )
    return rows


GAPS = """
import json, sys
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.load_study(study_name=sys.argv[2], storage="sqlite:///" + sys.argv[1])
starts = [t.datetime_start.timestamp() for t in sorted(study.trials, key=lambda t: t.number)]
print(json.dumps((starts[-1] - starts[1]) / (len(starts) - 2)))
"""


def bench_plugin(repeats: int, work: Path, quick: bool, plugin_python: str) -> dict:
    """A plain app's instant-trial search: hydra-optuna-sweeper's loop (baseline) against
    sweeper's drop-in, each side's mean cost per trial over trials 1..n-1 (trial 0 pays
    the study's creation), read by each side's own Optuna."""
    n_trials = 6 if quick else 41
    app = str(ROOT / "bench" / "plain_app" / "app.py")
    costs: dict[str, list[float]] = {"plugin": [], "sweeper": []}
    for repeat in range(repeats):
        for side, python in (("plugin", plugin_python), ("sweeper", sys.executable)):
            db = work / f"plugin-{side}-{repeat}.db"
            timed(
                [python, app, "hydra/sweeper=optuna", "+x=interval(-5,5)", "+y=interval(-5,5)",
                 f"hydra.sweeper.n_trials={n_trials}", "hydra.sweeper.n_jobs=1",
                 f"hydra.sweeper.storage=sqlite:///{db}", "hydra.sweeper.study_name=p",
                 f"hydra.sweep.dir={work / f'plugin-{side}-{repeat}'}", "-m"],
                work,
                checkout=side == "sweeper",
            )  # fmt: skip
            gaps = [python, "-c", GAPS, str(db), "p"]
            costs[side].append(float(timed(gaps, work, checkout=side == "sweeper")[1]))
    before, after = statistics.median(costs["plugin"]), statistics.median(costs["sweeper"])
    return {
        "benchmark": f"plain app, instant search ({n_trials} trials): drop-in vs "
        "hydra-optuna-sweeper",
        "baseline s": before,
        "sweeper s": after,
        "ratio": after / before,
        "runs": f"cost per trial, medians of {repeats}; target ratio <= 1.5",
    }


@contextmanager
def patched_environ(extra: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(extra)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def machine() -> str:
    import torch

    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads by default)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only",
        default="adder,memory,mnist,fixed,parallel,pruning,scale,compose",
        help="comma-separated: adder,memory,mnist,fixed,parallel,pruning,scale,compose; "
        "plugin with --plugin-python",
    )
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks it runs")
    parser.add_argument(
        "--data-root", default=os.environ.get("SWEEPER_DATA_ROOT", "~/.cache/sweeper/data")
    )
    parser.add_argument("--out", type=Path, help="also write the table as CSV")
    parser.add_argument(
        "--scale-trials", type=int, default=1001, help="the scale row's trials (>= 41)"
    )
    parser.add_argument(
        "--plugin-python",
        help="a Python with hydra-optuna-sweeper installed: adds the `plugin` row",
    )
    args = parser.parse_args(argv)
    args.data_root = str(Path(args.data_root).expanduser())  # Hydra's grammar has no `~`
    wanted = args.only.split(",")
    if args.plugin_python and "plugin" not in wanted:
        wanted.append("plugin")
    if args.quick:
        args.repeats = 1
        wanted = [w for w in wanted if w != "mnist"]  # needs the real files
    rows = []
    with tempfile.TemporaryDirectory(prefix="sweeper-bench-") as tmp:
        work = Path(tmp)
        for name in wanted:
            print(f"running {name} ...", file=sys.stderr, flush=True)
            if name == "adder":
                rows.append(bench_adder(args.repeats, work, args.quick))
            elif name == "memory":
                rows.append(bench_memory(args.repeats, work, args.quick))
            elif name == "mnist":
                rows.extend(bench_mnist(args.repeats, work, args.data_root))
            elif name == "fixed":
                rows.append(bench_fixed(args.repeats, work))
            elif name == "parallel":
                rows.append(bench_parallel(args.repeats, work, args.quick))
            elif name == "pruning":
                rows.extend(bench_pruning(args.repeats, work, args.quick))
            elif name == "scale":
                rows.append(bench_scale(work, args.quick, args.scale_trials))
            elif name == "compose":
                rows.extend(bench_compose(args.repeats, work, args.quick))
            elif name == "plugin":
                if not args.plugin_python:
                    parser.error("the plugin row needs --plugin-python")
                rows.append(bench_plugin(args.repeats, work, args.quick, args.plugin_python))
            else:
                parser.error(f"unknown benchmark {name!r}")
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)  # survives a later failure
    table = pd.DataFrame(rows)
    print(f"machine: {machine()}")
    print(table.to_markdown(index=False, floatfmt=".3f"))
    if args.out:
        table.to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
