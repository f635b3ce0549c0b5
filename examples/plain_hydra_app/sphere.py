"""A plain Hydra app searched by sweeper's search sweeper: no torch, no sweeper task.

    python sphere.py hydra/sweeper=optuna 'x=interval(-5,5)' 'y=interval(-5,5)' -m

The function returns the value to minimise (`x**2 + y**2`); with `objectives: 2` it
returns two values (a multi-objective study, `hydra.sweeper.direction=[minimize,
minimize]`), with `error: true` it raises (a FAIL trial), and with `epochs > 0` it
reports a value per epoch through `sweeper.report`, so a pruner
(`hydra/sweeper/pruner=median`) can stop it early.
"""

import hydra
from omegaconf import DictConfig

import sweeper


@hydra.main(version_base=None, config_path="conf", config_name="config")
def sphere(cfg: DictConfig) -> float | list[float]:
    x, y = float(cfg.x), float(cfg.y)
    if cfg.error:
        raise RuntimeError("cfg.error is True")
    value = x**2 + y**2
    for epoch in range(cfg.epochs):  # a value that shrinks to `value` over the epochs
        sweeper.report(value * (1 + 1 / (epoch + 1)), epoch)
    if cfg.objectives == 2:  # Binh and Korn's two objectives (Deb et al. 2002, test problem)
        return [4 * x**2 + 4 * y**2, (x - 5) ** 2 + (y - 5) ** 2]
    return value


if __name__ == "__main__":
    sphere()
