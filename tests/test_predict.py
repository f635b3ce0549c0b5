"""`python -m sweeper.predict RUN_DIR INPUTS...` for each task, and each bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from fake_folders import draw_seven
from PIL import Image

from conftest import ROOT
from sweeper.predict import load_run, main
from sweeper.run.job import train
from sweeper.tasks.mnist import load_images


@pytest.fixture
def run_of(make_cfg, tmp_path):
    def run(*overrides: str) -> Path:
        cfg = make_cfg(*overrides, out=tmp_path / "run")
        train(cfg)
        return tmp_path / "run"

    return run


def test_adder_predicts_a_sum(run_of, capsys):
    run = run_of("task=adder", "model.hidden=10")
    assert main([str(run), "5", "3"]) == 0
    line = capsys.readouterr().out.strip()
    match = re.fullmatch(r"5 \+ 3 = (\d+) \(binary ([01]+), (right|wrong, it is 8)\)", line)
    assert match and int(match[2], 2) == int(match[1])
    assert (match[3] == "right") == (int(match[1]) == 8)


def test_adder_warns_beyond_trained_lengths_and_refuses_bad_operands(run_of, capsys):
    run = run_of("task=adder")
    assert main([str(run), str(2**30), "7"]) == 0
    assert "32 bits is beyond the trained 20: less trustworthy" in capsys.readouterr().out
    assert main([str(run), "-4", "3"]) == 1
    assert "-4: error: not a non-negative integer" in capsys.readouterr().out
    assert main([str(run), "12"]) == 1
    assert "give exactly two non-negative integers" in capsys.readouterr().out


def test_memory_recalls_the_digit_at_the_position(run_of, capsys):
    run = run_of("task=memory", "model.hidden=10")
    assert main([str(run), "3", "1", "4", "1", "5"]) == 0
    out = capsys.readouterr().out
    assert re.match(
        r"3 1 4 1 5: digit at index 2 -> \d \(confidence 0\.\d+, (right|wrong, it is 4)\)", out
    )
    assert main([str(run), "3 1 4 1 5 9 2 6 5 3 5 8 9 7"]) == 0  # one quoted argument, 14 long
    assert "outside the trained 3-11" in capsys.readouterr().out
    assert main([str(run), "3", "x", "4"]) == 1
    assert "error: give digits 0-9" in capsys.readouterr().out
    assert main([str(run), "3", "1"]) == 1
    assert "needs more than 2 digits" in capsys.readouterr().out


def test_mnist_predicts_images_and_reports_bad_ones(run_of, mnist_root, tmp_path, capsys):
    run = run_of("task=mnist", f"task.data_root={mnist_root}")
    assert (run / "predictions.png").read_bytes()[:4] == b"\x89PNG"
    photos = tmp_path / "photos"
    photos.mkdir()
    draw_seven().save(photos / "seven.jpg")
    draw_seven(ink=240, paper=15, noise=8.0).convert("RGB").save(photos / "seven_dark.png")
    Image.new("L", (60, 60), 230).save(photos / "blank.png")
    (photos / "notes.png").write_text("not an image")
    figure = tmp_path / "inputs.png"
    code = main([str(run), str(photos), str(tmp_path / "missing.jpg"), "--figure", str(figure)])
    out = capsys.readouterr().out
    assert code == 1
    assert re.search(r"seven\.jpg: \d \(confidence [01]\.\d{3}\)", out)
    assert re.search(r"seven_dark\.png: \d \(confidence [01]\.\d{3}\)", out)
    assert "blank.png: error: no digit found" in out
    assert "notes.png: error: not an image file" in out
    assert "missing.jpg: error: cannot read" in out
    assert figure.read_bytes()[:4] == b"\x89PNG"


def test_mnist_run_reloads_with_its_input_standardisation(run_of, mnist_root):
    run = run_of("task=mnist", f"task.data_root={mnist_root}")
    model, config = load_run(run)
    assert config["task"]["normalize"] is True
    assert 0.0 < model.input_mean < 0.5 and model.input_std > 0.1  # the fake digits' statistics
    # the reloaded model scores the test digits as well as the run said it did
    images, labels = load_images(mnist_root, "mnist", train=False, download=False)
    with torch.no_grad():
        accuracy = float((model(images).argmax(-1) == labels).float().mean())
    recorded = json.loads((run / "metrics.json").read_text())["metrics"]["test_accuracy"]
    assert accuracy == pytest.approx(recorded, abs=1e-6)


def test_run_folders_that_cannot_be_used(tmp_path, capsys):
    assert main([str(tmp_path / "nope"), "1", "2"]) == 2
    assert "no such run folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "empty"), "1", "2"]) == 2
    assert "no model.pt" in capsys.readouterr().err
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "model.pt").write_bytes(b"garbage")
    assert main([str(tmp_path / "broken"), "1", "2"]) == 2
    assert "cannot load" in capsys.readouterr().err


def test_images_given_to_an_adder_run_fail_per_input(run_of, capsys):
    run = run_of("task=adder")
    assert main([str(run), "photo.jpg", "3"]) == 1
    assert "photo.jpg: error: not a non-negative integer" in capsys.readouterr().out


def test_command_line_module_and_console_script(run_of):
    run = run_of("task=adder")
    for command in (
        [sys.executable, "-m", "sweeper.predict"],
        [sys.executable, "-m", "sweeper", "predict"],
    ):
        result = subprocess.run(
            [*command, str(run), "6", "9"], capture_output=True, text=True, cwd=ROOT, timeout=120
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("6 + 9 = ")


def make_legacy(run: Path) -> None:
    """Rewrite a run's model.pt and config as sweeper wrote them before tasks and models
    were plugins: no model_target in model.pt, no task._target_ in its config."""
    saved = torch.load(run / "model.pt", weights_only=True)
    assert saved.pop("model_target") == "sweeper.models.SequenceModel"
    del saved["config"]["task"]["_target_"]
    torch.save(saved, run / "model.pt")


def test_a_run_made_before_plugins_still_predicts(run_of, capsys):
    run = run_of("task=adder", "model.hidden=10")
    assert main([str(run), "5", "3"]) == 0
    expected = capsys.readouterr().out
    make_legacy(run)
    assert main([str(run), "5", "3"]) == 0
    assert capsys.readouterr().out == expected
