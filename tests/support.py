"""Helpers shared by the tests (imported as `tests.support`)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from pricewatch.config import Config, CrawlConfig, ShopConfig
from pricewatch.replica import ReplicaShop

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text("utf-8"))


# Fast and deterministic against loopback: no politeness delays, one quick retry.
FAST_CRAWL = CrawlConfig(
    download_delay=0.0,
    autothrottle=False,
    timeout=3.0,
    retries=1,
    backoff=0.05,
    max_retry_after=5.0,
    time_limit=60.0,
)


def make_config(db_path: Path, shops: dict[str, ReplicaShop], **crawl: Any) -> Config:
    return Config(
        shops=tuple(
            ShopConfig(name=name, platform="shopify", url=shop.url, currency="USD")
            for name, shop in shops.items()
        ),
        db_path=db_path,
        crawl=dataclasses.replace(FAST_CRAWL, **crawl),
        source="<test>",
    )
