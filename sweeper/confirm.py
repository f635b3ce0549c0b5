"""Re-run an Optuna search's best trial with several seeds, so its best is not a lucky seed.

    python -m sweeper.confirm SWEEP_DIR [--seeds 5] [--trial N] [EXTRA_OVERRIDES ...]
    sweeper confirm multirun/search/adder-lr --seeds 5

Reads `SWEEP_DIR/best_trial.yaml` (written by the search: the best successful
trial's number, value and job folder), or with `--trial N` trial N's row of
`SWEEP_DIR/trials.csv` (it must have finished successfully), takes that job's
command-line overrides from its `.hydra/overrides.yaml`, drops the search
(`hparams_search=...`, `hydra...`) and the `seed`, and runs them as a grid over N
fresh seeds: 0, 1, ... skipping the trial's own seed (re-running it would repeat
the selected trial):

    python -m sweeper <the trial's overrides> seed=1,2,3,4,5 hydra.sweep.dir=SWEEP_DIR-confirm -m

into a folder beside the search's (`multirun/search/adder-lr-confirm`; for a trial
named with `--trial N` that is not the single best, `adder-lr-confirm-trial<N>`), not
inside it: collect finds job folders at any depth, so confirm jobs inside the
search folder would become rows of the search's results.csv the next time the
study is resumed. The grid is collected as usual (`SWEEP_DIR-confirm/results.csv`,
`results_by_config.csv`, ...); then this prints the search's value, with the
trial's own test figures beside its validation one (best_trial.yaml `metrics`, or
the trial's metrics.json for `--trial N`), and beside each the mean ± 95 % CI over
the seeds of the objective and the main metrics. Running it
again resumes the same grid (finished jobs are kept); other `--seeds` are
refused by the grid sweeper (add `hydra.sweeper.add=true` to add seeds).

A multi-objective search (`objective.metric=[val_accuracy,parameters]`) has no
single best trial but a Pareto front: confirm then needs `--trial N` and refuses
without it, in one line listing the Pareto-optimal trial numbers; the summary
gives each objective's value beside the seeds' interval.

Exit status: 2 for a folder that is not a finished search, a multi-objective
search without `--trial`, or a trial that cannot be confirmed (one line), else
the grid's own status.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from sweeper.core.metrics import record_headline, sweep_headline
from sweeper.core.record import BadFile, run_status
from sweeper.records.search import BEST_TRIAL, TRIALS, read_best, read_trials
from sweeper.reports.pareto import show_value
from sweeper.reports.results import load_sweep
from sweeper.reports.stats import format_summary, metric_split, summarize

DROPPED = ("hparams_search", "hydra", "seed")


class ConfirmError(Exception):
    """A sweep folder that cannot be confirmed: one line, exit 2."""


def _best_record(sweep_dir: Path) -> dict:
    """best_trial.yaml as a mapping (`sweeper.records.search.read_best`); raises
    ConfirmError naming the file."""
    if not sweep_dir.is_dir():
        raise ConfirmError(f"{sweep_dir}: no such folder")
    try:
        record = read_best(sweep_dir)
    except BadFile as error:
        raise ConfirmError(f"{sweep_dir}/{error}") from None
    if record is None:
        path = sweep_dir / BEST_TRIAL
        raise ConfirmError(f"{path}: missing (not an Optuna search folder, or it never finished)")
    return record


def objectives(record: dict) -> list[tuple[str, str]]:
    """[(metric, direction)] of a multi-objective search's best_trial.yaml; [] otherwise."""
    metrics, directions = record.get("metrics"), record.get("directions")
    if not isinstance(metrics, list) or not isinstance(directions, list):
        return []
    return [(str(m), str(d)) for m, d in zip(metrics, directions)]


def best_trial(sweep_dir: Path) -> dict:
    """best_trial.yaml's `best` record (number, value, params, job_dir).

    Raises ConfirmError naming the file and what is wrong; for a multi-objective search
    (no single best), one line listing its Pareto-optimal trials and `--trial N`."""
    path = sweep_dir / BEST_TRIAL
    record = _best_record(sweep_dir)
    if objectives(record):
        front = record.get("best_trials")
        numbers = (
            [str(t.get("number")) for t in front if isinstance(t, dict)]
            if isinstance(front, list)
            else []
        )
        spec = ", ".join(f"{m} ({d})" for m, d in objectives(record))
        if not numbers:
            raise ConfirmError(
                f"{path}: a search over {spec} with no Pareto-optimal trial (none succeeded)"
            )
        raise ConfirmError(
            f"{sweep_dir}: a search over {spec} has no single best trial; its Pareto-optimal "
            f"trials are {', '.join(numbers)}: name one with --trial N"
        )
    best = record.get("best")
    if not isinstance(best, dict) or not best.get("job_dir"):
        raise ConfirmError(f"{path}: no best trial (no trial of the search succeeded)")
    return best


def named_trial(sweep_dir: Path, number: int) -> dict:
    """Trial `number` of the search as a record like best_trial.yaml's `best`: number,
    value (single objective) or values ({metric: value}), job_dir; read from trials.csv.

    Raises ConfirmError (one line) when the folder is no finished search, trials.csv
    cannot be read, or the trial is unknown, did not finish successfully or has no job
    folder recorded."""
    record = _best_record(sweep_dir)
    path = sweep_dir / TRIALS
    try:
        trials = read_trials(sweep_dir)
    except BadFile as error:
        raise ConfirmError(f"{sweep_dir}/{error}") from None
    if trials is None:
        raise ConfirmError(f"{path}: missing (not an Optuna search folder)")
    numbers = trials["number"]
    rows = trials[numbers == number]
    if rows.empty:
        known = sorted(int(n) for n in numbers.dropna())
        shown = f"{known[0]}-{known[-1]}" if known else "none"
        raise ConfirmError(f"--trial {number}: {path} has no trial {number} (trials: {shown})")
    row = rows.iloc[-1]
    state = str(row.get("state", "?"))
    status = row.get("user_attrs_status", "ok")
    if state != "COMPLETE" or (isinstance(status, str) and status != "ok"):
        why = f"ended {state}" if state != "COMPLETE" else f"is a run that {status}"
        raise ConfirmError(f"--trial {number}: trial {number} {why}: nothing to confirm")
    job_dir = row.get("user_attrs_job_dir")
    if not isinstance(job_dir, str) or not job_dir:
        raise ConfirmError(f"--trial {number}: {path} records no job folder for it")
    chosen: dict[str, Any] = {"number": int(number), "job_dir": job_dir}
    pairs = objectives(record)
    if pairs:
        chosen["values"] = {m: _number(row.get(f"values_{m}")) for m, _ in pairs}
        chosen["directions"] = dict(pairs)
    else:
        chosen["value"] = _number(row.get("value"))
    return chosen


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def chosen_trial(sweep_dir: Path, number: int | None) -> dict:
    """The trial to confirm: trial `number` (`named_trial`) or the search's best
    (`best_trial`). Raises ConfirmError (one line)."""
    return best_trial(sweep_dir) if number is None else named_trial(sweep_dir, number)


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


def confirm_dir(sweep_dir: Path, trial: int | None = None) -> Path:
    """Where the confirm grid runs, beside the search's folder: `<search folder>-confirm`
    for its best trial, `<search folder>-confirm-trial<N>` for trial N named with --trial
    (each trial its own grid: the grid sweeper refuses other overrides in its folder)."""
    sweep_dir = sweep_dir.resolve()
    suffix = "-confirm" if trial is None else f"-confirm-trial{trial}"
    return sweep_dir.parent / f"{sweep_dir.name}{suffix}"


def _folder_trial(sweep_dir: Path, number: int | None) -> int | None:
    """The trial number the folder is named after: None (`-confirm`) for the best trial of a
    single-objective search, even when named with --trial."""
    if number is None:
        return None
    try:
        best = best_trial(sweep_dir)
    except ConfirmError:
        return number
    return None if best.get("number") == number else number


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


def command(sweep_dir: Path, seeds: int, extra: list[str], trial: int | None = None) -> list[str]:
    """The grid command line (argv) that re-runs the best trial (or trial `trial`) with
    `seeds` fresh seeds (`fresh_seeds`), with the search's own `--config-dir` if it had one.

    Raises ConfirmError (one line) as `chosen_trial` and `trial_overrides` do."""
    best = chosen_trial(sweep_dir, trial)
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
        f"hydra.sweep.dir={confirm_dir(sweep_dir, _folder_trial(sweep_dir, trial))}",
        *extra,
        "-m",
    ]


def summary(sweep_dir: Path, best: dict, folder: Path | None = None) -> str:
    """The trial's value(s) in the search beside the seeds' mean ± 95 % CI (n), per metric,
    with its own held-out (test) figures (`trial_metrics`) on the first line and each of its
    figures beside the seeds' (`; the trial: 0.9812`); `folder`: the confirm grid's folder
    (default `confirm_dir(sweep_dir)`). A trial of a multi-objective search (`values`) gets
    a line per objective."""

    folder = folder or confirm_dir(sweep_dir)
    results = load_sweep(folder).results
    if results.empty:
        return f"{folder}: no finished jobs"
    ok = results[results["status"] == "ok"]
    metric = str(results["objective_metric"].dropna().iloc[0]) if len(results) else "?"
    which = "best trial" if folder == confirm_dir(sweep_dir) else "trial"
    values = best.get("values") if isinstance(best.get("values"), dict) else None
    if values:  # multi-objective: each objective's value and direction
        directions = best.get("directions") if isinstance(best.get("directions"), dict) else {}
        targets = [(m, _number(v), str(directions.get(m, "maximize"))) for m, v in values.items()]
        shown = ", ".join(f"{_with_split(m)} = {show_value(v)}" for m, v, _ in targets)
        first = f"{which} {best.get('number')} of the search: {shown}"
    else:
        value = _number(best.get("value"))
        given = results["objective_direction"].dropna().astype(str)
        targets = [("objective", value, given.iloc[0] if len(given) else "maximize")]
        first = (
            f"{which} {best.get('number')} of the search: objective {metric} "
            f"({metric_split(metric)}) = {value:.4f}"
        )
    own = trial_metrics(best)
    held_out = [
        f"{m} {own[m]:.4f} ({metric_split(m)})"
        for m in own
        if m != metric and metric_split(m) not in ("validation split", "run")
    ]
    first += "".join(f"; {part}" for part in held_out) + " (one seed)"
    lines = [
        first,
        f"re-run over {len(results)} seeds ({len(results) - len(ok)} failed), "
        "mean ± 95 % CI half-width (n), beside the trial's own (one seed):",
    ]
    # The seeds' headline metrics (results.csv's `headline`, sweeper.core.metrics), then the
    # objectives that are none of them.
    shown_metrics = ["objective", *sweep_headline(results)]
    names = [*shown_metrics, *(m for m, _, _ in targets if m not in shown_metrics)]
    for name in names:
        if name in ok:
            shown = f"objective ({metric})" if name == "objective" else name
            if values:  # multi-objective: each objective's own value, then its figures
                trial = _number(values.get(name, own.get(name)))
            else:
                trial = value if name == "objective" else _number(own.get(name))
            beside = "" if math.isnan(trial) else f"; the trial: {show_value(trial)}"
            lines.append(f"  {shown}: {format_summary(summarize(ok[name]))}{beside}")
    for name, value, direction in targets:
        if name not in ok:
            continue
        seeds = summarize(ok[name])
        if seeds.n < 2:
            continue
        prefix = f"{name}: " if values else ""
        lines.append(prefix + _verdict(value, seeds, direction != "minimize"))
    return "\n".join(lines)


def trial_metrics(trial: dict) -> dict[str, float]:
    """The searched trial's own validation and test figures ({metric: value}, one seed):
    best_trial.yaml's `metrics` (the search writes them for its best trial), else the
    `metrics` of the trial's own metrics.json (`--trial N`); {} when neither can be read."""
    found = trial.get("metrics")
    if not isinstance(found, dict) and trial.get("job_dir"):
        record = run_status(Path(str(trial["job_dir"]))).record or {}
        found = record.get("metrics")
        headline = record_headline(record)  # what the search reports beside its best
        found = {k: v for k, v in found.items() if k in headline} if isinstance(found, dict) else {}
    if not isinstance(found, dict):
        return {}
    return {
        str(k): float(v)
        for k, v in found.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def _with_split(metric: str) -> str:
    """`val_accuracy (validation split)`; `parameters` (measured on no split) as it is."""
    split = metric_split(metric)
    return metric if split == "run" else f"{metric} ({split})"


def _verdict(value: float, seeds: Any, maximize: bool) -> str:
    """Where the search's one-seed value lies against the seeds' 95 % interval."""
    if seeds.low <= value <= seeds.high:
        return "the search's value lies inside the seeds' 95 % interval"
    if (value > seeds.high) == maximize:
        return "the search's value is better than the seeds' interval: partly seed luck"
    return "the search's value is worse than the seeds' interval: an unlucky seed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sweeper confirm",
        description="Re-run an Optuna search's best trial (or --trial N) with several seeds "
        "(a grid into SWEEP_DIR-confirm) and print mean ± 95 % CI.",
    )
    parser.add_argument("sweep_dir", type=Path, help="the search's folder (with best_trial.yaml)")
    parser.add_argument(
        "--seeds",
        type=int,
        default=5,
        help="how many fresh seeds: 0, 1, ... skipping the search's own (default 5, at least 2)",
    )
    parser.add_argument(
        "--trial",
        type=int,
        default=None,
        metavar="N",
        help="re-run trial N of the search (its number in trials.csv) instead of the best; "
        "needed for a multi-objective search, which has Pareto-optimal trials, not one best",
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
        argv_grid = command(args.sweep_dir, args.seeds, args.overrides, args.trial)
        chosen = chosen_trial(args.sweep_dir, args.trial)
        folder = confirm_dir(args.sweep_dir, _folder_trial(args.sweep_dir, args.trial))
    except ConfirmError as error:
        print(f"sweeper confirm: error: {error}", file=sys.stderr)
        return 2
    shown = " ".join(["python", *argv_grid[1:]])
    if args.print_command:
        print(shown)
        return 0
    print(f"sweeper confirm: {shown}", flush=True)
    code = subprocess.run(argv_grid, check=False).returncode
    if code == 0 and folder.is_dir():  # else the grid said what went wrong
        print(summary(args.sweep_dir, chosen, folder))
    return code


if __name__ == "__main__":
    sys.exit(main())
