"""Re-run an Optuna search's best trial with several seeds, so its best is not a lucky seed.

    python -m sweeper.confirm SWEEP_DIR [--seeds 5] [EXTRA_OVERRIDES ...]
    sweeper confirm multirun/search/adder-lr --seeds 5

Reads `SWEEP_DIR/best_trial.yaml` (written by the search: the best successful
trial's number, value and job folder), takes that job's command-line overrides
from its `.hydra/overrides.yaml`, drops the search (`hparams_search=...`,
`hydra...`) and the `seed`, and runs them as a grid over N fresh seeds: 0, 1, ...
skipping the trial's own seed (re-running it would repeat the selected trial):

    python -m sweeper <the trial's overrides> seed=1,2,3,4,5 hydra.sweep.dir=SWEEP_DIR-confirm -m

into a folder beside the search's (`multirun/search/adder-lr-confirm`), not
inside it: collect finds job folders at any depth, so confirm jobs inside the
search folder would become rows of the search's results.csv the next time the
study is resumed. The grid is collected as usual (`SWEEP_DIR-confirm/results.csv`,
`results_by_config.csv`, ...); then this prints the search's value beside the
mean ± 95 % CI over the seeds of the objective and the main metrics. Running it
again resumes the same grid (finished jobs are kept); other `--seeds` are
refused by the grid sweeper (add `hydra.sweeper.add=true` to add seeds).
Exit status: 2 for a folder that is not a finished search (one line), else the
grid's own status.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import yaml

from sweeper.reports.stats import format_summary, metric_split, summarize

METRICS = ("objective", "val_accuracy", "test_accuracy", "extrapolation_accuracy")
DROPPED = ("hparams_search", "hydra", "seed")


class ConfirmError(Exception):
    """A sweep folder that cannot be confirmed: one line, exit 2."""


def best_trial(sweep_dir: Path) -> dict:
    """best_trial.yaml's `best` record (number, value, params, job_dir).

    Raises ConfirmError naming the file and what is wrong."""
    path = sweep_dir / "best_trial.yaml"
    if not sweep_dir.is_dir():
        raise ConfirmError(f"{sweep_dir}: no such folder")
    if not path.is_file():
        raise ConfirmError(f"{path}: missing (not an Optuna search folder, or it never finished)")
    try:
        record = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ConfirmError(f"{path}: unreadable ({error.__class__.__name__})") from None
    best = record.get("best") if isinstance(record, dict) else None
    if not isinstance(best, dict) or not best.get("job_dir"):
        raise ConfirmError(f"{path}: no best trial (no trial of the search succeeded)")
    return best


def trial_overrides(job_dir: Path) -> list[str]:
    """The trial's overrides without the search, Hydra's own keys and the seed.

    Raises ConfirmError when the job folder or its overrides cannot be read."""
    path = job_dir / ".hydra" / "overrides.yaml"
    try:
        overrides = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfirmError(f"{path}: missing (was the best trial's folder moved?)") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ConfirmError(f"{path}: unreadable ({error.__class__.__name__})") from None
    if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
        raise ConfirmError(f"{path}: not a list of overrides")
    return [o for o in overrides if _key(o).split(".")[0].split("/")[0] not in DROPPED]


def _key(override: str) -> str:
    return override.partition("=")[0].strip().lstrip("+~")


def confirm_dir(sweep_dir: Path) -> Path:
    """Where the confirm grid runs: `<search folder>-confirm`, beside the search's folder."""
    sweep_dir = sweep_dir.resolve()
    return sweep_dir.parent / f"{sweep_dir.name}-confirm"


def config_dir_args(job_dir: Path) -> list[str]:
    """The `--config-dir DIR` the trial's search was started with (a user's own tasks and
    models; from its `.hydra/hydra.yaml` config sources), or [] when none was given or
    the file cannot be read."""
    try:
        hydra = yaml.safe_load((job_dir / ".hydra" / "hydra.yaml").read_text())["hydra"]
        sources = hydra["runtime"]["config_sources"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return []
    args = []
    for source in sources if isinstance(sources, list) else []:
        if isinstance(source, dict) and source.get("provider") == "command-line":
            if source.get("schema") == "file" and source.get("path"):
                args += ["--config-dir", str(source["path"])]
    return args


def trial_seed(job_dir: Path) -> int | None:
    """The seed the trial ran with (its `.hydra/config.yaml`), None if unreadable."""
    try:
        seed = yaml.safe_load((job_dir / ".hydra" / "config.yaml").read_text()).get("seed")
    except (OSError, yaml.YAMLError, AttributeError):
        return None
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


def fresh_seeds(count: int, used: int | None) -> list[int]:
    """`count` seeds from 0 up, skipping `used` (the search's own seed: re-running it would
    repeat the selected trial exactly, keeping the luck confirm exists to remove)."""
    return [s for s in range(count + 1) if s != used][:count]


def command(sweep_dir: Path, seeds: int, extra: list[str]) -> list[str]:
    """The grid command line (argv) that re-runs the best trial with `seeds` fresh seeds
    (`fresh_seeds`), with the search's own `--config-dir` if it had one."""
    best = best_trial(sweep_dir)
    job_dir = Path(best["job_dir"])
    overrides = trial_overrides(job_dir)
    chosen = fresh_seeds(seeds, trial_seed(job_dir))
    return [
        sys.executable,
        "-m",
        "sweeper",
        *config_dir_args(job_dir),
        *overrides,
        "seed=" + ",".join(str(s) for s in chosen),
        f"hydra.sweep.dir={confirm_dir(sweep_dir)}",
        *extra,
        "-m",
    ]


def summary(sweep_dir: Path, best: dict) -> str:
    """The search's best value beside the seeds' mean ± 95 % CI (n), per metric."""
    from sweeper.reports.results import load_sweep

    results = load_sweep(confirm_dir(sweep_dir)).results
    if results.empty:
        return f"{confirm_dir(sweep_dir)}: no finished jobs"
    ok = results[results["status"] == "ok"]
    metric = str(results["objective_metric"].dropna().iloc[0]) if len(results) else "?"
    objective = summarize(ok["objective"])
    lines = [
        f"best trial {best.get('number')} of the search: objective {metric} "
        f"({metric_split(metric)}) = {float(best.get('value', float('nan'))):.4f} (one seed)",
        f"re-run over {len(results)} seeds ({len(results) - len(ok)} failed), "
        "mean ± 95 % CI half-width (n):",
    ]
    for name in METRICS:
        if name in ok:
            shown = f"objective ({metric})" if name == "objective" else name
            lines.append(f"  {shown}: {format_summary(summarize(ok[name]))}")
    value = float(best.get("value", float("nan")))
    if objective.n >= 2:
        maximize = results["objective_direction"].iloc[0] != "minimize"
        if objective.low <= value <= objective.high:
            lines.append("the search's value lies inside the seeds' 95 % interval")
        elif (value > objective.high) == maximize:
            lines.append("the search's value is better than the seeds' interval: partly seed luck")
        else:
            lines.append("the search's value is worse than the seeds' interval: an unlucky seed")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sweeper confirm",
        description="Re-run an Optuna search's best trial with several seeds (a grid "
        "into SWEEP_DIR-confirm) and print mean ± 95 % CI.",
    )
    parser.add_argument("sweep_dir", type=Path, help="the search's folder (with best_trial.yaml)")
    parser.add_argument(
        "--seeds",
        type=int,
        default=5,
        help="how many fresh seeds: 0, 1, ... skipping the search's own (default 5, at least 2)",
    )
    parser.add_argument(
        "--print-command", action="store_true", help="print the grid's command and stop"
    )
    parser.add_argument("overrides", nargs="*", help="more overrides for the grid, e.g. launcher")
    args = parser.parse_intermixed_args(argv)  # overrides may follow --seeds N
    if args.seeds < 2:
        print(
            f"sweeper confirm: error: --seeds {args.seeds}: at least 2 seeds give an interval",
            file=sys.stderr,
        )
        return 2
    try:
        argv_grid = command(args.sweep_dir, args.seeds, args.overrides)
        best = best_trial(args.sweep_dir)
    except ConfirmError as error:
        print(f"sweeper confirm: error: {error}", file=sys.stderr)
        return 2
    shown = " ".join(["python", *argv_grid[1:]])
    if args.print_command:
        print(shown)
        return 0
    print(f"sweeper confirm: {shown}", flush=True)
    code = subprocess.run(argv_grid, check=False).returncode
    if code == 0 and confirm_dir(args.sweep_dir).is_dir():  # else the grid said what went wrong
        print(summary(args.sweep_dir, best))
    return code


if __name__ == "__main__":
    sys.exit(main())
