"""When crawls run: APScheduler cron jobs, one per shop, for weeks without a person.

- Each enabled shop gets a cron job: its own ``schedule`` or ``[schedule] default``, with
  random jitter so shops are not all hit in the same second. Expressions were validated when
  the config was read, including the floor (``min_interval``) that keeps us polite.
- A shop's runs never overlap (``max_instances=1``); runs missed while the machine slept or
  the process was down are coalesced into one; a crash or a hang in one shop's crawl does not
  stop the others (each crawl is a child process with a time limit, see `pricewatch.crawl`).
- A crawl writes its own record (the ``crawls`` table: start, end, status, counts, error); its
  events and outbox rows are written with it, and the delivery loop sends them.

`pricewatch run` runs this scheduler and the Telegram bot in one asyncio loop;
`pricewatch schedule --once` runs one pass of every due shop, for the system's cron.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from pricewatch.backends import backend_for
from pricewatch.config import Config, ShopConfig, next_run
from pricewatch.crawl import CrawlReport
from pricewatch.store import Store

logger = logging.getLogger("pricewatch.scheduler")

CrawlFunction = Callable[..., list[CrawlReport]]


def _with_jitter(config: Config, shop: ShopConfig) -> CronTrigger:
    """The shop's cron trigger (its own schedule, or the default), with jitter."""
    trigger = CronTrigger.from_crontab(
        shop.schedule or config.schedule.default, timezone=config.schedule.timezone
    )
    trigger.jitter = int(config.schedule.jitter) or None
    return trigger


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def due_shops(config: Config, store: Store, now: datetime | None = None) -> list[ShopConfig]:
    """Enabled shops whose cron has fired since their last crawl started (or never crawled)."""
    now = now or datetime.now(UTC)
    last_started = {
        name: started
        for name, started in store.db.execute(
            "SELECT s.name, max(c.started) FROM crawls c JOIN shops s ON s.id = c.shop_id "
            "GROUP BY s.name"
        )
    }
    due = []
    for shop in config.select_shops():
        started = last_started.get(shop.name)
        if started is None:
            due.append(shop)
            continue
        fire = next_run(config, shop, _parse_time(started))
        if fire is not None and fire <= now:
            due.append(shop)
    return due


def stale_shops(config: Config, store: Store, now: datetime | None = None) -> list[ShopConfig]:
    """Enabled shops not crawled within ``[schedule] min_interval`` (or never)."""
    now = now or datetime.now(UTC)
    floor = (now - timedelta(seconds=config.schedule.min_interval)).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ"
    )
    recent = {
        name
        for (name,) in store.db.execute(
            "SELECT DISTINCT s.name FROM crawls c JOIN shops s ON s.id = c.shop_id "
            "WHERE c.started >= ?",
            [floor],
        )
    }
    return [shop for shop in config.select_shops() if shop.name not in recent]


def run_once(
    config: Config, *, crawl: CrawlFunction | None = None, now: datetime | None = None
) -> list[CrawlReport]:
    """One pass of every due shop, now (what `pricewatch schedule --once` runs from cron)."""
    with Store(config.db_path) as store:
        shops = due_shops(config, store, now)
    if not shops:
        return []
    return (crawl or backend_for(config).crawl)(config, tuple(shops))


@dataclass
class PassRecord:
    shop: str
    started: datetime
    finished: datetime | None = None
    reports: Sequence[CrawlReport] = ()
    error: str | None = None


class CrawlScheduler:
    """One cron job per enabled shop on an asyncio loop; each run is a crawl child process."""

    def __init__(
        self,
        config: Config,
        *,
        crawl: CrawlFunction | None = None,
        jitter: bool = True,
        max_parallel: int = 4,
    ) -> None:
        self.config = config
        # The configured backend: the long-lived crawl worker (or a child process per crawl
        # with [crawl] isolate), or Scrapyd servers.
        self.backend = None if crawl else backend_for(config, long_lived=True)
        self.crawl = crawl or self.backend.crawl  # type: ignore[union-attr]
        self.jitter = jitter
        self.cancel = threading.Event()  # set on shutdown: running crawls stop gracefully
        self.passes: list[PassRecord] = []
        self.scheduler = AsyncIOScheduler(timezone=config.schedule.timezone)
        # Shops crawl in parallel, but not all at once on a small machine.
        self._slots = asyncio.Semaphore(max_parallel)
        self._passed = asyncio.Event()

    def add_jobs(self, *, trigger_for: Callable[[ShopConfig], Any] | None = None) -> None:
        start_now = set()
        if self.config.schedule.run_at_start:
            with Store(self.config.db_path) as store:
                start_now = {shop.name for shop in stale_shops(self.config, store)}
        for shop in self.config.select_shops():
            trigger = trigger_for(shop) if trigger_for else _with_jitter(self.config, shop)
            if not self.jitter and isinstance(trigger, CronTrigger):
                trigger.jitter = None
            self.scheduler.add_job(
                self.run_shop,
                trigger=trigger,
                args=[shop.name],
                id=f"crawl:{shop.name}",
                name=f"crawl {shop.name}",
                max_instances=1,  # never two crawls of one shop at once
                coalesce=True,  # runs missed during sleep/downtime become one
                misfire_grace_time=None,  # ...and that one still runs, however late
                replace_existing=True,
                **({"next_run_time": datetime.now(UTC)} if shop.name in start_now else {}),
            )

    async def run_shop(self, shop_name: str) -> PassRecord:
        record = PassRecord(shop_name, datetime.now(UTC))
        self.passes.append(record)
        shop = self.config.shop(shop_name)
        queued: dict[int, int] = {}
        try:
            async with self._slots:
                record.reports, queued = await asyncio.to_thread(self._crawl_and_count, shop)
        except Exception as exc:  # one shop's failure must not stop the rest
            record.error = f"{type(exc).__name__}: {exc}"
            logger.exception("crawl of %s failed to run", shop_name)
        finally:
            record.finished = datetime.now(UTC)
            self._passed.set()
        for report in record.reports:
            logger.info(
                "crawl finished: %s %s, %d variants, %d changes, %d alerts queued, %.1f s%s",
                report.shop,
                report.status,
                report.variants,
                report.changes,
                queued.get(report.crawl_id, 0),
                (record.finished - record.started).total_seconds(),
                f" ({report.error})" if report.error else "",
            )
        return record

    def _crawl_and_count(self, shop: ShopConfig) -> tuple[list[CrawlReport], dict[int, int]]:
        """A crawl, and the alerts each of its crawls queued (for the log), in one thread: no
        await between them, so a shutdown cannot cut the log line off."""
        reports = self.crawl(self.config, (shop,), cancel=self.cancel)
        return reports, alerts_queued(self.config.db_path, [r.crawl_id for r in reports])

    async def wait_for_passes(self, count: int, timeout: float) -> bool:
        """Tests and status: wait (on an event, not a sleep loop) until `count` runs ended."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while sum(1 for p in self.passes if p.finished) < count:
            self._passed.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._passed.wait(), remaining)
            except TimeoutError:
                return False
        return True

    def start(self) -> None:
        self.scheduler.start()

    async def shutdown(self, grace: float = 60.0) -> None:
        """Stop scheduling, stop running crawls gracefully, and wait for them to be recorded."""
        if self.scheduler.running:
            self.scheduler.pause()  # no new runs from here on
        self.cancel.set()
        running = [p for p in self.passes if p.finished is None]
        if running:
            logger.info("waiting for %d running crawl(s) to stop", len(running))
        try:
            async with asyncio.timeout(grace):
                while any(p.finished is None for p in self.passes):
                    self._passed.clear()
                    await self._passed.wait()
        finally:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=False)
            close = getattr(self.backend, "close", None)
            if close is not None:  # the crawl worker: stopped once its crawls are recorded
                await asyncio.to_thread(close)


def alerts_queued(db_path: Path, crawl_ids: list[int]) -> dict[int, int]:
    """Outbox rows each crawl queued, for its log line."""
    if not crawl_ids:
        return {}
    with Store(db_path) as store:
        return dict(
            store.db.execute(
                "SELECT e.crawl_id, count(o.id) FROM events e JOIN outbox o ON o.event_id = e.id "
                "WHERE e.crawl_id IN (SELECT value FROM json_each(?)) GROUP BY e.crawl_id",
                [json.dumps(crawl_ids)],
            ).fetchall()
        )


async def run_forever(
    config: Config, *, with_bot: bool = True, stop: asyncio.Event | None = None
) -> None:
    """The scheduler (and, with a token, the Telegram bot and alert delivery) until SIGTERM,
    Ctrl-C or `stop` is set. Shutting down leaves nothing half-written: crawls are single
    transactions, and the outbox keeps what was not sent."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread: the caller stops us
            break
    scheduler = CrawlScheduler(config)
    scheduler.add_jobs()
    scheduler.start()
    jobs = scheduler.scheduler.get_jobs()
    logger.info(
        "started: %d shop(s), database %s%s", len(jobs), config.db_path, ", with the bot" * with_bot
    )
    for job in jobs:
        when = job.next_run_time.isoformat() if job.next_run_time else "paused"
        logger.info("%s: next run %s", job.name, when)
    bot_task = None
    if with_bot:
        from bot.app import run_bot

        bot_task = asyncio.create_task(run_bot(config, stop_event=stop))
    try:
        await stop.wait()
        logger.info("shutting down")
    finally:
        await scheduler.shutdown()
        if bot_task is not None:
            await bot_task
        logger.info("stopped")
