"""hydra-optuna-sweeper's class path, served by sweeper's search sweeper.

Configs written for Hydra's Optuna plugin name its class explicitly
(`_target_: hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper`, as
lightning-hydra-template's `hparams_search/mnist_optuna.yaml` does); this package makes
them run unchanged on sweeper's sweeper. sweeper replaces hydra-optuna-sweeper (which
pins optuna<3): uninstall that one first, since both install this package path.
"""
