"""The whole engine (child process, Scrapy, spider, pipelines, SQLite) against replica shops."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from pricewatch.config import Config, ShopConfig
from pricewatch.crawl import run_crawl
from pricewatch.history import current_offers
from pricewatch.models import Stock
from pricewatch.replica import ReplicaShop
from pricewatch.store import Store
from tests.support import make_config


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def snapshot(db: Path) -> list[tuple[object, ...]]:
    return rows(db, "SELECT * FROM variants ORDER BY id") + rows(
        db, "SELECT * FROM history ORDER BY id"
    )


# The replica's 2002R colorways; its other products (990v6, 1906R, 9060, 991v2, the original
# 2002 "M2002BK", a Nike, a T-shirt) must stay out.
REPLICA_2002R = {
    "IV2002RA",
    "M2002NA",
    "M2002RDA",
    "M2002RDB",
    "M2002RDC",
    "M2002RDD",
    "M2002RDF",
    "M2002RHN",
    "M2002RHO",
    "M2002RMB",
    "M2002RXU",
    "ML2002R1",
    "ML2002RA",
    "U2002RBL",
    "U2002RCA",
}


def catalog_2002r(shop: ReplicaShop) -> dict[str, list[dict[str, object]]]:
    return {
        p["_style_code"]: p["variants"]
        for p in shop.products()
        if p.get("_style_code") in REPLICA_2002R
    }


def test_first_crawl_stores_every_2002r_variant_and_nothing_else(
    config: Config, replica: ReplicaShop
) -> None:
    [report] = run_crawl(config, config.shops)
    assert report.status == "ok", report.error
    expected = catalog_2002r(replica)
    stored = rows(config.db_path, "SELECT DISTINCT style_code FROM variants ORDER BY 1")
    assert [r[0] for r in stored] == sorted(expected)
    assert report.variants == sum(len(v) for v in expected.values())
    assert report.changes == report.variants  # first sight: one history row each
    # nothing from other models, even the 990v6 whose description mentions M2002RDA
    assert rows(
        config.db_path,
        "SELECT count(*) FROM products WHERE title LIKE '%990%' "
        "OR title LIKE '%1906%' OR title LIKE '%9060%'",
    ) == [(0,)]


def test_prices_sizes_and_stock_match_the_shop(config: Config, replica: ReplicaShop) -> None:
    run_crawl(config, config.shops)
    product = replica.product("M2002RDA")
    with Store(config.db_path) as store:
        offers = {o.size_label: o for o in current_offers(store, "M2002RDA")}
    for variant in product["variants"]:
        offer = offers[variant["option1"]]
        assert str(offer.price) == variant["price"]
        assert offer.stock == (Stock.IN_STOCK if variant["available"] else Stock.SOLD_OUT)
        assert offer.currency == "USD"
    assert offers["10"].size_us == 10.0


def test_price_change_adds_exactly_one_history_row(config: Config, replica: ReplicaShop) -> None:
    run_crawl(config, config.shops)
    before = rows(config.db_path, "SELECT count(*) FROM history")[0][0]
    replica.set_price("M2002RDA", "119.99", size="10")
    [report] = run_crawl(config, config.shops)
    assert report.ok and report.changes == 1
    assert rows(config.db_path, "SELECT count(*) FROM history")[0][0] == before + 1
    last = rows(
        config.db_path,
        "SELECT h.price_minor, v.size_label FROM history h "
        "JOIN variants v ON v.id = h.variant_id ORDER BY h.id DESC LIMIT 1",
    )
    assert last == [(11999, "10")]


def test_an_invalid_variant_is_dropped_alone(config: Config, replica: ReplicaShop) -> None:
    """One item per product, but validation judges each variant: a broken price drops that
    size only, counted; the product's other sizes are stored."""
    replica.set_price("M2002RDA", "0.00", size="9")
    [report] = run_crawl(config, config.shops)
    assert report.ok and report.dropped == 1, report.error
    stored = rows(config.db_path, "SELECT size_label FROM variants WHERE style_code = 'M2002RDA'")
    sizes = [v["option1"] for v in replica.product("M2002RDA")["variants"]]
    assert sorted(r[0] for r in stored) == sorted(s for s in sizes if s != "9")
    assert rows(config.db_path, "SELECT items, dropped, variants FROM crawls") == [
        (report.variants + 1, 1, report.variants)
    ]


def test_unchanged_crawl_adds_no_history(config: Config) -> None:
    run_crawl(config, config.shops)
    before = rows(config.db_path, "SELECT count(*) FROM history")
    [report] = run_crawl(config, config.shops)
    assert report.ok and report.changes == 0
    assert rows(config.db_path, "SELECT count(*) FROM history") == before


def test_a_uk_shop_is_validated_in_its_own_size_system_and_currency(db_path: Path) -> None:
    """Sizes as the shop writes them (UK 9 is US 9.5), prices only in the shop's currency."""
    with ReplicaShop(currency="GBP") as shop:
        uk = ShopConfig(
            name="UK", platform="shopify", url=shop.url, currency="GBP", size_system="uk"
        )
        config = make_config(db_path, {}).replace(shops=(uk,))
        [report] = run_crawl(config, config.shops)
    assert report.ok, report.error
    sizes = rows(
        db_path,
        "SELECT DISTINCT size_label, size_us, currency FROM variants WHERE size_label IN "
        "('9', '10')",
    )
    assert sorted(sizes) == [("10", 10.5, "GBP"), ("9", 9.5, "GBP")]


def test_paging_reaches_every_product(db_path: Path) -> None:
    with ReplicaShop(page_size_cap=3) as small_pages:
        config = make_config(db_path, {"Small pages": small_pages})
        [report] = run_crawl(config, config.shops)
        assert report.ok, report.error
        pages = [p for m, p in small_pages.requests if "products.json" in p]
    assert len(catalog_2002r(small_pages)) == report.products
    assert len(pages) == -(-len(small_pages.products()) // 3) + 1  # + the empty last page


@pytest.mark.parametrize(
    ("mode", "status", "error"),
    [
        ("500", "failed", "HTTP 500"),
        ("403", "failed", "HTTP 403"),
        ("truncated", "failed", "invalid JSON"),
        ("block", "blocked", "Shopify throttle page"),
        ("block-cloudflare", "blocked", "Cloudflare"),
        ("password", "blocked", "password page"),
        ("empty", "failed", "listed no products"),
        ("layout", "failed", "no 'products' list"),
        ("timeout", "failed", "timed out"),
    ],
)
def test_bad_crawl_changes_nothing_and_marks_nothing_sold_out(
    config: Config, replica: ReplicaShop, mode: str, status: str, error: str
) -> None:
    run_crawl(config, config.shops)
    before = snapshot(config.db_path)
    replica.set_price("M2002RDA", "99.00")  # would be a change, if it were seen
    replica.misbehave(mode, delay=10.0)
    [report] = run_crawl(config, config.shops)
    assert (report.status, error in (report.error or "")) == (status, True), report.error
    assert snapshot(config.db_path) == before
    with Store(config.db_path) as store:
        stocks = {o.stock for o in current_offers(store)}
    assert stocks == {Stock.UNKNOWN}  # not sold out: we do not know


def test_failure_on_a_later_page_is_partial_and_changes_nothing(db_path: Path) -> None:
    with ReplicaShop(page_size_cap=3) as shop:
        config = make_config(db_path, {"Shop": shop})
        run_crawl(config, config.shops)
        before = snapshot(db_path)
        shop.misbehave("500", pages={3})
        [report] = run_crawl(config, config.shops)
    assert report.status == "partial" and "HTTP 500" in (report.error or "")
    assert snapshot(db_path) == before


def test_429_with_retry_after_is_retried_and_succeeds(config: Config, replica: ReplicaShop) -> None:
    replica.misbehave("429", times=1, retry_after=1)
    [report] = run_crawl(config, config.shops)
    assert report.ok, report.error
    assert sum(1 for _, path in replica.requests if "products.json?limit=250&page=1" in path) == 2


def test_one_failing_shop_does_not_affect_another(db_path: Path) -> None:
    with ReplicaShop() as good, ReplicaShop() as bad:
        bad.misbehave("500")
        config = make_config(db_path, {"Good": good, "Bad": bad})
        reports = {r.shop: r for r in run_crawl(config, config.shops)}
    assert reports["Good"].ok and reports["Bad"].status == "failed"


def test_hung_crawl_is_cut_off_at_the_time_limit(db_path: Path) -> None:
    with ReplicaShop() as slow:
        slow.misbehave("timeout", delay=30.0)
        config = make_config(db_path, {"Slow": slow}, timeout=60.0)
        [report] = run_crawl(config, config.shops, time_limit=4)
    assert report.status == "failed" and "time limit" in (report.error or "")


def test_robots_txt_disallow_is_obeyed(db_path: Path) -> None:
    with ReplicaShop(robots_txt="User-agent: *\nDisallow: /products.json\n") as shop:
        config = make_config(db_path, {"Closed": shop})
        [report] = run_crawl(config, config.shops)
        fetched = [p for _, p in shop.requests if "products.json" in p]
    assert report.status == "failed" and "robots.txt" in (report.error or "")
    assert fetched == []


# The crawl child as run_crawl starts it, with every database write lasting until the reactor
# has run a call made from inside the write: writes as slow as a big crawl's on a busy machine,
# without a sleep. A write on the reactor's own thread waits for itself, so the reactor stands
# still (and says so on stderr after 5 s, then goes on).
SLOW_WRITES_CHILD = """
import sys, threading
from pricewatch.crawl import main
from pricewatch.store import Store

apply_listings = Store.apply_listings

def apply_listings_while_the_reactor_turns(self, *args, **kwargs):
    from twisted.internet import reactor  # the one Scrapy installed (importing it installs one)

    turned = threading.Event()
    reactor.callFromThread(turned.set)
    if not turned.wait(timeout=5):
        print("TEST: the reactor stood still during a write", file=sys.stderr, flush=True)
    return apply_listings(self, *args, **kwargs)

Store.apply_listings = apply_listings_while_the_reactor_turns
sys.exit(main(sys.argv[1:]))
"""


def test_many_shops_in_one_crawl_child_write_while_the_reactor_turns(db_path: Path) -> None:
    """Many shops in one crawl child, each write slow: the reactor keeps turning during the
    writes (they run off its thread), Twisted logs nothing (a reactor that stood still used to
    make Scrapy fire a Deferred twice: CRITICAL ... AlreadyCalledError), every crawl is ok."""
    with contextlib.ExitStack() as stack:
        shops = {f"Shop {n}": stack.enter_context(ReplicaShop()) for n in range(6)}
        config = make_config(db_path, shops)
        child = subprocess.run(
            [sys.executable, "-c", SLOW_WRITES_CHILD, "--log-level", "WARNING", *shops],
            input=config.to_json(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        expected = sum(len(v) for v in catalog_2002r(shops["Shop 0"]).values())
    assert child.returncode == 0, child.stderr
    assert "stood still" not in child.stderr
    assert "AlreadyCalledError" not in child.stderr and "CRITICAL" not in child.stderr
    assert "Traceback" not in child.stderr, child.stderr
    crawls = rows(
        db_path,
        "SELECT s.name, c.status, c.variants FROM crawls c JOIN shops s ON s.id = c.shop_id "
        "ORDER BY s.name",
    )
    assert crawls == [(name, "ok", expected) for name in sorted(shops)]


@pytest.mark.parametrize(
    "modules",
    ["pricewatch.crawl_child, scrapers.pipelines, scrapers.spiders.shopify", "pricewatch.cli"],
)
def test_crawls_and_the_cli_never_import_numpy(modules: str) -> None:
    """sqlite-utils would import numpy (60 ms, 12 MB a process) only to map its types; a chart
    imports it when it is drawn."""
    probe = (
        f"import sys, {modules}; "
        "print(sys.modules.get('numpy') is not None, 'sqlite_utils' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "True"]


def test_a_shopify_crawl_loads_only_what_it_uses(config: Config) -> None:
    """Scrapy imports every component it lists, on or off: the remote control (aiohttp), the
    cookie middleware (tldextract, requests) and the other platforms' spiders stay out of the
    list, and out of a crawl process (a sixth of its start-up)."""
    probe = (
        "import sys\n"
        "from pricewatch.crawl import main\n"
        "main([*sys.argv[1:], '--log-level', 'ERROR'])\n"
        "heavy = ('aiohttp', 'tldextract', 'requests', 'numpy', 'scrapers.spiders.html',"
        " 'scrapers.spiders.jsonld', 'scrapers.spiders.sfcc', 'scrapy.extensions.telnet')\n"
        "print(sorted(m for m in heavy if sys.modules.get(m)), 'scrapers.spiders.shopify' in"
        " sys.modules)\n"
    )
    shop = config.shops[0]
    child = subprocess.run(
        [sys.executable, "-c", probe, shop.name],
        input=config.to_json(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert child.stdout.split() == ["[]", "True"], child.stderr
    assert rows(config.db_path, "SELECT status FROM crawls") == [("ok",)]
