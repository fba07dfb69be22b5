"""`migrate`, the command make, the image and k8s/ run: upgrades, leaves a newer schema alone, fails
loudly otherwise.

Each test runs the installed command in a process of its own, on a database of its own, as the
migration Job runs it from the image.
"""

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from .conftest import PROJECT_ROOT, alembic_config

MIGRATE = Path(sys.executable).with_name("migrate")
NEWER_REVISION = "f00dfeed0002"
NEWER_TABLE = "newer_release_notes"
# A newer release's migration, which this checkout does not have.
NEWER_MIGRATION = '''"""A newer release's migration."""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down_revision}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    {upgrade}


def downgrade() -> None:
    {downgrade}
'''
# What expand and contract allow: an expand step (one more table) ...
EXPAND = (
    f'op.create_table("{NEWER_TABLE}", sa.Column("id", sa.Integer, primary_key=True))',
    f'op.drop_table("{NEWER_TABLE}")',
)
# ... and a contract step, which drops what this release still uses: only the release after it,
# which no longer uses it, may run on that schema.
CONTRACT = (
    'op.drop_column("items", "description")',
    'op.add_column("items", sa.Column("description", sa.String(500), nullable=True))',
)


@dataclass(frozen=True)
class Schema:
    revisions: tuple[str, ...]
    tables: frozenset[str]


def _read_schema(connection: Connection) -> Schema:
    revisions = MigrationContext.configure(connection).get_current_heads()
    return Schema(revisions=revisions, tables=frozenset(inspect(connection).get_table_names()))


async def _schema_of(url: str) -> Schema:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        schema = await connection.run_sync(_read_schema)
    await engine.dispose()
    return schema


def schema_of(url: str) -> Schema:
    return asyncio.run(_schema_of(url))


async def _execute(url: str, *statements: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement))
    await engine.dispose()


def image_head() -> str:
    head = ScriptDirectory.from_config(Config(PROJECT_ROOT / "alembic.ini")).get_current_head()
    assert head is not None
    return head


def newer_release_config(url: str, tmp_path: Path, migration: tuple[str, str]) -> Config:
    """Alembic as a newer image has it: this checkout's migrations plus one more."""
    upgrade, downgrade = migration
    versions = tmp_path / "newer_versions"
    versions.mkdir()
    (versions / f"{NEWER_REVISION}_newer.py").write_text(
        NEWER_MIGRATION.format(
            revision=NEWER_REVISION,
            down_revision=image_head(),
            upgrade=upgrade,
            downgrade=downgrade,
        )
    )
    config = alembic_config(url)
    config.set_main_option("path_separator", "os")
    locations = [str(PROJECT_ROOT / "migrations" / "versions"), str(versions)]
    config.set_main_option("version_locations", os.pathsep.join(locations))
    return config


@dataclass(frozen=True)
class Run:
    returncode: int
    lines: list[dict[str, Any]]
    stderr: str

    def line(self, event: str) -> dict[str, Any]:
        found = [line for line in self.lines if line["event"] == event]
        assert len(found) == 1, self.lines
        return found[0]


def run_migrate(database_url: str) -> Run:
    result = subprocess.run(  # noqa: S603 - the project's own command, no shell
        [str(MIGRATE)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "INFO"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return Run(returncode=result.returncode, lines=lines, stderr=result.stderr)


def test_a_fresh_database_is_brought_to_head(empty_database_url: str) -> None:
    run = run_migrate(empty_database_url)

    assert run.returncode == 0, run
    assert run.line("schema at this image's head")["previous_revision"] == "none"
    schema = schema_of(empty_database_url)
    assert schema.revisions == (image_head(),)
    assert "items" in schema.tables


def test_a_database_behind_the_image_is_upgraded(empty_database_url: str) -> None:
    config = alembic_config(empty_database_url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")  # behind: the version table is there, at no revision yet
    assert schema_of(empty_database_url).revisions == ()

    run = run_migrate(empty_database_url)

    assert run.returncode == 0, run
    assert run.line("schema at this image's head")["image_head"] == image_head()
    assert schema_of(empty_database_url).revisions == (image_head(),)


def test_a_newer_releases_schema_is_left_as_it_is(empty_database_url: str, tmp_path: Path) -> None:
    # A rollback: a newer image migrated the database, then this (older) image's step runs.
    command.upgrade(newer_release_config(empty_database_url, tmp_path, EXPAND), "head")
    before = schema_of(empty_database_url)
    assert before.revisions == (NEWER_REVISION,)

    run = run_migrate(empty_database_url)

    assert run.returncode == 0, run
    line = run.line("schema ahead of this image: left as it is")
    assert (line["level"], line["logger"]) == ("warning", "migrate")
    assert (line["database_revision"], line["image_head"]) == (NEWER_REVISION, image_head())
    assert schema_of(empty_database_url) == before
    assert NEWER_TABLE in before.tables


def test_a_schema_without_a_column_this_image_uses_fails(
    empty_database_url: str, tmp_path: Path
) -> None:
    command.upgrade(newer_release_config(empty_database_url, tmp_path, CONTRACT), "head")

    run = run_migrate(empty_database_url)

    assert run.returncode == 1
    reason = run.line("migration failed")["reason"]
    assert f"revision {NEWER_REVISION}" in reason
    assert "lacks column items.description" in reason
    assert schema_of(empty_database_url).revisions == (NEWER_REVISION,)


def test_an_unknown_revision_on_a_schema_without_the_images_tables_fails(
    empty_database_url: str,
) -> None:
    # Not a newer release of this code: its schema would have this image's tables.
    asyncio.run(
        _execute(
            empty_database_url,
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
            "INSERT INTO alembic_version (version_num) VALUES ('0123456789ab')",
        )
    )

    run = run_migrate(empty_database_url)

    assert run.returncode == 1
    reason = run.line("migration failed")["reason"]
    assert "revision 0123456789ab" in reason
    assert "lacks " in reason
    assert "table items" in reason
    assert schema_of(empty_database_url).tables == {"alembic_version"}


@pytest.mark.parametrize(
    ("database_url", "reason"),
    [
        ("not a database url", "ArgumentError: Could not parse SQLAlchemy URL"),
        ("sqlite+aiosqlite:////nonexistent/directory/service.db", "unable to open database file"),
    ],
    ids=["unparsable", "unreachable"],
)
def test_a_broken_database_url_fails_with_one_line(database_url: str, reason: str) -> None:
    run = run_migrate(database_url)

    assert run.returncode == 1
    assert len(run.lines) == 1, run.lines
    assert run.lines[0]["event"] == "migration failed"
    assert run.lines[0]["level"] == "error"
    assert reason in run.lines[0]["reason"]
    # No traceback through the command's code. (After a failed connect, aiosqlite's worker thread
    # may still print one of its own on stderr, reporting to the event loop that just closed.)
    assert "migrate.py" not in run.stderr
