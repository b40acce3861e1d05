"""Item pipelines: validate every listing, then store the crawl as one transaction.

Spiders yield one `ProductItem` per product. `ValidatePipeline` judges each of its variants and
drops one that cannot be trusted (no price, an absurd price, a size it cannot read, a currency
the shop does not sell in) with the reason in the log and in the crawl stats
(``pricewatch/dropped``), never storing it as 0 or as sold out; the product's valid listings go
on as one `ValidProduct`. `StorePipeline` keeps the valid listings until the spider closes,
decides the crawl's status from what the spider reported, and only for an ``ok`` crawl writes
the new state and history; any other outcome leaves the last known state alone.

The database is written from one writer thread per crawl process (`in_writer_thread`), never
from the reactor's thread: one crawl process runs many shops' spiders on one reactor, and a
shop's write takes 100-300 ms.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Self, TypeVar

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from pricewatch.config import Config, ShopConfig
from pricewatch.models import CrawlStatus, Listing, Stock
from pricewatch.prices import PriceError, price_cap, to_minor
from pricewatch.sizes import SizeError, parse_size
from pricewatch.store import ApplyResult, CrawlCounts, Store
from scrapers.items import ListingItem, ProductItem
from scrapers.spiders.base import PlatformSpider

logger = logging.getLogger(__name__)
T = TypeVar("T")

# The size label of a listing that covers every size: a product page with one offer for the
# whole colorway (JSON-LD without per-size offers). Its stock is the colorway's, never a size's.
ALL_SIZES = "all sizes"


class InvalidListing(DropItem):
    """A listing refused by validation; the message is the reason."""


def validate(item: ListingItem, size_system: str = "us") -> Listing:
    """The trusted `Listing` for an item, or `InvalidListing` saying why not."""
    if not item.style_code or not item.family:
        raise InvalidListing("no 2002R style code")
    if not item.currency:
        raise InvalidListing("no currency")
    if item.price is None:
        raise InvalidListing("missing price")
    if item.price <= 0:
        raise InvalidListing(f"price {item.price} is not a price")
    if item.price > price_cap(item.currency):
        raise InvalidListing(f"absurd price {item.price} {item.currency}")
    try:
        to_minor(item.price, item.currency)
        if item.compare_at is not None:
            to_minor(item.compare_at, item.currency)
    except PriceError as exc:
        raise InvalidListing(f"price not exact in {item.currency}: {exc}") from exc
    if item.available is None:
        raise InvalidListing("no availability")
    size_label, size_us, width = ALL_SIZES, None, item.width
    if item.size_label.strip():
        try:
            size = parse_size(item.size_label, size_system)
        except SizeError as exc:
            raise InvalidListing(f"unreadable size {item.size_label!r}: {exc}") from exc
        size_label, size_us, width = size.label, size.size_us, item.width or size.width
    return Listing(
        shop=item.shop,
        product_id=item.product_id,
        variant_id=item.variant_id,
        style_code=item.style_code,
        family=item.family,
        title=item.title,
        url=item.url,
        size_label=size_label,
        size_us=size_us,
        price=item.price,
        currency=item.currency,
        stock=Stock.IN_STOCK if item.available else Stock.SOLD_OUT,
        compare_at=item.compare_at,
        colorway_name=item.colorway_name,
        image=item.image,
        handle=item.handle,
        width=width,
        sku=item.sku,
        gtin=item.gtin,
    )


def validate_item(item: ListingItem, shop: ShopConfig) -> Listing:
    """`validate` at one shop: its own currency first, its size system; the reason names the
    listing's URL. Used by ValidatePipeline and by the Scrapyd ingest, so both drop alike."""
    if item.currency != shop.currency:
        raise InvalidListing(
            f"{item.url}: currency {item.currency}, but {shop.name} sells in {shop.currency}"
        )
    try:
        return validate(item, shop.size_system)
    except InvalidListing as exc:
        raise InvalidListing(f"{item.url}: {exc}") from exc


def _validate(item: ListingItem) -> Listing:
    """`validate` for a spider without a shop (not one of ours): US sizes, any currency."""
    try:
        return validate(item)
    except InvalidListing as exc:
        raise InvalidListing(f"{item.url}: {exc}") from exc


@dataclass
class ValidProduct:
    """What ValidatePipeline hands on for a `ProductItem`: its variants that passed."""

    listings: list[Listing]


class ValidatePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        level = crawler.settings.get("DEFAULT_DROPITEM_LOG_LEVEL", "WARNING")  # as Scrapy's
        if not isinstance(level, int):
            level = logging.getLevelNamesMapping().get(str(level).upper(), logging.WARNING)
        self.drop_level: int = level

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: Any, spider: Spider | None = None) -> ValidProduct:
        """The product's valid listings; each invalid variant is logged and counted as Scrapy
        would a dropped item, and a product without a valid variant is dropped."""
        if isinstance(item, ProductItem):
            variants = item.variants
        elif isinstance(item, ListingItem):
            variants = [item]
        else:
            raise InvalidListing(f"not a listing: {type(item).__name__}")
        # Scrapy passes no spider to a process_item whose spider argument is optional: the
        # shop is the crawler's spider's (its currency, its size system).
        shop = getattr(spider or self.crawler.spider, "shop", None)
        listings = []
        for variant in variants:
            try:
                listings.append(validate_item(variant, shop) if shop else _validate(variant))
            except InvalidListing as exc:
                self.stats.inc_value("pricewatch/dropped")
                logger.log(self.drop_level, "Dropped: %s\n%r", exc, variant)
        if not listings:
            # each variant's reason is in the log already
            raise DropItem(f"no valid variant in {len(variants)}", log_level="DEBUG")
        return ValidProduct(listings)


def crawl_outcome(
    stats: dict[str, Any], reason: str, listings: int
) -> tuple[CrawlStatus, str | None]:
    """The crawl's status from what the spider reported: only a clean, complete crawl with
    listings is ``ok``. Pure, so every rule is tested without running a crawl."""
    blocked = stats.get("pricewatch/blocked")
    if blocked:
        return CrawlStatus.BLOCKED, str(blocked)
    page_errors = int(stats.get("pricewatch/page_errors", 0))
    exceptions = sum(v for k, v in stats.items() if k.startswith("spider_exceptions/"))
    problem: str | None = None
    if page_errors:
        problem = str(stats.get("pricewatch/error") or "a page failed")
    elif exceptions:
        problem = f"{exceptions} parse error(s) in the spider (see the log)"
    elif reason != "finished":
        problem = f"crawl stopped early ({reason})"
    elif stats.get("pricewatch/incomplete"):
        problem = str(stats["pricewatch/incomplete"])
    if problem:
        if listings and int(stats.get("pricewatch/pages_ok", 0)):
            return CrawlStatus.PARTIAL, problem
        return CrawlStatus.FAILED, problem
    if not listings:
        read = int(stats.get("pricewatch/products_read", 0))
        if not read:
            return CrawlStatus.FAILED, "the shop listed no products"
        return CrawlStatus.FAILED, f"no 2002R listings among {read} products"
    return CrawlStatus.OK, None


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
    """Collects the crawl's listings and writes them when the spider closes (in the writer
    thread, see `in_writer_thread`)."""

    def __init__(self, crawler: Crawler, db_path: str) -> None:
        self.crawler = crawler
        self.db_path = db_path
        self.listings: list[Listing] = []
        self.crawl_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        pipeline = cls(crawler, crawler.settings.get("PRICEWATCH_DB", "data/pricewatch.db"))
        # spider_closed carries the close reason ("finished", "shutdown", ...), which
        # close_spider does not; it fires after the last item went through the pipelines.
        # Scrapy awaits a handler that is a coroutine before it closes the engine.
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    async def open_spider(self, spider: Spider | None = None) -> None:
        spider = spider or self.crawler.spider
        assert isinstance(spider, PlatformSpider)
        self.crawl_id = await in_writer_thread(self._start_crawl, spider.shop)
        self.crawler.stats.set_value("pricewatch/crawl_id", self.crawl_id)

    def _start_crawl(self, shop: ShopConfig) -> int:  # in the writer thread
        with Store(self.db_path) as store:
            return store.start_crawl(shop.name, shop.platform, shop.url, shop.currency)

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if isinstance(item, ValidProduct):
            self.listings.extend(item.listings)
        return item

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.crawl_id is None:
            return
        crawl_id, self.crawl_id = self.crawl_id, None
        stats = self.crawler.stats.get_stats()
        status, error = crawl_outcome(stats, reason, len(self.listings))
        dropped = int(stats.get("pricewatch/dropped", 0))
        counts = CrawlCounts(
            pages=int(stats.get("pricewatch/pages_ok", 0)),
            items=len(self.listings) + dropped,  # variants read (items count products)
            dropped=dropped,
            variants=len(self.listings),
        )
        config = self.crawler.settings.get("PRICEWATCH_CONFIG")
        if not isinstance(config, Config):
            config = Config(shops=())
        result = await in_writer_thread(
            self._finish_crawl, crawl_id, status, counts, error, self.listings, config
        )
        self.crawler.stats.set_value("pricewatch/status", str(status))
        self.crawler.stats.set_value("pricewatch/changes", len(result.changes))
        self.crawler.stats.set_value("pricewatch/events", result.alerts.events)
        self.crawler.stats.set_value("pricewatch/alerts_queued", result.alerts.queued)
        logger.info(
            "%s: crawl %s, %d listings, %d changes%s",
            spider.name,
            status,
            len(self.listings),
            len(result.changes),
            f" ({error})" if error else "",
        )

    def _finish_crawl(  # in the writer thread
        self,
        crawl_id: int,
        status: CrawlStatus,
        counts: CrawlCounts,
        error: str | None,
        listings: list[Listing],
        config: Config,
    ) -> ApplyResult:
        with Store(self.db_path) as store:
            return store.finish_crawl(
                crawl_id,
                status,
                counts,
                error,
                listings,
                missing_after=config.crawl.missing_after,
                flap_window=config.alerts.flap_window,
            )
