"""Security: what protects the service from its callers."""
