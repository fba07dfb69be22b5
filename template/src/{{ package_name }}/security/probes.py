"""The paths the orchestrator and Prometheus call steadily, each pod by its address: the health
probes and the metrics scrape. The layers that would refuse or count a request leave them alone
(hosts.py, rate_limit.py): refusing them would restart or blind a healthy service.
"""

PROBE_PATHS = frozenset({"/health/live", "/health/ready", "/metrics"})
