"""The staging directory `prodready new` renders into, which is also the lock on its destination.

It lives where the destination can be created: beside a destination that does not exist yet (its
parent has to let us create it anyway) and inside an existing empty one (`new .`, whose parent may
well be read-only). Either way it is on the destination's file system, so moving the project into
place is a rename.

Its name is fixed for a destination, and it holds a file the run keeps an flock on: a second
`new` into the same destination finds the directory locked and stops, while a directory whose
lock nobody holds was left by a run that was killed (SIGKILL, a power cut) and is removed. The
directory is claimed atomically: it is set up, lock held, under a random name and then renamed to
the fixed one, which fails while another run's directory is there.

During the run, temporary files (copier's clones of the template included) go inside it too, so
nothing can be left in TMPDIR either.
"""

import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from .errors import BAD_INPUT, CliError
from .interrupts import stop_signals_deferred

STAGING_SUFFIX = ".prodready-new"
_LOCK_FILE = "lock"
# A destination's name, cut so that the staging name and mkdtemp's suffix stay within the 255
# bytes a file name may have (4 bytes a character at most). Two destinations whose names share
# these first characters share a staging directory: one `new` is refused while the other runs.
_NAME_KEPT = 50


@dataclass(frozen=True)
class Staging:
    root: Path
    """The staging directory itself."""
    project: Path
    """Where the project is rendered: named like the destination, since templates may use it."""


def staging_path(destination: Path) -> Path:
    """The fixed staging directory of `destination` (an absolute path)."""
    if destination.is_dir():
        return destination / STAGING_SUFFIX
    return destination.parent / f".{destination.name[:_NAME_KEPT]}{STAGING_SUFFIX}"


def is_staging_entry(path: Path, staging: Path) -> bool:
    """Whether `path` is the staging directory `staging` or a claim on it being set up."""
    return path.name == staging.name or path.name.startswith(f"{staging.name}-")


@contextmanager
def staging_for(destination: Path, notify: Callable[[str], None]) -> Iterator[Staging]:
    """Claim the staging directory of `destination`; it is removed when the block ends, however.

    A stale staging directory of the same destination is removed first and `notify`ed.
    """
    fixed = staging_path(destination)
    _remove_stale(fixed, notify)
    ours: Path | None = None
    lock: int | None = None
    try:
        with stop_signals_deferred():  # nothing may be created that the clean-up does not know
            ours, lock = _prepared_claim(fixed, destination)
        try:
            ours.rename(fixed)
        except OSError as error:
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            raise CliError(f"another prodready new is writing {destination}", BAD_INPUT) from error
        ours = fixed
        with temporary_files_in(fixed / "tmp"):
            yield Staging(root=fixed, project=fixed / "project" / destination.name)
    finally:
        with stop_signals_deferred():
            if ours is not None:
                _remove_tree(ours)
            if lock is not None:
                os.close(lock)


def _prepared_claim(fixed: Path, destination: Path) -> tuple[Path, int]:
    """A new directory beside `fixed`, holding the lock file, and the lock held on it."""
    try:
        claim = Path(tempfile.mkdtemp(dir=fixed.parent, prefix=f"{fixed.name}-"))
    except OSError as error:
        # The staging directory is a detail the user never chose: name the destination.
        action = "write in" if fixed.parent == destination else "create"
        raise CliError(
            f"cannot {action} {destination}: {error.strerror or error}", BAD_INPUT
        ) from error
    lock = os.open(claim / _LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        (claim / "tmp").mkdir()
        (claim / "project").mkdir()
    except OSError:
        os.close(lock)
        _remove_tree(claim)
        raise
    return claim, lock


def _remove_stale(fixed: Path, notify: Callable[[str], None]) -> None:
    """Remove the staging directories (and claims) of `fixed` that no living run holds."""
    with suppress(OSError):  # an unreadable parent: claiming below reports it
        candidates = [entry for entry in fixed.parent.iterdir() if is_staging_entry(entry, fixed)]
        for candidate in candidates:
            if _remove_if_unlocked(candidate):
                notify(f"Removed {candidate}, left behind by an interrupted prodready new.")


def _remove_if_unlocked(directory: Path) -> bool:
    try:
        lock = os.open(directory / _LOCK_FILE, os.O_RDWR)
    except OSError:
        # No lock file: a claim that a run is setting up right now (or not ours at all).
        return False
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        return False
    try:  # the lock is held while removing, so no other run takes the directory for stale too
        with stop_signals_deferred():
            _remove_tree(directory)
    finally:
        os.close(lock)
    return True


def _remove_tree(directory: Path) -> None:
    # A git process killed along with the run may still be writing a file or two: try again.
    for _ in range(3):
        shutil.rmtree(directory, ignore_errors=True)
        if not directory.exists():
            return
    shutil.rmtree(directory)


@contextmanager
def temporary_files_in(directory: Path) -> Iterator[None]:
    """Point Python's and subprocesses' temporary files into `directory` for the block."""
    saved_tempdir, saved_environment = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir = os.environ["TMPDIR"] = str(directory)
    try:
        yield
    finally:
        tempfile.tempdir = saved_tempdir
        if saved_environment is None:
            del os.environ["TMPDIR"]
        else:
            os.environ["TMPDIR"] = saved_environment
