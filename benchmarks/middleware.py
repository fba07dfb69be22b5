"""What the generated service's request pipeline costs: the service against a bare FastAPI app.

Why: every request of a generated service passes through one middleware that adds a request id,
security headers, Prometheus metrics, a JSON access log line and the last-resort 500. That is worth
having only if it is cheap. The goal (docs/performance.md) is at least 0.81 x the requests/s of a
bare FastAPI app serving the same trivial endpoint, with the access log on.

How, so that the only difference between the two servers is the application:
1. Render the template into a temporary directory (or reuse --keep DIR), `uv sync --locked`,
   `alembic upgrade head`.
2. Write a bare app module beside the service package (src/bench_bare.py, same venv): a plain
   `FastAPI()` with the same GET /health/live and the same response body shape.
3. Start both under uvicorn with identical flags (1 worker, uvicorn's own access log off, the loop
   and HTTP parser uvicorn[standard] picks: uvloop, httptools). The service writes its structlog
   access log to stdout, which goes to a file (as under a container runtime), not to a pipe.
4. Pin the servers to CPU 0 and wrk to CPU 1 (when taskset and 2 CPUs exist), warm each up, then
   load them in alternation, service then bare, for --rounds rounds of --duration seconds each, so
   that drift of the machine hits both alike.
5. Print requests/s, p50 and p99 per round, the medians, and the ratio of the median requests/s.

This is a script, not a timed test: it prints figures and exits 0 whatever the ratio.
Every run is bounded by its duration, and servers are always stopped (their process groups are
killed in a finally block).

Run from the repository root (copier must be importable, uv and wrk on PATH):
    python benchmarks/middleware.py [--duration S] [--rounds N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parent.parent
ENDPOINT = "/health/live"
BARE_MODULE = "bench_bare"
SWITCHED_MODULE = "bench_cost"
GOAL = 0.81
SERVER_CPU = "0"
LOAD_CPU = "1"
CONNECTIONS = 16
# The same for every server; only the port and the app differ.
UVICORN_FLAGS = (
    "--host",
    "127.0.0.1",
    "--workers",
    "1",
    "--no-access-log",
    "--log-level",
    "warning",
)

BARE_APP = '''"""A bare FastAPI app with the service's GET /health/live: the baseline."""

from typing import Literal

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"
    version: str = "0.1.0"


@app.get("/health/live")
async def live() -> Liveness:
    return Liveness()
'''


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_us: float  # The server's CPU time per request: other processes on CPU 0 barely move it.


@dataclass(frozen=True)
class Server:
    name: str
    port: int
    pid: int
    stdout: Path


# The service with the benchmark's switches, written beside the package as src/bench_cost.py and
# served instead of <package>.main:app when a switch is on (--counted, --authentication).
SWITCHED_APP = '''"""The service with benchmarks/middleware.py's switches, from the environment.

BENCH_COUNTED=1: the rate limiter counts /health/live too (its copy of PROBE_PATHS emptied; the
    benchmark sets a quota no run reaches), so the path costs what any counted path costs.
BENCH_AUTHENTICATION=1: when this service has no authenticator of its own (auth = none),
    AuthenticationMiddleware runs with a stand-in that verifies HS256 tokens signed with
    BENCH_TOKEN_SECRET (pyjwt; as auth=local's, without its database) and returns a user.
"""

import importlib
import os

import {package}.main as service_main
from {package}.auth import authentication, principal
from {package}.security import layers, rate_limit

if os.environ.get("BENCH_COUNTED"):
    rate_limit.PROBE_PATHS = frozenset()

if os.environ.get("BENCH_AUTHENTICATION") and service_main.AUTHENTICATION.authenticator is None:
    jwt = importlib.import_module("jwt")  # the auth-local extra's pyjwt
    SECRET = os.environ["BENCH_TOKEN_SECRET"]

    class StandIn:
        async def authenticate(
            self, credentials: authentication.Credentials
        ) -> principal.Principal:
            try:
                claims = jwt.decode(
                    credentials.bearer_token or "",
                    SECRET,
                    algorithms=["HS256"],
                    audience="bench",
                    issuer="bench",
                    options={{"require": ["exp", "iat", "nbf", "iss", "aud", "sub"]}},
                )
            except jwt.InvalidTokenError as error:
                raise authentication.CredentialsRefusedError("invalid token") from error
            return principal.Principal.with_role(claims["sub"], principal.Role.USER)

        async def aclose(self) -> None:
            return None

    stand_in = authentication.Authentication(authenticator=lambda settings, sessionmaker: StandIn())
    layers.AUTHENTICATION = service_main.AUTHENTICATION = stand_in

app = service_main.create_app()
'''


# --- the project ---------------------------------------------------------------------------------


def render(destination: Path, data: dict[str, object] | None = None) -> None:
    import copier  # The dev environment's; imported here so --help works without it.
    from prodready.source import copy_template

    # The working tree's template is rendered, uncommitted edits included: say so.
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--", "template", "copier.yml"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    if dirty:
        print(f"note: uncommitted template edits are rendered too:\n{dirty}", end="")
    # From a copy holding only the template: rendering the checkout itself, copier would clone it
    # with whatever else lies there (a service generated inside it is a nested repository, which
    # breaks the clone).
    with tempfile.TemporaryDirectory(prefix="prodready-bench-template-") as template:
        copy_template(REPO, Path(template))
        copier.run_copy(template, str(destination), data=data, defaults=True, quiet=True)


def uv_executable() -> str:
    beside_python = Path(sys.executable).parent / "uv"
    found = shutil.which("uv") or (str(beside_python) if beside_python.exists() else None)
    if found is None:
        sys.exit("uv not found: run with the dev venv's python or put uv on PATH")
    return found


def project_extras(project: Path) -> list[str]:
    """The extras the project's options need (its Makefile's EXTRAS: the auth and driver ones)."""
    match = re.search(r"^EXTRAS := (.*)$", (project / "Makefile").read_text(), re.MULTILINE)
    return re.findall(r"--extra (\S+)", match.group(1)) if match else []


def install(project: Path, extras: Sequence[str] = ()) -> None:
    uv = uv_executable()
    wanted = dict.fromkeys([*project_extras(project), *extras])
    options = [argument for extra in wanted for argument in ("--extra", extra)]
    subprocess.run(
        [uv, "sync", "--locked", "--quiet", "--compile-bytecode", *options],
        cwd=project,
        check=True,
    )
    # The venv's alembic, not `uv run`: that would sync again, without the extras.
    subprocess.run(
        [str(project / ".venv" / "bin" / "alembic"), "upgrade", "head"],
        cwd=project,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def answer(project: Path, question: str) -> str | None:
    """The project's recorded answer to `question` (.copier-answers.yml), if it has one."""
    answers = (project / ".copier-answers.yml").read_text()
    match = re.search(rf"^{question}: *['\"]?(\w+)", answers, re.MULTILINE)
    return match.group(1) if match else None


def package_name(project: Path) -> str:
    name = answer(project, "package_name")
    if name is None:
        sys.exit(f"no package_name in {project / '.copier-answers.yml'}")
    return name


def prepare(
    keep: Path | None,
    workdir: Path,
    answers: dict[str, object] | None = None,
    extras: Sequence[str] = (),
) -> Path:
    """Render (unless --keep already holds a project), install, migrate, add the bare app and
    the switched service (bench_cost.py)."""
    project = keep if keep is not None else workdir / "service"
    if not (project / "pyproject.toml").exists():
        print(f"rendering the template into {project}" + (f" with {answers}" if answers else ""))
        render(project, answers)
    elif answers:
        print(f"note: {project} is reused as rendered; --answer applies only to a new render")
    print(
        "installing (uv sync --locked"
        + "".join(f" --extra {e}" for e in extras)
        + ") and migrating"
    )
    install(project, extras)
    (project / "src" / f"{BARE_MODULE}.py").write_text(BARE_APP)
    package = package_name(project)
    (project / "src" / f"{SWITCHED_MODULE}.py").write_text(SWITCHED_APP.format(package=package))
    return project


# --- servers -------------------------------------------------------------------------------------


def pinned(cpu: str, command: Sequence[str]) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", cpu, *command]
    return list(command)


def asgi_timing_us(
    project: Path, app: str, env: dict[str, str], stdout: IO[bytes], *, timeout: float
) -> float:
    """The app's CPU us per request called in-process (asgi_timing.py), pinned like the server."""
    python = str(project / ".venv" / "bin" / "python")
    done = subprocess.run(
        pinned(SERVER_CPU, [python, "asgi_timing.py", app]),
        cwd=project,
        env={**os.environ, **env},
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=True,
    )
    return float(done.stderr.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_serving(process: subprocess.Popen[bytes], port: int, stderr: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"server exited with {process.returncode}:\n{stderr.read_text()}")
        url = f"http://127.0.0.1:{port}{ENDPOINT}"
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as reply:
            if reply.status == 200:
                return
        time.sleep(0.2)
    sys.exit(f"server on port {port} did not answer {ENDPOINT} within 30 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, then SIGKILL it if it has not exited in 10 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def serve(
    project: Path, name: str, app: str, logs: Path, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """Run `uvicorn app` on a free port, pinned to SERVER_CPU, stdout and stderr to files."""
    port = free_port()
    stdout, stderr = logs / f"{name}.stdout.log", logs / f"{name}.stderr.log"
    command = pinned(
        SERVER_CPU,
        [str(project / ".venv" / "bin" / "uvicorn"), app, *UVICORN_FLAGS, "--port", str(port)],
    )
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            command,
            cwd=project,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,  # Its own process group, killed whole by stop().
        )
    try:
        wait_until_serving(process, port, stderr)
        yield Server(name, port, process.pid, stdout)
    finally:
        stop(process)


# --- load ----------------------------------------------------------------------------------------

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def cpu_seconds(pid: int) -> float:
    """CPU time the process has used, from /proc (ns resolution where schedstat exists)."""
    with contextlib.suppress(OSError):
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def parse_wrk(output: str, cpu: float) -> Result:
    def latency_ms(percentile: str) -> float:
        match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if match is None:
            raise ValueError(f"no {percentile}% latency in wrk output:\n{output}")
        return float(match.group(1)) * _UNIT_MS[match.group(2)]

    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    requests = re.search(r"^\s+(\d+) requests in", output, re.MULTILINE)
    if rps is None or requests is None:
        raise ValueError(f"no Requests/sec in wrk output:\n{output}")
    cpu_us = 1e6 * cpu / int(requests.group(1))
    return Result(float(rps.group(1)), latency_ms("50"), latency_ms("99"), cpu_us)


def load(
    server: Server, duration: float, endpoint: str = ENDPOINT, headers: Sequence[str] = ()
) -> Result:
    """One wrk run of `duration` seconds on `endpoint`; fails on errors or non-2xx answers."""
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install -y wrk")
    header_options = [option for header in headers for option in ("-H", header)]
    command = pinned(
        LOAD_CPU,
        [
            "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{duration:g}s", "--latency", *header_options,
            f"http://127.0.0.1:{server.port}{endpoint}",
        ],
    )  # fmt: skip
    cpu_before = cpu_seconds(server.pid)
    output = subprocess.run(
        command, check=True, capture_output=True, text=True, timeout=duration + 30
    ).stdout
    cpu = cpu_seconds(server.pid) - cpu_before
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"{server.name}: wrk saw errors:\n{output}")
    return parse_wrk(output, cpu)


def alternate(
    servers: Sequence[Server],
    rounds: int,
    duration: float,
    warmup: float,
    headers: Sequence[str] = (),
) -> dict[str, list[Result]]:
    """Warm each server up, then load them one after the other, `rounds` times."""
    for server in servers:
        load(server, warmup, headers=headers)
    results: dict[str, list[Result]] = {server.name: [] for server in servers}
    for round_number in range(1, rounds + 1):
        for server in servers:
            results[server.name].append(load(server, duration, headers=headers))
        print_round(round_number, {name: runs[-1] for name, runs in results.items()})
    return results


# --- report --------------------------------------------------------------------------------------


def median(runs: Sequence[Result]) -> Result:
    return Result(
        statistics.median(run.rps for run in runs),
        statistics.median(run.p50_ms for run in runs),
        statistics.median(run.p99_ms for run in runs),
        statistics.median(run.cpu_us for run in runs),
    )


HEADER = "requests/s   p50 (ms)  p99 (ms)  server CPU us/request"


def row(name: str, result: Result) -> str:
    return (
        f"  {name:<10} {result.rps:>10,.0f} {result.p50_ms:>9.2f} {result.p99_ms:>9.2f}"
        f" {result.cpu_us:>10.1f}"
    )


def print_round(number: int, results: dict[str, Result]) -> None:
    print(f"round {number}:".ljust(13) + HEADER)
    for name, result in results.items():
        print(row(name, result))


def print_summary(results: dict[str, list[Result]]) -> float:
    """Print the medians and the ratio; return the ratio of the median requests/s."""
    medians = {name: median(runs) for name, runs in results.items()}
    print("median:".ljust(13) + HEADER)
    for name, result in medians.items():
        print(row(name, result))
    service, bare = medians["service"], medians["bare"]
    ratio = service.rps / bare.rps
    # Each round loads the two servers seconds apart, so a round's own ratio is spared most of the
    # machine's drift (other work starting or stopping); their median is the steadier figure.
    paired = statistics.median(
        s.rps / b.rps for s, b in zip(results["service"], results["bare"], strict=True)
    )
    print(f"ratio service/bare of the median requests/s: {ratio:.3f}")
    print(f"median of the per-round ratios:              {paired:.3f}")
    verdict = {2: "met", 1: "met by one figure only: noise, re-run", 0: "missed"}
    print(f"goal >= {GOAL}: {verdict[(ratio >= GOAL) + (paired >= GOAL)]}")
    # Server CPU time per request does not drop when other processes take CPU 0, as requests/s
    # does: on a quiet machine bare/service CPU time matches the throughput ratio.
    print(f"ratio of server CPU time per request, bare/service: {bare.cpu_us / service.cpu_us:.3f}")
    print(
        f"time added per request: {1e6 / service.rps - 1e6 / bare.rps:.1f} us from requests/s, "
        f"{service.cpu_us - bare.cpu_us:.1f} us of server CPU time"
    )
    return ratio


def describe_machine(project: Path) -> None:
    python = project / ".venv" / "bin" / "python"
    versions = subprocess.run(
        [
            str(python),
            "-c",
            "import sys, fastapi, starlette, uvicorn, structlog, prometheus_client as p;"
            "from importlib.metadata import version as v;"
            "print(f'Python {sys.version.split()[0]}, FastAPI {fastapi.__version__}, "
            "Starlette {starlette.__version__}, uvicorn {uvicorn.__version__}, "
            'uvloop {v("uvloop")}, httptools {v("httptools")}, '
            'structlog {structlog.__version__}, prometheus-client {v("prometheus-client")}\')',
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    pinning = "server on CPU 0, wrk on CPU 1" if pinned("0", []) else "no CPU pinning"
    print(f"{os.cpu_count()} CPUs ({pinning}); {versions}")
    print(f"load average before the run: {os.getloadavg()[0]:.2f} (other work skews the figures)")


def switches(
    project: Path, counted: bool, authentication: str | None
) -> tuple[dict[str, str], list[str]]:
    """The switched service's environment (bench_cost.py) and wrk's extra headers."""
    env: dict[str, str] = {}
    headers: list[str] = []
    if counted:
        env |= {"BENCH_COUNTED": "1", "RATE_LIMIT_DEFAULT": "1000000000/minute"}
    if not authentication:
        return env, headers
    secret = os.urandom(32).hex()
    env |= {"BENCH_AUTHENTICATION": "1", "BENCH_TOKEN_SECRET": secret, "SECRET_KEY": secret}
    if authentication == "bearer":
        auth = answer(project, "auth") or "none"
        if auth == "local":
            token = local_access_token(project, secret)  # the service's own, verified as usual
        elif auth == "none":
            token = hs256_token(secret)  # for the stand-in
        else:
            sys.exit(f"--authentication bearer: not for auth = {auth} (no provider here)")
        headers.append(f"Authorization: Bearer {token}")
    return env, headers


_LOCAL_SIGNER = """
import sys
from {package}.auth.local.tokens import sign_access_token
from {package}.auth.principal import Role
from {package}.settings import Settings
settings = Settings(_env_file=None, secret_key=sys.argv[1], access_token_minutes=60)
print(sign_access_token(settings, subject="42", role=Role.USER).token)
"""


def local_access_token(project: Path, secret: str) -> str:
    """An access token signed by the project's own code with `secret` (auth = local), 1 h long."""
    code = _LOCAL_SIGNER.format(package=package_name(project))
    python = str(project / ".venv" / "bin" / "python")
    result = subprocess.run(
        [python, "-c", code, secret], cwd=project, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def hs256_token(secret: str) -> str:
    """An HS256 JWT for the stand-in authenticator, valid for a day (standard library only)."""

    def encoded(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    now = int(time.time())
    claims = {"sub": "42", "iss": "bench", "aud": "bench", "iat": now, "nbf": now}
    claims["exp"] = now + 86400
    header = encoded(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = encoded(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), header + b"." + payload, hashlib.sha256).digest()
    return (header + b"." + payload + b"." + encoded(signature)).decode()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per load run (10)")
    parser.add_argument("--rounds", type=int, default=5, help="service/bare alternations (5)")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up per server (3)")
    parser.add_argument("--keep", type=Path, help="render into (or reuse) this directory")
    parser.add_argument(
        "--answer",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a copier answer for a new render (repeatable), e.g. auth=none",
    )
    parser.add_argument(
        "--counted",
        action="store_true",
        help=f"the rate limiter counts {ENDPOINT} too, as any other path (quota out of reach)",
    )
    parser.add_argument(
        "--authentication",
        choices=["scan", "bearer"],
        help="scan: wrk sends no credentials; bearer: wrk sends a valid token (to both "
        "servers), so the limiter counts per user: with auth=local one the service signed, "
        "with auth=none one for a stand-in authenticator that verifies HS256 tokens as "
        "auth=local would, run where the service has none",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the service only (repeatable), e.g. VERIFIED_TOKEN_CACHE_SECONDS=0",
    )
    args = parser.parse_args(argv)
    answers = dict(answer.split("=", 1) for answer in args.answer)
    settings = dict(setting.split("=", 1) for setting in args.env)

    with tempfile.TemporaryDirectory(prefix="prodready-bench-") as workdir:
        extras = ["auth-local"] if args.authentication else []  # pyjwt, for the stand-in
        project = prepare(
            args.keep.resolve() if args.keep else None, Path(workdir), answers, extras
        )
        logs = Path(workdir)
        describe_machine(project)
        env, headers = switches(project, args.counted, args.authentication)
        env |= settings
        print(
            f"wrk -t1 -c{CONNECTIONS} -d{args.duration:g}s --latency, {args.rounds} rounds; "
            f"service access log -> {logs / 'service.stdout.log'} (a file)"
        )
        package = package_name(project)
        service_app = f"{SWITCHED_MODULE}:app" if env else f"{package}.main:app"
        if env:
            print(f"service: {service_app} with {env}; wrk headers: {headers or 'none'}")
        with (
            serve(project, "service", service_app, logs, env) as service,
            serve(project, "bare", f"{BARE_MODULE}:app", logs) as bare,
        ):
            results = alternate([service, bare], args.rounds, args.duration, args.warmup, headers)
            lines = sum(1 for _ in service.stdout.open("rb"))
        print_summary(results)
        print(f"service stdout: {lines:,} lines (its JSON access log)")
        print(f"load average after the run: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
