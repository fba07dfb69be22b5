"""Redaction: secrets never reach the logs, whoever logs them and however deeply nested.

A value whose key contains one of REDACTED_KEY_PARTS (case-insensitive, `-` read as `_`:
"Authorization", "set-cookie", "db_password", "refresh_token", "X-API-Key") is replaced by
"[REDACTED]" wherever it is in the line: top level, nested dicts, lists, and (name, value) pairs
such as ASGI header lists. It is a substring match on purpose ("*token*" catches every kind of
token), so a harmless key such as "token_count" is redacted too. Only keys are looked at: a secret
written into the message text itself ("login with password hunter2") is not found, so never
format secrets into messages.
"""

from collections.abc import Mapping, MutableMapping
from functools import lru_cache
from typing import Any

REDACTED = "[REDACTED]"
REDACTED_KEY_PARTS = (
    "authorization",  # authorization, proxy-authorization
    "cookie",  # cookie, set-cookie
    "password",  # password, db_password
    "token",  # token, access_token, refresh_token, id_token
    "secret",  # secret, secret_key, client_secret
    "api_key",  # api_key, x-api-key
    "apikey",
)


@lru_cache(maxsize=1024)  # the same few keys on every line: decided once each
def is_sensitive(key: str) -> bool:
    normalised = key.lower().replace("-", "_")
    return any(part in normalised for part in REDACTED_KEY_PARTS)


def redact(value: Any) -> Any:
    """`value` with every sensitive key's value replaced (a copy where something is nested)."""
    if isinstance(value, Mapping):
        return {
            key: REDACTED if isinstance(key, str) and is_sensitive(key) else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        if len(value) == 2 and isinstance(value[0], str | bytes):  # a (name, value) pair
            name = value[0].decode("latin-1") if isinstance(value[0], bytes) else value[0]
            if is_sensitive(name):
                return (value[0], REDACTED)
        items = [redact(item) for item in value]
        return tuple(items) if isinstance(value, tuple) else items
    return value


def redact_sensitive_fields(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """The structlog processor: every line, ours and the standard library's, passes through it."""
    for key, value in event_dict.items():
        if is_sensitive(key):
            event_dict[key] = REDACTED
        elif isinstance(value, Mapping | list | tuple):
            event_dict[key] = redact(value)
    return event_dict
