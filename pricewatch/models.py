"""The typed values that travel from a spider to the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple


def utc_now(offset_seconds: float = 0) -> str:
    """Timestamps are ISO 8601 UTC text: sortable, readable, and exact."""
    moment = datetime.now(UTC) + timedelta(seconds=offset_seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Stock(StrEnum):
    """Three states: *unknown* is never reported as sold out."""

    IN_STOCK = "in_stock"
    SOLD_OUT = "sold_out"
    UNKNOWN = "unknown"


class CrawlStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"  # some pages failed: what was seen is not the whole shop
    FAILED = "failed"
    BLOCKED = "blocked"  # a 200 that was a captcha / throttle page, not data
    SKIPPED = "skipped"  # another process was crawling the shop (its lease): nothing wrong


# Listing and VariantState are NamedTuples, not frozen dataclasses: equally immutable, and a
# crawl builds one per variant, where a frozen dataclass's __init__ costs 3x more (README,
# Performance: ingest).
class Listing(NamedTuple):
    """One variant (a colorway in one size) as one shop lists it, parsed and validated."""

    shop: str
    product_id: str
    variant_id: str
    style_code: str
    family: str
    title: str
    url: str
    size_label: str
    size_us: float | None
    price: Decimal
    currency: str
    stock: Stock
    compare_at: Decimal | None = None
    colorway_name: str | None = None
    image: str | None = None
    handle: str | None = None
    width: str | None = None
    sku: str | None = None
    gtin: str | None = None


class VariantState(NamedTuple):
    """What history records: a new history row is written only when this changes."""

    price: Decimal
    compare_at: Decimal | None
    currency: str
    stock: Stock
