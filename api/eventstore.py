"""The event store as the service writes it: the library's PostgreSQL persistence, with every
wait bounded, idempotency claims stored with the events, and no pipeline mode.

**No pipeline mode.** The library stores a transaction's statements in psycopg's pipeline
mode, which deadlocks on a statement larger than the socket's buffer: once its queue of
commands is empty, psycopg's sync stops sending although libpq still holds unsent bytes, and
waits for results the server cannot send before it has read them. Over a Unix socket a source
of 1 MB was enough, and the writer hung for good holding the event store's table lock. Here
the statements are sent one after another instead; a group of writes costs one round trip
more.

**Bounds**, all derived from one setting, the write timeout (``DIPREC_WRITE_TIMEOUT_SECONDS``):

- PostgreSQL cancels any statement of the event store's connections that runs longer
  (``statement_timeout``), ends a session idle inside a transaction after 5 s
  (``idle_in_transaction_session_timeout``), and a write waits at most half of it for the
  table lock (``lock_timeout``), which another process may hold;
- a store still in flight a few seconds after the timeout — which only a fault on this side
  can cause, as the pipeline deadlock did, since the server's own waits are bounded above —
  has its connection cut by the :class:`Watchdog`: the server sees the client go, rolls the
  transaction back and frees the lock, and the writes are refused as the database being
  unavailable (``503``; retry with the same ``Idempotency-Key``);
- TCP keepalives notice within about 30 s a server that went away without a word.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory
from eventsourcing.utils import Environment
from psycopg import Connection, Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from api.idempotency import CREATE_TABLE as CREATE_CLAIMS_TABLE
from api.idempotency import INSERT_CLAIMS, Claim, claim_rows

# The library's environment key for the write timeout (read through its Environment, which
# also looks for the key prefixed with the application's name).
WRITE_TIMEOUT_KEY = "EVENT_STORE_WRITE_TIMEOUT"
DEFAULT_WRITE_TIMEOUT = 10.0
# What the library's own idle_in_transaction_session_timeout defaults to: said, not assumed.
IDLE_IN_TRANSACTION_SECONDS = 5
# A store the server has not ended this long after the write timeout is stuck on this side.
WATCHDOG_MARGIN = 5.0
# Connection losses and lock timeouts are retried, as the library does, within the timeout.
RETRIES = 10
RETRY_PAUSE = 0.2
# Probe an idle connection after 10 s, every 5 s, 3 times; give up on unacknowledged data
# after 30 s.
KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
}


def write_timeout(env: Environment) -> float:
    value = env.get(WRITE_TIMEOUT_KEY)
    return float(value) if value else DEFAULT_WRITE_TIMEOUT


class EventStoreFactory(PostgresFactory):
    """The library's PostgreSQL persistence, its connections bounded, its recorder ours."""

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        self.write_timeout = write_timeout(self.env)
        # The pool opens its connections on first use, after this: every one gets the bounds.
        kwargs = self.datastore.pool.kwargs
        assert isinstance(kwargs, dict)  # the library gives its pool a dict
        kwargs.update(
            options=f"-c statement_timeout={round(self.write_timeout * 1000)}", **KEEPALIVES
        )

    def application_recorder(self) -> EventStoreRecorder:
        recorder = EventStoreRecorder(
            datastore=self.datastore,
            events_table_name=(self.env.name.lower() or "stored") + "_events",
            write_timeout=self.write_timeout,
        )
        if self.env_create_table():
            recorder.create_table()
        return recorder


class EventStoreRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL recorder, storing each transaction's statements one after
    another (not pipelined), with the idempotency claims of the writes it stores (one per
    write; several when writes are recorded together), and its statements composed once."""

    def __init__(self, *args: Any, write_timeout: float = DEFAULT_WRITE_TIMEOUT, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.write_timeout = write_timeout
        self.watchdog = Watchdog(write_timeout + WATCHDOG_MARGIN)
        self.sql_create_statements.append(CREATE_CLAIMS_TABLE)
        self.max_notification_id_statement = composed_once(self.max_notification_id_statement)
        table = SQL("{}.{}").format(
            Identifier(self.datastore.schema), Identifier(self.events_table_name)
        )
        # One query without parameters, so one round trip: the lock's bound, the lock (which
        # keeps commit order equal to position order), and the announcement of new events.
        self._lock_and_notify = composed_once(
            SQL("SET LOCAL lock_timeout = {}; LOCK TABLE {} IN EXCLUSIVE MODE; NOTIFY {}").format(
                SQL(str(round(self.write_timeout * 500))),
                table,
                Identifier(self.channel_name),
            )
        )
        self._insert_claims = composed_once(INSERT_CLAIMS)
        # A group's rows go as four binary arrays, one per column: the library's one array of
        # a composite type is written by psycopg as escaped text, a fifth of a group's time.
        self._insert_columns = composed_once(
            SQL(
                "INSERT INTO {} (originator_id, originator_version, topic, state) "
                "SELECT * FROM unnest(%b::{}[], %b::bigint[], %b::text[], %b::bytea[]) "
                "RETURNING notification_id"
            ).format(table, Identifier(self.datastore.originator_id_type))
        )

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Stores the events (and claims) in one transaction under the table lock; a lost
        connection or a lock not had in time is tried again while the write timeout lasts."""
        deadline = time.monotonic() + self.write_timeout
        attempts = 1
        while True:
            try:
                return self._insert_in_one_transaction(stored_events, **kwargs)
            except (InterfaceError, OperationalError):
                if attempts >= RETRIES or time.monotonic() + RETRY_PAUSE >= deadline:
                    raise
            attempts += 1
            time.sleep(RETRY_PAUSE)

    def _insert_in_one_transaction(
        self, stored_events: Sequence[StoredEvent], *, claims: Sequence[Claim] = (), **_: Any
    ) -> Sequence[int] | None:
        with (
            self.datastore.get_connection() as connection,
            self.watchdog.watching(connection),
            connection.transaction(),
            connection.cursor() as cursor,
        ):
            if claims:
                # First: a key claimed already refuses the transaction before the lock.
                cursor.execute(self._insert_claims, claim_rows(claims))
            if not stored_events:
                return None
            self._insert_stored_events(cursor, stored_events)
            return self._fetch_ids_after_insert_events(cursor, stored_events)

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **_: Any
    ) -> None:
        curs.execute(self._lock_and_notify)
        self._insert_rows(curs, stored_events)

    def _insert_rows(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent]) -> None:
        curs.execute(
            self._insert_columns,
            (
                [event.originator_id for event in stored_events],
                [event.originator_version for event in stored_events],
                [event.topic for event in stored_events],
                [event.state for event in stored_events],
            ),
            prepare=True,
        )


def composed_once(statement: Composed) -> Composed:
    """The statement as one literal piece: psycopg composes a statement of identifiers again
    on every execute (≈5 % of the writer thread's time, for the statements of a write)."""
    return Composed([SQL(statement.as_string())])


class Watchdog:
    """Cuts the connection of a store that is still in flight after ``limit`` seconds.

    The cut is a ``shutdown`` of the connection's socket: the thread blocked on it wakes with
    an error, and the server, seeing the client go, rolls back and frees the table lock. A
    store is cut only while it is still watched, under the lock its end takes, so the socket
    cut is always the store's own.
    """

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._watched: dict[int, tuple[float, int]] = {}  # store: its deadline, its socket
        self._thread: threading.Thread | None = None
        self.cuts = 0

    @contextlib.contextmanager
    def watching(self, connection: Connection[Any]) -> Iterator[None]:
        store = id(connection)
        with self._lock:
            self._watched[store] = (time.monotonic() + self.limit, connection.pgconn.socket)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch, name="diprec-store-watchdog", daemon=True
                )
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._watched.pop(store, None)

    def _watch(self) -> None:
        while True:
            time.sleep(min(1.0, self.limit / 4))
            now = time.monotonic()
            with self._lock:
                for store, (deadline, fileno) in list(self._watched.items()):
                    if deadline < now:
                        del self._watched[store]
                        self.cuts += 1
                        _cut(fileno)


def _cut(fileno: int) -> None:
    with contextlib.suppress(OSError), socket.socket(fileno=os.dup(fileno)) as cut:
        cut.shutdown(socket.SHUT_RDWR)
