"""A study is one experiment: the fixed part of its configuration is recorded and kept.

A search's trials differ only in their searched keys; everything else a trial runs
with (its *fixed* configuration: `trainer.epochs`, `task.*`, the model, the loss, a
plain app's own keys...) is the experiment. A study records it in its user attrs
(`sweeper:fixed_config`, with a short hash in `sweeper:fixed_config_hash`) when it is
created, and a search that would resume it with any of it changed is refused before
any trial (`check_same_experiment`), naming the keys (old → new), unless
`hydra.sweeper.allow_changed_config=true` says it is meant (the record then holds the
new configuration).

The fixed configuration is one trial's composed config (each searched key at its first
value) minus:

- the searched keys (for a config group, everything under it);
- the keys that say where and how trials run or what records them, not what they
  measure (`RECORDING_ONLY`): all of `hydra.*` for any app (paths, launcher, logging,
  and the sweeper's own settings: `n_trials`, `n_jobs`, `storage`, `study_name`,
  `sampler`, `pruner`, `direction`; the space is checked on its own,
  `search_space.check_compatible`); for sweeper's own jobs also `logger`, `device`,
  `output_dir`, `pruner`, `pruning` and where a task reads its files from
  (`task.data_root`, `task.download`).

Values are compared as written (interpolations such as `${task.name}` unresolved, as
Hydra saves a job's `.hydra/config.yaml`). A study from before this record is judged
by the `.hydra/config.yaml` of one of its trials' jobs, when one is found, and then
given the record; a study without trials is simply given this run's.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from sweeper.sweeps.stale_trials import job_dir_of
from sweeper.trials.plugins import SearchError

__all__ = [
    "FIXED_ATTR",
    "HASH_ATTR",
    "RECORDING_ONLY",
    "check_same_experiment",
    "fixed_config",
    "fixed_hash",
]

log = logging.getLogger(__name__)

FIXED_ATTR = "sweeper:fixed_config"
HASH_ATTR = "sweeper:fixed_config_hash"

# The one list of keys that do not make another experiment (with everything under them),
# by whose jobs a search runs (AppJobs.kind). Documented in docs/searches.md.
RECORDING_ONLY: dict[str, tuple[str, ...]] = {
    "app": ("hydra",),
    "sweeper": (
        "hydra",
        "logger",
        "device",
        "output_dir",
        "pruner",
        "pruning",
        "task.data_root",
        "task.download",
    ),
}
SHOWN = 6  # changed keys named in a refusal; the rest are counted


def _under(key: str, prefixes: Iterable[str]) -> bool:
    return any(key == p or key.startswith(p + ".") for p in prefixes)


def fixed_config(cfg: Any, searched: Iterable[str], kind: str = "app") -> dict[str, Any]:
    """`cfg`'s leaves (`a.b.c: value`, in config order) that are neither searched nor
    recording-only for jobs of `kind`, as JSON values (interpolations unresolved)."""
    if isinstance(cfg, DictConfig):
        container = OmegaConf.to_container(cfg, resolve=False, enum_to_str=True)
    else:
        container = cfg
    drop = (*RECORDING_ONLY.get(kind, RECORDING_ONLY["app"]), *(s.lstrip("+~") for s in searched))
    flat: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict) and node:
            for key, value in node.items():
                walk(value, f"{prefix}.{key}" if prefix else str(key))
        elif prefix and not _under(prefix, drop):
            flat[prefix] = node

    walk(container, "")
    return json.loads(json.dumps(flat, default=str))


def _numbers_as_floats(value: Any) -> Any:
    """`1` and `1.0` are one value (Hydra reads `x=1` as an int where the YAML says 1.0)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return [_numbers_as_floats(v) for v in value]
    if isinstance(value, dict):
        return {k: _numbers_as_floats(v) for k, v in value.items()}
    return value


def _canon(value: Any) -> str:
    return json.dumps(_numbers_as_floats(value), sort_keys=True, default=str)


def fixed_hash(fixed: dict[str, Any]) -> str:
    """8 hex digits naming a fixed configuration (the same for the same keys and values)."""
    return hashlib.sha256(_canon(fixed).encode()).hexdigest()[:8]


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """`key: old → new` for each key whose value differs (or that only one side has)."""
    lines = []
    for key in [*new, *(k for k in old if k not in new)]:
        if key not in old:
            lines.append(f"{key}: (not set) → {_show(new[key])}")
        elif key not in new:
            lines.append(f"{key}: {_show(old[key])} → (not set)")
        elif _canon(old[key]) != _canon(new[key]):
            lines.append(f"{key}: {_show(old[key])} → {_show(new[key])}")
    return lines


def _job_config(frozen: Any) -> Path | None:
    """The `.hydra/config.yaml` of a trial's job, if its folder still has it."""
    try:
        job_dir = job_dir_of(frozen)
    except Exception:  # noqa: BLE001 - an unreadable sweep folder: not found
        return None
    if not job_dir:
        return None
    path = Path(job_dir) / ".hydra" / "config.yaml"
    return path if path.is_file() else None


def _legacy_fixed(study: Any, searched: Iterable[str], kind: str) -> tuple[dict, str] | None:
    """(fixed config, where from) of a study made before the record, read from the job
    config of its latest trial that still has one; None when none is found."""
    for frozen in sorted(study.get_trials(deepcopy=False), key=lambda t: -t.number):
        path = _job_config(frozen)
        if path is None:
            continue
        try:
            cfg = OmegaConf.load(path)
        except Exception:  # noqa: BLE001 - an unreadable file: try another trial
            continue
        names = {*searched, *frozen.params}
        return fixed_config(cfg, names, kind), f"trial {frozen.number}'s {path}"
    return None


def record(study: Any, fixed: dict[str, Any]) -> None:
    """Write `fixed` (and its hash) into the study's user attrs."""
    study.set_user_attr(FIXED_ATTR, fixed)
    study.set_user_attr(HASH_ATTR, fixed_hash(fixed))


def check_same_experiment(
    study: Any,
    fixed: dict[str, Any],
    where: str,
    *,
    searched: Iterable[str] = (),
    kind: str = "app",
    allow_changed: bool = False,
    created: bool = False,
) -> None:
    """Record `fixed` on a new study; refuse (SearchError, one line) to resume a study
    recorded, or run, with another fixed configuration, unless `allow_changed`."""
    stored = study.user_attrs.get(FIXED_ATTR)
    origin = ""
    if stored is None and not created and study.get_trials(deepcopy=False):
        legacy = _legacy_fixed(study, searched, kind)
        if legacy is None:
            log.info(
                "study %s has no record of its fixed configuration (made by an older "
                "sweeper, its job folders gone): recorded this run's",
                study.study_name,
            )
        else:
            stored, found = legacy
            origin = f" (as {found} shows)"
    if not isinstance(stored, dict) or not study.get_trials(deepcopy=False):
        record(study, fixed)  # a new study, or one without trials: nothing to mix
        return
    changed = changes(stored, fixed)
    if not changed:
        if study.user_attrs.get(FIXED_ATTR) is None:  # a study from before the record
            record(study, fixed)
        return
    shown = "; ".join(changed[:SHOWN])
    if len(changed) > SHOWN:
        shown += f"; and {len(changed) - SHOWN} more"
    if allow_changed:
        log.warning(
            "resuming study %s with another fixed configuration "
            "(hydra.sweeper.allow_changed_config=true): %s",
            study.study_name,
            shown,
        )
        record(study, fixed)
        return
    name = f"{study.study_name}-{fixed_hash(fixed)}"
    raise SearchError(
        f"study {study.study_name} in {where} was run with another configuration{origin}: "
        f"{shown}. "
        f"Re-run with its configuration to resume it, start a new study with "
        f"hydra.sweeper.study_name={name} (or another hydra.sweep.dir), or add "
        "hydra.sweeper.allow_changed_config=true to resume it anyway"
    )
