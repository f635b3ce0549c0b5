"""The assignment's training loops, written plainly from docs/design.md: the baseline.

Nothing here uses sweeper. Each function trains one configuration the way the
assignment did (sequences generated one at a time in Python, batch size 1, a
per-sample validation pass each epoch; MNIST through a DataLoader with
`ToTensor`) and returns (wall seconds, accuracies). `bench/benchmark.py` times
these against sweeper's own commands.
"""

from __future__ import annotations

import random
import time
from typing import Any

import numpy as np
import torch
from torch import nn


class RecurrentNet(nn.Module):
    """The assignment's models: an LSTM (or RNN) and a linear readout.

    Deliberately not sweeper.models.SequenceModel: the baseline must stay the
    assignment's code when sweeper's model changes (input standardisation, readouts)."""

    def __init__(
        self,
        cell: str,
        inputs: int,
        hidden: int,
        outputs: int,
        readout: str,
        steps: int = 0,
        bidirectional: bool = False,
    ) -> None:
        super().__init__()
        rnn = {"lstm": nn.LSTM, "rnn": nn.RNN}[cell]
        self.rnn = rnn(inputs, hidden, batch_first=True, bidirectional=bidirectional)
        width = hidden * (2 if bidirectional else 1)
        self.readout = readout
        self.fc = nn.Linear(width * steps if readout == "flatten" else width, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        if self.readout == "each":
            return self.fc(out)
        if self.readout == "flatten":
            return self.fc(out.reshape(out.shape[0], -1))
        return self.fc(out[:, -1])


def seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train_one_at_a_time(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    criterion: Any,
    train: list,
    epochs: int,
    val: list | None = None,
) -> None:
    """The assignment's loop: shuffle, then one sequence per step (batch size 1); with
    `val`, a validation pass after each epoch, also one sequence at a time."""
    for _ in range(epochs):
        model.train()
        random.shuffle(train)
        for x, y in train:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
        model.eval()
        if val:
            with torch.no_grad():
                sum(criterion(model(x), y).item() for x, y in val) / len(val)


# ---------------------------------------------------------------- adder


def adder_sample(length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One sequence, bit by bit in Python as the assignment built it."""
    high = 2 ** (length - 1)
    a, b = random.randrange(high), random.randrange(high)
    total = a + b
    x = [[(a >> i) & 1, (b >> i) & 1] for i in range(length)]
    y = [[(total >> i) & 1] for i in range(length)]
    return torch.tensor([x], dtype=torch.float32), torch.tensor([y], dtype=torch.float32)


def adder(
    hidden: int,
    loss_name: str,
    seed: int = 0,
    epochs: int = 10,
    train_size: int = 500,
    val_size: int = 100,
    test_per_length: int = 100,
    lr: float = 1e-3,
) -> dict:
    seed_all(seed)
    train = [adder_sample(random.randint(1, 20)) for _ in range(train_size)]
    val = [adder_sample(random.randint(1, 20)) for _ in range(val_size)]
    test = {n: [adder_sample(n) for _ in range(test_per_length)] for n in range(1, 21)}
    model = RecurrentNet("lstm", 2, hidden, 1, "each")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    # `ce` here is binary cross-entropy on the logit (see design.md), `mse` on the sigmoid.
    bce, mse = nn.BCEWithLogitsLoss(), nn.MSELoss()
    criterion = (
        (lambda out, y: bce(out, y))
        if loss_name == "ce"
        else (lambda out, y: mse(torch.sigmoid(out), y))
    )
    started = time.perf_counter()
    train_one_at_a_time(model, optimizer, criterion, train, epochs, val)
    bit_acc, exact = [], []
    with torch.no_grad():
        for sequences in test.values():
            right = [((model(x) > 0).float() == y) for x, y in sequences]
            bit_acc.append(float(np.mean([r.float().mean().item() for r in right])))
            exact.append(float(np.mean([r.all().item() for r in right])))
    return {
        "seconds": time.perf_counter() - started,
        "bit_accuracy": float(np.mean(bit_acc)),
        "exact_accuracy": float(np.mean(exact)),
    }


# ---------------------------------------------------------------- memory


def memory_sample(length: int, position: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    digits = [random.randrange(10) for _ in range(length)]
    x = torch.zeros(1, length, 10)
    for step, digit in enumerate(digits):
        x[0, step, digit] = 1.0
    return x, torch.tensor([digits[position]])


def memory(
    hidden: int,
    seed: int = 0,
    epochs: int = 20,
    per_length: int = 100,
    test_size: int = 900,
    lr: float = 2e-3,
) -> dict:
    seed_all(seed)
    train = [memory_sample(n) for n in range(3, 12) for _ in range(per_length)]
    test_lengths = [n for n in range(3, 12) for _ in range(test_size // 9)]
    test = [memory_sample(n) for n in test_lengths]
    model = RecurrentNet("lstm", 10, hidden, 10, "last")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    started = time.perf_counter()
    train_one_at_a_time(model, optimizer, criterion, train, epochs)
    with torch.no_grad():
        accuracy = float(np.mean([(model(x).argmax(-1) == y).item() for x, y in test]))
    return {"seconds": time.perf_counter() - started, "accuracy": accuracy}


# ---------------------------------------------------------------- mnist


def mnist(
    data_root: str,
    epochs: int = 1,
    seed: int = 0,
    hidden: int = 128,
    batch_size: int = 100,
    lr: float = 1e-3,
    limit: int | None = None,
) -> dict:
    """LSTM, all 28 steps flattened into the readout; stratified 50k/10k split; DataLoader."""
    from sklearn.model_selection import train_test_split
    from torch.utils.data import DataLoader, Subset
    from torchvision import datasets, transforms

    seed_all(seed)
    to_tensor = transforms.ToTensor()
    full = datasets.MNIST(data_root, train=True, download=True, transform=to_tensor)
    test_set = datasets.MNIST(data_root, train=False, download=True, transform=to_tensor)
    train_idx, _ = train_test_split(
        np.arange(len(full)), test_size=10_000, stratify=full.targets.numpy(), random_state=seed
    )
    if limit:
        train_idx = train_idx[:limit]
    loader = DataLoader(Subset(full, train_idx), batch_size=batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=batch_size)
    model = RecurrentNet("lstm", 28, hidden, 10, "flatten", steps=28)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    epoch_seconds = []
    for _ in range(epochs):
        started = time.perf_counter()
        model.train()
        for images, labels in loader:
            optimizer.zero_grad()
            loss = criterion(model(images.view(-1, 28, 28)), labels)
            loss.backward()
            optimizer.step()
        epoch_seconds.append(time.perf_counter() - started)
    model.eval()
    right = 0
    with torch.no_grad():
        for images, labels in test_loader:
            right += (model(images.view(-1, 28, 28)).argmax(-1) == labels).sum().item()
    return {"epoch_seconds": float(np.mean(epoch_seconds)), "test_accuracy": right / len(test_set)}


def main() -> None:
    """`python bench/baseline.py adder|memory|mnist ...`: one JSON line per configuration."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("task", choices=["adder", "memory", "mnist"])
    parser.add_argument("--hidden", type=int, nargs="+", default=[3, 5, 10])
    parser.add_argument("--loss", nargs="+", default=["mse", "ce"])
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--train-size", type=int, help="adder: sequences; memory: per length")
    parser.add_argument("--data-root", default="~/.cache/sweeper/data")
    parser.add_argument("--limit", type=int, help="mnist: train on this many images only")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.task == "adder":
        extra = {k: v for k, v in (("epochs", args.epochs), ("train_size", args.train_size)) if v}
        for hidden in args.hidden:
            for loss in args.loss:
                print(json.dumps({"hidden": hidden, "loss": loss, **adder(hidden, loss, **extra)}))
    elif args.task == "memory":
        extra = {k: v for k, v in (("epochs", args.epochs), ("per_length", args.train_size)) if v}
        for hidden in args.hidden:
            print(json.dumps({"hidden": hidden, **memory(hidden, **extra)}))
    else:
        from pathlib import Path

        root = str(Path(args.data_root).expanduser())
        print(json.dumps(mnist(root, epochs=args.epochs or 1, limit=args.limit)))
    print(json.dumps({"total_seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
