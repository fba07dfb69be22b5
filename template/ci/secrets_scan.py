"""`make secrets-scan`: detect-secrets over the project's files, failing on any finding.

In a git repository the files are those a commit could take: tracked, or untracked and not
ignored, so a new file is scanned before its first commit. Elsewhere (a fresh render, an
unpacked archive) every file is, minus what .gitignore keeps out of git by the same names.
A placeholder that looks like a secret but is not one ends its line with
`# pragma: allowlist secret` and the reason: unlike a baseline, that needs no line numbers,
which differ between option sets and move with every edit.
"""

import subprocess
import sys
from pathlib import Path

from detect_secrets.core.secrets_collection import SecretsCollection
from detect_secrets.settings import default_settings

# What .gitignore keeps out of the repository: a scan outside git skips the same.
IGNORED_DIRECTORIES = {
    *(".git", ".venv", "build", "dist", "htmlcov", "__pycache__"),
    *(".mypy_cache", ".ruff_cache", ".pytest_cache"),
}
IGNORED_FILES = {".env", "secrets.env", ".coverage", "coverage.xml"}
IGNORED_SUFFIXES = {".db", ".db-journal", ".pyc", ".pyo", ".pyd"}


def project_files(root: Path) -> list[str]:
    """The files to scan, relative to `root`, sorted."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607 (git from PATH, as a user's)
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode == 0:
        # A tracked file deleted in the work tree is still listed: nothing is left to scan.
        names = [name for name in listed.stdout.split("\0") if name and (root / name).is_file()]
        return sorted(set(names))
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file()
        and not IGNORED_DIRECTORIES.intersection(path.relative_to(root).parts[:-1])
        and path.name not in IGNORED_FILES
        and path.suffix not in IGNORED_SUFFIXES
    )


def findings(root: Path, files: list[str]) -> list[str]:
    """`path:line: type` of every potential secret detect-secrets' default plugins find."""
    secrets = SecretsCollection(root=str(root))
    with default_settings():
        secrets.scan_files(*files)
    return sorted(f"{filename}:{secret.line_number}: {secret.type}" for filename, secret in secrets)


def main() -> int:
    root = Path.cwd()
    files = project_files(root)
    if not files:
        print("secrets-scan FAILED: no file to scan", file=sys.stderr)
        return 1
    found = findings(root, files)
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print(
            f"secrets-scan FAILED: {len(found)} potential secrets in {len(files)} files "
            "(a real one: remove it and rotate it; a placeholder: end its line with "
            "`# pragma: allowlist secret` and why)",
            file=sys.stderr,
        )
        return 1
    print(f"secrets-scan: {len(files)} files scanned, no potential secret")
    return 0


if __name__ == "__main__":
    sys.exit(main())
