"""A tracker that failed in a job (metrics.json's `logger_errors`) is listed in summary.md and
report.html, one line per job; collect says which files it wrote, report.html among them."""

from __future__ import annotations

import logging

from fake_folders import GOOD_RECORD, fake_job
from omegaconf import OmegaConf

import sweeper.collect as collect_module

LINE = "mlflow: tracking URI http://127.0.0.1:9: cannot reach it ([Errno 111] Connection refused)"


def sweep_with_a_logger_failure(tmp_path):
    sweep = tmp_path / "sweep"
    fake_job(sweep / "0", 0, ["model.hidden=3"])
    fake_job(sweep / "1", 1, ["model.hidden=5"], record=dict(GOOD_RECORD, logger_errors=[LINE]))
    return sweep


def test_logger_failures_are_listed_in_summary_and_report(tmp_path, capsys):
    sweep = sweep_with_a_logger_failure(tmp_path)
    assert collect_module.main([str(sweep)]) == 0
    summary = (sweep / "summary.md").read_text()
    assert f"## Logger failures\n\n- job 1 (model.hidden=5): {LINE}\n" in summary
    assert "job 0 (" not in summary.split("## Logger failures")[1]
    page = (sweep / "report.html").read_text()
    problems = page.split('id="problems-section"')[1]
    assert "Logger failures (1)" in problems
    assert "<code>job 1 (model.hidden=5)</code>" in problems and "[Errno 111]" in problems
    out = capsys.readouterr().out
    assert f"into {sweep}" in out and "report.html" in out.splitlines()[-1]


def test_without_logger_failures_there_is_no_section(tmp_path):
    sweep = tmp_path / "sweep"
    fake_job(sweep / "0", 0, ["model.hidden=3"])
    fake_job(sweep / "1", 1, ["model.hidden=5"])
    assert collect_module.main([str(sweep)]) == 0
    assert "Logger failures" not in (sweep / "summary.md").read_text()
    assert "Logger failures" not in (sweep / "report.html").read_text()


def test_the_end_of_sweep_message_names_report_html(tmp_path, caplog):
    sweep = sweep_with_a_logger_failure(tmp_path)
    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(sweep)}}})
    with caplog.at_level(logging.INFO):
        collect_module.CollectCallback().on_multirun_end(config)
    (message,) = [r.getMessage() for r in caplog.records if "collected" in r.getMessage()]
    first = message.splitlines()[0]
    assert first.startswith(f"collected {sweep}: wrote summary.md, results.csv")
    assert first.endswith("report.html")
