"""One spider per retailer platform; shops are configuration (`platform = "..."`)."""

from scrapers.spiders.base import PlatformSpider
from scrapers.spiders.html import HtmlSpider
from scrapers.spiders.jsonld import JsonLdSpider
from scrapers.spiders.sfcc import SfccSpider
from scrapers.spiders.shopify import ShopifySpider

SPIDERS: dict[str, type[PlatformSpider]] = {
    spider.platform: spider for spider in (ShopifySpider, JsonLdSpider, HtmlSpider, SfccSpider)
}
