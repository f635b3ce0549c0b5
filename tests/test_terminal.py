"""What a search says about its study: plain lines (no colour escapes), created vs resumed."""

from __future__ import annotations

import logging

import pytest

from conftest import SMALL_RUN

optuna = pytest.importorskip("optuna")


@pytest.fixture
def plain_optuna():
    from sweeper.sweeps.optuna_setup import plain_optuna_logging

    verbosity = optuna.logging.get_verbosity()  # another test may have set WARNING
    optuna.logging.set_verbosity(optuna.logging.INFO)
    plain_optuna_logging()
    yield
    optuna.logging.disable_propagation()
    optuna.logging.enable_default_handler()
    optuna.logging.set_verbosity(verbosity)


def test_create_or_load_tells_a_new_study_from_an_existing_one(tmp_path, caplog, plain_optuna):
    from sweeper.sweeps.optuna_setup import create_or_load

    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'o.db'}")
    with caplog.at_level(logging.INFO):
        study, created = create_or_load("s", storage, None, ["maximize"])
        again, created_again = create_or_load("s", storage, None, ["minimize"])
    assert (created, created_again) == (True, False)
    assert again.direction.name == "MAXIMIZE"  # the stored direction, for the caller to check
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("A new study created") for m in messages)
    assert not any("Using an existing study" in m for m in messages)


def test_optuna_records_are_plain_and_reach_the_root_logger(capfd, caplog, plain_optuna):
    with caplog.at_level(logging.INFO):
        optuna.create_study(study_name="plain")
    err = capfd.readouterr().err
    assert "\x1b[" not in err  # Optuna's own handler would have written colour here
    assert any("A new study created in memory" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_search_says_new_then_resumed_without_colour_escapes(tmp_path):
    from test_cli import sweeper

    sweep_dir = tmp_path / "search"
    args = [
        "task=adder",
        "hparams_search=lr",
        "hydra.sweeper.n_trials=1",
        *SMALL_RUN,
        "trainer.epochs=1",
        f"hydra.sweep.dir={sweep_dir}",
        "-m",
    ]
    first = sweeper(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    said = first.stdout + first.stderr
    assert "new study adder-lr in" in said and "0 trials before this run" in said
    assert "Using an existing study" not in said and "\x1b[" not in said
    second = sweeper(*args, cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-2000:]
    said = second.stdout + second.stderr
    assert "resumed study adder-lr in" in said and "1 trials before this run" in said
    assert "A new study created" not in said and "\x1b[" not in said
