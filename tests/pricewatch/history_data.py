"""A known price history written through the real `Store`, on a fake clock.

Shared by test_history, test_charts and test_web. Crawls run every 5 days at 12:00 UTC from
2026-10-01 (day 0) to day 50; NOW is day 52. US 10 of M2002RDA, by day:

- Kith (USD): 144.99 in stock (0-9), 129.99 in (10-19), 119.99 sold out (20-29),
  139.99 in (30-39), 139.99 sold out (40-50). Also US 9 at 99.99 in stock throughout, and
  M2002RFB US 10 at 89.99: the size and style filters must keep those out.
- Bodega (USD): 149.99 in stock (0-44), 134.99 in stock (45-50).
- Concepts (USD): 154.99 in stock; its day-50 crawl fails, so its stock is unknown now.
- Footpatrol (EUR): 150.00 in stock (0-24), 140.00 in (25-39), 120.00 sold out (40-50).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pricewatch.history import format_timestamp
from pricewatch.models import CrawlStatus, Listing, Stock
from pricewatch.store import Store
from tests.support import finish, make_listing

START = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
NOW = START + timedelta(days=52)
DAYS = range(0, 51, 5)
IN, OUT = Stock.IN_STOCK, Stock.SOLD_OUT
CURRENCY = {"Kith": "USD", "Bodega": "USD", "Concepts": "USD", "Footpatrol": "EUR"}


class Clock:
    """Stands in for `pricewatch.store.utc_now`: every timestamp the store writes."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self, offset_seconds: float = 0) -> str:
        return format_timestamp(self.now + timedelta(seconds=offset_seconds))

    def at_day(self, day: float) -> None:
        self.now = START + timedelta(days=day)


def listing(
    shop: str,
    size: float,
    price: str,
    stock: Stock,
    code: str = "M2002RDA",
    name: str = "Rain Cloud",
) -> Listing:
    return make_listing(
        code,
        f"{size:g}",
        price,
        stock,
        shop=shop,
        title=f"New Balance 2002R {name}",
        currency=CURRENCY[shop],
        colorway_name=name,
    )


def crawl(
    store: Store, shop: str, listings: list[Listing], status: CrawlStatus = CrawlStatus.OK
) -> int:
    crawl_id = store.start_crawl(shop, "shopify", f"https://{shop.lower()}.example", CURRENCY[shop])
    error = None if status == CrawlStatus.OK else "HTTP 500"
    finish(store, crawl_id, status, listings, error=error)
    return crawl_id


def state(shop: str, day: int) -> list[Listing]:
    """What each shop lists on a crawl day (see the table above)."""
    if shop == "Kith":
        if day < 10:
            ten = listing("Kith", 10, "144.99", IN)
        elif day < 20:
            ten = listing("Kith", 10, "129.99", IN)
        elif day < 30:
            ten = listing("Kith", 10, "119.99", OUT)
        else:
            ten = listing("Kith", 10, "139.99", IN if day < 40 else OUT)
        other_style = listing("Kith", 10, "89.99", IN, "M2002RFB", "Autumn")
        return [ten, listing("Kith", 9, "99.99", IN), other_style]
    if shop == "Bodega":
        return [listing("Bodega", 10, "149.99" if day < 45 else "134.99", IN)]
    if shop == "Concepts":
        return [listing("Concepts", 10, "154.99", IN)]
    if day < 25:
        return [listing("Footpatrol", 10, "150.00", IN)]
    return [listing("Footpatrol", 10, "140.00" if day < 40 else "120.00", IN if day < 40 else OUT)]


def build_known(path: Path, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Writes the known history to a database at ``path``; the store keeps the fake clock."""
    clock = Clock()
    monkeypatch.setattr("pricewatch.store.utc_now", clock)
    with Store(path) as store:
        for day in DAYS:
            clock.at_day(day)
            for shop in CURRENCY:
                failed = shop == "Concepts" and day == 50
                status = CrawlStatus.FAILED if failed else CrawlStatus.OK
                crawl(store, shop, state(shop, day), status)
    return clock
