"""CPU time of authentication's parts, in-process: verifying a token, and the layer's header scan.

Why: with authentication on, every request passes AuthenticationMiddleware
(auth/authentication.py), which scans the headers for `Authorization: Bearer` or `X-API-Key`; a
request that carries a token also pays for verifying it. Neither shows on the pipeline benchmark
(benchmarks/middleware.py sends no credentials), so this measures them apart, each against a
baseline in the same run:

1. pyjwt's `jwt.decode` of an access token as a service checks it (signature, exp, nbf, iat,
   iss, aud, a pinned algorithm list): HS256 (auth=local's tokens), RS256 with a 2048-bit key and
   ES256 (what identity providers sign with, auth=oidc), against decoding the same token with the
   signature and claims unchecked (the base64 and JSON work every algorithm pays).
2. AuthenticationMiddleware around an app that only answers, against the app alone: no
   credentials sent, with wrk's one header and with a browser's dozen; and a Bearer token checked
   by a stand-in authenticator that verifies HS256 with pyjwt and returns a Principal (what a
   signed-in request adds before the route; the real authenticators may do more: a database
   lookup for an API key, a JWKS fetch on an unknown key id).

Variants take turns within each repeat and the best of REPEATS is kept, so drift on a busy machine
hits all alike. Process CPU time. Run inside a rendered project whose venv has pyjwt and
cryptography (`uv sync --locked --extra auth-oidc`: pyjwt[crypto]; cryptography is also in the
dev group):

    cd RENDERED && .venv/bin/python PATH/TO/benchmarks/token_cost.py PACKAGE [CALLS]
"""

import asyncio
import importlib
import sys
import time
from collections.abc import Callable
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

REPEATS = 5
ISSUER = AUDIENCE = "my-service"
HS256_SECRET = "s" * 64  # 64 characters, as a generated SECRET_KEY
WRK_HEADERS = [(b"host", b"127.0.0.1:8000")]
BROWSER_HEADERS = [
    (b"host", b"api.example.com"),
    (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"),
    (b"accept", b"application/json, text/plain, */*"),
    (b"accept-language", b"en-GB,en;q=0.5"),
    (b"accept-encoding", b"gzip, deflate, br, zstd"),
    (b"referer", b"https://app.example.com/"),
    (b"origin", b"https://app.example.com"),
    (b"connection", b"keep-alive"),
    (b"sec-fetch-dest", b"empty"),
    (b"sec-fetch-mode", b"cors"),
    (b"sec-fetch-site", b"same-site"),
    (b"priority", b"u=0"),
]


def claims() -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": "42",
        "role": "user",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 900,
    }


def verifier(algorithm: str, key: Any) -> Callable[[str], dict[str, Any]]:
    def verify(token: str) -> dict[str, Any]:
        return jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub"]},
        )

    return verify


def unverified(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def best_of(variants: dict[str, Callable[[], float]]) -> dict[str, float]:
    """Each variant returns its us per call; they take turns; the first round is a warm-up."""
    best = dict.fromkeys(variants, float("inf"))
    for repeat in range(REPEATS + 1):
        for label, run in variants.items():
            cost = run()
            if repeat:
                best[label] = min(best[label], cost)
    return best


def timed_calls(
    function: Callable[[str], object], argument: str, calls: int
) -> Callable[[], float]:
    def run() -> float:
        began = time.process_time()
        for _ in range(calls):
            function(argument)
        return (time.process_time() - began) / calls * 1e6

    return run


def tokens(calls: int) -> dict[str, float]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    signed = {
        "HS256": (jwt.encode(claims(), HS256_SECRET, "HS256"), HS256_SECRET),
        "RS256": (jwt.encode(claims(), rsa_key, "RS256"), rsa_key.public_key()),
        "ES256": (jwt.encode(claims(), ec_key, "ES256"), ec_key.public_key()),
    }
    variants = {
        "decoded, nothing checked (baseline)": timed_calls(unverified, signed["HS256"][0], calls)
    }
    for algorithm, (token, key) in signed.items():
        # RS256 and ES256 verify in 20-100 us: fewer calls keep the run short.
        count = calls if algorithm == "HS256" else max(1, calls // 10)
        variants[f"{algorithm} verified"] = timed_calls(verifier(algorithm, key), token, count)
    return best_of(variants)


async def answer(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def scope_with(headers: list[tuple[bytes, bytes]], state: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/items",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "state": state,
    }


def layer(package: str, calls: int) -> dict[str, float]:
    authentication = importlib.import_module(f"{package}.auth.authentication")
    principal = importlib.import_module(f"{package}.auth.principal")
    verify = verifier("HS256", HS256_SECRET)

    class StandIn:
        """Verifies an HS256 bearer token as auth=local would, without its database."""

        async def authenticate(self, credentials: Any) -> Any:
            try:
                payload = verify(credentials.bearer_token)
            except jwt.InvalidTokenError as error:
                raise authentication.CredentialsRefusedError("invalid token") from error
            return principal.Principal.with_role(payload["sub"], principal.Role(payload["role"]))

        async def aclose(self) -> None:
            return None

    middleware = authentication.AuthenticationMiddleware(answer)
    bearer = [
        *WRK_HEADERS,
        (b"authorization", b"Bearer " + jwt.encode(claims(), HS256_SECRET, "HS256").encode()),
    ]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    def timed(app: Any, headers: list[tuple[bytes, bytes]]) -> Callable[[], float]:
        lifespan_state = {"authenticator": StandIn()}

        async def loop() -> float:
            began = time.process_time()
            for _ in range(calls):
                # As uvicorn does: the lifespan's state, copied per request.
                await app(scope_with(headers, dict(lifespan_state)), receive, send)
            return (time.process_time() - began) / calls * 1e6

        return lambda: asyncio.run(loop())

    results = best_of(
        {
            "no layer, wrk's 1 header (baseline)": timed(answer, WRK_HEADERS),
            "layer, no credentials, wrk's 1 header": timed(middleware, WRK_HEADERS),
            "no layer, a browser's 12 headers (baseline)": timed(answer, BROWSER_HEADERS),
            "layer, no credentials, a browser's 12 headers": timed(middleware, BROWSER_HEADERS),
            "layer, a Bearer HS256 token verified": timed(middleware, bearer),
        }
    )
    return results


def main() -> None:
    package, calls = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    print(f"pyjwt {jwt.__version__}; best of {REPEATS}, CPU us per call")
    verified = tokens(calls)
    baseline = verified["decoded, nothing checked (baseline)"]
    for label, cost in verified.items():
        added = "" if cost == baseline else f"  ({cost / baseline:.1f} x the baseline)"
        print(f"  {label:45} {cost:8.2f} us{added}")
    print("AuthenticationMiddleware around an app that only answers, CPU us per request:")
    costs = layer(package, calls)
    bases = {
        "wrk's": "no layer, wrk's 1 header (baseline)",
        "browser's": "no layer, a browser's 12 headers (baseline)",
    }
    for label, cost in costs.items():
        base = costs[bases["browser's"] if "browser's" in label else bases["wrk's"]]
        added = "" if "baseline" in label else f"  (+{cost - base:.2f})"
        print(f"  {label:45} {cost:8.2f} us{added}")


if __name__ == "__main__":
    main()
