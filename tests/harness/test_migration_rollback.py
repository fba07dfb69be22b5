"""A rollback across a migration, on a real PostgreSQL: the older image's migration step lets it by.

The newer image is what the Dockerfile puts beside the virtualenv (alembic.ini and migrations/),
with one more, additive revision; the older image is the project itself. Both run the same
`migrate` command, the one the migration Job runs. Before the fix, the older image's step ran
`alembic upgrade head`, which stops at "Can't locate revision", so the rollback never started.
"""

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest

from .conftest import OPTION_SETS
from .environment import free_port, fresh_postgres_database
from .project import GeneratedProject, serve

pytestmark = pytest.mark.slow

POSTGRESQL_SETS = [
    name for name, answers in OPTION_SETS.items() if answers["database"] == "postgresql"
]
NEWER_REVISION = "f00dfeed0002"
NEWER_TABLE = "newer_release_notes"
# Expand only: a table and a nullable column, which the older code neither reads nor writes.
NEWER_MIGRATION = '''"""A newer release's migration."""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down_revision}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("{table}", sa.Column("id", sa.Integer, primary_key=True))
    op.add_column("items", sa.Column("colour", sa.String(20), nullable=True))


def downgrade() -> None:
    op.drop_column("items", "colour")
    op.drop_table("{table}")
'''


def migrate(
    project: GeneratedProject, working_directory: Path, database_url: str
) -> list[dict[str, Any]]:
    """The project's `migrate` from `working_directory` (as from an image's /app): its lines."""
    result = subprocess.run(
        [str(project.path / ".venv" / "bin" / "migrate")],
        cwd=working_directory,
        env={**project.service_env(), "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def image_head(project: GeneratedProject) -> str:
    """The newest revision of the project's own migrations, as alembic resolves it."""
    return subprocess.run(
        [
            str(project.path / ".venv" / "bin" / "python"),
            "-c",
            "from alembic.config import Config; from alembic.script import ScriptDirectory;"
            "print(ScriptDirectory.from_config(Config('alembic.ini')).get_current_head())",
        ],
        cwd=project.path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def newer_image(project: GeneratedProject, directory: Path) -> Path:
    """alembic.ini and migrations/ as a newer release's image has them: one revision more."""
    shutil.copy(project.path / "alembic.ini", directory / "alembic.ini")
    ignored = shutil.ignore_patterns("__pycache__")
    shutil.copytree(project.path / "migrations", directory / "migrations", ignore=ignored)
    head = image_head(project)
    (directory / "migrations" / "versions" / f"{NEWER_REVISION}_newer.py").write_text(
        NEWER_MIGRATION.format(revision=NEWER_REVISION, down_revision=head, table=NEWER_TABLE)
    )
    return directory


@pytest.mark.parametrize("project", POSTGRESQL_SETS, indirect=True)
def test_the_older_images_migration_leaves_the_newer_schema_and_the_service_serves(
    project: GeneratedProject, tmp_path: Path
) -> None:
    with fresh_postgres_database("rollback") as database_url:
        newer = newer_image(project, tmp_path)
        newer_lines = migrate(project, newer, database_url)
        assert newer_lines[-1]["image_head"] == NEWER_REVISION

        # The rollback: the older image's migration step, on the schema the newer one left.
        older_lines = migrate(project, project.path, database_url)

        ahead = [line for line in older_lines if line["event"].startswith("schema ahead")]
        assert len(ahead) == 1, older_lines
        assert ahead[0]["database_revision"] == NEWER_REVISION
        assert ahead[0]["image_head"] == image_head(project)
        # The line docs/rollback.md shows is the one the command writes.
        assert f'"event":"{ahead[0]["event"]}"' in (project.path / "docs/rollback.md").read_text()
        dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
        with psycopg.connect(dsn) as connection:
            assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [
                (NEWER_REVISION,)
            ]
            assert connection.execute(f"SELECT to_regclass('{NEWER_TABLE}')").fetchone() == (
                NEWER_TABLE,
            )

        # The older service on the newer schema: ready, and its API reads and writes.
        older = dataclasses.replace(project, database_url=database_url)
        port = free_port()
        with serve(
            older,
            ["make", "--silent", "run", f"PORT={port}"],
            port=port,
            log_path=tmp_path / "service.log",
        ) as running:
            assert running.client.get("/health/ready").status_code == 200
            running.client.headers.update(older.admin_headers(running.url))
            created = running.client.post(
                "/api/v1/items", json={"name": "lamp", "price_cents": 2500}
            )
            assert created.status_code == 201, created.text
            assert running.client.get(f"/api/v1/items/{created.json()['id']}").status_code == 200
