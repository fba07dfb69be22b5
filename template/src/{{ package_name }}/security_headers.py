"""Security headers added to every response, errors included.

Why: they tell browsers not to sniff content types, not to frame the API, not to send the page's
address along, not to let other sites embed or open it as one of theirs, to keep powerful browser
features off, and to use HTTPS only (HSTS is ignored on plain HTTP, so it is harmless in
development). API responses also get OWASP's REST Security Cheat Sheet pair: a deny-all CSP and
`Cache-Control: no-store`. The interactive docs page is HTML that a browser renders, so it gets a
policy that allows Swagger UI from its CDN instead. `X-XSS-Protection: 0` switches off the XSS
filter old browsers had, as OWASP advises: the filter itself could be abused to leak data, and the
CSP is what stops XSS.
"""

_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), geolocation=(), microphone=()"),
    (b"x-xss-protection", b"0"),
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
