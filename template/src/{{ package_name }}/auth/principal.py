"""The caller a request was authenticated as, and the permissions each role grants.

Why permissions, not roles, in routes: a route says what it needs ("items:write"); which roles
have it is decided here, once, so a new role never means editing every route.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class Role(StrEnum):
    ADMIN = "admin"
    USER = "user"


class Permission(StrEnum):
    ITEMS_READ = "items:read"
    ITEMS_WRITE = "items:write"


ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.USER: frozenset({Permission.ITEMS_READ}),
    Role.ADMIN: frozenset(Permission),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """A verified caller: a signed-in user, or a service calling with an API key."""

    subject: str  # the user's id, or the API key's id: what the audit log and rate limiter name
    permissions: frozenset[Permission]
    kind: Literal["user", "api_key", "gateway"] = "user"
    # When what proved it stops being valid (a token's exp, in Unix seconds); None: it is checked
    # at every use (an API key). verified_tokens.py remembers a principal until then at most.
    expires_at: float | None = None

    @classmethod
    def with_role(cls, subject: str, role: Role, *, expires_at: float | None = None) -> "Principal":
        return cls(subject, ROLE_PERMISSIONS[role], expires_at=expires_at)
