"""prodready: generate production-ready FastAPI services from a Copier template."""

from importlib.metadata import version

__version__ = version("prodready")
