"""One spider per retailer platform; shops are configuration (`platform = "..."`)."""

from scrapers.spiders.base import PlatformSpider
from scrapers.spiders.shopify import ShopifySpider

SPIDERS: dict[str, type[PlatformSpider]] = {ShopifySpider.platform: ShopifySpider}
