from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scrapers.middlewares import retry_after_seconds

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (b"7", 7.0),
        (b" 120 ", 120.0),
        (b"Wed, 25 Nov 2026 12:00:30 GMT", 30.0),
        (b"Wed, 25 Nov 2026 11:00:00 GMT", 0.0),  # in the past: retry now
        (b"soon", None),
        (b"", None),
        (None, None),
    ],
)
def test_retry_after_header(header: bytes | None, seconds: float | None) -> None:
    assert retry_after_seconds(header, now=NOW) == seconds
