"""Records kept in the state database: frozen pydantic models, one table (kind) each, read from memory and
written through on every change."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from emulators.db import Database


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


R = TypeVar("R", bound=Record)


class Table(Generic[R]):
    """One kind of record by key, mirrored into the database."""

    def __init__(self, db: Database, kind: str, model: type[R]) -> None:
        self._db, self._kind = db, kind
        self.rows: dict[str, R] = {
            key: model.model_validate_json(body) for key, body in db.load(kind).items()
        }

    def put(self, key: str, row: R) -> None:
        self.rows[key] = row
        self._db.put(self._kind, key, row.model_dump_json())

    def drop(self, key: str) -> None:
        if self.rows.pop(key, None) is not None:
            self._db.delete(self._kind, key)

    def clear(self) -> None:
        self.rows.clear()
        self._db.clear_kind(self._kind)
