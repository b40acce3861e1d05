"""scheduler.py: cron jobs per shop against replica shops, due shops, bad schedules, hangs."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from apscheduler.triggers.interval import IntervalTrigger

import scheduler
from pricewatch.config import ConfigError, ShopConfig, parse_config
from pricewatch.replica import ReplicaShop
from pricewatch.store import Store
from pricewatch.subscriptions import add_subscription, upsert_chat
from tests.support import make_config

SHOP = (
    '[[shops]]\nname = "Kith"\nplatform = "shopify"\nurl = "https://kith.com"\ncurrency = "USD"\n'
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[schedule]\ndefault = "*/30 * * *"\n' + SHOP, r"<t>:2: bad \[schedule\] default"),
        ('[schedule]\ndefault = "61 * * * *"\n' + SHOP, r"<t>:2: .*61"),
        (
            '[schedule]\ntimezone = "Mars/Olympus"\n' + SHOP,
            r"<t>:2: bad \[schedule\] timezone .*no such time zone",
        ),
        (
            SHOP + 'schedule = "*/2 * * * *"\n',
            r"<t>:6: shop 'Kith' has a bad schedule .*2 min "
            r"apart; the floor is 5 min",
        ),
        (SHOP + 'schedule = "every day"\n', r"<t>:6: .*expected 5 fields"),
    ],
)
def test_bad_schedule_is_refused_with_the_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(text, source="<t>")


def test_drop_day_schedule_within_the_floor_is_accepted() -> None:
    config = parse_config(SHOP + 'schedule = "*/5 9-12 * * 6"\n')
    assert config.shops[0].schedule == "*/5 9-12 * * 6"


def _crawl_started(db: Path, shop: ShopConfig, started: datetime) -> None:
    with Store(db) as store:
        crawl_id = store.start_crawl(shop.name, shop.platform, shop.url, shop.currency)
        store.db.execute(
            "UPDATE crawls SET started = ?, status = 'failed' WHERE id = ?",
            [started.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), crawl_id],
        )
        store.db.conn.commit()


def test_due_shops_follow_each_shops_cron(tmp_path: Path) -> None:
    text = (
        SHOP
        + '\n[[shops]]\nname = "Bodega"\nplatform = "shopify"\n'
        + 'url = "https://bdgastore.com"\ncurrency = "USD"\nschedule = "0 * * * *"\n'
    )
    config = dataclasses.replace(parse_config(text), db_path=tmp_path / "db.sqlite")
    kith, bodega = config.shops
    now = datetime(2026, 11, 25, 10, 40, tzinfo=UTC)
    with Store(config.db_path) as store:
        assert scheduler.due_shops(config, store, now) == [kith, bodega]  # never crawled
    _crawl_started(config.db_path, kith, now - timedelta(minutes=5))  # 10:35, next 11:00
    _crawl_started(config.db_path, bodega, now - timedelta(minutes=50))  # 09:50, next 10:00
    with Store(config.db_path) as store:
        assert scheduler.due_shops(config, store, now) == [bodega]


def test_passes_against_a_replica_give_exactly_one_alert_for_one_price_drop(
    tmp_path: Path,
) -> None:
    async def scenario(replica: ReplicaShop) -> tuple[int, int]:
        config = make_config(tmp_path / "db.sqlite", {"Replica": replica})
        with Store(config.db_path) as store:
            upsert_chat(store, 77)
            add_subscription(
                store, 77, style_code="M2002RDA", sizes=[10.0], max_price=Decimal("150")
            )
        crawls = scheduler.CrawlScheduler(config, jitter=False)
        crawls.add_jobs(trigger_for=lambda shop: IntervalTrigger(seconds=1))
        crawls.start()
        try:
            assert await crawls.wait_for_passes(2, timeout=60)
            replica.set_price("M2002RDA", "139.99", size="10")
            done = len([p for p in crawls.passes if p.finished])
            assert await crawls.wait_for_passes(done + 3, timeout=60)
        finally:
            await crawls.shutdown()
        failed = [p for p in crawls.passes if p.error or any(not r.ok for r in p.reports)]
        return len(crawls.passes), len(failed)

    with ReplicaShop() as replica:
        passes, failed = asyncio.run(scenario(replica))
    assert passes >= 5 and failed == 0
    with sqlite3.connect(tmp_path / "db.sqlite") as conn:
        events = conn.execute("SELECT kind, size_label FROM events").fetchall()
        outbox = conn.execute("SELECT chat_id FROM outbox").fetchall()
        overlapping = conn.execute(
            "SELECT count(*) FROM crawls a JOIN crawls b ON a.id < b.id "
            "AND b.started < a.finished AND a.shop_id = b.shop_id"
        ).fetchone()[0]
    assert events == [("price_drop", "10")]
    assert outbox == [(77,)]
    assert overlapping == 0  # max_instances=1: one shop never crawls twice at once


def test_a_hanging_shop_is_cut_off_and_the_others_succeed(tmp_path: Path) -> None:
    async def scenario(good: ReplicaShop, slow: ReplicaShop) -> list[scheduler.PassRecord]:
        config = make_config(
            tmp_path / "db.sqlite", {"Good": good, "Slow": slow}, timeout=60.0, time_limit=8.0
        )
        crawls = scheduler.CrawlScheduler(config, jitter=False)
        crawls.add_jobs(trigger_for=lambda shop: IntervalTrigger(seconds=30))
        for job in crawls.scheduler.get_jobs():
            job.modify(next_run_time=datetime.now(UTC))
        crawls.start()
        try:
            assert await crawls.wait_for_passes(2, timeout=60)
        finally:
            await crawls.shutdown()
        return crawls.passes

    with ReplicaShop() as good, ReplicaShop() as slow:
        slow.misbehave("timeout", delay=120)
        passes = asyncio.run(scenario(good, slow))
    reports = {r.shop: r for p in passes for r in p.reports}
    assert reports["Good"].ok
    assert reports["Slow"].status == "failed" and "time limit" in (reports["Slow"].error or "")


def test_run_once_crawls_due_shops_then_nothing(tmp_path: Path) -> None:
    with ReplicaShop() as replica:
        config = make_config(tmp_path / "db.sqlite", {"Replica": replica})
        first = scheduler.run_once(config)
        second = scheduler.run_once(config)  # default */30: not due again right away
    assert [r.status for r in first] == ["ok"]
    assert second == []
