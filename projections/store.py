"""Where read models live in PostgreSQL, and which generation of each is live.

Each read model has generations: a generation is a schema (``rm_timeline_g3``) holding the
model's tables, and a row of ``rm_state`` holding its status (``live``, ``building`` or
``retired``), the version of the code that built it, and its tracking position: the log
position of the last event applied. A generation's tables and its position change in one
transaction, so each event is applied exactly once, whatever crashes.

A live generation may be *stalled*: its model cannot apply the event after its position (a
value a column cannot hold, a fault of the model's code), so the runner leaves it at that
position, and the row says which event stopped it, and why, until a runner starting afresh
tries it again or a rebuild replaces it.

Queries read the live generation of each model. A rebuild fills a new generation beside the
live one and switches to it only once it has caught up.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

STATE_DDL = """
CREATE TABLE IF NOT EXISTS rm_state (
    name text NOT NULL,
    generation integer NOT NULL,
    code_version integer NOT NULL,
    status text NOT NULL CHECK (status IN ('live', 'building', 'retired')),
    position bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    switched_at timestamptz,
    PRIMARY KEY (name, generation)
);
CREATE UNIQUE INDEX IF NOT EXISTS rm_state_one_live ON rm_state (name) WHERE status = 'live';
-- Added after the first release, so they come to an existing table too; altered only when
-- missing, since the lock an ALTER takes would hold up every query a moment at each start.
DO $$ BEGIN
    IF NOT EXISTS (
        SELECT FROM pg_attribute
        WHERE attrelid = 'rm_state'::regclass AND attname = 'stall_event' AND NOT attisdropped
    ) THEN
        ALTER TABLE rm_state
            ADD COLUMN IF NOT EXISTS stall_event bigint,
            ADD COLUMN IF NOT EXISTS stall_topic text,
            ADD COLUMN IF NOT EXISTS stall_error text,
            ADD COLUMN IF NOT EXISTS stalled_since timestamptz;
    END IF;
END $$;
CREATE OR REPLACE FUNCTION rm_state_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('diprec_read_models', '');
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER rm_state_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON rm_state FOR EACH STATEMENT EXECUTE FUNCTION rm_state_changed();
"""
# Announced by every transaction that moves a read model (the trigger above).
STATE_CHANNEL = "diprec_read_models"

# The event store's table, which the library's recorder writes.
EVENTS_TABLE = "diprec_events"

# Held while creating the control table, so processes starting together do not race.
STATE_LOCK = 0x726D7374  # "rmst"


@dataclass(frozen=True, slots=True)
class Stall:
    """Why a live read model stopped: the event after its position, which it cannot apply."""

    event: int
    """The event's log position."""
    topic: str
    error: str
    """What failed, in one line: the error's kind and message."""
    since: datetime


@dataclass(frozen=True, slots=True)
class Generation:
    """One generation of one read model."""

    name: str
    generation: int
    code_version: int
    status: str
    position: int
    stall: Stall | None = None

    @property
    def schema(self) -> str:
        return schema_name(self.name, self.generation)


# What a Generation is read from.
GENERATION_COLUMNS = (
    "name, generation, code_version, status, position, "
    "stall_event, stall_topic, stall_error, stalled_since"
)
SELECT_GENERATIONS = f"SELECT {GENERATION_COLUMNS} FROM rm_state ORDER BY name, generation"
SELECT_LIVE = f"SELECT {GENERATION_COLUMNS} FROM rm_state WHERE status = 'live'"


def generation_of(row: dict[str, Any]) -> Generation:
    """A generation as ``rm_state`` holds it (its ``GENERATION_COLUMNS``)."""
    stall = (
        None
        if row["stall_event"] is None
        else Stall(row["stall_event"], row["stall_topic"], row["stall_error"], row["stalled_since"])
    )
    return Generation(
        row["name"], row["generation"], row["code_version"], row["status"], row["position"], stall
    )


def schema_name(name: str, generation: int) -> str:
    return f"rm_{name}_g{generation}"


class ReadModelStore:
    """A connection pool to the read models' database, and their generations."""

    def __init__(self, conninfo: str, *, pool_size: int = 10, connect_timeout: int = 5) -> None:
        self.conninfo = conninfo
        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            kwargs={"connect_timeout": connect_timeout},
            open=True,
            name="read-models",
        )
        self._moves = itertools.count(1)
        self.moves = 0  # how many times this process has moved a read model

    def moved(self) -> None:
        """Called once a transaction of this process that moved a read model has committed."""
        self.moves = next(self._moves)

    def close_pool(self) -> None:
        self.pool.close()

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Cursor[dict[str, Any]]]:
        """A cursor in one transaction, committed on success, rolled back on error."""
        with (
            self.pool.connection() as connection,
            connection.transaction(),
            connection.cursor(row_factory=dict_row) as cursor,
        ):
            yield cursor

    def create_state_table(self) -> None:
        with self.transaction() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (STATE_LOCK,))
            cursor.execute(STATE_DDL)

    def generations(self) -> list[Generation]:
        with self.transaction() as cursor:
            cursor.execute(SELECT_GENERATIONS)
            return [generation_of(row) for row in cursor.fetchall()]

    def live(self) -> dict[str, Generation]:
        """The live generation of each read model, by name."""
        with self.transaction() as cursor:
            return live_generations(cursor)

    def max_position(self) -> int:
        """The log's last position (0 when empty)."""
        with self.transaction() as cursor:
            cursor.execute(
                sql.SQL("SELECT coalesce(max(notification_id), 0) AS position FROM {}").format(
                    sql.Identifier(EVENTS_TABLE)
                )
            )
            row = cursor.fetchone()
            assert row is not None
            return int(row["position"])


def live_generations(cursor: psycopg.Cursor[dict[str, Any]]) -> dict[str, Generation]:
    cursor.execute(SELECT_LIVE)
    return {row["name"]: generation_of(row) for row in cursor.fetchall()}
