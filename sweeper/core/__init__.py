"""The training core: one job's config checks, training loop, checkpoints, run folder,
metrics.json and what the loop tells observers (pruners, loggers)."""
