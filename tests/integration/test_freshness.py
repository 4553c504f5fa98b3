"""Read-your-writes, readiness, a lost notification, and one rebuild at a time."""

from __future__ import annotations

import time

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.database import Database
from api.demo import COMMISSION, load_demo
from api.security import ApiKeys
from api.settings import Settings
from domain.application import Records, today
from domain.source import Source
from projections.queries import ReadModels
from projections.runner import REBUILD_LOCK, ProjectionRunner, Projector, RebuildInProgressError
from projections.store import Generation


def client_without_runner(records: Records, projector: Projector) -> TestClient:
    """The service with nobody keeping its read models up to date."""
    client = TestClient(create_app(Settings(read_wait_seconds=0.3), records, projector))
    _, key = ApiKeys(projector.store.pool).create("reader", "reader")
    client.headers["Authorization"] = f"Bearer {key}"
    return client


def test_a_read_past_the_read_models_waits_then_answers_503_with_retry_after(
    pg_records: Records, projector: Projector
) -> None:
    load_demo(pg_records)
    position = pg_records.recorder.max_notification_id()
    with client_without_runner(pg_records, projector) as client:
        started = time.monotonic()
        response = client.get(f"/commissions/{COMMISSION}/timeline?min_position={position}")
        waited = time.monotonic() - started

        assert response.status_code == 503
        assert response.headers["Retry-After"] == "1"
        assert response.json()["type"] == "/problems/not-ready"
        assert waited >= 0.3

        projector.catch_up()
        answer = client.get(f"/commissions/{COMMISSION}/timeline?min_position={position}")
        assert answer.status_code == 200
        assert answer.json()["position"] == position


def test_ready_reports_each_read_models_position_and_lag(
    pg_records: Records, projector: Projector
) -> None:
    load_demo(pg_records)
    position = pg_records.recorder.max_notification_id()
    _, admin = ApiKeys(projector.store.pool).create("operator", "admin")
    with client_without_runner(pg_records, projector) as client:
        client.headers["Authorization"] = f"Bearer {admin}"  # positions are an admin's to see
        behind = client.get("/ready").json()
        projector.catch_up()
        caught_up = client.get("/ready").json()

    assert behind["status"] == "catching-up"
    assert behind["log_position"] == position
    assert {m["lag"] for m in behind["read_models"].values()} == {position}
    assert caught_up["status"] == "ready"
    assert set(caught_up["read_models"]) == set(projector.models)
    assert {m["position"] for m in caught_up["read_models"].values()} == {position}


def test_a_lost_notification_does_not_stall_the_projections(
    database: Database, pg_records: Records, projector: Projector
) -> None:
    runner = ProjectionRunner(projector, database.conninfo, poll_interval=0.2)
    runner.start()
    try:
        source = Source.register(
            slug="silent-source",
            title="Written without a notification",
            publisher="test",
            language="en",
            recorded_by="tester",
            recorded_on=today(),
        )
        stored = pg_records.mapper.to_stored_event(source.collect_events()[0])
        with psycopg.connect(database.conninfo) as connection:  # no NOTIFY sent
            connection.execute(
                "INSERT INTO diprec_events (originator_id, originator_version, topic, state) "
                "VALUES (%s, %s, %s, %s)",
                (stored.originator_id, stored.originator_version, stored.topic, stored.state),
            )
        position = pg_records.recorder.max_notification_id()
        deadline = time.monotonic() + 10
        while {g.position for g in projector.store.live().values()} != {position}:
            assert time.monotonic() < deadline, "the poll did not pick the event up"
            time.sleep(0.05)
    finally:
        runner.stop()


def test_a_read_model_is_rebuilt_by_one_process_at_a_time(
    database: Database, projector: Projector
) -> None:
    with psycopg.connect(database.conninfo, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (REBUILD_LOCK, "history"))
        with pytest.raises(RebuildInProgressError):
            projector.rebuild("history")
        # Released here, not by closing: a closed connection's backend may hold it a moment.
        other.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (REBUILD_LOCK, "history"))
    assert projector.rebuild("history").generation == 2


def add_source(records: Records, slug: str) -> int:
    """Registers a source of no consequence; returns its log position."""
    return records.register_source(
        id=slug, title="Extra", publisher="Test", language="en", recorded_by="t"
    ).position


def timeline_position(client: TestClient) -> int:
    response = client.get(f"/commissions/{COMMISSION}/timeline")
    assert response.status_code == 200
    position: int = response.json()["position"]
    return position


def test_answers_move_with_the_read_models_whoever_moves_them(
    database: Database, pg_records: Records, projector: Projector
) -> None:
    """While the service watches the state table, it reads the models' positions only when
    one has moved: here by its own projector (seen at once), then by another process's
    (seen once announced), and a min_position read never gets an answer from before it."""
    load_demo(pg_records)
    projector.catch_up()
    with client_without_runner(pg_records, projector) as client:
        read_models = client.app.state.read_models  # type: ignore[attr-defined]
        assert read_models.watch.listening
        first = timeline_position(client)
        reads: list[int] = []
        read_live = projector.store.live

        def counted() -> dict[str, Generation]:
            reads.append(1)
            return read_live()

        projector.store.live = counted  # type: ignore[method-assign]
        assert timeline_position(client) == first
        assert timeline_position(client) == first
        assert not reads, "the positions were read again although nothing moved"

        # Moved by this process's projector: the next answer is read at the new position.
        source = add_source(pg_records, "extra-1")
        projector.catch_up()
        assert timeline_position(client) == source

        # Moved by another projector (as `diprec project` would): announced by the trigger.
        other_store = database.read_model_store()
        try:
            other = Projector(pg_records, other_store)
            moved = add_source(pg_records, "extra-2")
            other.catch_up()
            deadline = time.monotonic() + 5
            while timeline_position(client) != moved:
                assert time.monotonic() < deadline, "the move was never announced"
                time.sleep(0.01)

            # A read asking for a position is answered at it, announced or not yet.
            last = add_source(pg_records, "extra-3")
            other.catch_up()
            answer = client.get(f"/commissions/{COMMISSION}/timeline?min_position={last}")
            assert answer.json()["position"] == last
        finally:
            other_store.close_pool()


def test_a_remembered_answer_is_recalled_without_the_database_until_the_models_move(
    pg_records: Records, projector: Projector
) -> None:
    load_demo(pg_records)
    projector.catch_up()
    read_models = ReadModels(projector.store)
    read_models.watch.start(projector.store.conninfo)
    try:
        question = (COMMISSION, None, None, None, None, 50)
        assert read_models.recall("timeline", *question) is None  # never asked yet
        answer = read_models.timeline(*question)

        assert read_models.recall("timeline", *question) is answer
        assert read_models.recall("timeline", COMMISSION, None, None, None, None, 10) is None

        add_source(pg_records, "extra-4")
        projector.catch_up()
        assert read_models.recall("timeline", *question) is None  # the models moved
    finally:
        read_models.watch.stop()
    assert read_models.recall("timeline", *question) is None  # nothing is trusted unwatched
