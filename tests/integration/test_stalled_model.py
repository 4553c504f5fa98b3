"""One stored event a read model cannot apply stops that model alone, at the event before it:
the other models and the writes go on, ``/ready`` and the reads of that model say so, a rebuild
fails clearly and leaves the live generation, and a fix (an upcaster, or new model code) with a
rebuild makes the model live again. A lost connection is no model's fault: it stalls nothing.

The bad events are stored past the domain's checks, through the library's recorder, as a
version of the code that accepted them would have stored them.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent
from fastapi.testclient import TestClient

from api.database import Database
from api.demo import COMMISSION, SESSION, SOURCE, load_demo
from domain.application import Records
from domain.ids import session_id
from domain.session import Session
from domain.values import Evidence
from projections.batch import Batch
from projections.models import READ_MODELS, StatisticsModel
from projections.queries import ReadModels, ReadModelStalledError
from projections.runner import CannotApplyError, ProjectionRunner, Projector
from projections.store import Generation
from projections.values import Recorded, timestamp
from tests.http.helpers import assert_no_leak
from tests.integration.cli import RunCli
from tests.integration.test_read_models import dump

# PostgreSQL's numeric holds at most 16,383 digits after the point: this is 16,384 of them.
TOO_PRECISE = "0E-16384"
STATISTIC_REPORTED = "domain.session:Session.StatisticReported"
HEALTHY = ("commissions", "evidence", "history", "instruments", "sessions")


def store_unchecked(records: Records, stream: UUID, topic: str, state: dict[str, Any]) -> int:
    """Stores an event as the next version of ``stream``, as the library's recorder stores
    one, past every check of the domain; returns its log position."""
    version = records.recorder.select_events(stream, desc=True, limit=1)[0].originator_version
    stored = StoredEvent(stream, version + 1, topic, json.dumps(state).encode())
    [position] = records.recorder.insert_events([stored]) or [0]
    return position


def report_unchecked(records: Records, value: str) -> tuple[int, UUID]:
    """A statistic reported at the demo session with ``value`` as it is: a copy of the
    session's last report under another id. Returns its position and id."""
    stream = session_id(COMMISSION, SESSION)
    report = next(
        event
        for event in records.recorder.select_events(stream, desc=True)
        if event.topic == STATISTIC_REPORTED
    )
    state = json.loads(report.state)
    statistic = uuid4()
    state["statistic_id"]["_data_"] = statistic.hex
    state["value"]["_data_"] = value
    return store_unchecked(records, stream, STATISTIC_REPORTED, state), statistic


def retract_unknown(records: Records) -> int:
    """A retraction, at the demo session, of a statistic never reported: the statistics'
    handler has no row to retract. Returns its position."""
    state = {
        "timestamp": {"_type_": "datetime_iso", "_data_": datetime.now(UTC).isoformat()},
        "recorded_by": "an-older-version",
        "statistic_id": {"_type_": "uuid_hex", "_data_": uuid4().hex},
        "reason": "never reported",
    }
    return store_unchecked(
        records,
        session_id(COMMISSION, SESSION),
        "domain.session:Session.StatisticRetracted",
        state,
    )


def add_source(records: Records, slug: str) -> int:
    return records.register_source(
        id=slug, title="Extra", publisher="Test", language="en", recorded_by="tester"
    ).position


def live(projector: Projector) -> dict[str, Generation]:
    return projector.store.live()


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def statistic_rows(projector: Projector) -> list[tuple[UUID, int]]:
    """Every version of every statistic in the live statistics model: its id and the position
    of the event that made it."""
    schema = live(projector)["statistics"].schema
    with projector.store.transaction() as cursor:
        cursor.execute(f'SELECT id, from_position FROM "{schema}".statistics')
        return sorted((row["id"], row["from_position"]) for row in cursor.fetchall())


def reported_before(records: Records, position: int) -> list[tuple[UUID, int]]:
    """The statistics the log reports before ``position``, each with its event's position."""
    return sorted(
        (UUID(json.loads(n.state)["statistic_id"]["_data_"]), n.id)
        for n in records.recorder.select_notifications(start=1, limit=10_000, stop=position - 1)
        if n.topic == STATISTIC_REPORTED
    )


def healthy_dump(projector: Projector) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table: rows
        for table, rows in dump(projector.store).items()
        if table.split(".")[0] in HEALTHY
    }


@dataclass(frozen=True)
class Stalled:
    """A record whose statistics model stalled: where, and what was written after."""

    bad: int  # the position of the report the statistics cannot hold
    report: int  # the position of a valid report written after it
    statistic: UUID  # that report's statistic
    last: int  # the log's last position: a source registered through the API


def stall_the_statistics(client: TestClient, pg_records: Records, projector: Projector) -> Stalled:
    """The demo record, then a report the statistics cannot hold, then valid writes, once the
    runner has got as far as it can."""
    load_demo(pg_records)
    bad, _ = report_unchecked(pg_records, TOO_PRECISE)
    recorded = pg_records.report_statistic(
        COMMISSION,
        SESSION,
        measure="imports",
        value_kind="level",
        value="1.2E9",
        unit="USD",
        qualifier="approximately",
        reporter="AZ",
        partner="RU",
        period="2023",
        evidence=[Evidence(SOURCE, "was held in Baku")],
        recorded_by="analyst",
    )
    written = client.post(
        "/sources",
        json={"id": "after-the-stall", "title": "Extra", "publisher": "Test", "language": "en"},
    )
    assert written.status_code == 201, written.text
    last = written.json()["position"]
    wait_until(
        lambda: (
            {name: g.position for name, g in live(projector).items()}
            == {**dict.fromkeys(HEALTHY, last), "statistics": bad - 1}
        ),
        "the healthy models did not reach the end of the log, or statistics did not stall",
    )
    return Stalled(bad, recorded.position, recorded.statistic_id, last)


def test_an_event_one_model_cannot_apply_stalls_it_alone_while_writes_and_others_go_on(
    client: TestClient, pg_records: Records, projector: Projector
) -> None:
    stalled = stall_the_statistics(client, pg_records, projector)

    statistics = live(projector)["statistics"]
    assert statistics.position == stalled.bad - 1
    assert statistics.stall is not None
    assert (statistics.stall.event, statistics.stall.topic) == (stalled.bad, STATISTIC_REPORTED)
    assert statistics.stall.error.startswith("DataError: ")
    assert "16383" in statistics.stall.error
    assert {(live(projector)[name].position, live(projector)[name].stall) for name in HEALTHY} == {
        (stalled.last, None)
    }
    # The statistics before the bad event are all there, each once.
    assert statistic_rows(projector) == reported_before(pg_records, stalled.bad)
    # The healthy models, kept up to date past the stall, are what a rebuild makes of the log.
    kept = healthy_dump(projector)
    projector.rebuild_all(list(HEALTHY))
    assert healthy_dump(projector) == kept
    assert live(projector)["statistics"] == statistics


def test_ready_and_the_reads_of_a_stalled_model_say_so_while_the_others_answer(
    client: TestClient, pg_records: Records, projector: Projector
) -> None:
    stalled = stall_the_statistics(client, pg_records, projector)
    stall = live(projector)["statistics"].stall
    assert stall is not None

    ready = client.get("/ready")
    assert_no_leak(ready)
    assert ready.status_code == 200
    readiness = ready.json()
    assert readiness["status"] == "degraded"
    assert readiness["read_models"]["statistics"] == {
        "generation": 1,
        "code_version": StatisticsModel.version,
        "position": stalled.bad - 1,
        "lag": stalled.last - (stalled.bad - 1),
        "stalled": True,
        "stall": {
            "event_position": stalled.bad,
            "event_topic": STATISTIC_REPORTED,
            "error": stall.error,
            "since": timestamp(stall.since),
        },
    }
    assert {
        name: (state["stalled"], state["lag"])
        for name, state in readiness["read_models"].items()
        if name != "statistics"
    } == dict.fromkeys(HEALTHY, (False, 0))

    # A read of the stalled model past its position is refused at once, saying why: as a
    # stall, not as "not yet" once the wait is over.
    refused = client.get(f"/statistics/{stalled.statistic}?min_position={stalled.report}")
    assert_no_leak(refused)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"]
    assert refused.json()["type"] == "/problems/read-model-stalled"
    assert (
        f"read model statistics is stalled at position {stalled.bad - 1}"
        in (refused.json()["detail"])
    )
    session = client.get(
        f"/commissions/{COMMISSION}/sessions/{SESSION}?min_position={stalled.last}"
    )
    assert session.json()["type"] == "/problems/read-model-stalled"
    # A read without min_position needs every write acknowledged before it (the default):
    # refused too, rather than answered without the writes past the stall.
    strong = client.get("/trade-position?parties=AZ,RU")
    assert_no_leak(strong)
    assert strong.status_code == 503
    assert strong.json()["type"] == "/problems/read-model-stalled"
    assert f"stalled at position {stalled.bad - 1}" in strong.json()["detail"]
    assert client.get(f"/statistics/{stalled.statistic}").status_code == 503
    # Asked for eventual consistency, it is answered from where the model stopped, up to its
    # position; the other models are answered at the end of the log either way.
    for asked in ("consistency=eventual", f"consistency=eventual&min_position={stalled.bad - 1}"):
        trade = client.get(f"/trade-position?parties=AZ,RU&{asked}")
        assert (trade.status_code, trade.json()["position"]) == (200, stalled.bad - 1)
    co_chairs = client.get(f"/commissions/{COMMISSION}/co-chairs")
    assert (co_chairs.status_code, co_chairs.json()["position"]) == (200, stalled.last)
    history = client.get(f"/commissions/{COMMISSION}/history?min_position={stalled.last}&limit=500")
    assert (history.status_code, history.json()["position"]) == (200, stalled.last)
    entries = history.json()["items"]
    assert stalled.bad in {entry["position"] for entry in entries}
    assert str(stalled.statistic) in {entry["statistic"] for entry in entries}
    sessions = client.get(f"/commissions/{COMMISSION}/sessions?min_position={stalled.last}")
    assert (sessions.status_code, sessions.json()["position"]) == (200, stalled.last)


def test_a_wait_outside_a_request_for_a_position_past_a_stall_fails_at_once(
    pg_records: Records, projector: Projector
) -> None:
    load_demo(pg_records)
    bad, _ = report_unchecked(pg_records, TOO_PRECISE)
    projector.catch_up()

    with pytest.raises(ReadModelStalledError, match=f"stalled at position {bad - 1}"):
        ReadModels(projector.store).wait_for(bad, timeout=30)
    ReadModels(projector.store).wait_for(bad - 1, timeout=30)


def test_a_stall_is_logged_once_and_a_new_runner_tries_the_model_again(
    database: Database,
    pg_records: Records,
    projector: Projector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def stalls() -> list[str]:
        return [r.getMessage() for r in caplog.records if "stalled at position" in r.getMessage()]

    caplog.set_level(logging.INFO, logger="diprec.projections")
    load_demo(pg_records)
    bad, _ = report_unchecked(pg_records, TOO_PRECISE)
    last = add_source(pg_records, "after-the-stall")
    projector.catch_up()
    projector.catch_up()

    first = live(projector)["statistics"].stall
    assert first is not None
    assert stalls() == [
        f"read model statistics cannot apply event {bad} ({STATISTIC_REPORTED}): "
        f"{first.error}; it is stalled at position {bad - 1}"
    ]

    runner = ProjectionRunner(projector, database.conninfo, poll_interval=0.2)
    runner.start()
    try:
        wait_until(lambda: len(stalls()) == 2, "the new runner did not try the model again")
    finally:
        runner.stop()
    again = live(projector)["statistics"]
    assert again.position == bad - 1
    assert again.stall is not None
    assert (again.stall.event, again.stall.error) == (first.event, first.error)
    assert {live(projector)[name].position for name in HEALTHY} == {last}


def test_a_rebuild_of_a_model_that_cannot_apply_an_event_fails_clearly_and_changes_nothing(
    client: TestClient,
    pg_records: Records,
    projector: Projector,
    run_cli: RunCli,
    database_url: str,
) -> None:
    load_demo(pg_records)
    bad, _ = report_unchecked(pg_records, TOO_PRECISE)
    wait_until(lambda: live(projector)["statistics"].stall is not None, "statistics did not stall")
    stalled = live(projector)["statistics"]

    result = run_cli("rebuild", "statistics", env={"DATABASE_URL": database_url}, expect=1)

    [line] = result.stderr.strip().splitlines()
    assert line.startswith(
        f"diprec: rebuild failed: read model statistics cannot apply event {bad} "
        f"({STATISTIC_REPORTED}): DataError: "
    )
    assert "16383" in line
    assert live(projector)["statistics"] == stalled
    assert [(g.generation, g.status) for g in projector.store.generations()] == [(1, "live")] * 6, (
        "the half-built generation is left behind"
    )
    with projector.store.transaction() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'rm_statistics_g2'")
        assert cursor.fetchone() is None

    with pytest.raises(CannotApplyError, match=f"cannot apply event {bad} "):
        projector.rebuild("statistics")
    assert live(projector)["statistics"] == stalled

    refused = client.post("/admin/rebuilds", json={"read_models": ["history", "statistics"]})
    assert_no_leak(refused)
    assert refused.status_code == 409
    assert refused.json()["type"] == "/problems/cannot-apply"
    assert f"read model statistics cannot apply event {bad} " in refused.json()["detail"]
    assert not projector.is_rebuilding("history")


def test_an_upcaster_for_the_event_then_a_rebuild_makes_the_stalled_model_live_and_current(
    pg_records: Records, projector: Projector, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_demo(pg_records)
    bad, statistic = report_unchecked(pg_records, TOO_PRECISE)
    last = add_source(pg_records, "after-the-stall")
    projector.catch_up()
    assert live(projector)["statistics"].position == bad - 1

    # The fix deployed: reports stored before it read as the fix says.
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        if state["value"].is_zero():
            state["value"] = Decimal(0)

    monkeypatch.setattr(Session.StatisticReported, "class_version", 2, raising=False)
    monkeypatch.setattr(
        Session.StatisticReported, "upcast_v1_v2", staticmethod(upcast_v1_v2), raising=False
    )
    fixed = Projector(pg_records, projector.store, batch_size=100)  # the new code's process
    assert fixed.still_fails("statistics") is None
    # Read through the upcaster, the reports stored before the fix read as they did, but one.
    upcast = {event.position: event for event in fixed.read(0, 1000).events}
    as_stored = {event.position: event for event in projector.read(0, 1000).events}
    assert upcast.keys() == as_stored.keys()
    assert [p for p in upcast if upcast[p] != as_stored[p]] == [bad]
    assert upcast[bad].data == {**as_stored[bad].data, "value": "0"}

    rebuilt = fixed.rebuild("statistics")

    assert (rebuilt.generation, rebuilt.position) == (2, last)
    statistics = live(fixed)["statistics"]
    assert (statistics.generation, statistics.position, statistics.stall) == (2, last, None)
    answer = ReadModels(fixed.store).statistic(statistic, None)
    assert answer is not None
    assert answer["value"] == "0"
    later = add_source(pg_records, "after-the-fix")
    fixed.catch_up()
    assert {g.position for g in live(fixed).values()} == {later}


class StatisticsIgnoringUnknownRetractions(StatisticsModel):
    """The statistics' code, fixed: a retraction of a statistic it never saw changes nothing."""

    version = StatisticsModel.version + 1

    def on_StatisticRetracted(self, batch: Batch, event: Recorded) -> None:  # noqa: N802
        if batch.get(self.statistics, (UUID(event.data["statistic_id"]),)) is not None:
            super().on_StatisticRetracted(batch, event)


def test_a_fault_of_a_models_code_stalls_it_and_its_fixed_version_rebuilds_it_live(
    pg_records: Records, projector: Projector
) -> None:
    load_demo(pg_records)
    bad = retract_unknown(pg_records)
    last = add_source(pg_records, "after-the-stall")
    projector.catch_up()

    statistics = live(projector)["statistics"]
    assert statistics.position == bad - 1
    assert statistics.stall is not None
    assert statistics.stall.error.startswith("AssertionError: no statistic ")
    assert {live(projector)[name].position for name in HEALTHY} == {last}

    models = [
        StatisticsIgnoringUnknownRetractions() if model.name == "statistics" else model
        for model in READ_MODELS
    ]
    fixed = Projector(pg_records, projector.store, models, batch_size=100)
    stale = fixed.prepare()
    assert stale == ["statistics"]
    [rebuilt] = fixed.rebuild_all(stale)

    assert (rebuilt.generation, rebuilt.position) == (2, last)
    assert live(fixed)["statistics"].stall is None
    assert statistic_rows(fixed) == reported_before(pg_records, last + 1)


def test_an_event_that_cannot_be_read_stalls_only_the_models_that_handle_its_kind(
    pg_records: Records, projector: Projector
) -> None:
    load_demo(pg_records)
    bad, statistic = report_unchecked(pg_records, "1")
    with psycopg.connect(projector.store.conninfo, autocommit=True) as connection:
        connection.execute(
            "UPDATE diprec_events SET state = convert_to(replace(convert_from(state, 'UTF8'), "
            "%s, 'not-a-uuid'), 'UTF8') WHERE notification_id = %s",
            (statistic.hex, bad),
        )
    last = add_source(pg_records, "after-the-stall")
    projector.catch_up()

    stalled = {name: g for name, g in live(projector).items() if g.stall is not None}
    # The three that read reports (the evidence model reads their quotes).
    assert set(stalled) == {"evidence", "history", "statistics"}
    for generation in stalled.values():
        assert generation.position == bad - 1
        assert generation.stall is not None
        assert (generation.stall.event, generation.stall.topic) == (bad, STATISTIC_REPORTED)
        assert generation.stall.error.startswith("ValueError: ")
    assert {live(projector)[name].position for name in ("commissions", "sessions")} == {last}


def test_a_connection_lost_during_a_batch_stalls_nothing(
    database: Database,
    pg_records: Records,
    projector: Projector,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load_demo(pg_records)
    last = pg_records.recorder.max_notification_id()
    statistics = projector.models["statistics"]
    report = statistics.handlers["StatisticReported"]
    lost: list[int] = []

    def report_then_lose_the_connection(batch: Batch, event: Recorded) -> None:
        if not lost:
            lost.append(batch.cursor.connection.info.backend_pid)
            with database.connect(autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)", lost)
        report(batch, event)

    monkeypatch.setitem(statistics.handlers, "StatisticReported", report_then_lose_the_connection)
    with pytest.raises((psycopg.OperationalError, psycopg.InterfaceError)):
        projector.catch_up()

    assert lost
    assert {(g.position, g.stall) for g in live(projector).values()} == {(0, None)}
    projector.catch_up()
    assert {(g.position, g.stall) for g in live(projector).values()} == {(last, None)}


def test_the_state_table_of_an_earlier_release_gains_the_stall_columns(
    pg_records: Records, projector: Projector
) -> None:
    load_demo(pg_records)
    projector.catch_up()
    before = live(projector)
    with projector.store.transaction() as cursor:
        cursor.execute(
            "ALTER TABLE rm_state DROP COLUMN stall_event, DROP COLUMN stall_topic, "
            "DROP COLUMN stall_error, DROP COLUMN stalled_since"
        )

    assert projector.prepare() == []

    assert live(projector) == before
    bad, _ = report_unchecked(pg_records, TOO_PRECISE)
    projector.catch_up()
    assert live(projector)["statistics"].position == bad - 1
    assert live(projector)["statistics"].stall is not None
