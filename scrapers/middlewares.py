"""Retries that wait: exponential back-off, and Retry-After honoured.

Scrapy's RetryMiddleware retries at once, which hammers a shop that is already saying "slow
down" (429/430/503). This one delays each retry: by the server's Retry-After when it sends one
(up to a cap; longer than that, the page fails instead of stalling the crawl), otherwise by
``PRICEWATCH_RETRY_BACKOFF * 2**(attempt-1)`` seconds with +-25% jitter.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor
from twisted.internet.task import deferLater

from pricewatch.config import CRAWL_DEFAULTS

DELAY_KEY = "pricewatch_retry_delay"


def retry_after_seconds(value: bytes | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date; None if absent/bad."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    backoff: float
    max_retry_after: float

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        middleware = super().from_crawler(crawler)
        middleware.backoff = crawler.settings.getfloat(
            "PRICEWATCH_RETRY_BACKOFF", CRAWL_DEFAULTS.backoff
        )
        middleware.max_retry_after = crawler.settings.getfloat(
            "PRICEWATCH_MAX_RETRY_AFTER", CRAWL_DEFAULTS.max_retry_after
        )
        return middleware

    async def process_request(self, request: Request) -> None:
        delay = request.meta.pop(DELAY_KEY, 0)
        if delay > 0:
            await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))

    def process_response(
        self, request: Request, response: Response, spider: object = None
    ) -> Request | Response:
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        wait = retry_after_seconds(response.headers.get(b"Retry-After"))
        if wait is not None and wait > self.max_retry_after:
            self.crawler.stats.inc_value("pricewatch/retry_after_too_long")
            return response  # fails the page with its status; the next crawl tries again
        retry = self._retry(request, f"HTTP {response.status}")
        if retry is None:
            return response
        retry.meta[DELAY_KEY] = wait if wait is not None else self._backoff(retry)
        return retry

    def process_exception(
        self, request: Request, exception: Exception, spider: object = None
    ) -> Request | Response | None:
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            result.meta[DELAY_KEY] = self._backoff(result)
        return result

    def _backoff(self, request: Request) -> float:
        attempt = max(1, int(request.meta.get("retry_times", 1)))
        return self.backoff * 2 ** (attempt - 1) * random.uniform(0.75, 1.25)
