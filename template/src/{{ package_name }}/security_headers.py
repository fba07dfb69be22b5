"""Security headers added to every response, errors included.

Why: they tell browsers not to sniff content types, frame the API, leak the URL in referrers or
load anything the response did not ask for, and to use HTTPS only (HSTS is ignored on plain HTTP,
so it is harmless in development). The interactive docs page loads Swagger UI from a CDN, so it
gets a policy that allows exactly that.
"""

_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), geolocation=(), microphone=()"),
]
API_HEADERS = [
    *_COMMON,
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
]
DOCS_HEADERS = [
    *_COMMON,
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
