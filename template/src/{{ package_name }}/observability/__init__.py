"""Observability: JSON logs, the access log, Prometheus metrics, and the optional tracing and
error tracking.

Why a package: these are the signals an operator reads in an incident; each concern is one module
here. It imports nothing of the service but about.py (its name and version) and settings.py, so
any other module can use it without an import cycle. The optional ones (tracing.py,
error_tracking.py) exist only when chosen; options.py lists them for main.py.
"""
