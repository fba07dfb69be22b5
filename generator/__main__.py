"""`python -m prodready` runs the CLI."""

from .cli import main

main()
