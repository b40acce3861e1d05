"""Validation drops untrustworthy listings; the crawl outcome rules, one by one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from pricewatch.models import CrawlStatus, Stock
from scrapers.items import ListingItem
from scrapers.pipelines import InvalidListing, crawl_outcome, validate


def item(**changes: Any) -> ListingItem:
    values: dict[str, Any] = dict(
        shop="Kith",
        product_id="1",
        variant_id="11",
        title="New Balance 2002R Rain Cloud",
        url="https://kith.com/products/x?variant=11",
        size_label="10",
        price=Decimal("144.99"),
        currency="USD",
        available=True,
        style_code="M2002RDA",
        family="2002R",
    )
    values.update(changes)
    return ListingItem(**values)


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
