"""JSON logs on stdout, one object per line, for every logger in the process.

Why: log collectors (Loki, CloudWatch, Elastic) parse JSON without regexes, and a request id in
every line ties the access log, application logs and error reports of one request together.
structlog renders our own events; the standard library's loggers (uvicorn, SQLAlchemy, Alembic) are
routed through the same renderer so nothing prints plain text.
"""

import logging
import sys

import structlog

from .access_log import configure_access_log

# uvicorn's access log is replaced by ours (access_log.py): same facts, plus request id and route.
SILENCED_LOGGERS = ("uvicorn.access",)


def configure_logging(level: str) -> None:
    """Configure once per process: loggers cache their configuration on first use (it is faster)."""
    # The process's own stdout, not whatever replaced sys.stdout later: logs always reach fd 1.
    stream = sys.__stdout__ or sys.stdout
    numeric_level = logging.getLevelNamesMapping()[level]
    shared_processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared_processors,
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        cache_logger_on_first_use=True,
    )

    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared_processors, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.dict_tracebacks,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(numeric_level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    configure_access_log(numeric_level)
    for name in SILENCED_LOGGERS:
        silenced = logging.getLogger(name)
        silenced.handlers.clear()
        silenced.propagate = False
