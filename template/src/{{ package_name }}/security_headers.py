"""Security headers added to every response, errors included.

Why: they tell browsers not to sniff content types, not to frame the API or load anything a
response did not ask for, not to cache it, and to use HTTPS only (HSTS is ignored on plain HTTP,
so it is harmless in development). API responses get the set OWASP's REST Security Cheat Sheet
lists; every header costs the server work on each response. The interactive docs page is HTML that
a browser renders, so it also gets the document-level headers, and a policy that allows Swagger
UI from its CDN.
"""

_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
]
API_HEADERS = [
    *_COMMON,
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
]
DOCS_HEADERS = [
    *_COMMON,
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), geolocation=(), microphone=()"),
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
        b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
        b"img-src 'self' data: https://fastapi.tiangolo.com; frame-ancestors 'none'",
    ),
]
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect"})


def security_headers_for(path: str) -> list[tuple[bytes, bytes]]:
    return DOCS_HEADERS if path in DOCS_PATHS else API_HEADERS
