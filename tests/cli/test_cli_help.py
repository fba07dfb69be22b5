"""Help as a user meets it: -h everywhere, flags shown without a value, shell completion."""

import pytest
from cli_helpers import Cli

COMMANDS = ["new", "update", "options", "checklist"]


@pytest.mark.parametrize("command", [[], *([name] for name in COMMANDS)])
def test_dash_h_is_help(cli: Cli, command: list[str]) -> None:
    short = cli(*command, "-h")
    long = cli(*command, "--help")

    assert short.returncode == 0, short.stderr
    assert short.stdout == long.stdout
    assert short.stdout.startswith("Usage: prodready")
    assert "-h, --help" in short.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_flags_take_no_value_placeholder(cli: Cli, command: str) -> None:
    result = cli(command, "--help", env={"COLUMNS": "120"})

    assert result.returncode == 0, result.stderr
    assert "<bool>" not in result.stdout
    # Options that do take a value name it.
    for line in result.stdout.splitlines():
        if line.strip().startswith("--set"):
            assert "--set KEY=VALUE" in line


def test_new_names_its_argument(cli: Cli) -> None:
    assert "Usage: prodready new [OPTIONS] {DEST}" in cli("new", "--help").stdout


def test_completion_script_for_bash(cli: Cli) -> None:
    result = cli("--show-completion", "bash", env={"SHELL": "/bin/bash"})

    assert result.returncode == 0, result.stderr
    assert "_PRODREADY_COMPLETE=complete_bash" in result.stdout
    assert "complete -o default -F" in result.stdout


def test_completion_completes_commands_and_options(cli: Cli) -> None:
    # What the shell function asks the program: the words so far and the word being completed.
    env = {"_PRODREADY_COMPLETE": "complete_bash", "COMP_WORDS": "prodready ch", "COMP_CWORD": "1"}
    commands = cli(env=env)
    env = {**env, "COMP_WORDS": "prodready checklist --st", "COMP_CWORD": "2"}
    options = cli(env=env)

    assert commands.returncode == 0, commands.stderr
    assert "checklist" in commands.stdout.split()
    assert "--status" in options.stdout.split()
