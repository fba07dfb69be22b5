"""A local stand-in for an OpenTelemetry collector and a Sentry server, for benchmarks/options.py.

It answers 200 to every POST and counts what arrived: the spans in each OTLP/HTTP export to
/v1/traces (decoded with opentelemetry-proto, so a broken export does not count) and the
envelopes and error events sent to /api/<project>/envelope/. GET /counts returns the counts as JSON.
Run with a Python that has opentelemetry-proto (a project rendered with tracing has it):

    python benchmarks/receiver.py PORT
"""

from __future__ import annotations

import gzip
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

counts = {"trace_exports": 0, "spans": 0, "envelopes": 0, "events": 0, "bad": 0}
lock = threading.Lock()


def count_spans(body: bytes) -> int:
    export = ExportTraceServiceRequest.FromString(body)
    return sum(
        len(scope.spans) for resource in export.resource_spans for scope in resource.scope_spans
    )


def count_events(body: bytes) -> int:
    lines = body.split(b"\n")[1:]  # the envelope header, then item headers and payloads
    return sum(1 for line in lines if line.startswith(b"{") and b'"type":"event"' in line)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        with lock:
            try:
                if self.path == "/v1/traces":
                    counts["spans"] += count_spans(body)
                    counts["trace_exports"] += 1
                elif self.path.endswith("/envelope/"):
                    counts["events"] += count_events(body)
                    counts["envelopes"] += 1
                else:
                    counts["bad"] += 1
            except Exception:  # counted as bad, and the benchmark prints it
                counts["bad"] += 1
        self._answer(b"{}")

    def do_GET(self) -> None:
        with lock:
            self._answer(json.dumps(counts).encode())

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
