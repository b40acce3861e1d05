"""A product that cannot be parsed: how its reason is written, and who hears of it.

Parsing stays pure (no Scrapy, no stats): a parser that meets an unreadable product yields a
`ProductItem` with ``error`` set and tells an optional ``on_error`` handler, which in a crawl
is the spider's `PlatformSpider.product_unreadable` (it counts and logs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from scrapers.items import ProductItem

__all__ = ["REASON_LENGTH", "ProductErrorHandler", "ProductFailure", "error_reason"]

# A reason goes into the crawl's record and the log line, not a traceback: keep it one line.
REASON_LENGTH = 200

# (the item, and the exception when one was raised; None for data found unreadable without one)
ProductErrorHandler = Callable[[ProductItem, Exception | None], None]


def error_reason(exc: BaseException) -> str:
    """The reason an item carries: "<ExceptionType>: <short message>", on one line."""
    message = " ".join(str(exc).split())
    reason = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return reason if len(reason) <= REASON_LENGTH else reason[: REASON_LENGTH - 3] + "..."


@dataclass(frozen=True)
class ProductFailure:
    """A product of a page that could not be read (`scrapers.parsing.jsonld.PageData`): the
    id its variants are known by (its style code at the shop, "" when none could be found),
    why, and the exception when one was raised (for the log's DEBUG traceback)."""

    product_id: str
    reason: str
    exception: Exception | None = field(default=None, compare=False)
