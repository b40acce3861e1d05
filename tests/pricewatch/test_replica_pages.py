"""The product-page replicas: a Commerce-Cloud-like NB store (JSON-LD, sitemaps) and an
HTML-only shop. Real shapes, state a test changes, walls on demand. All on 127.0.0.1."""

from __future__ import annotations

import urllib.error
import urllib.request
import urllib.robotparser
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from decimal import Decimal

import pytest

from pricewatch.config import HtmlSelectors
from pricewatch.replica import HtmlShop, JsonLdShop, load_catalog
from pricewatch.replica.base import PAGE_MODES
from pricewatch.replica.html_shop import LISTING_PATH, shop_colorway
from pricewatch.replica.jsonld_shop import nb_colorway
from scrapers.parsing.html import extract_html
from scrapers.parsing.jsonld import extract_jsonld
from tests.support import HTML_SHOP_SELECTORS, jsonld_shop_config

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def get(url: str) -> tuple[int, str, str]:
    """(status, content type, body) of a GET, errors included."""
    try:
        with urllib.request.urlopen(url) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


@pytest.fixture
def nb() -> Iterator[JsonLdShop]:
    with JsonLdShop() as shop:
        yield shop
        assert shop.errors == []


@pytest.fixture
def store() -> Iterator[HtmlShop]:
    with HtmlShop() as shop:
        yield shop
        assert shop.errors == []


def locs(xml_text: str, tag: str) -> list[str]:
    root = ET.fromstring(xml_text)
    return [e.findtext(f"{SITEMAP_NS}loc") or "" for e in root.iter(f"{SITEMAP_NS}{tag}")]


def test_style_codes_are_those_of_the_shopify_replica(nb: JsonLdShop, store: HtmlShop) -> None:
    shopify = {p.get("_style_code") for p in load_catalog()}
    styles = {c.style for c in nb.colorways()} | {c.style for c in store.colorways()}
    assert styles <= shopify


def test_robots_and_sitemap_index_lead_to_every_product_page(nb: JsonLdShop) -> None:
    parser = urllib.robotparser.RobotFileParser(nb.url + "/robots.txt")
    parser.read()
    assert parser.site_maps() == [nb.url + "/sitemap_index.xml"]
    status, kind, index = get(nb.url + "/sitemap_index.xml")
    assert (status, kind) == (200, "application/xml; charset=utf-8")
    assert locs(index, "sitemap") == [nb.url + "/sitemap_0.xml", nb.url + "/sitemap_1.xml"]
    products = locs(get(nb.url + "/sitemap_0.xml")[2], "url")
    assert products == [nb.url + c.path for c in nb.colorways()]
    assert all("/pd/" in url and url.endswith(".html") for url in products)
    assert not any("/pd/" in url for url in locs(get(nb.url + "/sitemap_1.xml")[2], "url"))


KINDS = [("M2002RDA", "offers"), ("M2002RDB", "group"), ("M2002RHO", "sfcc"), ("M2002RXU", "sizes")]


@pytest.mark.parametrize(("style", "kind"), KINDS)
def test_each_page_kind_states_price_and_stock(nb: JsonLdShop, style: str, kind: str) -> None:
    colorway = nb.colorway(style)
    assert colorway.kind == kind
    url = nb.page_url(style)
    sku_sizes = jsonld_shop_config("NB", nb).size_from_sku  # as a crawl of it reads them
    offers = extract_jsonld(get(url)[2], url, size_from_sku=sku_sizes).offers
    assert {o.style_code for o in offers} == {style}
    if kind == "sfcc":  # one offer for every size, at the sale price, with the list price
        assert [(o.size_label, o.price, o.compare_at) for o in offers] == [
            ("", Decimal(colorway.price), Decimal(colorway.list_price or 0))
        ]
    else:
        assert {o.size_label: o.available for o in offers} == colorway.sizes


def test_price_and_stock_changes_show_on_the_page_and_in_lastmod(nb: JsonLdShop) -> None:
    before = nb.colorway("M2002RDA").lastmod
    nb.set_price("M2002RDA", "129.99", size="10")
    nb.set_available("M2002RDA", False, size="10.5")
    offers = {
        o.size_label: o for o in extract_jsonld(get(nb.page_url("M2002RDA"))[2], nb.url).offers
    }
    assert (offers["10"].price, offers["9"].price) == (Decimal("129.99"), Decimal("149.99"))
    assert offers["10.5"].available is False
    assert nb.colorway("M2002RDA").lastmod >= before
    nb.set_price("M2002RDA", "139")  # every size, per-size prices cleared
    offers = {
        o.size_label: o for o in extract_jsonld(get(nb.page_url("M2002RDA"))[2], nb.url).offers
    }
    assert {o.price for o in offers.values()} == {Decimal("139.00")}
    with pytest.raises(KeyError, match="no size"):
        nb.set_available("M2002RDA", True, size="99")


def test_new_colorway_joins_the_sitemap_and_a_removed_one_leaves(nb: JsonLdShop) -> None:
    nb.add_colorway(nb_colorway("M2002RDC", "2002R Protection Pack - Sea Salt", "149.99", "group"))
    assert nb.page_url("M2002RDC") in locs(get(nb.url + "/sitemap_0.xml")[2], "url")
    url = nb.page_url("M2002RDA")
    nb.remove_colorway("M2002RDA")
    assert url not in locs(get(nb.url + "/sitemap_0.xml")[2], "url")
    assert get(url)[0] == 404
    with pytest.raises(ValueError, match="duplicate"):
        nb.add_colorway(nb_colorway("M2002RDC", "again", "1", "offers"))


@pytest.mark.parametrize("mode", ["block-akamai", "block-perimeterx", "block-datadome"])
def test_walls_answer_200_to_their_scope_only(nb: JsonLdShop, mode: str) -> None:
    nb.misbehave(mode, scope="products")
    status, _, body = get(nb.page_url("M2002RDA"))
    assert status == 200 and "ld+json" not in body
    marker = {
        "block-akamai": "Oops! Something went wrong",
        "block-perimeterx": "px-captcha",
        "block-datadome": "captcha-delivery.com",
    }[mode]
    assert marker in body
    assert "<sitemapindex" in get(nb.url + "/sitemap_index.xml")[2]  # other scope: untouched
    assert "Sitemap:" in get(nb.url + "/robots.txt")[2]  # robots.txt: never touched


def test_misbehaviour_times_scope_and_the_page_without_data(nb: JsonLdShop) -> None:
    nb.misbehave("no-data", scope="all", times=2)
    first = get(nb.page_url("M2002RDA"))
    assert first[0] == 200 and "2002R Protection Pack" in first[2] and "ld+json" not in first[2]
    assert get(nb.url + "/sitemap_0.xml")[0] == 200  # "no-data" is for product pages
    assert "ld+json" in get(nb.page_url("M2002RDA"))[2]  # the third request: normal again
    nb.misbehave("500", scope="sitemaps")
    assert get(nb.url + "/sitemap_0.xml")[0] == 500
    nb.misbehave(None)
    assert get(nb.url + "/sitemap_0.xml")[0] == 200
    with pytest.raises(ValueError, match="unknown misbehaviour"):
        nb.misbehave("teapot")
    with pytest.raises(ValueError, match="unknown scope"):
        nb.misbehave("500", scope="everything")
    assert set(PAGE_MODES) >= {"block-akamai", "no-data", "404"}


def test_html_shop_listing_pages_link_products_and_the_next_page(store: HtmlShop) -> None:
    first = get(store.url + LISTING_PATH)[2]
    second = get(store.url + LISTING_PATH + "?page=2")[2]
    assert 'rel="next"' in first and 'rel="next"' not in second
    paths = [c.path for c in store.colorways()]
    assert sum(path in first for path in paths) == 3
    assert sum(path in second for path in paths) == len(paths) - 3


@pytest.mark.parametrize("style", ["M2002RDA", "M2002RDF", "ML2002RA"])
def test_html_shop_pages_have_no_jsonld_and_read_by_selectors(store: HtmlShop, style: str) -> None:
    colorway = store.colorway(style)
    body = get(store.url + colorway.path)[2]
    assert "ld+json" not in body
    offers = extract_html(body, store.url + colorway.path, HTML_SHOP_SELECTORS).offers
    assert {(o.size_label, o.available) for o in offers} == set(colorway.sizes.items())
    assert {(o.price, o.currency, o.style_code) for o in offers} == {
        (Decimal(colorway.price), "EUR", style)
    }
    assert ("product:price:amount" in body) == (colorway.kind == "og")
    assert ('itemprop="price"' in body) == (colorway.kind == "microdata")


def test_html_shop_state_and_walls(store: HtmlShop) -> None:
    store.add_colorway(shop_colorway("M2002RHO", "New Balance 2002R Phantom", "149.95", "text"))
    store.set_available("M2002RHO", False)
    url = store.url + store.colorway("M2002RHO").path
    selectors = HtmlSelectors(price=".product-price .price", sizes=".size-picker .size-button")
    offers = extract_html(get(url)[2], url, selectors).offers  # the default sold-out markers
    assert offers and not any(o.available for o in offers)
    store.misbehave("block-datadome", scope="listings")
    assert "captcha-delivery" in get(store.url + LISTING_PATH)[2]
    assert "captcha-delivery" not in get(url)[2]
