"""platform = "sfcc": New Balance's own stores, through Commerce Cloud's category grid and
Product-Variation JSON, crawled end to end against the replica store (a real crawl child)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pricewatch.config import Config, ConfigError, ShopConfig, parse_config
from pricewatch.crawl import run_crawl
from pricewatch.replica import JsonLdShop
from pricewatch.replica.jsonld_shop import master_of
from pricewatch.store import Store
from scrapers.parsing.sfcc import grid_colorways, variation_item
from scrapers.spiders.sfcc import json_body
from tests.support import FAST_CRAWL

NB = ShopConfig(name="NB", platform="sfcc", url="https://nb.example", currency="USD")


def config_for(tmp_path: Path, shop: JsonLdShop) -> Config:
    nb = ShopConfig(name="NB", platform="sfcc", url=shop.url, currency="USD")
    return Config(shops=(nb,), db_path=tmp_path / "nb.db", crawl=FAST_CRAWL)


def test_the_grid_names_each_colorway_by_master_and_style() -> None:
    master = "M2002RV1-42829"
    tiles = (
        f'<div class="product" data-pid="{master}"><a href="/pd/2002r/{master}.html?'
        f'dwvar_{master}_style=M2002RDA&amp;dwvar_{master}_width=D">Rain Cloud</a></div>'
        f'<a href="/pd/2002r/{master}.html?dwvar_{master}_style=M2002RDA">again</a>'
        '<a href="/pd/2002r/U2002RV1-50719.html?dwvar_U2002RV1-50719_style=U2002RB">U</a>'
        '<a href="/pd/990v6/M990V6V1-1.html?dwvar_M990V6V1-1_style=M990GL6">not a 2002R</a>'
    )
    assert grid_colorways(tiles) == [(master, "M2002RDA"), ("U2002RV1-50719", "U2002RB")]


def test_a_variation_is_one_item_with_a_listing_per_size() -> None:
    data = {
        "product": {
            "productName": "2002R Protection Pack - Rain Cloud",
            "price": {"sales": {"value": 119.99}, "list": {"value": 149.99}},
            "variationAttributes": [
                {"attributeId": "size", "values": [
                    {"value": "9", "selectable": True, "variantID": "A9"},
                    {"value": "9.5", "selectable": False, "variantID": "A95"},
                ]},
            ],
        }
    }  # fmt: skip
    item = variation_item(data, NB, "M2002RV1-1", "M2002RDA", "2E", NB.url)
    read = [(v.size_label, v.available, v.width, str(v.price)) for v in item.variants]
    assert read == [("9", True, "2E", "119.99"), ("9.5", False, "2E", "119.99")]
    assert {v.compare_at for v in item.variants} == {Decimal("149.99")}  # a sale
    assert {v.style_code for v in item.variants} == {"M2002RDA"}
    broken = variation_item({"error": "x"}, NB, "M2002RV1-1", "M2002RDA", "D", NB.url)
    assert broken.error and broken.variants == []


def test_a_crawl_reads_every_2002r_colorway_and_size_of_the_store(tmp_path: Path) -> None:
    with JsonLdShop() as shop:
        config = config_for(tmp_path, shop)
        [report] = run_crawl(config, config.shops)
        expected = {
            (c.style, float(size), "in_stock" if stock else "sold_out")
            for c in shop.colorways()
            if "2002" in c.style
            for size, stock in c.sizes.items()
        }
    assert report.status == "ok", report.error
    with Store(config.db_path) as store:
        stored = {
            (code, size, stock)
            for code, size, stock in store.db.execute(
                "SELECT style_code, size_us, stock FROM variants"
            )
        }
    assert stored == expected  # the 990v6 and 9060 of the store stay out
    assert master_of("M2002RDA") == master_of("M2002RXU")  # one master, many colorways


def stock_of(db: Path) -> list[tuple[str, str]]:
    with Store(db) as store:
        rows = store.db.execute("SELECT shop_variant_id, stock FROM variants ORDER BY 1")
        return [(str(key), str(stock)) for key, stock in rows]


@pytest.mark.parametrize("scope", ["listings", "products"])
def test_an_akamai_wall_is_blocked_and_changes_nothing(tmp_path: Path, scope: str) -> None:
    with JsonLdShop() as shop:
        config = config_for(tmp_path, shop)
        run_crawl(config, config.shops)
        before = stock_of(config.db_path)
        shop.misbehave("block-akamai", scope=scope)
        [report] = run_crawl(config, config.shops)
    assert report.status == "blocked" and "Akamai" in (report.error or "")
    assert stock_of(config.db_path) == before  # a wall is never a sell-out


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('sfcc_site = "NBUS"', "bad sfcc_site"),
        ('sfcc_category = "a b"', "bad sfcc_category"),
    ],
)
def test_bad_sfcc_settings_are_refused(line: str, message: str) -> None:
    text = (
        '[[shops]]\nname = "NB"\nplatform = "sfcc"\nurl = "https://www.newbalance.com"\n'
        f'currency = "USD"\n{line}\n'
    )
    with pytest.raises(ConfigError, match=message):
        parse_config(text, source="<t>")
    good = 'sfcc_site = "Sites-NBUK-Site/en_GB"'
    uk = parse_config(text.replace(line, good), source="<t>").shops[0]
    assert uk.sfcc_site == "Sites-NBUK-Site/en_GB"
    shopify = text.replace('"sfcc"', '"shopify"').replace(line, good)
    with pytest.raises(ConfigError, match="for Commerce Cloud shops"):
        parse_config(shopify, source="<t>")


def test_json_as_a_browser_shows_it_is_still_json() -> None:
    wrapped = (
        b'<html><head></head><body><pre style="x">{"product": {"id": "M2002RDA &amp; co"}}'
        b"</pre></body></html>"
    )
    assert json_body(wrapped) == {"product": {"id": "M2002RDA & co"}}
    assert json_body(b'{"a": 1}') == {"a": 1}
