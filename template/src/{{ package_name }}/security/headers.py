"""Security headers added to every response, errors included.

Why: they tell browsers not to sniff content types, not to frame the API, not to send the page's
address along, not to let other sites embed or open it as one of theirs, to keep powerful browser
features off, and to use HTTPS only. HSTS goes only on responses to HTTPS requests (RFC 6797
says a browser must ignore it over plain HTTP; sent there it only tells a listener that HTTPS
exists). Behind a TLS-terminating proxy the scheme is HTTPS only when uvicorn trusts that proxy's
X-Forwarded-Proto (`--forwarded-allow-ips`). `X-Permitted-Cross-Domain-Policies: none` keeps
Flash and PDF readers from loading data cross-domain (OWASP's HTTP Headers Cheat Sheet). API
responses also get OWASP's REST Security Cheat Sheet pair: a deny-all CSP and
`Cache-Control: no-store`. The interactive docs page is HTML that a browser renders, so it gets a
policy that allows Swagger UI from its CDN instead. `X-XSS-Protection: 0` switches off the XSS
filter old browsers had, as OWASP advises: the filter itself could be abused to leak data, and the
CSP is what stops XSS.
"""

_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), geolocation=(), microphone=()"),
    (b"x-xss-protection", b"0"),
    (b"x-permitted-cross-domain-policies", b"none"),
]
_HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
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


# Built once: the pipeline adds one of these four lists to every response.
_BY_PAGE_AND_HTTPS = {
    (False, False): API_HEADERS,
    (False, True): [*API_HEADERS, _HSTS],
    (True, False): DOCS_HEADERS,
    (True, True): [*DOCS_HEADERS, _HSTS],
}


def security_headers_for(path: str, scheme: str) -> list[tuple[bytes, bytes]]:
    return _BY_PAGE_AND_HTTPS[path in DOCS_PATHS, scheme == "https"]
