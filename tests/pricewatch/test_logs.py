"""One logging setup for the service commands: ISO timestamps, a file, -v/-q, [log]."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pricewatch.config import ConfigError, LogConfig, parse_config
from pricewatch.logs import setup_logging

SHOP = (
    '[[shops]]\nname = "Kith"\nplatform = "shopify"\nurl = "https://kith.com"\ncurrency = "USD"\n'
)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        if handler not in handlers:
            handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_lines_carry_iso_utc_timestamps_and_go_to_the_file_too(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "pw.log"
    setup_logging(LogConfig(), log_file=str(log_file))
    logging.getLogger("pricewatch.scheduler").info("crawl finished: Kith ok")
    logging.getLogger("httpx").info("HTTP Request: GET ...")  # chatter, below WARNING
    text = log_file.read_text("utf-8")
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INFO pricewatch.scheduler: crawl finished: Kith ok\n",
        text,
    )


@pytest.mark.parametrize(("verbosity", "level"), [(-1, "WARNING"), (0, "ERROR"), (1, "DEBUG")])
def test_the_command_line_wins_over_the_config(verbosity: int, level: str) -> None:
    setup_logging(LogConfig(level="ERROR"), verbosity=verbosity)
    assert logging.getLevelName(logging.getLogger().level) == level


def test_the_log_section_is_read_and_checked(tmp_path: Path) -> None:
    config = parse_config(f'[log]\nfile = "pw.log"\nlevel = "debug"\n\n{SHOP}', base_dir=tmp_path)
    assert config.log == LogConfig(file=str(tmp_path / "pw.log"), level="debug")
    with pytest.raises(ConfigError, match=r"<string>:2: \[log\] level must be one of"):
        parse_config(f'[log]\nlevel = "loud"\n\n{SHOP}')
