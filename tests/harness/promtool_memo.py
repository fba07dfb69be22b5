"""promtool for `make alerts` in the harness: real promtool, run once per distinct input.

Every option set's `make alerts` runs for real: its Makefile recipe, `uv run`, and the project's
own tests/alerts/promtool_rules.py under the set's Python, which writes the PrometheusRules of its
k8s/ and its resolved unit tests into a scratch directory and calls `promtool check rules` and
`promtool test rules` there. What promtool reads is those files, and on today's sets they are
byte-identical (the rules and alert tests do not vary with python_version, database, tracing or
error_tracking), yet its unit tests are the slowest step of a set (about a minute of CPU). So the
`promtool` that `make alerts` finds on PATH here is this script: it hashes its arguments, the
real promtool's identity and every file of its working directory (where the script puts all it
reads), runs the real promtool on a hash it has not seen pass in this test session, and for a
hash that passed replays the stdout and stderr and exit status of that run. The guarantee moves
from "promtool passed in every set" to "promtool passed on every distinct input any set gives
it": a set whose rules or tests differ (a new option touching them) runs promtool itself. A
failure is never replayed; the next set with that input runs promtool again.

Results live under the session's temporary directory, shared by the pytest-xdist workers, with
a lock per input so that two workers with the same input run promtool once, one after the other.
"""

import fcntl
import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

REAL = "PRODREADY_REAL_PROMTOOL"  # the real promtool's path
RESULTS = "PRODREADY_PROMTOOL_RESULTS"  # the directory of passed runs, by input hash
# What this script adds to stderr, so a reader of make's output sees which run was replayed.
REPLAYED = "promtool-memo: replayed the passed run of identical input"


def install(directory: Path, real_promtool: str, results: Path, path: str) -> dict[str, str]:
    """A `promtool` in directory/bin that runs this script; the variables that make it work
    (`path`: the PATH to put it in front of)."""
    bin_directory = directory / "bin"
    bin_directory.mkdir(parents=True, exist_ok=True)
    wrapper = bin_directory / "promtool"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).resolve()}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    results.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": f"{bin_directory}{os.pathsep}{path}",
        REAL: real_promtool,
        RESULTS: str(results),
    }


def input_hash(arguments: list[str], real: Path, workdir: Path) -> str:
    digest = hashlib.sha256()
    identity = real.stat()
    digest.update(json.dumps([str(real), identity.st_size, identity.st_mtime_ns]).encode())
    digest.update(json.dumps(arguments).encode())
    for path in sorted(workdir.rglob("*")):
        if path.is_file():
            digest.update(json.dumps(str(path.relative_to(workdir))).encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    # An argument naming a file outside the working directory: its content counts too.
    for argument in arguments:
        candidate = Path(argument)
        if candidate.is_absolute() and candidate.is_file():
            digest.update(hashlib.sha256(candidate.read_bytes()).digest())
    return digest.hexdigest()


def session_results(tmp_path_factory: "pytest.TempPathFactory") -> Path:
    """The results directory of this test session, one for all its pytest-xdist workers."""
    basetemp = tmp_path_factory.getbasetemp()
    # A worker's basetemp is a directory of its own inside the session's (popen-gw0 or gw0).
    shared = basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp
    return shared / "promtool-passed"


def main(arguments: list[str]) -> int:
    real = Path(os.environ[REAL])
    if arguments[:2] not in (["check", "rules"], ["test", "rules"]):
        return subprocess.run([real, *arguments], check=False).returncode  # not memoized
    results = Path(os.environ[RESULTS])
    key = input_hash(arguments, real, Path.cwd())
    stored = results / f"{key}.json"
    with (results / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be running this input right now
        if stored.exists():
            passed = json.loads(stored.read_text())
            sys.stdout.write(passed["stdout"])
            sys.stderr.write(passed["stderr"] + f"{REPLAYED} ({key[:12]})\n")
            return int(passed["returncode"])
        result = subprocess.run(
            [str(real), *arguments], capture_output=True, text=True, check=False
        )
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        if result.returncode == 0:
            record = {"stdout": result.stdout, "stderr": result.stderr, "returncode": 0}
            stored.write_text(json.dumps(record))
        return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
