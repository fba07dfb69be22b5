"""`make contract`: schemathesis fuzzes the app served for real, against its own OpenAPI document.

Why served for real: the document is only trustworthy if the responses a real server gives (the
middleware's 500s, its problem documents, its headers) match it, so the app is started with `make
run`'s own command line (the Makefile passes it after `--`) on a free 127.0.0.1 port, on a freshly
migrated temporary SQLite database, or on DATABASE_URL when the environment sets one (CI's
PostgreSQL). The gate is schemathesis's exit status: every check, 0 failures. The seed and the
number of examples are fixed, so a red run is reproducible with the same command.

It runs twice: anonymously (every protected operation must answer its documented 401, never a
5xx; fewer examples, since each is refused before its input is read), then signed in as an admin
(ci/credentials.py: how depends on the auth option), so every operation is exercised for real.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from .credentials import admin_headers, identity_provider

READY_TIMEOUT = 60.0  # seconds: start-up plus migrations on a cold machine
ANONYMOUS_EXAMPLES = 10  # per operation, in the anonymous run
# No warnings in the anonymous run: its one would be "operations returned only 401/403", which is
# what must happen there; the signed-in run shows schemathesis's default warnings.
ANONYMOUS_WARNINGS = ("--warnings", "off")
STOP_TIMEOUT = 30.0  # the server's --timeout-graceful-shutdown plus a margin


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_ready(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(
                f"contract: the server exited with {server.returncode} before it was ready; "
                f"its log: {log}"
            )
        try:
            # An http://127.0.0.1 URL this script made itself: ruff's S310 and bandit's B310.
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 # nosec B310
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"contract: {url} was not ready within {READY_TIMEOUT:.0f} s; its log: {log}")


def stop(server: subprocess.Popen[bytes]) -> int:
    """SIGTERM, as an orchestrator stops it: the server drains and exits 0 (see __main__.py)."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            return server.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
            return -signal.SIGKILL
    return server.returncode


def start_migration(environment: dict[str, str]) -> subprocess.Popen[bytes]:
    # The service's `migrate`, beside this interpreter, on the database the server will use.
    return subprocess.Popen(  # noqa: S603 - the project's own command, no shell
        [str(Path(sys.executable).with_name("migrate"))],
        env=environment,
        stdout=subprocess.DEVNULL,
    )


def schemathesis(
    url: str,
    options: argparse.Namespace,
    reports: Path,
    headers: dict[str, str],
    examples: int,
    warnings: tuple[str, ...] = (),
) -> int:
    reports.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{url}/openapi.json",
        "--checks",
        "all",
        "--workers",
        "1",  # one worker: the same seed then gives the same cases, run after run
        "--max-examples",
        str(examples),
        "--seed",
        str(options.seed),
        "--phases",
        options.phases,
        "--generation-database",
        "none",  # no replay of earlier runs' failures: the seed alone decides the cases
        "--report",
        "junit",
        "--report-junit-path",
        str(reports / "junit.xml"),
        "--no-color",
        *warnings,
        *(item for name, value in headers.items() for item in ("--header", f"{name}: {value}")),
    ]
    # Its caches (.hypothesis/, .schemathesis/) land in the working directory: keep them in build/.
    return subprocess.run(command, cwd=reports, check=False).returncode  # noqa: S603


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="test cases per operation")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    parser.add_argument("--reports", type=Path, default=Path("build/contract"))
    parser.add_argument("serve", nargs="+", help="the server's arguments after `python`")
    options = parser.parse_args(argv)
    reports: Path = options.reports.resolve()
    reports.mkdir(parents=True, exist_ok=True)

    with (
        tempfile.TemporaryDirectory(prefix="contract-") as scratch,
        identity_provider(dict(os.environ)) as provider,
    ):
        environment = {**os.environ, **provider}
        environment.setdefault("DATABASE_URL", f"sqlite+aiosqlite:///{scratch}/contract.db")
        # schemathesis sends thousands of requests from one address: under the default limit most
        # would be 429s and the operations would go untested. The limiter stays on (its headers
        # are part of every response), with a quota no run reaches, unless the caller set one.
        environment.setdefault("RATE_LIMIT_DEFAULT", "1000000/minute")
        # auth = local: the signed-in run may outlast a default 15-minute access token, and
        # schemathesis's wrong passwords, all from one address, must not lock its sign-in out.
        environment.setdefault("ACCESS_TOKEN_MINUTES", "60")
        environment.setdefault("LOGIN_FAILURES_PER_ADDRESS", "1000000/minute")
        # Both import the app, which takes seconds: the server starts while the database is being
        # migrated (nothing touches the tables before it is ready and the migration has finished).
        migration = start_migration(environment)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = reports / "server.log"
        command = [sys.executable, *options.serve, "--host", "127.0.0.1", "--port", str(port)]
        with log.open("wb") as output:
            server = subprocess.Popen(  # noqa: S603 (make run's own command line)
                command, env=environment, stdout=output, stderr=subprocess.STDOUT
            )
        try:
            if migration.wait() != 0:
                raise SystemExit(f"contract: the migration failed (exit {migration.returncode})")
            wait_until_ready(f"{url}/health/ready", server, log)
            anonymous = reports / "anonymous"
            status = schemathesis(
                url, options, anonymous, {}, ANONYMOUS_EXAMPLES, ANONYMOUS_WARNINGS
            )
            if status == 0:
                signed_in = admin_headers(url, environment)
                status = schemathesis(url, options, reports, signed_in, options.examples)
        finally:
            stopped = stop(server)
    if status != 0:
        print(f"contract: FAILED: schemathesis found issues (exit {status})", file=sys.stderr)
        return 1
    if stopped != 0:
        print(f"contract: FAILED: the server exited {stopped} on SIGTERM; {log}", file=sys.stderr)
        return 1
    junit = reports / "junit.xml"
    print(f"contract: passed; reports {junit} and anonymous/{junit.name}, server log {log}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
