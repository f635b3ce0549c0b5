"""Shared fixtures and helpers: compose sweeper's config in a temp folder, tiny MNIST files,
sweeper's commands and a user's app run as subprocesses, a hand-made search folder,
a loopback web server (optuna-dashboard, `mlflow ui`) run for the length of a test,
headless Chromium, a fresh PostgreSQL database. Hand-made sweep folders: fake_folders.py."""

from __future__ import annotations

import html
import os
import re
import shutil
import struct
import subprocess
import sys
import uuid
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from fake_folders import fake_job, report_job
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from sweeper import compare as compare_module

ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = ROOT / "sweeper" / "conf"

# Overrides that make a command-line adder job finish in about a second (the last
# one is adder-only: memory tests drop it).
SMALL_RUN = [
    "task.train_size=512",
    "task.val_size=100",
    "task.test_per_length=10",
    "trainer.epochs=2",
    "task.extrapolation_lengths=[24]",
]

# Small but real training settings, so a test run takes a second or two.
FAST = {
    "adder": [
        "task.val_size=200",
        "task.test_per_length=20",
        "trainer.epochs=6",
        "task.extrapolation_lengths=[24]",
        "model.hidden=8",
    ],
    "memory": [
        "task.val_size=270",
        "task.test_per_length=20",
        "trainer.epochs=8",
        "task.extrapolation_lengths=[13]",
    ],
    "mnist": [
        "task.val_size=100",
        "trainer.epochs=5",
        "trainer.batch_size=50",
        "model.hidden=16",
        "optim.lr=0.01",
        "task.download=false",
    ],
}


@pytest.fixture
def make_cfg(tmp_path: Path) -> Callable[..., DictConfig]:
    """compose the config as `python -m sweeper OVERRIDES` would, writing into tmp_path."""

    def make(*overrides: str, fast: bool = True, out: Path | None = None) -> DictConfig:
        task = next((o.split("=", 1)[1] for o in overrides if o.startswith("task=")), "adder")
        extra = FAST.get(task, []) if fast else []
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            return compose(
                "config",
                overrides=[*extra, *overrides, f"output_dir={out or tmp_path / 'run'}"],
            )

    return make


def copy_example(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, packages: tuple[str, ...]
) -> Path:
    """An example folder (examples/custom_task, ...) copied outside the repository as
    `my_project`, made the working folder and importable as a sweep there sees it; the
    example's `packages` (`my_tasks`, ...) imported by an earlier test are forgotten."""
    import shutil
    import sys

    folder = tmp_path / "my_project"
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.chdir(folder)
    for name in [m for m in sys.modules if m.split(".")[0] in packages]:
        monkeypatch.delitem(sys.modules, name)  # an earlier test's copy
    return folder


def compose_example(example: Path, overrides: list[str], run: str = "run") -> DictConfig:
    """The config `python -m sweeper --config-dir my_conf OVERRIDES` composes in `example`,
    its run folder `example/run`."""
    searchpath = f"hydra.searchpath=[file://{example / 'my_conf'}]"
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose("config", overrides=[searchpath, *overrides, f"output_dir={example / run}"])


def write_idx(path: Path, array: np.ndarray) -> None:
    """An IDX file (MNIST's format: magic, dims, big-endian sizes, uint8 data).

    Written already extracted (no .gz): torchvision then reads it without
    checking the official checksums, which these tiny files cannot match.
    """
    dtype_code = 0x08  # unsigned byte
    header = struct.pack(">HBB", 0, dtype_code, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def fake_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n 28x28 images whose class is a bright bar at row 2 * label + 5, plus noise."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    images = rng.integers(0, 60, size=(n, 28, 28))
    for image, label in zip(images, labels):
        image[2 * label + 5, 4:24] = 255
    return images, labels


@pytest.fixture
def mnist_root(tmp_path: Path) -> Path:
    """A data root holding tiny MNIST files in <root>/MNIST/raw (600 train, 200 test)."""
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, n, seed in (("train", 600, 0), ("t10k", 200, 1)):
        images, labels = fake_digits(n, seed)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return tmp_path / "data"


def default_sigint() -> None:
    """`preexec_fn` for a command a test interrupts with SIGINT: a shell starts background
    jobs (`cmd &`, nohup) with SIGINT ignored and Python keeps it ignored, so the
    command gets the default disposition a terminal's Ctrl-C meets."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def closed_port() -> int:
    """A loopback port nothing listens on (bound and let go): an address that refuses
    connections, or one for a test's server to listen on."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def loopback_get(url: str, body: dict | None = None, timeout: float = 10) -> bytes:
    """What a loopback server answers: GET, or POST `body` as JSON; never through a proxy
    that the environment names."""
    import json
    import urllib.request

    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=timeout) as reply:
        return reply.read()


def get_json(url: str, body: dict | None = None, timeout: float = 10) -> dict:
    """A loopback JSON API's answer: GET, or POST `body` as JSON."""
    import json

    return json.loads(loopback_get(url, body, timeout))


def console_script(name: str) -> str:
    """The command `name` of this environment: beside this Python (a venv's bin/), else on
    PATH; the test is skipped without it."""
    import shutil
    import sys

    script = Path(sys.executable).parent / name
    found = str(script) if script.is_file() else shutil.which(name)
    if found is None:
        pytest.skip(f"no {name} command beside {sys.executable} or on PATH")
    return found


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


@contextmanager
def serving(
    command: list[str], probe: str, log: Path, cwd: Path, wait: float = 30, env: dict | None = None
):
    """Runs a web server (`command` in `cwd`, its output in `log`) until the block ends:
    yields once GET `probe` answers, within `wait` seconds, else fails with the log's tail.
    The server's process group (its own session: `mlflow ui` runs its server and job
    runners as children) is always ended. Its runtime and temporary files go beside the
    log (XDG_RUNTIME_DIR, TMPDIR): gunicorn, optuna-dashboard's server when installed,
    would otherwise put its control socket in ~/.gunicorn, replacing a running one's."""
    import os
    import signal
    import subprocess
    import time
    import urllib.error

    beside = str(log.parent)
    environment = {**os.environ, "XDG_RUNTIME_DIR": beside, "TMPDIR": beside, **(env or {})}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + wait
        while True:
            if process.poll() is not None:
                pytest.fail(f"{command[0]} exited {process.returncode}:\n{tail(log)}")
            try:
                loopback_get(probe, timeout=2)
                break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"{probe} not answering in {wait:.0f} s:\n{tail(log)}")
                time.sleep(0.2)
        yield process
    finally:  # the group's leader gets a grace period, then what is left of the group goes
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


@pytest.fixture
def fake_search(tmp_path) -> Path:
    """An Optuna search folder: three trials (one failed), trials.csv and best_trial.yaml."""
    sweep = tmp_path / "multirun" / "search"
    lrs = [0.004430375245218269, 0.0139819614, 0.00186622]
    for num, (lr, objective) in enumerate(zip(lrs, (0.91, 0.95, None))):
        status = "ok" if objective else "failed"
        report_job(sweep, str(num), [f"optim.lr={lr}"], objective, status=status, reason="boom")
    pd.DataFrame(
        {
            "number": [0, 1, 2],
            "value": [0.91, 0.95, None],
            "duration": ["0 days 00:00:09.451499", "0 days 00:00:03.8", None],
            "params_optim.lr": lrs,
            "user_attrs_job_dir": [str(sweep / str(n)) for n in range(3)],
            "user_attrs_status": ["ok", "ok", "failed"],
            "state": ["COMPLETE", "COMPLETE", "FAIL"],
        }
    ).to_csv(sweep / "trials.csv", index=False)
    best = {
        "study": "adder-lr",
        "storage": f"sqlite:///{sweep}/optuna.db",
        "direction": "maximize",
        "finished_trials": 3,
        "failed_trials": 1,
        "best": {"number": 1, "value": 0.95, "params": {"optim.lr": lrs[1]}, "job_dir": "x"},
    }
    (sweep / "best_trial.yaml").write_text(yaml.safe_dump(best))
    return sweep


def table_rows(page: str, table_id: str) -> list[list[str]]:
    """The cell texts of each body row of a table of the page (tags stripped, unescaped)."""
    match = re.search(rf'<table class="sortable" id="{table_id}">(.*?)</table>', page, re.S)
    assert match, f"no table {table_id}"
    body = match.group(1).split("<tbody>")[1]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)]
        for r in rows
    ]


def chromium() -> str:
    """The headless browser: Debian's `chromium` (.ci/run installs it); skip or fail without."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("CI must install chromium for the report test (.ci/run)")
    pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does)")


def browse(browser: str, page: Path, profile: Path, *args: str, fragment: str = "") -> str:
    """Run headless Chromium on a file; returns its stdout (the DOM for --dump-dom)."""
    result = subprocess.run(
        [
            browser,
            "--headless",
            "--disable-gpu",
            "--no-sandbox",  # root in a container has no user namespace sandbox
            "--disable-dev-shm-usage",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=5000",
            *args,
            page.resolve().as_uri() + fragment,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # Chromium logs page errors as "Uncaught ..." console lines on stderr.
    assert "Uncaught" not in result.stderr, result.stderr[-2000:]
    return result.stdout


@pytest.fixture
def fresh_postgres_url() -> str:
    """A new, empty database on the server .ci/run starts (SWEEPER_TEST_POSTGRES_URL)."""
    server = os.environ.get("SWEEPER_TEST_POSTGRES_URL")
    if not server:
        if os.environ.get("CI"):
            pytest.fail("CI must start PostgreSQL and set SWEEPER_TEST_POSTGRES_URL (.ci/run)")
        pytest.skip("no PostgreSQL server: set SWEEPER_TEST_POSTGRES_URL (see .ci/run)")
    import psycopg  # psycopg 3: SQLAlchemy 2.1's driver for postgresql:// URLs

    name = f"sweeper_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(autouse=True)
def no_telemetry(monkeypatch):
    """No test asks MLflow to phone home (its client's usage telemetry)."""
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")


def sweeper(
    *args: str,
    cwd: Path,
    module: str = "sweeper",
    python: str = sys.executable,
    env: dict | None = None,
    code: str | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess:
    """`python -m sweeper ARGS` (or `-m module`, or `-c code ARGS`) run in `cwd` as a user
    types it, with this checkout first on the path: every test's one way to start a
    sweeper command, output captured as text."""
    command = [python, "-c", code, *args] if code else [python, "-m", module, *args]
    return subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def script(
    path: str | Path, *args: str, cwd: Path, env: dict | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """`python PATH ARGS` in `cwd` (a user's own Hydra app), output captured as text."""
    return subprocess.run(
        [sys.executable, str(path), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def run_compare(*args, capsys) -> tuple[int, str, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no pandas FutureWarning / DeprecationWarning
        code = compare_module.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def two_jobs(tmp_path) -> Path:
    """A sweep folder of two good jobs (model.hidden 3 and 5); the tests edit job 1."""
    sweep = tmp_path / "sweep"
    fake_job(sweep / "0", 0, ["model.hidden=3"])
    fake_job(sweep / "1", 1, ["model.hidden=5"])
    return sweep
