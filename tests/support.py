"""Helpers shared by the tests (imported as `tests.support`)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from scrapy.http import Request

from pricewatch.config import AlertsConfig, Config, CrawlConfig, HtmlSelectors, ShopConfig
from pricewatch.models import CrawlStatus, Listing, Stock
from pricewatch.recording import RecordedCrawl, record_listings
from pricewatch.replica import ReplicaShop
from pricewatch.store import CrawlCounts, Store
from scrapers.items import ListingItem, ProductItem

FIXTURES = Path(__file__).parent / "fixtures"


def finish(
    store: Store,
    crawl_id: int,
    status: CrawlStatus | str,
    listings: Iterable[Listing] = (),
    *,
    error: str | None = None,
    counts: CrawlCounts | None = None,
    flap_window: float | None = None,
    **alerts: Any,
) -> RecordedCrawl | None:
    """Close a crawl as a crawl would: an ok one through the core's recording path (store,
    diff, outbox), any other with `Store.finish_crawl`."""
    if status != CrawlStatus.OK:
        store.finish_crawl(crawl_id, CrawlStatus(status), counts or CrawlCounts(), error or "boom")
        return None
    if flap_window is not None:
        alerts["flap_window"] = flap_window
    config = Config(shops=(), alerts=dataclasses.replace(AlertsConfig(), **alerts))
    return record_listings(store, crawl_id, list(listings), counts=counts, config=config)


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text("utf-8"))


# Fast and deterministic against loopback: no politeness delays, one quick retry.
FAST_CRAWL = CrawlConfig(
    download_delay=0.0,
    autothrottle=False,
    timeout=3.0,
    retries=1,
    backoff=0.05,
    max_retry_after=5.0,
    time_limit=60.0,
)


def shops_toml(shops: dict[str, ReplicaShop]) -> str:
    """The ``[[shops]]`` tables of a config file for replica Shopify shops, by name."""
    return "".join(
        f'\n[[shops]]\nname = "{name}"\nplatform = "shopify"\nurl = "{shop.url}"\n'
        'currency = "USD"\n'
        for name, shop in shops.items()
    )


def make_config(db_path: Path, shops: dict[str, ReplicaShop], **crawl: Any) -> Config:
    return Config(
        shops=tuple(
            ShopConfig(name=name, platform="shopify", url=shop.url, currency="USD")
            for name, shop in shops.items()
        ),
        db_path=db_path,
        crawl=dataclasses.replace(FAST_CRAWL, **crawl),
        source="<test>",
    )


# -- product-page shops (platforms jsonld and html) ------------------------------------------

# Selectors that read the replica HTML shop (pricewatch/replica/html_shop.py).
HTML_SHOP_SELECTORS = HtmlSelectors(
    title="h1.product-name",
    price=".product-price .price",
    sizes=".size-picker .size-button",
    sold_out=".size-button--sold-out",
    style_code=".product-code",
)


def jsonld_shop_config(name: str, shop: Any, **changes: Any) -> ShopConfig:
    """A jsonld shop reading a replica JsonLdShop through its sitemap index: product pages
    only (sitemap_0), any /pd/ page (so the 990v6 and 9060 pages are read and kept out)."""
    values: dict[str, Any] = dict(
        name=name,
        platform="jsonld",
        url=shop.url,
        currency="USD",
        sitemap="/sitemap_index.xml",
        sitemap_follow=("sitemap_0",),
        url_patterns=("/pd/",),
        # the replica's per-size SKUs end in the size: "M2002RDA-D-10", "M2002RXU-7.5"
        size_from_sku=r"-(?P<size>\d+(?:\.\d)?)$",
    )
    values.update(changes)
    return ShopConfig(**values)


def html_shop_config(name: str, shop: Any, **changes: Any) -> ShopConfig:
    """An html shop reading a replica HtmlShop from its listing pages."""
    values: dict[str, Any] = dict(
        name=name,
        platform="html",
        url=shop.url,
        currency="EUR",
        listing_urls=("/c/new-balance-2002r",),
        url_patterns=(r"/p/[a-z0-9-]+-[a-z0-9]+$",),
        selectors=HTML_SHOP_SELECTORS,
    )
    values.update(changes)
    return ShopConfig(**values)


def shops_config(db_path: Path, shops: Iterable[ShopConfig], **crawl: Any) -> Config:
    """A config of any shops (make_config makes Shopify ones), with FAST_CRAWL settings."""
    return Config(
        shops=tuple(shops),
        db_path=db_path,
        crawl=dataclasses.replace(FAST_CRAWL, **crawl),
        source="<test>",
    )


def make_listing(
    code: str = "M2002RDA",
    size: str = "10",
    price: str = "150.00",
    stock: Stock = Stock.IN_STOCK,
    *,
    shop: str = "Kith",
    **changes: Any,
) -> Listing:
    """A valid `Listing` of one 2002R variant at a shop, as the pipeline would hand it to the
    store; ids and URL follow from shop, code and size. `changes` override any field."""
    slug = shop.lower().replace(" ", "")
    listing = Listing(
        shop=shop,
        product_id=f"{shop}-{code}",
        variant_id=f"{shop}-{code}-{size}",
        style_code=code,
        family="2002R",
        title=f"New Balance 2002R {code}",
        url=f"https://{slug}.example/products/{code.lower()}",
        size_label=size,
        size_us=float(size),
        price=Decimal(price),
        currency="USD",
        stock=stock,
    )
    return listing._replace(**changes)


def make_item(variant_id: str = "11", **changes: Any) -> ListingItem:
    """A parsed, not yet validated listing of M2002RDA at Kith (US 10, $144.99, in stock)."""
    values: dict[str, Any] = dict(
        shop="Kith",
        product_id="1",
        variant_id=variant_id,
        title="New Balance 2002R Rain Cloud",
        url=f"https://kith.com/products/x?variant={variant_id}",
        size_label="10",
        price=Decimal("144.99"),
        currency="USD",
        available=True,
        style_code="M2002RDA",
        family="2002R",
    )
    values.update(changes)
    return ListingItem(**values)


def spider_output(results: Iterable[Any] | None) -> tuple[list[ListingItem], list[Request]]:
    """A spider callback's variants (from its items, one per product) and its requests."""
    items: list[ListingItem] = []
    requests: list[Request] = []
    for result in results or []:
        if isinstance(result, Request):
            requests.append(result)
        else:
            assert isinstance(result, ProductItem) and result.variants
            assert {(v.shop, v.product_id) for v in result.variants} == {
                (result.shop, result.product_id)
            }
            items.extend(result.variants)
    return items, requests
