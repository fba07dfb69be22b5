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

    @classmethod
    def with_role(cls, subject: str, role: Role) -> "Principal":
        return cls(subject, ROLE_PERMISSIONS[role])
