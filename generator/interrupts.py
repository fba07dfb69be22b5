"""SIGINT and SIGTERM as an exception that unwinds the whole stack, so staged work is removed.

Python turns SIGINT into KeyboardInterrupt, which Click catches and reports as "Aborted!" after a
blank line; SIGTERM would kill the process outright and leave a staging directory behind. Both
become `Interrupted` instead: a BaseException, so no `except Exception` in a library swallows it,
and every `with` block on the way up (staging directories, temporary clones) cleans up.
"""

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """The user (SIGINT) or the system (SIGTERM) asked prodready to stop."""


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signal.Signals(signum).name)


def raise_on_stop_signals() -> None:
    """From now on SIGINT and SIGTERM raise `Interrupted` in the main thread."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, _raise_interrupted)


@contextmanager
def stop_signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back until the block is done (a move or a clean-up must finish).

    A signal that arrives meanwhile is delivered, and raises, right after the block.
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def hold_stop_signals() -> None:
    """From now on SIGINT and SIGTERM wait until the process ends, which discards them.

    For the point of no return: the work is in place, only its report is left, and an
    "interrupted" now would claim that nothing was done.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
