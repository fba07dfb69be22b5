"""Security (headers, request_limits, hosts, cors, head): what protects the service from callers."""
