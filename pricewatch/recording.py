"""The one path by which a finished crawl becomes state, history, events and alerts.

`record_crawl` is called with what a crawl read (its raw products, the spider's stats and close
reason) by the Scrapy pipeline (`scrapers.pipelines.StorePipeline`) and by the Scrapyd ingest
(`pricewatch.backends`) alike. In one transaction it runs four separate steps:

1. validate (`pricewatch.validation`): which listings can be trusted, which are unknown;
2. store (`Store.apply_listings`): new state and history for trusted listings, misses for
   variants proven absent, nothing for unknown ones;
3. diff (`pricewatch.changes.diff`, pure): events;
4. outbox (`pricewatch.alerts.queue_alerts`): events stored, and who hears of them.

Only an ``ok`` crawl (`crawl_outcome`) reaches steps 2-4: any other outcome records the
attempt and leaves the shop's last known state alone. A crash anywhere keeps all or nothing.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pricewatch.alerts import AlertCounts, queue_alerts
from pricewatch.changes import Event, EventKind, diff
from pricewatch.config import AlertsConfig, Config, ShopConfig
from pricewatch.items import ProductItem
from pricewatch.models import CrawlStatus, Listing
from pricewatch.store import CrawlCounts, Store, VariantChange
from pricewatch.validation import Validated, validate_products

logger = logging.getLogger(__name__)


@dataclass
class RecordedCrawl:
    """What one crawl's recording did."""

    status: CrawlStatus
    error: str | None = None
    counts: CrawlCounts = field(default_factory=CrawlCounts)
    changes: list[VariantChange] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    alerts: AlertCounts = field(default_factory=AlertCounts)


def crawl_outcome(
    stats: Mapping[str, Any], reason: str, listings: int, *, all_failed: bool = False
) -> tuple[CrawlStatus, str | None]:
    """The crawl's status from what the spider reported: only a clean, complete crawl with
    listings is ``ok``. A product that did not parse is that product's loss, not the crawl's,
    unless every product failed (``all_failed``). Pure, so every rule is tested without
    running a crawl."""
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
    if all_failed:
        return CrawlStatus.FAILED, "no product could be read"
    if not listings:
        read = int(stats.get("pricewatch/products_read", 0))
        if not read:
            return CrawlStatus.FAILED, "the shop listed no products"
        return CrawlStatus.FAILED, f"no 2002R listings among {read} products"
    return CrawlStatus.OK, None


def record_crawl(
    store: Store,
    crawl_id: int,
    shop: ShopConfig | None,
    products: Iterable[ProductItem],
    stats: Mapping[str, Any],
    reason: str,
    config: Config,
) -> RecordedCrawl:
    """Validate, store, diff and queue alerts for one finished crawl, in one transaction."""
    validated = validate_products(products, shop)
    status, error = crawl_outcome(
        stats, reason, len(validated.listings), all_failed=validated.all_failed
    )
    if status == CrawlStatus.FAILED and validated.all_failed and validated.first_error:
        error = f"{error}: {validated.first_error}"
    counts = CrawlCounts(
        pages=int(stats.get("pricewatch/pages_ok", 0)),
        items=validated.variants,
        dropped=validated.dropped,
        variants=len(validated.listings),
        failed_products=validated.failed,
    )
    with store.write():
        store.check_running(crawl_id)
        if status != CrawlStatus.OK:
            store.close_crawl(crawl_id, status, counts, error)
            return RecordedCrawl(status, error, counts)
        return _record_ok(store, crawl_id, validated, counts, config)


def record_listings(
    store: Store,
    crawl_id: int,
    listings: Sequence[Listing],
    *,
    untrusted: Collection[str] = (),
    counts: CrawlCounts | None = None,
    config: Config | None = None,
) -> RecordedCrawl:
    """`record_crawl` for an ``ok`` crawl whose listings are validated already (benches and
    tests that build `Listing`s directly)."""
    validated = Validated(listings=list(listings), untrusted=set(untrusted))
    with store.write():
        store.check_running(crawl_id)
        return _record_ok(
            store, crawl_id, validated, counts or CrawlCounts(), config or Config(shops=())
        )


def _record_ok(
    store: Store, crawl_id: int, validated: Validated, counts: CrawlCounts, config: Config
) -> RecordedCrawl:
    alerts: AlertsConfig = config.alerts
    applied = store.apply_listings(
        crawl_id,
        validated.listings,
        untrusted=validated.untrusted,
        failed_products=validated.failed_products,
        blind=validated.blind,
        outlier_factor=alerts.outlier_factor,
    )
    events = diff(
        applied.before,
        applied.after,
        missing_after=config.crawl.missing_after,
        styles_before=applied.styles_before,
    )
    events = [
        event._replace(since=applied.sold_out_since.get(event.key))
        if event.kind == EventKind.RESTOCK
        else event
        for event in events
    ]
    shop_id, shop = store.db.execute(
        "SELECT c.shop_id, s.name FROM crawls c JOIN shops s ON s.id = c.shop_id WHERE c.id = ?",
        [crawl_id],
    ).fetchone()
    alert_counts = queue_alerts(
        store,
        crawl_id=crawl_id,
        shop_id=shop_id,
        shop=shop,
        events=[(applied.variant_ids[event.key], event) for event in events],
        settings=alerts,
    )
    counts = dataclasses.replace(
        counts,
        products=applied.products,
        variants=applied.variants,
        changes=len(applied.changes),
        new_variants=applied.new_variants,
        missing=applied.missing,
        conflicts=applied.conflicts,
        held=applied.held,
        reverted=applied.reverted,
        unknown=applied.unknown,
    )
    store.close_crawl(crawl_id, CrawlStatus.OK, counts, None)
    return RecordedCrawl(CrawlStatus.OK, None, counts, applied.changes, events, alert_counts)
