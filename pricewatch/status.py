"""How the watch is doing: per shop, the last crawl, recent failures, the next run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pricewatch.config import Config, next_run
from pricewatch.outbox import outbox_length
from pricewatch.store import Store


@dataclass(frozen=True)
class ShopStatus:
    shop: str
    enabled: bool
    schedule: str
    next_run: str | None
    last_status: str | None  # ok | partial | failed | blocked | running, None: never crawled
    last_started: str | None
    last_duration_s: float | None
    last_variants: int
    last_changes: int
    last_error: str | None
    failures_24h: int
    last_ok: str | None


@dataclass(frozen=True)
class WatchStatus:
    shops: tuple[ShopStatus, ...]
    outbox_pending: int
    subscriptions: int
    active_chats: int


def _seconds(started: str | None, finished: str | None) -> float | None:
    if not started or not finished:
        return None
    begin = datetime.fromisoformat(started.replace("Z", "+00:00"))
    end = datetime.fromisoformat(finished.replace("Z", "+00:00"))
    return round((end - begin).total_seconds(), 1)


def watch_status(config: Config, store: Store, now: datetime | None = None) -> WatchStatus:
    """Status of every configured shop (and any shop still in the database)."""
    now = now or datetime.now(UTC)
    since = (now - timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M:%S")
    rows = {
        row[0]: row[1:]
        for row in store.db.execute(
            """
            SELECT s.name, c.status, c.started, c.finished, coalesce(c.variants, 0),
                   coalesce(c.changes, 0), c.error,
                   (SELECT count(*) FROM crawls f WHERE f.shop_id = s.id
                      AND f.status IN ('failed', 'blocked', 'partial') AND f.started >= ?),
                   (SELECT max(o.finished) FROM crawls o WHERE o.shop_id = s.id
                      AND o.status = 'ok')
            FROM shops s LEFT JOIN crawls c ON c.id = (SELECT max(id) FROM crawls
                                                       WHERE shop_id = s.id)
            """,
            [since],
        )
    }
    shops = []
    configured = {shop.name for shop in config.shops}
    for shop in config.shops:
        status, started, finished, variants, changes, error, failures, last_ok = rows.get(
            shop.name, (None, None, None, 0, 0, None, 0, None)
        )
        upcoming = next_run(config, shop, now) if shop.enabled else None
        shops.append(
            ShopStatus(
                shop=shop.name,
                enabled=shop.enabled,
                schedule=shop.schedule or config.schedule.default,
                next_run=upcoming.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                if upcoming
                else None,
                last_status=status,
                last_started=started,
                last_duration_s=_seconds(started, finished),
                last_variants=int(variants),
                last_changes=int(changes),
                last_error=error,
                failures_24h=int(failures),
                last_ok=last_ok,
            )
        )
    for name, (status, started, finished, variants, changes, error, failures, last_ok) in sorted(
        rows.items()
    ):
        if name not in configured:  # a shop removed from the config still has history
            shops.append(
                ShopStatus(
                    name,
                    False,
                    "",
                    None,
                    status,
                    started,
                    _seconds(started, finished),
                    int(variants),
                    int(changes),
                    error,
                    int(failures),
                    last_ok,
                )
            )
    subscriptions, chats = store.db.execute(
        "SELECT (SELECT count(*) FROM subscriptions), (SELECT count(*) FROM chats WHERE active = 1)"
    ).fetchone()
    return WatchStatus(tuple(shops), outbox_length(store), int(subscriptions), int(chats))
