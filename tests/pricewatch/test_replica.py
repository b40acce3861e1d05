"""The replica Shopify shop: real formats, state changes, misbehaviour. Everything on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
import urllib.robotparser
from collections.abc import Iterator
from decimal import Decimal
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from pricewatch.replica import MODES, ReplicaShop, load_catalog, make_product
from pricewatch.replica.catalog import public_product, to_ajax

# Key sets of the real captures (tests/fixtures/realdata, atmos USA and bornlivingyoga files).
PRODUCT_KEYS = [
    "id",
    "title",
    "handle",
    "body_html",
    "published_at",
    "created_at",
    "updated_at",
    "vendor",
    "product_type",
    "tags",
    "variants",
    "images",
    "options",
]
VARIANT_KEYS = [
    "id",
    "title",
    "option1",
    "option2",
    "option3",
    "sku",
    "requires_shipping",
    "taxable",
    "featured_image",
    "available",
    "price",
    "grams",
    "compare_at_price",
    "position",
    "product_id",
    "created_at",
    "updated_at",
]
REALDATA = Path(__file__).parent.parent / "fixtures" / "realdata"

REAL_2002R = {
    "M2002RDA",
    "M2002RDB",
    "M2002RDC",
    "M2002RDD",
    "M2002RDF",
    "M2002RHN",
    "M2002RHO",
    "M2002RXU",
    "M2002RMB",
    "M2002NA",
    "ML2002RA",
    "ML2002R1",
    "U2002RBL",
    "U2002RCA",
}
DISTRACTORS = {"M990GL6", "M1906RA", "U9060GRY", "U991KK2", "M2002BK", "FQ8822-084", "MT41578"}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def fetch(url: str, timeout: float = 5.0, method: str = "GET") -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def fetch_into(url: str, outcome: list[object]) -> None:
    """For a background thread: append the status, or the error, to ``outcome``."""
    try:
        outcome.append(fetch(url, timeout=10)[0])
    except OSError as error:  # URLError, timeouts and resets are OSErrors
        outcome.append(error)


def get_json(url: str) -> Any:
    status, headers, body = fetch(url)
    assert status == 200, (status, body[:200])
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(body)


def listing(shop: ReplicaShop, path: str = "/products.json", **params: int) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    products: list[dict[str, Any]] = get_json(f"{shop.url}{path}?{query}")["products"]
    return products


def by_code(products: list[dict[str, Any]], shop: ReplicaShop, code: str) -> dict[str, Any]:
    wanted = shop.product(code)["id"]
    return next(p for p in products if p["id"] == wanted)


@pytest.fixture
def shop() -> Iterator[ReplicaShop]:
    with ReplicaShop() as started:
        yield started


# ---------------------------------------------------------------- catalog and format


def test_served_products_have_exactly_the_real_keys(shop: ReplicaShop) -> None:
    products = listing(shop, limit=250)
    assert len(products) == len(load_catalog()) >= 20
    for product in products:
        assert list(product) == PRODUCT_KEYS
        assert isinstance(product["tags"], list)
        assert len(str(product["id"])) == 13
        for variant in product["variants"]:
            assert list(variant) == VARIANT_KEYS
            assert variant["product_id"] == product["id"]
    assert "_style_code" not in json.dumps(products)
    assert "_comment" not in json.dumps(products)


def test_keys_match_the_real_capture_when_available() -> None:
    capture = REALDATA / "shopify-products-atmosusa-ryguy34-shopify-monitor.json"
    if not capture.exists():
        pytest.skip("realdata capture not available")
    real = json.loads(capture.read_text("utf-8"))["products"][0]
    assert list(real) == PRODUCT_KEYS
    assert list(real["variants"][0]) == VARIANT_KEYS
    assert list(real["images"][0]) == list(public_product(load_catalog()[0])["images"][0])


def test_prices_are_strings_and_compare_at_quirks(shop: ReplicaShop) -> None:
    variants = [v for p in listing(shop, limit=250) for v in p["variants"]]
    assert all(isinstance(v["price"], str) and Decimal(v["price"]) >= 0 for v in variants)
    assert all(len(v["price"].split(".")[1]) == 2 for v in variants)
    compare_values = {v["compare_at_price"] for v in variants}
    assert "0.00" in compare_values  # no sale
    assert None in compare_values  # no sale, the other way
    on_sale = [
        v
        for v in variants
        if v["compare_at_price"] not in (None, "0.00")
        and Decimal(v["compare_at_price"]) > Decimal(v["price"])
    ]
    assert on_sale


def test_catalog_covers_the_colorways_distractors_and_quirks() -> None:
    catalog = load_catalog()
    codes = {p["_style_code"] for p in catalog}
    assert codes >= REAL_2002R | DISTRACTORS | {"IV2002RA"}
    by = {p["_style_code"]: p for p in catalog}
    # style code in the handle / only in tags / only in body_html
    assert "m2002rda" in by["M2002RDA"]["handle"]
    rdb = by["M2002RDB"]
    assert "M2002RDB" in rdb["tags"] and "M2002RDB" not in rdb["body_html"] + rdb["handle"]
    rho = by["M2002RHO"]
    assert "<li>Style: M2002RHO</li>" in rho["body_html"]
    assert "M2002RHO" not in json.dumps([rho["tags"], rho["handle"], rho["title"]]).upper()
    assert by["M2002RHO"]["handle"] == by["M2002RDB"]["handle"] + "-1"
    # skus: internal numbers, UPCs, style code
    skus = [v["sku"] for p in catalog for v in p["variants"]]
    assert "M2002RDA-10" in skus
    assert any(s.isdigit() and len(s) == 12 for s in skus)
    assert any(s.isdigit() and len(s) == 8 for s in skus)
    # variants not in size order by id
    rda = by["M2002RDA"]["variants"]
    assert [v["id"] for v in rda] != sorted(v["id"] for v in rda)
    # widths, toddler and unisex sizes
    assert any(v["title"] == "10 / 2E" for v in by["M2002RHN"]["variants"])
    assert {v["option1"] for v in by["IV2002RA"]["variants"]} >= {"4C", "10C"}
    assert "made-up" in by["IV2002RA"]["_comment"].lower()
    assert any(v["option1"] == "M9 / W10.5" for v in by["U2002RBL"]["variants"])
    # the 990v6 distractor names a 2002R code in its description
    assert "Pairs well with the M2002RDA" in by["M990GL6"]["body_html"]
    assert by["FQ8822-084"]["vendor"] == "Nike"
    # availability is mixed, regular prices in the sourced range
    flags = {v["available"] for code in REAL_2002R for v in by[code]["variants"]}
    assert flags == {True, False}
    for code in REAL_2002R:
        for variant in by[code]["variants"]:
            regular = variant["compare_at_price"] or variant["price"]
            if regular == "0.00":
                regular = variant["price"]
            regular = max(Decimal(regular), Decimal(variant["price"]))
            assert Decimal("144.99") <= regular <= Decimal("180.00"), (code, variant)


# ---------------------------------------------------------------- paging


def test_paging_reaches_every_product_once_and_ends_with_an_empty_page() -> None:
    with ReplicaShop(page_size_cap=5) as shop:
        seen: list[int] = []
        page = 1
        while True:
            products = listing(shop, limit=250, page=page)
            assert len(products) <= 5
            if not products:
                break
            seen.extend(p["id"] for p in products)
            page += 1
        expected = [p["id"] for p in shop.products()]
        assert sorted(seen) == sorted(expected)
        assert len(seen) == len(set(seen))
        assert page == -(-len(expected) // 5) + 1


def test_default_limit_is_30_and_limit_is_capped_at_250() -> None:
    products = [
        make_product(f"TEST{i:04d}", f"Test shoe {i}", "100.00", ["9"], product_id=10**12 + i)
        for i in range(260)
    ]
    with ReplicaShop(products) as shop:
        assert len(listing(shop)) == 30
        assert len(listing(shop, limit=1000)) == 250
        assert len(listing(shop, limit=250, page=2)) == 10
        assert listing(shop, limit=250, page=3) == []


def test_bad_paging_parameters_and_the_25000_limit(shop: ReplicaShop) -> None:
    status, headers, body = fetch(f"{shop.url}/products.json?limit=250&page=101")
    assert status == 400
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(body) == {"errors": "Page * Limit exceeds the 25000 limit."}
    assert listing(shop, limit=250, page=100) == []
    for query in ("limit=abc", "page=two", "limit=2.5"):
        status, _, body = fetch(f"{shop.url}/products.json?{query}")
        assert status == 400
        assert "errors" in json.loads(body)


# ---------------------------------------------------------------- state changes


def test_set_price_and_set_available_take_effect(shop: ReplicaShop) -> None:
    shop.set_price("M2002RDA", "129.99", size="10", compare_at="144.99")
    shop.set_available("M2002RDA", False, size="10")
    product = by_code(listing(shop, limit=250), shop, "m2002rda")  # case-insensitive code
    ten = next(v for v in product["variants"] if v["option1"] == "10")
    assert (ten["price"], ten["compare_at_price"], ten["available"]) == ("129.99", "144.99", False)
    others = [v for v in product["variants"] if v["option1"] != "10"]
    assert {v["price"] for v in others} == {"144.99"}

    shop.set_price("M2002RHO", "99", compare_at="0.00")  # every size; code only in body_html
    shop.set_available("M2002RHO", True)
    rho = by_code(listing(shop, limit=250), shop, "M2002RHO")
    assert {(v["price"], v["compare_at_price"], v["available"]) for v in rho["variants"]} == {
        ("99.00", "0.00", True)
    }
    shop.set_price("M2002RHO", "98.00")  # compare_at left alone
    assert shop.product("M2002RHO")["variants"][0]["compare_at_price"] == "0.00"

    shop.set_price("M2002RHN", "120.00", size="10 / 2E")  # one width via the variant title
    prices = {v["title"]: v["price"] for v in shop.product("M2002RHN")["variants"]}
    assert prices["10 / 2E"] == "120.00" and prices["10 / D"] == "145.00"


def test_state_change_errors(shop: ReplicaShop) -> None:
    with pytest.raises(KeyError):
        shop.set_price("M2002XXX", "100.00")
    with pytest.raises(KeyError):
        shop.set_available("M2002RDA", True, size="25")
    with pytest.raises(ValueError):
        shop.set_price("M2002RDA", "cheap")
    with pytest.raises(ValueError):
        shop.add_size("M2002RDA", "10", "144.99")
    with pytest.raises(ValueError):
        shop.misbehave("teapot")


def test_add_size_remove_size_add_and_remove_product(shop: ReplicaShop) -> None:
    shop.add_size("M2002RDA", "12.5", "144.99", available=True)
    rda = by_code(listing(shop, limit=250), shop, "M2002RDA")
    new = rda["variants"][-1]
    assert (new["option1"], new["price"], new["available"]) == ("12.5", "144.99", True)
    assert new["sku"] == "M2002RDA-12.5"
    assert new["compare_at_price"] == "0.00"
    assert new["position"] == len(rda["variants"])
    assert new["id"] == max(v["id"] for p in shop.products() for v in p["variants"])
    assert "12.5" in rda["options"][0]["values"]

    shop.remove_size("M2002RDA", "7")
    rda = by_code(listing(shop, limit=250), shop, "M2002RDA")
    assert "7" not in [v["option1"] for v in rda["variants"]]
    assert [v["position"] for v in rda["variants"]] == list(range(1, len(rda["variants"]) + 1))
    assert "7" not in rda["options"][0]["values"]

    handle = shop.product("M2002RXU")["handle"]
    shop.remove_product("M2002RXU")
    assert handle not in {p["handle"] for p in listing(shop, limit=250)}
    assert fetch(f"{shop.url}/products/{handle}.js")[0] == 404

    new_product = make_product(
        "M2002RCH", "New Balance 2002R Arid Stone", "145.00", ["9", "10", "11"]
    )
    shop.add_product(new_product)
    first = listing(shop, limit=1)[0]  # a new product is listed first
    assert first["title"] == "New Balance 2002R Arid Stone"
    assert [v["option1"] for v in first["variants"]] == ["9", "10", "11"]
    with pytest.raises(ValueError):
        shop.add_product(new_product)  # same id / handle / style code


# ---------------------------------------------------------------- misbehaviour


@pytest.mark.parametrize(
    ("mode", "status", "content_type", "text"),
    [
        ("500", 500, "text/html", b"error processing your request"),
        ("403", 403, "text/html", b"Forbidden"),
        ("429", 429, "text/html", b"Too Many Requests"),
        (
            "block",
            200,
            "text/html",
            b"This page is temporarily unavailable because a device from your location is "
            b"sending large amounts of web requests.",
        ),
        ("block-cloudflare", 403, "text/html", b"<title>Just a moment...</title>"),
        ("password", 302, "text/html", b"redirected"),
    ],
)
def test_misbehaviour_modes(
    shop: ReplicaShop, mode: str, status: int, content_type: str, text: bytes
) -> None:
    shop.misbehave(mode, retry_after=7)
    for path in ("/products.json?limit=250&page=1", "/collections/2002r/products.json?page=2"):
        got, headers, body = fetch(shop.url + path)
        assert got == status
        assert headers["Content-Type"].startswith(content_type)
        assert text in body
    if mode == "429":
        assert headers["Retry-After"] == "7"
    if mode == "password":
        assert headers["Location"] == f"{shop.url}/password"
        status, _, page = fetch(f"{shop.url}/password")
        assert status == 200 and b"Opening soon" in page
    if mode == "block-cloudflare":
        assert headers["cf-mitigated"] == "challenge"
    # robots.txt and the product page are not affected
    assert fetch(f"{shop.url}/robots.txt")[0] == 200
    shop.misbehave(None)
    assert listing(shop, limit=250)


def test_misbehaviour_modes_are_all_known() -> None:
    assert set(MODES) == {
        "500",
        "timeout",
        "truncated",
        "429",
        "block",
        "block-cloudflare",
        "empty",
        "403",
        "password",
        "layout",
        "hold",
    }


def test_a_held_request_is_answered_only_when_released() -> None:
    with ReplicaShop() as shop:
        shop.misbehave("hold", times=1, delay=60)
        answers: list[int] = []

        def fetch() -> None:
            with urllib.request.urlopen(f"{shop.url}/products.json", timeout=60) as response:
                answers.append(response.status)

        asking = threading.Thread(target=fetch)
        asking.start()
        assert shop.request_held.wait(30)
        assert answers == []  # held
        shop.release_held.set()
        asking.join(30)
    assert answers == [200]


def test_layout_mode_serves_json_without_products(shop: ReplicaShop) -> None:
    shop.misbehave("layout", times=1)
    status, _, body = fetch(f"{shop.url}/products.json")
    assert status == 200 and "products" not in json.loads(body)
    assert "products" in json.loads(fetch(f"{shop.url}/products.json")[2])


def test_empty_mode(shop: ReplicaShop) -> None:
    shop.misbehave("empty")
    for page in (1, 2, 3):
        assert get_json(f"{shop.url}/products.json?limit=5&page={page}") == {"products": []}
    assert fetch(f"{shop.url}/products/new-balance-2002r-m2002rda.js")[0] == 404


def test_truncated_mode_sends_half_a_json_body(shop: ReplicaShop) -> None:
    full = fetch(f"{shop.url}/products.json?limit=250")[2]
    shop.misbehave("truncated", times=1)
    status, headers, body = fetch(f"{shop.url}/products.json?limit=250")
    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert int(headers["Content-Length"]) == len(body) == len(full) // 2
    assert full.startswith(body)
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    assert json.loads(fetch(f"{shop.url}/products.json?limit=250")[2])  # times=1: normal again


def test_times_one_then_normal_again(shop: ReplicaShop) -> None:
    shop.misbehave("500", times=1)
    assert fetch(f"{shop.url}/products.json")[0] == 500
    assert fetch(f"{shop.url}/products.json")[0] == 200
    shop.misbehave("429", times=2)
    assert [fetch(f"{shop.url}/products.json")[0] for _ in range(3)] == [429, 429, 200]


def test_pages_limits_misbehaviour_to_some_pages(shop: ReplicaShop) -> None:
    shop.misbehave("500", pages={2})
    assert fetch(f"{shop.url}/products.json?limit=5&page=1")[0] == 200
    assert fetch(f"{shop.url}/products.json?limit=5")[0] == 200  # no page = page 1
    assert fetch(f"{shop.url}/products.json?limit=5&page=2")[0] == 500
    assert fetch(f"{shop.url}/products.json?limit=5&page=3")[0] == 200
    assert fetch(f"{shop.url}/products/new-balance-2002r-m2002rda.js")[0] == 200


def test_timeout_mode_times_the_client_out_without_blocking_others(shop: ReplicaShop) -> None:
    shop.misbehave("timeout", delay=0.5, pages={2})
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        fetch(f"{shop.url}/products.json?limit=5&page=2", timeout=0.2)
    # with a patient client the slow page is answered normally, after the delay
    started = time.monotonic()
    status, _, body = fetch(f"{shop.url}/products.json?limit=5&page=2", timeout=3)
    assert status == 200 and len(json.loads(body)["products"]) == 5
    assert time.monotonic() - started >= 0.45

    # a sleeping request does not hold up the others
    shop.misbehave("timeout", delay=5, pages={2})
    seen = len(shop.requests)
    outcome: list[object] = []
    sleeper = threading.Thread(
        target=fetch_into, args=(f"{shop.url}/products.json?page=2", outcome), daemon=True
    )
    sleeper.start()
    assert shop.wait_for_requests(seen + 1, timeout=5)
    started = time.monotonic()
    assert fetch(f"{shop.url}/products.json?limit=5&page=1", timeout=2)[0] == 200
    assert time.monotonic() - started < 1.0
    shop.stop()  # wakes the sleeper, which then hangs up
    sleeper.join(timeout=5)
    assert not sleeper.is_alive()
    assert outcome and not isinstance(outcome[0], int)  # hung up, never answered


def test_stop_returns_promptly_while_a_request_sleeps() -> None:
    shop = ReplicaShop().start()
    shop.misbehave("timeout", delay=30)
    outcome: list[object] = []
    client = threading.Thread(
        target=fetch_into, args=(f"{shop.url}/products.json", outcome), daemon=True
    )
    client.start()
    assert shop.wait_for_requests(1, timeout=5)
    started = time.monotonic()
    shop.stop()
    assert time.monotonic() - started < 1.0
    client.join(timeout=5)
    assert not client.is_alive()
    assert outcome and not isinstance(outcome[0], int)  # hung up, never answered
    with pytest.raises(urllib.error.URLError):
        fetch(f"{shop.url}/products.json", timeout=1)  # stopped: connection refused


# ---------------------------------------------------------------- other endpoints


def test_collections_filter(shop: ReplicaShop) -> None:
    everything = {p["id"] for p in listing(shop, limit=250)}
    assert {p["id"] for p in listing(shop, "/collections/all/products.json", limit=250)} == (
        everything
    )
    nb = listing(shop, "/collections/new-balance/products.json", limit=250)
    assert nb and {p["vendor"] for p in nb} == {"New Balance"}
    assert len(nb) == len(everything) - 1  # all but the Nike

    ids = {p["id"] for p in listing(shop, "/collections/2002r/products.json", limit=250)}
    for code in REAL_2002R | {"IV2002RA"}:
        assert shop.product(code)["id"] in ids, code
    for code in DISTRACTORS:
        assert shop.product(code)["id"] not in ids, code

    paged = listing(shop, "/collections/2002r/products.json", limit=5, page=2)
    assert len(paged) == 5

    status, headers, body = fetch(f"{shop.url}/collections/adidas/products.json")
    assert status == 404
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(body) == {"errors": "Not Found"}


def test_product_js_prices_are_cents_of_the_json_prices(shop: ReplicaShop) -> None:
    for product in listing(shop, limit=250):
        ajax = get_json(f"{shop.url}/products/{product['handle']}.js")
        assert ajax["id"] == product["id"]
        assert ajax["type"] == product["product_type"]
        assert ajax["available"] == any(v["available"] for v in product["variants"])
        cents = [int(Decimal(v["price"]) * 100) for v in product["variants"]]
        assert [v["price"] for v in ajax["variants"]] == cents
        assert (ajax["price_min"], ajax["price_max"], ajax["price"]) == (
            min(cents),
            max(cents),
            min(cents),
        )
        for variant, ajax_variant in zip(product["variants"], ajax["variants"], strict=True):
            assert isinstance(ajax_variant["price"], int)
            assert ajax_variant["public_title"] == variant["title"]
            assert ajax_variant["available"] == variant["available"]
            assert "inventory_quantity" not in ajax_variant
            assert ajax_variant["barcode"].isdigit()
            compare = variant["compare_at_price"]
            if compare in (None, "0.00"):
                assert ajax_variant["compare_at_price"] is None
            else:
                assert ajax_variant["compare_at_price"] == int(Decimal(compare) * 100)
    assert fetch(f"{shop.url}/products/no-such-shoe.js")[0] == 404


def test_to_ajax_matches_the_real_capture_keys() -> None:
    capture = REALDATA / "shopify-product-js-cents-bornlivingyoga-excerpt.json"
    if not capture.exists():
        pytest.skip("realdata capture not available")
    real = json.loads(capture.read_text("utf-8"))
    ours = to_ajax(public_product(load_catalog()[0]))
    assert set(ours) == set(real)
    assert set(ours["variants"][0]) == set(real["variants"][0]) - {
        "inventory_quantity",
        "inventory_policy",
    }


def test_product_page_and_home_page(shop: ReplicaShop) -> None:
    status, headers, body = fetch(f"{shop.url}/products/new-balance-2002r-m2002rda")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    page = body.decode("utf-8")
    assert "<title>New Balance 2002R - Rain Cloud" in page
    assert '<meta property="og:price:amount" content="144.99">' in page
    assert "$144.99 USD" in page
    status, _, home = fetch(f"{shop.url}/")
    assert status == 200 and b"/products/new-balance-2002r-m2002rda" in home
    assert fetch(f"{shop.url}/products/no-such-shoe")[0] == 404
    assert fetch(f"{shop.url}/nope")[0] == 404


def test_robots_txt_allows_the_feeds(shop: ReplicaShop) -> None:
    status, headers, body = fetch(f"{shop.url}/robots.txt")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    text = body.decode("utf-8")
    assert text.startswith("# we use Shopify as our ecommerce platform")
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(text.splitlines())
    agent = "pricewatch-2002r"
    for path in (
        "/products.json?limit=250&page=2",
        "/collections/2002r/products.json?limit=250&page=1",
        "/products/new-balance-2002r-m2002rda.js",
    ):
        assert parser.can_fetch(agent, shop.url + path), path
    for path in ("/admin", "/cart", "/checkout", "/checkouts/abc", "/account"):
        assert not parser.can_fetch(agent, shop.url + path), path
    try:
        import protego  # Scrapy's robots.txt parser, with wildcard support
    except ImportError:
        return
    robots = protego.Protego.parse(text)
    assert robots.can_fetch(f"{shop.url}/products.json?limit=250&page=2", agent)
    assert robots.can_fetch(f"{shop.url}/collections/2002r/products.json?page=3", agent)
    assert not robots.can_fetch(f"{shop.url}/collections/all?sort_by=price", agent)
    assert not robots.can_fetch(f"{shop.url}/cart", agent)


def test_custom_robots_txt() -> None:
    with ReplicaShop(robots_txt="User-agent: *\nDisallow: /\n") as shop:
        assert fetch(f"{shop.url}/robots.txt")[2] == b"User-agent: *\nDisallow: /\n"


def test_shopify_headers_and_silence(shop: ReplicaShop, capfd: pytest.CaptureFixture[str]) -> None:
    _, headers, _ = fetch(f"{shop.url}/products.json")
    assert headers["X-Shopify-Stage"] == "production"
    assert headers["X-Cache"] == "miss"
    fetch(f"{shop.url}/nope")
    shop.misbehave("timeout", delay=0.3, times=1)
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        fetch(f"{shop.url}/products.json", timeout=0.05)
    assert shop.wait_idle(5)  # the handler woke, wrote to a closed socket and ended
    out, err = capfd.readouterr()
    assert err == "" and out == ""
    assert shop.errors == []


def test_head_request(shop: ReplicaShop) -> None:
    status, headers, body = fetch(f"{shop.url}/products.json", method="HEAD")
    assert status == 200 and body == b""
    assert int(headers["Content-Length"]) > 0


# ---------------------------------------------------------------- shops and the request log


def test_two_shops_are_independent() -> None:
    with ReplicaShop() as one, ReplicaShop(currency="EUR") as two:
        assert one.url != two.url
        one.set_price("M2002RDA", "100.00")
        one.misbehave("500")
        assert fetch(f"{one.url}/products.json")[0] == 500
        rda = by_code(listing(two, limit=250), two, "M2002RDA")
        assert {v["price"] for v in rda["variants"]} == {"144.99"}
        assert ("GET", "/products.json") in one.requests
        assert all(path != "/products.json" for _, path in two.requests)
        assert "€" in fetch(f"{two.url}/products/{rda['handle']}")[2].decode("utf-8")


def test_requests_log_and_wait_for_requests(shop: ReplicaShop) -> None:
    fetch(f"{shop.url}/products.json?limit=250&page=1")
    fetch(f"{shop.url}/robots.txt")
    assert shop.requests == [
        ("GET", "/products.json?limit=250&page=1"),
        ("GET", "/robots.txt"),
    ]
    assert shop.wait_for_requests(2, timeout=0.1)
    started = time.monotonic()
    assert not shop.wait_for_requests(3, timeout=0.1)
    assert time.monotonic() - started < 1


def test_products_is_a_copy_and_the_default_catalog_is_fresh_per_shop() -> None:
    with ReplicaShop() as shop:
        snapshot = shop.products()
        snapshot[0]["title"] = "changed"
        assert shop.products()[0]["title"] != "changed"
        shop.set_price("M2002RDA", "1.00")
    assert ReplicaShop().product("M2002RDA")["variants"][0]["price"] == "144.99"
