"""Regenerate template/uv.lock.jinja: the one lock every generated service installs from.

Renders the template with its defaults, runs `uv lock` there (keeping the current pins unless
--upgrade is given) and stores the result with the project's own name turned back into the
`{{ project_slug }}` variable. uv compares locks by content, not line order, so one lock fits every
slug; every option's extra is always listed in pyproject.toml, so it fits every option set too.
The harness proves both (`uv sync --locked` for each rendered option set).

    python scripts/relock.py [--upgrade]
"""

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import copier

REPO = Path(__file__).resolve().parent.parent
LOCK_TEMPLATE = REPO / "template" / "uv.lock.jinja"
DEFAULT_SLUG = "my-service"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upgrade", action="store_true", help="move every pin to the newest")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch) / "project"
        copier.run_copy(str(REPO), project, defaults=True, quiet=True, vcs_ref="HEAD")
        command = ["uv", "lock", *(["--upgrade"] if args.upgrade else [])]
        subprocess.run(command, cwd=project, check=True)
        lock = (project / "uv.lock").read_text()
    own_name = f'\nname = "{DEFAULT_SLUG}"\n'
    if lock.count(own_name) != 1 or re.search(r"{{|{%", lock):
        sys.exit("unexpected lock content: the project's name must appear exactly once")
    LOCK_TEMPLATE.write_text(lock.replace(own_name, '\nname = "{{ project_slug }}"\n'))
    print(f"wrote {LOCK_TEMPLATE.relative_to(REPO)}")


if __name__ == "__main__":
    main()
