"""`make load`'s two gates: which targets a load test may hit, and whether its results pass.

`target URL`: a load test against someone else's service is an attack, and against production an
outage, so only a loopback URL is accepted unless the caller says otherwise (--allow-remote, the
Makefile's LOAD_ALLOW_REMOTE=1). Nothing is resolved: a name other than localhost is remote.

`report STATS_CSV`: Locust's `<prefix>_stats.csv`, its "Aggregated" row. It fails when the p95
latency is above the SLO (copier's slo_latency_ms, the one the alerts watch), when the share of
failed requests is above the budget, and when there were no requests at all: a load test that
measured nothing must never look green. Locust rewrites the CSV every second, so it holds every
request but those of the run's last second.
"""

import argparse
import csv
import ipaddress
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


class GateError(Exception):
    """One line saying why the gate refuses; the process exits 1 with it."""


def check_target(url: str, *, allow_remote: bool) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise GateError(f"load: {url!r} is not an http(s)://host[:port] URL")
    if allow_remote or _is_loopback(parts.hostname):
        return f"load: target {url}"
    raise GateError(
        f"load: refusing {url}: not a loopback address (127.0.0.1, ::1, localhost); "
        "set LOAD_ALLOW_REMOTE=1 to load a service you own"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: resolving it could say anything, so it counts as remote
        return False


@dataclass(frozen=True)
class Totals:
    requests: int
    failures: int
    p95_ms: float | None  # Locust writes N/A when nothing was measured

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


def read_totals(stats_csv: Path) -> Totals:
    try:
        with stats_csv.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError:
        raise GateError(f"load: FAILED: no results at {stats_csv} (did Locust run?)") from None
    aggregated = [row for row in rows if row.get("Name") == "Aggregated"]
    if len(aggregated) != 1:
        raise GateError(f"load: FAILED: {stats_csv} has no Aggregated row")
    row = aggregated[0]
    p95 = row["95%"]
    return Totals(
        requests=int(row["Request Count"]),
        failures=int(row["Failure Count"]),
        p95_ms=None if p95 == "N/A" else float(p95),
    )


def check_totals(totals: Totals, *, p95_ms: float, max_error_rate: float) -> str:
    if totals.requests == 0 or totals.p95_ms is None:
        raise GateError("load: FAILED: no requests were made, so nothing was measured")
    measured = (
        f"{totals.requests} requests, {totals.failures} failed ({totals.error_rate:.3%}), "
        f"p95 {totals.p95_ms:g} ms"
    )
    problems = []
    if totals.p95_ms > p95_ms:
        problems.append(f"p95 {totals.p95_ms:g} ms is above the SLO of {p95_ms:g} ms")
    if totals.error_rate > max_error_rate:
        problems.append(f"error rate {totals.error_rate:.3%} is above {max_error_rate:.3%}")
    if problems:
        raise GateError(f"load: FAILED: {'; '.join(problems)} ({measured})")
    return f"load: passed: {measured}; SLO p95 <= {p95_ms:g} ms, errors <= {max_error_rate:.3%}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="make load's gates")
    commands = parser.add_subparsers(dest="command", required=True)
    target = commands.add_parser("target", help="refuse a non-loopback URL")
    target.add_argument("url")
    target.add_argument("--allow-remote", action="store_true")
    report = commands.add_parser("report", help="check Locust's stats CSV against the SLO")
    report.add_argument("stats_csv", type=Path)
    report.add_argument("--p95-ms", type=float, required=True)
    report.add_argument("--max-error-rate", type=float, required=True)
    options = parser.parse_args(argv)
    try:
        if options.command == "target":
            print(check_target(options.url, allow_remote=options.allow_remote))
        else:
            totals = read_totals(options.stats_csv)
            limit = options.max_error_rate
            print(check_totals(totals, p95_ms=options.p95_ms, max_error_rate=limit))
    except GateError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
