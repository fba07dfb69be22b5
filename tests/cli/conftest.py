"""Fixtures for the CLI tests: the installed script, isolated from the machine's configuration."""

import os
from pathlib import Path

import pytest
from cli_helpers import Cli


@pytest.fixture
def user_home(tmp_path: Path) -> Path:
    """A home directory whose git configuration holds only an identity."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Service Developer\n\temail = developer@example.com\n", encoding="utf-8"
    )
    return home


@pytest.fixture
def cli(installed_prodready: Path, user_home: Path) -> Cli:
    """`prodready` isolated from the machine: its own git config, copier settings and caches."""
    inherited = {
        key: value for key, value in os.environ.items() if not key.startswith(("GIT_", "COPIER_"))
    }
    return Cli(
        installed_prodready,
        {
            **inherited,
            "HOME": str(user_home),
            "XDG_CONFIG_HOME": str(user_home / ".config"),
            "XDG_CACHE_HOME": str(user_home / ".cache"),
            "GIT_CONFIG_GLOBAL": str(user_home / ".gitconfig"),
            "GIT_CONFIG_NOSYSTEM": "1",
        },
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty directory to create projects in; tests compare it to find stray files."""
    directory = tmp_path / "work"
    directory.mkdir()
    return directory
