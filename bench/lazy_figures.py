"""What a sweep job saves by leaving curves.png to collect (#22): seconds per tiny adder
job trained in-process as a single run (draws curves.png) against as a multirun job (draws
none), alternating, 3 rounds of 8 jobs each, one warm-up job first.

    python bench/lazy_figures.py
"""

import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from hydra import compose, initialize_config_dir
from hydra.types import RunMode

import sweeper.run.observers as observers
from sweeper.run.job import train

TINY = [
    "task.train_size=256",
    "task.val_size=100",
    "task.test_per_length=5",
    "trainer.epochs=1",
    "device.threads=1",
]


def job(out):
    with initialize_config_dir(config_dir=str(Path("sweeper/conf").resolve()), version_base="1.3"):
        cfg = compose("config", overrides=[*TINY, f"output_dir={out}"])
    train(cfg)


root = Path(tempfile.mkdtemp())
job(root / "warm")  # imports, plus matplotlib once (a single run draws)
times = {}
for rep in range(3):
    for mode in (RunMode.RUN, RunMode.MULTIRUN):
        observers.HydraConfig = SimpleNamespace(
            initialized=lambda: True, get=lambda m=mode: SimpleNamespace(mode=m)
        )
        start = time.perf_counter()
        for n in range(8):
            job(root / f"{mode.name}{rep}_{n}")
        times.setdefault(mode.name, []).append((time.perf_counter() - start) / 8)
for k, v in times.items():
    print(k, "s/job", [round(x, 3) for x in v], "min", round(min(v), 3))
print(
    "saved per job (min RUN - min MULTIRUN):", round(min(times["RUN"]) - min(times["MULTIRUN"]), 3)
)
