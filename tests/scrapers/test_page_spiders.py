"""The product-page spiders (jsonld, html) on Scrapy responses: discovery from sitemaps and
listing pages, block pages, items per size, and the pipeline's "all sizes" listing."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from scrapy.exceptions import CloseSpider
from scrapy.http import HtmlResponse, Request, Response, TextResponse, XmlResponse
from scrapy.settings import Settings
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from pricewatch.config import Config, ShopConfig
from pricewatch.models import Stock
from pricewatch.replica import HtmlShop, JsonLdShop
from pricewatch.replica.base import WALLS
from scrapers.items import ProductItem
from scrapers.loader import PlatformSpiderLoader
from scrapers.parsing.jsonld import Offer
from scrapers.pipelines import ALL_SIZES, validate
from scrapers.spiders.html import HtmlSpider
from scrapers.spiders.jsonld import JsonLdSpider
from scrapers.spiders.pages import ProductPageSpider, listing_items
from tests.support import html_shop_config, jsonld_shop_config, spider_output

SHOP_URL = "https://nb.example"
NB = ShopConfig(
    name="NB",
    platform="jsonld",
    url=SHOP_URL,
    currency="USD",
    sitemap="/sitemap_index.xml",
    sitemap_follow=("sitemap_0",),
    url_patterns=("/pd/2002r",),
    max_products=3,
    size_from_sku=r"-D-(?P<size>\d+(?:\.\d)?)$",  # these pages' SKUs: "M2002RDA-D-9"
)


def make_spider(shop: ShopConfig = NB) -> ProductPageSpider:
    cls = PlatformSpiderLoader(Settings({"SPIDER_MODULES": ["scrapers.spiders"]})).load(
        shop.platform
    )
    crawler = get_crawler(cls, {"PRICEWATCH_CONFIG": Config(shops=(shop,))})
    spider = cls.from_crawler(crawler, shop=shop.name)
    crawler.spider = spider
    assert isinstance(spider, ProductPageSpider)
    return spider


def stats(spider: ProductPageSpider) -> dict[str, Any]:
    return spider.crawler.stats.get_stats()


def fetch(url: str) -> HtmlResponse:
    with urllib.request.urlopen(url) as answer:
        return HtmlResponse(url=url, body=answer.read(), request=Request(url))


def html(url: str, body: str) -> HtmlResponse:
    return HtmlResponse(url=url, body=body.encode(), encoding="utf-8", request=Request(url))


def xml(url: str, body: str) -> XmlResponse:
    return XmlResponse(url=url, body=body.encode(), request=Request(url))


run = spider_output


@pytest.fixture(scope="module")
def nb_shop() -> Iterator[JsonLdShop]:
    with JsonLdShop() as shop:
        yield shop


def test_platforms_are_found_by_name_each_in_its_own_module() -> None:
    loader = PlatformSpiderLoader(Settings({"SPIDER_MODULES": ["scrapers.spiders"]}))
    assert loader.load("jsonld") is JsonLdSpider and loader.load("html") is HtmlSpider
    assert sorted(loader.list()) == ["html", "jsonld", "sfcc", "shopify"]
    with pytest.raises(KeyError, match="Spider not found: magento"):
        loader.load("magento")


# ---------------------------------------------------------------------------- product pages


@pytest.mark.parametrize("style", ["M2002RDA", "M2002RDB", "M2002RXU"])
def test_per_size_pages_give_one_item_per_size(nb_shop: JsonLdShop, style: str) -> None:
    spider = make_spider(jsonld_shop_config("NB", nb_shop))
    colorway = nb_shop.colorway(style)
    items, _ = run(spider.parse_product(fetch(nb_shop.page_url(style))))
    assert [i.size_label for i in items] == list(colorway.sizes)
    assert [i.available for i in items] == list(colorway.sizes.values())
    assert {(i.product_id, i.style_code, i.currency, i.price) for i in items} == {
        (style, style, "USD", Decimal(colorway.price))
    }
    assert len({i.variant_id for i in items}) == len(items)  # the SKUs tell sizes apart
    assert stats(spider)["pricewatch/pages_ok"] == 1


def test_one_offer_for_all_sizes_is_one_item_without_a_size(nb_shop: JsonLdShop) -> None:
    spider = make_spider(jsonld_shop_config("NB", nb_shop))
    [item] = run(spider.parse_product(fetch(nb_shop.page_url("M2002RHO"))))[0]
    assert (item.variant_id, item.size_label, item.available) == ("M2002RHO:all", "", True)
    assert (item.price, item.compare_at) == (Decimal("139.99"), Decimal("149.99"))  # a sale
    listing = validate(item)
    assert (listing.size_label, listing.size_us, listing.stock) == (
        ALL_SIZES,
        None,
        Stock.IN_STOCK,
    )


def test_other_models_are_read_and_kept_out(nb_shop: JsonLdShop) -> None:
    spider = make_spider(jsonld_shop_config("NB", nb_shop))
    assert run(spider.parse_product(fetch(nb_shop.page_url("M990GL6")))) == ([], [])
    assert stats(spider)["pricewatch/products_read"] == 1
    assert stats(spider)["pricewatch/broken_jsonld"] == 1  # the replica's cut-off block


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (WALLS["block-akamai"], "Akamai block page"),
        (WALLS["block-perimeterx"], "PerimeterX captcha"),
        (WALLS["block-datadome"], "DataDome captcha"),
        (
            "<html><head><title>New look!</title></head><body><h1>2002R</h1></body></html>",
            "HTML page instead of product data: 'New look!'",
        ),
    ],
)
def test_a_product_page_without_product_data_blocks_the_crawl(body: str, reason: str) -> None:
    spider = make_spider()
    url = f"{SHOP_URL}/pd/2002r/M2002RDA-D-07.html"
    spider.queue_product(f"{SHOP_URL}/pd/2002r/M2002RDB-D-09.html")
    with pytest.raises(CloseSpider):
        run(spider.parse_product(html(url, body)))
    assert str(stats(spider)["pricewatch/blocked"]).startswith(reason)
    assert list(spider.next_products()) == []  # not one page more from this shop


def test_html_spider_reads_sizes_from_buttons() -> None:
    with HtmlShop() as shop:
        spider = make_spider(html_shop_config("Store", shop))
        colorway = shop.colorway("M2002RDA")
        items, _ = run(spider.parse_product(fetch(shop.url + colorway.path)))
    assert [(i.size_label, i.available) for i in items] == list(colorway.sizes.items())
    assert {(i.price, i.currency, i.style_code) for i in items} == {
        (Decimal("149.95"), "EUR", "M2002RDA")
    }
    # no SKUs on the page: the variant is the colorway in that size
    assert items[0].variant_id == "M2002RDA:EU 40"
    assert validate(items[-1], "eu").size_us == 11.0  # EU 45


# ---------------------------------------------------------------------------- discovery

INDEX = """<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://nb.example/sitemap_0.xml</loc></sitemap>
<sitemap><loc>https://nb.example/sitemap_1.xml</loc></sitemap>
</sitemapindex>"""


def urlset(*paths: str) -> str:
    rows = "".join(
        f"<url><loc>{SHOP_URL}{p}</loc><lastmod>2026-11-01</lastmod></url>" for p in paths
    )
    return f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</urlset>'


def test_sitemap_index_follows_only_the_configured_sitemaps() -> None:
    spider = make_spider()
    _, requests = run(spider._parse_sitemap(xml(f"{SHOP_URL}/sitemap_index.xml", INDEX)))
    assert [r.url for r in requests] == [f"{SHOP_URL}/sitemap_0.xml"]
    assert requests[0].errback == spider.request_failed  # SitemapSpider sets none


def test_sitemap_urls_matching_the_patterns_are_product_pages_one_at_a_time() -> None:
    spider = make_spider()
    body = urlset(
        "/pd/2002r/M2002RDA-D-07.html",
        "/pd/990v6/M990GL6-D-03.html",  # not a 2002R URL pattern
        "/pd/2002r/M2002RDB-D-09.html",
        "/pd/2002r/M2002RDB-D-09.html#reviews",  # the same page
        "/c/2002r",
    )
    _, requests = run(spider._parse_sitemap(xml(f"{SHOP_URL}/sitemap_0.xml", body)))
    assert [r.url for r in requests] == [f"{SHOP_URL}/pd/2002r/M2002RDA-D-07.html"]
    assert requests[0].callback == spider.parse_product
    assert list(spider._queue) == [f"{SHOP_URL}/pd/2002r/M2002RDB-D-09.html"]
    # the first page's answer brings the next request
    product = (
        '<script type="application/ld+json">{"@type": "Product", "name": "2002R", "sku": '
        '"M2002RDA", "offers": {"price": "149.99", "availability": "InStock"}}</script>'
    )
    items, after = run(spider.parse_product(html(requests[0].url, product)))
    assert [i.variant_id for i in items] == ["M2002RDA:all"]
    assert [r.url for r in after] == [f"{SHOP_URL}/pd/2002r/M2002RDB-D-09.html"]


def test_max_products_stops_the_queue_and_marks_the_crawl_incomplete() -> None:
    spider = make_spider()
    paths = [f"/pd/2002r/M2002RD{c}-D-07.html" for c in "ABCDF"]
    run(spider._parse_sitemap(xml(f"{SHOP_URL}/sitemap_0.xml", urlset(*paths))))
    assert len(spider._product_urls) == 3
    assert "max_products" in stats(spider)["pricewatch/incomplete"]


def test_a_wall_instead_of_the_sitemap_is_a_block() -> None:
    spider = make_spider()
    with pytest.raises(CloseSpider):
        spider._parse_sitemap(html(f"{SHOP_URL}/sitemap_index.xml", WALLS["block-akamai"]))
    assert str(stats(spider)["pricewatch/blocked"]).startswith("Akamai block page")


def test_a_broken_sitemap_fails_the_page() -> None:
    spider = make_spider()
    body = b"\x00\x01 not xml"
    url = f"{SHOP_URL}/sitemap_0.xml"
    response = TextResponse(url=url, body=body, encoding="utf-8", request=Request(url))
    assert list(spider._parse_sitemap(response)) == []
    assert "not a sitemap" in stats(spider)["pricewatch/error"]


def test_robots_txt_as_the_sitemap_names_the_sitemaps() -> None:
    spider = make_spider()
    url = f"{SHOP_URL}/robots.txt"
    body = f"User-agent: *\nDisallow: /cart\nSitemap: {SHOP_URL}/sitemap_0.xml\n"
    response = TextResponse(url=url, body=body.encode(), encoding="utf-8", request=Request(url))
    _, requests = run(spider._parse_sitemap(response))
    assert [r.url for r in requests] == [f"{SHOP_URL}/sitemap_0.xml"]


def test_listing_pages_give_product_links_and_the_next_page() -> None:
    shop = ShopConfig(
        name="Store",
        platform="jsonld",
        url=SHOP_URL,
        currency="USD",
        listing_urls=("/c/2002r",),
        url_patterns=(r"/p/\w+",),
    )
    spider = make_spider(shop)
    body = (
        '<a href="/p/m2002rda">a</a> <a href="/about">about</a> '
        '<a href="https://elsewhere.example/p/other">x</a> <a href="/p/m2002rdb">b</a>'
        '<a rel="next" href="/c/2002r?page=2">next</a>'
    )
    _, requests = run(spider.parse_listing(html(f"{SHOP_URL}/c/2002r", body), page=1))
    assert [r.url for r in requests] == [f"{SHOP_URL}/p/m2002rda", f"{SHOP_URL}/c/2002r?page=2"]
    assert list(spider._queue) == [f"{SHOP_URL}/p/m2002rdb"]
    assert requests[1].cb_kwargs == {"page": 2}


def test_a_listing_page_that_is_a_wall_blocks() -> None:
    shop = ShopConfig(
        name="Store",
        platform="jsonld",
        url=SHOP_URL,
        currency="USD",
        listing_urls=("/c/2002r",),
        url_patterns=(r"/p/\w+",),
    )
    spider = make_spider(shop)
    with pytest.raises(CloseSpider):
        run(spider.parse_listing(html(f"{SHOP_URL}/c/2002r", WALLS["block-datadome"])))


def test_a_product_page_that_is_gone_is_not_a_failure() -> None:
    spider = make_spider()
    spider.queue_product(f"{SHOP_URL}/pd/2002r/M2002RDA-D-07.html")
    spider.queue_product(f"{SHOP_URL}/pd/2002r/M2002RDB-D-09.html")
    [first] = spider.next_products()
    gone = Response(url=first.url, status=404, request=first)
    failure = Failure(HttpError(gone, "Ignoring non-200 response"))
    failure.request = first  # type: ignore[attr-defined]
    [after] = spider.product_failed(failure)
    assert after.url.endswith("M2002RDB-D-09.html")
    assert stats(spider)["pricewatch/products_gone"] == 1
    assert "pricewatch/page_errors" not in stats(spider)


# ---------------------------------------------------------------------------- items


def offer(**changes: Any) -> Offer:
    values: dict[str, Any] = dict(
        name="2002R Protection Pack - Rain Cloud",
        size_label="10",
        price=Decimal("149.99"),
        currency=None,
        available=True,
        url=None,
        sku="M2002RDA-D-10",
        style_code="M2002RDA",
        family="2002R",
    )
    values.update(changes)
    return Offer(**values)


def test_listing_items_ids_currency_and_names() -> None:
    offers = [offer(), offer(size_label="10.5", sku="M2002RDA-D-10.5"), offer(style_code=None)]
    items = list(listing_items(offers, NB, "https://nb.example/pd/x.html"))
    assert [(i.variant_id, i.currency, i.url) for i in items] == [
        ("M2002RDA-D-10", "USD", "https://nb.example/pd/x.html"),
        ("M2002RDA-D-10.5", "USD", "https://nb.example/pd/x.html"),
    ]
    assert items[0].colorway_name == "Protection Pack Rain Cloud"


def test_listing_items_prefer_sizes_and_fall_back_to_size_ids() -> None:
    offers = [
        offer(size_label="", sku=None),
        offer(sku="SAME"),
        offer(size_label="11", sku="SAME"),
    ]
    items = list(listing_items(offers, NB, SHOP_URL))
    assert [i.variant_id for i in items] == ["M2002RDA:10", "M2002RDA:11"]


def test_all_sizes_keeps_unreadable_sizes_dropped() -> None:
    item = next(listing_items([offer(size_label="")], NB, SHOP_URL))
    assert validate(item).size_label == ALL_SIZES
    with pytest.raises(Exception, match="unreadable size"):
        validate(next(listing_items([offer(size_label="0006000")], NB, SHOP_URL)))


# ---------------------------------------------------------------------------- bad products


def ld_page(url: str, *blocks: Any) -> HtmlResponse:
    scripts = "".join(
        f'<script type="application/ld+json">{json.dumps(b)}</script>' for b in blocks
    )
    return html(url, f"<html><head>{scripts}</head><body></body></html>")


def colorway(code: str, offers: Any = None, name: str = "2002R") -> dict[str, Any]:
    if offers is None:
        offers = [
            {"@type": "Offer", "sku": f"{code}-D-{s}", "price": "149.99", "availability": "InStock"}
            for s in ("9", "10")
        ]
    return {"@type": "Product", "name": name, "sku": code, "offers": offers}


def split(results: Any) -> tuple[list[ProductItem], list[ProductItem], list[Request]]:
    """A callback's output as (products read, products that failed, requests)."""
    results = list(results)
    good = [r for r in results if isinstance(r, ProductItem) and r.error is None]
    bad = [r for r in results if isinstance(r, ProductItem) and r.error is not None]
    requests = [r for r in results if isinstance(r, Request)]
    assert len(good) + len(bad) + len(requests) == len(results)
    assert all(p.variants for p in good) and all(not p.variants for p in bad)
    return good, bad, requests


def queued_spider() -> tuple[ProductPageSpider, str]:
    """A spider whose first product page is in flight and a second one queued."""
    spider = make_spider()
    spider.queue_product(f"{SHOP_URL}/pd/2002r/M2002RDA-D-07.html")
    spider.queue_product(f"{SHOP_URL}/pd/2002r/M2002RDB-D-09.html")
    [first] = spider.next_products()
    return spider, first.url


def test_one_unreadable_colorway_of_a_page_is_its_error_and_the_others_are_read(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from scrapers.parsing import jsonld

    real_price_value = jsonld.price_value

    def price_value(value: Any) -> Any:
        if value == "13.13":
            raise ZeroDivisionError("a bug the page found")
        return real_price_value(value)

    monkeypatch.setattr(jsonld, "price_value", price_value)
    spider, url = queued_spider()
    boom = colorway("M2002RXU", {"@type": "Offer", "sku": "M2002RXU-D-9", "price": "13.13"})
    graph = {
        "@graph": [
            colorway("M2002RDA"),
            colorway("M2002RDB", "149.99"),  # a string where an Offer belongs
            colorway("M2002RHO", [[5, "x"], None]),
            boom,
            colorway("M2002RDF", [[colorway("M2002RDF")["offers"][0]]]),  # list in a list
            colorway("M990GL6", "10", name="990v6"),  # not ours: no error for it
        ]
    }
    with caplog.at_level(logging.DEBUG):
        good, bad, requests = split(spider.parse_product(ld_page(url, graph)))
    assert [(p.product_id, [v.size_label for v in p.variants]) for p in good] == [
        ("M2002RDA", ["9", "10"]),
        ("M2002RDF", ["9"]),  # its one offer's SKU, read with the shop's size_from_sku
    ]
    assert [(p.shop, p.product_id, p.error) for p in bad] == [
        ("NB", "M2002RDB", "malformed product: 'offers' is str without a readable offer"),
        ("NB", "M2002RHO", "malformed product: 'offers' is list without a readable offer"),
        ("NB", "M2002RXU", "ZeroDivisionError: a bug the page found"),
    ]
    assert [r.url for r in requests] == [f"{SHOP_URL}/pd/2002r/M2002RDB-D-09.html"]
    assert stats(spider)["pricewatch/products_failed"] == 3
    assert stats(spider)["pricewatch/pages_ok"] == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings[2] == "product unreadable: NB M2002RXU: ZeroDivisionError: a bug the page found"
    assert not any(r.exc_info for r in caplog.records if r.levelno > logging.DEBUG)
    assert [r.getMessage() for r in caplog.records if r.exc_info] == [
        "product M2002RXU of NB unreadable"
    ]


def test_a_colorway_with_one_unreadable_size_is_unknown_not_partly_gone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scrapers.parsing import jsonld

    real_price_value = jsonld.price_value

    def price_value(value: Any) -> Any:
        if value == "13.13":
            raise ZeroDivisionError("boom")
        return real_price_value(value)

    monkeypatch.setattr(jsonld, "price_value", price_value)
    variants = [
        {"@type": "Product", "sku": f"M2002RDB-D-{size}", "offers": {"price": price}}
        for size, price in (("9", "150.00"), ("9.5", "13.13"), ("10", "150.00"))
    ]
    group = {
        "@type": "ProductGroup",
        "name": "2002R - Phantom",
        "productGroupID": "M2002RDB",
        "variesBy": "https://schema.org/size",
        "hasVariant": variants,
    }
    spider, url = queued_spider()
    good, bad, _ = split(spider.parse_product(ld_page(url, group)))
    assert good == [] and [(p.product_id, p.error) for p in bad] == [
        ("M2002RDB", "ZeroDivisionError: boom")
    ]


@pytest.mark.parametrize(
    ("path", "product_id"),
    [("/pd/2002r/M2002RDA-D-07.html", "M2002RDA"), ("/pd/2002r/rain-cloud.html", "")],
)
def test_a_page_the_parser_cannot_read_is_that_products_error_and_the_queue_goes_on(
    monkeypatch: pytest.MonkeyPatch, path: str, product_id: str
) -> None:
    spider = make_spider()
    spider.queue_product(f"{SHOP_URL}{path}")
    spider.queue_product(f"{SHOP_URL}/pd/2002r/M2002RDB-D-09.html")
    [first] = spider.next_products()

    def extract(response: Response) -> Any:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(spider, "extract", extract)
    good, bad, requests = split(spider.parse_product(ld_page(first.url, colorway("M2002RDA"))))
    assert good == []
    assert [(p.product_id, p.error) for p in bad] == [
        (product_id, "RecursionError: maximum recursion depth exceeded")
    ]
    assert [r.url for r in requests] == [f"{SHOP_URL}/pd/2002r/M2002RDB-D-09.html"]
    assert stats(spider)["pricewatch/products_failed"] == 1
    assert "pricewatch/blocked" not in stats(spider)


def test_a_wall_still_blocks_and_is_no_product_error() -> None:
    spider, url = queued_spider()
    with pytest.raises(CloseSpider):
        list(spider.parse_product(html(url, WALLS["block-akamai"])))
    assert "pricewatch/products_failed" not in stats(spider)


def test_html_page_whose_microdata_cannot_be_read_is_an_error_not_a_wall() -> None:
    body = (
        '<div itemscope itemtype="https://schema.org/Product">'
        '<meta itemprop="name" content="New Balance 2002R"><meta itemprop="sku" content="M2002RDA">'
        '<span itemprop="offers">sold out</span></div>'
    )
    with HtmlShop() as shop:
        spider = make_spider(html_shop_config("Store", shop))
    url = f"{shop.url}/p/new-balance-2002r-rain-cloud-m2002rda"
    good, bad, _ = split(spider.parse_product(html(url, body)))
    assert good == [] and [(p.product_id, p.error) for p in bad] == [
        ("M2002RDA", "malformed product: 'offers' is str without a readable offer")
    ]
    assert "pricewatch/blocked" not in stats(spider)
