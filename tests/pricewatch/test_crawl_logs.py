"""A crawl's console says one line per shop; Scrapy's whole log goes to a file (issue 14)."""

from __future__ import annotations

import re
import socket
from pathlib import Path

from click.testing import CliRunner

from pricewatch.cli import cli
from pricewatch.crawl import new_log_file


def closed_port() -> int:
    with socket.socket() as probe:  # bound, then closed: nothing listens there
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_shop_is_one_line_on_the_console_and_its_log_is_in_a_file(
    tmp_path: Path,
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        "[crawl]\ndownload_delay = 0.0\nautothrottle = false\ntimeout = 2\nretries = 1\n"
        f'backoff = 0.05\n\n[[shops]]\nname = "Gone"\nplatform = "shopify"\n'
        f'url = "http://127.0.0.1:{closed_port()}"\ncurrency = "USD"\n'
    )
    db = tmp_path / "data" / "x.db"
    result = CliRunner().invoke(cli, ["crawl", "--config", str(config), "--db", str(db)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "ERROR" not in result.output
    table_text = re.sub(r"[\s│]", "", result.output)  # the table wraps long reasons
    assert "Connectionwasrefused" in table_text  # the reason, in the summary
    [log] = (tmp_path / "data" / "logs").glob("crawl-*.log")
    assert "Connection was refused" in log.read_text("utf-8")  # and the details, kept


def test_only_the_newest_logs_are_kept(tmp_path: Path) -> None:
    for n in range(5):
        (tmp_path / f"crawl-2026120{n}T000000.000000-1.log").write_text("old")
    new = new_log_file(tmp_path, keep=3)
    new.write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "crawl-20261203T000000.000000-1.log",
        "crawl-20261204T000000.000000-1.log",
        new.name,
    ]
