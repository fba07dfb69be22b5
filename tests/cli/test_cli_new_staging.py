"""`prodready new` stages where the destination can be created, and leaves nothing behind.

Not after SIGINT or SIGTERM (exit 130, "interrupted"), not in TMPDIR (copier's clones live in the
staging directory too); after SIGKILL the next run removes what was left and says so; a second run
into the same destination is refused while the first one works.
"""

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import ERROR_PREFIX, Cli, answers_of, assert_single_error, snapshot

STAGING = ".prodready-new"


@pytest.fixture
def private_tmp(tmp_path: Path) -> Path:
    """TMPDIR of the runs, to see that nothing is left in it."""
    directory = tmp_path / "tmpdir"
    directory.mkdir()
    return directory


def _start(cli: Cli, *args: str, cwd: Path, tmpdir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(cli.script), *args],
        cwd=cwd,
        env={**cli.env, "TMPDIR": str(tmpdir)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[str]]]:
    """Runs a test starts; any still running at the end are killed."""
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _wait_until_rendering(process: subprocess.Popen[str], staging: Path) -> None:
    """Until the staging directory holds the run's temporary files: copier is at work."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            if any((staging / "tmp").iterdir()):
                return
        except FileNotFoundError:
            pass
        time.sleep(0.01)
    pytest.fail(f"{staging} never filled up")


def _finish(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stop_signal_removes_the_staging_directory(
    cli: Cli,
    workdir: Path,
    private_tmp: Path,
    started: list[subprocess.Popen[str]],
    stop: signal.Signals,
) -> None:
    process = _start(cli, "new", "svc", "--defaults", cwd=workdir, tmpdir=private_tmp)
    started.append(process)
    _wait_until_rendering(process, workdir / f".svc{STAGING}")

    process.send_signal(stop)
    result = _finish(process)

    assert_single_error(result, 130, "interrupted")
    assert result.stderr == f"{ERROR_PREFIX}interrupted\n"
    assert snapshot(workdir) == {}
    assert snapshot(private_tmp) == {}


def test_current_directory_is_staged_inside_and_left_empty_on_sigterm(
    cli: Cli, workdir: Path, private_tmp: Path, started: list[subprocess.Popen[str]]
) -> None:
    destination = workdir / "svc"
    destination.mkdir()
    process = _start(cli, "new", ".", "--defaults", cwd=destination, tmpdir=private_tmp)
    started.append(process)
    # `new .` stages inside the directory, never in its parent.
    _wait_until_rendering(process, destination / STAGING)
    assert [path.name for path in workdir.iterdir()] == ["svc"]

    process.send_signal(signal.SIGTERM)
    result = _finish(process)

    assert_single_error(result, 130, "interrupted")
    assert snapshot(workdir) == {"svc": None}
    assert snapshot(private_tmp) == {}


def test_after_sigkill_the_next_run_removes_what_was_left_and_says_so(
    cli: Cli, workdir: Path, private_tmp: Path, started: list[subprocess.Popen[str]]
) -> None:
    staging = workdir / f".svc{STAGING}"
    process = _start(cli, "new", "svc", "--defaults", cwd=workdir, tmpdir=private_tmp)
    started.append(process)
    _wait_until_rendering(process, staging)
    process.kill()
    process.communicate()
    assert staging.is_dir()  # SIGKILL cannot be caught: the staging directory is still there

    result = cli("new", "svc", "--defaults", cwd=workdir, env={"TMPDIR": str(private_tmp)})

    assert result.returncode == 0, result.stderr
    assert f"Removed {staging}, left behind by an interrupted prodready new." in result.stdout
    assert [path.name for path in workdir.iterdir()] == ["svc"]
    assert snapshot(private_tmp) == {}


def test_second_run_into_the_same_destination_is_refused_while_the_first_works(
    cli: Cli, workdir: Path, private_tmp: Path, started: list[subprocess.Popen[str]]
) -> None:
    first = _start(cli, "new", "svc", "--defaults", cwd=workdir, tmpdir=private_tmp)
    started.append(first)
    _wait_until_rendering(first, workdir / f".svc{STAGING}")
    # Hold the first run mid-render, so the second one certainly meets it.
    first.send_signal(signal.SIGSTOP)
    try:
        second = cli("new", "svc", "--defaults", "--set", "project_name=Other", cwd=workdir)
    finally:
        first.send_signal(signal.SIGCONT)

    assert_single_error(second, 2, f"another prodready new is writing {workdir / 'svc'}")
    result = _finish(first)
    assert result.returncode == 0, result.stderr
    assert "project_name: svc\n" in answers_of(workdir / "svc")  # the first run's project alone
    assert [path.name for path in workdir.iterdir()] == ["svc"]


def test_concurrent_runs_into_one_destination_one_succeeds(
    cli: Cli, workdir: Path, private_tmp: Path, started: list[subprocess.Popen[str]]
) -> None:
    runs = [
        _start(
            cli,
            "new",
            "svc",
            "--defaults",
            "--set",
            f"project_name={name}",
            cwd=workdir,
            tmpdir=private_tmp,
        )
        for name in ("First", "Second")
    ]
    started.extend(runs)

    results = [_finish(run) for run in runs]

    assert sorted(result.returncode for result in results) == [0, 2], results
    (refused,) = [result for result in results if result.returncode]
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert (
        f"another prodready new is writing {workdir / 'svc'}" in refused.stderr
        or f"destination {workdir / 'svc'} is a directory that is not empty" in refused.stderr
    ), refused.stderr
    (succeeded,) = [result for result in results if not result.returncode]
    name = "First" if results[0] is succeeded else "Second"
    assert f"project_name: {name}\n" in answers_of(workdir / "svc")
    assert [path.name for path in workdir.iterdir()] == ["svc"]
    assert snapshot(private_tmp) == {}


# ---- a parent directory that cannot be written ----


def _read_only_parent_command(parent: Path, writable: Path, command: list[str]) -> list[str]:
    """`command` in a mount namespace of its own where `parent` is read-only but `writable` is not.

    Tests run as root, which ignores file modes: only a read-only mount stops it from writing.
    """
    script = (
        'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && '
        'if [ "$2" != "$1" ]; then mount --bind "$2" "$2" && mount -o remount,bind,rw "$2"; fi '
        '&& shift 2 && exec "$@"'
    )
    return ["unshare", "--mount", "sh", "-c", script, "sh", str(parent), str(writable), *command]


@pytest.fixture
def mount_namespaces(tmp_path: Path) -> None:
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed: cannot make a read-only parent")
    probe = tmp_path / "probe"
    probe.mkdir()
    trial = subprocess.run(
        _read_only_parent_command(probe, probe, ["true"]), capture_output=True, text=True
    )
    if trial.returncode != 0:
        pytest.skip(f"cannot make a read-only mount here (needs CAP_SYS_ADMIN): {trial.stderr}")
    probe.rmdir()


@pytest.mark.usefixtures("mount_namespaces")
def test_current_directory_in_a_read_only_parent_is_filled(cli: Cli, workdir: Path) -> None:
    destination = workdir / "svc"
    destination.mkdir()

    result = subprocess.run(
        _read_only_parent_command(
            workdir, destination, [str(cli.script), "new", ".", "--defaults"]
        ),
        cwd=destination,
        env=dict(cli.env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert (destination / ".copier-answers.yml").is_file()
    assert not (destination / STAGING).exists()
    assert [path.name for path in workdir.iterdir()] == ["svc"]


@pytest.mark.usefixtures("mount_namespaces")
def test_new_directory_in_a_read_only_parent_names_the_destination(cli: Cli, workdir: Path) -> None:
    result = subprocess.run(
        _read_only_parent_command(workdir, workdir, [str(cli.script), "new", "svc", "--defaults"]),
        cwd=workdir,
        env=dict(cli.env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert_single_error(result, 2, f"cannot create {workdir / 'svc'}: Read-only file system")
    assert snapshot(workdir) == {}
