"""The worker end of a Scrapyd job's results (`pricewatch.scrapyd_feed` reads them back).

A Scrapyd job (see `pricewatch.backends.ScrapydBackend`) runs ``scrapy crawl <platform> -a
shop=NAME`` from the deployed egg, with setting overrides passed through schedule.json:

- ``ITEM_PIPELINES = {}``: the worker writes nothing to SQLite (it may be another machine). The
  spider's raw `ProductItem`s go to the JSON-lines feed Scrapyd configures from its ``items_dir``
  (``FEEDS``), one line per product with its variants' `ListingItem`s nested; the scheduler
  validates every variant on ingest with the same `validate` as a local crawl.
- ``EXTENSIONS = {OutcomeSidecar}``: the items alone cannot say whether a crawl was ``ok`` (a 500
  on page 3 still leaves the items of pages 1 and 2), so when the spider closes this extension
  writes the close reason and the stats `scrapers.pipelines.crawl_outcome` reads to a JSON file
  next to the feed: ``<items_dir>/<project>/<spider>/<job>.jl.outcome.json``. Scrapyd serves its
  items_dir over HTTP, so the scheduler downloads the sidecar from ``<items_url>.outcome.json``.
  A job that crashed or was killed leaves no sidecar, and is recorded as failed.

Why a sidecar file rather than the log: the log is free text (the stats dump is a pprint with
datetimes), and Scrapyd's ``logs_dir`` may point anywhere; the sidecar is written by us, as JSON,
atomically, in the one directory that must be served anyway for the items.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from w3lib.url import file_uri_to_path

from pricewatch.scrapyd_feed import (
    COUNTERS,
    OUTCOME_FORMAT,
    OUTCOME_SUFFIX,
    FeedError,
    JobOutcome,
    item_from_json,
    listings_from_json,
    parse_items,
    parse_outcome,
    parse_products,
)

logger = logging.getLogger(__name__)

__all__ = [
    "COUNTERS",
    "OUTCOME_FORMAT",
    "OUTCOME_SUFFIX",
    "FeedError",
    "JobOutcome",
    "OutcomeSidecar",
    "item_from_json",
    "listings_from_json",
    "parse_items",
    "parse_outcome",
    "parse_products",
]

# The stats `crawl_outcome` and the crawl counts read; nothing else leaves the worker.
_STATS_PREFIXES = ("pricewatch/", "spider_exceptions/")
_STATS_KEYS = ("item_scraped_count", "item_dropped_count", "log_count/ERROR", "finish_reason")


def local_feed_path(feeds: dict[Any, Any]) -> Path | None:
    """The file the job's items go to: the first local feed in ``FEEDS`` (Scrapyd sets one
    ``file://`` URI per job when its items_dir is local), or None."""
    for uri in feeds:
        text = str(uri)
        scheme = urlsplit(text).scheme.lower()
        if scheme == "file":
            return Path(file_uri_to_path(text))
        if scheme == "":
            return Path(text)
    return None


def outcome_path(feed: Path) -> Path:
    return feed.with_name(feed.name + OUTCOME_SUFFIX)


def _json_safe(value: Any) -> Any:
    return value if isinstance(value, bool | int | float | str) or value is None else str(value)


def outcome_stats(stats: dict[str, Any]) -> dict[str, Any]:
    """The part of the crawl stats that decides the crawl's status, as JSON-safe values."""
    return {
        key: _json_safe(value)
        for key, value in stats.items()
        if key.startswith(_STATS_PREFIXES) or key in _STATS_KEYS
    }


class OutcomeSidecar:
    """Scrapy extension (Scrapyd jobs only): the close reason and the outcome stats, written
    as JSON next to the job's items feed when the spider closes."""

    def __init__(self, crawler: Crawler, path: Path) -> None:
        self.crawler = crawler
        self.path = path

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        feed = local_feed_path(crawler.settings.getdict("FEEDS"))
        if feed is None:
            # The scheduler notices too (listjobs.json has no items_url) and says so.
            raise NotConfigured("no local items feed: set items_dir in scrapyd.conf")
        extension = cls(crawler, outcome_path(feed))
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_closed(self, spider: Spider, reason: str) -> None:
        assert self.crawler.stats is not None
        data = {
            "format": OUTCOME_FORMAT,
            "reason": reason,
            "stats": outcome_stats(self.crawler.stats.get_stats()),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Written then renamed: a reader never sees half a file.
        partial = self.path.with_name(self.path.name + ".part")
        partial.write_text(json.dumps(data, sort_keys=True), "utf-8")
        os.replace(partial, self.path)
