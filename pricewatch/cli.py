"""The `pricewatch` command: a thin click layer over the library.

Library errors are named exceptions; this module turns each into one clear line on stderr and a
non-zero exit code (2 for a bad config or bad arguments, 1 for anything else), never a traceback.
"""

from __future__ import annotations

import functools
import shutil
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from pricewatch import __version__
from pricewatch.backends import ScrapydError, backend_for
from pricewatch.config import ConfigError, load_config, packaged_config, resolve_db_path
from pricewatch.crawl import CrawlError
from pricewatch.history import (
    ColorwaySummary,
    HistoryRow,
    NoHistoryError,
    SinceError,
    UnknownShopError,
    UnknownStyleError,
    colorways,
    history_summary,
    parse_since,
    price_history,
    tracked_styles,
)
from pricewatch.lookup import ColorwayLookupError, resolve
from pricewatch.maintenance import DamagedDatabase, backup_database, check_database
from pricewatch.output import (
    FORMATS,
    colorways_table,
    crawl_summary,
    crawl_table,
    history_table,
    rows_as_csv,
    rows_as_json,
    summary_table,
)
from pricewatch.sizes import SizeError, format_size, parse_user_size
from pricewatch.store import Store, StoreError
from pricewatch.web.server import WebUnavailableError

console = Console(highlight=False, soft_wrap=True)


@contextmanager
def clear_errors() -> Iterator[None]:
    """Named library errors become one line and an exit code."""
    try:
        yield
    except ConfigError as exc:
        click.secho(f"Config error: {exc}", err=True, fg="red")
        sys.exit(2)
    except (
        UnknownStyleError,
        UnknownShopError,
        SizeError,
        SinceError,
        NoHistoryError,
        ColorwayLookupError,
    ) as exc:
        click.secho(f"Error: {exc}", err=True, fg="red")
        sys.exit(2)
    except (StoreError, CrawlError, ScrapydError, WebUnavailableError) as exc:
        click.secho(f"Error: {exc}", err=True, fg="red")
        sys.exit(1)
    except sqlite3.OperationalError as exc:  # locked past the busy timeout, disk full...
        click.secho(f"Error: database {_current_db()}: {exc}", err=True, fg="red")
        sys.exit(1)
    except sqlite3.DatabaseError as exc:  # damage SQLite found while reading: one line
        click.secho(f"Error: {DamagedDatabase(_current_db(), str(exc))}", err=True, fg="red")
        sys.exit(1)


def _current_db() -> Path:
    """The database the running command uses, for an error about it."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    try:
        return resolve_db_path((obj or {}).get("db"), config_path=(obj or {}).get("config"))
    except ConfigError:
        return Path("(the database)")


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file (default: $PRICEWATCH_CONFIG or ./pricewatch.toml).",
)
db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    help="SQLite database (default: $PRICEWATCH_DB or data/pricewatch.db).",
)


def common_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--config and --db on every subcommand too, so they work before or after its name."""

    @config_option
    @db_option
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
    return Store(_db_path(ctx), readonly=True)  # readers create, migrate and lock nothing


def _db_path(ctx: click.Context) -> Path:
    """The one way every command finds the database (--db, env, --config's db, default)."""
    return resolve_db_path(ctx.obj.get("db"), config_path=ctx.obj.get("config"))


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@config_option
@db_option
@click.option(
    "-v", "--verbose", "verbose", count=True, help="run/schedule/bot: log at DEBUG, libraries too."
)
@click.option("-q", "--quiet", is_flag=True, help="run/schedule/bot: log warnings and errors only.")
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False),
    help="run/schedule/bot: log here too (default: [log] file in the config).",
)
@click.version_option(__version__, prog_name="pricewatch")
@click.pass_context
def cli(
    ctx: click.Context,
    config_path: str | None,
    db_path: str | None,
    verbose: int,
    quiet: bool,
    log_file: str | None,
) -> None:
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
    ctx.obj["verbosity"] = -1 if quiet else verbose
    ctx.obj["log_file"] = log_file


def _service_logging(ctx: click.Context, config: Any) -> None:
    """The one logging setup of the commands that run as a service (pricewatch.logs)."""
    from pricewatch.logs import setup_logging

    root = ctx.find_root().obj or {}
    setup_logging(config.log, verbosity=root.get("verbosity", 0), log_file=root.get("log_file"))


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
    reports = backend_for(config).crawl(
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
        text = rows_as_json(rows) + "\n" if fmt == "json" else rows_as_csv(rows, ColorwaySummary)
        click.echo(text, nl=False)


@cli.command()
@click.argument("style", metavar="COLORWAY")
@click.option("--size", help="Size: US men's (10, 10.5), or uk9.5, eu44, w11.5.")
@click.option("--shop", help="Only this shop.")
@click.option("--since", help="Only changes still true after: 30d, 12h, 2w, 6m or 2026-10-01.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@common_options
@click.pass_context
def history(
    ctx: click.Context,
    style: str,
    size: str | None,
    shop: str | None,
    since: str | None,
    fmt: str,
) -> None:
    """Price and stock history of one colorway (a style code or a name): one row per change.

    The table ends with a summary: lowest price ever and in the period (in stock, per
    currency), cheapest in stock now and where, and when it was last in stock. CSV and JSON
    hold the rows only.

    \b
    Example:
        pricewatch history M2002RDA --size 10
        pricewatch history "rain cloud" --size 10
        pricewatch history M2002RDA --size eu44 --since 30d
        pricewatch history M2002RDA --size eu44 --shop Kith --format csv > m2002rda.csv
    """
    size_us = parse_user_size(size) if size else None
    since_ts = parse_since(since) if since else None
    with _store(ctx) as store:
        style = resolve(style, tracked_styles(store))
        rows = price_history(store, style, size_us=size_us, shop=shop, since=since_ts)
        summary = history_summary(store, style, size_us, shop, since_ts) if fmt == "table" else None
    if fmt == "json":
        click.echo(rows_as_json(rows))
    elif fmt == "csv":
        click.echo(rows_as_csv(rows, HistoryRow), nl=False)
    elif summary is not None:
        title = f"{summary.style_code}" + (f" US {format_size(size_us)}" if size_us else "")
        if summary.name:
            title += f" ({summary.name})"
        if since_ts:
            title += f" since {since_ts[:16].replace('T', ' ')} UTC"
        console.print(history_table(rows, f"Price history: {title}"))
        if not rows:
            console.print("No history for that size/shop/period yet.")
        console.print(summary_table(summary))


@cli.command()
@click.argument("style", metavar="COLORWAY")
@click.option("--size", help="Size: US men's (10, 10.5), or uk9.5, eu44, w11.5 (default: all).")
@click.option("--shop", help="Only this shop.")
@click.option("--since", help="Start at: 30d, 12h, 2w, 6m or 2026-10-01 (default: the start).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="PNG file to write (default: chart-STYLE.png).",
)
@click.option("--width", default=1080, show_default=True, type=click.IntRange(400, 4000))
@click.option("--height", default=1350, show_default=True, type=click.IntRange(400, 4000))
@common_options
@click.pass_context
def chart(
    ctx: click.Context,
    style: str,
    size: str | None,
    shop: str | None,
    since: str | None,
    output: str | None,
    width: int,
    height: int,
) -> None:
    """Step chart of one colorway's price over time as a PNG (a style code or a name), one
    line per shop.

    Sold-out periods are dotted, and a strip per shop below shows in stock, sold out and
    unknown. The default 1080x1350 reads well on a phone. Without --size, each shop's line is
    its cheapest size.

    \b
    Example:
        pricewatch chart M2002RDA --size 10 -o chart.png
        pricewatch chart salehe --size 9.5
        pricewatch chart M2002RDA --size eu44 --since 30d --shop Kith
    """
    from pricewatch.charts import chart_caption, render_price_chart  # matplotlib: a slow import

    size_us = parse_user_size(size) if size else None
    since_ts = parse_since(since) if since else None
    with _store(ctx) as store:
        style = resolve(style, tracked_styles(store))
        png = render_price_chart(
            store, style, size_us, shop, since_ts, width_px=width, height_px=height
        )
        caption = chart_caption(store, style, size_us, shop, since_ts)
    target = Path(output or f"chart-{style.strip().upper()}.png")
    try:
        target.write_bytes(png)
    except OSError as exc:
        raise click.ClickException(f"cannot write {target}: {exc.strerror or exc}") from exc
    console.print(f"Wrote {target} ({width}x{height} PNG)")
    console.print(caption)


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Own SQL queries are allowed only on a loopback address.",
)
@click.option("--port", default=8001, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="NAME",
    help="Another name browsers may use to reach it (a reverse proxy's); repeatable.",
)
@common_options
@click.pass_context
def web(ctx: click.Context, host: str, port: int, allow_hosts: tuple[str, ...]) -> None:
    """Browse the database with Datasette, read-only, while crawls keep writing to it.

    Tables come with descriptions and units; canned queries: cheapest now per colorway and
    size, price history of one colorway, recent events. Needs the web extra: pip install
    '.[web]' (in the pricewatch checkout). Only requests addressed to the address it serves are
    answered (others get 421), so no web page can read it through DNS rebinding.

    \b
    Example:
        pricewatch web                                  # http://127.0.0.1:8001/pricewatch
        pricewatch web --db data/demo.db --port 8002
        pricewatch web --host 0.0.0.0 --allow-host nas.local
    """
    from pricewatch.web import serve

    db_path = _db_path(ctx)
    serve(
        db_path,
        host=host,
        port=port,
        on_ready=lambda url: console.print(f"Serving {db_path} read-only at {url} (Ctrl-C stops)"),
        allow_hosts=allow_hosts,
    )


@cli.command()
@common_options
@click.pass_context
def check(ctx: click.Context) -> None:
    """Check the database file with SQLite's integrity and foreign-key checks.

    Exit 0 when it is sound, 1 with the problems found when it is damaged (then restore a
    backup: README, Backups).

    \b
    Example:
        pricewatch check
        pricewatch check --db /var/lib/pricewatch/pricewatch.db
    """
    result = check_database(_db_path(ctx))
    if result.ok:
        click.echo(f"{result.path}: ok")
        return
    click.secho(f"{result.path}: damaged", err=True, fg="red")
    for problem in result.problems:
        click.echo(f"  {problem}", err=True)
    sys.exit(1)


@cli.command()
@click.argument("target", type=click.Path(dir_okay=False))
@common_options
@click.pass_context
def backup(ctx: click.Context, target: str) -> None:
    """Write a consistent copy of the database to TARGET, while crawls keep running.

    SQLite's online backup API copies one moment's database; the copy is checked before it
    is kept. TARGET must not exist.

    \b
    Example:
        pricewatch backup backups/pricewatch-$(date +%F).db
    """
    source = _db_path(ctx)
    result = backup_database(source, Path(target))
    click.echo(f"Backed up {source} to {result.path} (checked: ok)")


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
    "--port",
    "ports",
    type=click.IntRange(0, 65535),
    multiple=True,
    default=(8801, 8802),
    show_default=True,
    help="The two shops' ports (0: any free one), as in the demo config.",
)
def replica(ports: tuple[int, ...]) -> None:
    """Serve the demo's two replica Shopify shops on 127.0.0.1 until Ctrl-C.

    They are what `pricewatch init --demo` configures: crawl them from another terminal.

    \b
    Example:
        pricewatch replica
        pricewatch init --demo demo.toml && pricewatch crawl --config demo.toml --db data/try.db
    """
    from pricewatch.demo import serve_demo_shops

    if len(ports) != 2:
        raise click.UsageError("give --port twice (one per shop), or not at all")

    def ready(kicks: str, corner: str) -> None:
        click.echo(f"Replica Kicks at {kicks}, Replica NB Corner at {corner}; Ctrl-C stops them.")

    try:
        serve_demo_shops((ports[0], ports[1]), ready)
    except OSError as exc:  # a port in use
        click.secho(f"Error: cannot serve the replica shops: {exc}", err=True, fg="red")
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("Stopped.")


@cli.command()
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    default="data/demo.db",
    show_default=True,
    help="Database for the demo (recreated on each run).",
)
@click.option(
    "--style", default="M2002RDA", show_default=True, help="Colorway to follow (code or name)."
)
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
        style = resolve(style)
        run_demo(Path(db_path), style=style, size_us=parse_user_size(size), console=console)


@cli.command()
@click.option("--once", is_flag=True, help="Run one pass of every due shop now, then exit.")
@common_options
@click.pass_context
def schedule(ctx: click.Context, once: bool) -> None:
    """Run crawls on the config's cron schedule ([schedule] default, per-shop schedule).

    With --once (for the system's cron): crawl every shop that is due now, print the summary,
    exit 0 if all succeeded (or none was due), 1 if any failed. Without --once: the scheduler
    alone, until Ctrl-C / SIGTERM (`pricewatch run` adds the bot).

    \b
    Example:
        pricewatch schedule --once
        */10 * * * *  cd /srv/pricewatch && .venv/bin/pricewatch schedule --once   # crontab
    """
    import asyncio

    import scheduler

    config = _config(ctx)
    _service_logging(ctx, config)
    if not once:
        asyncio.run(scheduler.run_forever(config, with_bot=False))
        return
    reports = scheduler.run_once(config)
    if not reports:
        console.print("No shop is due.")
        return
    console.print(crawl_table(reports))
    console.print(crawl_summary(reports))
    if not all(r.ok for r in reports):
        sys.exit(1)


@cli.command()
@click.option("--no-bot", is_flag=True, help="Run the scheduler without the Telegram bot.")
@common_options
@click.pass_context
def run(ctx: click.Context, no_bot: bool) -> None:
    """The scheduler and the Telegram bot together: the command to leave running.

    Needs TELEGRAM_BOT_TOKEN (or [telegram] token_file) unless --no-bot. Ctrl-C or SIGTERM
    shut down cleanly: running crawls stop, the outbox keeps what was not sent.

    \b
    Example:
        TELEGRAM_BOT_TOKEN=123:abc pricewatch run
        pricewatch run --no-bot --config /etc/pricewatch.toml --db /var/lib/pricewatch/db
    """
    import asyncio

    import scheduler

    config = _config(ctx)
    _service_logging(ctx, config)
    if not no_bot and not config.telegram.token:
        raise ConfigError(
            "no bot token: set TELEGRAM_BOT_TOKEN (or [telegram] token_file), or use --no-bot"
        )
    asyncio.run(scheduler.run_forever(config, with_bot=not no_bot))


@cli.command()
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option("--wide", is_flag=True, help="Every column (schedule, duration, error...).")
@common_options
@click.pass_context
def status(ctx: click.Context, fmt: str, wide: bool) -> None:
    """Per shop: schedule, next run, last crawl (status, duration, changes, error), failures
    in the last 24 hours; and the outbox length.

    \b
    Example:
        pricewatch status
        pricewatch status --wide
        pricewatch status --format json
    """
    from pricewatch.output import status_table
    from pricewatch.status import watch_status

    config = _config(ctx)
    with Store(config.db_path, readonly=True) as store:
        report = watch_status(config, store)
    if fmt == "json":
        import dataclasses
        import json

        click.echo(json.dumps(dataclasses.asdict(report), indent=2))
        return
    console.print(status_table(report, wide=wide))
    console.print(
        f"outbox: {report.outbox_pending} alert(s) waiting; {report.subscriptions} "
        f"subscription(s) in {report.active_chats} active chat(s)"
    )


@cli.command(name="bot")
@click.option("--no-delivery", is_flag=True, help="Only answer commands; send no alerts.")
@common_options
@click.pass_context
def bot_command(ctx: click.Context, no_delivery: bool) -> None:
    """The Telegram bot alone: answers commands and sends alerts from the outbox.

    The token comes from env TELEGRAM_BOT_TOKEN (or [telegram] token_file); [telegram]
    base_url or env TELEGRAM_BASE_URL point it at a self-hosted Bot API server. Ctrl-C or
    SIGTERM stop it cleanly.

    \b
    Example:
        TELEGRAM_BOT_TOKEN=123:abc pricewatch bot
        pricewatch bot --config /etc/pricewatch.toml --db /var/lib/pricewatch/db
    """
    import asyncio

    from telegram.error import InvalidToken, NetworkError, TelegramError

    from bot.app import run_bot
    from bot.redact import redact, token_tail

    config = _config(ctx)
    _service_logging(ctx, config)
    token = config.telegram.token or ""
    try:
        asyncio.run(run_bot(config, deliver=not no_delivery))
    except InvalidToken as exc:
        # getMe said no. PTB's own text quotes the whole token: say what the server answered
        # (the cause), and which token by its last characters only
        cause = exc.__cause__
        reason = cause.message if isinstance(cause, TelegramError) else exc.message
        raise ConfigError(
            f"the Bot API refused the bot token ending {token_tail(token)} "
            f"({redact(reason, [token])})"
        ) from None
    except NetworkError as exc:
        click.secho(
            f"Error: cannot reach the Bot API at {config.telegram.base_url}: "
            f"{redact(exc.message, [token])}",
            err=True,
            fg="red",
        )
        sys.exit(1)
    except TelegramError as exc:  # e.g. a 429 or a Conflict at start: one line, not a traceback
        click.secho(f"Error: the Bot API said: {redact(exc.message, [token])}", err=True, fg="red")
        sys.exit(1)


def main() -> None:
    # rich wraps to the terminal; keep CSV/JSON untouched when piped
    console.width = max(console.width, shutil.get_terminal_size((120, 24)).columns)
    cli(prog_name="pricewatch")
