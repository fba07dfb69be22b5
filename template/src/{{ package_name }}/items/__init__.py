"""The example domain: a package per domain with its model, schemas, service and router.

Copy this package to add a domain; keep views thin and put the logic in keyword-only service
functions that take a session, so they can be reused from jobs and tested without HTTP.
"""
