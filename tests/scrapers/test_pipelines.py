"""Validation drops untrustworthy listings; the crawl outcome rules, one by one."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from pricewatch.config import Config, ShopConfig
from pricewatch.models import CrawlStatus, Stock
from scrapers.items import ListingItem, ProductItem
from scrapers.pipelines import InvalidListing, ValidatePipeline, crawl_outcome, validate
from scrapers.spiders.shopify import ShopifySpider
from tests.support import make_item

item = make_item


def test_valid_item_becomes_a_listing() -> None:
    listing = validate(item(size_label="10.5 2E", available=False))
    assert listing.size_us == 10.5 and listing.width == "2E"
    assert listing.stock == Stock.SOLD_OUT and listing.price == Decimal("144.99")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"price": None}, "missing price"),
        ({"price": Decimal("0.00")}, "not a price"),
        ({"price": Decimal("14499")}, "absurd price"),
        ({"price": Decimal("12.345")}, "not exact"),
        ({"size_label": "One Size"}, "unreadable size"),
        ({"size_label": "99"}, "unreadable size"),
        ({"available": None}, "no availability"),
        ({"style_code": None}, "no 2002R style code"),
        ({"currency": None}, "no currency"),
    ],
)
def test_untrustworthy_items_are_dropped_with_a_reason(
    changes: dict[str, Any], reason: str
) -> None:
    with pytest.raises(InvalidListing, match=reason):
        validate(item(**changes))


def test_uk_shop_reads_bare_sizes_as_uk() -> None:
    assert validate(item(size_label="9"), "uk").size_us == 9.5


FINISHED = "finished"


@pytest.mark.parametrize(
    ("stats", "reason", "listings", "expected"),
    [
        ({"pricewatch/pages_ok": 2}, FINISHED, 40, (CrawlStatus.OK, None)),
        (
            {"pricewatch/blocked": "Cloudflare challenge"},
            FINISHED,
            40,
            (CrawlStatus.BLOCKED, "Cloudflare challenge"),
        ),
        (
            {"pricewatch/page_errors": 1, "pricewatch/error": "HTTP 500"},
            FINISHED,
            0,
            (CrawlStatus.FAILED, "HTTP 500"),
        ),
        (
            {
                "pricewatch/pages_ok": 1,
                "pricewatch/page_errors": 1,
                "pricewatch/error": "timed out",
            },
            FINISHED,
            250,
            (CrawlStatus.PARTIAL, "timed out"),
        ),
        (
            {"pricewatch/pages_ok": 1, "spider_exceptions/KeyError": 2},
            FINISHED,
            10,
            (CrawlStatus.PARTIAL, "2 parse error(s) in the spider (see the log)"),
        ),
        (
            {"pricewatch/pages_ok": 1},
            "shutdown",
            10,
            (CrawlStatus.PARTIAL, "crawl stopped early (shutdown)"),
        ),
        (
            {"pricewatch/pages_ok": 40, "pricewatch/incomplete": "stopped after 40 pages"},
            FINISHED,
            9000,
            (CrawlStatus.PARTIAL, "stopped after 40 pages"),
        ),
        (
            {"pricewatch/pages_ok": 1},
            FINISHED,
            0,
            (CrawlStatus.FAILED, "the shop listed no products"),
        ),
        (
            {"pricewatch/pages_ok": 2, "pricewatch/products_read": 31},
            FINISHED,
            0,
            (CrawlStatus.FAILED, "no 2002R listings among 31 products"),
        ),
    ],
)
def test_crawl_outcome(
    stats: dict[str, Any], reason: str, listings: int, expected: tuple[CrawlStatus, str | None]
) -> None:
    assert crawl_outcome(stats, reason, listings) == expected


# -- the pipeline, as Scrapy calls it: one item per product, no spider argument ---------------

UK = ShopConfig(
    name="Footpatrol",
    platform="shopify",
    url="https://www.footpatrol.com",
    currency="GBP",
    size_system="uk",
)


def uk_pipeline() -> ValidatePipeline:
    crawler = get_crawler(ShopifySpider, {"PRICEWATCH_CONFIG": Config(shops=(UK,))})
    crawler.spider = ShopifySpider.from_crawler(crawler, shop=UK.name)
    return ValidatePipeline.from_crawler(crawler)


def uk_item(variant_id: str, **changes: Any) -> ListingItem:
    return item(**{"shop": UK.name, "variant_id": variant_id, "currency": "GBP", **changes})


def test_a_product_keeps_its_valid_variants_and_drops_each_invalid_one_with_its_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pipeline = uk_pipeline()
    product = ProductItem(
        shop=UK.name,
        product_id="1",
        variants=[
            uk_item("9", size_label="9"),
            uk_item("zero", price=Decimal("0.00")),
            uk_item("usd", currency="USD"),
            uk_item("10", size_label="10"),
        ],
    )
    with caplog.at_level(logging.WARNING, logger="scrapers.pipelines"):
        valid = pipeline.process_item(product)  # as Scrapy 2.19 calls it: no spider
    assert [(v.variant_id, v.size_us) for v in valid.listings] == [("9", 9.5), ("10", 10.5)]
    assert pipeline.stats.get_value("pricewatch/dropped") == 2
    reasons = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(reasons) == 2
    assert "Dropped: " in reasons[0] and "not a price" in reasons[0]
    assert "currency USD, but Footpatrol sells in GBP" in reasons[1]


def test_a_product_without_a_valid_variant_is_dropped() -> None:
    pipeline = uk_pipeline()
    product = ProductItem(shop=UK.name, product_id="1", variants=[uk_item("x", price=None)])
    with pytest.raises(DropItem):
        pipeline.process_item(product)
    assert pipeline.stats.get_value("pricewatch/dropped") == 1


def test_what_is_not_a_listing_is_dropped() -> None:
    with pytest.raises(InvalidListing, match="not a listing: dict"):
        uk_pipeline().process_item({"price": "1"})
