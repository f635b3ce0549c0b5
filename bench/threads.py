"""The measurement behind `device.threads=auto`: seconds per training step of an LSTM
with 1 thread against torch's default, over hidden sizes and the built-in tasks' shapes.

    python bench/threads.py            # a table: task, hidden, work, s/step at 1 and default, ratio

`work` is the rule's measure: the model's parameters times the batch size
(sweeper.core.config.AUTO_THREADS_WORK is the threshold)."""

from __future__ import annotations

import time

import torch

SHAPES = {"adder": (2, 64, 20), "memory": (10, 96, 11), "mnist": (28, 100, 28)}


def step_seconds(inputs: int, batch: int, length: int, hidden: int, threads: int) -> float:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(inputs, hidden, batch_first=True)
    head = torch.nn.Linear(hidden, 10)
    x = torch.randn(batch, length, inputs)
    params = list(lstm.parameters()) + list(head.parameters())

    def step() -> None:
        out, _ = lstm(x)
        head(out[:, -1]).sum().backward()
        for p in params:
            p.grad = None

    for _ in range(3):
        step()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < 0.4:
        step()
        n += 1
    return (time.perf_counter() - start) / n


def main() -> None:
    default = torch.get_num_threads()
    print(f"torch default threads: {default}")
    print("task    hidden      work   s/step@1  s/step@default  default/1")
    for task, (inputs, batch, length) in SHAPES.items():
        for hidden in (2, 5, 10, 32, 64, 128, 256):
            params = 4 * hidden * (inputs + hidden + 2) + hidden * 10 + 10
            one = step_seconds(inputs, batch, length, hidden, 1)
            many = step_seconds(inputs, batch, length, hidden, default)
            row = f"{task:7} {hidden:6} {params * batch:9}  {one:9.5f}  {many:14.5f}"
            print(f"{row}  {many / one:9.2f}")
    torch.set_num_threads(default)


if __name__ == "__main__":
    main()
