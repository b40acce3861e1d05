"""Fixtures of the bot tests: a local Bot API server and a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pricewatch.store import Store
from tests.bot.botapi import BotApiServer


@pytest.fixture
def server() -> Iterator[BotApiServer]:
    with BotApiServer() as api:
        yield api


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "delivery.db") as opened:
        yield opened
