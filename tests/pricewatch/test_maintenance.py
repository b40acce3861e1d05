"""A damaged database is one clear line; `pricewatch check` and `pricewatch backup`."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from pricewatch.cli import cli
from pricewatch.maintenance import check_database
from pricewatch.models import CrawlStatus
from pricewatch.store import Store
from tests.support import finish, make_listing


def make_database(path: Path, colorways: int = 40) -> None:
    """A real database with a few hundred variants: many pages, so damage can hit the middle."""
    with Store(path) as store:
        crawl_id = store.start_crawl("Kith", "shopify", "https://kith.example", "USD")
        listings = [
            make_listing(f"M2002R{chr(65 + n // 26)}{chr(65 + n % 26)}", size, "150.00")
            for n in range(colorways)
            for size in ("8", "9", "10", "11")
        ]
        finish(store, crawl_id, CrawlStatus.OK, listings)


def damage(path: Path) -> None:
    size = path.stat().st_size
    with path.open("r+b") as file:  # garbage over pages in the middle of the file
        file.seek(size // 3)
        file.write(b"\xde\xad" * (size // 6))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "pricewatch.db"
    make_database(path)
    return path


@pytest.mark.parametrize(
    "command", [["colorways"], ["history", "M2002RAA"], ["status"], ["crawl"]], ids=str
)
def test_a_damaged_database_is_one_line_and_exit_1(db: Path, command: list[str]) -> None:
    damage(db)
    result = CliRunner().invoke(cli, [*command, "--db", str(db)])
    assert result.exit_code == 1, result.output
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(
        result.exception, SystemExit
    )
    [line] = [line for line in result.output.splitlines() if line.strip()]
    assert line.startswith("Error: database ") and str(db) in line and "damaged" in line
    assert "pricewatch check" in line


def test_check_says_ok_or_lists_the_damage(db: Path) -> None:
    runner = CliRunner()
    good = runner.invoke(cli, ["check", "--db", str(db)])
    assert good.exit_code == 0 and good.output == f"{db}: ok\n"
    damage(db)
    bad = runner.invoke(cli, ["check", "--db", str(db)])
    assert bad.exit_code == 1 and f"{db}: damaged" in bad.output
    assert not check_database(db).ok


def test_a_backup_taken_while_a_crawl_writes_is_whole_and_opens(db: Path, tmp_path: Path) -> None:
    """A writer commits again and again while the backup copies: the copy is one moment's
    database, passes SQLite's checks and opens as a pricewatch database."""
    writing = threading.Event()
    stop = threading.Event()

    def writer() -> None:
        with sqlite3.connect(db) as conn:
            while not stop.is_set():
                conn.execute("UPDATE variants SET misses = misses + 1")
                conn.commit()
                writing.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert writing.wait(10)
        target = tmp_path / "backups" / "copy.db"
        result = CliRunner().invoke(cli, ["backup", str(target), "--db", str(db)])
    finally:
        stop.set()
        thread.join(10)
    assert result.exit_code == 0, result.output
    assert f"Backed up {db} to {target} (checked: ok)" in result.output
    assert check_database(target).ok
    with Store(target) as copy:
        misses = {row[0] for row in copy.db.execute("SELECT misses FROM variants")}
    assert len(misses) == 1  # every variant from the same moment: no torn copy
    again = CliRunner().invoke(cli, ["backup", str(target), "--db", str(db)])
    assert again.exit_code == 1 and "exists" in again.output


def test_a_damaged_database_is_not_backed_up(db: Path, tmp_path: Path) -> None:
    damage(db)
    target = tmp_path / "copy.db"
    result = CliRunner().invoke(cli, ["backup", str(target), "--db", str(db)])
    assert result.exit_code == 1 and "damaged" in result.output
    assert not target.exists() and not (tmp_path / "copy.db.part").exists()
