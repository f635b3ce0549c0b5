"""A plain Hydra app that imports nothing of sweeper: the start-up benchmark's subject.

    python bench/plain_app/app.py                      # one run (what every app pays)
    python bench/plain_app/app.py hydra/sweeper=optuna 'x=interval(-5,5)' -m

Its single run's time with and without sweeper installed in the environment is what
installing sweeper costs every other Hydra app (Hydra imports every plugin module).
"""

import hydra
from omegaconf import DictConfig


@hydra.main(version_base=None, config_path=None, config_name=None)
def main(cfg: DictConfig) -> float:
    x, y = float(cfg.get("x", 1.0)), float(cfg.get("y", 1.0))
    return x**2 + y**2


if __name__ == "__main__":
    main()
