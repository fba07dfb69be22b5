"""The `make secrets-scan` gate (ci/secrets_scan.py): which files it scans, and what it finds."""

import subprocess
from pathlib import Path

from ci.secrets_scan import findings, project_files

# An AWS access key id of the shape AWS documents, which detect-secrets' AWSKeyDetector matches.
FAKE_AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"


def write(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x = 1\n")


def test_outside_git_everything_but_what_git_ignores_is_scanned(tmp_path: Path) -> None:
    write(tmp_path, "src/app.py", "Makefile", "k8s/overlays/dev/secrets.env.example")
    write(tmp_path, ".venv/lib/a.py", "build/sbom.cdx.json", ".mypy_cache/x", "src/__pycache__/a")
    write(tmp_path, ".env", "k8s/overlays/staging/secrets.env", "service.db")
    assert project_files(tmp_path) == [
        "Makefile",
        "k8s/overlays/dev/secrets.env.example",
        "src/app.py",
    ]


def test_in_git_the_files_a_commit_could_take_are_scanned(tmp_path: Path) -> None:
    write(tmp_path, "tracked.py", "deleted.py", "new.py", "ignored.log")
    (tmp_path / ".gitignore").write_text("*.log\n")
    git = ["git", "-C", str(tmp_path)]
    subprocess.run([*git, "init", "--quiet"], check=True)  # noqa: S603 (git, fixed arguments)
    subprocess.run([*git, "add", "tracked.py", "deleted.py"], check=True)  # noqa: S603
    (tmp_path / "deleted.py").unlink()
    assert project_files(tmp_path) == [".gitignore", "new.py", "tracked.py"]


def test_a_key_is_found_and_an_allowlisted_placeholder_is_not(tmp_path: Path) -> None:
    (tmp_path / "settings.py").write_text(
        f'KEY = "{FAKE_AWS_KEY}"\n'
        f'EXAMPLE = "{FAKE_AWS_KEY[:-1]}Z"  # pragma: allowlist secret (documentation)\n'
    )
    (tmp_path / "clean.py").write_text("x = 1\n")
    assert findings(tmp_path, ["clean.py", "settings.py"]) == ["settings.py:1: AWS Access Key"]
