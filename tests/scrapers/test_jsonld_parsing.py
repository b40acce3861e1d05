"""JSON-LD product pages: real captured pages against the benchmark's hand-checked answers, and
every spec-breaking shape the parser takes (tests/fixtures/realdata/SOURCES.md).

The five full pages come with scrapinghub/product-extraction-benchmark's ground truth (what a
person read on the page); the two on.com snippets have none, and are checked against the
values SOURCES.md states for them.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.http import HtmlResponse, Request
from scrapy.utils.response import get_base_url

from pricewatch.config import HtmlSelectors
from pricewatch.prices import PriceError
from pricewatch.sizes import parse_size
from scrapers.parsing.html import extract_html
from scrapers.parsing.jsonld import (
    Offer,
    availability,
    extract_jsonld,
    jsonld_blocks,
    parse_document,
    price_value,
    product_offers,
)
from tests.support import FIXTURES, load_fixture

REALDATA = FIXTURES / "realdata"
GROUND_TRUTH = "jsonld-html-ground-truth-product-extraction-benchmark.json"

# benchmark sha (SOURCES.md section B) -> the page's file
PAGES = {
    "b7af59198cac698a4c36757e64a60c7a7701c48ae44b559a54938f51d729b1f5": (
        "jsonld-html-stockcenter-ar-puma-botines-sfcc-product-extraction-benchmark.html"
    ),
    "644a6b028687d5c026a4a9b924e7c14a9b86aab7c593559bb44d192854aede2f": (
        "jsonld-html-zalando-ie-adidas-slides-product-extraction-benchmark.html"
    ),
    "c3ed0221b7d1f909b2fa187a152c0c427195d9948200748550105118939cfc21": (
        "jsonld-html-zalando-ie-mustang-boots-product-extraction-benchmark.html"
    ),
    "52ea2c6607641aefb3c7ee423b5293e462627709e0e4158fb4746ec0cc397b2f": (
        "jsonld-html-zara-be-boots-per-size-products-product-extraction-benchmark.html"
    ),
    "f48e9949eec5a2978c050e6a30c8d96f3070c1b5e31c7e1335364d1025840c73": (
        "jsonld-html-johnlewis-gant-boot-lowercase-type-product-extraction-benchmark.html"
    ),
}
# Where these shops write a size only in the SKU, what their config's size_from_sku says.
PAGE_SKU = {
    # Zalando: "MU312M00L-C110400000" is the product's SKU and EU 40 (040) padded with 0000
    "c3ed0221b7d1f909b2fa187a152c0c427195d9948200748550105118939cfc21": (
        r"-C11(?P<size>\d{3})0000$"
    ),
    # Zara: one Product per size, "84518927-040-35" ... "-42"
    "52ea2c6607641aefb3c7ee423b5293e462627709e0e4158fb4746ec0cc397b2f": r"-(?P<size>\d{2})$",
}
# New Balance's per-size SKUs in these tests: "M2002RDA-D-10"
NB_SKU = r"-D-(?P<size>\d+(?:\.\d)?)$"
# The ground truth writes currencies as the page shows them.
SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "ARS": "$"}


def real_response(name: str, url: str) -> HtmlResponse:
    """A real Scrapy response of a captured page (its charset from its own meta tag)."""
    return HtmlResponse(url=url, body=(REALDATA / name).read_bytes(), request=Request(url))


def page_offers(sha: str) -> tuple[list[Offer], dict[str, Any]]:
    truth = load_fixture(f"realdata/{GROUND_TRUTH}")[sha]
    response = real_response(PAGES[sha], truth["url"])
    data = extract_jsonld(
        response.selector.root, get_base_url(response), size_from_sku=PAGE_SKU.get(sha)
    )
    assert data.found and data.broken_blocks == 0
    return list(data.offers), truth


def compare(offers: list[Offer], truth: dict[str, Any]) -> dict[str, str]:
    """Each field of the page as extracted, compared with the benchmark's answer.

    The page's price is its first offer's (the size the page shows first; per-size prices
    differ on the Mustang page); it is in stock when any size is; its SKU is the colorway's
    (``product_sku``), else what all per-size SKUs share."""
    first = offers[0]
    outcome: dict[str, str] = {}
    wanted_price = Decimal(truth["price"][0])
    outcome["price"] = "match" if first.price == wanted_price else f"{first.price}"
    if "currency" not in truth:
        outcome["currency"] = "no answer"
    else:
        wanted = truth["currency"][0]
        got = first.currency or ""
        outcome["currency"] = "match" if wanted in (got, SYMBOLS.get(got)) else got
    in_stock = any(o.available for o in offers)
    stock = "InStock" if in_stock else "OutOfStock"
    outcome["availability"] = "match" if stock == truth["availability"][0] else stock
    wanted_sku = truth["sku"][0]
    skus = [o.sku or "" for o in offers]
    if first.product_sku == wanted_sku:
        outcome["sku"] = "match"
    elif all(s.startswith(wanted_sku) for s in skus):
        outcome["sku"] = "prefix of every size's SKU"
    else:
        outcome["sku"] = first.product_sku or (f"{skus[0]} … {skus[-1]}" if skus else "none")
    return outcome


# What the parser extracts from each real page, compared with the hand-checked answers.
EXPECTED = {
    # SFCC: price is lowprice.sales.value 3499; "$" is how the page writes ARS.
    "b7af5919": {"price": "match", "currency": "match", "availability": "match", "sku": "match"},
    "644a6b02": {"price": "match", "currency": "match", "availability": "match", "sku": "match"},
    # per-size prices 70.5 / 62.95 / 80.5: the answer is the first offer's
    "c3ed0221": {"price": "match", "currency": "match", "availability": "match", "sku": "match"},
    # Zara's answer "1002/710" is the reference printed on the page (and in its image paths);
    # its JSON-LD has only the per-size SKUs 84518927-040-35 ... -42.
    "52ea2c66": {
        "price": "match",
        "currency": "match",
        "availability": "match",
        "sku": "84518927-040-35 … 84518927-040-42",
    },
    # John Lewis: see test_john_lewis_jsonld_disagrees_with_the_answer_and_wins.
    "f48e9949": {
        "price": "match",
        "currency": "no answer",
        "availability": "OutOfStock",
        "sku": "238887908",
    },
}


@pytest.mark.parametrize("sha", list(PAGES), ids=[sha[:8] for sha in PAGES])
def test_real_page_against_the_benchmark_answers(sha: str) -> None:
    offers, truth = page_offers(sha)
    assert compare(offers, truth) == EXPECTED[sha[:8]]
    assert all(o.style_code is None for o in offers)  # none of them is a 2002R


def test_sfcc_price_objects_read_as_a_price_for_every_size() -> None:
    offers, _ = page_offers("b7af59198cac698a4c36757e64a60c7a7701c48ae44b559a54938f51d729b1f5")
    [offer] = offers  # an AggregateOffer: one offer for all sizes, at its lowPrice
    assert (offer.size_label, offer.price, offer.currency) == ("", Decimal("3499.00"), "ARS")
    assert offer.available is True and offer.brand == "Puma" and offer.image is None
    assert (
        offer.url
        == "https://www.stockcenter.com.ar/botines-puma-future-5.4-osg-tt/PU_106160%2F01.html"
    )


def test_zalando_offers_per_size_keep_their_own_price_and_stock() -> None:
    offers, _ = page_offers("c3ed0221b7d1f909b2fa187a152c0c427195d9948200748550105118939cfc21")
    assert [str(o.price) for o in offers] == [
        "70.5", "70.5", "62.95", "70.5", "70.5", "62.95", "70.5", "80.5", "80.5",
    ]  # fmt: skip
    assert [o.available for o in offers].count(True) == 4
    # the size is only in the SKU, read with the shop's size_from_sku: EU 40
    assert offers[0].sku == "MU312M00L-C110400000" and offers[0].size_label == "040"
    # relative offer URLs are made absolute against the page
    assert offers[0].url == "https://www.zalando.ie/mustang-winter-boots-graphit-mu312m00l-c11.html"


def test_zara_one_product_per_size_becomes_one_item_with_sizes() -> None:
    offers, _ = page_offers("52ea2c6607641aefb3c7ee423b5293e462627709e0e4158fb4746ec0cc397b2f")
    assert [o.size_label for o in offers] == ["35", "36", "37", "38", "39", "40", "41", "42"]
    assert {o.available for o in offers if o.size_label in ("36", "39")} == {True}
    assert {o.price for o in offers} == {Decimal("69.95")}


def test_john_lewis_jsonld_disagrees_with_the_answer_and_wins() -> None:
    """The JSON-LD says OutOfStock; the benchmark's answer says InStock. The JSON-LD wins.

    The page is the Cognac colorway (/cognac/p5095418). Its JSON-LD has one Offer with no size,
    SKU 238887908, "OutOfStock". The page's own product data (__NEXT_DATA__) lists the six
    Cognac sizes, every one ``availableToOrder: false``; its size buttons are all disabled;
    only the Black colorway's size 10 can be ordered. So Cognac is sold out in every size, as
    the JSON-LD says; the answer "InStock" matches only the "Add to your basket" button the page
    always shows (or the other colour). Recorded: Cognac, all sizes, sold out, GBP 136.00. The
    SKUs agree too: the answer's 39139301 is the ``code`` of the SKU whose ``id`` is 238887908.
    """
    sha = "f48e9949eec5a2978c050e6a30c8d96f3070c1b5e31c7e1335364d1025840c73"
    offers, truth = page_offers(sha)
    [offer] = offers
    assert truth["availability"] == ["InStock"] and offer.available is False
    assert (offer.size_label, offer.price, offer.currency) == ("", Decimal("136.00"), "GBP")

    page = (REALDATA / PAGES[sha]).read_text("utf-8")
    match = re.search(r'<script id="__NEXT_DATA__" type="application/json">(.*?)</script>', page)
    assert match is not None
    skus = json.loads(match.group(1))["props"]["pageProps"]["skus"]
    cognac = [s for s in skus if s["color"] == "Cognac"]
    assert len(cognac) == 6 and not any(s["availability"]["availableToOrder"] for s in cognac)
    orderable = [(s["color"], s["size"]) for s in skus if s["availability"]["availableToOrder"]]
    assert orderable == [("Black", "10")]
    assert {s["code"]: s["id"] for s in cognac}[truth["sku"][0]] == offer.sku == "238887908"

    # The visible size buttons say the same, read as an html shop would read them.
    buttons = HtmlSelectors(
        price='[data-test="product-price"]',
        title="h1",
        sizes='[data-cy="size-selector-list"] li',
        sold_out='[class*="disabled"]',
    )
    html_offers = extract_html(page, truth["url"], buttons).offers
    assert [o.size_label for o in html_offers] == ["7", "8", "9", "10", "11", "12"]
    assert not any(o.available for o in html_offers)
    assert {o.price for o in html_offers} == {Decimal("136")}


def test_on_productgroup_snippets_are_one_colorway_per_colour() -> None:
    monster = extract_jsonld(
        (
            REALDATA / "jsonld-html-on-kr-cloudmonster-productgroup-trimmed-dark9266.html"
        ).read_bytes(),
        "https://www.on.com/ko-kr/products/cloudmonster-61/mens",
    )
    [offer] = monster.offers
    assert (offer.price, offer.currency, offer.available) == (Decimal(209000), "KRW", True)
    assert (offer.sku, offer.size_label, offer.brand) == ("61.97657", "", "On")
    assert offer.url and offer.url.endswith("/alloy-silver-shoes-61.97657")
    assert offer.name == "남성 Cloudmonster Alloy | Silver"

    cloud6 = extract_jsonld(
        (
            REALDATA / "jsonld-html-on-kr-cloud6-productgroup-11-colors-trimmed-dark9266.html"
        ).read_bytes(),
        "https://www.on.com/ko-kr/products/cloud-6-m-3mf1007/mens",
    )
    # variesBy color: 11 colours, each its own colorway with one offer for all its sizes
    assert cloud6.products == 11 and len({o.sku for o in cloud6.offers}) == 11
    assert {(o.price, o.currency, o.size_label) for o in cloud6.offers} == {
        (Decimal(199000), "KRW", "")
    }


# ---------------------------------------------------------------------------- shapes


def ld(*blocks: Any, raw: tuple[str, ...] = ()) -> str:
    scripts = [json.dumps(b) for b in blocks] + list(raw)
    return "<html><head>" + "".join(
        f'<script type="application/ld+json">{s}</script>' for s in scripts
    ) + "</head><body></body></html>"  # fmt: skip


NB_URL = "https://nb.example/pd/2002r/M2002RDA-D-07.html"


def nb_offer(size: str, price: Any = "149.99", stock: str = "InStock") -> dict[str, Any]:
    return {
        "@type": "Offer",
        "sku": f"M2002RDA-D-{size}",
        "price": price,
        "priceCurrency": "USD",
        "availability": stock,
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://schema.org/InStock", True),
        ("https://schema.org/InStock", True),
        ("InStock", True),
        ("schema:OutOfStock", False),
        ("OutOfStock", False),
        ("https://schema.org/SoldOut", False),
        ("http://schema.org/PreOrder", True),
        ("https://schema.org/InStoreOnly", False),
        ("in stock", True),  # OpenGraph product:availability
        ("oos", False),
        (["https://schema.org/LimitedAvailability"], True),
        ("Maybe", None),
        ("", None),
        (None, None),
    ],
)
def test_availability_spellings(value: Any, expected: bool | None) -> None:
    assert availability(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("49.1", (Decimal("49.1"), None, None)),
        (209000, (Decimal(209000), None, None)),
        (149.99, (Decimal("149.99"), None, None)),
        ("1.299,00 €", (Decimal("1299.00"), None, None)),
        (
            {"sales": {"value": 3499, "currency": "ARS", "decimalPrice": "3499.00"}, "list": None},
            (Decimal("3499.00"), "ARS", None),
        ),
        (
            {"sales": {"value": 139.99, "currency": "USD"}, "list": {"value": 149.99}},
            (Decimal("139.99"), "USD", Decimal("149.99")),
        ),
        ({"@type": "MonetaryAmount", "value": "99", "currency": "GBP"}, (Decimal(99), "GBP", None)),
        (None, (None, None, None)),
    ],
)
def test_price_values(value: Any, expected: tuple[Any, ...]) -> None:
    assert price_value(value) == expected


@pytest.mark.parametrize("value", [{}, "-5", {"sales": {"value": -1}}, True])
def test_values_that_are_no_price_raise(value: Any) -> None:
    with pytest.raises(PriceError):
        price_value(value)


def test_broken_blocks_are_skipped_and_counted() -> None:
    product = {"@type": "Product", "name": "2002R", "sku": "M2002RDA", "offers": nb_offer("10")}
    page = ld(product, raw=('{"@type": "BreadcrumbList", "item', "{not json at all"))
    data = extract_jsonld(page, NB_URL)
    assert data.broken_blocks == 2 and data.found
    assert [o.style_code for o in data.offers] == ["M2002RDA"]


def test_per_size_offers_of_a_2002r_page() -> None:
    product = {
        "@context": "https://schema.org",
        "@type": "http://schema.org/Product",
        "name": "2002R Protection Pack - Rain Cloud",
        "brand": {"@type": "Brand", "name": "New Balance"},
        "sku": "M2002RDA",
        "offers": [nb_offer("10"), nb_offer("10.5", 139, "OutOfStock"), nb_offer("11", "149.99")],
    }
    offers = extract_jsonld(ld(product), NB_URL, size_from_sku=NB_SKU).offers
    assert [(o.size_label, str(o.price), o.available) for o in offers] == [
        ("10", "149.99", True),
        ("10.5", "139", False),
        ("11", "149.99", True),
    ]
    assert {(o.style_code, o.family, o.width, o.product_sku) for o in offers} == {
        ("M2002RDA", "2002R", "D", "M2002RDA")
    }


def test_productgroup_varying_by_size_in_a_graph() -> None:
    variants = [
        {"@type": "Product", "sku": f"M2002RDB-D-{size}", "offers": nb_offer(size, 150.0)}
        for size in ("9", "9.5")
    ]
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {
                "@type": "ProductGroup",
                "name": "2002R - Phantom",
                "productGroupID": "M2002RDB",
                "variesBy": ["https://schema.org/size"],
                "hasVariant": variants,
            },
            {"@type": "BreadcrumbList", "itemListElement": []},
        ],
    }
    offers = extract_jsonld(ld(graph), NB_URL, size_from_sku=NB_SKU).offers
    assert [(o.size_label, o.price, o.name) for o in offers] == [
        ("9", Decimal("150.0"), "2002R - Phantom"),
        ("9.5", Decimal("150.0"), "2002R - Phantom"),
    ]


def test_aggregate_offer_with_offers_inside_inherits_currency() -> None:
    product = {
        "@type": "Product",
        "name": "2002R",
        "sku": "M2002RHO",
        "offers": {
            "@type": "AggregateOffer",
            "priceCurrency": "EUR",
            "lowPrice": "139.95",
            "offers": [
                {"@type": "Offer", "sku": "M2002RHO-42", "price": "139.95"},
                {"@type": "Offer", "sku": "M2002RHO-43", "price": "149.95"},
            ],
        },
    }
    offers = extract_jsonld(ld(product), NB_URL, size_from_sku=r"-(?P<size>\d{2})$").offers
    assert [(o.size_label, o.price, o.currency) for o in offers] == [
        ("42", Decimal("139.95"), "EUR"),
        ("43", Decimal("149.95"), "EUR"),
    ]


def test_offers_that_no_size_tells_apart_are_the_colorway_once() -> None:
    product = {
        "@type": "Product",
        "name": "2002R",
        "sku": "M2002RDA",
        "offers": [
            {"@type": "Offer", "price": "149.99", "availability": "InStock"},
            {"@type": "Offer", "price": "99.00", "availability": "InStock"},  # used, say
        ],
    }
    [offer] = extract_jsonld(ld(product), NB_URL).offers
    assert (offer.size_label, offer.price) == ("", Decimal("149.99"))


def test_recommended_products_are_not_the_page_product() -> None:
    related = {
        "@type": "ItemList",
        "itemListElement": [{"@type": "Product", "name": "2002R", "sku": "M2002RDB"}],
    }
    data = extract_jsonld(ld(related), NB_URL)
    assert not data.found and data.offers == ()


def test_other_brands_and_models_are_not_2002r() -> None:
    nike = {"@type": "Product", "name": "Air Max", "brand": "Nike", "sku": "M2002RDA-10"}
    nb990 = {"@type": "Product", "name": "990v6", "brand": "New Balance", "sku": "M990GL6"}
    for product in (nike, nb990):
        product["offers"] = {"@type": "Offer", "price": "10", "priceCurrency": "USD"}
        data = extract_jsonld(ld(product), "https://shop.example/p/x.html")
        assert data.found and [o.style_code for o in data.offers] == [None]


def test_a_bad_price_is_reported_not_guessed() -> None:
    product = {"@type": "Product", "name": "2002R", "sku": "M2002RDA", "offers": {"price": {}}}
    [offer] = extract_jsonld(ld(product), NB_URL).offers
    assert offer.price is None and offer.problem and "not a price" in offer.problem


def test_parse_document_accepts_text_and_bytes() -> None:
    product = {"@type": "product", "name": "2002R", "sku": "M2002RDA", "offers": nb_offer("10")}
    text = ld(product)
    for page in (text, text.encode(), parse_document(text)):
        assert extract_jsonld(page, NB_URL).offers[0].size_label == ""


# ---------------------------------------------------------------------------- bad products


def test_offers_of_the_wrong_type_are_absent_and_a_2002r_without_one_is_a_failure() -> None:
    products = [
        {"@type": "Product", "name": "2002R", "sku": "M2002RDA", "offers": 149.99},
        {"@type": "Product", "name": "2002R", "sku": "M2002RDB", "offers": ["x", [1, None]]},
        {
            "@type": "Product",
            "name": "990v6",
            "brand": "New Balance",
            "sku": "M990GL6",
            "offers": "1",
        },
        {
            "@type": "Product",
            "name": "2002R",
            "sku": "M2002RHO",
            "offers": [[{**nb_offer("10"), "sku": "M2002RHO-10"}]],
        },
        {"@type": "Product", "name": "2002R", "sku": "M2002RXU", "offers": []},  # none listed
    ]
    data = extract_jsonld(ld({"@graph": products}), NB_URL)
    assert [(o.style_code, o.price) for o in data.offers] == [("M2002RHO", Decimal("149.99"))]
    assert [(f.product_id, f.reason, f.exception) for f in data.failures] == [
        ("M2002RDA", "malformed product: 'offers' is float without a readable offer", None),
        ("M2002RDB", "malformed product: 'offers' is list without a readable offer", None),
    ]
    assert data.found


def test_a_malformed_url_is_absent_not_an_error() -> None:
    offer = {**nb_offer("10"), "url": "http://[not-a-host/x"}
    product = {"@type": "Product", "name": "2002R", "sku": "M2002RDA", "offers": offer,
               "image": "http://[bad/img.jpg", "url": "https://[::1"}  # fmt: skip
    data = extract_jsonld(ld(product), NB_URL)
    assert data.failures == ()
    [read] = data.offers
    assert (read.url, read.image, read.style_code) == (NB_URL, None, "M2002RDA")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
OFFER_FIELDS = {
    key: JSON_VALUES | st.sampled_from(values)
    for key, values in {
        "@type": ["Offer", "AggregateOffer"],
        "price": ["149.99", "0", "-1"],
        "lowPrice": ["99"],
        "priceCurrency": ["USD"],
        "availability": ["InStock", "https://schema.org/OutOfStock"],
        "sku": ["M2002RDA-D-10", "M2002RDA-D-10.5"],
        "size": ["10", "EU 42"],
        "url": ["/pd/x.html", "http://[bad"],
    }.items()
}
PRODUCT_FIELDS = {
    "@type": st.sampled_from(["Product", "ProductGroup"]) | JSON_VALUES,
    "name": st.sampled_from(["2002R Rain Cloud", "New Balance 2002R"]) | JSON_VALUES,
    "sku": st.sampled_from(["M2002RDA", "M2002RDB-D"]) | JSON_VALUES,
    "brand": st.just({"name": "New Balance"}) | JSON_VALUES,
    "url": st.just("/pd/2002r/M2002RDA.html") | JSON_VALUES,
    "image": JSON_VALUES,
    "variesBy": st.just("size") | JSON_VALUES,
    "offers": st.lists(st.fixed_dictionaries({}, optional=OFFER_FIELDS) | JSON_VALUES, max_size=3)
    | st.fixed_dictionaries({}, optional=OFFER_FIELDS)
    | JSON_VALUES,
}
PRODUCTS = st.fixed_dictionaries({}, optional=PRODUCT_FIELDS)


@settings(max_examples=200, deadline=None)
@given(st.lists(PRODUCTS | st.fixed_dictionaries({"@graph": st.lists(PRODUCTS)}), max_size=3))
def test_any_json_ld_never_raises_and_needs_no_catch_all(items: list[Any]) -> None:
    for group in items:
        if group.get("@type") == "ProductGroup":
            group["hasVariant"] = [dict(group, **{"@type": "Product"})]
    failures: list[Any] = []
    offers, _ = product_offers(items, NB_URL, failures)
    assert all(isinstance(o, Offer) for o in offers)
    # Wrong types are absent, not failures: nothing needed the product's catch-all.
    assert [f.exception for f in failures] == [None] * len(failures)


REAL_PAGES = sorted(
    (Path(__file__).parent.parent / "fixtures" / "realdata").glob("jsonld-html-*.html")
)


@pytest.mark.parametrize("path", REAL_PAGES, ids=lambda p: p.stem[12:40])
def test_blocks_cut_from_raw_bytes_read_as_the_parsed_page_does(path: Path) -> None:
    """The fast path (no HTML parse) and the parsed lxml tree agree on real pages."""
    raw = path.read_bytes()
    fast = extract_jsonld(raw, "https://shop.example/")
    parsed = extract_jsonld(parse_document(raw), "https://shop.example/")
    assert fast == parsed
    assert fast.offers or fast.failures or fast.broken_blocks  # each page has JSON-LD


def test_raw_blocks_in_every_form_a_page_writes_them() -> None:
    block = '{"@type": "Thing", "name": "x"}'
    page = (
        f"<script type='application/ld+json'>{block}</script>"
        f'<SCRIPT TYPE="Application/LD+JSON; charset=utf-8">{block}</SCRIPT >'
        f"<script type=application/ld+json>{block}</script>"
        f'<script type="text/javascript">{block}</script>'  # not JSON-LD
        f'<script async type="application/ld+json" id="a">{block}</script>'
    ).encode()
    assert jsonld_blocks(page) == [block] * 4
    broken = b'<script type="application/ld+json">{"@type": "Product", </script>'
    assert extract_jsonld(broken, "https://shop.example/").broken_blocks == 1


def test_no_size_is_guessed_from_a_sku_without_the_shops_pattern() -> None:
    """Zalando's "MU312M00L-C110400000": without size_from_sku the SKU says nothing (a guess
    once read "0400000" as the size and dropped every size); the offers that nothing tells
    apart are the colorway once."""
    sha = "c3ed0221b7d1f909b2fa187a152c0c427195d9948200748550105118939cfc21"
    truth = load_fixture(f"realdata/{GROUND_TRUTH}")[sha]
    response = real_response(PAGES[sha], truth["url"])
    offers = extract_jsonld(response.selector.root, get_base_url(response)).offers
    assert [o.size_label for o in offers] == [""]
    sized = extract_jsonld(
        response.selector.root, get_base_url(response), size_from_sku=PAGE_SKU[sha]
    ).offers
    assert [o.size_label for o in sized] == [f"0{eu}" for eu in range(40, 49)]
    assert parse_size(sized[4].size_label).size_us == 10.0  # EU 44


def test_commerce_cloud_offer_urls_name_the_size() -> None:
    offer = {**nb_offer("10"), "sku": "X", "url": "/pd/M2002RDA-D-07.html?dwvar_M2002RDA_size=10.5"}
    product = {"@type": "Product", "name": "2002R", "sku": "M2002RDA", "offers": [offer]}
    [read] = extract_jsonld(ld(product), NB_URL).offers
    assert read.size_label == "10.5"


def test_a_commerce_cloud_master_page_names_its_colorways_through_variant_urls() -> None:
    """New Balance's master pages (docs/retailers.md 2.2-2.4): the ProductGroup's id and the
    SKUs name the master ("U2002RV1-50719"), which is no colorway; each variant's URL chooses one
    with dwvar_<master>_style=. Before: no style code, every variant left out."""
    master = "U2002RV1-50719"
    base = f"https://www.newbalance.fr/fr/pd/2002r/{master}.html"
    variants = [
        {
            "@type": "Product",
            "name": "2002R",
            "sku": master,
            "url": f"{base}?dwvar_{master}_style={style}",
            "offers": {
                "@type": "Offer",
                "price": "150.00",
                "priceCurrency": "EUR",
                "availability": "https://schema.org/InStock",
                "url": f"{base}?dwvar_{master}_style={style}",
            },
        }
        for style in ("U2002RB", "U2002RCA")
    ]
    group = {
        "@context": "https://schema.org",
        "@type": "ProductGroup",
        "productGroupID": master,
        "name": "2002R",
        "brand": {"@type": "Brand", "name": "New Balance"},
        "hasVariant": variants,
    }
    page = f'<script type="application/ld+json">{json.dumps(group)}</script>'
    offers = extract_jsonld(page.encode(), base).offers
    assert [(o.style_code, o.family, o.price) for o in offers] == [
        ("U2002RB", "2002R", Decimal("150.00")),
        ("U2002RCA", "2002R", Decimal("150.00")),
    ]
