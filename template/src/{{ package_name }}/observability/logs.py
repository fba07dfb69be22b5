"""JSON logs on stdout, one object per line, in one shape for every logger in the process.

Why: log collectors (Loki, CloudWatch, Elastic) parse JSON without regexes, and a request id in
every line ties the access log, application logs and error reports of one request together.
structlog renders our own events; the standard library's loggers (uvicorn, SQLAlchemy, Alembic) are
routed through the same processors and renderer, and the access line (access_log.py) is written in
the same shape, so every line starts with the same four keys:

    {"event":"startup","level":"info","timestamp":"2026-...Z","logger":"lifecycle",...}

`logger` is the name given to `structlog.get_logger(NAME)` or `logging.getLogger(NAME)`
("uvicorn.error", "alembic.runtime.migration"); the access line's is "access".

Every line passes through redaction.py before it is written.
"""

import logging
import sys
from collections.abc import Callable, Mapping
from typing import Any, TextIO

import structlog

from .access_log import configure_access_log
from .redaction import redact_sensitive_fields

# uvicorn's access log is replaced by ours (access_log.py): same facts, plus request id and route.
SILENCED_LOGGERS = ("uvicorn.access",)

# The four keys every line starts with, in this order (access_log.py writes the same).
LEADING_KEYS = ("event", "level", "timestamp", "logger")
# A line from structlog.get_logger() without a name.
DEFAULT_LOGGER_NAME = __package__.partition(".")[0] if __package__ else "app"

ContextFields = Callable[[], Mapping[str, str]]


def _leading_keys_first(
    _logger: Any, _method: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    # structlog puts a call's keyword arguments before `event`; one order for every line instead.
    ordered = {key: event_dict.pop(key) for key in LEADING_KEYS if key in event_dict}
    ordered.update(event_dict)
    return ordered


# The provider configure_logging was last given. A module variable read on every line, not a
# value baked into the processor chain: structlog caches each logger's chain on first use, so a
# logger used before tracing was set up (or in an earlier test) still gets the current fields.
_context_fields: ContextFields | None = None


def _merge_context_fields(
    _logger: Any, _method: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    if _context_fields is not None:
        for key, value in _context_fields().items():
            event_dict.setdefault(key, value)  # a field the call site gave itself wins
    return event_dict


class _NamedWriteLogger(structlog.WriteLogger):
    """structlog's fast WriteLogger, plus the name it was created with.

    structlog.stdlib.add_logger_name reads `logger.name`, for our lines and stdlib's alike.
    """

    def __init__(self, file: Any, name: str) -> None:
        super().__init__(file)
        self.name = name


class _NamedWriteLoggerFactory:
    def __init__(self, file: Any) -> None:
        self._file = file

    def __call__(self, *args: Any) -> _NamedWriteLogger:
        name = args[0] if args and isinstance(args[0], str) else DEFAULT_LOGGER_NAME
        return _NamedWriteLogger(self._file, name)


# Compact separators: the same bytes as the hand-written access line.
_render = structlog.processors.JSONRenderer(separators=(",", ":"))


# What every line goes through, structlog's and stdlib's, before it is rendered.
_SHARED_PROCESSORS: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.stdlib.add_logger_name,
    _merge_context_fields,
    redact_sensitive_fields,
]


# Tracebacks as JSON, without each frame's local variables: those hold the request's headers
# (a bearer token, an API key), a password being checked and the settings' secrets, which
# redaction.py cannot find inside the frames' rendered text.
_TRACEBACKS = structlog.processors.ExceptionRenderer(
    structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
)


def _stdout() -> TextIO:
    # The process's own stdout, not whatever replaced sys.stdout later: logs always reach fd 1.
    return sys.__stdout__ or sys.stdout


def json_handler(stream: TextIO | None = None) -> logging.Handler:
    """A stdlib handler writing our JSON lines to `stream` (stdout unless told).

    Also named by log-config.json, which uvicorn loads before it imports the app, so that the
    server's own first lines (and an import error) are JSON too.
    """
    handler = logging.StreamHandler(stream or _stdout())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_SHARED_PROCESSORS,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                _TRACEBACKS,
                _leading_keys_first,
                _render,
            ],
        )
    )
    return handler


def configure_logging(
    level: str,
    *,
    stream: TextIO | None = None,
    context_fields: ContextFields | None = None,
    access_log_sample_rate: float = 1.0,
) -> None:
    """Configure once per process: loggers cache their configuration on first use (it is faster).

    Lines go to stdout, or to `stream` when given: manage.py sends them to stderr, because its
    stdout carries a command's result (the API key a script captures).

    `context_fields`, when given, is called for every line and its fields are added to it:
    structlog lines, stdlib lines and the access line alike (tracing passes the current trace and
    span ids). `access_log_sample_rate` is the share of successful requests the access log
    writes (access_log.py).
    """
    global _context_fields
    _context_fields = context_fields
    stream = stream or _stdout()
    numeric_level = logging.getLevelNamesMapping()[level]
    structlog.configure(
        processors=[
            *_SHARED_PROCESSORS,
            _TRACEBACKS,
            _leading_keys_first,
            _render,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=_NamedWriteLoggerFactory(stream),
        cache_logger_on_first_use=True,
    )

    root = logging.getLogger()
    root.handlers = [json_handler(stream)]
    root.setLevel(numeric_level)
    # Python's warnings (a library's deprecation, pyjwt's short-key warning) become JSON lines on
    # the py.warnings logger, instead of plain text on stderr.
    logging.captureWarnings(True)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    configure_access_log(
        numeric_level,
        stream=stream,
        sample_rate=access_log_sample_rate,
        context_fields=context_fields,
    )
    for name in SILENCED_LOGGERS:
        silenced = logging.getLogger(name)
        silenced.handlers.clear()
        silenced.propagate = False
