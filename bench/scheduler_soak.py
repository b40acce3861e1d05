"""A soak run of the whole unattended pipeline: scheduler -> crawl -> detect -> deliver.

    python bench/scheduler_soak.py [--passes 50] [--interval 1.0]

Runs the real scheduler (APScheduler, its long-lived crawl worker) against a replica
shop on 127.0.0.1, with the delivery loop sending to a local Bot API server that enforces
Telegram's limits. Every few passes the replica changes: a price drop, a sell-out, a restock.
Prints passes completed, failures, alerts expected vs delivered (lost, duplicated, 429s), and
the scheduler process's memory (RSS) at pass 1 and at the last pass, and the crawl worker's
through the run (flat: no leak across crawls).
Run from the repository root (it uses the tests' local Bot API server).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sqlite3
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import telegram
from apscheduler.triggers.interval import IntervalTrigger

import scheduler
from bot.delivery import delivery_loop, delivery_request
from pricewatch.changes import EventKind
from pricewatch.config import AlertsConfig
from pricewatch.replica import ReplicaShop
from pricewatch.store import Store
from pricewatch.subscriptions import add_subscription, upsert_chat
from tests.bot.botapi import BotApiServer
from tests.support import make_config


def rss_mib(pid: int | str = "self") -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan")
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def worker_rss(crawls: scheduler.CrawlScheduler) -> float:
    """The crawl worker's RSS now (nan with a child process per crawl)."""
    process = getattr(crawls.backend, "_process", None)
    return rss_mib(process.pid) if process is not None else float("nan")


async def soak(passes: int, interval: float, workdir: Path) -> None:
    with ReplicaShop() as shop, BotApiServer(enforce_limits=True) as api:
        config = make_config(workdir / "soak.db", {"Replica": shop})
        config = dataclasses.replace(config, alerts=AlertsConfig(flap_window=0))
        with Store(config.db_path) as store:
            for chat in (1001, 1002, 1003):
                upsert_chat(store, chat)
            add_subscription(store, 1001, style_code="M2002RDA", sizes=[10.0])
            add_subscription(store, 1002, style_code=None, kinds=[EventKind.RESTOCK])
            add_subscription(
                store, 1003, style_code="M2002RDA", sizes=[11.0], max_price=Decimal("100")
            )
        crawls = scheduler.CrawlScheduler(config, jitter=False)
        crawls.add_jobs(trigger_for=lambda s: IntervalTrigger(seconds=interval))
        stop = asyncio.Event()
        bot = telegram.Bot(api.token, base_url=api.base_url, request=delivery_request())
        await bot.initialize()
        delivery = asyncio.create_task(delivery_loop(bot, config.db_path, stop=stop, interval=0.5))
        crawls.start()
        started = time.perf_counter()
        memory: dict[int, float] = {}
        worker_memory: dict[int, float] = {}
        price = Decimal("144.99")
        try:
            for done in range(1, passes + 1):
                if not await crawls.wait_for_passes(done, timeout=120):
                    print(f"gave up waiting for pass {done}")
                    break
                memory[done] = rss_mib()
                worker_memory[done] = worker_rss(crawls)
                step = done % 6
                if step == 1:
                    price -= 1
                    shop.set_price("M2002RDA", str(price), size="10")
                elif step == 3:
                    shop.set_available("M2002RDB", False, size="9")
                elif step == 5:
                    shop.set_available("M2002RDB", True, size="9")
        finally:
            await crawls.shutdown()
            # let delivery drain what the last crawl queued, then stop it
            with Store(config.db_path) as store:
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    pending = store.db.execute(
                        "SELECT count(*) FROM outbox WHERE status = 'pending'"
                    ).fetchone()[0]
                    if not pending:
                        break
                    await asyncio.sleep(0.2)  # polling the database: no event to wait on
            stop.set()
            await delivery
            await bot.shutdown()
        elapsed = time.perf_counter() - started
        with sqlite3.connect(config.db_path) as conn:
            outbox = dict(conn.execute("SELECT status, count(*) FROM outbox GROUP BY status"))
            events = dict(conn.execute("SELECT kind, count(*) FROM events GROUP BY kind"))
            crawl_status = dict(conn.execute("SELECT status, count(*) FROM crawls GROUP BY 1"))
            sent_rows = conn.execute(
                "SELECT count(DISTINCT message_id || ':' || chat_id) FROM outbox "
                "WHERE status = 'sent'"
            ).fetchone()[0]
        messages = api.sent_messages()
        print(
            f"passes completed: {len([p for p in crawls.passes if p.finished])} in "
            f"{elapsed:.0f} s; crawl statuses {crawl_status}"
        )
        failures = [p for p in crawls.passes if p.error or any(not r.ok for r in p.reports)]
        print(f"failures: {len(failures)}")
        print(f"events: {events}")
        print(
            f"outbox: {outbox}; messages at the Bot API server: {len(messages)} "
            f"(sent rows' distinct messages {sent_rows}); 429s caused: "
            f"{api.limit_violations}"
        )
        lost = outbox.get("pending", 0) + outbox.get("failed", 0)
        print(f"lost: {lost}, duplicated: {len(messages) - sent_rows}")
        last = max(memory) if memory else 0
        print(
            f"scheduler process RSS: pass 1 {memory.get(1, float('nan')):.1f} MiB, "
            f"pass {last} {memory.get(last, float('nan')):.1f} MiB"
        )
        marks = sorted({1, *range(last // 4 or 1, last + 1, last // 4 or 1), last} & set(memory))
        print(
            "crawl worker RSS (MiB) by pass: "
            + ", ".join(f"{n}: {worker_memory.get(n, float('nan')):.1f}" for n in marks)
            + f"; worker processes started: {getattr(crawls.backend, 'started', 'n/a')}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passes", type=int, default=50)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pricewatch-soak-") as workdir:
        asyncio.run(soak(args.passes, args.interval, Path(workdir)))


if __name__ == "__main__":
    main()
