"""Validation drops untrustworthy listings; the crawl outcome rules, one by one."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest

from pricewatch.config import ShopConfig
from pricewatch.items import ListingItem, ProductItem
from pricewatch.models import Stock
from pricewatch.validation import InvalidListing, validate, validate_products
from tests.support import make_item

item = make_item


def test_valid_item_becomes_a_listing() -> None:
    listing = validate(item(size_label="10.5 2E", available=False))
    assert listing.size_us == 10.5 and listing.width == "2E"
    assert listing.stock == Stock.SOLD_OUT and listing.price == Decimal("144.99")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"price": None}, "missing price"),
        ({"price": Decimal("0.00")}, "not a price"),
        ({"price": Decimal("14499")}, "absurd price"),
        ({"price": Decimal("12.345")}, "not exact"),
        ({"size_label": "One Size"}, "unreadable size"),
        ({"size_label": "99"}, "unreadable size"),
        ({"available": None}, "no availability"),
        ({"style_code": None}, "no 2002R style code"),
        ({"currency": None}, "no currency"),
    ],
)
def test_untrustworthy_items_are_dropped_with_a_reason(
    changes: dict[str, Any], reason: str
) -> None:
    with pytest.raises(InvalidListing, match=reason):
        validate(item(**changes))


def test_uk_shop_reads_bare_sizes_as_uk() -> None:
    assert validate(item(size_label="9"), "uk").size_us == 9.5


# -- the pipeline, as Scrapy calls it: one item per product, no spider argument ---------------

UK = ShopConfig(
    name="Footpatrol",
    platform="shopify",
    url="https://www.footpatrol.com",
    currency="GBP",
    size_system="uk",
)


def uk_item(variant_id: str, **changes: Any) -> ListingItem:
    return item(**{"shop": UK.name, "variant_id": variant_id, "currency": "GBP", **changes})


def test_a_product_keeps_its_valid_variants_and_drops_each_invalid_one_with_its_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    product = ProductItem(
        shop=UK.name,
        product_id="1",
        variants=[
            uk_item("9", size_label="9"),
            uk_item("zero", price=Decimal("0.00")),
            uk_item("usd", currency="USD"),
            uk_item("10", size_label="10"),
        ],
    )
    with caplog.at_level(logging.INFO, logger="pricewatch.validation"):
        validated = validate_products([product], UK)
    assert [(v.variant_id, v.size_us) for v in validated.listings] == [("9", 9.5), ("10", 10.5)]
    # listed but not trusted: unknown for this crawl, never missing
    assert validated.untrusted == {"zero", "usd"}
    assert (validated.products, validated.variants, validated.dropped) == (1, 4, 2)
    reasons = [r.getMessage() for r in caplog.records]
    assert len(reasons) == 2
    assert "Dropped: " in reasons[0] and "not a price" in reasons[0]
    assert "currency USD, but Footpatrol sells in GBP" in reasons[1]


def test_a_product_that_did_not_parse_leaves_all_its_variants_unknown() -> None:
    products = [
        ProductItem(shop=UK.name, product_id="1", variants=[uk_item("9", size_label="9")]),
        ProductItem(shop=UK.name, product_id="2", error="TypeError: body_html is 5"),
    ]
    validated = validate_products(products, UK)
    assert [v.variant_id for v in validated.listings] == ["9"]
    assert validated.failed_products == {"2"} and validated.failed == 1
    assert not validated.blind and not validated.all_failed
    assert validated.first_error == "TypeError: body_html is 5"


def test_a_failed_product_without_an_id_makes_the_crawl_blind_to_absence() -> None:
    validated = validate_products([ProductItem(shop=UK.name, product_id="", error="boom")], UK)
    assert validated.blind and validated.all_failed and not validated.failed_products
