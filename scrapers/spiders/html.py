"""Shops whose product pages have no usable JSON-LD (``platform = "html"``): the page is read
through microdata, OpenGraph and the CSS selectors of the shop's ``[shops.selectors]``
(`scrapers.parsing.html`). Pages are found as for JSON-LD shops (`scrapers.spiders.pages`).
"""

from __future__ import annotations

from scrapy.http import Response, TextResponse

from scrapers.parsing.html import extract_html
from scrapers.parsing.jsonld import PageData
from scrapers.spiders.pages import ProductPageSpider


class HtmlSpider(ProductPageSpider):
    name = "html"
    platform = "html"

    def extract(self, response: Response) -> PageData:
        selectors = self.shop.selectors
        if selectors is None or not isinstance(response, TextResponse):
            return PageData(source="html")
        return extract_html(
            response.selector.root, self.base_url(response), selectors, html_text=response.text
        )
