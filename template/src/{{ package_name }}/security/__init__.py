"""Security against callers: headers, request_limits, hosts, cors, rate_limit, head, probes."""
