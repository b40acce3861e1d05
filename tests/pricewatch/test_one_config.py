"""--config and the database resolve one way for every command (issue 14, point 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pricewatch.cli import cli
from pricewatch.models import CrawlStatus
from pricewatch.store import Store
from tests.support import finish, make_listing

READERS = [
    ["colorways"],
    ["history", "M2002RDA"],
    ["chart", "M2002RDA", "-o", "chart.png"],
    ["status"],
]


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config naming its own database, state/pw.db, holding one crawl; elsewhere, in the
    directory the command runs in, a different ./data/pricewatch.db that must not be read."""
    folder = tmp_path / "site"
    folder.mkdir()
    config = folder / "pw.toml"
    config.write_text(
        'db = "state/pw.db"\n\n[[shops]]\nname = "Kith"\nplatform = "shopify"\n'
        'url = "https://kith.example"\ncurrency = "USD"\n'
    )
    with Store(folder / "state" / "pw.db") as store:
        crawl_id = store.start_crawl("Kith", "shopify", "https://kith.example", "USD")
        finish(store, crawl_id, CrawlStatus.OK, [make_listing("M2002RDA", "10", "150.00")])
    elsewhere = tmp_path / "cwd"
    (elsewhere / "data").mkdir(parents=True)
    with Store(elsewhere / "data" / "pricewatch.db"):
        pass  # empty: reading it would show nothing
    monkeypatch.chdir(elsewhere)
    for name in ("PRICEWATCH_CONFIG", "PRICEWATCH_DB"):
        monkeypatch.delenv(name, raising=False)
    return config


@pytest.mark.parametrize("command", READERS, ids=lambda c: c[0])
def test_every_reader_reads_the_database_its_config_names(
    configured: Path, command: list[str]
) -> None:
    result = CliRunner().invoke(cli, [*command, "--config", str(configured)])
    assert result.exit_code == 0, result.output
    if command[0] in ("colorways", "history"):
        assert "M2002RDA" in result.output and "150.00" in result.output


@pytest.mark.parametrize("command", [*READERS, ["web"], ["crawl"]], ids=lambda c: c[0])
def test_a_broken_config_is_exit_2_for_every_command(tmp_path: Path, command: list[str]) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[[shops]]\nname = \n")
    result = CliRunner().invoke(cli, [*command, "--config", str(broken)])
    assert result.exit_code == 2, result.output
    assert "Config error" in result.output and "broken.toml" in result.output


@pytest.mark.parametrize("command", READERS, ids=lambda c: c[0])
def test_a_missing_config_file_is_exit_2(tmp_path: Path, command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--config", str(tmp_path / "nowhere.toml")])
    assert result.exit_code == 2, result.output
