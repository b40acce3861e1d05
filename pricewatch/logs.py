"""Logging for the commands that run as a service (`run`, `schedule`, `bot`): one setup.

Lines carry ISO 8601 UTC timestamps ("2026-12-05T01:58:02Z INFO pricewatch.scheduler: ..."),
go to stderr (the journal, under systemd) and, if asked, to a file. The level comes from
``-v``/``-q`` on the command line, else ``[log] level``; the file from ``--log-file``, else
``[log] file``. Chatty libraries stay at WARNING unless ``-v``: their per-request lines would
drown what the service says.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from pricewatch.config import LogConfig

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Per-request and per-job chatter at INFO; Scrapy's own log goes to files (pricewatch.crawl).
CHATTY = ("httpx", "httpcore", "apscheduler", "asyncio")


class IsoUtcFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))


def setup_logging(settings: LogConfig, *, verbosity: int = 0, log_file: str | None = None) -> None:
    """Configure the root logger once for this process. ``verbosity``: -1 quiet (WARNING),
    0 the config's level, 1 and more DEBUG with the libraries' chatter."""
    if verbosity < 0:
        level = logging.WARNING
    elif verbosity > 0:
        level = logging.DEBUG
    else:
        level = logging.getLevelNamesMapping()[settings.level.upper()]
    formatter = IsoUtcFormatter(FORMAT)
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    target = log_file or settings.file
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(target, encoding="utf-8"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(level)
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.DEBUG if verbosity > 0 else logging.WARNING)
