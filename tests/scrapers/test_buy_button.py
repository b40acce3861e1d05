"""Stock a buyer could act on: a page's add-to-cart state against its JSON-LD (issue 17, point 3).
Real pages from tests/fixtures/realdata (SOURCES.md), checked by hand: StockCenter's button is
`<button class="add-to-cart ..." disabled>` under a JSON-LD InStock; John Lewis, Zalando and
Zara have enabled add-to-cart/bag/basket buttons; On's trimmed pages have none."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from pricewatch.changes import EventKind
from pricewatch.config import Config, ShopConfig
from pricewatch.items import ProductItem
from pricewatch.models import CrawlStatus
from pricewatch.recording import RecordedCrawl, record_crawl
from pricewatch.store import Store
from pricewatch.subscriptions import add_subscription, upsert_chat
from scrapers.parsing.buybutton import apply_buy_button, buy_button_state
from scrapers.parsing.jsonld import Offer, extract_jsonld
from scrapers.spiders.jsonld import JsonLdSpider
from tests.support import FIXTURES, load_fixture, spider_output

REALDATA = FIXTURES / "realdata"
STOCKCENTER = "jsonld-html-stockcenter-ar-puma-botines-sfcc-product-extraction-benchmark.html"
NAY = "jsonld-html-nay-sk-garni-disabled-basket-product-extraction-benchmark.html"


@pytest.mark.parametrize(
    ("name", "state"),
    [
        (STOCKCENTER, False),
        (NAY, False),
        (
            "jsonld-html-stockcenter-ar-nike-top-disabled-cart-product-extraction-benchmark.html",
            False,
        ),
        ("jsonld-html-johnlewis-gant-boot-lowercase-type-product-extraction-benchmark.html", True),
        ("jsonld-html-zalando-ie-adidas-slides-product-extraction-benchmark.html", True),
        ("jsonld-html-zara-be-boots-per-size-products-product-extraction-benchmark.html", True),
        ("jsonld-html-on-kr-cloudmonster-productgroup-trimmed-dark9266.html", None),
    ],
)
def test_real_pages_buy_button_state(name: str, state: bool | None) -> None:
    assert buy_button_state((REALDATA / name).read_bytes()) is state


def test_a_disabled_button_makes_jsonld_instock_unknown_on_a_real_page() -> None:
    page = (REALDATA / STOCKCENTER).read_bytes()
    [offer] = extract_jsonld(page, "https://www.stockcenter.com.ar/").offers
    assert offer.available is True  # what the JSON-LD claims
    [read] = apply_buy_button([offer], buy_button_state(page))
    assert read.available is None and read.price == offer.price  # unknown, kept with its price


def test_the_benchmarks_hand_checked_sell_out_is_never_read_as_in_stock() -> None:
    """nay.sk's JSON-LD says InStock; the benchmark's people, looking at the page, said
    OutOfStock: its add-to-basket button is disabled. Before: in stock (a false restock);
    after: unknown."""
    truth = load_fixture("realdata/jsonld-html-ground-truth-product-extraction-benchmark.json")
    assert truth["ccbaa81cc89eaa70df015c6c970c673efc462414b8760440a75b9afd3ee4df0c"][
        "availability"
    ] == ["OutOfStock"]
    page = (REALDATA / NAY).read_bytes()
    [offer] = extract_jsonld(page, "https://www.nay.sk/").offers
    assert (offer.name, offer.price, offer.available) == (
        "Garni 570 Easy II čierna",
        Decimal("54.5"),
        True,
    )
    [read] = apply_buy_button([offer], buy_button_state(page))
    assert read.available is None


def offer(available: bool | None, style: str = "M2002RDA") -> Offer:
    return Offer(
        name="2002R",
        size_label="10",
        price=Decimal("150"),
        currency="USD",
        available=available,
        url=None,
        style_code=style,
        family="2002R",
    )


@pytest.mark.parametrize(
    ("stated", "button", "read"),
    [
        (True, False, None),  # InStock, no enabled button: unknown, never in stock
        (True, True, True),
        (False, True, False),  # a sold-out size stays sold out under an enabled button
        (None, True, True),  # no availability: buyable under an enabled button
        (None, False, None),  # ... but a disabled one is no sell-out (disabled until a size)
        (None, None, None),  # no availability, no button: unknown, kept
        (True, None, True),  # a button built by JavaScript says nothing
    ],
)
def test_button_rules(stated: bool | None, button: bool | None, read: bool | None) -> None:
    [result] = apply_buy_button([offer(stated)], button)
    assert result.available is read


def test_pages_of_several_colorways_keep_their_stated_stock() -> None:
    offers = [offer(True, "M2002RDA"), offer(None, "M2002RHO")]
    assert apply_buy_button(offers, False) == tuple(offers)


def test_buttons_read_from_attributes() -> None:
    assert buy_button_state(b'<button name="add" type="submit" disabled="disabled">') is False
    assert buy_button_state(b'<button id="AddToCart" aria-disabled="true">x</button>') is False
    assert buy_button_state(b'<input type="hidden" class="add-to-cart-url" value="/cart">') is None
    assert buy_button_state(b'<button class="add-to-bag disabled-look">Add</button>') is True


SHOP = ShopConfig(name="NB", platform="jsonld", url="https://nb.example", currency="USD")


def page(availability: str | None, button: str, style: str = "M2002RDA") -> HtmlResponse:
    offer_node = {"@type": "Offer", "price": "150.00", "priceCurrency": "USD"}
    if availability:
        offer_node["availability"] = f"https://schema.org/{availability}"
    product = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": "New Balance 2002R",
        "sku": style,
        "brand": {"@type": "Brand", "name": "New Balance"},
        "offers": offer_node,
    }
    body = (
        '<html><head><script type="application/ld+json">'
        f"{json.dumps(product)}</script></head><body>{button}</body></html>"
    )
    url = f"https://nb.example/pd/2002r/{style}.html"
    return HtmlResponse(url=url, body=body.encode(), encoding="utf-8", request=Request(url))


@pytest.mark.parametrize(
    ("availability", "button", "read"),
    [
        ("InStock", '<button class="add-to-cart" disabled>Add</button>', None),
        ("InStock", '<button class="add-to-cart">Add</button>', True),
        (None, '<button class="add-to-cart">Add</button>', True),
        (None, "", None),
    ],
)
def test_the_spider_applies_the_button(
    availability: str | None, button: str, read: bool | None
) -> None:
    crawler = get_crawler(JsonLdSpider, {"PRICEWATCH_CONFIG": Config(shops=(SHOP,))})
    spider = JsonLdSpider.from_crawler(crawler, shop=SHOP.name)
    crawler.spider = spider
    [item], _ = spider_output(spider.parse_product(page(availability, button)))
    assert (item.style_code, item.price, item.available) == ("M2002RDA", Decimal("150.00"), read)


def test_instock_under_a_disabled_button_restocks_nobody_through_record_crawl(
    tmp_path: Path,
) -> None:
    """Page -> spider -> record_crawl on a real database, a subscriber told of everything: the
    JSON-LD's InStock under a disabled button leaves the stored sell-out as it was (no event, no
    alert); the same page with its button enabled is the restock."""
    crawler = get_crawler(JsonLdSpider, {"PRICEWATCH_CONFIG": Config(shops=(SHOP,))})
    spider = JsonLdSpider.from_crawler(crawler, shop=SHOP.name)
    crawler.spider = spider
    config = Config(shops=(SHOP,))

    def crawl(availability: str, button: str) -> RecordedCrawl:
        # a second colorway, read fine, so the crawl is ok and only the first size is unknown
        pages = [page(availability, button), page("InStock", enabled, "M2002RHO")]
        products = [
            item
            for response in pages
            for item in spider.parse_product(response)
            if isinstance(item, ProductItem)
        ]
        crawl_id = store.start_crawl(SHOP.name, SHOP.platform, SHOP.url, SHOP.currency)
        stats = {"pricewatch/pages_ok": 1}
        return record_crawl(store, crawl_id, SHOP, products, stats, "finished", config)

    def stock() -> str:
        row = store.db.execute(
            "SELECT stock FROM variants WHERE style_code = 'M2002RDA'"
        ).fetchone()
        return str(row[0])

    disabled = '<button class="add-to-cart" disabled>Add</button>'
    enabled = '<button class="add-to-cart">Add</button>'
    with Store(tmp_path / "button.db") as store:
        upsert_chat(store, 1)
        add_subscription(store, 1, style_code=None, kinds=list(EventKind))
        crawl("OutOfStock", disabled)
        assert stock() == "sold_out"
        for _ in range(3):
            unknown = crawl("InStock", disabled)
            assert unknown.status == CrawlStatus.OK and unknown.events == []
            assert unknown.alerts.queued == 0 and stock() == "sold_out"
        restock = crawl("InStock", enabled)
        assert [e.kind for e in restock.events] == [EventKind.RESTOCK]
        assert restock.alerts.queued == 1 and stock() == "in_stock"
