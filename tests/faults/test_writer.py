"""The writer never hangs holding the event store's lock: large facts over a Unix socket, a
statement that never ends, a lock held elsewhere, a store that stops answering."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from eventsourcing import persistence
from eventsourcing.persistence import StoredEvent
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from api.app import create_app
from api.database import Database
from api.demo import load_demo
from api.eventstore import EventStoreRecorder
from api.security import ApiKeys
from api.settings import Settings
from domain.application import Records
from projections.runner import Projector
from tests.demo_writes import STATISTIC, STATISTICS

pytestmark = pytest.mark.postgres

# Inside the documented limit of a source's text (1 MiB), as a recorder may send it.
LARGE_TEXT = ("The commission met in Baku and signed a protocol. " * 21_000)[:1_040_000]


def unix_socket_of(database: Database) -> str:
    """The test database reached through its server's Unix socket, where it has one here."""
    with database.connect() as connection:
        directories = str(
            connection.execute("SHOW unix_socket_directories").fetchone()[0]  # type: ignore[index]
        )
        port = connection.info.port
    for directory in directories.split(","):
        directory = directory.strip()
        if directory.startswith("/") and (Path(directory) / f".s.PGSQL.{port}").exists():
            return make_conninfo(database.conninfo, host=directory, port=str(port))
    pytest.skip("the test's PostgreSQL has no Unix socket on this machine")


@pytest.fixture
def socket_records(database: Database) -> Iterator[Records]:
    """The application service talking to PostgreSQL through a Unix socket, whose small
    buffers are where psycopg's pipeline mode deadlocked on large statements."""
    conninfo = unix_socket_of(database)
    assert str(conninfo_to_dict(conninfo)["host"]).startswith("/")
    records = Database(conninfo=conninfo, description="unix socket").open_records()
    yield records
    records.close()


def finishes(action: Callable[[], Any], seconds: float) -> bool:
    """Whether ``action`` finished within ``seconds`` (in a thread, so a hang fails the test
    instead of stalling the run)."""
    done = threading.Event()

    def run() -> None:
        action()
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done.wait(seconds)


def test_ten_sources_of_a_megabyte_each_are_stored_in_turn_over_a_unix_socket(
    socket_records: Records,
) -> None:
    def register_ten() -> None:
        for n in range(10):
            socket_records.register_source(
                id=f"large-{n:02d}",
                title="A long readout",
                publisher="Example ministry",
                language="en",
                text=LARGE_TEXT,
                recorded_by="tester",
            )

    assert finishes(register_ten, 60), "the writer hung storing a large source"
    stored = socket_records.recorder.select_notifications(start=1, limit=100)
    assert len(stored) == 10
    assert all(len(notification.state) > len(LARGE_TEXT) for notification in stored)


@pytest.fixture
def hasty_records(database: Database) -> Iterator[Records]:
    """The application service with a write timeout of one second."""
    records = Database(
        conninfo=unix_socket_of(database), description="hasty", write_timeout=1
    ).open_records()
    yield records
    records.close()


def waiting_for_the_events_lock(connection: psycopg.Connection[Any]) -> bool:
    """Whether another session waits for a lock on the events table."""
    row = connection.execute(
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'diprec_events'::regclass"
    ).fetchone()
    return bool(row and row[0])


def lock_is_free(database: Database) -> bool:
    with database.connect() as other:
        try:
            other.execute("LOCK TABLE diprec_events IN EXCLUSIVE MODE NOWAIT")
        except psycopg.errors.LockNotAvailable:
            return False
    return True


def test_the_event_store_connections_carry_their_bounds(hasty_records: Records) -> None:
    with hasty_records.recorder.datastore.get_connection() as connection:  # type: ignore[attr-defined]
        shown = {
            name: connection.execute(f"SHOW {name}").fetchone()[name]
            for name in ("statement_timeout", "idle_in_transaction_session_timeout")
        }
    assert shown == {"statement_timeout": "1s", "idle_in_transaction_session_timeout": "5s"}


def test_a_store_stuck_on_this_side_is_cut_off_and_frees_the_lock(
    database: Database, hasty_records: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = hasty_records.recorder
    assert isinstance(recorder, EventStoreRecorder)
    monkeypatch.setattr(recorder.watchdog, "limit", 2.0)
    stored = EventStoreRecorder._insert_stored_events

    def pipelined(self: EventStoreRecorder, cursor: Any, events: Any, **kwargs: Any) -> None:
        # The library's way, in psycopg's pipeline mode, which deadlocks on a statement larger
        # than the socket's buffer: the server waits for the rest of it, this side for the
        # results. Only the watchdog can end that: the server's timeouts do not run while it
        # waits to read.
        with cursor.connection.pipeline() as pipeline:
            for statement in self._lock_and_notify.as_string().split("; "):
                cursor.execute(statement)
            self._insert_rows(cursor, events)
            pipeline.sync()

    monkeypatch.setattr(EventStoreRecorder, "_insert_stored_events", pipelined)
    refused: list[BaseException] = []

    # Eight times the largest fact. The deadlock needs the server blocked sending results as
    # this side blocks sending the statement: nearly always, not always (1 run in 8 or so the
    # server read it all), so the store is tried up to three times, each a new stream.
    refused_stream = None
    for _ in range(3):
        huge = StoredEvent(
            uuid4(), 1, "tests.faults:Huge", b'{"text": "' + b"x" * 8_000_000 + b'"}'
        )

        def register(event: StoredEvent = huge) -> None:
            try:
                recorder.insert_events([event])
            except Exception as error:
                refused.append(error)

        assert finishes(register, 30), "the stuck store was not cut off"
        if refused:
            refused_stream = huge.originator_id
            break
    assert len(refused) == 1
    assert isinstance(refused[0], persistence.OperationalError), refused
    assert recorder.watchdog.cuts >= 1
    assert lock_is_free(database)
    with database.connect() as reader:  # nothing of the cut-off store was stored
        row = reader.execute(
            "SELECT count(*) FROM diprec_events WHERE originator_id = %s", (refused_stream,)
        ).fetchone()
    assert row is not None
    assert row[0] == 0

    monkeypatch.setattr(EventStoreRecorder, "_insert_stored_events", stored)
    register_large(hasty_records, "after")  # the writer goes on
    assert recorder.max_notification_id() is not None


def register_large(records: Records, slug: str) -> None:
    records.register_source(
        id=f"large-{slug}",
        title="A long readout",
        publisher="Example ministry",
        language="en",
        text=LARGE_TEXT,
        recorded_by="tester",
    )


def test_a_write_waiting_on_a_lock_held_elsewhere_gets_503_then_the_writer_goes_on(
    database: Database, hasty_records: Records, projector: Projector
) -> None:
    load_demo(hasty_records)
    before = hasty_records.recorder.max_notification_id()
    _, key = ApiKeys(projector.store.pool).create("hasty", "recorder")
    settings = Settings(write_timeout_seconds=1)
    with (
        TestClient(create_app(settings, hasty_records, projector)) as client,
        database.connect() as holder,
    ):
        client.headers["Authorization"] = f"Bearer {key}"
        holder.execute("BEGIN")
        holder.execute("LOCK TABLE diprec_events IN EXCLUSIVE MODE")
        started = time.monotonic()
        refused = client.post(STATISTICS, json=STATISTIC)
        waited = time.monotonic() - started
        # The request's wait and the writer's lock_timeout are the same second: hold the lock
        # until the writer has given up too, or it may take the lock and record the write
        # after its request was answered (which the 503 allows: "may or may not").
        while waiting_for_the_events_lock(holder):
            assert time.monotonic() - started < 10, "the writer waited past its lock_timeout"
            time.sleep(0.01)
        holder.execute("ROLLBACK")

        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"]
        assert refused.json()["type"] in (
            "/problems/write-timeout",
            "/problems/database-unavailable",
        )
        assert waited < 10, waited  # bounded by the write timeout, not by the lock's holder
        assert hasty_records.recorder.max_notification_id() == before

        recorded = client.post(STATISTICS, json=STATISTIC)
        assert recorded.status_code == 201, recorded.text
