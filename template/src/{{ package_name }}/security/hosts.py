"""Trusted hosts: a request whose Host header names none of ALLOWED_HOSTS is a 400 problem.

Why: code that builds an absolute URL from the Host header (a redirect, a link in an email, a
cache key) can be made to point at another site by a client that sends its own Host. Checked at
the door, no later code has to think about it. `*.example.com` allows the subdomains of
example.com. `["*"]`, the development default, leaves this layer out (main.py); staging and
production refuse it (settings.py). The health and metrics paths are exempt: the kubelet and
Prometheus call each pod by its IP address, and those answers build no URL.
"""

from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

from ..problems import send_problem
from .probes import PROBE_PATHS


class TrustedHostsMiddleware:
    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str]) -> None:
        self.app = app
        hosts = [host.lower() for host in allowed_hosts]
        self.exact = frozenset(host for host in hosts if not host.startswith("*."))
        # "*.example.com" -> ".example.com": a suffix, so "evilexample.com" does not match.
        self.suffixes = tuple(host[1:] for host in hosts if host.startswith("*."))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBE_PATHS or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        detail = "The Host header names a host this service does not serve."
        await send_problem(send, scope, 400, detail=detail)

    def _allowed(self, scope: Scope) -> bool:
        host = _host_name(scope)
        return host in self.exact or host.endswith(self.suffixes)


def _host_name(scope: Scope) -> str:
    """The Host header without its port, lower case; empty when there is none (HTTP/1.0)."""
    for name, value in scope["headers"]:
        if name == b"host":
            host: str = value.decode("latin-1").lower()
            if host.startswith("["):  # An IPv6 address: "[::1]:8000".
                return host.partition("]")[0] + "]"
            return host.partition(":")[0]
    return ""
