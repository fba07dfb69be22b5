"""Where the service's added time per request goes, and what candidate template changes save.

Why: benchmarks/middleware.py says how far the service is from a bare FastAPI app; this says which
part costs what, before anyone edits template/. It serves variants of a rendered copy
(benchmarks/variants_app.py patches the copy at start-up, never the template) under the same
uvicorn flags, CPU pinning and wrk load as benchmarks/middleware.py, in alternation with the bare
app, and prints for each variant the medians over the rounds of:

  req/s     requests/s under wrk
  CPU us    the server's CPU time per request
  added     1e6/rps_variant - 1e6/rps_bare, us per request (what the goal's ratio is made of)
  by CPU    CPU us minus the bare app's (steadier when other processes share the machine)
  step      in the ladder: by CPU, minus the row above
  in-proc   the app's CPU time per request called in-process, no server (benchmarks/asgi_timing.py):
            steady to ~1 us but a lower bound, and blind to response-header work in uvicorn

Two tables: the ladder (the pipeline built up one component at a time) and the tunings (the
service with one candidate change each, then combinations).

    python benchmarks/components.py [--duration S] [--rounds N] [--keep DIR] [--only ladder|tunings]
        [--no-server] [--no-inprocess]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import middleware as bench  # benchmarks/middleware.py: render, install, serve, load.

VARIANTS_MODULE = "bench_variants"
BARE_ROUTER_MODULE = "bench_bare_router"
BARE_ROUTER_APP = bench.BARE_APP.replace(
    "from fastapi import FastAPI", "from fastapi import APIRouter, FastAPI"
).replace(
    '@app.get("/health/live")\nasync def live() -> Liveness:\n    return Liveness()\n',
    'router = APIRouter(prefix="/health")\n\n\n@router.get("/live")\n'
    "async def live() -> Liveness:\n    return Liveness()\n\n\napp.include_router(router)\n",
)


@dataclass(frozen=True)
class Variant:
    name: str
    env: dict[str, str] = field(default_factory=dict)
    app: str = f"{VARIANTS_MODULE}:app"


BARE = Variant("bare FastAPI app", app=f"{bench.BARE_MODULE}:app")
# The pipeline first, without the security layers; then those one at a time. For the hosts and
# CORS layers to be there, run with ALLOWED_HOSTS='["127.0.0.1"]' and CORS_ORIGINS set (wrk sends
# no Origin, so CORS costs its header scan only).
_NO_SECURITY = {"BENCH_SECURITY": "off"}
LADDER = [
    Variant("bare, endpoint in an included APIRouter", app=f"{BARE_ROUTER_MODULE}:app"),
    Variant("service without its middleware", {"BENCH_PIPELINE": "off", **_NO_SECURITY}),
    Variant("+ middleware, every part a no-op", {"BENCH_PIPELINE": "none", **_NO_SECURITY}),
    Variant("+ request id", {"BENCH_PIPELINE": "request-id", **_NO_SECURITY}),
    Variant(
        "+ security headers", {"BENCH_PIPELINE": "request-id,security-headers", **_NO_SECURITY}
    ),
    Variant("+ metrics", {"BENCH_PIPELINE": "request-id,security-headers,metrics", **_NO_SECURITY}),
    Variant("+ access log", {"BENCH_PIPELINE": "all", **_NO_SECURITY}),
    Variant("+ request limits", {"BENCH_SECURITY": "request-limits"}),
    Variant("+ trusted hosts", {"BENCH_SECURITY": "request-limits,hosts"}),
    Variant("+ CORS (no Origin sent)", {"BENCH_SECURITY": "request-limits,hosts,cors"}),
    Variant("+ authentication", {"BENCH_SECURITY": "request-limits,hosts,cors,authentication"}),
    Variant("+ rate limit (= the service)", {"BENCH_SECURITY": "all"}),
]
RECOMMENDED = "token-request-id,metric-children,gauge-function,lean-access-log"
TUNINGS = [
    Variant("service as generated", {"BENCH_PIPELINE": "all"}),
    *(
        Variant(f"+ {name}", {"BENCH_TUNE": name})
        for name in (
            "token-request-id",
            "no-clear",
            "metric-children",
            "gauge-function",
            "fast-timestamp",
            "fast-json",
            "no-flush",
            "lean-access-log",
            "api-headers",
        )
    ),
    Variant("recommended: " + RECOMMENDED.replace(",", ", "), {"BENCH_TUNE": RECOMMENDED}),
    Variant("recommended + api-headers", {"BENCH_TUNE": RECOMMENDED + ",api-headers"}),
    Variant("floor: lean-pipeline (whole middleware rewritten)", {"BENCH_TUNE": "lean-pipeline"}),
]


def install_variants(project: Path) -> None:
    here = Path(__file__).parent
    shutil.copyfile(here / "variants_app.py", project / "src" / f"{VARIANTS_MODULE}.py")
    shutil.copyfile(here / "asgi_timing.py", project / "asgi_timing.py")
    (project / "src" / f"{BARE_ROUTER_MODULE}.py").write_text(BARE_ROUTER_APP)


def in_process_us(project: Path, variant: Variant, env: dict[str, str], logs: Path) -> float:
    """The app's CPU us per request called in-process (asgi_timing.py), pinned like the server."""
    with (logs / "in-process.stdout.log").open("wb") as stdout:
        return bench.asgi_timing_us(
            project, variant.app, {**env, **variant.env}, stdout, timeout=300
        )


def serve_and_load(
    project: Path,
    variants: Sequence[Variant],
    env: dict[str, str],
    logs: Path,
    args: argparse.Namespace,
) -> dict[str, list[bench.Result]]:
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(bench.serve(project, f"v{i}", v.app, logs, {**env, **v.env}))
            for i, v in enumerate(variants)
        ]
        for server in servers:
            bench.load(server, args.warmup)
        runs: dict[str, list[bench.Result]] = {v.name: [] for v in variants}
        for round_number in range(1, args.rounds + 1):
            for variant, server in zip(variants, servers, strict=True):
                runs[variant.name].append(bench.load(server, args.duration))
            print(f"round {round_number} of {args.rounds} done", flush=True)
    return runs


def report(
    title: str,
    variants: Sequence[Variant],
    runs: dict[str, list[bench.Result]],
    in_process: dict[str, float],
    ladder: bool,
) -> None:
    print(f"\n{title}")
    print(
        f"{'variant':<62} {'req/s':>7} {'CPU us':>7} {'added':>6} {'by CPU':>7} {'step':>6} "
        f"{'in-proc':>7} {'step':>5}"
    )
    bare = bench.median(runs[BARE.name]) if runs else None
    previous: tuple[float, float] | None = None
    for variant in [BARE, *variants]:
        line = f"{variant.name:<62}"
        added_cpu = 0.0
        if bare is not None:
            result = bench.median(runs[variant.name])
            added_cpu = result.cpu_us - bare.cpu_us
            added = 1e6 / result.rps - 1e6 / bare.rps
            step = f"{added_cpu - previous[0]:>6.1f}" if ladder and previous else " " * 6
            line += (
                f" {result.rps:>7,.0f} {result.cpu_us:>7.1f} {added:>6.1f} {added_cpu:>7.1f} {step}"
            )
        else:
            line += " " * 44
        proc = in_process.get(variant.name)
        if proc is not None:
            proc_step = f"{proc - previous[1]:>5.1f}" if ladder and previous else ""
            line += f" {proc:>7.1f} {proc_step}"
        print(line)
        if variant is not BARE or ladder:
            previous = (added_cpu, proc or 0.0)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=5, help="seconds per load run (5)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds over all variants (4)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per server (2)")
    parser.add_argument("--keep", type=Path, help="render into (or reuse) this directory")
    parser.add_argument("--only", choices=["ladder", "tunings"], help="run one of the two tables")
    parser.add_argument("--no-server", action="store_true", help="in-process timings only")
    parser.add_argument("--no-inprocess", action="store_true", help="server figures only")
    args = parser.parse_args(argv)

    tables = {"ladder": LADDER, "tunings": TUNINGS}
    if args.only:
        tables = {args.only: tables[args.only]}
    with tempfile.TemporaryDirectory(prefix="prodready-components-") as workdir:
        logs = Path(workdir)
        project = bench.prepare(args.keep.resolve() if args.keep else None, logs)
        install_variants(project)
        bench.describe_machine(project)
        env = {"BENCH_PACKAGE": bench.package_name(project)}
        variants = [BARE, *(v for table in tables.values() for v in table)]
        in_process: dict[str, float] = {}
        if not args.no_inprocess:
            for variant in variants:
                in_process[variant.name] = in_process_us(project, variant, env, logs)
            print("in-process timings done", flush=True)
        runs = {} if args.no_server else serve_and_load(project, variants, env, logs, args)
        for name, table in tables.items():
            report(f"== {name}", table, runs, in_process, ladder=name == "ladder")
        if runs:
            bare_rps = [r.rps for r in runs[BARE.name]]
            spread = 100 * (max(bare_rps) - min(bare_rps)) / statistics.median(bare_rps)
            print(
                f"\nbare req/s per round: {', '.join(f'{r:,.0f}' for r in bare_rps)}"
                f" (spread {spread:.0f}% of the median: the noise floor of this run)"
            )
        print(
            "(us per request; added = 1e6/rps - 1e6/rps_bare; by CPU = CPU us - bare's;"
            " step = by CPU or in-proc, minus the row above)"
        )


if __name__ == "__main__":
    main()
