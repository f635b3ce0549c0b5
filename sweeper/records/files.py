"""Every file name sweeper writes into a sweep folder, in one place.

collect writes `COLLECT_OUTPUTS` (`sweeper.collect`), a search its records
(`SEARCH_OUTPUTS`, read and written by `sweeper.records.search`); compare's
`--out` never replaces any of `SWEEP_OUTPUTS`. A sweep-level history.csv and
by_length.csv stack the jobs' own files of the same names.
"""

from __future__ import annotations

SUMMARY = "summary.md"
RESULTS = "results.csv"
RESULTS_BY_CONFIG = "results_by_config.csv"
HISTORY = "history.csv"
CURVES = "curves.png"
BY_LENGTH = "by_length.csv"
REPORT = "report.html"
COLLECT_OUTPUTS = (SUMMARY, RESULTS, RESULTS_BY_CONFIG, HISTORY, CURVES, BY_LENGTH, REPORT)

TRIALS = "trials.csv"
BEST_TRIAL = "best_trial.yaml"
PARETO_FRONT = "pareto_front.csv"
OPTIMIZATION_RESULTS = "optimization_results.yaml"
SEARCH_FILES = (BEST_TRIAL, TRIALS)  # either marks a folder as an Optuna search's
SEARCH_OUTPUTS = (TRIALS, PARETO_FRONT, BEST_TRIAL, OPTIMIZATION_RESULTS)

SWEEP_OUTPUTS = COLLECT_OUTPUTS + SEARCH_OUTPUTS
