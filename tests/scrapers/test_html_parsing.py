"""Product pages without JSON-LD: microdata, then OpenGraph, then the configured selectors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pricewatch.config import HtmlSelectors
from scrapers.parsing.html import extract_html, opengraph
from scrapers.parsing.jsonld import parse_document
from tests.support import HTML_SHOP_SELECTORS

URL = "https://store.example/p/new-balance-2002r-rain-cloud-m2002rda"


def page(head: str = "", body: str = "") -> str:
    return f"<html><head><title>Shop</title>{head}</head><body>{body}</body></html>"


SIZES = (
    '<ul class="size-picker">'
    '<li><button class="size-button" data-size="EU 42">EU 42</button></li>'
    '<li><button class="size-button size-button--sold-out" disabled>EU 43</button></li>'
    '<li><button class="size-button">EU 44</button></li></ul>'
)
TITLE = '<h1 class="product-name">New Balance 2002R "Rain Cloud"</h1>'
VISIBLE_PRICE = '<div class="product-price"><span class="price">1.149,95 €</span></div>'
OG_PRICE = (
    '<meta property="product:price:amount" content="139.95">'
    '<meta property="product:price:currency" content="EUR">'
)
MICRODATA = (
    '<div itemscope itemtype="https://schema.org/Product"><meta itemprop="name" content="2002R">'
    '<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">'
    '<meta itemprop="price" content="129.95"><meta itemprop="priceCurrency" content="GBP">'
    '<link itemprop="availability" href="https://schema.org/OutOfStock"></div></div>'
)


def test_selectors_alone_give_price_currency_and_sizes() -> None:
    data = extract_html(page(body=TITLE + VISIBLE_PRICE + SIZES), URL, HTML_SHOP_SELECTORS)
    assert [(o.size_label, o.available) for o in data.offers] == [
        ("EU 42", True),
        ("EU 43", False),
        ("EU 44", True),
    ]
    first = data.offers[0]
    assert (first.price, first.currency) == (Decimal("1149.95"), "EUR")  # "1.149,95 €"
    assert (first.name, first.style_code, first.family) == (
        'New Balance 2002R "Rain Cloud"',
        "M2002RDA",  # from the URL: the page names no code
        "2002R",
    )


def test_opengraph_price_is_read_before_the_selector() -> None:
    data = extract_html(page(OG_PRICE, TITLE + VISIBLE_PRICE + SIZES), URL, HTML_SHOP_SELECTORS)
    assert {(o.price, o.currency) for o in data.offers} == {(Decimal("139.95"), "EUR")}


def test_microdata_is_read_before_opengraph() -> None:
    body = TITLE + MICRODATA + VISIBLE_PRICE
    data = extract_html(page(OG_PRICE, body), URL, HTML_SHOP_SELECTORS)
    [offer] = data.offers  # no size buttons: one offer for every size
    assert (offer.price, offer.currency, offer.size_label) == (Decimal("129.95"), "GBP", "")
    assert offer.available is False  # stock stated by microdata, not guessed


def test_without_sizes_stock_comes_only_from_what_the_page_states() -> None:
    unknown = extract_html(page(OG_PRICE, TITLE), URL, HTML_SHOP_SELECTORS).offers[0]
    assert unknown.available is None  # a price alone does not mean in stock
    stated = page(OG_PRICE + '<meta property="product:availability" content="in stock">', TITLE)
    assert extract_html(stated, URL, HTML_SHOP_SELECTORS).offers[0].available is True


def test_no_price_anywhere_is_no_product_data() -> None:
    data = extract_html(page(body=TITLE + SIZES), URL, HTML_SHOP_SELECTORS)
    assert not data.found and data.offers == ()


def test_sold_out_marker_defaults_to_common_theme_markers() -> None:
    selectors = HtmlSelectors(price=".product-price .price", sizes=".size-picker .size-button")
    data = extract_html(page(body=VISIBLE_PRICE + SIZES), URL, selectors)
    assert [o.available for o in data.offers] == [True, False, True]  # [disabled]


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        (".size-button--sold-out", [True, False, True]),
        ("[data-size]", [False, True, True]),  # attribute marker
        ("li", [True, True, True]),  # matches neither a button nor anything inside one
    ],
)
def test_sold_out_marker_is_a_css_selector(marker: str, expected: list[bool]) -> None:
    selectors = HtmlSelectors(
        price=".product-price .price", sizes=".size-picker .size-button", sold_out=marker
    )
    data = extract_html(page(body=VISIBLE_PRICE + SIZES), URL, selectors)
    assert [o.available for o in data.offers] == expected


def test_a_size_listed_twice_counts_once() -> None:
    data = extract_html(page(body=VISIBLE_PRICE + SIZES + SIZES), URL, HTML_SHOP_SELECTORS)
    assert [o.size_label for o in data.offers] == ["EU 42", "EU 43", "EU 44"]


def test_opengraph_reads_product_namespace() -> None:
    document = parse_document(page(OG_PRICE + '<meta property="og:title" content="2002R">'))
    assert opengraph(document) == {
        "product:price:amount": "139.95",
        "product:price:currency": "EUR",
        "og:title": "2002R",
    }


def test_unreadable_microdata_and_no_other_price_is_a_failed_product_not_a_wall() -> None:
    broken = (
        '<div itemscope itemtype="https://schema.org/Product">'
        '<meta itemprop="name" content="2002R"><meta itemprop="sku" content="M2002RDA">'
        '<span itemprop="offers">ask in store</span></div>'
    )
    data = extract_html(page(body=TITLE + broken), URL, HTML_SHOP_SELECTORS)
    assert data.found and data.offers == ()
    assert [(f.product_id, f.reason) for f in data.failures] == [
        ("M2002RDA", "malformed product: 'offers' is str without a readable offer")
    ]
    # Another source of the price reads the product as usual.
    data = extract_html(page(OG_PRICE, TITLE + broken), URL, HTML_SHOP_SELECTORS)
    assert data.offers[0].price == Decimal("139.95")
