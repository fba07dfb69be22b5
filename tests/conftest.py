"""Fixtures shared by the whole suite."""

import importlib.util
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


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
