"""Answers files and `--set` values are checked against their question's type before copier runs.

Copier itself would take `gitops: 5` or `gitops: [a]` as true and expand any YAML alias, so a
few hundred bytes could hold it for a minute and end in a MemoryError.
"""

import time
from pathlib import Path

import pytest
from cli_helpers import Cli, assert_single_error, snapshot

# Nine aliases to nine aliases... to a list: small on disk, about 10^9 items once expanded.
YAML_BOMB = "".join(
    [
        "a0: &a0 [x, x, x, x, x, x, x, x, x]\n",
        *(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]\n" for n in range(1, 9)),
        "_bomb: [*a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8]\n",
    ]
)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("gitops: 5\n", "gitops expects true/false/yes/no/1/0, not 5", id="bool-5"),
        pytest.param(
            "gitops: [a]\n", 'gitops expects true/false/yes/no/1/0, not ["a"]', id="bool-list"
        ),
        pytest.param(
            "canary: {on: 1}\n", "canary expects true/false/yes/no/1/0, not {", id="bool-mapping"
        ),
        pytest.param(
            "project_name: [Order, Service]\n",
            'project_name expects text, not ["Order", "Service"]',
            id="text-list",
        ),
        pytest.param("project_name:\n", "project_name expects text, not null", id="text-empty"),
        pytest.param("description: yes\n", "description expects text, not true", id="text-bool"),
        pytest.param(
            f"description: {'x' * 5000}\n",
            "description is longer than 4096 characters",
            id="text-too-long",
        ),
        pytest.param(
            YAML_BOMB, "uses a YAML alias (*a0), and aliases are not accepted (line 2)", id="bomb"
        ),
        pytest.param(
            "project_name: &name Order\nproject_slug: *name\n",
            "uses a YAML alias (*name), and aliases are not accepted (line 2)",
            id="any-alias",
        ),
        pytest.param(
            "description: '" + "x" * 300_000 + "'\n", "is larger than 256 KiB", id="too-large"
        ),
        pytest.param(
            "description: " + "[" * 5000 + "]" * 5000 + "\n",
            "is refused: it nests deeper than 20 levels (line 1)",
            id="deep-nesting",
        ),
    ],
)
def test_answers_file_values_are_type_checked(
    cli: Cli, workdir: Path, content: str, message: str
) -> None:
    (workdir / "answers.yml").write_text(content, encoding="utf-8")
    before = snapshot(workdir)
    started = time.monotonic()

    result = cli("new", "svc", "--defaults", "--answers-file", "answers.yml", cwd=workdir)

    assert_single_error(result, 2, message)
    assert "answers file answers.yml" in result.stderr
    assert snapshot(workdir) == before
    # Not a timing assertion on speed: a bomb that were expanded would take a minute, not seconds.
    assert time.monotonic() - started < 60


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("gitops=5", "--set gitops=5: gitops expects true/false/yes/no/1/0, not '5'"),
        ("canary=[a]", "--set canary=[a]: canary expects true/false/yes/no/1/0, not '[a]'"),
        (f"description={'x' * 5000}", "description is longer than 4096 characters"),
    ],
)
def test_set_values_are_type_checked(
    cli: Cli, workdir: Path, assignment: str, message: str
) -> None:
    result = cli("new", "svc", "--defaults", "--set", assignment, cwd=workdir)

    assert_single_error(result, 2, message)
    assert snapshot(workdir) == {}


def test_an_answers_file_of_well_typed_values_is_used(cli: Cli, workdir: Path) -> None:
    # YAML's own booleans and a version that YAML reads as a number are what users write.
    (workdir / "answers.yml").write_text(
        "project_name: Order Service\npython_version: 3.12\ngitops: yes\ncanary: 0\n",
        encoding="utf-8",
    )

    result = cli("new", "svc", "--defaults", "--answers-file", "answers.yml", cwd=workdir)

    assert result.returncode == 0, result.stderr
    answers = (workdir / "svc" / ".copier-answers.yml").read_text(encoding="utf-8")
    assert "project_name: Order Service\n" in answers
    assert "python_version: '3.12'\n" in answers
    assert "gitops: true\n" in answers
    assert "canary: false\n" in answers
    assert "external_secrets: true\n" in answers
