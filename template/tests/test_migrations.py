"""Migrations and models agree, and every migration can be undone."""

from alembic import command

from .conftest import alembic_config


def test_models_match_the_migrations(migrated_database: str) -> None:
    # Raises if autogenerate would write a new migration: a model changed without one.
    command.check(alembic_config(migrated_database))


def test_migrations_downgrade_and_upgrade_again(migrated_database: str) -> None:
    config = alembic_config(migrated_database)
    command.downgrade(config, "base")
    command.upgrade(config, "head")
