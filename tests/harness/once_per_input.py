"""A harness step that runs once per distinct input in a test session, for all xdist workers.

Why: some make targets read only part of a project, and on today's option sets that part is often
byte-identical between sets. `make manifests` reads k8s/, ci/manifests.py and tools/checkov/,
which vary with `database` alone, and the Python it runs under (checkov's own environment is
built with the set's interpreter): six distinct inputs among the nine sets, and each run is about
25 s of checkov. So the step runs for real on every distinct input, and a set whose input another
set has already passed with in this session is skipped, naming that set. An option that changes
the input (a new manifest for one of them) makes the step run for it with no harness change; a
failure is never remembered, so the next set with that input runs the step again.
promtool_memo.py does the same for promtool, below `make alerts`.
"""

import fcntl
import hashlib
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def digest(root: Path, paths: Iterable[str], also: str = "") -> str:
    """Every file under `paths` (files or directories, relative to `root`), names and bytes,
    and `also` (what else the step depends on, such as the Python it runs under)."""
    hashed = hashlib.sha256(also.encode() + b"\0")
    for relative in sorted(paths):
        top = root / relative
        files = sorted(p for p in top.rglob("*") if p.is_file()) if top.is_dir() else [top]
        for file in files:
            hashed.update(str(file.relative_to(root)).encode() + b"\0")
            hashed.update(hashlib.sha256(file.read_bytes()).digest())
    return hashed.hexdigest()


def _session_directory(tmp_path_factory: pytest.TempPathFactory, step: str) -> Path:
    basetemp = tmp_path_factory.getbasetemp()
    # A worker's basetemp is a directory of its own inside the session's (popen-gw0).
    shared = basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp
    directory = shared / "once-per-input" / step
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@contextmanager
def once_per_input(
    tmp_path_factory: pytest.TempPathFactory,
    step: str,
    root: Path,
    paths: Iterable[str],
    name: str,
    also: str = "",
) -> Iterator[None]:
    """Run the block unless `step` passed on the same input (`paths` under `root`, and `also`)
    in this session; `name` says which option set this is, for the skip's reason."""
    key = digest(root, paths, also)
    directory = _session_directory(tmp_path_factory, step)
    with (directory / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be running this input right now
        passed = directory / f"{key}.passed"
        if passed.exists():
            reason = f"{step} passed on byte-identical input in this session: {passed.read_text()}"
            pytest.skip(reason)
        yield
        passed.write_text(name)
