"""What people read and feed to spreadsheets: plain CSV cells, headers when empty, status in
80 columns, and an unknown shop that says which shops exist."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from pricewatch.cli import cli
from pricewatch.config import Config, ShopConfig
from pricewatch.models import CrawlStatus, Stock
from pricewatch.output import status_table
from pricewatch.status import watch_status
from pricewatch.store import Store
from tests.support import finish, make_listing

LONG = "A Shop With A Rather Long Name, Really"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "pw.db"
    with Store(path) as store:
        for shop, price in (("Kith", "150.00"), ("Bodega", "140.00")):
            crawl_id = store.start_crawl(shop, "shopify", f"https://{shop.lower()}.example", "USD")
            listings = [
                make_listing("M2002RDA", "10", price, shop=shop),
                make_listing("M2002RDA", "11", price, Stock.SOLD_OUT, shop=shop),
            ]
            finish(store, crawl_id, CrawlStatus.OK, listings)
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_colorways_csv_cells_are_plain_values(db: Path) -> None:
    code, out = run("colorways", "--db", str(db), "--format", "csv")
    assert code == 0
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert row["shops"] == "Bodega; Kith"
    assert row["cheapest"] == "140.00 USD at Bodega"
    assert "[" not in out and "<Stock" not in out and "Offer(" not in out


def test_history_csv_says_stock_in_words_and_an_empty_result_keeps_its_header(db: Path) -> None:
    code, out = run("history", "M2002RDA", "--size", "11", "--db", str(db), "--format", "csv")
    assert code == 0 and {r["stock"] for r in csv.DictReader(io.StringIO(out))} == {"sold out"}
    code, empty = run("history", "M2002RDA", "--size", "12", "--db", str(db), "--format", "csv")
    assert code == 0 and empty.startswith("first_seen,last_seen,shop,") and empty.count("\n") == 1
    code, none = run("history", "M2002RDA", "--size", "12", "--db", str(db), "--format", "json")
    assert code == 0 and json.loads(none) == []


def test_an_unknown_shop_is_an_error_that_lists_the_shops(db: Path) -> None:
    code, out = run("history", "M2002RDA", "--shop", "Kit", "--db", str(db))
    assert code == 2 and "no shop named 'Kit' in the database (known: Bodega, Kith)" in out
    code, out = run("history", "M2002RDA", "--shop", "kith", "--db", str(db), "--format", "json")
    assert code == 0 and {row["shop"] for row in json.loads(out)} == {"Kith"}


def test_status_fits_80_columns_one_line_per_shop(db: Path) -> None:
    shops = tuple(
        ShopConfig(name=n, platform="shopify", url=f"https://{i}.example", currency="USD")
        for i, n in enumerate(("Kith", "Bodega", LONG))
    )
    config = Config(shops=shops, db_path=db)
    with Store(db) as store:
        report = watch_status(config, store)
    console = Console(width=80, record=True, color_system=None)
    console.print(status_table(report))
    lines = console.export_text().splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert "…" not in "\n".join(lines)
    assert lines[1].split() == [
        "shop",
        "last",
        "crawl",
        "status",
        "changes",
        "fails",
        "24h",
        "next",
        "run",
    ]
    assert sum(1 for line in lines if line.startswith(("Kith", "Bodega"))) == 2
    wide = Console(width=200, record=True, color_system=None)
    wide.print(status_table(report, wide=True))
    text = wide.export_text()
    assert "schedule" in text and "error" in text
