"""The SQLite database (through sqlite-utils): schema, migrations, and the crawl write path.

Layout (see README "Data model"):
- ``shops``, ``colorways`` (one row per style code, shared by every shop), ``products`` (a
  colorway at a shop), ``variants`` (a product in one size, with its *current* state);
- ``history``: one row per change of (price, compare-at price, currency, stock) of a variant,
  with ``first_seen``/``last_seen``, so a year of half-hourly crawls grows with changes only;
- ``crawls``: one row per crawl of one shop, with status, counts and error.

Prices are stored exactly, as integer minor units (cents) next to their currency.
Every write happens inside one ``BEGIN IMMEDIATE`` transaction per crawl: a crash leaves either
the whole crawl or none of it, and readers (the bot) keep reading thanks to WAL mode.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import socket
import sqlite3
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from pricewatch.changes import VariantView, is_outlier
from pricewatch.lean import sqlite_utils
from pricewatch.models import CrawlStatus, Listing, Stock, VariantState, utc_now
from pricewatch.prices import from_minor, to_minor

SCHEMA_VERSION = 6
BUSY_TIMEOUT_MS = 10_000


class StoreError(Exception):
    """The database cannot be used as asked (too new, not a pricewatch database, ...)."""


class DamagedDatabase(StoreError):
    """SQLite says the database file is damaged; the message says which file and what to do."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"database {path} is damaged ({reason}): run `pricewatch check`, and restore a "
            "backup (README, Backups) or move the file aside to start again"
        )
        self.path = path


class ShopBusy(StoreError):
    """Another live crawl of the shop holds its lease; the message says whose. ``crawl_id``:
    the row that records this crawl as skipped."""

    def __init__(self, message: str, crawl_id: int) -> None:
        super().__init__(message)
        self.crawl_id = crawl_id


# A crawl's lease outlives any crawl that is not stuck; the crawl engine passes its own
# ([crawl] time_limit and a minute), so a killed crawl's lease runs out soon after it.
DEFAULT_LEASE_SECONDS = 3600.0


def lease_owner() -> str:
    """Who holds a lease: this process, as "host:pid"."""
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(owner: str) -> bool:
    """Whether a lease's owner may still be working: a process of this host that exists, or
    any process of another host (whose lease then ends by its expiry alone)."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


@dataclass(frozen=True)
class CrawlCounts:
    pages: int = 0
    items: int = 0  # listings the spider yielded
    dropped: int = 0  # listings the validation refused
    products: int = 0
    variants: int = 0
    changes: int = 0  # history rows written
    new_variants: int = 0
    missing: int = 0  # known variants absent from this crawl
    failed_products: int = 0  # products the spider could not parse
    conflicts: int = 0  # variants listed twice with different price or stock
    held: int = 0  # outlier prices held for confirmation by the next crawl
    reverted: int = 0  # held prices the next crawl did not confirm (glitches)
    unknown: int = 0  # known variants left untouched: listed, but not trusted this crawl


class VariantChange(NamedTuple):
    """A variant whose state differs from what was stored before this crawl."""

    variant_id: int
    style_code: str
    size_us: float | None
    old: VariantState | None  # None: first time this variant is seen
    new: VariantState


@dataclass
class Applied:
    """What `Store.apply_listings` wrote, and the views change detection compares."""

    products: int = 0
    variants: int = 0
    new_variants: int = 0
    missing: int = 0
    conflicts: int = 0
    held: int = 0
    reverted: int = 0
    unknown: int = 0
    changes: list[VariantChange] = field(default_factory=list)
    # Only variants that can make an event: changed, new, or missing (see `diff`).
    before: dict[str, VariantView] = field(default_factory=dict)
    after: dict[str, VariantView] = field(default_factory=dict)
    styles_before: set[str] | None = None  # None: the shop's first crawl (a baseline)
    variant_ids: dict[str, int] = field(default_factory=dict)  # shop variant id -> row id
    # Restocked variants: when their sold-out state was first seen ("back after 4 min").
    sold_out_since: dict[str, str] = field(default_factory=dict)


def _migration_1(db: sqlite_utils.Database) -> None:
    db.table("shops").create(
        {
            "id": int,
            "name": str,
            "platform": str,
            "url": str,
            "currency": str,
            "first_seen": str,
        },
        pk="id",
        not_null={"name", "platform", "url", "currency"},
    )
    db.table("shops").create_index(["name"], unique=True)
    db.table("colorways").create(
        {"style_code": str, "name": str, "family": str, "first_seen": str},
        pk="style_code",
        not_null={"family"},
    )
    db.table("products").create(
        {
            "id": int,
            "shop_id": int,
            "shop_product_id": str,
            "style_code": str,
            "title": str,
            "url": str,
            "handle": str,
            "colorway_name": str,
            "image": str,
            "first_seen": str,
            "last_seen": str,
        },
        pk="id",
        foreign_keys=[("shop_id", "shops", "id"), ("style_code", "colorways", "style_code")],
        not_null={"shop_id", "shop_product_id", "style_code", "title", "url"},
    )
    db.table("products").create_index(["shop_id", "shop_product_id"], unique=True)
    db.table("products").create_index(["style_code"])
    db.table("variants").create(
        {
            "id": int,
            "shop_id": int,
            "product_id": int,
            "shop_variant_id": str,
            "style_code": str,
            "size_label": str,
            "size_us": float,
            "width": str,
            "sku": str,
            "gtin": str,
            "currency": str,
            "price_minor": int,
            "compare_at_minor": int,
            "stock": str,
            "history_id": int,
            "first_seen": str,
            "last_seen": str,
            "last_crawl_id": int,
            "misses": int,
        },
        pk="id",
        foreign_keys=[("shop_id", "shops", "id"), ("product_id", "products", "id")],
        not_null={"shop_id", "product_id", "shop_variant_id", "style_code", "size_label"},
        defaults={"misses": 0},
    )
    db.table("variants").create_index(["shop_id", "shop_variant_id"], unique=True)
    db.table("variants").create_index(["style_code", "size_us"])
    db.table("variants").create_index(["product_id"])
    db.table("crawls").create(
        {
            "id": int,
            "shop_id": int,
            "started": str,
            "finished": str,
            "status": str,
            "pages": int,
            "items": int,
            "dropped": int,
            "products": int,
            "variants": int,
            "changes": int,
            "new_variants": int,
            "missing": int,
            "error": str,
        },
        pk="id",
        foreign_keys=[("shop_id", "shops", "id")],
        not_null={"shop_id", "started", "status"},
    )
    db.table("crawls").create_index(["shop_id", "id"])
    db.table("history").create(
        {
            "id": int,
            "variant_id": int,
            "crawl_id": int,
            "price_minor": int,
            "compare_at_minor": int,
            "currency": str,
            "stock": str,
            "first_seen": str,
            "last_seen": str,
        },
        pk="id",
        foreign_keys=[("variant_id", "variants", "id"), ("crawl_id", "crawls", "id")],
        not_null={"variant_id", "crawl_id", "price_minor", "currency", "stock", "first_seen"},
    )
    db.table("history").create_index(["variant_id", "first_seen"])


def _migration_2(db: sqlite_utils.Database) -> None:
    """Events, chats, subscriptions, what each subscriber was told, and the outbox."""
    db.table("events").create(
        {
            "id": int,
            "crawl_id": int,
            "shop_id": int,
            "variant_id": int,
            "kind": str,
            "style_code": str,
            "size_us": float,
            "size_label": str,
            "old_price_minor": int,
            "new_price_minor": int,
            "currency": str,
            "old_stock": str,
            "new_stock": str,
            "created": str,
        },
        pk="id",
        foreign_keys=[
            ("crawl_id", "crawls", "id"),
            ("shop_id", "shops", "id"),
            ("variant_id", "variants", "id"),
        ],
        not_null={"crawl_id", "shop_id", "variant_id", "kind", "style_code", "created"},
    )
    # one crawl cannot report the same change of the same variant twice
    db.table("events").create_index(["crawl_id", "variant_id", "kind"], unique=True)
    db.table("events").create_index(["variant_id", "kind"])
    db.table("events").create_index(["created"])
    db.table("chats").create(
        {"chat_id": int, "type": str, "title": str, "active": int, "created": str},
        pk="chat_id",
        defaults={"active": 1},
    )
    db.table("subscriptions").create(
        {
            "id": int,
            "chat_id": int,
            "style_code": str,  # NULL: any 2002R
            "sizes": str,  # JSON list of US men's sizes; [] = any
            "shop": str,  # NULL: any shop
            "max_price": str,  # exact decimal text; NULL: no limit
            "kinds": str,  # JSON list of event kinds
            "created": str,
        },
        pk="id",
        foreign_keys=[("chat_id", "chats", "chat_id")],
        not_null={"chat_id", "sizes", "kinds", "created"},
    )
    db.table("subscriptions").create_index(["chat_id"])
    db.table("subscriptions").create_index(["style_code"])
    db.table("told").create(
        {
            "subscription_id": int,
            "variant_id": int,
            "price_minor": int,
            "currency": str,
            "stock": str,
            "updated": str,
        },
        pk=("subscription_id", "variant_id"),
    )
    db.table("told").create_index(["variant_id"])
    db.table("outbox").create(
        {
            "id": int,
            "chat_id": int,
            "event_id": int,
            "created": str,
            "not_before": str,
            "status": str,  # pending | sent | skipped | failed
            "attempts": int,
            "sent_at": str,
            "message_id": int,
            "error": str,
        },
        pk="id",
        foreign_keys=[("event_id", "events", "id")],
        not_null={"chat_id", "event_id", "created", "not_before", "status"},
        defaults={"attempts": 0},
    )
    db.table("outbox").create_index(["chat_id", "event_id"], unique=True)
    db.table("outbox").create_index(["status", "not_before"])


def _migration_3(db: sqlite_utils.Database) -> None:
    """What alert truth needs (README, What to trust): held outlier prices, the counts of
    listings a crawl could not trust, how long a restocked size was gone, what a subscriber
    was last told of a price, and the currency of a max price."""
    variants = db.table("variants")
    variants.add_column("held_price_minor", int)  # an outlier price waiting for confirmation
    variants.add_column("held_crawl_id", int)
    crawls = db.table("crawls")
    for column in ("failed_products", "conflicts", "held", "reverted", "unknown"):
        crawls.add_column(column, int)
    db.table("events").add_column("since", str)  # when the old state was first seen
    db.table("outbox").add_column("told_price_minor", int)  # last price told to that chat
    db.table("subscriptions").add_column("max_currency", str)


def _migration_4(db: sqlite_utils.Database) -> None:
    """A shop's lease: the running crawl's owner (host:pid) and until when it holds it."""
    crawls = db.table("crawls")
    crawls.add_column("owner", str)
    crawls.add_column("lease_until", str)


def _migration_5(db: sqlite_utils.Database) -> None:
    """Colorways a chat muted for a while (the alert's "mute 24 h" button)."""
    db.table("mutes").create(
        {"chat_id": int, "style_code": str, "until": str},
        pk=("chat_id", "style_code"),
        not_null={"until"},
    )


def _migration_6(db: sqlite_utils.Database) -> None:
    """History read from its index alone: one colorway's history (`pricewatch history`, the
    chart, /history) is a few thousand rows spread over a table of millions; an index holding
    every column those queries read serves them from a few contiguous pages instead of one
    table page per row (bench/history_bench.py: 2.3x on the SQL at 10M rows). It replaces the
    (variant_id, first_seen) index, whose every lookup it serves. On a big database this runs
    once, at the first open after the upgrade (about 12 s per 10M rows)."""
    db.execute(
        "CREATE INDEX idx_history_variant_covering ON history "
        "(variant_id, first_seen, id, last_seen, price_minor, compare_at_minor, currency, stock)"
    )
    db.execute("DROP INDEX IF EXISTS idx_history_variant_id_first_seen")


# Each entry moves the schema from version i to i + 1. Append; never edit a released one.
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _migration_1,
    _migration_2,
    _migration_3,
    _migration_4,
    _migration_5,
    _migration_6,
]


class Store:
    """The pricewatch database. Open one per process; it is not shared between threads."""

    def __init__(self, path: str | Path, *, create: bool = True, readonly: bool = False) -> None:
        """Open (and with ``create``, make or migrate) the database. ``readonly``: for commands
        that only read (colorways, history, chart, status): SQLite's read-only mode, which
        creates, migrates and switches nothing, so it works in a read-only directory."""
        self.path = Path(path)
        if (readonly or not create) and not self.path.exists():
            raise StoreError(f"no database at {self.path} (run `pricewatch crawl` first)")
        if readonly:
            self._open_readonly()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000)
            self.db = sqlite_utils.Database(conn)
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.db.execute("PRAGMA foreign_keys = ON")
            if self.db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                self.db.enable_wal()
            # WAL is safe with NORMAL: a power loss may drop the last commit, never corrupt.
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.migrate()
        except sqlite3.OperationalError as exc:  # locked, unreadable, no such directory...
            raise StoreError(f"cannot open database {self.path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:  # malformed, or not a database at all
            raise DamagedDatabase(self.path, str(exc)) from exc

    def _open_readonly(self) -> None:
        uri = self.path.resolve().as_uri()
        try:
            try:
                conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
                conn.execute("PRAGMA schema_version").fetchone()
            except sqlite3.OperationalError:
                # A WAL database in a read-only directory without its -shm file cannot be
                # opened read-only; nobody can be writing it there, so it is immutable.
                conn = sqlite3.connect(f"{uri}?immutable=1", uri=True)
            self.db = sqlite_utils.Database(conn)
            version = self.schema_version
        except sqlite3.OperationalError as exc:
            raise StoreError(f"cannot open database {self.path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise DamagedDatabase(self.path, str(exc)) from exc
        if version != len(MIGRATIONS):
            self.db.close()
            if version == 0:
                raise StoreError(f"{self.path} is not a pricewatch database")
            which = (
                "newer than this pricewatch: upgrade pricewatch"
                if version > len(MIGRATIONS)
                else "older than this pricewatch: any crawl (pricewatch crawl) upgrades it"
            )
            raise StoreError(f"database {self.path} has schema version {version}, {which}")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        if self.schema_version == len(MIGRATIONS):
            return
        # Under the write lock: two processes opening a new database must not both migrate.
        with self.write():
            current = self.schema_version
            if current > len(MIGRATIONS):
                raise StoreError(
                    f"database {self.path} has schema version {current}, newer than this "
                    f"pricewatch understands ({len(MIGRATIONS)}): upgrade pricewatch"
                )
            if current == 0 and self.db.table_names():
                raise StoreError(f"{self.path} is an SQLite database, but not a pricewatch one")
            for version in range(current, len(MIGRATIONS)):
                MIGRATIONS[version](self.db)
            self.db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """One write transaction. IMMEDIATE takes the write lock up front, so two writers
        wait for each other (busy timeout) instead of failing on a lock upgrade."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.conn.rollback()
            raise
        else:
            self.db.conn.commit()

    # -- crawls -------------------------------------------------------------------------

    def ensure_shop(self, name: str, platform: str, url: str, currency: str) -> int:
        row = self.db.execute("SELECT id FROM shops WHERE name = ?", [name]).fetchone()
        if row:
            self.db.execute(
                "UPDATE shops SET platform = ?, url = ?, currency = ? WHERE id = ?",
                [platform, url, currency, row[0]],
            )
            return int(row[0])
        cursor = self.db.execute(
            "INSERT INTO shops (name, platform, url, currency, first_seen) VALUES (?, ?, ?, ?, ?)",
            [name, platform, url, currency, utc_now()],
        )
        return int(cursor.lastrowid or 0)

    def start_crawl(
        self,
        name: str,
        platform: str,
        url: str,
        currency: str,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> int:
        """Record a crawl as running, holding the shop's lease: one crawl of a shop at a time,
        across processes. While another live crawl holds it, this one is recorded as
        ``skipped`` (saying who holds it) and `ShopBusy` is raised. A crawl left running by a
        process that is gone, or whose lease ran out, is closed as failed."""
        with self.write():
            shop_id = self.ensure_shop(name, platform, url, currency)
            now = utc_now()
            holder = self._lease_holder(shop_id, now)
            if holder is None:
                self.db.execute(
                    "UPDATE crawls SET status = ?, finished = ?, error = ? "
                    "WHERE shop_id = ? AND status = ?",
                    [CrawlStatus.FAILED, now, "interrupted", shop_id, CrawlStatus.RUNNING],
                )
                cursor = self.db.execute(
                    "INSERT INTO crawls (shop_id, started, status, owner, lease_until) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [shop_id, now, CrawlStatus.RUNNING, lease_owner(), utc_now(lease_seconds)],
                )
                return int(cursor.lastrowid or 0)
            crawl_id, owner, started = holder
            why = f"{name} is being crawled by {owner} (crawl {crawl_id}, since {started[:19]}Z)"
            skipped = self.db.execute(
                "INSERT INTO crawls (shop_id, started, finished, status, error, owner) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [shop_id, now, now, CrawlStatus.SKIPPED, why, lease_owner()],
            ).lastrowid
        raise ShopBusy(why, int(skipped or 0))

    def _lease_holder(self, shop_id: int, now: str) -> tuple[int, str, str] | None:
        """The shop's running crawl that still holds its lease: (id, owner, started)."""
        for crawl_id, owner, lease_until, started in self.db.execute(
            "SELECT id, owner, lease_until, started FROM crawls "
            "WHERE shop_id = ? AND status = ? ORDER BY id DESC",
            [shop_id, CrawlStatus.RUNNING],
        ):
            if owner and lease_until and lease_until > now and owner_alive(owner):
                return int(crawl_id), str(owner), str(started)
        return None

    def finish_crawl(
        self,
        crawl_id: int,
        status: CrawlStatus,
        counts: CrawlCounts,
        error: str | None = None,
    ) -> None:
        """Close a crawl that is not ``ok``: it records the attempt and leaves every variant's
        last known state untouched. An ``ok`` crawl is recorded by `pricewatch.recording`,
        which stores, detects and queues alerts in one transaction."""
        if status == CrawlStatus.OK:
            raise StoreError("an ok crawl is recorded by pricewatch.recording, with its listings")
        with self.write():
            self.check_running(crawl_id)
            self.close_crawl(crawl_id, status, counts, error)

    def check_running(self, crawl_id: int) -> None:
        """StoreError unless the crawl is still running (inside a transaction)."""
        running = self.db.execute("SELECT status FROM crawls WHERE id = ?", [crawl_id]).fetchone()
        if running is None or running[0] != CrawlStatus.RUNNING:
            raise StoreError(f"crawl {crawl_id} is not running: it was finished already")

    def close_crawl(
        self, crawl_id: int, status: CrawlStatus, counts: CrawlCounts, error: str | None
    ) -> None:
        """The crawl's row: end, status, counts, error (inside a transaction)."""
        self.db.execute(
            "UPDATE crawls SET finished = ?, status = ?, pages = ?, items = ?, dropped = ?, "
            "products = ?, variants = ?, changes = ?, new_variants = ?, missing = ?, "
            "failed_products = ?, conflicts = ?, held = ?, reverted = ?, unknown = ?, "
            "error = ? WHERE id = ?",
            [
                utc_now(),
                status,
                counts.pages,
                counts.items,
                counts.dropped,
                counts.products,
                counts.variants,
                counts.changes,
                counts.new_variants,
                counts.missing,
                counts.failed_products,
                counts.conflicts,
                counts.held,
                counts.reverted,
                counts.unknown,
                error,
                crawl_id,
            ],
        )

    def apply_listings(
        self,
        crawl_id: int,
        listings: Sequence[Listing],
        *,
        untrusted: Collection[str] = (),
        failed_products: Collection[str] = (),
        blind: bool = False,
        outlier_factor: float = 3.0,
    ) -> Applied:
        """Store what an ``ok`` crawl saw (inside a transaction): new state and history rows of
        the listings it can trust, a miss for each known variant it proves absent.

        Left untouched for this crawl (unknown, never missing): the variants in ``untrusted``
        (listed, but dropped by validation), those listed twice with different states, those
        with an outlier price (held until the next crawl confirms it, `is_outlier`), and
        every variant of ``failed_products``. With ``blind`` (a product failed without an id)
        no variant is proven absent."""
        with gc_paused():
            return self._apply_listings(
                crawl_id, listings, set(untrusted), set(failed_products), blind, outlier_factor
            )

    def _apply_listings(
        self,
        crawl_id: int,
        listings: Sequence[Listing],
        untrusted: set[str],
        failed_products: set[str],
        blind: bool,
        outlier_factor: float,
    ) -> Applied:
        shop_id = self.db.execute("SELECT shop_id FROM crawls WHERE id = ?", [crawl_id]).fetchone()[
            0
        ]
        now = utc_now()
        result = Applied()
        execute = self.db.execute
        conn = self.db.conn

        # One copy per variant. Two copies that disagree (a stale duplicate of a product, a
        # feed caught mid-update) are unknown for this crawl: "first copy wins" would alert on
        # whichever copy happened to come first.
        first: dict[str, Listing] = {}
        for listing in listings:
            copy = first.setdefault(listing.variant_id, listing)
            if copy is not listing and _raw_state(copy) != _raw_state(listing):
                untrusted.add(listing.variant_id)
        result.conflicts = len({key for key in untrusted if key in first})
        trusted = [it for key, it in first.items() if key not in untrusted]

        product_ids = self._upsert_catalog(shop_id, trusted, now)
        result.products = len(product_ids)

        # Most variants of most crawls are listed exactly as stored. The loop below spots them
        # by comparing stored columns with the listing's, and builds nothing for them: they
        # are not even in `before` and `after`, which hold only what can make an event.
        known = {row[_KEY]: row for row in execute(_KNOWN_VARIANTS, [shop_id])}
        if known:  # a shop's first crawl is a baseline: no event, so no view to compare
            result.styles_before = {row[_STYLE_CODE] for row in known.values()}
        before, after = result.before, result.after
        seen: list[int] = []  # listed now with the stored state
        open_history: list[int] = []  # ... and their history rows, still true now
        details: list[tuple[Any, ...]] = []  # ... of which the shop's details changed
        held: list[tuple[int, int, int]] = []  # (price, crawl, variant) held for a second look
        restocked: dict[str, int] = {}  # key -> the history row of its sold-out state
        fresh: list[tuple[Listing, tuple[Any, ...], tuple[Any, ...], VariantState]] = []
        for listing in trusted:
            key = listing.variant_id
            detail = (
                product_ids[listing.product_id],
                listing.style_code,
                listing.size_label,
                listing.size_us,
                listing.width,
                listing.sku,
                listing.gtin,
            )
            raw = _raw_state(listing)
            row = known.get(key)
            if row is not None and row[_STATE] == raw:
                seen.append(row[_ID])
                open_history.append(row[_HISTORY_ID])
                if row[_DETAIL] != detail:
                    details.append((*detail, row[_ID]))
                continue
            if (
                row is not None
                and row[_PRICE] is not None
                and row[_CURRENCY] == raw[2]
                and is_outlier(row[_PRICE], raw[0], raw[1], outlier_factor)
                and row[_HELD] != raw[0]  # held by the last ok crawl: confirmed, a real change
            ):
                held.append((raw[0], crawl_id, row[_ID]))  # first sight: ask the next crawl
                untrusted.add(key)
                result.held += 1
                continue
            new = _state_of(*raw)
            if known:
                after[key] = VariantView(
                    key, detail[0], listing.style_code, listing.size_us, listing.size_label, new
                )
            if row is None:
                fresh.append((listing, detail, raw, new))  # written below, in bulk
                continue
            before[key] = _view(row)
            old = before[key].state
            if old is not None and old.stock == Stock.SOLD_OUT and new.stock == Stock.IN_STOCK:
                restocked[key] = row[_HISTORY_ID]
            self._record_state(row[_ID], crawl_id, new, now, detail)
            result.changes.append(
                VariantChange(row[_ID], listing.style_code, listing.size_us, old, new)
            )
        variant_ids = result.variant_ids
        variant_ids.update((key, row[_ID]) for key, row in known.items())
        if fresh:
            self._insert_variants(shop_id, crawl_id, fresh, now, variant_ids)
            result.new_variants = len(fresh)
            result.changes.extend(
                VariantChange(variant_ids[it.variant_id], it.style_code, it.size_us, None, new)
                for it, _, _, new in fresh
            )
        conn.executemany(
            "UPDATE variants SET product_id = ?, style_code = ?, size_label = ?, size_us = ?, "
            "width = ?, sku = ?, gtin = ? WHERE id = ?",
            details,
        )
        # One statement for thousands of ids: json_each is 3x faster than executemany here.
        execute(
            "UPDATE variants SET last_seen = ?, last_crawl_id = ?, misses = 0 "
            "WHERE id IN (SELECT value FROM json_each(?))",
            [now, crawl_id, json.dumps(seen)],
        )
        execute(
            "UPDATE history SET last_seen = ? WHERE id IN (SELECT value FROM json_each(?))",
            [now, json.dumps(open_history)],
        )
        # A held price is confirmed only by the very next ok crawl: one it did not show (the
        # old price came back, another price, or no clean listing) ends it as a glitch.
        result.reverted = execute(
            "UPDATE variants SET held_price_minor = NULL, held_crawl_id = NULL "
            "WHERE shop_id = ? AND held_crawl_id IS NOT NULL",
            [shop_id],
        ).rowcount
        conn.executemany(
            "UPDATE variants SET held_price_minor = ?, held_crawl_id = ? WHERE id = ?", held
        )
        # Listed but not trusted: unknown for this crawl. The state stays; so does any held
        # price; and it is not missing (the shop does list it).
        unknown = {key for key in untrusted if key in known}
        if failed_products:
            unknown.update(self._variants_of_products(shop_id, failed_products))
        listed = first.keys()
        absent = [key for key in known if key not in listed and key not in unknown]
        if blind:  # a product failed without an id: nothing is proven absent
            unknown.update(absent)
            absent = []
        execute(  # listed, though not trusted: not missing (a failed product's may not be)
            "UPDATE variants SET misses = 0 WHERE id IN (SELECT value FROM json_each(?))",
            [json.dumps([variant_ids[key] for key in untrusted if key in known])],
        )
        result.unknown = len(unknown)
        # Missing is not sold out: count the miss, keep the last known state.
        for key in absent:
            view = before[key] = _view(known[key])
            after[key] = view._replace(misses=view.misses + 1)
        execute(
            "UPDATE variants SET misses = misses + 1 WHERE id IN (SELECT value FROM json_each(?))",
            [json.dumps([variant_ids[key] for key in absent])],
        )
        result.missing = len(absent)
        result.variants = len(trusted)
        if restocked:
            since = dict(
                execute(
                    "SELECT id, first_seen FROM history "
                    "WHERE id IN (SELECT value FROM json_each(?))",
                    [json.dumps(list(restocked.values()))],
                ).fetchall()
            )
            result.sold_out_since = {
                key: since[history_id]
                for key, history_id in restocked.items()
                if history_id in since
            }
        return result

    def _variants_of_products(self, shop_id: int, product_keys: Collection[str]) -> set[str]:
        """The shop's variant ids of these products (the shop's product ids)."""
        return {
            row[0]
            for row in self.db.execute(
                "SELECT v.shop_variant_id FROM variants v JOIN products p ON p.id = v.product_id "
                "WHERE v.shop_id = ? AND p.shop_product_id IN (SELECT value FROM json_each(?))",
                [shop_id, json.dumps(sorted(product_keys))],
            )
        }

    def _insert_variants(
        self,
        shop_id: int,
        crawl_id: int,
        fresh: list[tuple[Listing, tuple[Any, ...], tuple[Any, ...], VariantState]],
        now: str,
        variant_ids: dict[str, int],
    ) -> None:
        """New variants and their first history rows, in two bulk statements (a first crawl
        of a shop is thousands of them). The ids are assigned here, which is safe under the
        transaction's write lock, so no row has to be read back or updated."""
        conn = self.db.conn
        next_variant = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM variants").fetchone()[0]
        next_history = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM history").fetchone()[0]
        variants = []
        for offset, (listing, detail, raw, _) in enumerate(fresh):
            variant_id = next_variant + offset
            key = listing.variant_id
            variant_ids[key] = variant_id
            variants.append(
                (variant_id, shop_id, key, *detail, *raw, next_history + offset, now, now, crawl_id)
            )
        conn.executemany(
            "INSERT INTO variants (id, shop_id, shop_variant_id, product_id, style_code, "
            "size_label, size_us, width, sku, gtin, price_minor, compare_at_minor, currency, "
            "stock, history_id, first_seen, last_seen, last_crawl_id, misses) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
            variants,
        )
        # Their first history rows are copies of what was just inserted: copied by SQLite.
        conn.execute(
            "INSERT INTO history (id, variant_id, crawl_id, price_minor, compare_at_minor, "
            "currency, stock, first_seen, last_seen) "
            "SELECT history_id, id, last_crawl_id, price_minor, compare_at_minor, currency, "
            "stock, first_seen, last_seen FROM variants WHERE id >= ? ORDER BY id",
            [next_variant],
        )

    def _record_state(
        self,
        variant_id: int,
        crawl_id: int,
        state: VariantState,
        now: str,
        detail: tuple[Any, ...] | None,
    ) -> None:
        """A new history row for a variant, and the variant's current state pointing at it."""
        price, compare, currency = _minor(state)
        history_id = self.db.execute(
            "INSERT INTO history (variant_id, crawl_id, price_minor, compare_at_minor, "
            "currency, stock, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [variant_id, crawl_id, price, compare, currency, state.stock, now, now],
        ).lastrowid
        self.db.execute(
            "UPDATE variants SET price_minor = ?, compare_at_minor = ?, currency = ?, stock = ?, "
            "history_id = ?, held_price_minor = NULL, held_crawl_id = NULL WHERE id = ?",
            [price, compare, currency, state.stock, history_id, variant_id],
        )
        if detail is not None:  # seen in this crawl: refresh what the shop says about it
            self.db.execute(
                "UPDATE variants SET product_id = ?, style_code = ?, size_label = ?, "
                "size_us = ?, width = ?, sku = ?, gtin = ?, last_seen = ?, last_crawl_id = ?, "
                "misses = 0 WHERE id = ?",
                [*detail, now, crawl_id, variant_id],
            )

    def _upsert_catalog(
        self, shop_id: int, listings: Sequence[Listing], now: str
    ) -> dict[str, int]:
        """The colorways and products the listings belong to; returns each listed product's
        row id. A row stored as listed is not rewritten: a product only gets its last_seen."""
        products: dict[str, Listing] = {}
        for listing in listings:
            if listing.product_id not in products:
                products[listing.product_id] = listing
        names: dict[str, tuple[str | None, str]] = {}
        for product in products.values():
            name, family = names.get(product.style_code, (None, product.family))
            names[product.style_code] = (name or product.colorway_name, family)
        conn = self.db.conn
        conn.executemany(
            "INSERT INTO colorways (style_code, name, family, first_seen) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(style_code) DO UPDATE SET name = excluded.name "
            "WHERE colorways.name IS NULL AND excluded.name IS NOT NULL",
            [(code, name, family, now) for code, (name, family) in names.items()],
        )
        stored = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT shop_product_id, id, style_code, title, url, handle, colorway_name, image "
                "FROM products WHERE shop_id = ?",
                [shop_id],
            )
        }
        ids: dict[str, int] = {}
        changed = []
        for key, p in products.items():
            row = (p.style_code, p.title, p.url, p.handle, p.colorway_name, p.image)
            known = stored.get(key)
            if known is not None and known[1:] == row:
                ids[key] = known[0]
            else:
                changed.append((shop_id, key, *row, now, now))
        conn.execute(
            "UPDATE products SET last_seen = ? WHERE id IN (SELECT value FROM json_each(?))",
            [now, json.dumps(list(ids.values()))],
        )
        if changed:
            conn.executemany(
                "INSERT INTO products (shop_id, shop_product_id, style_code, title, url, handle, "
                "colorway_name, image, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(shop_id, shop_product_id) DO UPDATE SET "
                "style_code = excluded.style_code, title = excluded.title, url = excluded.url, "
                "handle = excluded.handle, colorway_name = excluded.colorway_name, "
                "image = excluded.image, last_seen = excluded.last_seen",
                changed,
            )
            wanted = {row[1] for row in changed}
            for key, product_id in conn.execute(
                "SELECT shop_product_id, id FROM products WHERE shop_id = ?", [shop_id]
            ):
                if key in wanted:
                    ids[key] = product_id
        return ids


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while thousands of objects that make no cycles are built
    (a crawl applied, a colorway's history read): the collector would run again and again over
    every live object, finding nothing. That was a third of a shop's first crawl, and the p95
    of a 4,000-row history 5.8 ms -> 4.9 (README, Performance). It runs again afterwards."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# The variants of one shop as the crawl compares them; the names below say which column is what.
_KNOWN_VARIANTS = (
    "SELECT v.shop_variant_id, v.id, "
    "v.price_minor, v.compare_at_minor, v.currency, v.stock, "
    "v.product_id, v.style_code, v.size_label, v.size_us, v.width, v.sku, v.gtin, "
    "v.history_id, v.misses, v.held_price_minor "
    "FROM variants v WHERE v.shop_id = ?"
)
_KEY, _ID = 0, 1  # the shop's variant id, the variants row id
_STATE = slice(2, 6)  # as `_raw_state` gives it
_DETAIL = slice(6, 13)  # as the crawl loop builds `detail`
_PRODUCT, _STYLE_CODE, _SIZE_LABEL, _SIZE_US = 6, 7, 8, 9
_PRICE, _CURRENCY = 2, 4
_HISTORY_ID, _MISSES, _HELD = 13, 14, 15


def _minor(state: VariantState) -> tuple[int, int | None, str]:
    compare = to_minor(state.compare_at, state.currency) if state.compare_at is not None else None
    return to_minor(state.price, state.currency), compare, state.currency


def _raw_state(listing: Listing) -> tuple[int, int | None, str, str]:
    """A listing's state as the variants table stores it."""
    compare = listing.compare_at
    return (
        to_minor(listing.price, listing.currency),
        to_minor(compare, listing.currency) if compare is not None else None,
        listing.currency,
        listing.stock,
    )


def _view(row: Sequence[Any]) -> VariantView:
    """A known variant as change detection sees it, from its `_KNOWN_VARIANTS` row."""
    return VariantView(
        row[_KEY],
        row[_PRODUCT],
        row[_STYLE_CODE],
        row[_SIZE_US],
        row[_SIZE_LABEL],
        _stored_state(row[_STATE]),
        row[_MISSES],
    )


def _stored_state(row: Sequence[Any]) -> VariantState | None:
    """The state in a row's (price_minor, compare_at_minor, currency, stock); None if the
    variant never had a valid one."""
    return None if row[0] is None else _state_of(*row)


@functools.lru_cache(maxsize=65536)  # states repeat: a colorway's sizes share price and stock
def _state_of(
    price_minor: int, compare_minor: int | None, currency: str, stock: str
) -> VariantState:
    return VariantState(
        price=from_minor(price_minor, currency),
        compare_at=from_minor(compare_minor, currency) if compare_minor is not None else None,
        currency=currency,
        stock=Stock(stock),
    )


def money(minor: int | None, currency: str) -> Decimal | None:
    """Stored minor units back to an exact Decimal amount."""
    return None if minor is None else from_minor(minor, currency)
