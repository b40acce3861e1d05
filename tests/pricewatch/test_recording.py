"""The one crawl-recording path: validate, store, diff, queue alerts, in one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pricewatch.config import Config, ShopConfig
from pricewatch.items import ListingItem, ProductItem
from pricewatch.models import CrawlStatus
from pricewatch.recording import RecordedCrawl, crawl_outcome, record_crawl
from pricewatch.store import Store
from tests.support import make_item

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


def test_a_crawl_whose_every_product_failed_is_failed_and_one_bad_product_is_not() -> None:
    stats = {"pricewatch/pages_ok": 1, "pricewatch/products_failed": 3}
    assert crawl_outcome(stats, FINISHED, 0, all_failed=True) == (
        CrawlStatus.FAILED,
        "no product could be read",
    )
    assert crawl_outcome(stats, FINISHED, 10, all_failed=False) == (CrawlStatus.OK, None)


# -- the rules of what becomes an event, each through the real path on a real database -------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "recording.db") as opened:
        yield opened


SHOP = ShopConfig(name="Kith", platform="shopify", url="https://kith.example", currency="USD")
CONFIG = Config(shops=(SHOP,))


def product(pid: str, *variants: ListingItem, error: str | None = None) -> ProductItem:
    return ProductItem(shop=SHOP.name, product_id=pid, variants=list(variants), error=error)


def size(label: str, price: str | None = "150.00", available: bool = True, **extra: Any) -> Any:
    fields = {
        "shop": SHOP.name,
        "product_id": "p1",
        "variant_id": f"v{label}",
        "size_label": label,
        "price": Decimal(price) if price is not None else None,
        "available": available,
        **extra,
    }
    return make_item(**fields)


def record(store: Store, *products: ProductItem, **stats: Any) -> RecordedCrawl:
    crawl_id = store.start_crawl(SHOP.name, SHOP.platform, SHOP.url, SHOP.currency)
    stats = {"pricewatch/pages_ok": 1, **stats}
    return record_crawl(store, crawl_id, SHOP, products, stats, "finished", CONFIG)


def kinds(recorded: RecordedCrawl) -> list[tuple[str, str]]:
    return [(e.kind.value, e.size_label) for e in recorded.events]


def stored(store: Store, label: str) -> tuple[int, str, int]:
    return store.db.execute(
        "SELECT price_minor, stock, misses FROM variants WHERE size_label = ?", [label]
    ).fetchone()


def test_a_dropped_listing_is_unknown_for_many_crawls_and_its_repair_says_nothing(
    store: Store,
) -> None:
    record(store, product("p1", size("9"), size("10")))
    for _ in range(5):  # "0.00" for longer than missing_after: never missing, never sold out
        bad = record(store, product("p1", size("9"), size("10", price="0.00")))
        assert bad.status == CrawlStatus.OK and kinds(bad) == []
        assert (bad.counts.dropped, bad.counts.unknown, bad.counts.missing) == (1, 1, 0)
        assert stored(store, "10") == (15000, "in_stock", 0)
    assert kinds(record(store, product("p1", size("9"), size("10")))) == []


def test_a_one_crawl_ten_times_price_is_held_and_its_reversal_leaves_no_event(
    store: Store,
) -> None:
    record(store, product("p1", size("10", price="149.99")))
    glitch = record(store, product("p1", size("10", price="1499.90")))
    assert kinds(glitch) == [] and glitch.counts.held == 1
    assert stored(store, "10") == (14999, "in_stock", 0)
    back = record(store, product("p1", size("10", price="149.99")))
    assert kinds(back) == [] and back.counts.reverted == 1
    assert store.db.execute("SELECT count(*) FROM history").fetchone() == (1,)
    assert store.db.execute("SELECT held_price_minor FROM variants").fetchone() == (None,)


def test_an_outlier_price_seen_twice_in_a_row_is_real(store: Store) -> None:
    record(store, product("p1", size("10", price="150.00")))
    assert kinds(record(store, product("p1", size("10", price="45.00")))) == []
    confirmed = record(store, product("p1", size("10", price="45.00")))
    assert kinds(confirmed) == [("price_drop", "10")]
    assert stored(store, "10") == (4500, "in_stock", 0)


def test_a_drop_the_shop_marks_as_a_sale_is_trusted_at_once(store: Store) -> None:
    record(store, product("p1", size("10", price="150.00")))
    sale = record(store, product("p1", size("10", price="45.00", compare_at=Decimal("150.00"))))
    assert kinds(sale) == [("price_drop", "10")]


def test_a_stale_duplicate_that_disagrees_is_unknown_not_first_copy_wins(store: Store) -> None:
    fresh = product("p1", size("9"), size("10"))
    record(store, fresh)
    stale = product("p1", size("9", available=False), size("10", available=False))
    for _ in range(3):
        twice = record(store, stale, fresh)
        assert kinds(twice) == []
        assert twice.counts.conflicts == 2 and twice.counts.missing == 0
    assert stored(store, "9") == (15000, "in_stock", 0)
    same_twice = record(store, fresh, fresh)  # agreeing copies are one listing
    assert same_twice.counts.conflicts == 0 and same_twice.counts.variants == 2


def test_a_product_that_does_not_parse_leaves_its_sizes_unknown_and_the_shop_recorded(
    store: Store,
) -> None:
    other = {"product_id": "p2", "style_code": "M2002RHO"}
    record(store, product("p1", size("10")), product("p2", size("10", variant_id="w10", **other)))
    for _ in range(4):
        recorded = record(
            store,
            product("p1", size("10", price="140.00")),
            product("p2", error="TypeError: body_html is 5"),
        )
        assert recorded.status == CrawlStatus.OK
        assert recorded.counts.failed_products == 1 and recorded.counts.missing == 0
    assert ("delisted", "10") not in kinds(recorded)
    every = record(store, product("p2", error="TypeError"), product("p1", error="KeyError"))
    assert every.status == CrawlStatus.FAILED and "no product could be read" in (every.error or "")


def test_a_failed_product_without_an_id_proves_nothing_absent(store: Store) -> None:
    record(store, product("p1", size("9"), size("10")))
    for _ in range(4):
        blind = record(store, product("p1", size("9")), product("", error="ValueError"))
        assert blind.counts.missing == 0 and kinds(blind) == []


def test_a_restock_after_an_observed_sell_out_says_since_when(store: Store) -> None:
    record(store, product("p1", size("10")))
    record(store, product("p1", size("10", available=False)))
    sold_out_at = store.db.execute(
        "SELECT first_seen FROM history WHERE stock = 'sold_out'"
    ).fetchone()[0]
    back = record(store, product("p1", size("10")))
    assert [(e.kind.value, e.since) for e in back.events] == [("restock", sold_out_at)]


def test_a_size_back_after_being_delisted_restocks_only_if_it_was_seen_sold_out(
    store: Store,
) -> None:
    record(store, product("p1", size("9"), size("10"), size("11", available=False)))
    for _ in range(3):
        gone = record(store, product("p1", size("9")))
    assert sorted(kinds(gone)) == [("delisted", "10"), ("delisted", "11")]
    back = record(store, product("p1", size("9"), size("10"), size("11")))
    assert kinds(back) == [("restock", "11")]


def test_a_dropped_listing_proves_the_size_is_listed_so_its_misses_start_again(
    store: Store,
) -> None:
    """Found by the stateful test: a miss, a crawl listing the size with a bad price, then two
    misses were three misses in a row, and a delisted alert."""
    record(store, product("p1", size("9"), size("10")))
    record(store, product("p1", size("9")))
    record(store, product("p1", size("9"), size("10", price="0.00")))
    for _ in range(2):
        assert kinds(record(store, product("p1", size("9")))) == []
    assert stored(store, "10") == (15000, "in_stock", 2)
