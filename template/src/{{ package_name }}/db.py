"""The database: SQLAlchemy 2 async engine, sessions per request, and the model base class.

Why: one engine (one connection pool) per process, created at start-up and disposed at shutdown by
the lifespan in main.py; a session per request from the `SessionDep` dependency, so every query of a
request shares one transaction and nothing leaks between requests. Schema changes go through
Alembic migrations (migrations/), never `create_all`.
"""

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Connection, MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from .settings import Settings

# Deterministic constraint names, so migrations can drop and alter constraints on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def create_engine(settings: Settings) -> AsyncEngine:
    options: dict[str, Any] = {}
    if not settings.is_sqlite:
        options = {
            "pool_size": settings.db_pool_size,
            "max_overflow": settings.db_max_overflow,
            "pool_pre_ping": True,  # Drop connections the server closed (failover, idle timeout).
            "pool_recycle": 1800,
        }
    return create_async_engine(settings.database_url, **options)


async def inspect(engine: AsyncEngine, check: Callable[[Connection], str | None]) -> str | None:
    """`check` on a connection from the pool, and the problem it found (None: none); readiness
    compares the schema's revision with it."""
    async with engine.connect() as connection:
        return await connection.run_sync(check)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.state.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
