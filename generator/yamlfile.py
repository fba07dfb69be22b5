"""YAML written by users (answers files), read so that no input can hang or exhaust prodready.

A few hundred bytes of nested aliases (a "billion laughs" document) expand to gigabytes when
loaded, so aliases are refused while the document is composed, before anything is expanded; the
file's size is bounded before it is read. Every problem is one CliError naming the file.
"""

from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import Node

from .errors import CliError

MAX_YAML_BYTES = 256 * 1024
"""Far above any answers file (a few hundred bytes), far below what could hurt."""

MAX_YAML_DEPTH = 20
"""Answers are scalars, or lists and mappings of them: a few levels at most."""


class _Refused(yaml.MarkedYAMLError):
    """Valid YAML that is not read: an alias, or nesting too deep."""


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that stops at the first alias, and at nesting no answer needs, before either
    is expanded (PyYAML composes recursively: a 2 KB `[[[[...]]]]` overflows Python's stack)."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if self.check_event(AliasEvent):
            raise _Refused(
                problem=f"it uses a YAML alias (*{event.anchor}), and aliases are not accepted",
                problem_mark=event.start_mark,
            )
        if self._depth >= MAX_YAML_DEPTH:
            raise _Refused(
                problem=f"it nests deeper than {MAX_YAML_DEPTH} levels",
                problem_mark=event.start_mark,
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def parse_yaml(text: str, *, where: str) -> Any:
    """`text` parsed as YAML without aliases; `where` names the input in the error."""
    if len(text.encode("utf-8", errors="replace")) > MAX_YAML_BYTES:
        raise CliError(f"{where} is larger than {MAX_YAML_BYTES // 1024} KiB")
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506  (a SafeLoader subclass)
    except _Refused as error:
        raise CliError(f"{where} is refused: {yaml_problem(error)}") from error
    except yaml.YAMLError as error:
        raise CliError(f"{where} is not valid YAML: {yaml_problem(error)}") from error


def read_yaml_file(path: Path, *, what: str) -> Any:
    """The content of the YAML file `path`; `what` says what it is ("answers file")."""
    where = f"{what} {path}"
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise CliError(f"{where} is larger than {MAX_YAML_BYTES // 1024} KiB ({size} bytes)")
        if not path.is_file():
            raise CliError(f"{where} is not a file")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise CliError(f"{where} does not exist") from error
    except UnicodeDecodeError as error:
        raise CliError(f"cannot read {where}: it is not UTF-8 text") from error
    except OSError as error:
        raise CliError(f"cannot read {where}: {error.strerror or error}") from error
    return parse_yaml(text, where=where)


def yaml_problem(error: yaml.YAMLError) -> str:
    """What is wrong and where, in one line."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        return f"{error.problem} (line {error.problem_mark.line + 1})"
    return " ".join(str(error).split())
