"""What Optuna says on the terminal and in log files, told plainly and truthfully.

- `plain_optuna_logging()`: Optuna's own handler writes coloured records
  (`\\x1b[32m[I ...`) straight to stderr, bypassing Hydra's logging, so a search
  run under nohup, SLURM or CI leaves raw colour escapes in its log file. Its
  records are sent to the root logger instead (Optuna's public
  `disable_default_handler` / `enable_propagation`), where Hydra's handlers
  format them like every other line, without colour.
- `create_or_load(...)`: `optuna.create_study(load_if_exists=True)` logs "Using an
  existing study" whenever the name is taken, including when this very process
  created it a moment before (a retried creation). Creating with
  `load_if_exists=False` and loading only on `DuplicatedStudyError` tells the two
  cases apart, so the caller can say "created" or "resumed" and be right; the only
  Optuna line left is its "A new study created", which is then true.
"""

from __future__ import annotations

import time
from typing import Any


def plain_optuna_logging() -> None:
    """Route Optuna's log records through the root logger (no colour, into log files)."""
    import optuna

    optuna.logging.disable_default_handler()
    optuna.logging.enable_propagation()


def create_or_load(
    study_name: str | None, storage: Any, sampler: Any, directions: list[str], pruner: Any = None
) -> tuple[Any, bool]:
    """(study, created): a new study with `directions` (one per objective), or the existing
    one of that name (its own directions, which the caller checks); `pruner` None is
    Optuna's default. Raises what Optuna raises otherwise."""
    import optuna

    try:
        study = optuna.create_study(
            study_name=study_name,
            storage=storage,
            sampler=sampler,
            directions=directions,
            pruner=pruner,
        )
        return study, True
    except optuna.exceptions.DuplicatedStudyError:
        pass
    # Another worker's create_study writes the study, then its directions: a worker that
    # loads it in between sees NOT_SET. Wait (up to ~10 s) for the directions.
    for _ in range(100):
        study = optuna.load_study(
            study_name=study_name, storage=storage, sampler=sampler, pruner=pruner
        )
        unset = optuna.study.StudyDirection.NOT_SET
        if all(direction != unset for direction in study.directions):
            break
        time.sleep(0.1)
    return study, False
