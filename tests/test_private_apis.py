"""Pins the private APIs sweeper.core.private_apis lists: an upgrade that changes one fails here."""

from __future__ import annotations

import atexit
import importlib
import inspect

import torch

from sweeper.core.private_apis import BASIC_SWEEPER, CPU_BF16_CHECKS, cpu_has_native_bf16


def test_torch_still_has_the_cpu_bf16_checks():
    for name in CPU_BF16_CHECKS:
        assert isinstance(getattr(torch.cpu, name)(), bool)
    assert isinstance(cpu_has_native_bf16(), bool)


def test_a_torch_without_the_checks_means_no_native_bf16(monkeypatch):
    for name in CPU_BF16_CHECKS:
        monkeypatch.delattr(torch.cpu, name)
    assert cpu_has_native_bf16() is False


def _qualified_bases(cls: type) -> set[str]:
    return {f"{base.__module__}.{base.__qualname__}" for base in cls.__mro__}


def test_hydras_basic_sweeper_has_what_the_grid_uses():
    """By name, not `issubclass`: Hydra's plugin scan re-executes every plugin module it
    walks (hydra.core.plugins.Plugins._scan_all_plugins, `exec_module` even for a module
    already in sys.modules), so after the first `Plugins.instance()` in a process
    BasicSweeper is a new class object and the grid's base the one from before."""
    module, _, name = BASIC_SWEEPER.rpartition(".")
    basic = getattr(importlib.import_module(module), name)
    from sweeper.sweeps.grid import GridSweeper

    assert BASIC_SWEEPER in _qualified_bases(GridSweeper)
    assert {"max_batch_size", "params"} <= set(inspect.signature(basic.__init__).parameters)
    for method in ("split_arguments", "_parse_config", "setup"):
        assert callable(getattr(basic, method))


def test_atexit_can_still_run_its_handlers_without_exiting():
    assert callable(atexit._run_exitfuncs)  # run for real by test_cli's exit_without_teardown test


def test_functional_adam_and_sgd_divide_the_gradients_by_grad_scale():
    """sweeper.core.optim clips gradients through this keyword of torch's fused kernels."""
    from torch.optim.adam import adam
    from torch.optim.sgd import sgd

    def step(kind: str, scaled: bool) -> torch.Tensor:
        param = torch.tensor([1.0, -2.0, 3.0])
        grad = torch.tensor([0.4, -0.2, 0.8])
        scale = torch.tensor(4.0)
        if not scaled:
            grad = grad / scale
        extra = {"grad_scale": scale} if scaled else {}
        if kind == "sgd":
            sgd([param], [grad], [None], weight_decay=0.0, momentum=0.0, lr=0.1, dampening=0.0,
                nesterov=False, maximize=False, fused=True, **extra)  # fmt: skip
        else:
            exp_avg, exp_avg_sq = torch.zeros(3), torch.zeros(3)
            adam([param], [grad], [exp_avg], [exp_avg_sq], [], [torch.tensor(0.0)],
                 amsgrad=False, beta1=0.9, beta2=0.999, lr=0.1, weight_decay=0.0, eps=1e-8,
                 maximize=False, fused=True, **extra)  # fmt: skip
        return param

    for kind in ("sgd", "adam"):
        assert torch.equal(step(kind, scaled=True), step(kind, scaled=False))


def test_hydras_basic_launcher_is_known_by_its_name():
    """The search keeps batches with Hydra's in-process launcher and refills slots with any
    other (sweeper.sweeps.search.SearchSweeper._run): both decided by this name."""
    from sweeper.core.private_apis import BASIC_LAUNCHER, runs_jobs_in_process

    module, _, name = BASIC_LAUNCHER.rpartition(".")
    basic = getattr(importlib.import_module(module), name)
    assert runs_jobs_in_process(basic.__new__(basic))

    class Elsewhere:  # e.g. hydra_plugins' JoblibLauncher
        pass

    assert not runs_jobs_in_process(Elsewhere())


def test_a_studys_storage_is_the_one_its_trials_are_written_to(tmp_path):
    import optuna

    from sweeper.core.private_apis import study_storage

    url = f"sqlite:///{tmp_path / 'o.db'}"
    study = optuna.create_study(study_name="s", storage=url)
    trial = study.ask()
    storage = study_storage(study)
    assert isinstance(storage, optuna.storages.BaseStorage)
    storage.set_trial_user_attr(trial._trial_id, "k", "v")  # what stale_trials does
    fresh = optuna.load_study(study_name="s", storage=url)
    assert fresh.trials[0].user_attrs == {"k": "v"}


def test_a_trial_handle_from_another_process_reports_to_the_same_trial(tmp_path):
    import optuna

    from sweeper.core.private_apis import trial_handle

    url = f"sqlite:///{tmp_path / 'o.db'}"
    study = optuna.create_study(study_name="s", storage=url)
    asked = study.ask()
    other = optuna.load_study(study_name="s", storage=url)  # as a job's process loads it
    handle = trial_handle(other, asked.number)
    assert isinstance(handle, optuna.trial.Trial) and handle.number == asked.number
    handle.report(0.5, 3)
    again = optuna.load_study(study_name="s", storage=url)
    assert again.trials[0].intermediate_values == {3: 0.5}


def test_the_grid_is_still_hydras_basic_sweeper_after_hydras_plugin_scan():
    """In a fresh process: the grid imported, then Hydra scans its plugins (as
    `python -m sweeper ... -m` does). The scan re-makes BasicSweeper; the check by name
    that the test above uses still holds, and the re-made class has what the grid uses."""
    import subprocess
    import sys

    code = (
        "from sweeper.sweeps.grid import GridSweeper\n"
        "from hydra.core.plugins import Plugins\n"
        "from hydra.plugins.sweeper import Sweeper\n"
        "Plugins.instance().discover(Sweeper)\n"
        "import hydra._internal.core_plugins.basic_sweeper as b\n"
        "print(*[f'{c.__module__}.{c.__qualname__}' for c in GridSweeper.__mro__])\n"
        "print(*[m for m in ('split_arguments', '_parse_config', 'setup')"
        " if callable(getattr(b.BasicSweeper, m, None))])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    bases, methods = out.stdout.splitlines()
    assert BASIC_SWEEPER in bases.split()
    assert methods.split() == ["split_arguments", "_parse_config", "setup"]


def test_optunas_trials_query_still_falls_back_with_the_warning_the_storage_policy_reads():
    import inspect

    import optuna.storages._rdb.storage as rdb

    from sweeper.core.private_apis import OPTUNA_RDB_LOGGER, OPTUNA_TRIALS_FALLBACK

    assert rdb._logger.name == OPTUNA_RDB_LOGGER
    source = inspect.getsource(rdb.RDBStorage._get_trials)
    assert "except sqlalchemy_exc.OperationalError" in source
    assert f'f"{OPTUNA_TRIALS_FALLBACK}: ' in source
