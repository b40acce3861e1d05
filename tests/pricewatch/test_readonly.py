"""Commands that only read open the database read-only: they create, migrate and write nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from pricewatch.cli import cli
from pricewatch.models import CrawlStatus
from pricewatch.store import SCHEMA_VERSION, Store, StoreError
from tests.support import finish, make_listing

READERS = [["colorways"], ["history", "M2002RDA"], ["chart", "M2002RDA"], ["status"]]


def make_database(path: Path) -> None:
    with Store(path) as store:
        crawl_id = store.start_crawl("Kith", "shopify", "https://kith.example", "USD")
        finish(store, crawl_id, CrawlStatus.OK, [make_listing("M2002RDA", "10", "150.00")])


@pytest.mark.parametrize("command", READERS, ids=lambda c: c[0])
def test_a_reader_creates_no_database_and_no_folder(tmp_path: Path, command: list[str]) -> None:
    db = tmp_path / "nowhere" / "pricewatch.db"
    result = CliRunner().invoke(cli, [*command, "--db", str(db)])
    assert result.exit_code == 1 and f"no database at {db}" in result.output
    assert not (tmp_path / "nowhere").exists()


def test_a_read_only_store_cannot_write(tmp_path: Path) -> None:
    db = tmp_path / "pw.db"
    make_database(db)
    with Store(db, readonly=True) as store:
        assert store.db.execute("SELECT count(*) FROM variants").fetchone() == (1,)
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store.db.execute("DELETE FROM variants")


def test_a_reader_does_not_migrate_an_older_database(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    make_database(db)
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    with pytest.raises(StoreError, match="older than this pricewatch: any crawl"):
        Store(db, readonly=True)
    result = CliRunner().invoke(cli, ["colorways", "--db", str(db)])
    assert result.exit_code == 1 and "older than this pricewatch" in result.output
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION - 1,)
