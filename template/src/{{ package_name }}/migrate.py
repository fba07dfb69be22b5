"""`migrate`: bring the database schema to this image's migrations, or leave a newer one alone.

The one migration command: `make migrate`, the migration Job (and Argo CD's Sync hook, which is that
Job), compose and the SQLite pods' init container run it. Why not `alembic upgrade head` itself: a
rollback puts an OLDER image on a database that a newer one already migrated. Its revision is not
among the older image's scripts, alembic stops with "Can't locate revision", and the rollback would
stop at its migration step. Migrations are additive (expand, then contract in a later release:
docs/rollback.md), so the older code runs on the newer schema, as it did during the newer
release's rollout: the schema is left as it is, and one log line says so.

A revision this image does not know is trusted to be a newer release's only when the schema still
has every table and column this image's models need (alembic's autogenerate comparison). A schema
that lacks one was not left by a newer release of this code (a migration deleted from the code
without its downgrade, a contract step the previous release was not ready for, another service's
database), and that fails, as does any other error: exit status 1 and one line saying why.
"""

import argparse
import asyncio
from dataclasses import dataclass

import structlog
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from .models import Base
from .observability.logs import configure_logging
from .settings import load_settings

log = structlog.get_logger("migrate")

SUMMARY = "Bring the database schema to this image's migrations, or leave a newer one alone."
# In the working directory: the project's root, or the image's /app (Dockerfile).
ALEMBIC_CONFIG = "alembic.ini"
# Autogenerate's operations that mean "the database lacks this": what the models need is missing.
MISSING_IN_DATABASE = frozenset({"add_table", "add_column"})


class MigrationError(Exception):
    """A database this image must not migrate or leave alone: the reason, in one line."""


@dataclass(frozen=True)
class DatabaseState:
    revisions: tuple[str, ...]  # alembic_version's rows: none on a fresh database
    unknown: tuple[str, ...]  # those this image's scripts do not have
    missing: tuple[str, ...]  # with an unknown one: tables and columns the models need, not there


def _missing_from_schema(connection: Connection) -> tuple[str, ...]:
    missing = []
    for difference in compare_metadata(MigrationContext.configure(connection), Base.metadata):
        # A table or column is one tuple (operation, ...); changes to a column come as a list.
        if isinstance(difference, tuple) and difference[0] in MISSING_IN_DATABASE:
            if difference[0] == "add_table":
                missing.append(f"table {difference[1].name}")
            else:
                missing.append(f"column {difference[2]}.{difference[3].name}")
    return tuple(missing)


def _read_state(connection: Connection, known: frozenset[str]) -> DatabaseState:
    revisions = MigrationContext.configure(connection).get_current_heads()
    unknown = tuple(revision for revision in revisions if revision not in known)
    missing = _missing_from_schema(connection) if unknown else ()
    return DatabaseState(revisions=revisions, unknown=unknown, missing=missing)


async def read_database_state(url: str, known: frozenset[str]) -> DatabaseState:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_read_state, known)
    finally:
        await engine.dispose()


def migrate(config: Config, url: str) -> None:
    scripts = ScriptDirectory.from_config(config)
    image_head = ",".join(scripts.get_heads())
    known = frozenset(script.revision for script in scripts.walk_revisions())
    state = asyncio.run(read_database_state(url, known))
    database_revision = ",".join(state.revisions) or "none"
    if not state.unknown:
        # Fresh, behind or at head: alembic applies what is missing, in order.
        command.upgrade(config, "head")
        log.info(
            "schema at this image's head",
            previous_revision=database_revision,
            image_head=image_head,
        )
        return
    if state.missing:
        raise MigrationError(
            f"the database is at revision {database_revision}, which this image's migrations "
            f"(head {image_head}) do not know, and it lacks {', '.join(state.missing)}: "
            "not a newer release's schema"
        )
    log.warning(
        "schema ahead of this image: left as it is",
        database_revision=database_revision,
        image_head=image_head,
    )


def main(argv: list[str] | None = None) -> int:
    # No options: the database is DATABASE_URL (the settings), as for the service and env.py.
    argparse.ArgumentParser(prog="migrate", description=SUMMARY).parse_args(argv)
    settings = load_settings()
    configure_logging(settings.log_level)
    try:
        migrate(Config(ALEMBIC_CONFIG), settings.database_url)
    # ImportError: a URL naming a driver this image does not have (postgresql+asyncpg on SQLite).
    except (MigrationError, CommandError, SQLAlchemyError, OSError, ImportError) as error:
        reason = (str(error).strip().splitlines() or [repr(error)])[0]
        log.error("migration failed", reason=f"{type(error).__name__}: {reason}")
        return 1
    return 0
