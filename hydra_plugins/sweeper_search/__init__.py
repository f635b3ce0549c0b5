"""sweeper's Hydra plugins: the search sweeper (`hydra/sweeper=search`, or `=optuna` as
hydra-optuna-sweeper names it) and the grid sweeper, with their configs.

Hydra imports every module here on every start of every Hydra app in the environment,
so these modules import nothing but Hydra: the sweepers' code (sweeper.sweeps, Optuna,
torch) loads when a sweeper is instantiated, not before.
"""
