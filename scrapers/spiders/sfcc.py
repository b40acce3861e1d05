"""New Balance's own stores on Salesforce Commerce Cloud (``platform = "sfcc"``).

The 2002R category grid (``Search-UpdateGrid``) names each colorway's master and style code; a
``Product-Variation`` request per colorway and width gives its price and, per size, whether it
can be bought (``selectable``). The shop's config names the site (``sfcc_site``, e.g.
``Sites-NBUS-Site/en_US``) and the category (``sfcc_category``). Akamai's walls ("Access Denied",
"Oops! Something went wrong") are recorded as blocked, never as sold out. Endpoints and site IDs:
docs/retailers.md section 2.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from scrapers.parsing.sfcc import grid_colorways, variation_item, variation_widths
from scrapers.spiders.base import PlatformSpider, block_marker

GRID_PAGE = 48  # tiles per grid request
# A JSON answer as a browser shows it (fetch = "browser"): the text inside <pre>.
_PRE = re.compile(rb"^\s*<html[^>]*>.*?<pre[^>]*>(.*)</pre>", re.DOTALL | re.IGNORECASE)


def json_body(body: bytes) -> Any:
    """A JSON response's data, also when a browser wrapped it in its JSON viewer page."""
    wrapped = _PRE.match(body)
    return json.loads(html.unescape(wrapped.group(1).decode("utf-8")) if wrapped else body)


class SfccSpider(PlatformSpider):
    name = "sfcc"
    platform = "sfcc"

    def controller(self, name: str) -> str:
        return f"{self.shop.url}/on/demandware.store/{self.shop.sfcc_site}/{name}"

    async def start(self) -> Any:
        yield self.grid_request(0)

    def grid_request(self, start: int) -> scrapy.Request:
        url = (
            f"{self.controller('Search-UpdateGrid')}?cgid={self.shop.sfcc_category}"
            f"&start={start}&sz={GRID_PAGE}"
        )
        return scrapy.Request(
            url, callback=self.parse_grid, errback=self.request_failed, cb_kwargs={"start": start}
        )

    def variation_request(self, master: str, style: str, width: str) -> scrapy.Request:
        url = (
            f"{self.controller('Product-Variation')}?pid={master}&dwvar_{master}_style={style}"
            f"&dwvar_{master}_width={width}&quantity=1"
        )
        return scrapy.Request(
            url,
            callback=self.parse_variation,
            errback=self.request_failed,
            cb_kwargs={"master": master, "style": style, "width": width},
            headers={"Accept": "application/json", "X-Requested-With": "XMLHttpRequest"},
        )

    def parse_grid(self, response: Response, start: int = 0) -> Iterator[Any]:
        if block_marker(response):
            self.page_blocked(response)
            return
        colorways = grid_colorways(response.text)
        self.page_ok()
        for master, style in colorways:
            yield self.variation_request(master, style, "D")
        if colorways:  # an empty page is the end of the category
            if start + GRID_PAGE < self.shop.max_products:
                yield self.grid_request(start + GRID_PAGE)
            else:
                self.incomplete(f"stopped after {self.shop.max_products} tiles (max_products)")

    def parse_variation(
        self, response: Response, master: str, style: str, width: str
    ) -> Iterator[Any]:
        if block_marker(response):
            self.page_blocked(response)
            return
        try:
            data = json_body(response.body)
        except ValueError:
            self.page_failed(f"Product-Variation is not JSON at {response.url}")
            return
        self.page_ok()
        self.crawler.stats.inc_value("pricewatch/products_read")
        item = variation_item(data, self.shop, master, style, width, self.shop.url)
        if item.error is not None:
            self.product_unreadable(item)
        yield item
        if width == "D":  # the other widths it is sold in, each its own request
            for other in variation_widths(data):
                if other != "D":
                    yield self.variation_request(master, style, other)
