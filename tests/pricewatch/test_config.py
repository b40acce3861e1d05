"""Config: read once, validated, errors that name the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pricewatch.config import (
    DEFAULT_DB,
    Config,
    ConfigError,
    load_config,
    packaged_config,
    parse_config,
)

GOOD = """\
[crawl]
download_delay = 2
retries = 5

[[shops]]
name = "Kith"
platform = "shopify"
url = "https://kith.com/"
currency = "usd"

[[shops]]
name = "A Ma Maniere"
platform = "shopify"
url = "https://www.a-ma-maniere.com"
currency = "USD"
collection = "new-balance"
enabled = false
"""


def test_good_config_is_parsed_into_frozen_dataclasses() -> None:
    config = parse_config(GOOD)
    kith, amm = config.shops
    assert kith.url == "https://kith.com" and kith.currency == "USD"
    assert amm.collection == "new-balance" and amm.enabled is False
    assert config.crawl.download_delay == 2.0 and config.crawl.retries == 5
    assert config.select_shops() == (kith,)
    assert config.select_shops(["a ma maniere"]) == (amm,)
    with pytest.raises(AttributeError):
        kith.name = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        (
            'platform = "shopify"\nurl = "https://kith.com/"',
            'platform = "magento"\nurl = "https://kith.com/"',
            r"<t>:7: .*unknown platform 'magento'",
        ),
        ('url = "https://kith.com/"', 'url = "kith.com"', r"<t>:8: .*bad url 'kith.com'"),
        ('currency = "usd"', 'currency = "dollars"', r"<t>:9: .*bad currency"),
        ('name = "A Ma Maniere"', 'name = "kith"', r"<t>:12: duplicate shop name 'kith' .*line 5"),
        ("retries = 5", 'retries = "five"', r"<t>:3: \[crawl\] retries must be a int"),
        ("retries = 5", "retry = 5", r"<t>:3: unknown \[crawl\] setting 'retry'"),
        ('collection = "new-balance"', 'collection = "New Balance!"', r"<t>:16: .*bad collection"),
        ('currency = "usd"', 'currency = "usd"\nfavourite = 1', r"<t>:10: unknown shop setting"),
        ("[crawl]", "[crawl\n", r"not valid TOML"),
    ],
)
def test_bad_config_is_refused_with_the_line(replace: str, by: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(GOOD.replace(replace, by, 1), source="<t>")


def test_missing_required_key_is_named() -> None:
    with pytest.raises(ConfigError, match="'currency' is required"):
        parse_config('[[shops]]\nname = "X"\nplatform = "shopify"\nurl = "https://x.com"\n')


def test_packaged_configs_parse() -> None:
    default = parse_config(packaged_config("default"))
    names = {shop.name for shop in default.shops}
    assert {
        "Kith",
        "Concepts",
        "Shoe Palace",
        "Bodega",
        "Extra Butter",
        "Sneaker Politics",
        "Undefeated",
        "atmos USA",
    } <= names
    assert all(shop.platform == "shopify" for shop in default.shops if shop.enabled)
    demo = parse_config(packaged_config("demo"))
    assert all(shop.url.startswith("http://127.0.0.1") for shop in demo.shops)


def test_config_file_order_env_then_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config(env={}).source == "<packaged default config>"
    (tmp_path / "pricewatch.toml").write_text(GOOD)
    assert load_config(env={}).source.endswith("pricewatch.toml")
    other = tmp_path / "other.toml"
    other.write_text(GOOD.replace("Kith", "Kith EU"))
    assert load_config(env={"PRICEWATCH_CONFIG": str(other)}).shops[0].name == "Kith EU"
    explicit = load_config(tmp_path / "pricewatch.toml", env={"PRICEWATCH_CONFIG": str(other)})
    assert explicit.shops[0].name == "Kith"


def test_db_path_order(tmp_path: Path) -> None:
    config_file = tmp_path / "conf" / "pricewatch.toml"
    config_file.parent.mkdir()
    config_file.write_text('db = "state/prices.db"\n' + GOOD)
    assert load_config(config_file, env={}).db_path == config_file.parent / "state/prices.db"
    env = {"PRICEWATCH_DB": "/tmp/env.db"}
    assert load_config(config_file, env=env).db_path == Path("/tmp/env.db")
    assert load_config(config_file, db="cli.db", env=env).db_path == Path("cli.db")
    assert parse_config(GOOD).db_path == DEFAULT_DB


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "nope.toml", env={})


def test_json_round_trip_for_the_crawl_child() -> None:
    config = parse_config(GOOD)
    assert Config.from_json(config.to_json()) == config


SCRAPYD = """\
[crawl]
backend = "scrapyd"
scrapyd_urls = ["http://10.0.0.5:6800/", "https://scrapyd.example.com/pw"]
scrapyd_project = "pricewatch-eu"
"""


def test_scrapyd_backend_settings_are_read_and_survive_json() -> None:
    config = parse_config(SCRAPYD)
    assert config.crawl.backend == "scrapyd"
    assert config.crawl.scrapyd_urls == ("http://10.0.0.5:6800", "https://scrapyd.example.com/pw")
    assert config.crawl.scrapyd_project == "pricewatch-eu"
    assert Config.from_json(config.to_json()) == config  # a tuple again, not a list
    assert parse_config("").crawl.backend == "local"


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ('backend = "scrapyd"', 'backend = "celery"', r"<t>:2: \[crawl\] backend 'celery' is not"),
        ('backend = "scrapyd"', "backend = 1", r"<t>:2: \[crawl\] backend must be a str"),
        (
            'scrapyd_urls = ["http://10.0.0.5:6800/", "https://scrapyd.example.com/pw"]',
            "scrapyd_urls = []",
            r'<t>:2: \[crawl\] backend = "scrapyd" needs scrapyd_urls',
        ),
        (
            'scrapyd_urls = ["http://10.0.0.5:6800/", "https://scrapyd.example.com/pw"]',
            'scrapyd_urls = "http://10.0.0.5:6800"',
            r"<t>:3: \[crawl\] scrapyd_urls must be a list of URLs",
        ),
        ('"http://10.0.0.5:6800/"', '"10.0.0.5:6800"', r"<t>:3: .*bad URL '10.0.0.5:6800'"),
        ('"http://10.0.0.5:6800/"', '"http://u:p@10.0.0.5:6800"', r"<t>:3: .*without credentials"),
        ('"https://scrapyd.example.com/pw"', '"http://10.0.0.5:6800"', r"<t>:3: .*a URL twice"),
        ('"pricewatch-eu"', '"price watch"', r"<t>:4: \[crawl\] scrapyd_project must be a name"),
    ],
)
def test_bad_scrapyd_settings_are_refused_with_the_line(
    replace: str, by: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(SCRAPYD.replace(replace, by, 1), source="<t>")


def test_the_crawl_worker_settings() -> None:
    shop = (
        '\n[[shops]]\nname = "Kith"\nplatform = "shopify"\nurl = "https://kith.com"\n'
        'currency = "USD"\n'
    )
    default = parse_config(shop, source="<t>").crawl
    assert (default.isolate, default.worker_recycle_crawls, default.worker_max_memory) == (
        False,
        200,
        300.0,
    )
    chosen = parse_config(
        "[crawl]\nisolate = true\nworker_recycle_crawls = 5\n" + shop, source="<t>"
    )
    assert chosen.crawl.isolate and chosen.crawl.worker_recycle_crawls == 5
    with pytest.raises(ConfigError, match="worker_recycle_crawls must be at least 1"):
        parse_config("[crawl]\nworker_recycle_crawls = 0\n" + shop, source="<t>")
    with pytest.raises(ConfigError, match="isolate must be a bool"):
        parse_config('[crawl]\nisolate = "yes"\n' + shop, source="<t>")
