"""Hydra loads sweepers only from `hydra_plugins`; sweeper's lives in `sweeper.sweeps.search`."""
