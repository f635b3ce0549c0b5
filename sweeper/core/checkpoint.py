"""`checkpoint.pt`: the state a run needs to continue after its last finished epoch.

`sweeper.core.train` writes it after every epoch (atomically, see
`sweeper.core.artifacts`), so a run killed at any point resumes from its last
finished epoch when the same command runs again in the same folder, and ends
with the same metrics, to the bit on CPU, as a run never interrupted. It holds:

    format      CHECKPOINT_FORMAT
    config      the resolved config minus `output_dir`: a resume with any other
                config is refused (RunFolderError naming the keys that differ)
    epoch       the last finished epoch
    history     the per-epoch rows so far
    model, optimizer, schedule   their state dicts (schedule None when constant)
    generator   the training data stream's torch.Generator state
    rng         the global torch (and CUDA), numpy and Python RNG states
    progress    the early-stopping state (best score/epoch/weights, counters)

Tensors, numbers, strings and plain containers only: it loads with
`torch.load(..., weights_only=True)`. A run that ends with `status` ok or
failed removes it (model.pt and metrics.json then say all there is, and a
finished run is never resumed); an interrupted run keeps it.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from sweeper.core.artifacts import save_torch
from sweeper.core.run_folder import RunFolderError

CHECKPOINT_NAME = "checkpoint.pt"
CHECKPOINT_FORMAT = 1


def config_snapshot(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config that decides a run's numbers: all of it but `output_dir`
    (and Hydra's own node), so the same run in another folder has the same snapshot."""
    data = OmegaConf.to_container(cfg, resolve=False)
    assert isinstance(data, dict)
    data.pop("hydra", None)
    data.pop("output_dir", None)
    resolved = OmegaConf.to_container(OmegaConf.create(data), resolve=True)
    assert isinstance(resolved, dict)
    return resolved


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, dict):
        return {prefix: data}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def config_differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """`key: saved -> current` for every dotted key whose value differs (or is only in one)."""
    old, new = _flatten(saved), _flatten(current)
    missing = "(absent)"
    return [
        f"{key}: {old.get(key, missing)} -> {new.get(key, missing)}"
        for key in sorted(old.keys() | new.keys())
        if old.get(key, missing) != new.get(key, missing)
    ]


def rng_state() -> dict[str, Any]:
    """The global RNG states (torch, CUDA where initialised, numpy, Python) as tensors and lists."""
    _, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    version, words, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else [],
        "numpy": {
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "python": {"version": version, "words": list(words), "gauss_next": gauss_next},
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `rng_state()` returned."""
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    numpy = state["numpy"]
    np.random.set_state(
        (
            "MT19937",
            numpy["keys"].numpy().astype(np.uint32),
            numpy["pos"],
            numpy["has_gauss"],
            numpy["cached_gaussian"],
        )
    )
    python = state["python"]
    random.setstate((python["version"], tuple(python["words"]), python["gauss_next"]))


class Checkpointer:
    """Reads, writes and removes `folder/checkpoint.pt` of the run whose `config_snapshot`
    is `config`; `epoch` is the last epoch saved or loaded (0: none)."""

    def __init__(self, folder: str | Path, config: dict[str, Any]) -> None:
        self.path = Path(folder) / CHECKPOINT_NAME
        self.config = config
        self.epoch = 0

    def load(self) -> dict[str, Any] | None:
        """The checkpoint's state, or None when there is none.

        Raises RunFolderError (nothing written) if it cannot be read or belongs to
        another config."""
        if not self.path.is_file():
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as error:  # a pickle error, a truncated file, a permission error
            raise RunFolderError(
                f"{self.path} cannot be read ({type(error).__name__}: {error}); "
                "move it away to start the run afresh"
            ) from None
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            raise RunFolderError(f"{self.path} is not a sweeper checkpoint (format 1)")
        differences = config_differences(state["config"], self.config)
        if differences:
            shown = "; ".join(differences[:3]) + ("; ..." if len(differences) > 3 else "")
            raise RunFolderError(
                f"{self.path} belongs to a different config ({shown}); re-run with that "
                "config to resume it, or choose another run folder"
            )
        self.epoch = int(state["epoch"])
        return state

    def save(self, state: dict[str, Any]) -> None:
        """Write `state` (which must carry `epoch`) with the config, atomically: a reader sees
        the previous checkpoint or this one, never a part."""
        save_torch(self.path, {"format": CHECKPOINT_FORMAT, "config": self.config, **state})
        self.epoch = int(state["epoch"])

    def saved_epoch(self) -> int:
        """The epoch of the checkpoint on disk now (0: none), read from the file itself: a
        signal can land between the rename that saved an epoch and `epoch`'s update."""
        try:
            return int(torch.load(self.path, map_location="cpu", weights_only=True)["epoch"])
        except FileNotFoundError:
            return 0

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
