"""Logging shared by the gateway and the services.

The request id of the HTTP request being served lives in a context variable;
``RequestIdFilter`` copies it onto every log record so that formatters can
print it.  ``make_formatter`` gives either the text or the JSON line format,
chosen by ``LOG_FORMAT``; both the gateway's uvicorn log config and the
services' nameko ``LOGGING`` key build their formatter through it.  Either
format masks the password of every URI in a line (``mask_secrets``), whoever
wrote it: nameko, kombu and redis-py put connection URIs in their messages.
"""

import contextvars
import json
import logging
import re
import time

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar(
    "request_id", default="-"
)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

# scheme://user:password@ (the user may be empty: redis://:password@host)
_URI_PASSWORD = re.compile(r"([a-z][a-z0-9+.-]*://[^:/@\s]*):[^@\s/]*@", re.IGNORECASE)
MASK = "****"


def mask_secrets(text: str) -> str:
    """``text`` with the password of every URI in it replaced by ``****``."""
    if "://" not in text:  # most lines: no URI, and no pattern scan over them
        return text
    return _URI_PASSWORD.sub(r"\1:%s@" % MASK, text)


# Attributes every LogRecord has; anything else was passed with ``extra=``.
_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "request_id",
    "color_message",
}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + ".%03dZ" % record.msecs,
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return mask_secrets(json.dumps(entry, default=str))


def lean_records() -> None:
    """Log records without what no line of ours prints: the calling function,
    file and line, the thread and the process (logging's own switches, in its
    HOWTO's "Optimization").  Looking them up costs more than the rest of a
    line under eventlet, where the current thread is a greenlet's lookup."""
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def make_formatter(log_format: str = "text") -> logging.Formatter:
    """Formatter factory, usable as ``()`` in a ``logging.config`` dict; the
    process's records are made lean (``lean_records``) with it."""
    lean_records()
    if log_format == "json":
        return JsonFormatter()
    if log_format != "text":
        raise ValueError("LOG_FORMAT must be 'text' or 'json', not %r" % log_format)
    return TextFormatter(TEXT_FORMAT)


def logging_config(log_format: str = "text", level: str = "INFO") -> dict:
    """A ``logging.config.dictConfig`` dict: one stderr handler for everything."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"default": {"()": make_formatter, "log_format": log_format}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }
