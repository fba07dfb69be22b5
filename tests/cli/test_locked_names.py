"""The names a project cannot take because a locked dependency has them: what copier.yml computes.

copier.yml reads the distribution names from template/uv.lock.jinja and the modules installed
under other names from import_names.yml, which scripts/relock.py derives from the lock.
"""

import tomllib
from pathlib import Path

import copier
import yaml
from cli_helpers import REPO_ROOT

LOCK = REPO_ROOT / "template" / "uv.lock.jinja"
IMPORT_NAMES = REPO_ROOT / "import_names.yml"


def _locked_packages() -> dict[str, str]:
    """Name and version of every package the lock takes from an index."""
    lock = tomllib.loads(LOCK.read_text(encoding="utf-8"))
    return {
        package["name"]: package["version"]
        for package in lock["package"]
        if "registry" in package.get("source", {})
    }


def _computed_names(tmp_path: Path) -> tuple[list[str], list[str]]:
    """locked_distributions and locked_import_names as copier computes them from copier.yml."""
    template = tmp_path / "names-template"
    (template / "template").mkdir(parents=True)
    for name in ("copier.yml", "import_names.yml"):
        (template / name).write_bytes((REPO_ROOT / name).read_bytes())
    (template / "template" / "uv.lock.jinja").write_bytes(LOCK.read_bytes())
    # In place of the project: a file that shows the two computed values.
    (template / "template" / "names.yml.jinja").write_text(
        "distributions: {{ locked_distributions | to_json }}\n"
        "modules: {{ locked_import_names | to_json }}\n",
        encoding="utf-8",
    )
    copier.run_copy(str(template), tmp_path / "rendered", defaults=True, quiet=True)
    shown = yaml.safe_load((tmp_path / "rendered" / "names.yml").read_text(encoding="utf-8"))
    return shown["distributions"], shown["modules"]


def test_import_names_cover_exactly_the_locked_packages() -> None:
    listed = yaml.safe_load(IMPORT_NAMES.read_text(encoding="utf-8"))

    recorded = {name: entry["version"] for name, entry in listed.items()}
    assert recorded == _locked_packages(), (
        "import_names.yml does not match template/uv.lock.jinja: run python scripts/relock.py"
    )


def test_copier_refuses_every_locked_distribution_and_module(tmp_path: Path) -> None:
    distributions, modules = _computed_names(tmp_path)

    locked = _locked_packages()
    assert sorted(distributions) == sorted(locked)
    listed = yaml.safe_load(IMPORT_NAMES.read_text(encoding="utf-8"))
    expected_modules = {name.replace("-", "_") for name in locked} | {
        module for entry in listed.values() for module in entry["imports"]
    }
    assert set(modules) == expected_modules
    assert {"yaml", "dotenv", "_pytest", "opentelemetry"} <= set(modules)
