"""The `prodready` command line: new, update, options and --version."""

import os
import shlex
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import __version__
from .answers import parse_set_options, read_answers_file
from .check import check_versions
from .checklist import checklist_json, checklist_table, load_checklist
from .create import CreatedProject, check_destination, create_project
from .errors import ATTENTION, BAD_INPUT, FAILED, INTERRUPTED, CliError
from .interrupts import Interrupted, raise_on_stop_signals
from .jsonout import json_document
from .naming import destination_name_explained, name_from_destination
from .questions import Question
from .source import TemplateSource
from .update import UpdateRequest, apply_update, planned_update
from .update_report import next_steps, update_summary

app = typer.Typer(
    name="prodready",
    help="Generate production-ready FastAPI services and keep them current with copier update.",
    context_settings={"help_option_names": ["-h", "--help"]},
    # Click's plain help: Typer's rich panels label every flag `<bool>`, as if it took a value.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

SetOptions = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        help="Answer a question (repeatable); see `prodready options` for the questions.",
        show_default=False,
    ),
]
TemplateOption = Annotated[
    str | None,
    typer.Option(
        "--template",
        metavar="SRC",
        help="Use this copier template (path, git URL, gh:owner/repo) instead of the shipped one.",
        show_default=False,
    ),
]


def _print_version(requested: bool) -> None:
    if requested:
        print(f"prodready {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def _root(
    context: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Show the version and exit.", is_eager=True, callback=_print_version
        ),
    ] = False,
) -> None:
    if context.invoked_subcommand is None:
        print(context.get_help())


@app.command()
def new(
    destination: Annotated[
        str,  # not Path: Path("") would be ".", and an empty argument is a mistake
        typer.Argument(
            metavar="DEST",
            help="Directory to create (or an empty one to fill).",
            show_default=False,
        ),
    ],
    defaults: Annotated[
        bool, typer.Option("--defaults", help="Use the default for every question not answered.")
    ] = False,
    set_options: SetOptions = None,
    answers_file: Annotated[
        Path | None,
        typer.Option(
            "--answers-file",
            metavar="FILE",
            help="YAML mapping of answers; --set wins over it.",
            show_default=False,
        ),
    ] = None,
    template: TemplateOption = None,
    vcs_ref: Annotated[
        str | None,
        typer.Option(
            "--vcs-ref",
            metavar="REF",
            help="Tag or commit of --template to use (default: its latest tag).",
            show_default=False,
        ),
    ] = None,
    git: Annotated[
        bool | None,
        typer.Option(
            "--git/--no-git",
            help="Make DEST a git repository with a first commit (default: yes, unless DEST is "
            "inside a git work tree already).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Generate a new service (named after DEST unless --set project_name=... says otherwise)."""
    if vcs_ref and not template:
        raise CliError(
            "--vcs-ref selects a version of --template; the shipped template has one version"
        )
    if not destination.strip():
        raise CliError("DEST is empty: name the directory to create (or `.` for this one)")
    source = TemplateSource(_usable_location(template), vcs_ref) if template else TemplateSource()
    # Lexically absolute: `new .` and `new ../svc` are named after what they point at.
    target = Path(os.path.abspath(destination))
    check_destination(target)
    questionnaire = source.questionnaire()
    answers = read_answers_file(answers_file, questionnaire) if answers_file else {}
    answers.update(parse_set_options(set_options or [], questionnaire))
    if not defaults and not sys.stdin.isatty():
        missing = questionnaire.unanswered(answers)
        if missing:
            raise CliError(
                f"stdin is not a terminal, so nothing can ask for {', '.join(missing)}: "
                "answer with --set NAME=VALUE (or --answers-file) or use --defaults"
            )
    user_defaults = name_from_destination(target, questionnaire, answers)
    with destination_name_explained(user_defaults, answers):
        created = create_project(
            target,
            source,
            answers,
            defaults=defaults,
            user_defaults=user_defaults,
            git=git,
            notify=print,
        )
    named = target if target == Path.cwd() else destination  # `.` says little
    print(
        f"Created {named} from {source.describe()}"
        + (f" at {created.version}." if created.version else ".")
    )
    _say_what_git_holds(created, target, asked=git)
    change_directory = "" if target == Path.cwd() else f"  cd {shlex.quote(destination)}\n"
    print(
        "\nNext steps:\n"
        f"{change_directory}"
        "  make install   # uv sync --locked: the locked environment in .venv, uv included\n"
        "  make migrate   # the schema to the newest migration (a newer schema is left alone)\n"
        "  make run       # serves http://127.0.0.1:8000 (API docs at /docs)\n"
        "  make test\n"
        "make install needs uv on PATH once (prodready's environment has it, or pip install uv);\n"
        "then make uses .venv/bin/uv, so these work from a new shell with nothing activated."
    )


def _say_what_git_holds(created: CreatedProject, target: Path, *, asked: bool | None) -> None:
    enclosing = created.enclosing_work_tree
    if created.repository:
        nested = f", nested in the repository at {enclosing} as --git asked" if enclosing else ""
        print(
            f"Initialised a git repository holding the generated files as its first commit{nested}."
        )
    elif enclosing is not None and asked is None:
        top, inside = shlex.quote(str(enclosing)), os.path.relpath(target, enclosing)
        message = shlex.quote(f"Generate {inside} with prodready")
        print(
            f"{target} is inside the git repository at {enclosing}, so it is not made a "
            "repository of its own (--git makes one). Commit the files there, so that "
            "`prodready update` can work:\n"
            f"  git -C {top} add {shlex.quote(inside)} && git -C {top} commit -m {message}"
        )
    elif asked is not False:
        print("git is not installed, so no repository was created; `prodready update` needs one.")


@app.command()
def update(
    path: Annotated[Path, typer.Argument(help="The project to update.")] = Path("."),
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            metavar="REF",
            help="Template tag or commit to move to (default: the latest tag).",
            show_default=False,
        ),
    ] = None,
    set_options: SetOptions = None,
    defaults: Annotated[
        bool,
        typer.Option(
            "--defaults",
            help="Use the default for new questions (implied when stdin is not a terminal).",
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="List what the update would change and conflict; write nothing."
        ),
    ] = False,
) -> None:
    """Bring a generated project up to a newer template version; your changes are kept.

    Exit status: 0 done (or nothing to do), 1 conflicts for you to resolve, 2 refused before
    anything was written, 3 failed while working (git, network, template).
    """
    project = path.absolute()
    terminal = sys.stdin.isatty()
    request = UpdateRequest(
        to_ref=to, set_options=set_options or [], defaults=defaults or not terminal
    )
    if defaults:
        new_answers_from = "its default, --defaults"
    else:
        new_answers_from = "your answer" if terminal else "its default: no terminal to ask on"
    with planned_update(project, request) as (plan, scratch):
        if not dry_run:
            apply_update(plan, scratch, project)
    print("\n".join(update_summary(plan, dry_run=dry_run, new_answers_from=new_answers_from)))
    steps = next_steps(plan, project, dry_run=dry_run)
    if steps:
        print("\n" + "\n".join(steps))
    if plan.conflicts:
        raise typer.Exit(ATTENTION)


@app.command()
def check(
    path: Annotated[Path, typer.Argument(help="The project to check.")] = Path("."),
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON object (with schema_version).")
    ] = False,
) -> None:
    """Say whether a newer template release exists, without updating.

    Exit status: 0 the project is at the newest release, 1 a newer one exists, 2 any error.
    """
    try:
        result = check_versions(path.absolute())
    except CliError as error:
        # One status for every error, so a scheduled job can tell "act" (1) from "broken" (2).
        raise CliError(error.message, BAD_INPUT) from error
    print(result.as_json() if as_json else result.as_text())
    if result.update_available:
        raise typer.Exit(ATTENTION)


@app.command()
def options(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON list instead of a table.")
    ] = False,
    template: TemplateOption = None,
) -> None:
    """List the questions a new service is generated from."""
    source = TemplateSource(_usable_location(template)) if template else TemplateSource()
    questions = list(source.questionnaire().questions.values())
    names = [question.name for question in questions]
    if as_json:
        listing = [
            {
                "name": q.name,
                "type": q.type,
                "default": q.default,
                "derived_from": q.derived_from(names),
                "choices": [] if isinstance(q.choices, str) else q.choices,
                "choice_labels": q.choice_labels,
                "help": q.help,
            }
            for q in questions
        ]
        print(json_document(template=source.describe(), questions=listing))
        return
    table = Table(title=f"Questions of {source.describe()}")
    table.add_column("Question", no_wrap=True)
    table.add_column("Type", no_wrap=True)
    table.add_column("Default", ratio=1)
    table.add_column("Choices", ratio=1)
    table.add_column("Help", ratio=2)
    for q in questions:
        # Text, not str: a default or help text with [brackets] is not rich markup.
        cells = (q.name, q.type, _default_in_words(q, names), _choices(q), q.help)
        table.add_row(*(Text(cell) for cell in cells))
    Console().print(table)


def _default_in_words(question: Question, names: list[str]) -> str:
    """A fixed default as it is; a computed one by what it is computed from, not as Jinja."""
    derived_from = question.derived_from(names)
    if derived_from:
        return f"derived from {', '.join(derived_from)}"
    if isinstance(question.default, str) and ("{{" in question.default or "{%" in question.default):
        return "computed by the template"
    return _shown(question.default)


def _choices(question: Question) -> str:
    """Each choice as `--set` takes it, a line each, with the template's label where it differs."""
    if isinstance(question.choices, str):
        return "computed by the template"
    return "\n".join(
        str(value) if label == str(value) else f"{value}: {label}"
        for label, value in zip(question.choice_labels, question.choices, strict=True)
    )


@app.command()
def checklist(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON list instead of a table.")
    ] = False,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            metavar="STATUS",
            help=(
                "Only items with this status: done (the generated project checks it), harness"
                " (only prodready's own tests check it), partial or planned."
            ),
            show_default=False,
        ),
    ] = None,
    area: Annotated[
        str | None,
        typer.Option(
            "--area",
            metavar="AREA",
            help="Only items of this area, such as SEC or OBS.",
            show_default=False,
        ),
    ] = None,
    wide: Annotated[
        bool,
        typer.Option(
            "--wide", help="Evidence and verifiers in columns of their own (needs a wide terminal)."
        ),
    ] = False,
) -> None:
    """List the production-readiness checklist, with what proves each item."""
    items = load_checklist().select(status=status, area=area)
    if as_json:
        print(checklist_json(items))
        return
    Console().print(checklist_table(items, wide=wide))


def _shown(value: Any) -> str:
    """A value as it is written in YAML and on the command line (`false`, not `False`)."""
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else str(value)


def _usable_location(template: str) -> str:
    """A local template as an absolute path: copier records it, and updates run elsewhere."""
    local = Path(template).expanduser()
    return str(local.resolve()) if local.exists() else template


def _report(message: str) -> None:
    # One line, whatever the message holds, so scripts can rely on the shape of errors.
    print(f"prodready: {' '.join(message.split())}", file=sys.stderr)


_warned: set[str] = set()


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    # Once each: copier repeats some ("No git tags found...") for every clone it makes.
    if str(message) not in _warned:
        _warned.add(str(message))
        _report(f"warning: {message}")


def main() -> None:
    """Run the CLI; every failure ends as one `prodready: error: ...` line and an exit status."""
    warnings.showwarning = _show_warning
    raise_on_stop_signals()
    try:
        status = app(prog_name="prodready", standalone_mode=False)
    except Interrupted:
        # Every `with` on the way here has removed what it staged.
        _report("error: interrupted")
        sys.exit(INTERRUPTED)
    except CliError as error:
        _report(f"error: {error.message}")
        sys.exit(error.exit_code)
    except typer.TyperException as error:
        # Click's usage errors (unknown option, missing argument...), without Typer's panel.
        context = getattr(error, "ctx", None)
        command = context.command_path if context is not None else "prodready"
        _report(f"error: {error.format_message()} (see {command} --help)")
        sys.exit(error.exit_code)
    except typer.Abort:
        _report("error: aborted")
        sys.exit(FAILED)
    except OSError as error:
        # The filesystem refused (permissions, a full disk, a name too long): report, not trace.
        where = f": {error.filename}" if error.filename else ""
        _report(f"error: {error.strerror or error}{where}")
        sys.exit(FAILED)
    sys.exit(status if isinstance(status, int) else 0)
