"""Config of product-page shops (platforms jsonld and html): keys, errors with lines, JSON."""

from __future__ import annotations

import pytest

from pricewatch.config import (
    Config,
    ConfigError,
    HtmlSelectors,
    ShopConfig,
    packaged_config,
    parse_config,
)

PAGES = """\
[[shops]]
name = "Kith"
platform = "shopify"
url = "https://kith.com"
currency = "USD"

[[shops]]
name = "NB"
platform = "jsonld"
url = "https://www.newbalance.com"
currency = "USD"
sitemap = "/sitemap_index.xml"
sitemap_follow = ["sitemap_0"]
url_patterns = ["/pd/2002r"]
max_products = 80

[[shops]]
name = "Store"
platform = "html"
url = "https://store.example"
currency = "EUR"
size_system = "eu"
listing_urls = ["/c/new-balance-2002r"]
url_patterns = ['/p/[a-z0-9-]+$']
product_urls = ["https://store.example/p/m2002rda"]

[shops.selectors]
title = "h1.product-name"
price = ".product-price .price"
sizes = ".size-picker .size-button"
sold_out = ".size-button--sold-out"
"""


def test_product_page_shops_are_parsed() -> None:
    kith, nb, store = parse_config(PAGES).shops
    assert kith == ShopConfig(
        name="Kith", platform="shopify", url="https://kith.com", currency="USD"
    )
    assert (nb.sitemap, nb.sitemap_follow, nb.url_patterns, nb.max_products) == (
        "/sitemap_index.xml",
        ("sitemap_0",),
        ("/pd/2002r",),
        80,
    )
    assert store.listing_urls == ("/c/new-balance-2002r",)
    assert store.product_urls == ("https://store.example/p/m2002rda",)
    assert store.selectors == HtmlSelectors(
        price=".product-price .price",
        title="h1.product-name",
        sizes=".size-picker .size-button",
        sold_out=".size-button--sold-out",
    )
    assert len({kith, nb, store}) == 3  # frozen and hashable, tuples and all


def test_json_round_trip_keeps_tuples_and_selectors() -> None:
    config = parse_config(PAGES)
    again = Config.from_json(config.to_json())
    assert again == config
    assert isinstance(again.shops[2].selectors, HtmlSelectors)
    assert isinstance(again.shops[1].url_patterns, tuple)


def test_one_string_is_a_list_of_one() -> None:
    text = PAGES.replace('url_patterns = ["/pd/2002r"]', 'url_patterns = "/pd/2002r"')
    assert parse_config(text).shops[1].url_patterns == ("/pd/2002r",)


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        (
            'currency = "USD"\n\n[[shops]]\nname = "NB"',
            'currency = "USD"\nsitemap = "/x.xml"\n\n[[shops]]\nname = "NB"',
            r"<t>:6: sitemap is for product-page shops",
        ),
        ('url_patterns = ["/pd/2002r"]', 'url_patterns = ["(/pd"]', r"<t>:14: .*bad url_patterns"),
        ('sitemap_follow = ["sitemap_0"]', "sitemap_follow = [1]", r"<t>:13: .*list of strings"),
        ('sitemap = "/sitemap_index.xml"', 'sitemap = "sitemap.xml"', r"<t>:12: .*bad sitemap"),
        ("max_products = 80", "max_products = 0", r"<t>:15: max_products must be a positive"),
        (
            "max_products = 80",
            'size_from_sku = "-([0-9]+)$"',
            r'<t>:15: .*size_from_sku must be a regular expression with a group named "size"',
        ),
        ("max_products = 80", 'size_from_sku = "-(?P<size>"', r"<t>:15: .*bad size_from_sku"),
        ("max_products = 80", 'collection = "x"', r"<t>:15: collection is a Shopify setting"),
        (
            'sitemap = "/sitemap_index.xml"\n',
            "",
            r"<t>:7: shop 'NB' \(jsonld\) needs sitemap, listing_urls or product_urls",
        ),
        ("url_patterns = ['/p/[a-z0-9-]+$']\n", "", r"<t>:23: .*listing_urls need url_patterns"),
        ('sold_out = ".size-button--sold-out"', 'sold_out = ".a["', r"<t>:31: bad CSS selector"),
        ('title = "h1.product-name"', 'heading = "h1"', r"<t>:28: unknown selector 'heading'"),
        ('price = ".product-price .price"\n', "", r"<t>:27: .*selectors need price"),
        ("[shops.selectors]", "[shops.selectorz]", r"<t>:27: unknown shop setting 'selectorz'"),
    ],
)
def test_bad_product_page_settings_name_the_line(replace: str, by: str, message: str) -> None:
    assert replace in PAGES
    with pytest.raises(ConfigError, match=message):
        parse_config(PAGES.replace(replace, by, 1), source="<t>")


def test_html_shop_needs_selectors_and_jsonld_shop_takes_none() -> None:
    no_selectors = PAGES.split("[shops.selectors]")[0]
    with pytest.raises(ConfigError, match=r"needs a \[shops.selectors\] table"):
        parse_config(no_selectors)
    jsonld_with_selectors = PAGES.replace('platform = "html"', 'platform = "jsonld"')
    with pytest.raises(ConfigError, match="selectors are for html shops"):
        parse_config(jsonld_with_selectors)


def test_default_config_has_new_balances_stores_read_through_a_browser_and_disabled() -> None:
    config = parse_config(packaged_config("default"))
    stores = {
        name: config.shop(name) for name in ("New Balance US", "New Balance UK", "New Balance EU")
    }
    assert {(s.platform, s.fetch, s.enabled) for s in stores.values()} == {
        ("sfcc", "browser", False)
    }
    assert [s.sfcc_site for s in stores.values()] == [
        "Sites-NBUS-Site/en_US",
        "Sites-NBUK-Site/en_GB",
        "Sites-NBEU-Site/en_IE",
    ]


def test_a_size_read_from_the_sku_is_the_shops_own_pattern() -> None:
    text = PAGES.replace("max_products = 80", 'size_from_sku = "-C11(?P<size>[0-9]{3})0000$"', 1)
    nb = parse_config(text, source="<t>").shop("NB")
    assert nb.size_from_sku == "-C11(?P<size>[0-9]{3})0000$"
    assert parse_config(PAGES, source="<t>").shop("NB").size_from_sku is None  # never guessed


def test_fetch_is_http_or_browser() -> None:
    assert parse_config(PAGES, source="<t>").shop("NB").fetch == "http"
    browser = parse_config(PAGES.replace("max_products = 80", 'fetch = "browser"', 1), source="<t>")
    assert browser.shop("NB").fetch == "browser"
    with pytest.raises(ConfigError, match=r"<t>:15: shop 'NB' has unknown fetch 'selenium'"):
        parse_config(PAGES.replace("max_products = 80", 'fetch = "selenium"', 1), source="<t>")
