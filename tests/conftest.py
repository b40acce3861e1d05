"""Shared fixtures: replica shops on 127.0.0.1, configs pointing at them, real SQLite files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pricewatch.config import Config
from pricewatch.replica import ReplicaShop
from tests.support import make_config


@pytest.fixture
def replica() -> Iterator[ReplicaShop]:
    with ReplicaShop() as shop:
        yield shop


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "pricewatch.db"


@pytest.fixture
def config(db_path: Path, replica: ReplicaShop) -> Config:
    return make_config(db_path, {"Replica": replica})
