"""Ctrl-C and SIGTERM as one kind of event: a KeyboardInterrupt that knows its signal.

Python turns SIGINT into KeyboardInterrupt by itself; SIGTERM (what `kill`,
schedulers and container runtimes send) would end the process on the spot,
leaving a job without its `status: interrupted` record. `install_interrupt_handlers`
makes SIGTERM raise `Interrupted("SIGTERM")`, a KeyboardInterrupt, so the job
records where it stopped and the sweep above it stops as cleanly as on Ctrl-C.

A signal's KeyboardInterrupt can be lost: Python raises it wherever the main thread
happens to be, and where that is code which swallows every error (C code that clears
the error a Python callback raised, an exception in a finalizer), the run goes on as if
no signal came. Seen in CI and in 1 of 17 tries here: a SIGINT sent mid-epoch to a tiny
memory run let it finish and exit 0. So the handler also notes the signal, and
`raise_unanswered` (called
by the training loop after each batch and epoch) raises it again until the job's own
handler has `answered` it.

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


# The signal whose KeyboardInterrupt no job has answered yet (`answered`): empty, or one name.
_unanswered: list[str] = []


def _interrupt(name: str) -> KeyboardInterrupt:
    """The KeyboardInterrupt for signal `name`: a plain one for SIGINT, as Python raises."""
    return KeyboardInterrupt() if name == "SIGINT" else Interrupted(name)


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    name = signal.Signals(signum).name
    _unanswered[:] = [name]
    raise _interrupt(name)


def install_interrupt_handlers() -> bool:
    """Make SIGTERM raise `Interrupted("SIGTERM")` in the main thread, and SIGINT raise
    KeyboardInterrupt as Python's own handler does, both noted for `raise_unanswered`.
    SIGINT is left alone where it is not Python's default handler (ignored, as a shell's
    background job has it, or an application's own).

    Returns False (and changes nothing) outside the main thread, where Python
    cannot install signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        return False
    signal.signal(signal.SIGTERM, _raise_interrupted)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _raise_interrupted)
    return True


def answered() -> None:
    """The job has caught the signal's KeyboardInterrupt (and records it): stop raising it."""
    _unanswered.clear()


def raise_unanswered() -> None:
    """Raise the KeyboardInterrupt of a signal that came but was never answered (lost
    where it was first raised, see the module's docstring); nothing when none came.
    Costs one list test: the training loop calls it after every batch."""
    if _unanswered:
        raise _interrupt(_unanswered[0])


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """SIGTERM raises `Interrupted("SIGTERM")` inside the block, as after
    `install_interrupt_handlers`; the handler before it is put back at the end. For a job
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
