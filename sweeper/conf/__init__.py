"""Sweeper's Hydra config tree (a package so that `pkg://sweeper.conf` resolves when installed)."""
