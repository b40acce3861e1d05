"""The `pricewatch` command: real crawls of a replica shop, outputs, exit codes, clear errors."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pricewatch.cli import cli
from pricewatch.replica import ReplicaShop
from tests.support import shops_toml


def write_config(path: Path, *shops: tuple[str, ReplicaShop]) -> Path:
    text = "[crawl]\ndownload_delay = 0\nautothrottle = false\ntimeout = 3\nretries = 0\n"
    path.write_text(text + shops_toml(dict(shops)))
    return path


@pytest.fixture
def crawled(tmp_path: Path, replica: ReplicaShop) -> tuple[Path, Path]:
    config = write_config(tmp_path / "pricewatch.toml", ("Replica", replica))
    db = tmp_path / "prices.db"
    result = CliRunner().invoke(cli, ["crawl", "--config", str(config), "--db", str(db)])
    assert result.exit_code == 0, result.output
    return config, db


def test_crawl_prints_a_summary(crawled: tuple[Path, Path], replica: ReplicaShop) -> None:
    config, db = crawled
    replica.set_price("M2002RDA", "120.00", size="10")
    result = CliRunner().invoke(cli, ["--db", str(db), "crawl", "--config", str(config)])
    assert result.exit_code == 0
    assert "1 shop(s) ok, 0 failed; 15 products, 182 variants, 1 changes" in result.output


def test_crawl_exits_1_when_a_shop_fails(tmp_path: Path, replica: ReplicaShop) -> None:
    with ReplicaShop() as broken:
        broken.misbehave("500")
        config = write_config(tmp_path / "c.toml", ("Good", replica), ("Broken", broken))
        result = CliRunner().invoke(
            cli, ["crawl", "--config", str(config), "--db", str(tmp_path / "x.db")]
        )
    assert result.exit_code == 1
    assert "1 shop(s) ok, 1 failed" in result.output and "HTTP 500" in result.output


def test_crawl_one_shop_by_name(tmp_path: Path, replica: ReplicaShop) -> None:
    with ReplicaShop() as other:
        config = write_config(tmp_path / "c.toml", ("A", replica), ("B", other))
        result = CliRunner().invoke(
            cli, ["crawl", "--shop", "b", "--config", str(config), "--db", str(tmp_path / "x.db")]
        )
        assert result.exit_code == 0, result.output
        assert replica.requests == [] and other.requests


def test_colorways_json_and_csv(crawled: tuple[Path, Path]) -> None:
    _, db = crawled
    data = json.loads(
        CliRunner().invoke(cli, ["colorways", "--db", str(db), "--format", "json"]).output
    )
    codes = {row["style_code"]: row for row in data}
    assert "M2002RDA" in codes and "M990GL6" not in codes
    assert codes["M2002RDA"]["cheapest"][0]["price"] == "144.99"  # exact, a string
    text = CliRunner().invoke(cli, ["colorways", "--db", str(db), "--format", "csv"]).output
    assert next(csv.DictReader(io.StringIO(text)))["style_code"] == "IV2002RA"


def test_colorways_table_groups_by_family_with_catalog_names(crawled: tuple[Path, Path]) -> None:
    _, db = crawled
    result = CliRunner().invoke(cli, ["colorways", "--db", str(db)])
    assert result.exit_code == 0, result.output
    first_line = {}
    for number, line in enumerate(result.output.splitlines()):
        code = line.strip("│ ").split(" ")[0]
        first_line.setdefault(code, (number, line))
    # families in the catalog's order (Inline, Core, Protection Pack, GORE-TEX, Mule, Collab,
    # Kids), not by code: the kids' IV2002RA last, the Salehe Bembury collab before it
    order = ["U2002RBL", "M2002RHO", "M2002RDA", "M2002RXU", "M2002NA", "ML2002R1", "IV2002RA"]
    assert [first_line[code][0] for code in order] == sorted(first_line[c][0] for c in order)
    assert "Protection" in first_line["M2002RDA"][1] and "Mule" in first_line["M2002NA"][1]


def test_history_formats_and_size_systems(crawled: tuple[Path, Path]) -> None:
    _, db = crawled
    runner = CliRunner()
    by_us = runner.invoke(
        cli, ["history", "m2002rda", "--size", "10", "--db", str(db), "--format", "json"]
    )
    assert by_us.exit_code == 0, by_us.output
    rows = json.loads(by_us.output)
    assert [(r["size_label"], r["price"], r["stock"]) for r in rows] == [
        ("10", "144.99", "in_stock")
    ]
    by_eu = runner.invoke(
        cli, ["history", "M2002RDA", "--size", "eu44", "--db", str(db), "--format", "json"]
    )
    assert json.loads(by_eu.output) == rows
    by_name = runner.invoke(
        cli, ["history", "rain cloud", "--size", "10", "--db", str(db), "--format", "json"]
    )
    assert json.loads(by_name.output) == rows  # a colorway's name works like its code
    table = runner.invoke(cli, ["history", "M2002RDA", "--size", "uk9.5", "--db", str(db)])
    assert "$144.99" in table.output and "in stock" in table.output
    as_csv = runner.invoke(cli, ["history", "M2002RDA", "--db", str(db), "--format", "csv"])
    assert as_csv.output.splitlines()[0].startswith("first_seen,last_seen,shop,style_code")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["history", "M2002RDX"], "style code M2002RDX is not tracked (did you mean M2002R"),
        (["history", "M2002RDA", "--size", "99"], "Error:"),
        (["history", "phantom"], "did you mean Protection Pack Phantom (M2002RDB) or Core Pack"),
        (["chart", "jjjjound"], "JJJJound GORE-TEX has no known style code yet"),
        (["history", "M2002RDA", "--format", "xml"], "Invalid value for '--format'"),
    ],
)
def test_bad_input_is_one_clear_line(
    crawled: tuple[Path, Path], args: list[str], message: str
) -> None:
    _, db = crawled
    result = CliRunner().invoke(cli, [*args, "--db", str(db)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_demo_takes_a_name_and_an_ambiguous_one_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = CliRunner().invoke(cli, ["demo", "--style", "phantom", "--db", str(db)])
    assert result.exit_code == 2
    assert "did you mean Protection Pack Phantom (M2002RDB) or Core Pack" in result.output
    assert "Traceback" not in result.output and not db.exists()  # nothing started


def test_missing_database_and_bad_config_are_clear(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["colorways", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1 and "no database at" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[shops]]\nname = "X"\nplatform = "magento"\nurl = "https://x.com"\ncurrency = "USD"\n'
    )
    result = CliRunner().invoke(cli, ["crawl", "--config", str(bad)])
    assert result.exit_code == 2 and f"{bad}:3" in result.output and "magento" in result.output


def test_every_command_has_help_with_an_example() -> None:
    for command in ["crawl", "colorways", "history", "demo", "init"]:
        result = CliRunner().invoke(cli, [command, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output, command


@pytest.mark.skipif(
    shutil.which("pricewatch", path=os.path.dirname(sys.executable)) is None,
    reason="console script not installed in this environment",
)
def test_installed_command_runs_the_demo_from_any_directory(tmp_path: Path) -> None:
    """`pip install .` gives a `pricewatch` that finds its own data files from anywhere."""
    script = shutil.which("pricewatch", path=os.path.dirname(sys.executable))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRICEWATCH")}
    env["PYTHONPATH"] = ""  # the installed package, not the checkout
    done = subprocess.run(
        [script, "demo"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "M2002RDA US 10 at Replica Kicks: price $144.99 -> $129.99" in done.stdout
    # the point of it all: the alerts, as the subscriber reads them in Telegram
    assert "Price drop · Rain Cloud (M2002RDA) · Replica Kicks" in done.stdout
    assert "US 10: $144.99 → $129.99, -$15.00 (-10%)" in done.stdout
    assert "Back in stock · Phantom (M2002RDB) · Replica Kicks" in done.stdout
    assert "US 10: $150.00, back after" in done.stdout
    assert (tmp_path / "data" / "demo.db").exists()
    history = subprocess.run(
        [script, "history", "M2002RDA", "--size", "10", "--db", "data/demo.db", "--format", "json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    rows = [row for row in json.loads(history.stdout) if row["shop"] == "Replica Kicks"]
    # eight backdated weeks of made-up demo prices, then the two real crawls' prices
    assert [row["price"] for row in rows][-2:] == ["144.99", "129.99"] and len(rows) == 10
    assert rows[0]["first_seen"] < rows[-1]["first_seen"][:4] + "-99"  # ISO text, sortable
    assert "Demo data: M2002RDA's history is backdated 8 weeks" in done.stdout


def test_init_writes_a_config_that_loads(tmp_path: Path) -> None:
    target = tmp_path / "pricewatch.toml"
    assert CliRunner().invoke(cli, ["init", str(target)]).exit_code == 0
    assert 'name = "Kith"' in target.read_text()
    again = CliRunner().invoke(cli, ["init", str(target)])
    assert again.exit_code == 1 and "exists" in again.output


def test_run_without_a_bot_token_is_refused_with_a_clear_line(
    tmp_path: Path, replica: ReplicaShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    config = write_config(tmp_path / "c.toml", ("Replica", replica))
    result = CliRunner().invoke(
        cli, ["run", "--config", str(config), "--db", str(tmp_path / "x.db")]
    )
    assert result.exit_code == 2
    assert "no bot token: set TELEGRAM_BOT_TOKEN" in result.output
    assert "Traceback" not in result.output
