"""This repository's own code passes the checks it asks of generated projects."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PYTHON_SOURCES = ["generator", "tests", "scripts", "benchmarks"]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}\n{result.stderr}"
    return result


def test_ruff_finds_nothing() -> None:
    run(str(BIN / "ruff"), "check", *PYTHON_SOURCES)


def test_formatter_changes_nothing() -> None:
    run(str(BIN / "ruff"), "format", "--check", *PYTHON_SOURCES)


def test_mypy_strict_passes_on_the_generator() -> None:
    run(str(BIN / "mypy"))


@pytest.mark.parametrize("config", [".pre-commit-config.yaml", "template/.pre-commit-config.yaml"])
def test_pre_commit_configs_are_valid(config: str) -> None:
    run(str(BIN / "pre-commit"), "validate-config", config)
