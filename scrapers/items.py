"""What a spider yields: one variant as read from a shop, before validation."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass
class ListingItem:
    """Parsed, not yet trusted: `scrapers.pipelines.ValidatePipeline` turns it into a
    `pricewatch.models.Listing` or drops it with a reason."""

    shop: str
    product_id: str
    variant_id: str
    title: str
    url: str
    size_label: str
    price: Decimal | None
    currency: str | None
    available: bool | None
    style_code: str | None = None
    family: str | None = None
    compare_at: Decimal | None = None
    colorway_name: str | None = None
    image: str | None = None
    handle: str | None = None
    width: str | None = None
    sku: str | None = None
    gtin: str | None = None
