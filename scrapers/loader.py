"""Spiders found by their platform's name, importing only the module that holds one.

Scrapy's own loader imports every module under SPIDER_MODULES when a crawl process starts, so
a crawl of Shopify shops paid for the HTML, JSON-LD and Commerce Cloud parsers too. Here the
spider named ``shopify`` is looked for in ``scrapers.spiders.shopify`` first (each platform's
spider lives in the module named after it); any other name, and ``list()`` (``scrapy list``,
Scrapyd), walk every module as Scrapy does.
"""

from __future__ import annotations

import builtins
import importlib
from typing import Any

from scrapy import Request, Spider
from scrapy.settings import BaseSettings
from scrapy.utils.misc import walk_modules
from scrapy.utils.spider import iter_spider_classes


class PlatformSpiderLoader:
    """`SPIDER_LOADER_CLASS`: Scrapy's loader protocol, modules imported when first needed."""

    def __init__(self, settings: BaseSettings) -> None:
        self.packages: list[str] = settings.getlist("SPIDER_MODULES")
        self._spiders: dict[str, type[Spider]] = {}
        self._walked = False

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> PlatformSpiderLoader:
        return cls(settings)

    def load(self, spider_name: str) -> type[Spider]:
        if spider_name not in self._spiders:
            for package in self.packages:
                self._add(_module_named(f"{package}.{spider_name}"))
        if spider_name not in self._spiders:
            self._walk()
        try:
            return self._spiders[spider_name]
        except KeyError:
            raise KeyError(f"Spider not found: {spider_name}") from None

    def list(self) -> builtins.list[str]:
        self._walk()
        return list(self._spiders)

    def find_by_request(self, request: Request) -> builtins.list[str]:
        self._walk()
        return [name for name, cls in self._spiders.items() if cls.handles_request(request)]

    def _walk(self) -> None:
        if not self._walked:
            for package in self.packages:
                for module in walk_modules(package):
                    self._add(module)
            self._walked = True

    def _add(self, module: Any) -> None:
        if module is not None:
            for spider in iter_spider_classes(module):
                self._spiders.setdefault(spider.name, spider)


def _module_named(name: str) -> Any:
    """The module, or None when there is none of that name (an error inside it still raises)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name:
            raise
        return None
