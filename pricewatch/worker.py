"""A long-lived crawl worker for `pricewatch run` and `schedule`: start-up paid once.

A one-off crawl child imports Scrapy, builds its reactor and reads the config for every crawl:
most of a small shop's crawl. `CrawlWorker` keeps one `pricewatch.crawl_worker` process and
hands it crawls (several at once, from the scheduler's threads); each crawl is recorded by the
worker's pipeline exactly as a child's is, and read back from the ``crawls`` table the same way
(`pricewatch.crawl`). What a one-off child guarantees still holds:

- a crawl past its time limit is cancelled (its spiders close gracefully and are recorded as
  not ok); one that does not stop within the grace period takes the worker down with it;
- a worker that dies (killed, crashed) has the crawls it was running closed as failed, and the
  next crawl starts a new one;
- a worker is recycled, once idle, after ``[crawl] worker_recycle_crawls`` crawls or when it
  grows past ``worker_max_memory`` MiB, so weeks of running accumulate no leak.

``[crawl] isolate = true`` keeps a child process per crawl instead.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import IO, Any

from pricewatch.config import Config, ShopConfig
from pricewatch.crawl import (
    LOG_FOLDER,
    CrawlError,
    CrawlReport,
    _close_unfinished,
    _reports,
    crawl_start,
    new_log_file,
)
from pricewatch.store import Store

logger = logging.getLogger(__name__)

CANCEL_GRACE = 10.0  # seconds a cancelled crawl may take to close (as a child is given)
START_TIMEOUT = 60.0  # seconds a new worker may take to say it is ready


@dataclass
class _Request:
    pid: int  # the worker process it was sent to
    done: threading.Event = field(default_factory=threading.Event)
    died: bool = False  # the worker ended before answering
    rss_mb: float = 0.0


class CrawlWorker:
    """One worker process at a time, started on first use; thread-safe."""

    def __init__(self, config: Config, *, log_level: str = "WARNING") -> None:
        self.config = config
        self.log_level = log_level
        self.recycle_after = config.crawl.worker_recycle_crawls
        self.max_memory_mb = config.crawl.worker_max_memory
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._requests: dict[int, _Request] = {}
        self._next_id = 0
        self._crawls = 0  # crawls the current process has run
        self._retiring = False  # recycle once idle
        self.started = 0  # processes started (for status and tests)
        self.peak_rss_mb = 0.0  # the largest a worker process has been after a crawl

    # -- the process ------------------------------------------------------------------------

    def _ensure_process(self) -> subprocess.Popen[str]:
        """The running worker, started (or restarted) if needed. Called with the lock held."""
        if self._process is not None and self._process.poll() is None and not self._retiring:
            return self._process
        process = self._process
        busy = process is not None and any(r.pid == process.pid for r in self._requests.values())
        if process is not None and process.poll() is None and busy:
            return process  # retiring, but still busy: it takes this crawl too
        self._retire()
        command = [sys.executable, "-m", "pricewatch.crawl_worker", "--log-level", self.log_level]
        if self.log_level == "WARNING":
            log = new_log_file(self.config.db_path.parent / LOG_FOLDER)
            command += ["--log-file", str(log)]
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(self.config.to_json().replace("\n", " ") + "\n")
        process.stdin.flush()
        ready = threading.Event()
        threading.Thread(
            target=self._read_answers, args=(process, process.stdout, ready), daemon=True
        ).start()
        if not ready.wait(START_TIMEOUT) or process.poll() is not None:
            process.kill()
            raise CrawlError("the crawl worker did not start")
        self._process, self._crawls, self._retiring = process, 0, False
        self.started += 1
        logger.info("crawl worker %s started", process.pid)
        return process

    def _read_answers(
        self, process: subprocess.Popen[str], lines: IO[str], ready: threading.Event
    ) -> None:
        for line in lines:
            with contextlib.suppress(ValueError):
                message = json.loads(line)
                if message.get("ready"):
                    ready.set()
                    continue
                with self._lock:
                    request = self._requests.get(int(message.get("id", -1)))
                if request is not None:
                    request.rss_mb = float(message.get("rss_mb") or 0.0)
                    self.peak_rss_mb = max(self.peak_rss_mb, request.rss_mb)
                    request.done.set()
        process.wait()  # stdout closed: the process is ending or gone
        with self._lock:
            for request in self._requests.values():
                if request.pid == process.pid and not request.done.is_set():
                    request.died = True
                    request.done.set()
            if self._process is process:
                self._process = None
        ready.set()

    def _send(self, process: subprocess.Popen[str], message: dict[str, Any]) -> None:
        if process.stdin is None:
            return
        with contextlib.suppress(BrokenPipeError, ValueError, OSError):
            process.stdin.write(json.dumps(message) + "\n")
            process.stdin.flush()

    def _retire(self) -> None:
        """Let the current process finish what it runs and exit (lock held, or closing)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            self._send(process, {"exit": True})
            with contextlib.suppress(OSError):
                if process.stdin is not None:
                    process.stdin.close()

    def close(self, timeout: float = 30.0) -> None:
        """Stop the worker (after the crawls it runs); kill it if it does not stop in time."""
        with self._lock:
            process = self._process
            self._retire()
        if process is not None:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()

    # -- crawls -----------------------------------------------------------------------------

    def crawl(
        self,
        config: Config,
        shops: tuple[ShopConfig, ...],
        *,
        time_limit: float | None = None,
        log_level: str = "WARNING",
        cancel: threading.Event | None = None,
    ) -> list[CrawlReport]:
        """Crawl the shops in the worker and report, like `pricewatch.crawl.run_crawl`."""
        limit, last_id = crawl_start(config, shops, time_limit)
        with self._lock:
            process = self._ensure_process()
            self._next_id += 1
            request_id, request = self._next_id, _Request(process.pid)
            self._requests[request_id] = request
            self._send(process, {"id": request_id, "shops": [shop.name for shop in shops]})
        owner = f"{socket.gethostname()}:{process.pid}"  # as the worker's crawls name it
        why = self._wait(process, request_id, request, limit, cancel)
        with self._lock:
            self._requests.pop(request_id, None)
            self._crawls += 1
            if self._crawls >= self.recycle_after or request.rss_mb > self.max_memory_mb:
                logger.info(
                    "crawl worker %s recycled after %d crawls, %.0f MiB",
                    process.pid,
                    self._crawls,
                    request.rss_mb,
                )
                self._retiring = True
            busy = any(r.pid == process.pid for r in self._requests.values())
            if self._retiring and not busy and self._process is process:
                self._retire()
        with Store(config.db_path) as store:
            if request.died or why:
                _close_unfinished(store, shops, last_id, why or "crawl worker died", owner)
            return _reports(store, shops, last_id, owner)

    def _wait(
        self,
        process: subprocess.Popen[str],
        request_id: int,
        request: _Request,
        limit: float,
        cancel: threading.Event | None,
    ) -> str | None:
        """Until the request is answered; cancel it at its time limit or on ``cancel``, kill
        the worker if a cancelled crawl does not close in time. Returns why it was cut off."""
        deadline = time.monotonic() + limit
        cancelled_at: float | None = None
        why = None
        while not request.done.wait(0.2):  # the answer normally ends this at once
            now = time.monotonic()
            if cancelled_at is None and (now >= deadline or (cancel and cancel.is_set())):
                why = f"time limit of {limit:g} s reached" if now >= deadline else "stopped"
                self._send(process, {"cancel": request_id})
                cancelled_at = now
            elif cancelled_at is not None and now - cancelled_at > CANCEL_GRACE:
                logger.warning("crawl worker %s did not stop a crawl: killed", process.pid)
                process.kill()
                request.done.wait(10)
                break
        return why if why and why.startswith("time limit") else None
