"""The state database: one SQLite file in the data dir holding JSON records by kind and key.

Every change is written through at once (autocommit, WAL), so a killed emulator loses nothing it
has answered for.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

_SCHEMA = """
create table if not exists records (
    kind text not null,
    key text not null,
    body text not null,
    primary key (kind, key)
)
"""


class Database:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._connection.execute("pragma journal_mode=wal")
        self._connection.execute("pragma synchronous=normal")
        self._connection.execute(_SCHEMA)

    def load(self, kind: str) -> dict[str, str]:
        rows = self._connection.execute("select key, body from records where kind = ?", (kind,))
        return dict(rows.fetchall())

    def put(self, kind: str, key: str, body: str) -> None:
        self._connection.execute(
            "insert into records (kind, key, body) values (?, ?, ?) "
            "on conflict (kind, key) do update set body = excluded.body",
            (kind, key, body),
        )

    def delete(self, kind: str, key: str) -> None:
        self._connection.execute("delete from records where kind = ? and key = ?", (kind, key))

    def clear(self) -> None:
        self._connection.execute("delete from records")

    def clear_kind(self, kind: str) -> None:
        self._connection.execute("delete from records where kind = ?", (kind,))

    def close(self) -> None:
        self._connection.close()
