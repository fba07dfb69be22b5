"""Session fixtures: each option set is rendered and installed once and shared by every test."""

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from .environment import find_python, free_port, fresh_postgres_database, tool_env, unavailable
from .matrix import default_answers, option_sets
from .project import GeneratedProject, RunningService, serve
from .template import render

OPTION_SETS = option_sets()
DEFAULT_SET = next(name for name, answers in OPTION_SETS.items() if answers == default_answers())
# For what no option changes: `project` (and `service`) of the default option set alone.
on_the_default_set = pytest.mark.parametrize("project", [DEFAULT_SET], indirect=True)


@pytest.fixture(scope="session", params=list(OPTION_SETS), ids=list(OPTION_SETS))
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Just the rendered files of an option set, for static checks that need no install."""
    destination = tmp_path_factory.mktemp("rendered") / "service"
    render(destination, OPTION_SETS[request.param])
    return destination


@pytest.fixture(scope="session", params=list(OPTION_SETS), ids=list(OPTION_SETS))
def project(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GeneratedProject]:
    answers = OPTION_SETS[request.param]
    python = find_python(answers["python_version"])
    if python is None:
        unavailable(f"Python {answers['python_version']} is not installed on this machine")
    assert python is not None
    with ExitStack() as cleanup:
        destination = tmp_path_factory.mktemp("project") / "service"
        render(destination, answers)
        generated = GeneratedProject(path=destination, answers=answers, env=tool_env(python))
        if answers["database"] == "postgresql":
            generated.database_url = cleanup.enter_context(fresh_postgres_database("live"))
            generated.test_database_url = cleanup.enter_context(fresh_postgres_database("tests"))
        generated.run("make", "install")
        cleanup.enter_context(generated.identity_provider())
        yield generated


@pytest.fixture(scope="session")
def service(
    project: GeneratedProject, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    """The project served by its own `make migrate` and `make run`, on a free port; its `client`
    is signed in as an admin, its `anonymous` client is not."""
    project.run("make", "migrate")
    port = free_port()
    log_path = tmp_path_factory.mktemp("logs") / "service.log"
    with serve(
        project, ["make", "--silent", "run", f"PORT={port}"], port=port, log_path=log_path
    ) as running:
        # Signed in as an admin, as the project's own CI steps sign in (ci/credentials.py).
        running.client.headers.update(project.admin_headers(running.url))
        yield running
