"""The item pipeline: hand the crawl to the core's one recording path.

Spiders yield one `ProductItem` per product. `StorePipeline` keeps them until the spider closes,
then calls `pricewatch.recording.record_crawl` with them and the spider's stats: the core
validates every variant (a dropped one is unknown, never stored as 0 or as sold out), decides
the crawl's status, and only for an ``ok`` crawl writes the new state, history, events and
outbox rows, in one transaction. The Scrapyd ingest calls the same function.

The database is written from one writer thread per crawl process (`in_writer_thread`), never
from the reactor's thread: one crawl process runs many shops' spiders on one reactor, and a
shop's write takes 100-300 ms.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Self, TypeVar

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DropItem
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from pricewatch.config import DEFAULT_DB, Config, ShopConfig
from pricewatch.items import ListingItem, ProductItem
from pricewatch.recording import RecordedCrawl, crawl_outcome, record_crawl
from pricewatch.store import DEFAULT_LEASE_SECONDS, ShopBusy, Store
from pricewatch.validation import ALL_SIZES, InvalidListing, validate, validate_item
from scrapers.spiders.base import PlatformSpider

# Re-exported: spiders, tests and benches have always found the validation rules here.
__all__ = [
    "ALL_SIZES",
    "InvalidListing",
    "StorePipeline",
    "crawl_outcome",
    "in_writer_thread",
    "validate",
    "validate_item",
]

logger = logging.getLogger(__name__)
T = TypeVar("T")


_writer: ThreadPool | None = None


def in_writer_thread(function: Callable[..., T], *args: Any) -> Awaitable[T]:
    """Run ``function(*args)`` in the crawl process's database writer thread; await its result
    on the reactor.

    Why not on the reactor's thread: the reactor stands still while a write runs, and with many
    shops closing together in one crawl process it stood still for seconds. Twisted then runs
    late timers in the same pass as the I/O they race with, and Scrapy's download handler
    (``HTTP11DownloadHandler.close``: a 1 s timer that fires the connection pool's Deferred,
    cancelled only once the coroutine awaiting that Deferred resumes) fired an already fired
    Deferred: ``CRITICAL: while handling timed call ... AlreadyCalledError``.

    Why one thread: SQLite takes one writer at a time anyway, so writers queue here in order
    instead of each polling for the lock under the busy timeout, and the reactor's own thread
    pool, which resolves host names, is not kept busy by writes.
    A `Store` (an sqlite3 connection) is opened and closed inside ``function``: it must not
    cross threads."""
    global _writer
    from twisted.internet import reactor

    if _writer is None:
        pool = ThreadPool(minthreads=1, maxthreads=1, name="pricewatch-store")
        pool.start()

        def stop() -> None:
            global _writer
            _writer = None
            pool.stop()  # after the write in progress, if any: a transaction is never cut

        reactor.addSystemEventTrigger("during", "shutdown", stop)  # type: ignore[arg-type]
        _writer = pool
    return maybe_deferred_to_future(deferToThreadPool(reactor, _writer, function, *args))


class StorePipeline:
    """Collects the crawl's products and records them when the spider closes (in the writer
    thread, see `in_writer_thread`)."""

    def __init__(self, crawler: Crawler, db_path: str) -> None:
        self.crawler = crawler
        self.db_path = db_path
        self.products: list[ProductItem] = []
        self.crawl_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        pipeline = cls(crawler, crawler.settings.get("PRICEWATCH_DB", str(DEFAULT_DB)))
        # spider_closed carries the close reason ("finished", "shutdown", ...), which
        # close_spider does not; it fires after the last item went through the pipelines.
        # Scrapy awaits a handler that is a coroutine before it closes the engine.
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    async def open_spider(self, spider: Spider | None = None) -> None:
        spider = spider or self.crawler.spider
        assert isinstance(spider, PlatformSpider)
        try:
            self.crawl_id = await in_writer_thread(self._start_crawl, spider.shop)
        except ShopBusy as exc:  # recorded as skipped; Scrapy closes the spider before it fetches
            logger.warning("%s: skipped: %s", spider.shop.name, exc)
            raise CloseSpider("shop_busy") from exc
        self.crawler.stats.set_value("pricewatch/crawl_id", self.crawl_id)

    def _start_crawl(self, shop: ShopConfig) -> int:  # in the writer thread
        config = self.crawler.settings.get("PRICEWATCH_CONFIG")
        # The lease outlives the crawl's time limit, after which the parent kills it.
        limit = config.crawl.time_limit if isinstance(config, Config) else 0
        lease = limit + 60 if limit > 0 else DEFAULT_LEASE_SECONDS
        with Store(self.db_path) as store:
            return store.start_crawl(
                shop.name, shop.platform, shop.url, shop.currency, lease_seconds=lease
            )

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if isinstance(item, ProductItem):
            self.products.append(item)
        elif isinstance(item, ListingItem):  # a spider that yields bare listings
            self.products.append(
                ProductItem(shop=item.shop, product_id=item.product_id, variants=[item])
            )
        else:
            raise DropItem(f"not a listing: {type(item).__name__}")
        return item

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.crawl_id is None:
            return
        crawl_id, self.crawl_id = self.crawl_id, None
        stats = self.crawler.stats.get_stats()
        config = self.crawler.settings.get("PRICEWATCH_CONFIG")
        if not isinstance(config, Config):
            config = Config(shops=())
        shop = getattr(spider, "shop", None)
        recorded = await in_writer_thread(
            self._record, crawl_id, shop, self.products, dict(stats), reason, config
        )
        self.products = []
        stats_set = self.crawler.stats.set_value
        stats_set("pricewatch/status", str(recorded.status))
        stats_set("pricewatch/dropped", recorded.counts.dropped)
        stats_set("pricewatch/changes", len(recorded.changes))
        stats_set("pricewatch/events", recorded.alerts.events)
        stats_set("pricewatch/alerts_queued", recorded.alerts.queued)
        logger.info(
            "%s: crawl %s, %d listings, %d changes, %d dropped%s",
            spider.name,
            recorded.status,
            recorded.counts.variants,
            len(recorded.changes),
            recorded.counts.dropped,
            f" ({recorded.error})" if recorded.error else "",
        )

    def _record(  # in the writer thread
        self,
        crawl_id: int,
        shop: ShopConfig | None,
        products: list[ProductItem],
        stats: dict[str, Any],
        reason: str,
        config: Config,
    ) -> RecordedCrawl:
        with Store(self.db_path) as store:
            return record_crawl(store, crawl_id, shop, products, stats, reason, config)
