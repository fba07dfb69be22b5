"""Security events: one structured log line each, on the `security` logger.

Why a logger of their own: sign-in failures, lockouts, reuse of a refresh token and denied
permissions are what an incident responder searches for, and an alert can count them. Each line
carries the request id (the pipeline binds it to every line) and never a secret: a password, token
or key is never passed here, and observability/redaction.py would mask one that was.
"""

import structlog

_logger = structlog.get_logger("security")


def login_succeeded(*, subject: str) -> None:
    _logger.info("login succeeded", security_event="login_succeeded", subject=subject)


def login_failed(*, reason: str) -> None:
    # No e-mail address here: a mistyped password in the user field would be logged.
    _logger.warning("login failed", security_event="login_failed", reason=reason)


def account_locked(*, subject: str, seconds: int) -> None:
    _logger.warning(
        "account locked", security_event="account_locked", subject=subject, seconds=seconds
    )


def refresh_token_reused(*, subject: str, family: str) -> None:
    _logger.warning(
        "refresh token reused: family revoked",
        security_event="refresh_token_reused",
        subject=subject,
        family=family,
    )


def permission_denied(*, subject: str, permission: str) -> None:
    _logger.warning(
        "permission denied",
        security_event="permission_denied",
        subject=subject,
        permission=permission,
    )


def api_key_used(*, key_id: str) -> None:
    _logger.info("api key used", security_event="api_key_used", key_id=key_id)


def user_created(*, subject: str, role: str) -> None:
    # A new account and the role it holds: with the key events below, every change of who may
    # do what (manage.py's commands) leaves a line.
    _logger.info("user created", security_event="user_created", subject=subject, role=role)


def api_key_created(*, key_id: str, scopes: str) -> None:
    _logger.info("api key created", security_event="api_key_created", key_id=key_id, scopes=scopes)


def api_key_revoked(*, key_id: str) -> None:
    _logger.info("api key revoked", security_event="api_key_revoked", key_id=key_id)


def password_changed(*, subject: str, how: str) -> None:
    # how: "change" (the user, with the current password) or "reset" (with a reset token).
    _logger.info("password changed", security_event="password_changed", subject=subject, how=how)


def password_change_refused(*, subject: str | None, reason: str) -> None:
    _logger.warning(
        "password change refused",
        security_event="password_change_refused",
        subject=subject,
        reason=reason,
    )


def password_reset_issued(*, subject: str, minutes: int) -> None:
    _logger.info(
        "password reset issued",
        security_event="password_reset_issued",
        subject=subject,
        minutes=minutes,
    )


def credentials_refused(*, reason: str) -> None:
    _logger.warning("credentials refused", security_event="credentials_refused", reason=reason)


def signing_keys_fetched(*, keys: int, trigger: str) -> None:
    # An identity provider's keys (auth = oidc): a rotation shows here as an "unknown key id" fetch.
    _logger.info(
        "signing keys fetched", security_event="signing_keys_fetched", keys=keys, trigger=trigger
    )


def signing_keys_unavailable(*, reason: str, cached_keys: int) -> None:
    # With no cached key, every token is answered 503 until a fetch succeeds.
    _logger.warning(
        "signing keys unavailable",
        security_event="signing_keys_unavailable",
        reason=reason,
        cached_keys=cached_keys,
    )
