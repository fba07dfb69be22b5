"""What the tracing and error-tracking options cost per request, against the default service.

Why: both options put work on every request (a span and its export, Sentry's per-request scope);
an operator choosing them, or choosing a sample ratio, should know how much. This measures it the
way benchmarks/middleware.py measures the pipeline: same uvicorn flags, CPU pinning and wrk load,
every variant in alternation in the same run, so drift of the machine hits all alike.

How:
1. Render two projects: the defaults, and tracing=true error_tracking=true (with `uv sync --locked
   --extra tracing --extra error-tracking`), migrate both.
2. Start one receiver per variant that exports (benchmarks/receiver.py, a local OTLP/HTTP
   collector and Sentry server on 127.0.0.1 that decodes and counts), pinned with wrk to CPU 1.
3. Serve the variants (the server on CPU 0): the default service; the options project with both
   options unconfigured (no endpoint, no DSN: they stay off); tracing on, every trace recorded;
   tracing on with TRACE_SAMPLE_RATIO=0.1; error tracking on; both on.
4. For each endpoint, warm each server up, then load them in turn for --rounds rounds of
   --duration seconds: GET /health/live (no database; tracing excludes it by default, so here
   OTEL_PYTHON_FASTAPI_EXCLUDED_URLS is emptied to measure a traced trivial request) and
   GET /api/v1/items?limit=10 (one SQL query: a server span and SQL spans).
5. Stop the servers (their lifespans flush the exporters), read the receivers' counts, print the
   medians per endpoint and variant, the ratios to the default service, and the spans received.
6. For GET /health/live also the app's CPU us per request called in-process with no server
   (benchmarks/asgi_timing.py, lifespan included, best of 5 x 20,000): steady to about 1 us when
   the machine is busy, but a lower bound, and blind to the exporter's own thread.

A script, not a timed test: it prints figures and exits 0. Everything stays on 127.0.0.1; every
server and receiver is stopped in a finally block.

    python benchmarks/options.py [--duration S] [--rounds N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import middleware as bench  # benchmarks/middleware.py: render, install, serve, load.

OPTIONS = {"tracing": True, "error_tracking": True}
EXTRAS = ("tracing", "error-tracking")
ENDPOINTS = {
    "/health/live": {"OTEL_PYTHON_FASTAPI_EXCLUDED_URLS": ""},
    "/api/v1/items?limit=10": {},
}
BASE = "default service"
# Both options off: how a project generated with them runs where nothing is configured.
UNSET = {"OTEL_EXPORTER_OTLP_ENDPOINT": "", "SENTRY_DSN": ""}


@dataclass(frozen=True)
class Variant:
    name: str
    project: str  # "default" or "options"
    env: dict[str, str] = field(default_factory=dict)
    collector: bool = False  # export spans to a receiver of its own
    tracker: bool = False  # send Sentry events to a receiver of its own


VARIANTS = [
    Variant(BASE, "default"),
    Variant("options generated, unconfigured (off)", "options"),
    Variant("tracing, every trace recorded", "options", collector=True),
    Variant("tracing, TRACE_SAMPLE_RATIO=0.1", "options", {"TRACE_SAMPLE_RATIO": "0.1"}, True),
    Variant("error tracking (Sentry DSN set)", "options", tracker=True),
    Variant("both, every trace recorded", "options", collector=True, tracker=True),
]


def prepare(root: Path) -> dict[str, Path]:
    projects = {"default": root / "default", "options": root / "options"}
    for name, project in projects.items():
        if not (project / "pyproject.toml").exists():
            print(f"rendering {name} into {project}", flush=True)
            bench.render(project, OPTIONS if name == "options" else None)
        bench.install(project, EXTRAS if name == "options" else ())
    return projects


@contextlib.contextmanager
def receiver(python: Path, logs: Path, name: str) -> Iterator[str]:
    """benchmarks/receiver.py on a free port, pinned beside wrk; yields its base URL."""
    port = bench.free_port()
    command = bench.pinned(
        bench.LOAD_CPU, [str(python), str(Path(__file__).with_name("receiver.py")), str(port)]
    )
    with (logs / f"{name}.receiver.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(OSError):
                counts(url)
                break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(
                    f"receiver {name} did not start: {(logs / f'{name}.receiver.log').read_text()}"
                )
            time.sleep(0.1)
        yield url
    finally:
        bench.stop(process)


def counts(url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{url}/counts", timeout=2) as reply:  # noqa: S310 (127.0.0.1)
        loaded: dict[str, int] = json.loads(reply.read())
        return loaded


def in_process_us(project: Path, env: dict[str, str], logs: Path) -> float:
    """benchmarks/asgi_timing.py in the project's venv, pinned like the servers."""
    shutil.copyfile(Path(__file__).with_name("asgi_timing.py"), project / "asgi_timing.py")
    app = f"{bench.package_name(project)}.main:app"
    with (logs / "in-process.stdout.log").open("ab") as stdout:
        return bench.asgi_timing_us(project, app, env, stdout, timeout=600)


def variant_env(variant: Variant, urls: dict[str, str]) -> dict[str, str]:
    env = {**UNSET, **variant.env}
    if variant.collector:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = urls[f"{variant.name} collector"]
    if variant.tracker:
        port = urls[f"{variant.name} tracker"].rsplit(":", 1)[1]
        env["SENTRY_DSN"] = f"http://benchmark-key@127.0.0.1:{port}/1"
    return env


def run(args: argparse.Namespace, root: Path, logs: Path) -> None:
    projects = prepare(root)
    bench.describe_machine(projects["options"])
    python = projects["options"] / ".venv" / "bin" / "python"
    package = bench.package_name(projects["default"])
    requests: dict[str, int] = {v.name: 0 for v in VARIANTS}
    results: dict[str, dict[str, list[bench.Result]]] = {}
    with contextlib.ExitStack() as stack:
        urls = {}
        for variant in VARIANTS:
            for role, wanted in (("collector", variant.collector), ("tracker", variant.tracker)):
                if wanted:
                    key = f"{variant.name} {role}"
                    urls[key] = stack.enter_context(receiver(python, logs, key.replace(" ", "_")))
        in_process = {
            v.name: in_process_us(
                projects[v.project], {**variant_env(v, urls), **ENDPOINTS["/health/live"]}, logs
            )
            for v in VARIANTS
        }
        print("in-process timings done", flush=True)
        for endpoint, endpoint_env in ENDPOINTS.items():
            print(f"\n== GET {endpoint}", flush=True)
            with contextlib.ExitStack() as servers_stack:
                servers = [
                    servers_stack.enter_context(
                        bench.serve(
                            projects[v.project],
                            f"v{i}",
                            f"{package}.main:app",
                            logs,
                            {**variant_env(v, urls), **endpoint_env},
                        )
                    )
                    for i, v in enumerate(VARIANTS)
                ]
                for server in servers:
                    bench.load(server, args.warmup, endpoint)
                runs: dict[str, list[bench.Result]] = {v.name: [] for v in VARIANTS}
                for round_number in range(1, args.rounds + 1):
                    for variant, server in zip(VARIANTS, servers, strict=True):
                        result = bench.load(server, args.duration, endpoint)
                        runs[variant.name].append(result)
                        requests[variant.name] += round(result.rps * args.duration)
                    print(f"round {round_number} of {args.rounds} done", flush=True)
                # Leaving the block stops the servers: their lifespans flush what is batched.
            results[endpoint] = runs
            report(runs, in_process if endpoint == "/health/live" else {})
        received = {key: counts(url) for key, url in urls.items()}
    print("\nreceived by the local receivers (all endpoints, warm-up included):")
    for key, got in received.items():
        print(f"  {key}: {got}")
    print(
        f"load average after the run: {os.getloadavg()[0]:.2f}; "
        f"requests per variant (timed runs): {requests[BASE]:,} for the default"
    )


def report(runs: dict[str, list[bench.Result]], in_process: dict[str, float]) -> None:
    medians = {name: bench.median(results) for name, results in runs.items()}
    base = medians[BASE]
    print(
        f"{'median over rounds':<40} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'CPU us':>7}"
        f" {'x req/s':>8} {'x CPU':>6} {'+CPU us':>8}"
        + (f" {'in-proc':>8} {'+':>6}" if in_process else "")
    )
    for name, result in medians.items():
        rps_ratio, cpu_ratio = result.rps / base.rps, base.cpu_us / result.cpu_us
        print(
            f"{name:<40} {result.rps:>7,.0f} {result.p50_ms:>7.2f} {result.p99_ms:>7.2f}"
            f" {result.cpu_us:>7.1f} {rps_ratio:>8.3f} {cpu_ratio:>6.3f}"
            f" {result.cpu_us - base.cpu_us:>8.1f}"
            + (
                f" {in_process[name]:>8.1f} {in_process[name] - in_process[BASE]:>6.1f}"
                if in_process
                else ""
            )
        )
    print(
        "(x req/s: requests/s relative to the default service; "
        "x CPU: the default's server CPU us per request / this one's)"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=5, help="seconds per load run (5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all variants (3)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per server (2)")
    parser.add_argument("--keep", type=Path, help="render into (or reuse) DIR/default, DIR/options")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="prodready-options-") as workdir:
        root = args.keep.resolve() if args.keep else Path(workdir)
        run(args, root, Path(workdir))


if __name__ == "__main__":
    main()
