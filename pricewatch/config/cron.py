"""Cron schedules: is an expression usable, and when does a shop run next (APScheduler)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pricewatch.config.schema import Config, ShopConfig


def known_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # unknown, or not a key at all ("../x")
        return False
    return True


def cron_problem(expression: str, timezone: str = "UTC", min_interval: float = 0) -> str | None:
    """What is wrong with a cron expression, or None: five fields APScheduler understands, in
    a known time zone, never firing twice within `min_interval` seconds."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        trigger = CronTrigger.from_crontab(expression, timezone=timezone)
    except (ValueError, LookupError) as exc:  # bad field, or unknown time zone
        return f"{exc} (expected 5 fields: minute hour day month weekday, e.g. '*/30 * * * *')"
    if min_interval > 0:
        previous = None
        moment = datetime.now(UTC)
        for _ in range(500):  # a week of half-hourly runs is enough to see the tightest gap
            fire = trigger.get_next_fire_time(previous, moment)
            if fire is None:
                break
            if previous is not None and (fire - previous).total_seconds() < min_interval:
                gap = (fire - previous).total_seconds()
                return (
                    f"it runs {gap / 60:g} min apart; the floor is {min_interval / 60:g} min "
                    "([schedule] min_interval), to stay polite to the shop"
                )
            previous, moment = fire, fire
    return None


def next_run(config: Config, shop: ShopConfig, after: datetime | None = None) -> datetime | None:
    """When the shop's cron (its own schedule, or the default) fires next after `after`."""
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger.from_crontab(
        shop.schedule or config.schedule.default, timezone=config.schedule.timezone
    )
    return trigger.get_next_fire_time(None, after or datetime.now(UTC))
