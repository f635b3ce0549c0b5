"""optuna-dashboard, from sweeper's own environment, opens a sweeper study: a search's
`optuna.db` (study name, direction, the `objective_metrics` study attr, trials with an
`optim.lr` log-float param, per-epoch reports and the search's user attrs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import closed_port, console_script, get_json, loopback_get, serving

pytest.importorskip("optuna_dashboard")

# (validation accuracy per epoch, the trial's status): the last one is an interrupted
# trial, told FAIL as the search tells it.
TRIALS = [
    ([0.61, 0.74], "ok"),
    ([0.55, 0.93], "ok"),
    ([0.40, 0.52], "ok"),
    ([0.58], "interrupted"),
]


def make_study(folder: Path) -> tuple[str, list[dict]]:
    """A study as `hparams_search=lr` leaves it; its storage URL and what each trial was."""
    import optuna
    from optuna.distributions import FloatDistribution
    from optuna.trial import TrialState

    url = f"sqlite:///{folder / 'optuna.db'}"
    study = optuna.create_study(
        storage=url,
        study_name="adder-lr",
        direction="maximize",
        sampler=optuna.samplers.RandomSampler(seed=0),
    )
    study.set_user_attr("objective_metrics", ["val_accuracy"])
    space = {"optim.lr": FloatDistribution(1e-4, 0.1, log=True)}
    told = []
    for number, (values, status) in enumerate(TRIALS):
        trial = study.ask(space)
        job_dir = folder / str(number)
        trial.set_user_attr("job_number", number)
        trial.set_user_attr("sweep_dir", str(folder))
        for epoch, value in enumerate(values, start=1):
            trial.report(value, epoch)
        trial.set_user_attr("job_dir", str(job_dir))
        trial.set_user_attr("status", status)
        if status == "ok":
            study.tell(trial, values[-1])
        else:
            trial.set_user_attr("reason", "interrupted: the search was stopped")
            study.tell(trial, state=TrialState.FAIL)
        told.append({"lr": trial.params["optim.lr"], "values": values, "status": status})
    return url, told


@pytest.mark.slow  # 3.5-6 s: the server starting and stopping
def test_dashboard_serves_a_sweeper_study(tmp_path):
    url, told = make_study(tmp_path)
    port = closed_port()
    base = f"http://127.0.0.1:{port}"
    command = [console_script("optuna-dashboard"), url, "--host", "127.0.0.1", "--port", str(port)]
    with serving(command, f"{base}/api/meta", tmp_path / "dashboard.log", cwd=tmp_path):
        studies = get_json(f"{base}/api/studies")["study_summaries"]
        assert [(s["study_name"], s["directions"]) for s in studies] == [("adder-lr", ["maximize"])]
        detail = get_json(f"{base}/api/studies/{studies[0]['study_id']}")
        page = loopback_get(f"{base}/dashboard/studies/{studies[0]['study_id']}")

    assert detail["name"] == "adder-lr"
    assert detail["directions"] == ["maximize"]
    assert {"key": "objective_metrics", "value": '["val_accuracy"]'} in detail["user_attrs"]
    trials = detail["trials"]
    assert [t["number"] for t in trials] == [0, 1, 2, 3]
    assert [t["state"] for t in trials] == ["Complete", "Complete", "Complete", "Fail"]
    for trial, expected in zip(trials, told):
        ok = expected["status"] == "ok"
        assert trial.get("values") == (expected["values"][-1:] if ok else None)
        [param] = trial["params"]
        assert param["name"] == "optim.lr"
        assert float(param["param_external_value"]) == pytest.approx(expected["lr"])
        assert param["distribution"] == {
            "type": "FloatDistribution",
            "low": 1e-4,
            "high": 0.1,
            "step": None,
            "log": True,
        }
        assert [v["value"] for v in trial["intermediate_values"]] == expected["values"]
        attrs = {a["key"]: a["value"] for a in trial["user_attrs"]}
        assert attrs["status"] == expected["status"]
        assert attrs["job_dir"] == str(tmp_path / str(trial["number"]))
    assert [t["number"] for t in detail["best_trials"]] == [1]  # 0.93, the best
    assert detail["has_intermediate_values"] is True
    assert [p["name"] for p in detail["intersection_search_space"]] == ["optim.lr"]
    assert b"<html" in page.lower()  # the single-page app that draws these
