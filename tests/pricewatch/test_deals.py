"""Deal context: the low mark from history, retail, and the cheapest other shop, read from a
real SQLite file written through the crawl path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from pricewatch.changes import EventKind
from pricewatch.deals import Deal, Elsewhere, deal_context, low_mark
from pricewatch.models import CrawlStatus, Listing, Stock
from pricewatch.outbox import due_alerts
from pricewatch.store import Store
from pricewatch.subscriptions import add_subscription, upsert_chat
from tests.support import finish, make_listing

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
FAR_FUTURE = "9999-01-01T00:00:00.000000Z"


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@pytest.mark.parametrize(
    ("price", "window_low", "ever_low", "tracked_days", "mark"),
    [
        ("100", "120", "110", 200, "lowest ever"),
        ("110", "120", "110", 200, "lowest in 90 days"),  # equal to an old low: seen before
        ("115", "120", "110", 200, "lowest in 90 days"),
        ("125", "120", "110", 200, None),
        ("100", None, "110", 200, "lowest ever"),  # nothing in the window, lower than ever
        ("100", "120", "120", 12, "lowest in 12 days"),  # a short history never says "ever"
        ("130", "120", "120", 12, None),
        ("100", "120", "120", 0.5, None),  # less than a day says nothing
        ("100", None, None, None, None),  # nothing to compare with
    ],
)
def test_low_mark(
    price: str,
    window_low: str | None,
    ever_low: str | None,
    tracked_days: float | None,
    mark: str | None,
) -> None:
    first = days_ago(tracked_days) if tracked_days is not None else None
    money = [Decimal(v) if v is not None else None for v in (window_low, ever_low)]
    assert low_mark(Decimal(price), money[0], money[1], first, NOW) == mark


def crawl(store: Store, shop: str, listings: list[Listing], *, backdate: float = 0) -> None:
    crawl_id = store.start_crawl(shop, "shopify", f"https://{shop.lower()}.example", "USD")
    finish(store, crawl_id, CrawlStatus.OK, listings, flap_window=0)
    if backdate:
        stamp = days_ago(backdate).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        store.db.execute("UPDATE history SET first_seen = ? WHERE crawl_id = ?", [stamp, crawl_id])


def test_a_price_drop_knows_its_low_the_retail_price_and_the_cheapest_other_shop(
    tmp_path: Path,
) -> None:
    with Store(tmp_path / "deals.db") as store:
        upsert_chat(store, 7)
        add_subscription(store, 7, style_code="M2002RDA")
        crawl(store, "Kith", [make_listing(price="120.00")], backdate=200)  # long ago
        crawl(store, "Kith", [make_listing(price="150.00")], backdate=100)
        bodega = [
            make_listing(price="140.00", shop="Bodega"),
            make_listing(size="11", price="99.00", shop="Bodega"),  # another size: no match
            make_listing("M2002RHO", "10", "90.00", shop="Bodega"),  # another colorway
        ]
        crawl(store, "Bodega", bodega)
        # a sold-out size costs nothing anyone can pay: it is never the low nor "elsewhere"
        crawl(store, "Sold Out Shop", [make_listing(price="80.00", stock=Stock.SOLD_OUT)])
        crawl(store, "Kith", [make_listing(price="127.50")])
        alerts = [a for a in due_alerts(store, now=FAR_FUTURE)[7] if a.kind == EventKind.PRICE_DROP]
        [drop] = [a for a in alerts if a.shop == "Kith"]
        deals = deal_context(store, [drop], {"M2002RDA": (Decimal("150.00"), "USD")}, now=NOW)
    assert deals == {
        drop.outbox_id: Deal(
            low="lowest in 90 days",  # below Bodega's 140 in the window, not below 120 ever
            retail=Decimal("150.00"),
            elsewhere=Elsewhere("Bodega", Decimal("140.00"), "USD"),
        )
    }


def test_retail_in_another_currency_is_not_shown_and_a_sellout_has_no_deal(
    tmp_path: Path,
) -> None:
    with Store(tmp_path / "deals.db") as store:
        upsert_chat(store, 7)
        add_subscription(store, 7, style_code="M2002RDA", kinds=list(EventKind))
        crawl(store, "Kith", [make_listing(price="150.00")])
        crawl(store, "Kith", [make_listing(price="140.00")])
        crawl(store, "Kith", [make_listing(price="140.00", stock=Stock.SOLD_OUT)])
        alerts = due_alerts(store, now=FAR_FUTURE)[7]
        deals = deal_context(store, alerts, {"M2002RDA": (Decimal("130.00"), "EUR")}, now=NOW)
    kinds = {a.outbox_id: a.kind for a in alerts}
    assert [kinds[i] for i in deals] == [EventKind.PRICE_DROP]
    assert next(iter(deals.values())) == Deal()
