"""The search sweeper's configs, registered in Hydra's ConfigStore for every Hydra app.

- `hydra/sweeper=search` and `hydra/sweeper=optuna` (hydra-optuna-sweeper's name, as
  lightning-hydra-template's `hparams_search/*.yaml` and Hydra's docs write it) select
  the same sweeper with hydra-optuna-sweeper's keys plus sweeper's own
  (`total_trials`, `heartbeat_interval`, `grace_period`, `pruner`);
- `hydra/sweeper/sampler=NAME`: every sampler Optuna ships, by the plugin's names
  (tpe, random, cmaes, nsgaii, qmc, gp, grid; motpe runs TPE, which took it over in
  Optuna 4) and the newer ones (nsgaiii, bruteforce). Each option starts from
  Optuna's own default (null: not passed); an option the sampler does not take is
  refused by the sweeper in one line before any trial;
- `hydra/sweeper/pruner=NAME`: Optuna's pruners for an app that reports intermediate
  values with `sweeper.report(value, step)` (none by default).

Plain dicts, not dataclasses, so the sweeper (not Hydra's composition) checks them and
names the key; registering them imports nothing but Hydra.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hydra.core.config_store import ConfigStore

SWEEPER_TARGET = "hydra_plugins.sweeper_search.search_sweeper.SearchSweeper"

SEARCH: dict[str, Any] = {
    "defaults": [{"sampler": "tpe"}, {"pruner": "none"}],
    "_target_": SWEEPER_TARGET,
    # The sweeper instantiates the sampler and pruner itself, after checking them.
    "_recursive_": False,
    # minimize | maximize, or a list of them (a multi-objective study); null: the app's
    # `objective.direction` for sweeper's own jobs, else minimize (Optuna's default).
    "direction": None,
    "storage": None,  # e.g. sqlite:///search.db or postgresql://user@host/db; null: in memory
    "study_name": None,
    # trials to run now (total_trials: false) or in all (true); 0: report an existing study only
    "n_trials": 20,
    "total_trials": False,
    "n_jobs": 1,  # trials at once; in parallel with a launcher such as hydra/launcher=joblib
    # A batch (the last n_jobs trials told) failing more often than this stops the search;
    # 1.0: failed trials are recorded and the search goes on.
    "max_failure_rate": 1.0,
    # Each running trial's owner writes a heartbeat every heartbeat_interval seconds; on
    # start, a RUNNING trial without one for grace_period seconds (or whose process on
    # this machine is gone) is marked FAIL.
    "heartbeat_interval": 20,
    "grace_period": 120,
    # A study is one experiment: resuming it with a fixed (not searched, not recording-only)
    # key changed is refused unless this is true (sweeper.sweeps.experiment).
    "allow_changed_config": False,
    "params": None,  # key: override grammar, e.g. x: interval(-5, 5)
    "search_space": None,  # hydra-optuna-sweeper's deprecated form: key: {type, low, high}
    "custom_search_space": None,  # a function (DictConfig, optuna.trial.Trial) -> None
}


def _sampler(target: str, **options: Any) -> dict[str, Any]:
    return {"_target_": f"optuna.samplers.{target}", "seed": None, **options}


SAMPLERS: dict[str, dict[str, Any]] = {
    "tpe": _sampler(
        "TPESampler",
        n_startup_trials=None,
        n_ei_candidates=None,
        multivariate=None,
        group=None,
        constant_liar=None,
        consider_prior=None,
        prior_weight=None,
        consider_magic_clip=None,
        consider_endpoints=None,
        warn_independent_sampling=None,
    ),
    # Optuna 4 removed MOTPESampler: TPESampler handles several objectives.
    "motpe": _sampler("TPESampler", n_startup_trials=None, n_ei_candidates=None),
    "random": _sampler("RandomSampler"),
    "cmaes": _sampler(
        "CmaEsSampler",
        x0=None,
        sigma0=None,
        n_startup_trials=None,
        warn_independent_sampling=None,
        consider_pruned_trials=None,
        restart_strategy=None,
        popsize=None,
        inc_popsize=None,
        use_separable_cma=None,
        with_margin=None,
        lr_adapt=None,
    ),
    "nsgaii": _sampler(
        "NSGAIISampler",
        population_size=None,
        mutation_prob=None,
        crossover_prob=None,
        swapping_prob=None,
    ),
    "nsgaiii": _sampler(
        "NSGAIIISampler",
        population_size=None,
        mutation_prob=None,
        crossover_prob=None,
        swapping_prob=None,
        dividing_parameter=None,
    ),
    "qmc": _sampler(
        "QMCSampler",
        qmc_type=None,
        scramble=None,
        warn_asynchronous_seeding=None,
        warn_independent_sampling=None,
    ),
    "gp": _sampler(
        "GPSampler",
        n_startup_trials=None,
        deterministic_objective=None,
        warn_independent_sampling=None,
    ),
    # The grid is built by the sweeper from the space's choices and stepped ranges.
    "grid": _sampler("GridSampler"),
    "bruteforce": _sampler("BruteForceSampler", avoid_premature_stop=None),
}


def _pruner(target: str, **options: Any) -> dict[str, Any]:
    return {"_target_": f"optuna.pruners.{target}", **options}


PRUNERS: dict[str, dict[str, Any]] = {
    "none": _pruner("NopPruner"),
    "median": _pruner(
        "MedianPruner",
        n_startup_trials=None,
        n_warmup_steps=None,
        interval_steps=None,
        n_min_trials=None,
    ),
    "percentile": _pruner(
        "PercentilePruner",
        percentile=25.0,
        n_startup_trials=None,
        n_warmup_steps=None,
        interval_steps=None,
        n_min_trials=None,
    ),
    "successive_halving": _pruner(
        "SuccessiveHalvingPruner",
        min_resource=None,
        reduction_factor=None,
        min_early_stopping_rate=None,
        bootstrap_count=None,
    ),
    "hyperband": _pruner(
        "HyperbandPruner",
        min_resource=None,
        max_resource=None,
        reduction_factor=None,
        bootstrap_count=None,
    ),
    "threshold": _pruner(
        "ThresholdPruner", lower=None, upper=None, n_warmup_steps=None, interval_steps=None
    ),
    "wilcoxon": _pruner("WilcoxonPruner", p_threshold=None, n_startup_steps=None),
}


def register(store: ConfigStore | None = None) -> None:
    """Store the sweeper, sampler and pruner configs (idempotent)."""
    store = store or ConfigStore.instance()
    for name in ("search", "optuna"):
        store.store(group="hydra/sweeper", name=name, node=SEARCH, provider="sweeper")
    for name, node in SAMPLERS.items():
        store.store(group="hydra/sweeper/sampler", name=name, node=node, provider="sweeper")
    for name, node in PRUNERS.items():
        store.store(group="hydra/sweeper/pruner", name=name, node=node, provider="sweeper")


register()


def choose(options: list[str]) -> str:
    """`choose ce or mse`, `choose one of a, b, c`: the options of a group, in one phrase."""
    if len(options) == 1:
        return f"choose {options[0]}"
    if len(options) == 2:
        return f"choose {options[0]} or {options[1]}"
    return f"choose one of {', '.join(options)}"


def _chosen(value: Any) -> list[str]:
    """The option names a group override's parsed value picks: one, a list's (several
    options at once: `logger=[csv,tensorboard]`), a sweep's (`loss=ce,bce`, `choice(...)`,
    `range(...)`, each flattened); none for a glob, an interval or null."""
    from hydra.core.override_parser.types import ChoiceSweep, Glob, RangeSweep, Sweep

    if isinstance(value, ChoiceSweep):
        return [name for item in value.list for name in _chosen(item)]
    if isinstance(value, RangeSweep):
        return [str(item) for item in value.range()]
    if isinstance(value, list):
        return [name for item in value for name in _chosen(item)]
    if value is None or isinstance(value, (dict, Glob, Sweep)):
        return []
    return [str(value)]


def unknown_option(args: list[str], groups: Mapping[str, list[str]] | None = None) -> str | None:
    """The one-line refusal of the first override in `args` that picks no option of its
    config group (`loss=bce: no such option; choose ce or mse`), or None.

    `groups` maps a group (`loss`, `hydra/launcher`) to its options; by default the
    groups registered here (`hydra/sweeper/sampler=NAME`, `hydra/sweeper/pruner=NAME`),
    which any Hydra app can check with no config loaded. Every value of a sweep is
    checked (`loss=ce,bce`). Hydra refuses the same override over several lines, exit 1;
    sweeper's entrypoint asks this first, with every group of its config search path."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    if groups is None:
        groups = {"hydra/sweeper/sampler": list(SAMPLERS), "hydra/sweeper/pruner": list(PRUNERS)}
    parser = OverridesParser.create()
    for arg in args:
        key = arg.partition("=")[0].lstrip("+~")
        if "=" not in arg or key not in groups or arg.startswith("~"):
            continue
        try:
            override = parser.parse_override(arg)
        except HydraException:  # the grammar's own refusal comes first, elsewhere
            continue
        if isinstance(override.value(), dict):  # a dict sets the group's keys, picks nothing
            continue
        for name in _chosen(override.value()):
            if name not in groups[key]:
                return f"{key}={name}: no such option; {choose(groups[key])}"
    return None
