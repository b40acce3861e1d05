"""The write path: history only on change, nothing from a failed crawl, exact prices."""

from __future__ import annotations

import gc
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from pricewatch.models import CrawlStatus, Listing, Stock
from pricewatch.store import SCHEMA_VERSION, Store, StoreError
from tests.support import finish, make_listing


def listing(
    size: str = "10",
    price: str = "144.99",
    stock: Stock = Stock.IN_STOCK,
    code: str = "M2002RDA",
    variant: str | None = None,
    **extra: object,
) -> Listing:
    if variant:
        extra["variant_id"] = variant
    return make_listing(code, size, price, stock, **extra)


def crawl(store: Store, listings: list[Listing], status: CrawlStatus = CrawlStatus.OK) -> int:
    crawl_id = store.start_crawl("Kith", "shopify", "https://kith.example", "USD")
    finish(store, crawl_id, status, listings)
    return crawl_id


def count(store: Store, table: str) -> int:
    return int(store.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "data" / "test.db") as opened:
        yield opened


def test_new_database_has_schema_version_wal_and_indexes(store: Store) -> None:
    assert store.schema_version == SCHEMA_VERSION
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    indexes = {row[1] for row in store.db.execute("SELECT * FROM sqlite_master WHERE type='index'")}
    assert "idx_history_variant_covering" in indexes
    assert "idx_variants_style_code_size_us" in indexes


def test_first_crawl_writes_one_history_row_per_variant(store: Store) -> None:
    crawl(store, [listing("9"), listing("10"), listing("10.5", stock=Stock.SOLD_OUT)])
    assert count(store, "variants") == 3
    assert count(store, "history") == 3
    assert count(store, "colorways") == 1


def test_unchanged_crawl_adds_no_history_but_extends_last_seen(store: Store) -> None:
    crawl(store, [listing("10")])
    first_last_seen = store.db.execute("SELECT last_seen FROM history").fetchone()[0]
    crawl(store, [listing("10")])
    assert count(store, "history") == 1
    assert store.db.execute("SELECT last_seen FROM history").fetchone()[0] > first_last_seen


def test_price_change_adds_exactly_one_row_with_exact_minor_units(store: Store) -> None:
    crawl(store, [listing("10"), listing("11")])
    crawl(store, [listing("10", price="129.95"), listing("11")])
    assert count(store, "history") == 3
    rows = store.db.execute(
        "SELECT h.price_minor FROM history h JOIN variants v ON v.id = h.variant_id "
        "WHERE v.size_label = '10' ORDER BY h.id"
    ).fetchall()
    assert rows == [(14499,), (12995,)]


def test_sale_price_and_stock_changes_are_history_rows(store: Store) -> None:
    crawl(store, [listing("10")])
    crawl(store, [listing("10", compare_at=Decimal("165.00"))])
    crawl(store, [listing("10", stock=Stock.SOLD_OUT, compare_at=Decimal("165.00"))])
    stocks = [r[0] for r in store.db.execute("SELECT stock FROM history ORDER BY id")]
    assert stocks == ["in_stock", "in_stock", "sold_out"]


@pytest.mark.parametrize("status", [CrawlStatus.FAILED, CrawlStatus.PARTIAL, CrawlStatus.BLOCKED])
def test_unsuccessful_crawl_changes_nothing(store: Store, status: CrawlStatus) -> None:
    crawl(store, [listing("10"), listing("11")])
    before = store.db.execute("SELECT * FROM variants ORDER BY id").fetchall()
    crawl(store, [listing("10", price="99.00", stock=Stock.SOLD_OUT)], status=status)
    assert store.db.execute("SELECT * FROM variants ORDER BY id").fetchall() == before
    assert count(store, "history") == 2
    row = store.db.execute("SELECT status, error FROM crawls ORDER BY id DESC").fetchone()
    assert row == (status.value, "boom")


def test_missing_variant_counts_a_miss_and_is_not_sold_out(store: Store) -> None:
    crawl(store, [listing("10"), listing("11")])
    crawl(store, [listing("10")])
    crawl(store, [listing("10")])
    misses, stock = store.db.execute(
        "SELECT misses, stock FROM variants WHERE size_label = '11'"
    ).fetchone()
    assert (misses, stock) == (2, "in_stock")
    crawl(store, [listing("10"), listing("11")])
    assert store.db.execute("SELECT misses FROM variants WHERE size_label='11'").fetchone() == (0,)


def test_duplicate_variant_in_one_crawl_is_stored_once(store: Store) -> None:
    crawl(store, [listing("10"), listing("10")])
    assert count(store, "history") == 1


def test_crawl_left_running_by_a_crash_is_closed_as_interrupted(store: Store) -> None:
    crashed = store.start_crawl("Kith", "shopify", "https://kith.example", "USD")
    # its process is gone (test_lease.py has the other ways a lease ends)
    store.db.execute(
        "UPDATE crawls SET owner = 'gone-host:1', lease_until = '2000' WHERE id = ?", [crashed]
    )
    store.db.conn.commit()
    crawl(store, [listing("10")])
    statuses = store.db.execute("SELECT status, error FROM crawls ORDER BY id").fetchall()
    assert statuses == [("failed", "interrupted"), ("ok", None)]


def test_not_a_pricewatch_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE stuff (x)")
    with pytest.raises(StoreError, match="not a pricewatch one"):
        Store(path)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer"):
        Store(path)


def test_read_only_open_of_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no database"):
        Store(tmp_path / "nope.db", create=False)


def test_changed_details_are_refreshed_without_a_history_row(store: Store) -> None:
    crawl(store, [listing("10", sku="OLD-SKU")])
    crawl_id = crawl(store, [listing("10", sku="M2002RDA-100")])
    assert store.db.execute("SELECT sku, last_crawl_id FROM variants").fetchone() == (
        "M2002RDA-100",
        crawl_id,
    )
    assert count(store, "history") == 1


def test_variant_listed_again_after_misses_keeps_its_open_history_row(store: Store) -> None:
    crawl(store, [listing("10"), listing("11")])
    crawl(store, [listing("10")])
    last = crawl(store, [listing("10"), listing("11")])
    misses, last_crawl, last_seen, history_last_seen = store.db.execute(
        "SELECT v.misses, v.last_crawl_id, v.last_seen, h.last_seen FROM variants v "
        "JOIN history h ON h.id = v.history_id WHERE v.size_label = '11'"
    ).fetchone()
    assert (misses, last_crawl) == (0, last)
    assert history_last_seen == last_seen
    assert count(store, "history") == 2


def test_new_variants_of_a_second_shop_point_at_their_own_first_history_row(
    store: Store,
) -> None:
    crawl(store, [listing("9"), listing("10")])
    crawl(store, [listing("10", price="139.99")])
    other = store.start_crawl("NB Corner", "shopify", "https://nbcorner.example", "USD")
    finish(store, other, CrawlStatus.OK, [listing("10", price="120.00", shop="NB")])
    rows = store.db.execute(
        "SELECT v.id, v.price_minor, h.variant_id, h.price_minor, h.crawl_id, v.last_crawl_id "
        "FROM variants v JOIN history h ON h.id = v.history_id ORDER BY v.id"
    ).fetchall()
    assert [(r[0] == r[2], r[1] == r[3], r[4] == r[5]) for r in rows] == [(True,) * 3] * 3
    assert [r[1] for r in rows] == [14499, 13999, 12000]


def test_products_and_colorway_names_follow_the_shop(store: Store) -> None:
    crawl(store, [listing("10", title="2002R", colorway_name=None)])
    seen_first = store.db.execute("SELECT last_seen FROM products").fetchone()[0]
    crawl(store, [listing("10", title="2002R")])
    title, seen_again = store.db.execute("SELECT title, last_seen FROM products").fetchone()
    assert title == "2002R"
    assert seen_again > seen_first
    crawl(store, [listing("10", title="2002R Protection Pack", colorway_name="Rain Cloud")])
    crawl(store, [listing("10", title="2002R Protection Pack", colorway_name="Other")])
    assert store.db.execute("SELECT title FROM products").fetchone()[0] == "2002R Protection Pack"
    # a colorway keeps the first name a shop gave it
    assert store.db.execute("SELECT name FROM colorways").fetchone()[0] == "Rain Cloud"
    assert count(store, "products") == 1


def events(store: Store) -> list[tuple[str, str]]:
    return store.db.execute(
        "SELECT e.kind, v.size_label FROM events e JOIN variants v ON v.id = e.variant_id "
        "ORDER BY e.id"
    ).fetchall()


def test_size_gone_while_its_siblings_change_price_is_delisted_never_sold_out(
    store: Store,
) -> None:
    crawl(store, [listing("9"), listing("10"), listing("11")])
    for price in ("140.00", "135.00", "130.00"):  # missing_after = 3 crawls without size 11
        crawl(store, [listing("9", price=price), listing("10", price=price)])
    assert ("delisted", "11") in events(store)
    assert ("sold_out", "11") not in events(store)
    # what is known of it is what was last seen: absence wrote no state
    stock = store.db.execute("SELECT stock FROM variants WHERE size_label = '11'").fetchone()[0]
    assert stock == "in_stock"


def test_product_gone_with_all_its_sizes_is_delisted(store: Store) -> None:
    crawl(store, [listing("10"), listing("10", code="M2002RHO", variant="other")])
    for _ in range(3):
        crawl(store, [listing("10")])
    assert events(store) == [("delisted", "10")]


def test_garbage_collection_is_paused_while_a_crawl_is_applied_and_resumes_after_a_failure(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    during: list[bool] = []

    def failing_apply(*args: object) -> None:
        during.append(gc.isenabled())
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Store, "_apply_listings", failing_apply)
    with pytest.raises(RuntimeError):
        crawl(store, [listing("10")])
    assert during == [False]
    assert gc.isenabled()
    # the failed crawl still holds the shop (this process is alive): let it go
    store.db.execute("UPDATE crawls SET status = 'failed' WHERE status = 'running'")
    store.db.conn.commit()
    gc.disable()  # a caller that turned it off itself keeps it off
    try:
        with pytest.raises(RuntimeError):
            crawl(store, [listing("10")])
        assert not gc.isenabled()
    finally:
        gc.enable()
