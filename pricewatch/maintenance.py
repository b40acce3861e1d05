"""Keeping the database healthy: check it, back it up (`pricewatch check`, `pricewatch backup`).

Both open the database with plain sqlite3, read-only, so they work on a database this version
would migrate, and on one too damaged for `Store` to open.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from pricewatch.store import DamagedDatabase, StoreError

__all__ = ["CheckResult", "DamagedDatabase", "backup_database", "check_database"]

# PRAGMA integrity_check lists at most this many problems: enough to tell damage from a glitch.
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class CheckResult:
    path: Path
    problems: tuple[str, ...]  # empty: the database is sound

    @property
    def ok(self) -> bool:
        return not self.problems


def _read_only(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise StoreError(f"no database at {path}")
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def check_database(path: Path) -> CheckResult:
    """SQLite's integrity check and foreign-key check of the whole file."""
    try:
        with closing(_read_only(path)) as conn:
            rows = conn.execute(f"PRAGMA integrity_check({MAX_PROBLEMS})").fetchall()
            problems = [str(row[0]) for row in rows if row[0] != "ok"]
            if not problems:
                problems = [
                    f"{table} row {rowid} points at a missing {parent} row"
                    for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check")
                ][:MAX_PROBLEMS]
    except sqlite3.DatabaseError as exc:  # not even readable: the header or schema is hit
        problems = [str(exc)]
    return CheckResult(path, tuple(problems))


def backup_database(path: Path, target: Path) -> CheckResult:
    """A consistent copy of the database at `target`, taken with SQLite's online backup API:
    crawls may keep writing meanwhile (WAL: the copy is one moment's database). The copy is
    checked before it is reported good; a damaged source is refused."""
    if target.exists():
        raise StoreError(f"{target} exists: choose a new file for the backup")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    partial.unlink(missing_ok=True)
    try:
        with closing(_read_only(path)) as source:
            destination = sqlite3.connect(partial)
            try:
                source.backup(destination)
            finally:
                destination.close()
    except sqlite3.DatabaseError as exc:
        partial.unlink(missing_ok=True)
        raise DamagedDatabase(path, str(exc)) from exc
    result = check_database(partial)
    if not result.ok:
        partial.unlink(missing_ok=True)
        raise DamagedDatabase(path, result.problems[0])
    partial.rename(target)  # only a whole, checked copy ever has the name asked for
    return CheckResult(target, ())
