"""Sweep tools: the grid and Optuna search sweepers, search spaces, job folders,
pruning, objectives and the sweep's progress line."""
