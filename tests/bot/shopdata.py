"""A small real database for the bot's tests: two shops, three colorways, written through
the core's recording path exactly as a crawl writes them (no crawling needed)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pricewatch.config import AlertsConfig, Config, ShopConfig, TelegramConfig
from pricewatch.models import CrawlStatus, Listing, Stock
from pricewatch.store import CrawlCounts, Store
from tests.support import finish, make_listing

ADMIN_CHAT = 4242
TOKEN = "123456:TEST-TOKEN"


def listing(
    shop: str,
    code: str,
    size: str,
    price: str,
    stock: Stock = Stock.IN_STOCK,
    *,
    label: str | None = None,
    name: str | None = None,
    compare_at: str | None = None,
) -> Listing:
    return make_listing(
        code,
        size,
        price,
        stock,
        shop=shop,
        title=f"New Balance 2002R {name or code}",
        size_label=label or size,
        compare_at=Decimal(compare_at) if compare_at else None,
        colorway_name=name,
    )


def crawl(
    store: Store,
    shop: str,
    listings: list[Listing],
    status: CrawlStatus = CrawlStatus.OK,
    error: str | None = None,
) -> int:
    crawl_id = store.start_crawl(shop, "shopify", f"https://{shop.lower()}.example", "USD")
    finish(store, crawl_id, status, listings, error=error, counts=CrawlCounts(items=len(listings)))
    return crawl_id


def build_catalog(path: Path) -> Path:
    """Kith (last crawl ok) and Bodega (last crawl failed, so its stock is *unknown*):

    - M2002RDA: Kith US 9 $150 in stock, US 10 $139.99 in stock (was $150, label
      "US 10 / UK 9.5 / EU 44"), US 11 sold out; Bodega US 10 $145 (stock unknown)
    - M2002RXU: Kith US 10 $170 in stock
    - M2002RHO: Bodega US 9.5 $160 (stock unknown)
    """
    with Store(path) as store:
        crawl(
            store,
            "Kith",
            [
                listing("Kith", "M2002RDA", "9", "150.00", name="Protection Pack Rain Cloud"),
                listing(
                    "Kith",
                    "M2002RDA",
                    "10",
                    "139.99",
                    label="US 10 / UK 9.5 / EU 44",
                    compare_at="150.00",
                ),
                listing("Kith", "M2002RDA", "11", "150.00", Stock.SOLD_OUT),
                listing("Kith", "M2002RXU", "10", "170.00", name="GORE-TEX Olive/Black"),
            ],
        )
        crawl(
            store,
            "Bodega",
            [
                listing("Bodega", "M2002RDA", "10", "145.00"),
                listing("Bodega", "M2002RHO", "9.5", "160.00", name="Phantom"),
            ],
        )
        crawl(store, "Bodega", [], CrawlStatus.FAILED, "HTTP 503 from /products.json")
    return path


def bot_config(
    db_path: Path,
    *,
    base_url: str = "https://api.telegram.org/bot",
    base_file_url: str = "https://api.telegram.org/file/bot",
    token: str | None = TOKEN,
    max_subscriptions: int = 25,
) -> Config:
    return Config(
        shops=tuple(
            ShopConfig(
                name=name, platform="shopify", url=f"https://{name.lower()}.example", currency="USD"
            )
            for name in ("Kith", "Bodega")
        ),
        db_path=db_path,
        source="<test>",
        alerts=AlertsConfig(max_subscriptions_per_chat=max_subscriptions),
        telegram=TelegramConfig(
            base_url=base_url,
            base_file_url=base_file_url,
            admin_chat_ids=(ADMIN_CHAT,),
            token=token,
        ),
    )
