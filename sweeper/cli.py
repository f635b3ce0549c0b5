"""The command line `python -m sweeper [overrides] [-m]` (and the `sweeper` script) runs.

Hydra composes the config from sweeper/conf, runs `train(cfg)` per job and
hands the returned objective to its sweeper. A typo (`loss=bce`,
`trainer.epochz=3`: an option, group or key the config lacks) and bad config values
end the process with one line on stderr and exit code 2; a refused single run leaves
no run folder behind (`sweeper.run.callbacks`). A single run whose training failed
(e.g. a NaN loss) exits 1 after writing its metrics.json.

In a multirun, one job's config refused at run time (an `objective.metric`
its task lacks, missing MNIST files, ...) does not end the sweep: the job is
recorded as failed with `reason: "config: ..."` and returns the worst value; a
job folder that must not be written (in use, unwritable, finished) is left
alone and returns the worst value too.

Ctrl-C (SIGINT) and SIGTERM stop a run or sweep the same way: the running job
records `status: interrupted` and keeps its checkpoint, and the process exits
130 (SIGINT) or 143 (SIGTERM) with one line on stderr. The same command run
again in the same run folder resumes it.
"""

from __future__ import annotations

import gc
import logging
import math
import os
import re
import sys
import threading

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from hydra_plugins.sweeper_search.configs import unknown_option
from sweeper.core.config import ConfigError
from sweeper.core.interrupt import (
    exit_code,
    install_interrupt_handlers,
    raise_unanswered,
    signal_name,
    sigterm_interrupts,
)
from sweeper.core.private_apis import run_exit_handlers
from sweeper.core.run_folder import RunFolderError
from sweeper.core.train import record_config_failure
from sweeper.run.callbacks import discard_refused_run
from sweeper.run.job import train
from sweeper.run.pruning import unknown_pruner
from sweeper.run.validate import override_problem

log = logging.getLogger("sweeper")


def train_job(cfg: DictConfig) -> float | list[float]:
    """The task function Hydra runs for every job: `run_job` (below)."""
    return run_job(cfg, multirun=HydraConfig.get().mode == RunMode.MULTIRUN)


# The search sweeper asks this about its jobs (metrics.json, the task's metrics, collect)
# instead of treating them as a plain app's (sweeper.sweeps.app_jobs).
train_job.sweeper_jobs = "sweeper.jobs:SweeperJobs"  # type: ignore[attr-defined]
main = hydra.main(version_base="1.3", config_path="conf", config_name="config")(train_job)


def run_job(cfg: DictConfig, multirun: bool) -> float | list[float]:
    """One job: `train(cfg)`'s objective (a list for several objectives). A single run
    refused for its config or folder exits 2 (one line) and leaves no folder behind, one
    whose training failed exits 1. In a multirun a config failure is recorded in the
    job's folder and returns the worst value; a folder that cannot be used (in use,
    finished, unwritable) raises RunFolderError untouched. SIGTERM interrupts the job
    wherever it runs (in a joblib worker too, whose process never ran `cli`)."""
    try:
        with sigterm_interrupts():
            value = train(cfg)
    except RunFolderError as error:
        if not multirun:
            config_error(error)
        # Nothing written into that folder, and no value returned: the job fails in the
        # launcher (a grid logs it and goes on, a search makes it a FAIL trial), so a
        # sweeper never reads another run's metrics.json as this job's result.
        log.error("sweeper: error: %s", error)
        raise
    except ConfigError as error:
        if not multirun:
            config_error(error)
        return record_config_failure(cfg, error)
    values = value if isinstance(value, list) else [value]
    if not multirun:
        log.info("outputs in %s", os.path.abspath(cfg.output_dir))  # where a single run wrote
        if not all(math.isfinite(v) for v in values):
            sys.exit(1)
    return value


def config_error(error: ConfigError) -> None:
    """End a refused single run: take back what it wrote into its run folder (the folder
    too, if the run made it; what was there before stays), then the one-line message on
    stderr, exit code 2."""
    discard_refused_run()
    print(f"sweeper: error: {error}", file=sys.stderr)
    sys.exit(2)


# The hidden size has one spelling, `model.hidden`; `hidden_size=` on the command line is
# another name for it, rewritten before Hydra sees it (sweeps and search spaces too).
HIDDEN_ALIAS, HIDDEN_KEY = "hidden_size", "model.hidden"
# Keys that moved: given on the command line, they fail with a hint instead of Hydra's
# "Key 'epochs' is not in struct".
MOVED_KEYS = {
    **{
        f"task.{key}": f"trainer.{key}"
        for key in ("epochs", "batch_size", "patience", "keep_best", "stop_accuracy", "stop_epochs")
    },
    "optim.grad_clip": "trainer.grad_clip",
    "device.precision": "trainer.precision",
}


class ArgumentError(ValueError):
    """A command-line override refused before Hydra sees it; the message is one line."""


def rewrite_overrides(args: list[str]) -> list[str]:
    """`hidden_size=3,5` -> `model.hidden=3,5` (quotes around numbers dropped, any sweep or
    search expression kept). Raises ArgumentError when both spellings are given, or for a
    key that moved (`task.epochs` -> `trainer.epochs`)."""
    rewritten, keys = [], {}
    for arg in args:
        key, sep, value = arg.partition("=")
        prefix, bare = key[: len(key) - len(key.lstrip("~+"))], key.lstrip("~+")
        if not sep or arg.startswith("-"):
            rewritten.append(arg)
            continue
        if bare in MOVED_KEYS:
            raise ArgumentError(f"{bare} moved to {MOVED_KEYS[bare]}: write {MOVED_KEYS[bare]}=...")
        if bare == HIDDEN_ALIAS:
            value = re.sub(r"(['\"])(\d+)\1", r"\2", value)
            arg = f"{prefix}{HIDDEN_KEY}={value}"
            bare = HIDDEN_KEY
            keys.setdefault(HIDDEN_KEY, []).append(HIDDEN_ALIAS)
        elif bare == HIDDEN_KEY:
            keys.setdefault(HIDDEN_KEY, []).append(HIDDEN_KEY)
        rewritten.append(arg)
    if len(keys.get(HIDDEN_KEY, [])) > 1:
        raise ArgumentError(
            f"the hidden size is given twice ({' and '.join(keys[HIDDEN_KEY])}): "
            f"{HIDDEN_ALIAS}= is another name for {HIDDEN_KEY}=, give one"
        )
    return rewritten


def override_error(args: list[str]) -> str | None:
    """The first override Hydra's grammar refuses, as one line (`choice()`, `range(1,`), or None.

    Hydra would refuse it too, but over several lines and with exit code 1.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    for arg in args:
        if arg.startswith("-") or "=" not in arg:
            continue
        try:
            parser.parse_override(arg)
        except HydraException as error:
            lines = [line for line in str(error).splitlines() if line.strip()]
            why = next((line for line in lines if not line.startswith("Error parsing")), "")
            return f"cannot parse override {arg!r}: {why.strip()}"
    return None


# Hydra's flags that end before composing a config to run or show, or that change which
# config is composed (--config-path): with them the overrides are left to Hydra.
OTHER_COMMANDS = {"-h", "--help", "--hydra-help", "-i", "--info", "-sc", "--shell-completion"}
OTHER_COMMANDS |= {"-cp", "--config-path", "--experimental-rerun"}


def typo_error(args: list[str]) -> str | None:
    """The one line for an override naming a group option, group or key the config lacks
    (`loss=bce`, `trainer.epochz=3`), or None: `sweeper.run.validate.override_problem`,
    with `--config-dir` (a user's groups and options) and `--config-name` from `args`."""
    flags = {"--config-dir": None, "--config-name": "config"}
    short = {"-cd": "--config-dir", "-cn": "--config-name"}
    for index, arg in enumerate(args):
        name, sep, value = arg.partition("=")
        if name in OTHER_COMMANDS:
            return None
        name = short.get(name, name)
        if name in flags:
            if not sep:
                value = args[index + 1] if index + 1 < len(args) else ""
            flags[name] = value
    overrides = [a for a in args if not a.startswith("-") and ("=" in a or a.startswith("~"))]
    return override_problem(
        overrides, config_dir=flags["--config-dir"], config_name=flags["--config-name"] or "config"
    )


def multirun_flag_last(args: list[str]) -> list[str]:
    """Let `-m` stand anywhere: Hydra's parser drops overrides that follow it."""
    flags = [a for a in args if a in ("-m", "--multirun")]
    return [a for a in args if a not in ("-m", "--multirun")] + flags


def cli() -> None:
    """`python -m sweeper [overrides] [-m]` and the `sweeper` console script.

    The script also runs the tools: `sweeper collect DIR`, `sweeper compare A B`,
    `sweeper predict RUN_DIR INPUTS...`, `sweeper confirm SWEEP_DIR --seeds 5`.
    """
    if os.getcwd() not in sys.path and "" not in sys.path:
        # As `python -m sweeper` does: a user's task and model modules import from here.
        sys.path.insert(0, os.getcwd())
    if len(sys.argv) > 1 and sys.argv[1] in ("collect", "compare", "predict", "confirm"):
        from sweeper import collect, compare, confirm, predict  # only a command needs them (scipy)

        tools = {"collect": collect, "compare": compare, "predict": predict, "confirm": confirm}
        tool = tools[sys.argv[1]]
        sys.exit(tool.main(sys.argv[2:]))
    try:
        sys.argv[1:] = rewrite_overrides(multirun_flag_last(sys.argv[1:]))
    except ArgumentError as refused:
        print(f"sweeper: error: {refused}", file=sys.stderr)
        sys.exit(2)
    error = (
        override_error(sys.argv[1:])
        or unknown_pruner(sys.argv[1:])
        or unknown_option(sys.argv[1:])  # hydra/sweeper/sampler=..., hydra/sweeper/pruner=...
        or typo_error(sys.argv[1:])  # loss=bce, trainer.epochz=3: every group, every key
    )
    if error:
        print(f"sweeper: error: {error}", file=sys.stderr)
        sys.exit(2)
    install_interrupt_handlers()
    try:
        main()
        raise_unanswered()  # a Ctrl-C lost after the last job's last check (core.interrupt)
    except KeyboardInterrupt as interrupt:
        # The job recorded `status: interrupted` (and logged where to resume) before this.
        print(f"sweeper: interrupted by {signal_name(interrupt)}", file=sys.stderr)
        sys.exit(exit_code(interrupt))
    finally:
        # Everything still alive is about to be torn down anyway; frozen, the collection
        # at interpreter exit skips it instead of traversing every object once more.
        gc.freeze()
    exit_without_teardown()


def exit_without_teardown() -> None:
    """Exit 0 now, doing what a normal exit does except tearing the interpreter down.

    After the atexit handlers (logging's flush, joblib's worker shutdown, torch's
    finalizers, anything a plugin registered) and a flush of stdout/stderr, a normal
    exit still deallocates every module's objects one by one and runs libtorch's C++
    static destructors: ~0.15 s per process that changes nothing on disk. Returns
    (and lets the normal exit happen) while a non-daemon thread runs, since that exit
    would wait for it, and once SQLAlchemy is loaded (Optuna searches load it), so a
    study's database connections close the normal way.
    """
    main_thread = threading.main_thread()
    if any(t is not main_thread and not t.daemon for t in threading.enumerate()):
        return
    if "sqlalchemy" in sys.modules:
        return
    run_exit_handlers()  # atexit._run_exitfuncs: sweeper.core.private_apis says why
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed, or a reader that went away: as a normal exit
            pass
    os._exit(0)
