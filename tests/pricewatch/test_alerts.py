"""Events and the outbox, written with the crawl: matching, no nagging, flapping, exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from pricewatch.changes import EventKind
from pricewatch.models import CrawlStatus, Listing, Stock
from pricewatch.outbox import due_alerts, mark_sent, outbox_length
from pricewatch.store import Store, StoreError
from pricewatch.subscriptions import (
    SubscriptionError,
    add_subscription,
    forget_chat,
    list_subscriptions,
    remove_subscription,
    upsert_chat,
)
from tests.support import finish, make_listing

FAR_FUTURE = "9999-01-01T00:00:00Z"


def listing(
    size: str = "10", price: str = "150.00", stock: Stock = Stock.IN_STOCK, code: str = "M2002RDA"
) -> Listing:
    return make_listing(code, size, price, stock)


def crawl(
    store: Store,
    listings: list[Listing],
    status: CrawlStatus = CrawlStatus.OK,
    flap_window: float = 0.0,
    restock_cooldown: float = 600.0,
) -> int:
    crawl_id = store.start_crawl("Kith", "shopify", "https://kith.example", "USD")
    finish(
        store,
        crawl_id,
        status,
        listings,
        flap_window=flap_window,
        restock_cooldown=restock_cooldown,
    )
    return crawl_id


def catalog(**prices: str) -> list[Listing]:
    """M2002RDA in sizes 9, 10, 11 at 150.00 unless a size is given a price."""
    return [listing(size, prices.get(f"s{size}", "150.00")) for size in ("9", "10", "11")]


def delivered(store: Store) -> list[tuple[int, str, str]]:
    """Send everything due: (chat, kind, size) per alert, marked sent as a sender would."""
    out = []
    for chat_id, alerts in due_alerts(store, now=FAR_FUTURE).items():
        for alert in alerts:
            out.append((chat_id, alert.kind.value, alert.size_label))
        mark_sent(store, [a.outbox_id for a in alerts], message_id=1)
    return sorted(out)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "alerts.db") as opened:
        for chat in (1, 2, 3):
            upsert_chat(opened, chat)
        yield opened


def test_price_drop_reaches_the_matching_subscriber_only(store: Store) -> None:
    add_subscription(store, 1, style_code="M2002RDA", sizes=[10.0], max_price=Decimal("150"))
    add_subscription(store, 2, style_code="M2002RDA", sizes=[11.0])
    add_subscription(store, 3, style_code="M2002RXU")
    crawl(store, catalog())
    assert delivered(store) == []  # the first crawl is a baseline
    crawl(store, catalog(s10="139.99"))
    assert delivered(store) == [(1, "price_drop", "10")]
    crawl(store, catalog(s10="139.99"))  # a second crawl sends nothing more
    assert delivered(store) == []


def test_failed_crawl_produces_no_events(store: Store) -> None:
    add_subscription(store, 1, style_code=None)
    crawl(store, catalog())
    for status in (CrawlStatus.FAILED, CrawlStatus.PARTIAL, CrawlStatus.BLOCKED):
        crawl(store, [listing("10", "99.00", Stock.SOLD_OUT)], status=status)
    assert store.db.execute("SELECT count(*) FROM events").fetchone() == (0,)
    assert delivered(store) == []


def test_finishing_a_crawl_twice_adds_nothing(store: Store) -> None:
    crawl(store, catalog())
    crawl_id = store.start_crawl("Kith", "shopify", "https://kith.example", "USD")
    finish(store, crawl_id, CrawlStatus.OK, catalog(s10="120.00"))
    with pytest.raises(StoreError, match="finished already"):
        finish(store, crawl_id, CrawlStatus.OK, catalog(s10="110.00"))
    assert store.db.execute("SELECT count(*) FROM events").fetchone() == (1,)


def test_drop_alerts_only_below_the_last_price_told(store: Store) -> None:
    add_subscription(store, 1, style_code="M2002RDA", sizes=[10.0])
    crawl(store, catalog())
    crawl(store, catalog(s10="130.00"))
    assert delivered(store) == [(1, "price_drop", "10")]
    crawl(store, catalog(s10="145.00"))  # a rise: not subscribed
    crawl(store, catalog(s10="135.00"))  # a drop, but above the 130.00 they were told
    assert delivered(store) == []
    crawl(store, catalog(s10="129.00"))
    assert delivered(store) == [(1, "price_drop", "10")]


def test_max_price_filters_drops_and_restocks(store: Store) -> None:
    add_subscription(store, 1, style_code="M2002RDA", max_price=Decimal("140"))
    crawl(store, catalog())
    crawl(store, catalog(s9="145.00"))
    assert delivered(store) == []
    crawl(store, catalog(s9="139.99"))
    assert delivered(store) == [(1, "price_drop", "9")]


def test_flapping_stock_cancels_the_held_sell_out_alert_but_never_the_restock(
    store: Store,
) -> None:
    add_subscription(store, 1, style_code="M2002RDA", kinds=[EventKind.RESTOCK, EventKind.SOLD_OUT])
    crawl(store, catalog())
    crawl(
        store, [listing("9"), listing("10", stock=Stock.SOLD_OUT), listing("11")], flap_window=1800
    )
    assert due_alerts(store) == {}  # sold-out alerts wait for the flap window
    crawl(store, catalog(), flap_window=1800)  # back in stock before anyone was told
    assert delivered(store) == [(1, "restock", "10")]
    assert store.db.execute("SELECT status, error FROM outbox ORDER BY id").fetchall() == [
        ("skipped", "flapped"),
        ("sent", None),
    ]


def test_real_restock_is_sent_at_once(store: Store) -> None:
    add_subscription(store, 1, style_code="M2002RDA", sizes=[10.0])
    crawl(store, [listing("9"), listing("10", stock=Stock.SOLD_OUT), listing("11")])
    crawl(store, catalog())
    assert delivered(store) == [(1, "restock", "10")]


def test_one_outbox_row_per_event_and_chat(store: Store) -> None:
    add_subscription(store, 1, style_code="M2002RDA")
    add_subscription(store, 1, style_code=None, sizes=[10.0])
    crawl(store, catalog())
    crawl(store, catalog(s10="120.00"))
    assert outbox_length(store) == 1


def test_inactive_chat_is_not_matched(store: Store) -> None:
    add_subscription(store, 1, style_code="M2002RDA")
    store.db.execute("UPDATE chats SET active = 0 WHERE chat_id = 1")
    crawl(store, catalog())
    crawl(store, catalog(s10="120.00"))
    assert outbox_length(store) == 0


def test_subscription_limit_list_remove_and_forget(store: Store) -> None:
    first = add_subscription(store, 1, style_code="M2002RDA", sizes=[10.0, 9.5, 10.0], limit=2)
    assert first.sizes == (9.5, 10.0)
    add_subscription(store, 1, style_code=None, limit=2)
    with pytest.raises(SubscriptionError, match="limit is 2"):
        add_subscription(store, 1, style_code="M2002RXU", limit=2)
    assert [s.style_code for s in list_subscriptions(store, 1)] == ["M2002RDA", None]
    assert remove_subscription(store, 2, first.id) is False  # not that chat's
    assert remove_subscription(store, 1, first.id) is True
    assert remove_subscription(store, 1, first.id) is False  # a stale button press
    assert forget_chat(store, 1) == 1
    assert list_subscriptions(store, 1) == []


def test_delivered_alert_has_what_the_message_needs(store: Store) -> None:
    add_subscription(store, 1, style_code="M2002RDA", sizes=[10.0])
    crawl(store, catalog())
    crawl(store, catalog(s10="139.99"))
    [alert] = due_alerts(store)[1]
    assert (alert.kind, alert.old_price, alert.new_price, alert.currency) == (
        EventKind.PRICE_DROP,
        Decimal("150.00"),
        Decimal("139.99"),
        "USD",
    )
    assert alert.shop == "Kith" and alert.size_us == 10.0 and alert.new_stock == Stock.IN_STOCK
    assert alert.url.startswith("https://kith.example/products/m2002rda?variant=")


def test_restock_only_subscriber_hears_every_restock_after_a_silent_sell_out(
    store: Store,
) -> None:
    add_subscription(store, 1, style_code="M2002RDA", sizes=[10.0], kinds=[EventKind.RESTOCK])
    sold_out = [listing("9"), listing("10", stock=Stock.SOLD_OUT), listing("11")]
    crawl(store, sold_out)
    for _ in range(3):  # out -> in, three times (no cooldown)
        crawl(store, catalog(), restock_cooldown=0)
        assert delivered(store) == [(1, "restock", "10")]
        crawl(store, sold_out)
        assert delivered(store) == []  # not subscribed to sold_out


def test_quick_return_is_restock_news_saying_how_long_it_was_gone(store: Store) -> None:
    add_subscription(store, 1, style_code="M2002RDA", sizes=[10.0], kinds=[EventKind.RESTOCK])
    crawl(store, catalog())
    crawl(
        store, [listing("9"), listing("10", stock=Stock.SOLD_OUT), listing("11")], flap_window=1800
    )
    sold_out_at = store.db.execute(
        "SELECT first_seen FROM history WHERE stock = 'sold_out'"
    ).fetchone()[0]
    crawl(store, catalog(), flap_window=1800)  # back within the window: cart releases
    assert delivered(store) == [(1, "restock", "10")]
    assert store.db.execute("SELECT since FROM events WHERE kind = 'restock'").fetchone() == (
        sold_out_at,
    )


def test_a_variant_that_flaps_restocks_at_most_once_per_cooldown_per_chat(store: Store) -> None:
    add_subscription(store, 1, style_code="M2002RDA", sizes=[10.0], kinds=[EventKind.RESTOCK])
    sold_out = [listing("9"), listing("10", stock=Stock.SOLD_OUT), listing("11")]
    crawl(store, sold_out)
    crawl(store, catalog())
    crawl(store, sold_out)
    crawl(store, catalog())  # within the cooldown: recorded, not sent again
    assert delivered(store) == [(1, "restock", "10")]
    assert store.db.execute("SELECT count(*) FROM events WHERE kind = 'restock'").fetchone() == (2,)
    crawl(store, sold_out)
    crawl(store, catalog(), restock_cooldown=0)  # the cooldown is over
    assert delivered(store) == [(1, "restock", "10")]


def test_price_changes_of_sold_out_sizes_are_recorded_not_sent(store: Store) -> None:
    add_subscription(store, 1, style_code="M2002RDA", sizes=[10.0])
    add_subscription(store, 2, style_code="M2002RDA", sizes=[10.0], kinds=list(EventKind))
    sold_out = [listing("9"), listing("10", stock=Stock.SOLD_OUT), listing("11")]
    crawl(store, sold_out)
    crawl(store, [listing("9"), listing("10", "99.99", Stock.SOLD_OUT), listing("11")])
    # nobody can buy it: only the subscription that asks for sold-out news hears the drop
    assert delivered(store) == [(2, "price_drop", "10")]
    crawl(store, [listing("9"), listing("10", "99.99"), listing("11")])
    [alert] = due_alerts(store, now=FAR_FUTURE)[1]
    # the restock carries the new price, and the change against the last price told
    assert (alert.kind, alert.new_price, alert.told_price) == (
        EventKind.RESTOCK,
        Decimal("99.99"),
        None,
    )


def test_a_restock_says_the_change_against_the_last_price_told(store: Store) -> None:
    add_subscription(store, 1, style_code="M2002RDA", sizes=[10.0])
    crawl(store, catalog())
    crawl(store, catalog(s10="140.00"))
    assert delivered(store) == [(1, "price_drop", "10")]  # told: 140.00
    crawl(store, [listing("9"), listing("10", "140.00", Stock.SOLD_OUT), listing("11")])
    crawl(store, [listing("9"), listing("10", "120.00", Stock.SOLD_OUT), listing("11")])
    crawl(store, [listing("9"), listing("10", "120.00"), listing("11")])
    alerts = due_alerts(store, now=FAR_FUTURE)[1]
    assert [(a.kind, a.new_price, a.told_price) for a in alerts] == [
        (EventKind.RESTOCK, Decimal("120.00"), Decimal("140.00"))
    ]
