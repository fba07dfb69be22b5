"""The `prodready` command (and `python -m prodready`): Ctrl-C is caught before the slow imports.

Importing the CLI (copier, typer, rich) takes about half a second; a SIGINT then would print a
KeyboardInterrupt traceback, and a SIGTERM would end the process without a word.
"""

import sys

from .errors import INTERRUPTED
from .interrupts import Interrupted, raise_on_stop_signals


def main() -> None:
    raise_on_stop_signals()
    try:
        from .cli import main as run_cli
    except Interrupted:
        print("prodready: error: interrupted", file=sys.stderr)
        sys.exit(INTERRUPTED)
    run_cli()


if __name__ == "__main__":
    main()
