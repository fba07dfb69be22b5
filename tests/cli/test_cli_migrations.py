"""Updating across releases that rename files: copier `_migrations` and the user's edits.

A temporary upstream has three releases. v2.0.0 renames `notes/` to `handbook/` (a template file
the user may edit, and a directory the user may add files to) and ships a migration that moves
the user's own files along; v3.0.0 changes something else. A project generated from each earlier
release, edited, then updated to v3.0.0 keeps every edit.
"""

from pathlib import Path

import pytest
from cli_helpers import REPO_ROOT, Cli, append_line, commit_all, git, release, template_source_of
from prodready.source import copy_template

GUIDE = "# Team guide\n\nHow we work on {{ project_name }}.\n\nAsk in the team channel.\n"
USER_GUIDE_LINE = "On call: see the rota."
USER_README_LINE = "Run `make run` and open http://127.0.0.1:8000/docs."
TEAM_NOTES = "Alice owns the deploys.\n"
V3_LINE = "# Changed in v3."

# The rename's migration: after copier has updated the files, move what the user kept in
# notes/ (copier removes only the files the old release rendered there).
MIGRATION = """
_migrations:
  - version: v2.0.0
    command: "[ ! -d notes ] || { mkdir -p handbook && mv notes/* handbook/ && rmdir notes; }"
"""


def _upstream_with_three_releases(path: Path) -> Path:
    copy_template(REPO_ROOT, path)
    (path / "template" / "notes").mkdir()
    (path / "template" / "notes" / "guide.md.jinja").write_text(GUIDE, encoding="utf-8")
    git(path, "init", "--quiet")
    release(path, "v1.0.0")
    git(path, "mv", "template/notes", "template/handbook")
    guide = path / "template" / "handbook" / "guide.md.jinja"
    guide.write_text(GUIDE.replace("# Team guide", "# Handbook"), encoding="utf-8")
    append_line(path / "copier.yml", MIGRATION)
    release(path, "v2.0.0")
    append_line(template_source_of(path, "Makefile"), V3_LINE)
    release(path, "v3.0.0")
    return path


@pytest.mark.parametrize("generated_from", ["v1.0.0", "v2.0.0"])
def test_every_edit_survives_the_update_to_the_newest_release(
    cli: Cli, workdir: Path, tmp_path: Path, generated_from: str
) -> None:
    upstream = _upstream_with_three_releases(tmp_path / "upstream")
    result = cli(
        "new", "svc", "--defaults", "--template", upstream, "--vcs-ref", generated_from, cwd=workdir
    )
    assert result.returncode == 0, result.stderr
    project = workdir / "svc"
    notes_dir = "notes" if generated_from == "v1.0.0" else "handbook"
    append_line(project / notes_dir / "guide.md", USER_GUIDE_LINE)
    (project / notes_dir / "team.md").write_text(TEAM_NOTES, encoding="utf-8")
    append_line(project / "README.md", USER_README_LINE)
    if generated_from == "v2.0.0":
        # notes/ is the user's own directory here: the v2 migration must not touch it.
        (project / "notes").mkdir()
        (project / "notes" / "meeting.md").write_text("Monday.\n", encoding="utf-8")
    commit_all(project, "Our edits")

    result = cli("update", project)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"from template version {generated_from} to v3.0.0" in result.stdout
    guide = (project / "handbook" / "guide.md").read_text(encoding="utf-8")
    assert guide.startswith("# Handbook\n")
    assert guide.endswith(USER_GUIDE_LINE + "\n")
    assert (project / "handbook" / "team.md").read_text(encoding="utf-8") == TEAM_NOTES
    assert (project / "README.md").read_text(encoding="utf-8").endswith(USER_README_LINE + "\n")
    assert (project / "Makefile").read_text(encoding="utf-8").endswith(V3_LINE + "\n")
    if generated_from == "v1.0.0":
        assert not (project / "notes").exists()
        assert "renamed  notes/guide.md -> handbook/guide.md (your edits carried over)" in (
            result.stdout
        )
    else:
        assert (project / "notes" / "meeting.md").read_text(encoding="utf-8") == "Monday.\n"
    # Everything is staged: the commit the summary asks for leaves nothing behind.
    git(project, "commit", "--quiet", "--message", "Update to v3.0.0")
    assert git(project, "status", "--porcelain") == ""
