"""Fixtures shared by the whole suite."""

import importlib.util
import inspect
import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# Workers `-n auto` starts at most: each one renders, installs and serves whole option sets, so
# past a few the suite waits on its longest option set, not on CPUs.
MAX_AUTO_WORKERS = 4


# ---- running in parallel (pytest-xdist) ----


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """`python -m pytest` runs on `-n auto --dist loadgroup` unless the command line says otherwise.

    Set here rather than in pyproject's addopts, where `-n` would make `-p no:xdist` an error.
    An explicit `-n N` keeps its N (and `-n 0` runs in this one process); an explicit `--dist`
    keeps its mode. --collect-only and --pdb are left to pytest-xdist, which runs them here.
    """
    # In a worker (it has workerinput) the controller has decided: a worker must not start more.
    if not config.pluginmanager.hasplugin("xdist") or hasattr(config, "workerinput"):
        return
    if config.option.numprocesses is None:
        config.option.numprocesses = "auto"
    if config.option.dist == "no" and config.option.numprocesses != 0:
        config.option.dist = "loadgroup"


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, which -p no:xdist leaves out
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """One worker per CPU this process may use, at most MAX_AUTO_WORKERS."""
    return max(1, min(len(os.sched_getaffinity(0)), MAX_AUTO_WORKERS))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put the tests that share an expensive fixture in one xdist group, run by one worker.

    A session- or module-scoped fixture lives once per worker process, so tests spread over two
    workers would render and install an option set twice. Two kinds are grouped, by what they
    are, not by file, so a new test file is grouped as soon as it uses them:
    - a parametrized session/module fixture (`rendered`, `project`, `readme_project`...): by its
      parameter, the option set's id, so every test of one set, in any file, shares a worker;
    - a non-parametrized one defined in the test's own module (test_container's podman image,
      test_manifests' renders): by that module.
    Everything else (the CLI tests, function-scoped fixtures) is free to go to any worker.
    """
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        group = xdist_group(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))


def xdist_group(item: pytest.Item) -> str | None:
    fixtureinfo = getattr(item, "_fixtureinfo", None)
    if fixtureinfo is None:
        return None
    params = getattr(getattr(item, "callspec", None), "params", {})
    module_group = None
    for name in item.fixturenames:
        definitions = fixtureinfo.name2fixturedefs.get(name)
        if not definitions or definitions[-1].scope not in ("session", "package", "module"):
            continue
        if name in params:
            # The value (an option set's id) names the set in every file; other values by their
            # index, as a repr may differ between the workers, whose collections must agree.
            value = params[name]
            index = item.callspec.indices[name]  # type: ignore[attr-defined]
            return f"param:{value}" if isinstance(value, str) else f"param:{name}[{index}]"
        function = definitions[-1].func
        if module_group is None and Path(inspect.getfile(function)) == Path(str(item.path)):
            module_group = f"module:{item.nodeid.split('::', 1)[0]}"
    return module_group


def _files(root: Path) -> dict[str, bytes]:
    """Every file under `root` by relative path, without bytecode caches."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def _differences(expected: dict[str, bytes], actual: dict[str, bytes]) -> list[str]:
    return sorted(
        name for name in expected.keys() | actual.keys() if expected.get(name) != actual.get(name)
    )


@pytest.fixture(scope="session")
def installed_prodready() -> Path:
    """The installed `prodready` script, once its package is known to match this checkout.

    The package cannot be installed in editable mode (it is renamed from generator/ and carries
    the template), so a forgotten `pip install .` would silently test yesterday's code.
    """
    spec = importlib.util.find_spec("prodready")
    if spec is None or spec.origin is None:
        pytest.fail("prodready is not installed: run pip install .", pytrace=False)
    package = Path(spec.origin).parent
    installed = _files(package)
    shipped_template = {
        name: data for name, data in installed.items() if name.startswith("_template/")
    }
    checkout_template = {
        "_template/copier.yml": (REPO_ROOT / "copier.yml").read_bytes(),
        "_template/checklist.yml": (REPO_ROOT / "checklist.yml").read_bytes(),
        "_template/import_names.yml": (REPO_ROOT / "import_names.yml").read_bytes(),
        **{
            f"_template/template/{name}": data
            for name, data in _files(REPO_ROOT / "template").items()
        },
    }
    code = {name: data for name, data in installed.items() if not name.startswith("_template/")}
    stale = _differences(checkout_template, shipped_template) + _differences(
        _files(REPO_ROOT / "generator"), code
    )
    if stale:
        listed = ", ".join(stale[:5]) + (", ..." if len(stale) > 5 else "")
        pytest.fail(
            f"the installed prodready is stale ({listed} differ): run pip install .", pytrace=False
        )
    return Path(sys.executable).parent / "prodready"


# ---- where the time goes ----

_SECONDS_BY_FILE: dict[str, float] = {}
_SECONDS_BY_WORKER: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Add each phase's time (setup, call, teardown) to its file's and its worker's total."""
    path = report.nodeid.split("::", 1)[0]
    _SECONDS_BY_FILE[path] = _SECONDS_BY_FILE.get(path, 0.0) + report.duration
    worker = getattr(report, "node", None)
    name = worker.gateway.id if worker is not None else "main"
    _SECONDS_BY_WORKER[name] = _SECONDS_BY_WORKER.get(name, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Seconds per test file and per worker: the CI log's answer to what to make cheaper
    (--durations names single tests; a file of many quick ones is missing there)."""
    if not _SECONDS_BY_FILE:
        return
    terminalreporter.section("seconds per test file (setup + call + teardown)")
    for path, seconds in sorted(_SECONDS_BY_FILE.items(), key=lambda item: -item[1]):
        terminalreporter.write_line(f"{seconds:8.1f}s  {path}")
    workers = sorted(_SECONDS_BY_WORKER.items())
    busy = ", ".join(f"{name} {seconds:.0f}s" for name, seconds in workers)
    terminalreporter.write_line(f"busy per worker: {busy}")
