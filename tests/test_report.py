"""report.html: its content on hand-built and real sweep folders, escaping, and a headless browser.

Most folders here are written by hand (metrics.json, overrides, history.csv as
sweeper writes them) so each test takes well under a second; one test trains
two real tiny jobs. The browser test opens the page in headless Chromium
(Debian's `chromium`): skipped where it is not installed, failed in CI.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from fake_folders import killed_job, report_job
from PIL import Image
from tree_snapshot import tree

from conftest import browse, chromium, table_rows
from sweeper.collect import collect, main, pivot_objective
from sweeper.reports.report import REPORT, report_html
from sweeper.reports.report_tables import config_label, fmt, pivot_html
from sweeper.reports.results import load_sweep

PAYLOAD = "<script>document.body.setAttribute('data-pwned','1')</script>"
IMG_PAYLOAD = "<img src=x onerror=\"document.body.setAttribute('data-pwned','2')\">"


@pytest.fixture
def grid(tmp_path) -> Path:
    """A 2x2 grid (hidden 3/5, loss mse/ce), one job failed, one folder killed."""
    sweep = tmp_path / "multirun" / "grid"
    values = {("3", "mse"): 0.81, ("3", "ce"): 0.84, ("5", "mse"): 0.97}
    for num, ((hidden, loss), objective) in enumerate(values.items()):
        report_job(sweep, str(num), [f"model.hidden={hidden}", f"loss={loss}"], objective)
    report_job(
        sweep, "3", ["model.hidden=5", "loss=ce"], None, status="failed", reason="diverged: nan"
    )
    killed_job(sweep / "4", ["model.hidden=10", "loss=mse"])
    return sweep


def scripts(page: str) -> list[str]:
    """The opening tags of every script element of the page."""
    return re.findall(r"<script[^>]*>", page)


def test_grid_report_content(grid):
    collect(grid)
    page = (grid / REPORT).read_text(encoding="utf-8")
    assert "<title>sweeper report: multirun/grid</title>" in page
    # The pivot: rows hidden 3 / 5, columns loss=mse / loss=ce; the failed job is missing.
    pivot = re.search(r'<table class="pivot">(.*?)</table>', page, re.S).group(1)
    assert "loss=mse" in pivot and "loss=ce" in pivot
    assert "0.8100" in pivot and "0.8400" in pivot and "0.9700" in pivot and "–" in pivot
    rows = table_rows(page, "results")
    assert [r[:4] for r in rows] == [
        ["0", "3", "mse", "ok"],
        ["1", "3", "ce", "ok"],
        ["2", "5", "mse", "ok"],
        ["3", "5", "ce", "failed"],
    ]
    assert "Best: job <code>2</code> (model.hidden=5, loss=mse)" in page
    assert '<tr class="is-best"><td class="text" data-sort="2"><a href="2/">2</a>' in page
    # Constant columns are listed once, not repeated in every row.
    assert "Same in every job:" in page and "<code>model.cell=lstm</code>" in page
    # Failed job and skipped folder with their reasons.
    assert "job 3 (model.hidden=5, loss=ce)" in page and "failed: diverged: nan" in page
    assert "Skipped folders (1)" in page and "no metrics.json" in page
    # Figures: the collected PNGs inlined, plotly figures, and nothing loads from elsewhere.
    for name in ("curves.png", "bit_accuracy_vs_length.png"):
        assert f'alt="{name}"' in page
    assert page.count('<img src="data:image/png;base64,') == 2
    assert 'id="plot-objective"' in page and 'id="plot-curves"' in page
    assert all("src=" not in tag for tag in scripts(page))
    assert "<link" not in page and "<iframe" not in page


def test_search_report_shows_trials_and_best(fake_search):
    collect(fake_search)
    page = (fake_search / REPORT).read_text(encoding="utf-8")
    rows = table_rows(page, "trials")
    assert [r[:4] for r in rows] == [
        ["0", "COMPLETE", "0.9100", "0.00443038"],
        ["1", "COMPLETE", "0.9500", "0.013982"],
        ["2", "FAIL", "–", "0.00186622"],
    ]
    assert [r[-1] for r in rows] == ["0", "1", "2"]  # job folders, relative to the sweep
    assert "Trials (3: 2 complete, 1 fail)" in page
    assert "Best trial 1: <b>0.9500</b> with <code>optim.lr=0.013982</code>" in page
    assert 'id="plot-history"' in page
    # A swept learning rate reads as the pivot does, not with 18 digits.
    assert "0.004430375245218269" not in page.split("<h1>")[1].split('id="plot-')[0]


def test_unusable_search_files_and_pngs_are_listed(fake_search):
    (fake_search / "trials.csv").write_text("no,columns\n1,2\n")
    (fake_search / "best_trial.yaml").write_text("- just\n- a list\n")
    (fake_search / "notes.png").write_text("not an image")
    (fake_search / "folder.png").mkdir()
    collect(fake_search)
    page = (fake_search / REPORT).read_text(encoding="utf-8")
    assert "trials.csv: no column number" in page
    assert "best_trial.yaml: not a mapping" in page
    assert "notes.png: not a PNG image" in page and "folder.png: not a regular file" in page
    assert 'id="plot-history"' not in page and 'id="trials"' not in page


@pytest.mark.parametrize(
    "name, content, why",
    [
        ("trials.csv", b"\x00\xff\xfe garbage", "trials.csv: not a readable CSV"),
        ("trials.csv", b"", "trials.csv: empty"),
        ("trials.csv", None, "trials.csv: not a regular file"),
        ("trials.csv", b"number,value,state\nfirst,1,COMPLETE\n", "column number holds 'first'"),
        ("best_trial.yaml", b"best: [unclosed\n", "best_trial.yaml: while parsing"),
        ("best_trial.yaml", b"\xff\xfe", "best_trial.yaml:"),
        ("best_trial.yaml", None, "best_trial.yaml: not a regular file"),
    ],
)
def test_each_unusable_search_file_is_named(fake_search, name, content, why):
    (fake_search / name).unlink()
    if content is None:
        (fake_search / name).mkdir()
    else:
        (fake_search / name).write_bytes(content)
    assert main([str(fake_search)]) == 0  # the rest of the sweep is collected as usual
    page = (fake_search / REPORT).read_text(encoding="utf-8")
    problems = page.split('id="problems-section"')[1]
    assert html.escape(why, quote=True) in problems
    assert len(table_rows(page, "results")) == 3


@pytest.mark.parametrize("where", ["reason", "override", "skipped", "folder"])
def test_text_from_job_folders_is_escaped(tmp_path, where):
    sweep = tmp_path / "sweep"
    report_job(sweep, "0", ["loss=mse"], 0.9)
    value = PAYLOAD if where == "override" else "ce"
    reason = PAYLOAD + IMG_PAYLOAD if where == "reason" else "diverged"
    name = "<b>1</b>" if where == "folder" else "1"
    report_job(sweep, name, [f"loss={value}"], None, status="failed", reason=reason)
    if where == "skipped":
        killed_job(sweep / "2", ["loss=mse"])
        (sweep / "2" / "metrics.json").write_text(
            json.dumps({"status": "running", "reason": PAYLOAD + IMG_PAYLOAD})
        )
    collect(sweep)
    page = (sweep / REPORT).read_text(encoding="utf-8")
    assert "data-pwned" not in page.replace("data-pwned&#x27;", "")  # only escaped copies
    assert "<img src=x" not in page and "<b>1</b>" not in page
    # Ours only: the error hook, plotly.js, one per figure, the table script.
    assert len(scripts(page)) == 3 + page.count('<div id="plot-')
    shown = "&lt;b&gt;1&lt;/b&gt;" if where == "folder" else "&lt;script&gt;document.body"
    assert shown in page  # shown as text


def test_a_sweep_without_finished_jobs_is_refused_and_nothing_written(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    killed_job(sweep / "0", ["loss=mse"])
    before = tree(sweep)
    assert main([str(sweep)]) == 1
    assert tree(sweep) == before  # no summary.md, no report.html: left as it was
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert "no finished job folders to collect (1 skipped, see above); nothing written" in (
        captured.err
    )
    assert "skipped 0: no metrics.json" in captured.out
    page = report_html(load_sweep(sweep), None)  # the page says so, should one be made
    assert "No finished jobs" in page and "Skipped folders (1)" in page
    assert "<script type" not in page  # no figure: plotly.js left out (a 25 KB page)
    assert len(page) < 100_000


def test_report_is_rewritten_identically_and_never_half_written(grid, monkeypatch):
    collect(grid)
    first = (grid / REPORT).read_bytes()
    collect(grid)
    assert (grid / REPORT).read_bytes() == first
    (grid / REPORT).unlink()
    (grid / REPORT).mkdir()  # in the way: found before anything is written
    (grid / "summary.md").unlink()
    with pytest.raises(IsADirectoryError, match=REPORT):
        collect(grid)
    assert not (grid / "summary.md").exists()


def test_formatting():
    assert fmt(0.004430375245218269, key=True) == "0.00443038"
    assert fmt(0.97) == "0.9700" and fmt(3.0, integral=True) == "3" and fmt(3) == "3"
    assert fmt(float("nan")) == "–" and fmt(None) == "–" and fmt(np.bool_(False)) == "false"
    assert fmt(1.5e-5) == "1.5e-05" and fmt(float("-inf")) == "-inf"
    row = pd.Series({"job": "0", "optim.lr": 0.004430375245218269})
    assert config_label(row, ["optim.lr"]) == "optim.lr=0.00443038"
    assert config_label(row, []) == "job 0"


def test_pivot_with_text_cells_is_shown_as_given(grid):
    """The statistics pivot (issue 14) may hold `mean ± CI` strings: shown, escaped, unchanged."""
    sweep = load_sweep(grid)
    pivot = pivot_objective(sweep).map(
        lambda v: "–" if v in ("–", None) else f"{float(v):.2f} ± 0.01"
    )
    page = report_html(sweep, pivot)
    assert "0.97 ± 0.01" in page


def test_pivot_of_one_key_and_of_none():
    one = pd.DataFrame({"objective": [0.5, 0.25]}, index=pd.Index([0.001, 0.01], name="optim.lr"))
    cells = re.findall(r"<t[hd](?: [^>]*)?>(.*?)</t[hd]>", pivot_html(one))
    assert cells == ["optim.lr", "objective", "0.001", "0.5000", "0.01", "0.2500"]
    none = pd.DataFrame({"objective": [0.5]}, index=pd.Index(["<i>0</i>"]))  # no index name
    assert re.findall(r"<t[hd](?: [^>]*)?>(.*?)</t[hd]>", pivot_html(none)) == [
        "",
        "objective",
        "&lt;i&gt;0&lt;/i&gt;",
        "0.5000",
    ]


def test_no_template_placeholder_is_left_in_a_written_report(grid, fake_search, tmp_path):
    """Every `${name}` of report.html's templates is filled, in the collect and the study
    pages; a template given too few values raises instead of writing the placeholder."""
    from types import SimpleNamespace

    from sweeper.reports.report_templates import fill
    from sweeper.reports.study_report import study_report_html

    empty = tmp_path / "empty"
    killed_job(empty / "0", ["loss=mse"])
    assert main([str(empty)]) == 1  # refused, nothing written: its page is made in memory
    collect(grid)
    collect(fake_search)
    pages = [report_html(load_sweep(empty), None)]
    pages += [(folder / REPORT).read_text(encoding="utf-8") for folder in (grid, fake_search)]
    objective = SimpleNamespace(metrics=("test_accuracy",), directions=("maximize",))
    pages.append(study_report_html("adder-lr", fake_search, objective))
    assert "${" not in pages[0]  # no figure, no plotly.js: the whole page, our scripts too
    for page in pages:
        assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")
        # plotly.js has JavaScript's own `${...}`: the page's markup outside scripts has none
        markup = re.sub(r"(<script[^>]*>).*?(</script>)", r"\1\2", page, flags=re.S)
        assert "${" not in markup
    with pytest.raises(KeyError, match="body"):
        fill("section.html", anchor="results", title="Results")


def test_report_templates_are_package_data_found_through_importlib_resources():
    """The templates are read through importlib.resources (as an installed sweeper reads
    them) and pyproject.toml ships every one of them with the package."""
    import fnmatch
    from importlib.resources import files

    from sweeper.reports import report_templates

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    folder = files("sweeper.reports") / report_templates.FOLDER
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".html"))
    assert {"page.html", "section.html", "header.html", "figure.html"} <= set(names)
    for name in names:
        text = (folder / name).read_text(encoding="utf-8")
        assert report_templates.template(name).template == text and "${" in text
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    shipped = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]["package-data"]
    for name in names:
        path = f"reports/templates/{name}"
        assert any(fnmatch.fnmatch(path, glob) for glob in shipped["sweeper"]), path


def test_real_jobs_report(make_cfg, tmp_path):
    """Two real tiny adder runs: the report reads what train() wrote."""
    from sweeper.run.job import train

    sweep = tmp_path / "sweep"
    for num, loss in enumerate(("mse", "ce")):
        job = sweep / str(num)
        tiny = ["trainer.epochs=1", "task.train_size=256", "task.val_size=40", "task.max_length=6"]
        tiny += ["task.test_per_length=5", "task.extrapolation_lengths=[8]"]
        train(make_cfg(f"loss={loss}", *tiny, out=job))
        (job / ".hydra").mkdir(parents=True, exist_ok=True)
        (job / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump([f"loss={loss}"]))
    collect(sweep)
    page = (sweep / REPORT).read_text(encoding="utf-8")
    results = pd.read_csv(sweep / "results.csv")
    rows = table_rows(page, "results")
    assert [r[:3] for r in rows] == [["0", "mse", "ok"], ["1", "ce", "ok"]]
    assert [r[3] for r in rows] == [f"{v:.4f}" for v in results["objective"]]
    assert page.count('<img src="data:image/png;base64,') == 2


# --- the page in a real browser -------------------------------------------------------


@pytest.mark.slow
def test_report_renders_in_headless_chromium(grid, fake_search, tmp_path):
    browser = chromium()
    # A reason with a script in it, and a search: the page must show both without running it.
    report_job(grid, "5", ["model.hidden=10", "loss=ce"], None, status="failed", reason=PAYLOAD)
    for folder in (grid, fake_search):
        collect(folder)
    dom = browse(
        browser,
        grid / REPORT,
        tmp_path / "profile",
        "--dump-dom",
        fragment="#sort=objective&order=desc&filter=ok",
    )
    body = re.search(r"<body[^>]*>", dom).group(0)
    assert 'data-rendered="1"' in body, "the page's script did not run to its end"
    assert "data-pwned" not in body
    assert 'data-plots="2"' in body  # both plotly figures drew their SVG
    assert re.search(r'<pre id="js-errors"></pre>', dom), re.search(r"js-errors.{0,500}", dom)
    assert "<title>sweeper report: multirun/grid</title>" in dom
    table = re.search(r'<table class="sortable" id="results"[^>]*>', dom).group(0)
    assert 'data-visible-rows="3"' in table  # the filter left the three ok jobs
    assert 'data-sort-column="objective"' in table and 'data-sort-order="desc"' in table
    order = re.findall(r'<tr( class="[^"]*")?( hidden="")?><td class="text" data-sort="(\w+)"', dom)
    visible = [job for _, hidden, job in order if not hidden]
    assert visible[:3] == ["2", "1", "0"]  # objective 0.97, 0.84, 0.81
    assert "3 of 5 rows" in dom
    search_dom = browse(browser, fake_search / REPORT, tmp_path / "profile", "--dump-dom")
    assert 'data-rendered="1"' in search_dom and 'data-plots="3"' in search_dom
    assert re.search(r'<pre id="js-errors"></pre>', search_dom)
    shot = tmp_path / "report.png"
    browse(
        browser,
        grid / REPORT,
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1300,2400",
        "--hide-scrollbars",
    )
    image = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert image.shape == (2400, 1300)
    assert image.std() > 20  # not a blank page: text, tables and figures drawn
