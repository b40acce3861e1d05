"""Proof, not examples: a stateful property test of what becomes an event and an alert.

A shop's true state (prices, stock, sales, sizes taken off the shop) moves at random, and each
crawl serves that truth through the real Shopify spider's parse code plus random faults: bad,
absurd, unreadable and one-crawl 10x prices, a size whose availability the feed leaves out,
sizes missing for a crawl or two, a stale
all-sold-out duplicate of a product, a malformed product, a 500, a block page, invalid JSON,
a second page that fails (a partial crawl).
Each crawl is recorded by the real path (`pricewatch.recording.record_crawl`) into a real SQLite
file. After every crawl:

- no false alert: every event is a true transition, from what was last reported to the truth
  now; a crawl that is not ``ok`` writes nothing;
- nothing swallowed: a true state served cleanly by two ok crawls in a row has been reported
  (what events said equals the truth), and a size gone from the shop for ``missing_after`` ok
  crawls has been reported delisted;
- a restock reaches the restock subscriber; a price change of a sold-out size is not sent to a
  subscriber with the default kinds.

The faults are the ones no rule can tell from the truth, left out on purpose: the same 10x
price in two ok crawls in a row (that is what a real 10x change looks like), a size missing
from ``missing_after`` ok crawls in a row (that is what delisting looks like), and a stale copy
of a product in the same crawl as a size missing from its fresh copy.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler

from pricewatch.changes import EventKind
from pricewatch.config import AlertsConfig, Config, CrawlConfig, ShopConfig
from pricewatch.items import ProductItem
from pricewatch.models import CrawlStatus, Stock
from pricewatch.recording import RecordedCrawl, record_crawl
from pricewatch.store import Store
from pricewatch.subscriptions import add_subscription, upsert_chat
from scrapers.spiders.shopify import ShopifySpider

MISSING_AFTER = 3
SHOP = ShopConfig(name="Truth", platform="shopify", url="https://truth.example", currency="USD")
CONFIG = Config(
    shops=(SHOP,),
    crawl=CrawlConfig(missing_after=MISSING_AFTER),
    alerts=AlertsConfig(flap_window=1800.0, restock_cooldown=0.0, outlier_factor=3.0),
)
PRODUCTS = {  # product id -> (style code, title, sizes)
    1001: ("M2002RDA", "New Balance 2002R Protection Pack Rain Cloud", ("9", "10", "11")),
    1002: ("M2002RHO", "New Balance 2002R Sea Salt", ("9.5", "10.5")),
}
VARIANTS = {  # variant id -> (product id, size)
    product_id * 10 + n: (product_id, size)
    for product_id, (_, _, sizes) in PRODUCTS.items()
    for n, size in enumerate(sizes)
}
VIDS = sorted(VARIANTS)
RESTOCK_CHAT, DEFAULT_CHAT, EVERYTHING_CHAT = 1, 2, 3  # the last one hears sell-outs too
PRICE_CAP = 500_000  # cents: validation drops a price above $5,000 as absurd
MAX_TRUE_PRICE = 200_000  # the truth stays a believable price (a 10x glitch may not)

VARIANT_FAULTS = ("zero", "garbage", "absurd", "ten_x", "missing", "no_availability")
PRODUCT_FAULTS = ("stale_duplicate", "malformed")
CRAWL_FAULTS = ("http500", "blocked", "invalid_json", "page_2_fails")


@dataclass(frozen=True)
class Truth:
    price: int  # cents
    in_stock: bool
    listed: bool = True  # False: the shop took the size off (not a fault)
    compare_at: int | None = None  # the shop's own "was" price: a marked sale


@dataclass(frozen=True)
class Reported:
    """What events have said about a variant so far."""

    price: int
    in_stock: bool
    delisted: bool = False


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


class AlertTruth(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="alert-truth-"))
        self.store = Store(self.folder / "truth.db")
        self.truth: dict[int, Truth] = {}
        self.reported: dict[int, Reported] = {}
        self.clean_streak = dict.fromkeys(VIDS, 0)  # ok crawls in a row serving the truth
        self.absent_streak = dict.fromkeys(VIDS, 0)  # ok crawls in a row without the size
        self.ten_x_last_ok = set[int]()  # a 10x price served by the last ok crawl
        # Faults that last until repaired ("0.00" for a few crawls, a product stuck malformed)
        self.lasting_variant_faults: dict[int, str] = {}
        self.lasting_product_faults: dict[int, str] = {}
        self.crawler = get_crawler(ShopifySpider, {"PRICEWATCH_CONFIG": CONFIG})
        self.spider = ShopifySpider.from_crawler(self.crawler, shop=SHOP.name)
        self.crawler.spider = self.spider

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- the shop's truth -------------------------------------------------------------------

    @initialize(
        prices=st.lists(st.integers(9_000, 25_000), min_size=len(VIDS), max_size=len(VIDS)),
        stock=st.lists(st.booleans(), min_size=len(VIDS), max_size=len(VIDS)),
    )
    def baseline(self, prices: list[int], stock: list[bool]) -> None:
        for vid, price, in_stock in zip(VIDS, prices, stock, strict=True):
            self.truth[vid] = Truth(price, in_stock)
            self.reported[vid] = Reported(price, in_stock)
        for chat in (RESTOCK_CHAT, DEFAULT_CHAT, EVERYTHING_CHAT):
            upsert_chat(self.store, chat)
        add_subscription(self.store, RESTOCK_CHAT, style_code=None, kinds=[EventKind.RESTOCK])
        add_subscription(self.store, DEFAULT_CHAT, style_code=None)
        add_subscription(self.store, EVERYTHING_CHAT, style_code=None, kinds=list(EventKind))
        first = self.crawl_with({}, {}, None)
        assert first.status == CrawlStatus.OK and first.events == []

    def change(self, vid: int, **changes: Any) -> None:
        self.truth[vid] = replace(self.truth[vid], **changes)
        self.clean_streak[vid] = 0

    @rule(vid=st.sampled_from(VIDS))
    def sell_out(self, vid: int) -> None:
        self.change(vid, in_stock=False)

    @rule(vid=st.sampled_from(VIDS))
    def restock(self, vid: int) -> None:
        self.change(vid, in_stock=True)

    @rule(vid=st.sampled_from(VIDS), percent=st.integers(-40, 60).filter(bool))
    def reprice(self, vid: int, percent: int) -> None:
        price = self.truth[vid].price + self.truth[vid].price * percent // 100
        self.change(vid, price=min(MAX_TRUE_PRICE, max(100, price)), compare_at=None)

    @rule(vid=st.sampled_from(VIDS))
    def marked_sale(self, vid: int) -> None:
        """A 75% off sale the shop marks (compare-at = the old price): believed at once."""
        price = self.truth[vid].price
        self.change(vid, price=max(100, price // 4), compare_at=price)

    @rule(vid=st.sampled_from(VIDS), up=st.booleans())
    def unmarked_big_change(self, vid: int, up: bool) -> None:
        """A real change of 4x with no sale mark: believed once a second crawl shows it."""
        price = self.truth[vid].price
        up = up and price * 4 <= MAX_TRUE_PRICE
        self.change(vid, price=price * 4 if up else max(100, price // 4), compare_at=None)

    @rule(vid=st.sampled_from(VIDS))
    def take_off_the_shop(self, vid: int) -> None:
        self.change(vid, listed=False)

    @rule(vid=st.sampled_from(VIDS))
    def put_back_on_the_shop(self, vid: int) -> None:
        self.change(vid, listed=True)

    @rule(vid=st.sampled_from(VIDS), fault=st.sampled_from(("zero", "garbage", "absurd")))
    def price_goes_bad_for_a_while(self, vid: int, fault: str) -> None:
        self.lasting_variant_faults[vid] = fault

    @rule(pid=st.sampled_from(sorted(PRODUCTS)), fault=st.sampled_from(PRODUCT_FAULTS))
    def product_goes_bad_for_a_while(self, pid: int, fault: str) -> None:
        self.lasting_product_faults[pid] = fault

    @rule()
    def shop_repairs_its_data(self) -> None:
        self.lasting_variant_faults.clear()
        self.lasting_product_faults.clear()

    # -- a crawl ----------------------------------------------------------------------------

    @rule(
        # Mostly clean crawls, so that true changes get seen and faults stand out.
        variant_faults=st.one_of(
            st.just({}),
            st.dictionaries(st.sampled_from(VIDS), st.sampled_from(VARIANT_FAULTS), max_size=3),
        ),
        product_faults=st.one_of(
            st.just({}),
            st.just({}),
            st.dictionaries(
                st.sampled_from(sorted(PRODUCTS)), st.sampled_from(PRODUCT_FAULTS), max_size=1
            ),
        ),
        crawl_fault=st.one_of(st.none(), st.none(), st.none(), st.sampled_from(CRAWL_FAULTS)),
    )
    def crawl(
        self,
        variant_faults: dict[int, str],
        product_faults: dict[int, str],
        crawl_fault: str | None,
    ) -> None:
        variant_faults = {**self.lasting_variant_faults, **variant_faults}
        product_faults = {**self.lasting_product_faults, **product_faults}
        variant_faults = self.indistinguishable_left_out(variant_faults, product_faults)
        before = self.stored_states()
        recorded = self.crawl_with(variant_faults, product_faults, crawl_fault)
        if crawl_fault is not None:
            assert recorded.status != CrawlStatus.OK
        elif recorded.status != CrawlStatus.OK:  # only a feed without one valid size fails
            assert not self.anything_trustworthy_served(variant_faults, product_faults)
        if recorded.status != CrawlStatus.OK:
            assert recorded.events == [] and self.stored_states() == before
            return
        said_before = dict(self.reported)  # a restock and a price drop can come together
        for event in recorded.events:
            self.check_and_believe(event.kind, event, said_before[int(event.key)])
        self.check_alerts(recorded)
        self.count_streaks(variant_faults, product_faults)

    @rule()
    def clean_crawl(self) -> None:
        """Most crawls see the shop as it is: a change is seen, then a fault stands out."""
        self.crawl({}, {}, None)

    def indistinguishable_left_out(
        self, variant_faults: dict[int, str], product_faults: dict[int, str]
    ) -> dict[int, str]:
        faults = {}
        for vid, fault in variant_faults.items():
            product_id, _ = VARIANTS[vid]
            if fault == "ten_x" and (
                vid in self.ten_x_last_ok or self.truth[vid].price != self.reported[vid].price
            ):
                # The same 10x twice in a row is a real change; and a glitch is 10x of the
                # price last confirmed (on top of an unseen real change, it can be anything).
                continue
            if fault == "missing" and (
                self.absent_streak[vid] + 1 >= MISSING_AFTER
                or product_faults.get(product_id) == "stale_duplicate"
            ):
                continue  # missing_after misses is delisting; a stale copy would speak for it
            faults[vid] = fault
        return faults

    def anything_trustworthy_served(
        self, variant_faults: dict[int, str], product_faults: dict[int, str]
    ) -> bool:
        """Whether the feed lists at least one valid size (else the crawl fails: a feed of
        2002R products without a size is no proof that everything is gone)."""
        return any(
            self.truth[vid].listed
            and product_faults.get(product_id) != "malformed"
            and (
                variant_faults.get(vid) is None
                or (variant_faults[vid] == "ten_x" and self.truth[vid].price * 10 <= PRICE_CAP)
            )
            for vid, (product_id, _) in VARIANTS.items()
        )

    def crawl_with(
        self,
        variant_faults: dict[int, str],
        product_faults: dict[int, str],
        crawl_fault: str | None,
    ) -> RecordedCrawl:
        crawler, spider = self.crawler, self.spider
        crawler.stats.clear_stats()  # each crawl reports on its own
        products: list[ProductItem] = []
        if crawl_fault == "http500":
            spider.page_failed("HTTP 500 (server error) at https://truth.example/products.json")
        else:
            for page, body, content_type in self.pages(variant_faults, product_faults, crawl_fault):
                response = TextResponse(
                    f"{SHOP.url}/products.json?limit=250&page={page}",
                    body=body.encode(),
                    headers={"Content-Type": content_type},
                    encoding="utf-8",
                )
                if crawl_fault == "page_2_fails" and page == 2:  # a partial crawl
                    spider.page_failed(f"timed out at {response.url}")
                    continue
                for output in spider.parse(response, page=page):
                    if isinstance(output, ProductItem):
                        products.append(output)
        crawl_id = self.store.start_crawl(SHOP.name, SHOP.platform, SHOP.url, SHOP.currency)
        stats = crawler.stats.get_stats()
        return record_crawl(self.store, crawl_id, SHOP, products, stats, "finished", CONFIG)

    def pages(
        self,
        variant_faults: dict[int, str],
        product_faults: dict[int, str],
        crawl_fault: str | None,
    ) -> list[tuple[int, str, str]]:
        if crawl_fault == "blocked":
            page = "<html><title>Just a moment...</title><body>cf-challenge</body></html>"
            return [(1, page, "text/html")]
        feed = []
        for product_id, (code, title, _) in PRODUCTS.items():
            fault = product_faults.get(product_id)
            if fault == "malformed":
                feed.append(self.product(product_id, code, title, {}) | {"variants": {"x": 1}})
                continue
            if fault == "stale_duplicate":  # a stale copy, all sold out, listed first
                stale = self.product(product_id, code, title, {})
                for variant in stale["variants"]:
                    variant["available"] = False
                feed.append(stale)
            feed.append(self.product(product_id, code, title, variant_faults))
        first = json.dumps({"products": feed})
        if crawl_fault == "invalid_json":
            first = first[: len(first) // 2]
        return [(1, first, "application/json"), (2, '{"products": []}', "application/json")]

    def product(
        self, product_id: int, code: str, title: str, faults: dict[int, str]
    ) -> dict[str, Any]:
        variants = []
        for vid, (pid, size) in VARIANTS.items():
            truth = self.truth[vid]
            fault = faults.get(vid)
            if pid != product_id or not truth.listed or fault == "missing":
                continue
            price = {
                "zero": "0.00",
                "garbage": "N/A",
                "absurd": "99999.00",
                "ten_x": money(truth.price * 10),
            }.get(fault or "", money(truth.price))
            compare = money(truth.compare_at) if truth.compare_at else None
            variants.append(
                {
                    "id": vid,
                    "title": size,
                    "option1": size,
                    "price": price,
                    "compare_at_price": compare,
                    # no_availability: the feed says nothing of stock (the key is missing)
                    **({} if fault == "no_availability" else {"available": truth.in_stock}),
                    "sku": f"{code}-{size}",
                }
            )
        return {
            "id": product_id,
            "title": title,
            "handle": code.lower(),
            "vendor": "New Balance",
            "body_html": "<p>2002R</p>",
            "tags": ["2002R"],
            "options": [{"name": "Size", "position": 1}],
            "variants": variants,
        }

    # -- what must hold ---------------------------------------------------------------------

    def check_and_believe(self, kind: EventKind, event: Any, said: Reported) -> None:
        vid = int(event.key)
        truth, now = self.truth[vid], self.reported[vid]
        if kind == EventKind.DELISTED:
            assert not truth.listed, f"false delisted: {vid} is on the shop"
            assert self.absent_streak[vid] + 1 >= MISSING_AFTER
            self.reported[vid] = replace(now, delisted=True)
            return
        assert truth.listed, f"{kind} of {vid}, which is not on the shop"
        assert kind not in (EventKind.NEW_SIZE, EventKind.NEW_COLORWAY), f"false {kind}"
        new, old = event.new, event.old
        assert new.price == Decimal(money(truth.price)), f"false {kind}: {new} vs {truth}"
        assert (new.stock == Stock.IN_STOCK) == truth.in_stock, f"false {kind}: {new}, {truth}"
        assert old.price == Decimal(money(said.price)), f"{kind} from {old}, said {said}"
        assert (old.stock == Stock.IN_STOCK) == said.in_stock, f"{kind} from {old}, said {said}"
        if kind == EventKind.RESTOCK:
            assert not said.in_stock and truth.in_stock
        elif kind == EventKind.SOLD_OUT:
            assert said.in_stock and not truth.in_stock
        elif kind == EventKind.PRICE_DROP:
            assert truth.price < said.price
        elif kind == EventKind.PRICE_RISE:
            assert truth.price > said.price
        self.reported[vid] = Reported(
            truth.price if kind in (EventKind.PRICE_DROP, EventKind.PRICE_RISE) else now.price,
            truth.in_stock if kind in (EventKind.RESTOCK, EventKind.SOLD_OUT) else now.in_stock,
        )

    def check_alerts(self, recorded: RecordedCrawl) -> None:
        rows = self.store.db.execute(
            "SELECT e.kind, e.new_stock, o.chat_id FROM events e "
            "LEFT JOIN outbox o ON o.event_id = e.id "
            "WHERE e.crawl_id = (SELECT max(id) FROM crawls)"
        ).fetchall()
        restocks = [e for e in recorded.events if e.kind == EventKind.RESTOCK]
        told_restock = [r for r in rows if r[0] == "restock" and r[2] == RESTOCK_CHAT]
        assert len(told_restock) == len(restocks), "a restock did not reach its subscriber"
        for kind, new_stock, chat in rows:
            if kind in ("price_drop", "price_rise") and new_stock != "in_stock":
                assert chat in (None, EVERYTHING_CHAT), "a price change of a sold-out size was sent"

    def count_streaks(self, variant_faults: dict[int, str], product_faults: dict[int, str]) -> None:
        self.ten_x_last_ok = {vid for vid, fault in variant_faults.items() if fault == "ten_x"}
        for vid, (product_id, _) in VARIANTS.items():
            truth = self.truth[vid]
            fault = variant_faults.get(vid)
            product_fault = product_faults.get(product_id)
            served = truth.listed and fault != "missing" and product_fault != "malformed"
            if product_fault != "malformed":  # else unknown: neither seen nor proven absent
                self.absent_streak[vid] = 0 if served else self.absent_streak[vid] + 1
            clean = (
                served
                and fault is None
                and (product_fault != "stale_duplicate" or not truth.in_stock)
            )
            self.clean_streak[vid] = self.clean_streak[vid] + 1 if clean else 0

    @invariant()
    def nothing_swallowed(self) -> None:
        for vid in VIDS:
            truth, said = self.truth[vid], self.reported[vid]
            if self.clean_streak[vid] >= 2:
                assert (said.price, said.in_stock) == (truth.price, truth.in_stock), (
                    f"variant {vid}: the truth {truth} held for two ok crawls, said {said}"
                )
            if not truth.listed and self.absent_streak[vid] >= MISSING_AFTER:
                assert said.delisted, f"variant {vid}: off the shop, never said delisted"
            if truth.listed and self.clean_streak[vid]:
                self.reported[vid] = replace(said, delisted=False)

    def stored_states(self) -> list[tuple[Any, ...]]:
        return self.store.db.execute(
            "SELECT id, price_minor, stock, misses, held_price_minor FROM variants ORDER BY id"
        ).fetchall()


# CI runs the same 200 sequences of up to 25 steps every time (~6 s here): deterministic.
# ALERT_TRUTH_EXAMPLES=5000 searches new random sequences, much harder (--timeout=0).
DEEP_SEARCH = os.environ.get("ALERT_TRUTH_EXAMPLES")
AlertTruth.TestCase.settings = settings(
    max_examples=int(DEEP_SEARCH or "200"),
    derandomize=not DEEP_SEARCH,
    database=None,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestAlertTruth = AlertTruth.TestCase
