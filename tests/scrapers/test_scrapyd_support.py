"""A Scrapyd job's items feed read back: one line per product, exactly the spider's variants."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from scrapy.exporters import JsonLinesItemExporter

from scrapers.items import ProductItem
from scrapers.scrapyd_support import FeedError, parse_items
from tests.support import make_item

variant = make_item


def feed(*items: object) -> bytes:
    """The JSON-lines feed Scrapy writes for a job (Scrapyd's FEEDS uses this exporter)."""
    out = io.BytesIO()
    exporter = JsonLinesItemExporter(out, encoding="utf-8")
    exporter.start_exporting()
    for item in items:
        exporter.export_item(item)
    exporter.finish_exporting()
    return out.getvalue()


def test_product_lines_come_back_as_the_exact_variants_in_order() -> None:
    first = ProductItem(
        shop="Kith",
        product_id="1",
        variants=[
            variant("11", compare_at=Decimal("180.00")),
            variant("12", size_label="10.5", price=None, available=None),
        ],
    )
    second = ProductItem(shop="Kith", product_id="2", variants=[variant("21", product_id="2")])
    text = feed(first, second)
    assert len(text.splitlines()) == 2  # one line per product
    assert parse_items(text) == [*first.variants, *second.variants]


def test_bare_listing_lines_are_still_read() -> None:
    """A worker whose installed pricewatch predates products writes one line per variant."""
    assert parse_items(feed(variant("11"), variant("12"))) == [variant("11"), variant("12")]


def test_a_broken_variant_names_its_line_and_place() -> None:
    good = json.loads(feed(variant("11")))
    line = json.dumps({"shop": "Kith", "product_id": "1", "variants": [good, {"shop": "Kith"}]})
    with pytest.raises(FeedError, match="line 2: variant 2: listing without"):
        parse_items(f"{json.dumps(good)}\n{line}\n")
    with pytest.raises(FeedError, match="variants is not a list"):
        parse_items(json.dumps({"shop": "Kith", "product_id": "1", "variants": "none"}))
