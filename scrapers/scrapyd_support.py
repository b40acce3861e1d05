"""Both ends of a Scrapyd job's results: what the worker writes, and how it is read back.

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

import dataclasses
import json
import logging
import os
import typing
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from w3lib.url import file_uri_to_path

from scrapers.items import ListingItem

logger = logging.getLogger(__name__)

OUTCOME_SUFFIX = ".outcome.json"
OUTCOME_FORMAT = 1
# The stats `crawl_outcome` and the crawl counts read; nothing else leaves the worker.
_STATS_PREFIXES = ("pricewatch/", "spider_exceptions/")
_STATS_KEYS = ("item_scraped_count", "item_dropped_count", "log_count/ERROR", "finish_reason")
# Stats read as numbers on ingest (crawl_outcome, the crawl counts).
_COUNTERS = (
    "item_scraped_count",
    "pricewatch/dropped",
    "pricewatch/pages_ok",
    "pricewatch/page_errors",
    "pricewatch/products_read",
)


class FeedError(Exception):
    """A job's items feed or outcome file cannot be read; the message says where and why."""


@dataclasses.dataclass(frozen=True)
class JobOutcome:
    """What the worker reported when its spider closed."""

    reason: str
    stats: dict[str, Any]


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


# -- reading back (the scheduler side) ---------------------------------------------------------


def parse_outcome(text: str | bytes) -> JobOutcome:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise FeedError(f"unreadable outcome file: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != OUTCOME_FORMAT:
        raise FeedError(f"outcome file in an unknown format (expected format {OUTCOME_FORMAT})")
    reason, stats = data.get("reason"), data.get("stats")
    if not isinstance(reason, str) or not isinstance(stats, dict):
        raise FeedError("outcome file without a close reason and stats")
    for key in _COUNTERS:
        value = stats.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool):
            raise FeedError(f"outcome file: {key} is not a count: {value!r}")
    return JobOutcome(reason=reason, stats=stats)


_ITEM_FIELDS = {f.name: f for f in dataclasses.fields(ListingItem)}
_ITEM_HINTS = typing.get_type_hints(ListingItem)
_DECIMAL_FIELDS = frozenset(
    name
    for name, hint in _ITEM_HINTS.items()
    if hint is Decimal or Decimal in typing.get_args(hint)
)
_REQUIRED_FIELDS = frozenset(
    name
    for name, f in _ITEM_FIELDS.items()
    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
)


def item_from_json(data: Any) -> ListingItem:
    """A `ListingItem` from one line of Scrapy's JSON-lines feed (Decimals arrive as strings,
    exactly as the spider parsed them)."""
    if not isinstance(data, dict):
        raise FeedError(f"not a listing: {data!r:.80}")
    missing = _REQUIRED_FIELDS - data.keys()
    if missing:
        raise FeedError(f"listing without {', '.join(sorted(missing))}")
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name not in _ITEM_FIELDS:
            continue  # a newer worker's extra field: the ingester reads what it knows
        if name in _DECIMAL_FIELDS and value is not None:
            try:
                value = Decimal(str(value))
            except InvalidOperation as exc:
                raise FeedError(f"{name} {value!r} is not a number") from exc
        values[name] = value
    return ListingItem(**values)


def listings_from_json(data: Any) -> list[ListingItem]:
    """The variants of one line of the feed: a `ProductItem`'s (``{"shop": ..., "product_id":
    ..., "variants": [...]}``), or one bare `ListingItem` (as a worker from before products
    wrote them)."""
    if not isinstance(data, dict) or "variants" not in data:
        return [item_from_json(data)]
    variants = data["variants"]
    if not isinstance(variants, list):
        raise FeedError(f"variants is not a list: {variants!r:.80}")
    items = []
    for number, variant in enumerate(variants, start=1):
        try:
            items.append(item_from_json(variant))
        except FeedError as exc:
            raise FeedError(f"variant {number}: {exc}") from exc
    return items


def parse_items(text: str | bytes) -> list[ListingItem]:
    """Every listing of a JSON-lines items feed, in order."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.extend(listings_from_json(json.loads(line)))
        except (ValueError, FeedError) as exc:
            raise FeedError(f"items feed line {number}: {exc}") from exc
    return items
