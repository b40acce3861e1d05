"""Running the Scrapy engine: one child process per crawl, as Scrapyd does.

Twisted's reactor cannot be restarted inside a process, so a process that crawls more than once
(the demo, the scheduler, the tests) starts a fresh child for each crawl: ``python -m
pricewatch.crawl SHOP...`` with the config as JSON on stdin. The child runs every named shop's
spider in one CrawlerProcess; the spiders' pipeline writes to SQLite; the parent reads what
happened back from the ``crawls`` table. A child that outlives its time limit is killed and its
crawls are recorded as failed, so a hung shop never hangs the caller.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pricewatch.config import Config, ShopConfig
from pricewatch.models import CrawlStatus
from pricewatch.store import Store, utc_now

SCRAPY_SETTINGS_MODULE = "scrapers.settings"
# Scrapy's log of each crawl process: in this folder beside the database, the newest kept.
LOG_FOLDER = "logs"
LOGS_KEPT = 200

logger = logging.getLogger(__name__)


class CrawlError(Exception):
    """The crawl could not be run at all (not: a shop failed, which is a crawl result)."""


@dataclass(frozen=True)
class CrawlReport:
    """One shop's crawl, as recorded in the database."""

    crawl_id: int
    shop: str
    status: str
    products: int
    variants: int
    changes: int
    dropped: int
    error: str | None
    started: str
    finished: str | None

    @property
    def ok(self) -> bool:
        """Nothing went wrong: an ok crawl, or one skipped because another was running."""
        return self.status in (CrawlStatus.OK, CrawlStatus.SKIPPED)


def scrapy_settings(config: Config, *, log_level: str = "WARNING") -> dict[str, Any]:
    """Scrapy settings: scrapers.settings, with the config's [crawl] section on top."""
    crawl = config.crawl
    return {
        "PRICEWATCH_CONFIG": config,
        "PRICEWATCH_DB": str(config.db_path),
        "PRICEWATCH_MAX_PAGES": crawl.max_pages,
        "PRICEWATCH_RETRY_BACKOFF": crawl.backoff,
        "PRICEWATCH_MAX_RETRY_AFTER": crawl.max_retry_after,
        "USER_AGENT": crawl.user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "DOWNLOAD_DELAY": crawl.download_delay,
        "DOWNLOAD_TIMEOUT": crawl.timeout,
        "RETRY_TIMES": crawl.retries,
        "LOG_LEVEL": log_level,
    }


def crawl_settings(
    config: Config, *, log_level: str = "WARNING", log_file: Path | None = None
) -> Any:
    """The Scrapy `Settings` of a crawl process (a one-off child or the long-lived worker)."""
    from scrapy.settings import Settings

    settings = Settings()
    # The Scrapy project by name, as `scrapy crawl` and Scrapyd load it: the core imports
    # nothing from it, and its SPIDER_MODULES name one spider per platform, called after it.
    settings.setmodule(SCRAPY_SETTINGS_MODULE, priority="project")
    settings.update(scrapy_settings(config, log_level=log_level), priority="cmdline")
    if log_file is not None:  # the whole log, to a file; the console stays for the summary
        settings.set("LOG_FILE", str(log_file), priority="cmdline")
        settings.set("LOG_LEVEL", "INFO", priority="cmdline")
    if any(shop.fetch == "browser" for shop in config.shops) and browser_installed():
        settings.update(browser_settings(config), priority="cmdline")
    return settings


def skip_unlogged_records(settings: Any) -> None:
    """Scrapy's handler drops records below LOG_LEVEL only after each is built: a "Scraped
    from" DEBUG record per product, 2,500 per 10 shops of 250. At the logger, no record is
    built (call after Scrapy has configured logging)."""
    logging.getLogger("scrapy").setLevel(settings["LOG_LEVEL"])


def browser_installed() -> bool:
    """Whether scrapy-playwright (the `.[browser]` extra) is installed; the Chromium itself is
    the config's `browser_path`."""
    import importlib.util

    return importlib.util.find_spec("scrapy_playwright") is not None


def browser_settings(config: Config) -> dict[str, Any]:
    """scrapy-playwright for the requests marked by scrapers.browser: the config's Chromium
    (Playwright's own download is not reachable from every machine), headless, one page at a
    time, so a browser shop is fetched no faster than its politeness settings allow."""
    handler = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
    args = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium refuses root otherwise
    return {
        "DOWNLOAD_HANDLERS": {"http": handler, "https": handler},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": config.crawl.browser_path,
            "headless": True,
            "args": args,
        },
        "PLAYWRIGHT_MAX_CONTEXTS": 1,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 1,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": config.crawl.timeout * 1000,
    }


def crawl_here(
    config: Config,
    shops: tuple[ShopConfig, ...],
    *,
    log_level: str = "WARNING",
    log_file: Path | None = None,
) -> None:
    """Crawl the shops in this process (once per process: the reactor cannot restart)."""
    from scrapy.crawler import CrawlerProcess

    settings = crawl_settings(config, log_level=log_level, log_file=log_file)
    process = CrawlerProcess(settings)
    skip_unlogged_records(settings)
    for shop in shops:
        process.crawl(shop.platform, shop=shop.name)
    process.start()


def new_log_file(folder: Path, keep: int = LOGS_KEPT) -> Path:
    """A new file for one crawl process's Scrapy log, in `folder`; the oldest beyond `keep`
    are removed, so weeks of crawls every few minutes do not fill the disk."""
    folder.mkdir(parents=True, exist_ok=True)
    logs = sorted(folder.glob("crawl-*.log"))  # by name: by time
    for stale in logs[: max(0, len(logs) - (keep - 1))]:
        stale.unlink(missing_ok=True)
    stamp = utc_now().replace(":", "").replace("-", "")[:22]
    return folder / f"crawl-{stamp}-{os.getpid()}.log"


def crawl_start(
    config: Config, shops: tuple[ShopConfig, ...], time_limit: float | None
) -> tuple[float, int]:
    """What a crawl runner needs before it starts: its time limit, and the newest crawl id so
    far (the crawls after it are the ones it started)."""
    if not shops:
        raise CrawlError("no shops to crawl (every shop in the config is disabled?)")
    limit = time_limit if time_limit is not None else config.crawl.time_limit
    with Store(config.db_path) as store:
        last_id = int(store.db.execute("SELECT coalesce(max(id), 0) FROM crawls").fetchone()[0])
    return limit, last_id


def run_crawl(
    config: Config,
    shops: tuple[ShopConfig, ...],
    *,
    log_level: str = "WARNING",
    time_limit: float | None = None,
    cancel: threading.Event | None = None,
) -> list[CrawlReport]:
    """Crawl the shops in a child process, wait (at most the time limit), and report.

    Setting `cancel` stops the crawl gracefully (SIGTERM: Scrapy closes the spiders, whose
    crawls are then recorded as not ok, so nothing is half-written and nothing is detected).
    """
    limit, last_id = crawl_start(config, shops, time_limit)
    command = [sys.executable, "-m", "pricewatch.crawl_child", "--log-level", log_level]
    if log_level == "WARNING":  # not verbose: Scrapy's log goes to a file, not the console
        command += ["--log-file", str(new_log_file(config.db_path.parent / LOG_FOLDER))]
    command += [shop.name for shop in shops]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    timed_out = stopped = False
    child = subprocess.Popen(command, stdin=subprocess.PIPE, env=env, text=True)
    owner = f"{socket.gethostname()}:{child.pid}"  # as the child's crawls name their owner
    try:
        assert child.stdin is not None
        child.stdin.write(config.to_json())
        child.stdin.close()
        deadline = time.monotonic() + limit if limit else None
        while child.poll() is None:
            if cancel is not None and cancel.is_set():
                stopped = True
                _stop_gracefully(child)
                break
            if deadline is not None and time.monotonic() >= deadline:
                timed_out = True
                child.kill()
                break
            # wake up often enough to notice a cancel; the child does the waiting for I/O
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=0.2)
        child.wait()
    except BaseException:
        child.kill()  # Ctrl-C: no orphan crawler left writing behind our back
        child.wait()
        raise
    with Store(config.db_path) as store:
        if timed_out or stopped or child.returncode != 0:
            if timed_out:
                why = f"time limit of {limit:g} s exceeded"
            elif stopped:
                why = "stopped: pricewatch was shutting down"
            else:
                why = f"crawler process exited with code {child.returncode}"
            _close_unfinished(store, shops, last_id, why, owner)
        return _reports(store, shops, last_id, owner)


def _stop_gracefully(child: subprocess.Popen[str], grace: float = 10.0) -> None:
    child.send_signal(signal.SIGTERM)
    try:
        child.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        child.kill()


def _close_unfinished(
    store: Store, shops: tuple[ShopConfig, ...], after_id: int, why: str, owner: str
) -> None:
    """Close as failed what the child left running; only its own crawls (``owner``), never
    another process's crawl of the same shop."""
    names = [shop.name for shop in shops]
    with store.write():
        for shop in shops:
            store.ensure_shop(shop.name, shop.platform, shop.url, shop.currency)
        marks = ",".join("?" * len(names))
        shop_ids = {
            row[0]: row[1]
            for row in store.db.execute(
                f"SELECT name, id FROM shops WHERE name IN ({marks})", names
            )
        }
        for name, shop_id in shop_ids.items():
            updated = store.db.execute(
                "UPDATE crawls SET status = ?, finished = ?, error = ? "
                "WHERE shop_id = ? AND id > ? AND status = ? AND owner = ?",
                [CrawlStatus.FAILED, utc_now(), why, shop_id, after_id, CrawlStatus.RUNNING, owner],
            ).rowcount
            started = store.db.execute(
                "SELECT count(*) FROM crawls WHERE shop_id = ? AND id > ? AND owner = ?",
                [shop_id, after_id, owner],
            ).fetchone()[0]
            if not updated and not started:
                now = utc_now()
                store.db.execute(
                    "INSERT INTO crawls (shop_id, started, finished, status, error, owner) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [shop_id, now, now, CrawlStatus.FAILED, why, owner],
                )
            logger.warning("%s: %s", name, why)


def _reports(
    store: Store, shops: tuple[ShopConfig, ...], after_id: int, owner: str
) -> list[CrawlReport]:
    """The child's crawls (``owner``): another process's crawls of the same shops are theirs."""
    names = [shop.name for shop in shops]
    marks = ",".join("?" * len(names))
    rows = store.db.execute(
        "SELECT c.id, s.name, c.status, coalesce(c.products, 0), coalesce(c.variants, 0), "
        "coalesce(c.changes, 0), coalesce(c.dropped, 0), c.error, c.started, c.finished "
        f"FROM crawls c JOIN shops s ON s.id = c.shop_id WHERE c.id > ? AND s.name IN ({marks}) "
        "AND c.owner = ? ORDER BY c.id",
        [after_id, *names, owner],
    ).fetchall()
    reports = [CrawlReport(*row) for row in rows]
    seen = {report.shop for report in reports}
    for shop in shops:  # a shop whose spider never started still gets a line
        if shop.name not in seen:
            reports.append(
                CrawlReport(
                    0,
                    shop.name,
                    CrawlStatus.FAILED,
                    0,
                    0,
                    0,
                    0,
                    "spider did not run",
                    utc_now(),
                    None,
                )
            )
    return reports


def main(argv: list[str] | None = None) -> int:
    """Child process entry: config JSON on stdin, shop names as arguments."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m pricewatch.crawl")
    parser.add_argument("shops", nargs="+")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--log-file", type=Path, help="Scrapy's whole log (INFO) goes here")
    args = parser.parse_args(argv)
    config = Config.from_json(sys.stdin.read())
    crawl_here(
        config, config.select_shops(args.shops), log_level=args.log_level, log_file=args.log_file
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
