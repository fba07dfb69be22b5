"""The one error type the CLI reports, and the translation of copier's failures into it."""

from collections.abc import Iterator
from contextlib import contextmanager

from copier.errors import CopierError, InteractiveSessionError, UserMessageError
from jinja2 import TemplateError
from plumbum import ProcessExecutionError

# Exit statuses, the same for every command (docs/updating.md lists them for scripts and CI jobs).
DONE = 0
"""The command did what was asked."""

ATTENTION = 1
"""It worked, and the user has something to do: conflicts to resolve, a newer template to take."""

BAD_INPUT = 2
"""Refused before anything was written: a usage error, or an answer, path or option to fix."""

FAILED = 3
"""A failure while doing the work (git, the network, a template that does not render...)."""

INTERRUPTED = 130
"""Stopped by SIGINT or SIGTERM; what the run had staged is removed (128 + SIGINT, as shells do)."""


def git_complaint(stderr: str, returncode: int) -> str:
    """The line of git's stderr that says what went wrong: its first `fatal:`/`error:` line.

    The last line is often advice ("hint: ...", "and the repository exists.").
    """
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line
    return lines[-1] if lines else f"exit status {returncode}"


class CliError(Exception):
    """A failure the CLI reports as one `prodready: error: ...` line and an exit status."""

    def __init__(self, message: str, exit_code: int = BAD_INPUT) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


@contextmanager
def copier_errors_reported() -> Iterator[None]:
    """Turn what copier raises for bad answers or a failed run into a `CliError`.

    Copier reports invalid answers (validators, choices, required questions, a source that
    is not a template) as ValueError: those are the user's input, so they exit with
    BAD_INPUT. A template that does not render and a failing git are failures of the work.
    Git's failures surface as plumbum's ProcessExecutionError, whose text spans many lines;
    `git_complaint` picks the one that says what went wrong.
    """
    try:
        yield
    except InteractiveSessionError as error:
        raise CliError(
            "stdin is not a terminal and the template asks a question that has no answer: "
            "answer it with --set NAME=VALUE or use --defaults"
        ) from error
    except UserMessageError as error:
        raise CliError(error.message, FAILED) from error
    except ValueError as error:
        raise CliError(str(error)) from error
    except ProcessExecutionError as error:
        reason = git_complaint(str(error.stderr), int(error.retcode or 0))
        raise CliError(f"git failed: {reason}", FAILED) from error
    except CopierError as error:
        raise CliError(f"copier failed: {error}", FAILED) from error
    except TemplateError as error:
        raise CliError(f"the template does not render: {error}", FAILED) from error
