"""Builds one of sweeper's jobs from its config: validation, observers, preflight, `train(cfg)`."""
