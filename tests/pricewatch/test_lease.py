"""One crawl of a shop at a time, across processes: the shop's lease in the database."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pricewatch.crawl import CrawlReport, run_crawl
from pricewatch.models import CrawlStatus
from pricewatch.replica import ReplicaShop
from pricewatch.store import ShopBusy, Store, lease_owner
from tests.support import finish, make_config, make_listing

SHOP = ("Kith", "shopify", "https://kith.example", "USD")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "lease.db") as opened:
        yield opened


def crawls(store: Store) -> list[tuple[str, str | None]]:
    return store.db.execute("SELECT status, error FROM crawls ORDER BY id").fetchall()


def test_a_second_crawl_while_the_first_runs_is_skipped_saying_who_holds_the_shop(
    store: Store,
) -> None:
    first = store.start_crawl(*SHOP)
    with pytest.raises(ShopBusy, match=rf"Kith is being crawled by {lease_owner()} \(crawl 1"):
        store.start_crawl(*SHOP)
    # the first is untouched and finishes: nothing recorded by either crawl is lost
    recorded = finish(store, first, CrawlStatus.OK, [make_listing("M2002RDA", "10", "150.00")])
    assert recorded is not None and recorded.status == CrawlStatus.OK
    assert [status for status, _ in crawls(store)] == ["ok", "skipped"]


@pytest.mark.parametrize(
    ("owner", "lease_until"),
    [
        (f"{socket.gethostname()}:999999999", "9999-01-01T00:00:00Z"),  # its process is gone
        ("another-host:42", "2000-01-01T00:00:00Z"),  # its lease ran out
        (None, None),  # left running by a pricewatch from before leases
    ],
)
def test_a_crawl_whose_holder_is_gone_is_closed_as_interrupted(
    store: Store, owner: str | None, lease_until: str | None
) -> None:
    stale = store.start_crawl(*SHOP)
    store.db.execute(
        "UPDATE crawls SET owner = ?, lease_until = ? WHERE id = ?", [owner, lease_until, stale]
    )
    store.db.conn.commit()
    store.start_crawl(*SHOP)
    assert crawls(store) == [("failed", "interrupted"), ("running", None)]


def test_another_hosts_crawl_holds_the_shop_until_its_lease_ends(store: Store) -> None:
    held = store.start_crawl(*SHOP)
    store.db.execute(
        "UPDATE crawls SET owner = 'another-host:42', lease_until = '9999-01-01T00:00:00Z' "
        "WHERE id = ?",
        [held],
    )
    store.db.conn.commit()
    with pytest.raises(ShopBusy, match="another-host:42"):
        store.start_crawl(*SHOP)


def test_two_crawl_processes_of_one_shop_one_runs_one_is_skipped(tmp_path: Path) -> None:
    """A manual `pricewatch crawl` while `pricewatch run` crawls the same shop: the first
    crawl's feed request is held at the replica until the second has been turned away."""
    with ReplicaShop() as shop:
        config = make_config(tmp_path / "two.db", {"Replica": shop}, timeout=60.0)
        shop.misbehave("hold", times=1, delay=60)
        first: list[CrawlReport] = []
        running = threading.Thread(target=lambda: first.extend(run_crawl(config, config.shops)))
        running.start()
        try:
            assert shop.request_held.wait(60), "the first crawl never asked for the feed"
            [second] = run_crawl(config, config.shops)
        finally:
            shop.release_held.set()
            running.join(120)
    assert second.status == CrawlStatus.SKIPPED and second.ok
    assert second.error is not None and "Replica is being crawled by" in second.error
    assert [(r.status, r.error) for r in first] == [(CrawlStatus.OK, None)]
    assert first[0].variants > 0
