"""Shops whose product pages carry schema.org JSON-LD (``platform = "jsonld"``): newbalance.com
and other Salesforce Commerce Cloud shops, big multi-brand shops.

Pages are found by `scrapers.spiders.pages.ProductPageSpider` (sitemap, listing pages, fixed
URLs) and read by `scrapers.parsing.jsonld`, which takes JSON-LD as real pages write it.
"""

from __future__ import annotations

from scrapy.http import Response, TextResponse

from scrapers.parsing.jsonld import PageData, extract_jsonld
from scrapers.spiders.pages import ProductPageSpider


class JsonLdSpider(ProductPageSpider):
    name = "jsonld"
    platform = "jsonld"

    def extract(self, response: Response) -> PageData:
        if not isinstance(response, TextResponse):
            return PageData()
        # the JSON-LD blocks are cut out of the raw bytes: the page is never parsed as HTML
        return extract_jsonld(
            response.body,
            self.base_url(response),
            response.encoding,
            size_from_sku=self.shop.size_from_sku,
        )
