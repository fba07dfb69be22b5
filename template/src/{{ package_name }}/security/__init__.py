"""Security against callers: headers, request_limits, hosts, cors, head; layers adds them."""
