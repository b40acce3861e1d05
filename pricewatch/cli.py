"""The `pricewatch` command: a thin click layer over the library.

Library errors are named exceptions; this module turns each into one clear line on stderr and a
non-zero exit code (2 for a bad config or bad arguments, 1 for anything else), never a traceback.
"""

from __future__ import annotations

import functools
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from pricewatch import __version__
from pricewatch.config import ConfigError, load_config, packaged_config, resolve_db_path
from pricewatch.crawl import CrawlError, run_crawl
from pricewatch.history import UnknownStyleError, colorways, price_history
from pricewatch.output import (
    FORMATS,
    colorways_table,
    crawl_summary,
    crawl_table,
    history_table,
    rows_as_csv,
    rows_as_json,
)
from pricewatch.sizes import SizeError, format_size, parse_user_size
from pricewatch.store import Store, StoreError

console = Console(highlight=False, soft_wrap=True)


@contextmanager
def clear_errors() -> Iterator[None]:
    """Named library errors become one line and an exit code."""
    try:
        yield
    except ConfigError as exc:
        click.secho(f"Config error: {exc}", err=True, fg="red")
        sys.exit(2)
    except (UnknownStyleError, SizeError) as exc:
        click.secho(f"Error: {exc}", err=True, fg="red")
        sys.exit(2)
    except (StoreError, CrawlError) as exc:
        click.secho(f"Error: {exc}", err=True, fg="red")
        sys.exit(1)


def common_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--config and --db on every subcommand too, so they work before or after its name."""

    @click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        help="Config file (default: $PRICEWATCH_CONFIG or ./pricewatch.toml).",
    )
    @click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False),
        help="SQLite database (default: $PRICEWATCH_DB or data/pricewatch.db).",
    )
    @click.pass_context
    @functools.wraps(command)
    def wrapper(
        ctx: click.Context, config_path: str | None, db_path: str | None, **kwargs: Any
    ) -> Any:
        obj = ctx.ensure_object(dict)
        obj["config"] = config_path or obj.get("config")
        obj["db"] = db_path or obj.get("db")
        with clear_errors():
            return ctx.invoke(command, **kwargs)

    return wrapper


def _config(ctx: click.Context) -> Any:
    return load_config(ctx.obj.get("config"), db=ctx.obj.get("db"))


def _store(ctx: click.Context) -> Store:
    return Store(resolve_db_path(ctx.obj.get("db")), create=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file (default: $PRICEWATCH_CONFIG or ./pricewatch.toml).",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    help="SQLite database (default: $PRICEWATCH_DB or data/pricewatch.db).",
)
@click.version_option(__version__, prog_name="pricewatch")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db_path: str | None) -> None:
    """Watch prices and stock of New Balance 2002R colorways across sneaker shops.

    \b
    Example:
        pricewatch demo                      # offline: a replica shop, two crawls
        pricewatch crawl                     # crawl every enabled shop in the config
        pricewatch colorways                 # what is tracked, cheapest now
        pricewatch history M2002RDA --size 10
    """
    ctx.ensure_object(dict)
    ctx.obj["config"] = config_path
    ctx.obj["db"] = db_path


@cli.command()
@click.option(
    "--shop",
    "shops",
    multiple=True,
    metavar="NAME",
    help="Crawl only this shop (repeatable; default: every enabled shop).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's log (INFO).")
@common_options
@click.pass_context
def crawl(ctx: click.Context, shops: tuple[str, ...], verbose: bool) -> None:
    """Crawl shops, store prices and stock, print a summary.

    Exit code 0 when every shop's crawl succeeded, 1 when any failed.

    \b
    Example:
        pricewatch crawl
        pricewatch crawl --shop Kith --shop "Shoe Palace" --db data/pricewatch.db
    """
    config = _config(ctx)
    reports = run_crawl(
        config, config.select_shops(shops), log_level="INFO" if verbose else "WARNING"
    )
    console.print(crawl_table(reports))
    console.print(crawl_summary(reports))
    if not all(r.ok for r in reports):
        sys.exit(1)


@cli.command(name="colorways")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@common_options
@click.pass_context
def colorways_command(ctx: click.Context, fmt: str) -> None:
    """What is tracked: style code, colorway name, shops, cheapest now.

    \b
    Example:
        pricewatch colorways
        pricewatch colorways --format json
    """
    with _store(ctx) as store:
        rows = colorways(store)
    if fmt == "table":
        console.print(colorways_table(rows))
    else:
        click.echo(rows_as_json(rows) if fmt == "json" else rows_as_csv(rows), nl=False)


@cli.command()
@click.argument("style")
@click.option("--size", help="Size: US men's (10, 10.5), or uk9.5, eu44, w11.5.")
@click.option("--shop", help="Only this shop.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@common_options
@click.pass_context
def history(ctx: click.Context, style: str, size: str | None, shop: str | None, fmt: str) -> None:
    """Price and stock history of one colorway: one row per change.

    \b
    Example:
        pricewatch history M2002RDA --size 10
        pricewatch history M2002RDA --size eu44 --shop Kith --format csv > m2002rda.csv
    """
    size_us = parse_user_size(size) if size else None
    with _store(ctx) as store:
        rows = price_history(store, style, size_us=size_us, shop=shop)
    if fmt == "json":
        click.echo(rows_as_json(rows))
    elif fmt == "csv":
        click.echo(rows_as_csv(rows), nl=False)
    else:
        title = f"{style.upper()}" + (f" US {format_size(size_us)}" if size_us else "")
        console.print(history_table(rows, f"Price history: {title}"))
        if not rows:
            console.print("No history for that size/shop yet.")


@cli.command()
@click.option("--demo", "which", flag_value="demo", help="Write the demo config instead.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.argument("path", default="pricewatch.toml", type=click.Path(dir_okay=False))
def init(path: str, which: str | None, force: bool) -> None:
    """Write a starter config (real Shopify shops) to edit.

    \b
    Example:
        pricewatch init                  # ./pricewatch.toml
        pricewatch init --demo demo.toml
    """
    target = Path(path)
    if target.exists() and not force:
        click.secho(f"Error: {target} exists (use --force to overwrite)", err=True, fg="red")
        sys.exit(1)
    target.write_text(packaged_config(which or "default"), "utf-8")
    click.echo(f"Wrote {target}: edit the [[shops]] entries, then run `pricewatch crawl`.")


@cli.command()
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    default="data/demo.db",
    show_default=True,
    help="Database for the demo (recreated on each run).",
)
@click.option("--style", default="M2002RDA", show_default=True, help="Colorway to follow.")
@click.option("--size", default="10", show_default=True, help="Size to follow (US men's).")
def demo(db_path: str, style: str, size: str) -> None:
    """Offline demo of the whole pipeline against a local replica shop.

    Starts two replica Shopify shops on 127.0.0.1, crawls them with the real spider and
    pipeline, shows the colorways and one price history, drops a price and sells out a size
    in the replica, crawls again, and shows what changed.

    \b
    Example:
        pricewatch demo
        pricewatch history M2002RDA --size 10 --db data/demo.db
    """
    from pricewatch.demo import run_demo

    with clear_errors():
        run_demo(Path(db_path), style=style, size_us=parse_user_size(size), console=console)


def main() -> None:
    # rich wraps to the terminal; keep CSV/JSON untouched when piped
    console.width = max(console.width, shutil.get_terminal_size((120, 24)).columns)
    cli(prog_name="pricewatch")
