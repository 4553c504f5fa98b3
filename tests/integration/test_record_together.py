"""Commands recorded together (group commit), on the in-memory store and on PostgreSQL.

``Records.record_together`` runs commands one after another and stores what they decided in
one transaction; each must be answered exactly as if it had run alone. ``GroupCommit`` is the
service's writer thread that hands it every write waiting.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, OperationalError

from api.commits import GroupCommit
from api.database import Database
from api.idempotency import Claim
from domain.application import (
    Command,
    ConflictError,
    Recorded,
    Records,
    StaleVersionError,
    StatisticRecorded,
)
from domain.errors import InvalidCommandError, UnknownCommissionError
from domain.ids import session_id
from domain.session import Session
from tests.unit.conftest import (
    COMMISSION,
    RECORDER,
    SESSION,
    evidence,
    schedule,
    set_up_record,
    stored_events,
    turnover_reported,
)


@pytest.fixture(params=["memory", "postgres"])
def record(request: pytest.FixtureRequest) -> Iterator[Records]:
    """The AZ–RU record of the unit tests, on each event store."""
    if request.param == "memory":
        yield set_up_record(Records({"PERSISTENCE_MODULE": "eventsourcing.popo"}))
        return
    records: Records = request.getfixturevalue("pg_records")
    yield set_up_record(records)


def report(
    records: Records, value: str, *, key: str = SESSION, expected_version: int | None = None
) -> Callable[[], StatisticRecorded]:
    """A command reporting the 2023 turnover at a session."""
    return lambda: turnover_reported(
        records, value=value, key=key, expected_version=expected_version
    )


def stored_session(records: Records, key: str = SESSION) -> Session:
    session: Session = records.repository.get(session_id(COMMISSION, key))
    return session


def session_version(records: Records, key: str = SESSION) -> int:
    return stored_session(records, key).version


def transactions(database: Database, positions: list[int]) -> int:
    """How many transactions wrote the events at these log positions."""
    with database.connect() as connection:
        row = connection.execute(
            "SELECT count(DISTINCT xmin::text) FROM diprec_events WHERE notification_id = ANY(%s)",
            (positions,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def answered(outcome: Recorded[Any] | Exception) -> Recorded[Any]:
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


# --- Records.record_together -------------------------------------------------------------------


def test_each_command_is_answered_as_if_it_had_run_alone(record: Records) -> None:
    version = session_version(record)
    first, second = (
        answered(outcome)
        for outcome in record.record_together(
            [Command(report(record, "1E9")), Command(report(record, "2E9"))]
        )
    )
    assert isinstance(first, StatisticRecorded)
    assert isinstance(second, StatisticRecorded)
    # The second saw what the first decided; each answer is its session as it left it.
    assert (first.version, second.version) == (version + 1, version + 2)
    assert first.statistic_id in first.aggregate.statistics
    assert second.statistic_id not in first.aggregate.statistics
    assert {first.statistic_id, second.statistic_id} <= set(second.aggregate.statistics)
    # Each answers the log position of its own last event.
    assert first.position < second.position == stored_events(record)
    stored = stored_session(record)
    assert stored.version == version + 2
    assert str(stored.statistics[first.statistic_id].value) == "1E+9"


def test_commands_recorded_together_share_one_transaction(
    pg_records: Records, database: Database
) -> None:
    records = set_up_record(pg_records)
    key = schedule(records)
    scheduled = stored_events(records)

    def postpone() -> Recorded[Session]:
        return records.postpone_session(
            COMMISSION, key, reason="moved", evidence=evidence("Baku hosted"), recorded_by=RECORDER
        )

    outcomes = records.record_together(
        [Command(report(records, f"{n}E9")) for n in range(1, 4)] + [Command(postpone)]
    )
    # Each report stores two events (the statistic, its index), the postponement one.
    positions = [answered(outcome).position for outcome in outcomes]
    assert positions == [scheduled + 2, scheduled + 4, scheduled + 6, scheduled + 7]
    assert transactions(database, list(range(scheduled + 1, scheduled + 8))) == 1
    assert transactions(database, list(range(scheduled, scheduled + 8))) == 2


def test_a_refused_command_changes_nothing_for_the_others(record: Records) -> None:
    version = session_version(record)
    before = stored_events(record)
    bad_quote = lambda: record.report_statistic(  # noqa: E731
        COMMISSION,
        SESSION,
        measure="trade_turnover",
        value_kind="level",
        value="3E9",
        unit="USD",
        qualifier="approximately",
        reporter="AZ",
        partner="RU",
        period="2023",
        evidence=evidence("a quote the source does not contain"),
        recorded_by=RECORDER,
    )
    first, refused, last = record.record_together(
        [Command(report(record, "1E9")), Command(bad_quote), Command(report(record, "2E9"))]
    )
    assert isinstance(refused, InvalidCommandError)
    assert [problem.field for problem in refused.problems] == ["evidence[0].quote"]
    assert answered(first).version == version + 1
    assert answered(last).version == version + 2
    assert stored_events(record) == before + 4  # two reports, two events each


def test_if_match_is_checked_against_what_earlier_commands_decided(record: Records) -> None:
    version = session_version(record)
    first, stale = record.record_together(
        [
            Command(report(record, "1E9", expected_version=version)),
            Command(report(record, "2E9", expected_version=version)),
        ]
    )
    assert answered(first).version == version + 1
    assert isinstance(stale, StaleVersionError)
    assert (stale.expected, stale.actual) == (version, version + 1)
    assert session_version(record) == version + 1


def new_commission(records: Records) -> list[Command]:
    """Register a source, establish the AZ–TR commission, schedule a session of it citing
    that source: each command needs what those before it recorded."""

    def register() -> Recorded[Any]:
        return records.register_source(
            id="readout-2025",
            title="Readout",
            publisher="Ministry",
            language="en",
            text="The co-chairs met in Moscow.",
            recorded_by=RECORDER,
        )

    def establish() -> Recorded[Any]:
        return records.establish_commission(
            id="az-tr-economic", parties=["AZ", "TR"], names={"en": "AZ–TR"}, recorded_by=RECORDER
        )

    return [Command(register), Command(establish), Command(schedule_at_new_commission(records))]


def schedule_at_new_commission(records: Records) -> Callable[[], Recorded[Any]]:
    return lambda: records.schedule_session(
        "az-tr-economic",
        key="2099-plenary",
        kind="plenary",
        planned="2099",
        evidence=evidence("met in Moscow", source="readout-2025"),
        recorded_by=RECORDER,
    )


def test_a_later_command_builds_on_what_an_earlier_one_created(record: Records) -> None:
    outcomes = record.record_together(new_commission(record))
    assert [answered(outcome).version for outcome in outcomes] == [1, 1, 1]
    assert record.session("az-tr-economic", "2099-plenary").version == 1


def test_a_duplicate_within_a_group_is_refused_as_if_recorded_in_turn(record: Records) -> None:
    register = lambda: record.register_source(  # noqa: E731
        id="readout-2025",
        title="Readout",
        publisher="Ministry",
        language="en",
        recorded_by=RECORDER,
    )
    first, second = record.record_together([Command(register), Command(register)])
    assert answered(first).version == 1
    assert isinstance(second, InvalidCommandError)
    assert [problem.field for problem in second.problems] == ["id"]


def test_what_a_failed_group_decided_is_not_remembered(
    pg_records: Records, database: Database
) -> None:
    """A source or commission that a group decided but could not store is not taken as
    registered later (the record remembers both once they are stored)."""
    records = set_up_record(pg_records)
    refuse_all = "ALTER TABLE diprec_events ADD CONSTRAINT refuse_all CHECK (false) NOT VALID"
    with database.connect(autocommit=True) as connection:
        connection.execute(refuse_all)
        try:
            outcomes = records.record_together(new_commission(records))
        finally:
            connection.execute("ALTER TABLE diprec_events DROP CONSTRAINT refuse_all")
    assert all(isinstance(outcome, Exception) for outcome in outcomes)
    with pytest.raises(UnknownCommissionError):
        schedule_at_new_commission(records)()


def collide(records: Records, key: str = SESSION) -> Callable[[], Recorded[Any]]:
    """A command during which another writer (another thread, as another process would) stores
    a statistic at the session first; it then reports one of its own at session 23."""
    records.record_convened_session(
        COMMISSION,
        ordinal=23,
        kind="plenary",
        format="in_person",
        start="2025",
        evidence=evidence("Baku hosted the 22nd meeting"),
        recorded_by=RECORDER,
    )
    other = "23"

    def command() -> Recorded[Any]:
        writer = threading.Thread(target=report(records, "9E9", key=key))
        writer.start()
        writer.join()
        return report(records, "5E9", key=other)()

    return command


def test_a_collision_with_another_writer_runs_each_command_again_alone(record: Records) -> None:
    version = session_version(record)
    mine, theirs = record.record_together(
        [Command(report(record, "1E9")), Command(collide(record))]
    )
    # The group could not be stored; run alone, the first now follows the other writer's fact.
    assert answered(mine).version == version + 2
    assert isinstance(answered(theirs), StatisticRecorded)
    assert session_version(record) == version + 3  # the other writer ran twice, with the rerun


def test_a_collision_refuses_a_command_whose_if_match_is_then_stale(record: Records) -> None:
    version = session_version(record)
    stale, other = record.record_together(
        [Command(report(record, "1E9", expected_version=version)), Command(collide(record))]
    )
    assert isinstance(stale, StaleVersionError)
    assert isinstance(answered(other), StatisticRecorded)


def claims(database: Database) -> dict[str, list[list[Any]]]:
    with database.connect() as connection:
        rows = connection.execute("SELECT key, streams FROM diprec_idempotency").fetchall()
    return dict(rows)


def test_each_command_s_idempotency_claim_is_stored_with_the_group(
    pg_records: Records, database: Database
) -> None:
    records = set_up_record(pg_records)

    def claimed(key: str, value: str) -> Command:
        return Command(report(records, value), Claim(RECORDER, key, "hash").recorder_kwargs)

    first, second = records.record_together([claimed("k1", "1E9"), claimed("k2", "2E9")])
    stored = claims(database)
    for key, outcome in (("k1", first), ("k2", second)):
        recorded = answered(outcome)
        assert isinstance(recorded, StatisticRecorded)
        assert stored[key] == [
            [str(recorded.aggregate_id), recorded.version],
            [str(recorded.statistic_id), 1],
        ]


def test_one_idempotency_key_twice_in_a_group_records_the_fact_once(
    pg_records: Records, database: Database
) -> None:
    records = set_up_record(pg_records)
    before = stored_events(records)
    claim = Claim(RECORDER, "k1", "hash").recorder_kwargs
    first, second, other = records.record_together(
        [
            Command(report(records, "1E9"), claim),
            Command(report(records, "1E9"), claim),
            Command(report(records, "2E9")),
        ]
    )
    answered(first)
    assert isinstance(second, ConflictError)  # the service then answers it as the first
    answered(other)
    assert list(claims(database)) == ["k1"]
    assert stored_events(records) == before + 4


# --- GroupCommit: the writer thread ------------------------------------------------------------


def test_writes_waiting_while_one_commits_are_recorded_in_one_transaction(
    pg_records: Records, database: Database
) -> None:
    records = set_up_record(pg_records)
    commits = GroupCommit(records)
    release = threading.Event()
    started = threading.Event()

    def held() -> Recorded[Any]:
        started.set()
        release.wait(10)
        return report(records, "1E9")()

    async def scenario() -> list[Recorded[Any]]:
        first = asyncio.ensure_future(commits.record(Command(held)))
        while not started.is_set():
            await asyncio.sleep(0.01)
        rest = [
            asyncio.ensure_future(commits.record(Command(report(records, f"{n}E9"))))
            for n in range(2, 12)
        ]
        await asyncio.sleep(0.05)  # all handed over while the first is being recorded
        release.set()
        return [await first] + [await answer for answer in rest]

    try:
        recorded = asyncio.run(scenario())
    finally:
        commits.stop()
    positions = [answer.position for answer in recorded]
    assert positions == sorted(positions)
    assert len(set(positions)) == 11
    assert transactions(database, [positions[0]]) == 1
    assert transactions(database, positions[1:]) == 1  # the ten that waited went in together
    assert len({answer.version for answer in recorded}) == 11


def test_a_write_is_answered_with_the_error_that_refused_it(pg_records: Records) -> None:
    records = set_up_record(pg_records)
    commits = GroupCommit(records)

    async def scenario() -> None:
        with pytest.raises(StaleVersionError):
            await commits.record(Command(report(records, "1E9", expected_version=99)))
        assert isinstance(await commits.record(Command(report(records, "1E9"))), StatisticRecorded)

    try:
        asyncio.run(scenario())
    finally:
        commits.stop()


def test_stopping_records_every_write_handed_over_and_a_later_write_starts_again(
    pg_records: Records,
) -> None:
    records = set_up_record(pg_records)
    commits = GroupCommit(records)
    version = session_version(records)

    async def hand_over(count: int) -> list[Recorded[Any]]:
        answers = [
            asyncio.ensure_future(commits.record(Command(report(records, f"{n}E9"))))
            for n in range(count)
        ]
        await asyncio.sleep(0)  # let each hand its command over
        stopping = asyncio.get_running_loop().run_in_executor(None, commits.stop)
        recorded = [await answer for answer in answers]
        await stopping
        return recorded

    recorded = asyncio.run(hand_over(5))
    assert len(recorded) == 5
    assert session_version(records) == version + 5
    again = asyncio.run(commits.record(Command(report(records, "6E9"))))
    assert again.version == version + 6
    commits.stop()


# --- what a group takes from the cache ----------------------------------------------------------


@pytest.mark.parametrize("catch_up_limit", [500, 0])
def test_a_group_builds_on_what_other_writers_stored_since_the_last(
    pg_records: Records, database: Database, catch_up_limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Aggregates a group left in the cache are used without reading the log only while no
    other writer has changed them: another process's fact, or one recorded alone, is seen."""
    records = set_up_record(pg_records)
    monkeypatch.setattr(records, "catch_up_limit", catch_up_limit)
    answered(records.record_together([Command(report(records, "1E9"))])[0])
    other = database.open_records()
    try:
        by_other = turnover_reported(other, value="2E9")
    finally:
        other.close()
    alone = report(records, "3E9")()
    (last,) = records.record_together(
        [Command(report(records, "4E9", expected_version=alone.version))]
    )
    recorded = answered(last)
    assert isinstance(recorded, StatisticRecorded)
    assert recorded.version == alone.version + 1 == by_other.version + 2
    assert by_other.statistic_id in recorded.aggregate.statistics


def test_a_group_stored_by_an_attempt_that_reported_failure_is_answered_not_rerun(
    record: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection can be lost as a commit succeeds; the library then retries, and the
    retry is refused as a duplicate. The group is then answered as stored, not run again
    (which would record its facts twice)."""
    before = stored_events(record)
    insert = record.recorder.insert_events

    def committed_then_refused(stored_events: Any, **kwargs: Any) -> Any:
        insert(stored_events, **kwargs)
        monkeypatch.setattr(record.recorder, "insert_events", insert)
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(record.recorder, "insert_events", committed_then_refused)
    first, second = (
        answered(outcome)
        for outcome in record.record_together(
            [Command(report(record, "1E9")), Command(report(record, "2E9"))]
        )
    )
    assert stored_events(record) == before + 4  # each fact once
    assert (first.position, second.position) == (before + 2, before + 4)
    assert isinstance(second, StatisticRecorded)
    assert second.statistic_id in stored_session(record).statistics


def test_a_group_whose_storing_cannot_be_told_is_refused_as_unknown(
    record: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When too much was stored since the group began to look for its events, each write is
    refused as the database being unavailable (503: retry with the same Idempotency-Key)."""
    insert = record.recorder.insert_events

    def committed_then_refused(stored_events: Any, **kwargs: Any) -> Any:
        insert(stored_events, **kwargs)
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(record.recorder, "insert_events", committed_then_refused)
    monkeypatch.setattr(record, "catch_up_limit", -10)
    outcomes = record.record_together([Command(report(record, "1E9"))])
    assert [type(outcome) for outcome in outcomes] == [OperationalError]


def test_a_command_that_would_end_the_writer_thread_is_refused_and_the_writer_goes_on(
    pg_records: Records,
) -> None:
    records = set_up_record(pg_records)
    commits = GroupCommit(records)

    def ends_the_thread() -> Recorded[Any]:
        raise SystemExit

    async def scenario() -> Recorded[Any]:
        with pytest.raises(RuntimeError, match="the writer was interrupted"):
            await commits.record(Command(ends_the_thread))
        return await commits.record(Command(report(records, "1E9")))

    try:
        assert isinstance(asyncio.run(scenario()), StatisticRecorded)
    finally:
        commits.stop()
