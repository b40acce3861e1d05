"""`pricewatch web`: Datasette over the database, read-only, while crawls keep writing to it.

Datasette opens a file passed as a (mutable) database with ``mode=ro`` connections: it cannot
write, and it sees each crawl as soon as it commits. Its immutable mode (``-i``) would be wrong
here: it promises SQLite the file never changes, so a crawl's writes could be read half-done.
"""

from __future__ import annotations

import asyncio
import inspect
import ipaddress
import sqlite3
from collections.abc import Callable, Iterable
from contextlib import closing
from pathlib import Path
from typing import Any

from pricewatch.store import StoreError
from pricewatch.web.hosts import HostCheck, HostPolicy
from pricewatch.web.metadata import metadata

SETTINGS = {
    "sql_time_limit_ms": 3000,  # a query over a long history may need more than the 1 s default
    "max_returned_rows": 1000,
    "default_facet_size": 10,
}


class WebUnavailableError(RuntimeError):
    """Datasette is not installed (it is the optional ``web`` extra)."""


def table_names(db_path: Path) -> set[str]:
    """The tables of the database, read through a read-only connection."""
    try:
        uri = f"{db_path.resolve().as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            return {str(row[0]) for row in rows}
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open database {db_path}: {exc}") from exc


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_datasette(db_path: Path, *, allow_sql: bool = True) -> Any:
    """A Datasette serving ``db_path`` read-only, with pricewatch's metadata and queries."""
    try:
        from datasette.app import Datasette
    except ImportError as exc:
        raise WebUnavailableError(
            "Datasette is not installed: pip install '.[web]' (in the pricewatch checkout)"
        ) from exc
    if not db_path.is_file():
        raise StoreError(f"no database at {db_path} (run `pricewatch crawl` first)")
    meta = metadata(db_path.stem, tables=table_names(db_path), allow_sql=allow_sql)
    if "config" in inspect.signature(Datasette).parameters:  # Datasette 1.0
        described, config = split_config(meta)
        return Datasette([str(db_path)], metadata=described, config=config, settings=SETTINGS)
    return Datasette([str(db_path)], metadata=meta, settings=SETTINGS)


# Datasette 1.0 reads canned queries and permissions from its configuration, no longer from
# the metadata, which keeps titles, descriptions and units.
_CONFIG_KEYS = frozenset({"queries", "allow", "allow_sql", "hidden"})


def _split(block: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        {k: v for k, v in block.items() if k not in _CONFIG_KEYS},
        {k: v for k, v in block.items() if k in _CONFIG_KEYS},
    )


def split_config(meta: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Datasette 0.x metadata as (metadata, config) for Datasette 1.0."""
    described, config = _split({k: v for k, v in meta.items() if k != "databases"})
    described["databases"], config["databases"] = {}, {}
    for name, database in meta.get("databases", {}).items():
        db_meta, db_config = _split({k: v for k, v in database.items() if k != "tables"})
        db_meta["tables"], db_config["tables"] = {}, {}
        for table, table_meta in database.get("tables", {}).items():
            db_meta["tables"][table], db_config["tables"][table] = _split(table_meta)
        described["databases"][name], config["databases"][name] = db_meta, db_config
    return described, config


def serve(
    db_path: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8001,
    on_ready: Callable[[str], None] | None = None,
    allow_hosts: Iterable[str] = (),
) -> None:
    """Serve until interrupted; ``on_ready`` gets the database's URL once it is open. Own SQL
    is allowed only on a loopback address, because it could read the bot's tables. Requests
    must name this server in their Host header (`pricewatch.web.hosts`: no DNS rebinding);
    ``allow_hosts`` are further names it answers to, e.g. a reverse proxy's."""
    datasette = make_datasette(db_path, allow_sql=is_loopback(host))
    import uvicorn  # a Datasette dependency

    asyncio.run(datasette.invoke_startup())
    app = HostCheck(datasette.app(), HostPolicy(host, port, allow_hosts))
    if on_ready:
        shown = f"[{host}]" if ":" in host else host
        on_ready(f"http://{shown}:{port}/{db_path.stem}")
    uvicorn.run(app, host=host, port=port, log_level="warning", lifespan="on")
