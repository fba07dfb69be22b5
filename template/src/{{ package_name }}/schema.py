"""Whether the database holds the schema this release's code needs: half of what readiness asks.

Why: a database that answers but was never migrated (or is behind, after a failed or forgotten
migration) would get traffic that fails on every query. Readiness compares the database's Alembic
revision with this release's migrations instead, and names both when they differ. A revision this
release does not know is a newer release's (a rollback): `migrate` has checked that its schema
still has every table and column these models need, so it counts as ready.
"""

from functools import cache

from sqlalchemy import Connection

# In the working directory, as for `migrate`: the project's root, or the image's /app.
ALEMBIC_CONFIG = "alembic.ini"


@cache
def _scripts() -> tuple[frozenset[str], frozenset[str]]:
    """(this release's head revisions, every revision it knows), read once per process."""
    # Imported at the first check, not at start-up: alembic logs as it loads its plugins, and the
    # server's first log line is its own (tests/harness checks the whole log of a run).
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(Config(ALEMBIC_CONFIG))
    known = frozenset(script.revision for script in scripts.walk_revisions())
    return frozenset(scripts.get_heads()), known


def schema_problem(connection: Connection) -> str | None:
    """Why the schema is not the one this release needs, or None when it is."""
    from alembic.runtime.migration import MigrationContext

    heads, known = _scripts()
    revisions = frozenset(MigrationContext.configure(connection).get_current_heads())
    if revisions == heads or not revisions <= known:
        return None
    expected = ",".join(sorted(heads))
    if not revisions:
        return f"The database has no schema; this release needs revision {expected} (run migrate)."
    current = ",".join(sorted(revisions))
    return (
        f"The database schema is at revision {current}; this release needs {expected} "
        "(run migrate)."
    )
