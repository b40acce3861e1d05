"""The Shopify spider's parse code, on real captured responses (tests/fixtures/realdata)."""

from __future__ import annotations

import copy
import json
import logging
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.http import HtmlResponse, Request, TextResponse
from scrapy.utils.test import get_crawler

from pricewatch.config import Config, ShopConfig
from scrapers.items import ListingItem, ProductItem
from scrapers.pipelines import validate
from scrapers.spiders.shopify import ShopifySpider, parse_products, product_id_of
from tests.support import FIXTURES, load_fixture, spider_output

SHOP = ShopConfig(name="Kith", platform="shopify", url="https://kith.com", currency="USD")
UK_SHOP = ShopConfig(
    name="Footpatrol",
    platform="shopify",
    url="https://www.footpatrol.com",
    currency="GBP",
    size_system="uk",
)


def make_spider(shop: ShopConfig = SHOP) -> ShopifySpider:
    crawler = get_crawler(ShopifySpider, {"PRICEWATCH_CONFIG": Config(shops=(shop,))})
    spider = ShopifySpider.from_crawler(crawler, shop=shop.name)
    crawler.spider = spider
    return spider


def response(
    body: bytes | str,
    page: int = 1,
    shop: ShopConfig = SHOP,
    content_type: str = "application/json; charset=utf-8",
) -> TextResponse:
    url = f"{shop.url}/products.json?limit=250&page={page}"
    data = body.encode() if isinstance(body, str) else body
    cls = HtmlResponse if "html" in content_type else TextResponse
    return cls(
        url=url,
        body=data,
        encoding="utf-8",
        headers={"Content-Type": content_type},
        request=Request(url),
    )


def run_parse(
    spider: ShopifySpider, resp: TextResponse, page: int = 1
) -> tuple[list[ListingItem], list[Request]]:
    """The page's variants (from its items, one per product) and its requests."""
    return spider_output(spider.parse(resp, page=page))


def as_2002r(product: dict[str, Any], code: str = "M2002RDA") -> dict[str, Any]:
    """A real captured product with only its identity rewritten to a 2002R (no real 2002R
    capture exists: tests/fixtures/realdata/SOURCES.md). Every other field stays as captured."""
    product = copy.deepcopy(product)
    product["title"] = "New Balance 2002R - Rain Cloud"
    product["handle"] = f"new-balance-2002r-{code.lower()}"
    product["vendor"] = "New Balance"
    return product


@pytest.mark.parametrize(
    "fixture",
    [
        "shopify-products-atmosusa-ryguy34-shopify-monitor.json",
        "shopify-products-kith-ryguy34-shopify-monitor.json",
        "shopify-products-undefeated-ryguy34-shopify-monitor.json",
        "shopify-products-footpatrol-uk-trimmed-Whyslab-price-intelligence.json",
    ],
)
def test_real_feeds_without_a_2002r_yield_no_listing_but_ask_for_the_next_page(
    fixture: str,
) -> None:
    spider = make_spider()
    items, requests = run_parse(spider, response((FIXTURES / "realdata" / fixture).read_bytes()))
    assert items == []
    assert [r.url for r in requests] == ["https://kith.com/products.json?limit=250&page=2"]
    assert spider.crawler.stats.get_value("pricewatch/pages_ok") == 1
    assert spider.crawler.stats.get_value("pricewatch/products_read") >= 1


def test_kith_capture_as_2002r_parses_string_prices_and_toddler_sizes() -> None:
    data = load_fixture("realdata/shopify-products-kith-ryguy34-shopify-monitor.json")
    data["products"] = [as_2002r(data["products"][0])]
    items, _ = run_parse(make_spider(), response(json.dumps(data)))
    assert len(items) == 27
    first = items[0]
    assert first.style_code == "M2002RDA" and first.family == "2002R"
    assert first.price == Decimal("85.00") and first.compare_at is None  # "0.00" = no sale
    assert first.size_label == "0C" and first.available is False
    assert first.sku == "11014004" and first.gtin is None
    assert (
        first.url == "https://kith.com/products/new-balance-2002r-m2002rda?variant=45116954345600"
    )
    assert sum(1 for i in items if i.available) == 7
    listing = validate(first)
    assert listing.size_us is None and listing.size_label == "0C"  # toddler: label kept


def test_one_item_per_product_holds_every_variant_of_it() -> None:
    data = load_fixture("realdata/shopify-products-kith-ryguy34-shopify-monitor.json")
    second = as_2002r(data["products"][0], "M2002RHO")
    second["id"] += 1
    data["products"] = [as_2002r(data["products"][0]), second]
    results = list(make_spider().parse(response(json.dumps(data))))
    products = [r for r in results if isinstance(r, ProductItem)]
    assert [(p.product_id, len(p.variants)) for p in products] == [
        (str(product["id"]), len(product["variants"])) for product in data["products"]
    ]
    assert {v.style_code for v in products[1].variants} == {"M2002RHO"}


def test_undefeated_capture_upc_skus_become_gtins() -> None:
    data = load_fixture("realdata/shopify-products-undefeated-ryguy34-shopify-monitor.json")
    data["products"] = [as_2002r(data["products"][0], "U2002RBL")]
    items, _ = run_parse(make_spider(), response(json.dumps(data)))
    upc = [i for i in items if i.sku == "889303475667"]
    assert upc and upc[0].gtin == "889303475667"
    assert {i.style_code for i in items} == {"U2002RBL"}


def test_footpatrol_uk_sizes_and_zero_price_is_dropped_not_stored() -> None:
    data = load_fixture(
        "realdata/shopify-products-footpatrol-uk-trimmed-Whyslab-price-intelligence.json"
    )
    data["products"] = [as_2002r(data["products"][0])]
    items, _ = run_parse(make_spider(UK_SHOP), response(json.dumps(data), shop=UK_SHOP))
    by_size = {i.size_label: i for i in items}
    assert validate(by_size["9" if "9" in by_size else "7"], "uk").size_us == (
        9.5 if "9" in by_size else 7.5
    )
    assert by_size["7.5"].compare_at is None  # compare-at equal to price: not a sale
    assert by_size["8.5"].compare_at == Decimal("220.00")
    with pytest.raises(Exception, match="not a price"):
        validate(by_size["8"], "uk")  # "0.00" is a broken price, never a free shoe


def test_body_html_style_code_is_found() -> None:
    data = load_fixture("realdata/shopify-products-atmosusa-ryguy34-shopify-monitor.json")
    product = data["products"][0]
    product["title"] = "New Balance 2002R"
    product["vendor"] = "New Balance"
    product["body_html"] = product["body_html"].replace("FQ8822-084", "M2002RHO")
    items, _ = run_parse(make_spider(), response(json.dumps(data)))
    assert items and {i.style_code for i in items} == {"M2002RHO"}


def test_empty_page_ends_the_crawl() -> None:
    spider = make_spider()
    items, requests = run_parse(spider, response('{"products": []}', page=3), page=3)
    assert items == [] and requests == []


def test_collection_feed_url() -> None:
    shop = ShopConfig(
        name="AMM",
        platform="shopify",
        url="https://a-ma-maniere.com",
        currency="USD",
        collection="new-balance",
    )
    assert make_spider(shop).feed_url(2) == (
        "https://a-ma-maniere.com/collections/new-balance/products.json?limit=250&page=2"
    )


def test_html_throttle_page_marks_blocked() -> None:
    spider = make_spider()
    page = (
        "<html><head><title>Access</title></head><body>This page is temporarily unavailable "
        "because a device from your location is sending large amounts of web requests."
        "</body></html>"
    )
    items, requests = run_parse(spider, response(page, content_type="text/html"))
    assert items == [] and requests == []
    assert "Shopify throttle page" in spider.crawler.stats.get_value("pricewatch/blocked")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"products": [{"id": 1, "title": "New', "invalid JSON"),
        ('{"items": []}', "no 'products' list"),
    ],
)
def test_truncated_or_changed_json_fails_the_page(body: str, reason: str) -> None:
    spider = make_spider()
    items, requests = run_parse(spider, response(body))
    assert items == [] and requests == []
    assert spider.crawler.stats.get_value("pricewatch/page_errors") == 1
    assert reason in spider.crawler.stats.get_value("pricewatch/error")


def test_product_listings_shape_with_string_tags() -> None:
    data = load_fixture("realdata/shopify-product-listings-kith-tfich-shopify-monitor.json")
    product = as_2002r(data["product_listings"][0], "M2002RXU")
    assert isinstance(product["tags"], str)
    items, _ = run_parse(make_spider(), response(json.dumps({"products": [product]})))
    assert items and items[0].style_code == "M2002RXU" and items[0].family == "2002R GORE-TEX"


# ---------------------------------------------------------------------------- bad products


def kith_2002r(product_id: int, code: str) -> dict[str, Any]:
    data = load_fixture("realdata/shopify-products-kith-ryguy34-shopify-monitor.json")
    product = as_2002r(data["products"][0], code)
    product["id"] = product_id
    return product


def split(results: list[Any]) -> tuple[list[ProductItem], list[ProductItem], list[Request]]:
    """A callback's output as (products read, products that failed, requests)."""
    good = [r for r in results if isinstance(r, ProductItem) and r.error is None]
    bad = [r for r in results if isinstance(r, ProductItem) and r.error is not None]
    requests = [r for r in results if isinstance(r, Request)]
    assert len(good) + len(bad) + len(requests) == len(results)
    assert all(p.variants for p in good) and all(not p.variants for p in bad)
    return good, bad, requests


def test_wrongly_typed_fields_are_absent_not_a_failure() -> None:
    odd = kith_2002r(2, "M2002RHO")
    odd.update({"body_html": 5, "tags": {"a": 1}, "options": "x", "images": [5], "vendor": ["NB"]})
    odd["variants"][0].update({"price": [], "option1": 10, "title": None, "sku": {"x": 1}})
    odd["variants"][1].update({"compare_at_price": {}, "id": {"id": 1}, "available": "yes"})
    odd["variants"][2] = "not a variant"
    spider = make_spider()
    good, bad, _ = split(list(spider.parse(response(json.dumps({"products": [odd]})))))
    assert bad == [] and spider.crawler.stats.get_value("pricewatch/products_failed") is None
    [product] = good
    assert product.product_id == "2" and len(product.variants) == 26  # the string is no size
    first, second = product.variants[:2]
    assert (first.size_label, first.price, first.sku) == ("10", None, None)  # dropped later
    assert second.price == Decimal("85.00") and second.compare_at is None
    assert second.variant_id == "2:1C" and second.available is None
    assert second.url == "https://kith.com/products/new-balance-2002r-m2002rho"
    assert {v.style_code for v in product.variants} == {"M2002RHO"}


@pytest.mark.parametrize("variants", [{"id": 1, "price": "85.00"}, "x", [5, None]])
def test_a_2002r_without_readable_variants_is_an_error_not_gone(variants: Any) -> None:
    products = [kith_2002r(1, "M2002RDA"), kith_2002r(2, "M2002RHO"), kith_2002r(3, "M2002RXU")]
    products[1].update({"variants": variants, "body_html": 5, "tags": {"a": 1}, "options": "x"})
    spider = make_spider()
    good, bad, requests = split(list(spider.parse(response(json.dumps({"products": products})))))
    assert [(p.product_id, len(p.variants)) for p in good] == [("1", 27), ("3", 27)]
    [error] = bad
    assert (error.shop, error.product_id) == ("Kith", "2")
    assert error.error and error.error.startswith("malformed product: 'variants'")
    assert spider.crawler.stats.get_value("pricewatch/products_failed") == 1
    assert [r.url for r in requests] == ["https://kith.com/products.json?limit=250&page=2"]


def test_an_exception_in_one_product_is_its_error_item_and_the_others_are_read(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from scrapers.spiders import shopify

    real_prices = shopify._prices

    def prices(variant: dict[str, Any]) -> Any:
        if variant.get("price") == "13.13":
            raise ZeroDivisionError("a bug the feed found")
        return real_prices(variant)

    monkeypatch.setattr(shopify, "_prices", prices)
    products = [kith_2002r(1, "M2002RDA"), kith_2002r(2, "M2002RHO"), kith_2002r(3, "M2002RXU")]
    products[1]["variants"][5]["price"] = "13.13"
    del products[1]["id"]  # the product_listings shape: the id is product_id
    products[1]["product_id"] = 22
    products.insert(0, {"id": 9, "title": "Some Hoodie", "variants": {"x": 1}})  # not a 2002R
    spider = make_spider()
    with caplog.at_level(logging.DEBUG):
        results = list(spider.parse(response(json.dumps({"products": products}))))
    good, bad, _ = split(results)
    assert [p.product_id for p in good] == ["1", "3"]
    assert [(p.product_id, p.error) for p in bad] == [
        ("22", "ZeroDivisionError: a bug the feed found")
    ]
    assert spider.crawler.stats.get_value("pricewatch/products_failed") == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "product unreadable: Kith 22: ZeroDivisionError: a bug the feed found"
    ]
    assert warnings[0].exc_info is None
    [debug] = [r for r in caplog.records if r.levelno == logging.DEBUG and r.exc_info]
    assert "22" in debug.getMessage()


@pytest.mark.parametrize(
    ("product", "expected"),
    [
        ({"id": 7, "product_id": 8, "handle": "h"}, "7"),
        ({"id": {"a": 1}, "product_id": "8", "handle": "h"}, "8"),
        ({"id": None, "handle": "new-balance-2002r"}, "new-balance-2002r"),
        ({"id": True, "handle": 5}, "5"),
        ({"id": [1]}, ""),
    ],
)
def test_the_id_of_an_unreadable_product_is_the_one_its_variants_have(
    product: dict[str, Any], expected: str
) -> None:
    assert product_id_of(product) == expected


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
# Fields that steer a product down the 2002R path, sometimes as a shop would send them.
PRODUCT_FIELDS = {
    "id": st.integers() | JSON_VALUES,
    "title": st.sampled_from(["New Balance 2002R", "2002R Rain Cloud"]) | JSON_VALUES,
    "handle": st.sampled_from(["m2002rda", "new-balance-2002r"]) | JSON_VALUES,
    "vendor": st.just("New Balance") | JSON_VALUES,
    "tags": st.lists(st.sampled_from(["M2002RHO", "2002R"])) | JSON_VALUES,
    "body_html": st.just("<p>M2002RXU</p>") | JSON_VALUES,
    "options": st.just([{"name": "Size", "position": 1}]) | JSON_VALUES,
    "images": st.just([{"src": "//cdn/x.jpg"}]) | JSON_VALUES,
    "variants": st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                key: JSON_VALUES | st.sampled_from(["10", "145.00", "0.00", "M2002RDA-10"])
                for key in (
                    "id",
                    "title",
                    "option1",
                    "option2",
                    "sku",
                    "barcode",
                    "price",
                    "compare_at_price",
                    "available",
                    "featured_image",
                )
            },
        )
        | JSON_VALUES,
        max_size=3,
    )
    | JSON_VALUES,
}


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries({}, optional=PRODUCT_FIELDS) | JSON_VALUES,
        max_size=3,
    )
)
def test_any_json_in_a_product_never_raises_out_of_parse_products(products: list[Any]) -> None:
    raised: list[Exception | None] = []
    items = list(parse_products(products, SHOP, on_error=lambda _item, exc: raised.append(exc)))
    assert all(isinstance(item, ProductItem) and item.shop == "Kith" for item in items)
    for item in items:
        assert all(isinstance(v, ListingItem) for v in item.variants)
        assert (item.error is None) == bool(item.variants)
    # Wrong types are absent, not failures: nothing needed the catch-all to stay up.
    assert raised == [None] * len(raised)
