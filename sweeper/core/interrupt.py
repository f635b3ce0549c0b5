"""Ctrl-C and SIGTERM as one kind of event: a KeyboardInterrupt that knows its signal.

Python turns SIGINT into KeyboardInterrupt by itself; SIGTERM (what `kill`,
schedulers and container runtimes send) would end the process on the spot,
leaving a job without its `status: interrupted` record. `install_sigterm_handler`
makes SIGTERM raise `Interrupted("SIGTERM")`, a KeyboardInterrupt, so the job
records where it stopped and the sweep above it stops as cleanly as on Ctrl-C.

Exit codes (the shell's convention, 128 + the signal's number): 130 after
SIGINT, 143 after SIGTERM.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


class Interrupted(KeyboardInterrupt):
    """A KeyboardInterrupt raised for a signal other than SIGINT (`signal_name`)."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signal.Signals(signum).name)


def install_sigterm_handler() -> bool:
    """Make SIGTERM raise `Interrupted("SIGTERM")` in the main thread.

    Returns False (and changes nothing) outside the main thread, where Python
    cannot install signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        return False
    signal.signal(signal.SIGTERM, _raise_interrupted)
    return True


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """SIGTERM raises `Interrupted("SIGTERM")` inside the block, as after
    `install_sigterm_handler`; the handler before it is put back at the end. For a job
    run by a launcher in a worker process of its own (joblib's), where the command
    line's handler was never installed; a no-op outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def signal_name(interrupt: KeyboardInterrupt) -> str:
    """SIGTERM for `Interrupted("SIGTERM")`; SIGINT for a plain KeyboardInterrupt (Ctrl-C)."""
    return getattr(interrupt, "signal_name", "SIGINT")


def exit_code(interrupt: KeyboardInterrupt) -> int:
    """128 + the signal's number: 130 for SIGINT, 143 for SIGTERM."""
    return 128 + int(signal.Signals[signal_name(interrupt)])
