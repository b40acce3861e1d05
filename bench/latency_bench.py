"""Alert latency: from a restock at the replica shop to the alert at the local Bot API server.

    python bench/latency_bench.py [--restocks 20]          # a one-minute cron: ~2 min a restock
    python bench/latency_bench.py --interval 5             # a quick run: every 5 s instead

Runs what `pricewatch run` runs, on 127.0.0.1: the real scheduler (`scheduler.CrawlScheduler`,
its cron trigger from `[schedule] default = "* * * * *"`, every minute, jitter off unless
--jitter; or an IntervalTrigger of --interval seconds), a crawl child process per pass, and
`bot.delivery.delivery_loop` (a pass every --delivery-interval seconds, 2 s as in `pricewatch
run`) sending through a `telegram.Bot` to the tests' local Bot API server enforcing Telegram's
limits. Chat 1001 subscribes to restocks of M2002RDA in US 10; `[alerts] flap_window` is 0, as
a restock soon after a sell-out inside the flap window is deliberately not announced.

Each restock: size 10 is sold out at the replica and left so until a pass has recorded it (a
``sold_out`` event in the database); then, after a random wait of up to one period (so the
restock lands at a random point between two ticks, as a real one does), it is back in stock at
t0; t1 is when the server received the sendMessage to chat 1001 (`ApiCall.time`, the same
`time.monotonic()` clock: the server runs in this process). Prints each latency t1 - t0 split
into its parts, then median and worst: waiting for the next crawl to start (the next tick), the
crawl that saw it from its start (child process start-up included) until the alert was queued
(the outbox row's ``created``, written in the crawl's transaction), and delivery from then until
the server received it. Expect about half a period + a crawl + up to one delivery interval. (A
crawl already running at t0 whose child fetches the feed after t0 sees the restock too: its
wait is 0 and its crawl part is counted from t0.)
Run from the repository root (it uses the tests' local Bot API server).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import telegram
from apscheduler.triggers.interval import IntervalTrigger

import scheduler
from bot.delivery import delivery_loop, delivery_request
from pricewatch.changes import EventKind
from pricewatch.config import AlertsConfig, Config, ScheduleConfig, ShopConfig
from pricewatch.crawl import CrawlReport, run_crawl
from pricewatch.replica import ReplicaShop
from pricewatch.store import Store
from pricewatch.subscriptions import add_subscription, upsert_chat
from tests.bot.botapi import ApiCall, BotApiServer
from tests.support import make_config

CHAT = 1001
STYLE, SIZE = "M2002RDA", "10"


class TimedCrawl:
    """`run_crawl`, recording when each crawl (its child process) started, monotonic clock."""

    def __init__(self) -> None:
        self.starts: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, config: Config, shops: tuple[ShopConfig, ...], **kw: Any) -> list[Any]:
        with self._lock:
            self.starts.append(time.monotonic())
        reports: list[CrawlReport] = run_crawl(config, shops, **kw)
        return reports

    def started_before(self, moment: float) -> float:
        """When the last crawl that started before ``moment`` started."""
        with self._lock:
            return max((s for s in self.starts if s <= moment), default=moment)


def queued_at(path: Path, n: int, clock_offset: float) -> float:
    """When the n-th restock alert for the chat was queued (its outbox row, written in the
    crawl's transaction), on the monotonic clock: ``clock_offset`` is time.time() minus
    time.monotonic()."""
    with sqlite3.connect(path) as conn:
        created = conn.execute(
            "SELECT o.created FROM outbox o JOIN events e ON e.id = o.event_id "
            "WHERE o.chat_id = ? AND e.kind = ? ORDER BY o.id LIMIT 1 OFFSET ?",
            [CHAT, str(EventKind.RESTOCK), n - 1],
        ).fetchone()[0]
    moment = datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()
    return moment - clock_offset


def sold_out_events(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM events WHERE kind = ? AND style_code = ? AND size_us = ?",
                [str(EventKind.SOLD_OUT), STYLE, float(SIZE)],
            ).fetchone()[0]
        )


async def next_pass(crawls: scheduler.CrawlScheduler, timeout: float) -> bool:
    done = sum(1 for p in crawls.passes if p.finished)
    return await crawls.wait_for_passes(done + 1, timeout=timeout)


def is_alert(call: ApiCall) -> bool:
    return call.ok and call.method == "sendMessage" and call.chat_id == CHAT


async def measure(args: argparse.Namespace, workdir: Path) -> None:
    period = args.interval or 60.0
    rng = random.Random(args.seed)
    with ReplicaShop() as shop, BotApiServer(enforce_limits=True) as api:
        config = dataclasses.replace(
            make_config(workdir / "latency.db", {"Replica": shop}),
            alerts=AlertsConfig(flap_window=0),
            schedule=ScheduleConfig(default="* * * * *", jitter=args.jitter, min_interval=60),
        )
        with Store(config.db_path) as store:
            upsert_chat(store, CHAT)
            add_subscription(
                store, CHAT, style_code=STYLE, sizes=[float(SIZE)], kinds=[EventKind.RESTOCK]
            )
        timed = TimedCrawl()
        crawls = scheduler.CrawlScheduler(config, crawl=timed, jitter=bool(args.jitter))
        if args.interval:
            crawls.add_jobs(
                trigger_for=lambda s: IntervalTrigger(
                    seconds=args.interval, jitter=args.jitter or None
                )
            )
        else:
            crawls.add_jobs()  # the shop's cron trigger from [schedule] default
        stop = asyncio.Event()
        bot = telegram.Bot(api.token, base_url=api.base_url, request=delivery_request())
        await bot.initialize()
        delivery = asyncio.create_task(
            delivery_loop(bot, config.db_path, stop=stop, interval=args.delivery_interval)
        )
        clock_offset = time.time() - time.monotonic()  # the child writes wall-clock times
        crawls.start()
        limit = 2 * period + args.jitter + 120  # seconds to wait for one step, at most
        trigger = f"every {args.interval:g} s" if args.interval else "cron * * * * *"
        print(
            f"schedule: {trigger}, jitter {args.jitter:g} s; delivery pass every "
            f"{args.delivery_interval:g} s; flap_window 0; {args.restocks} restocks of "
            f"{STYLE} US {SIZE}"
        )
        rows: list[tuple[float, float, float, float]] = []
        try:
            if not await next_pass(crawls, limit):
                print("gave up waiting for the first pass")
                return
            for n in range(1, args.restocks + 1):
                shop.set_available(STYLE, False, size=SIZE)
                while sold_out_events(config.db_path) < n:  # a pass that saw the sell-out
                    if not await next_pass(crawls, limit):
                        print(f"gave up waiting for sell-out {n} to be recorded")
                        return
                await asyncio.sleep(rng.uniform(0, period))  # a random point between ticks
                shop.set_available(STYLE, True, size=SIZE)
                t0 = time.monotonic()
                try:
                    calls = await api.wait_for_async(is_alert, timeout=limit, count=n)
                except AssertionError:
                    print(f"gave up waiting for restock alert {n}")
                    return
                t1 = calls[n - 1].time
                queued = queued_at(config.db_path, n, clock_offset)
                start = timed.started_before(queued)
                wait, crawl, deliver = max(0.0, start - t0), queued - max(start, t0), t1 - queued
                rows.append((t1 - t0, wait, crawl, deliver))
                print(
                    f"restock {n:2d}: {t1 - t0:6.2f} s = wait for a crawl {wait:5.2f} + crawl "
                    f"until queued {crawl:5.2f} + delivery {deliver:5.2f}",
                    flush=True,
                )
        finally:
            await crawls.shutdown()
            stop.set()
            await delivery
            await bot.shutdown()
        report(rows, api, crawls)


def report(
    rows: list[tuple[float, float, float, float]],
    api: BotApiServer,
    crawls: scheduler.CrawlScheduler,
) -> None:
    if not rows:
        return
    latencies = [row[0] for row in rows]
    print(
        f"\nlatency over {len(rows)} restocks: median {statistics.median(latencies):.2f} s, "
        f"worst {max(latencies):.2f} s, best {min(latencies):.2f} s, "
        f"mean {statistics.fmean(latencies):.2f} s"
    )
    parts = ((1, "wait for a crawl"), (2, "crawl until queued"), (3, "delivery"))
    for index, part in parts:
        values = [row[index] for row in rows]
        print(f"   {part:24s} median {statistics.median(values):6.2f} s, max {max(values):6.2f} s")
    failed = [p for p in crawls.passes if p.error or any(not r.ok for r in p.reports)]
    print(
        f"passes: {sum(1 for p in crawls.passes if p.finished)}, failed {len(failed)}; messages "
        f"to chat {CHAT}: {len(api.sent_messages(CHAT))}; 429s caused: {api.limit_violations}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--restocks", type=int, default=20)
    parser.add_argument(
        "--interval", type=float, default=0, help="seconds between passes instead of the cron"
    )
    parser.add_argument("--jitter", type=float, default=0, help="seconds of schedule jitter")
    parser.add_argument("--delivery-interval", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=2002)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pricewatch-latency-") as workdir:
        asyncio.run(measure(args, Path(workdir)))


if __name__ == "__main__":
    main()
