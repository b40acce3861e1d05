"""The long-lived crawl worker: crawls recorded as a child's are, start-up paid once, a dead
worker's crawls closed as failed, recycling, and crawls past their time limit cancelled."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pricewatch.config import Config
from pricewatch.models import CrawlStatus
from pricewatch.replica import ReplicaShop
from pricewatch.store import Store
from pricewatch.worker import CrawlWorker
from tests.support import make_config


@pytest.fixture
def shops() -> Iterator[tuple[ReplicaShop, ReplicaShop]]:
    with ReplicaShop() as first, ReplicaShop() as second:
        yield first, second


@pytest.fixture
def config(tmp_path: Path, shops: tuple[ReplicaShop, ReplicaShop]) -> Config:
    return make_config(tmp_path / "w.db", {"A": shops[0], "B": shops[1]})


def test_crawls_run_in_one_process_and_are_recorded_like_a_childs(
    config: Config, shops: tuple[ReplicaShop, ReplicaShop]
) -> None:
    worker = CrawlWorker(config)
    try:
        first = worker.crawl(config, config.select_shops(["A"]))
        shops[0].set_price("M2002RDA", "139.99", size="10")
        second = worker.crawl(config, config.select_shops(["A"]))
        both = worker.crawl(config, config.select_shops(["A", "B"]))  # two spiders at once
    finally:
        worker.close()
    assert [r.status for r in first + second] == [CrawlStatus.OK, CrawlStatus.OK]
    assert first[0].variants > 50 and second[0].changes == 1
    assert sorted((r.shop, r.status) for r in both) == [("A", "ok"), ("B", "ok")]
    assert worker.started == 1  # Scrapy started once for four crawls
    with Store(config.db_path) as store:
        owners = {row[0] for row in store.db.execute("SELECT owner FROM crawls")}
    assert len(owners) == 1


def test_a_dead_worker_has_its_crawls_failed_and_the_next_crawl_restarts_it(
    config: Config, shops: tuple[ReplicaShop, ReplicaShop]
) -> None:
    worker = CrawlWorker(config)
    try:
        worker.crawl(config, config.select_shops(["A"]))
        shops[0].misbehave("hold")  # the next request waits until released
        results: list[object] = []
        crawling = threading.Thread(
            target=lambda: results.extend(worker.crawl(config, config.select_shops(["A"])))
        )
        crawling.start()
        assert shops[0].request_held.wait(30)
        assert worker._process is not None
        os.kill(worker._process.pid, signal.SIGKILL)  # the worker dies mid-crawl
        crawling.join(30)
        shops[0].release_held.set()
        shops[0].misbehave(None)
        [report] = results
        assert report.status == CrawlStatus.FAILED  # type: ignore[attr-defined]
        assert report.error == "crawl worker died"  # type: ignore[attr-defined]
        [again] = worker.crawl(config, config.select_shops(["A"]))
        assert again.status == CrawlStatus.OK and worker.started == 2
    finally:
        worker.close()


def test_the_worker_is_recycled_after_its_crawls(
    tmp_path: Path, shops: tuple[ReplicaShop, ReplicaShop]
) -> None:
    config = make_config(tmp_path / "r.db", {"A": shops[0]}, worker_recycle_crawls=2)
    worker = CrawlWorker(config)
    try:
        for _ in range(3):
            [report] = worker.crawl(config, config.select_shops(["A"]))
            assert report.ok
    finally:
        worker.close()
    assert worker.started == 2


def test_a_crawl_past_its_time_limit_is_cancelled_and_recorded_failed(
    config: Config, shops: tuple[ReplicaShop, ReplicaShop]
) -> None:
    worker = CrawlWorker(config)
    try:
        shops[0].misbehave("hold", delay=4)  # longer than the limit, shorter than the grace
        [report] = worker.crawl(config, config.select_shops(["A"]), time_limit=1)
        shops[0].release_held.set()
        shops[0].misbehave(None)
        assert report.status != CrawlStatus.OK
        [after] = worker.crawl(config, config.select_shops(["A"]))
        assert after.ok and worker.started == 1  # the worker went on
    finally:
        worker.close()
