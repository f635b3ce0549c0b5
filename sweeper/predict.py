"""Predict with a finished run: `python -m sweeper.predict RUN_DIR INPUTS...`.

- mnist:  image files or folders of them (any size, colour or grey, dark ink on
          light paper or the reverse), made MNIST-like by `sweeper.preprocess`;
          prints file, digit and confidence, and saves the preprocessed inputs
          with their predictions as a figure (`--figure`, default RUN_DIR/predict.png);
- memory: a digit sequence, e.g. `3 1 4 1 5`, -> the digit at the trained position;
- adder:  two non-negative integers -> their predicted sum in binary and decimal,
          and whether it is right.

Each input that cannot be used gets its own error line; the others are still
predicted, and the exit code is 1 if any failed (2 if the run itself cannot
be loaded). The checkpoint is read with `torch.load(weights_only=True)`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sweeper.models import SequenceModel

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


class RunError(Exception):
    """The run folder cannot be used for predictions."""


def load_run(run_dir: str | Path) -> tuple[SequenceModel, dict[str, Any]]:
    """The trained model (eval mode, CPU) and the resolved config of a finished run."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: no such run folder")
    checkpoint = run_dir / "model.pt"
    if not checkpoint.is_file():
        raise RunError(f"{run_dir}: no model.pt (not a finished sweeper run)")
    try:
        saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
        model = SequenceModel(**saved["model_kwargs"])
        model.load_state_dict(saved["state_dict"])
    except Exception as error:  # unpickling refused, missing keys, wrong shapes
        raise RunError(f"{checkpoint}: cannot load ({type(error).__name__}: {error})") from None
    return model.eval(), saved["config"]


def _failure(name: str, why: str) -> bool:
    print(f"{name}: error: {why}")
    return False


# ------------------------------------------------------------------ mnist


def image_files(inputs: list[str]) -> list[Path]:
    """Each input as given; a folder stands for the image files in it, sorted."""
    files: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            files += sorted(p for p in item.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            files.append(item)
    return files


def predict_images(model: SequenceModel, inputs: list[str], figure: Path) -> bool:
    from sweeper.preprocess import load_digit

    ok, names, digits = True, [], []
    for path in image_files(inputs):
        try:
            digits.append(load_digit(path))
            names.append(str(path))
        except (OSError, ValueError) as error:
            ok = _failure(
                str(path),
                str(error)
                if isinstance(error, ValueError)
                else f"cannot read ({error.strerror or error})",
            )
    if not digits:
        return _failure("inputs", "no image to predict") if ok else False
    batch = torch.from_numpy(np.stack(digits))  # (n, 28, 28)
    with torch.no_grad():
        probabilities = torch.softmax(model(batch), dim=-1)
    confidence, predicted = probabilities.max(dim=-1)
    for name, digit, conf in zip(names, predicted.tolist(), confidence.tolist()):
        print(f"{name}: {digit} (confidence {conf:.3f})")
    from sweeper.plots import plot_digit_grid

    titles = [
        f"{Path(n).name}\n→ {d} ({c:.0%})"
        for n, d, c in zip(names, predicted.tolist(), confidence.tolist())
    ]
    plot_digit_grid(
        batch.numpy(),
        titles,
        [False] * len(titles),
        figure,
        "inputs as the model sees them (MNIST-like 28x28)",
    )
    print(f"figure: {figure}")
    return ok


# ------------------------------------------------------------------ memory


def predict_memory(model: SequenceModel, config: dict, inputs: list[str]) -> bool:
    task = config["task"]
    position, shortest, longest = task["position"], task["min_length"], task["max_length"]
    tokens = " ".join(inputs).split()
    sequence = " ".join(tokens)
    if not tokens or not all(t.isdigit() and len(t) == 1 for t in tokens):
        return _failure(
            sequence or "sequence", "give digits 0-9 separated by spaces, e.g. 3 1 4 1 5"
        )
    if len(tokens) <= position:
        return _failure(sequence, f"needs more than {position} digits to recall index {position}")
    digits = torch.tensor([int(t) for t in tokens])
    x = torch.nn.functional.one_hot(digits, 10).float()[None]  # (1, length, 10)
    with torch.no_grad():
        probabilities = torch.softmax(model(x), dim=-1)[0]
    answer = int(probabilities.argmax())
    truth = int(digits[position])
    note = (
        ""
        if shortest <= len(tokens) <= longest
        else (
            f" (length {len(tokens)} is outside the trained {shortest}-{longest}: less trustworthy)"
        )
    )
    verdict = "right" if answer == truth else f"wrong, it is {truth}"
    print(
        f"{sequence}: digit at index {position} -> {answer} "
        f"(confidence {probabilities[answer]:.3f}, {verdict}){note}"
    )
    return True


# ------------------------------------------------------------------ adder


def predict_sum(model: SequenceModel, config: dict, inputs: list[str]) -> bool:
    if len(inputs) != 2:
        return _failure(" ".join(inputs) or "inputs", "give exactly two non-negative integers")
    numbers = []
    for text in inputs:
        if not text.isdigit():
            return _failure(text, "not a non-negative integer")
        numbers.append(int(text))
    a, b = numbers
    # One more bit than the longer operand, so the sum fits (as in training).
    length = max(a.bit_length(), b.bit_length(), 1) + 1
    bits = [[(a >> i) & 1, (b >> i) & 1] for i in range(length)]  # LSB first
    with torch.no_grad():
        logits = model(torch.tensor([bits], dtype=torch.float32))[0, :, 0]
    predicted = sum(int(bit) << i for i, bit in enumerate((logits > 0).tolist()))
    longest = config["task"]["max_length"]
    note = (
        ""
        if length <= longest
        else (f" ({length} bits is beyond the trained {longest}: less trustworthy)")
    )
    verdict = "right" if predicted == a + b else f"wrong, it is {a + b}"
    print(f"{a} + {b} = {predicted} (binary {predicted:b}, {verdict}){note}")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sweeper predict", description=__doc__.split("\n")[0])
    parser.add_argument("run_dir", type=Path, help="a finished run's folder (with model.pt)")
    parser.add_argument("inputs", nargs="+", help="images/folders, digits, or two integers")
    parser.add_argument("--figure", type=Path, help="mnist: where to save the inputs figure")
    args = parser.parse_args(argv)
    try:
        model, config = load_run(args.run_dir)
    except RunError as error:
        print(f"sweeper predict: error: {error}", file=sys.stderr)
        return 2
    task = config.get("task", {}).get("name")
    if task == "mnist":
        ok = predict_images(model, args.inputs, args.figure or args.run_dir / "predict.png")
    elif task == "memory":
        ok = predict_memory(model, config, args.inputs)
    elif task == "adder":
        ok = predict_sum(model, config, args.inputs)
    else:
        print(f"sweeper predict: error: {args.run_dir}: unknown task {task!r}", file=sys.stderr)
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
