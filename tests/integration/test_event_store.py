"""The event store on real PostgreSQL: append and reload, conflicts, restarts, Unicode."""

from __future__ import annotations

import threading
import unicodedata
from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError

from api.database import Database
from domain.application import ConflictError, Records, StaleVersionError
from domain.errors import UnknownStatisticError
from domain.session import Session
from domain.statistic_index import StatisticIndex
from domain.values import Evidence, Place
from tests.integration.cli import RunCli

SOURCE_TEXT = (
    "The co-chairs, Şahin Mustafayev and Алексей Оверчук, met in Baku. "
    "Trade turnover grew by 17.5 percent to about 4.4 billion US dollars in 2023."
)
EVIDENCE = [Evidence("readout", "met in Baku")]


def record_session(records: Records) -> None:
    records.register_source(
        id="readout",
        title="Readout",
        publisher="Ministry",
        language="en",
        text=SOURCE_TEXT,
        recorded_by="tester",
    )
    records.establish_commission(
        id="az-ru-economic",
        parties=["AZ", "RU"],
        names={"en": "Commission"},
        recorded_by="tester",
    )
    records.record_convened_session(
        "az-ru-economic",
        ordinal=22,
        kind="plenary",
        format="in_person",
        start="2024",
        place=Place("Baku", "AZ"),
        evidence=EVIDENCE,
        recorded_by="tester",
    )


def report(session: Session, statistic_id: UUID | None = None) -> UUID:
    statistic_id = statistic_id or uuid4()
    session.report_statistic(
        statistic_id=statistic_id,
        parties=["AZ", "RU"],
        measure="trade_turnover",
        value_kind="level",
        value="4.4E9",
        unit="USD",
        qualifier="approximately",
        reporter="AZ",
        partner="RU",
        period="2023",
        stated_by=None,
        remarks=None,
        evidence=EVIDENCE,
        recorded_by="tester",
        recorded_on=date.today(),
    )
    return statistic_id


def test_facts_appended_are_read_back_by_a_new_application(database: Database) -> None:
    writer = database.open_records()
    record_session(writer)
    recorded = writer.report_statistic(
        "az-ru-economic",
        "22",
        measure="trade_turnover",
        value_kind="change_pct",
        value="17.5",
        unit="percent",
        qualifier="exact",
        reporter="AZ",
        partner="RU",
        period="2023",
        evidence=[Evidence("readout", "grew by 17.5 percent")],
        recorded_by="tester",
    )
    writer.close()

    reader = database.open_records()
    session = reader.session("az-ru-economic", "22")
    statistic = session.statistics[recorded.statistic_id]
    assert (str(statistic.value), statistic.unit, str(statistic.period)) == (
        "17.5",
        "percent",
        "2023",
    )
    assert session.version == recorded.version
    assert reader.recorder.max_notification_id() == recorded.position
    reader.close()


def test_of_two_writers_changing_one_session_at_once_exactly_one_wins(
    database: Database,
) -> None:
    setup = database.open_records()
    record_session(setup)
    setup.close()
    first, second = database.open_records(), database.open_records()
    copies = [app.session("az-ru-economic", "22") for app in (first, second)]
    for copy in copies:
        report(copy)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(app: Records, session: Session) -> None:
        barrier.wait()
        try:
            app.save(session)
            outcomes.append("stored")
        except IntegrityError:
            outcomes.append("refused")

    threads = [
        threading.Thread(target=save, args=pair)
        for pair in zip((first, second), copies, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["refused", "stored"]
    stored = database.open_records().session("az-ru-economic", "22")
    assert len(stored.statistics) == 1
    assert stored.version == 2
    first.close()
    second.close()


@pytest.mark.parametrize("expected_version", [None, 1])
def test_a_stale_writer_is_refused_whole(database: Database, expected_version: int | None) -> None:
    records = database.open_records()
    record_session(records)
    stale = records.session("az-ru-economic", "22")
    records.report_statistic(
        "az-ru-economic",
        "22",
        measure="trade_turnover",
        value_kind="level",
        value="4.4E9",
        unit="USD",
        qualifier="approximately",
        reporter="AZ",
        partner="RU",
        period="2023",
        evidence=EVIDENCE,
        recorded_by="tester",
    )
    position = records.recorder.max_notification_id()
    report(stale)
    expected_error: type[Exception] = StaleVersionError if expected_version else ConflictError

    with pytest.raises(expected_error):
        records._store(stale, expected_version=expected_version)

    assert records.recorder.max_notification_id() == position
    records.close()


def test_a_statistic_and_its_index_are_stored_together_or_not_at_all(
    database: Database,
) -> None:
    records = database.open_records()
    record_session(records)
    stale = records.session("az-ru-economic", "22")
    recorded = records.report_statistic(
        "az-ru-economic",
        "22",
        measure="trade_turnover",
        value_kind="level",
        value="1",
        unit="USD",
        qualifier="exact",
        reporter="AZ",
        partner="RU",
        period="2023",
        evidence=EVIDENCE,
        recorded_by="tester",
    )
    assert records.session_of_statistic(recorded.statistic_id).id == stale.id
    lost = report(stale)
    index = StatisticIndex.locate(lost, stale, recorded_by="tester")

    with pytest.raises(ConflictError):
        records._store(stale, index)

    with pytest.raises(UnknownStatisticError):
        records.session_of_statistic(lost)
    records.close()


def test_non_latin_names_round_trip_in_nfc(database: Database) -> None:
    records = database.open_records()
    record_session(records)
    decomposed = unicodedata.normalize("NFD", "Şahin Mustafayev")
    assert decomposed != "Şahin Mustafayev"
    records.appoint_co_chair(
        "az-ru-economic",
        party="AZ",
        name=decomposed,
        title="Baş nazirin müavini",
        evidence=[Evidence("readout", "Şahin Mustafayev")],
        recorded_by="tester",
    )
    records.appoint_co_chair(
        "az-ru-economic",
        party="RU",
        name="Алексей Оверчук",
        title="Заместитель Председателя Правительства",
        evidence=[Evidence("readout", "Алексей Оверчук")],
        recorded_by="tester",
    )
    records.close()

    reread = database.open_records().commission("az-ru-economic")
    names = {tenure.name for tenure in reread.current_co_chairs}
    assert names == {"Şahin Mustafayev", "Алексей Оверчук"}
    assert all(unicodedata.is_normalized("NFC", name) for name in names)


def test_events_survive_a_restart_of_the_embedded_server(tmp_path: Path, run_cli: RunCli) -> None:
    """Each command is its own process, and stops the embedded server when it exits."""
    env = {"DIPREC_DATA_DIR": str(tmp_path), "DATABASE_URL": ""}
    loaded = run_cli("demo", env=env)
    exported = run_cli("events", env=env)
    again = run_cli("demo", env=env)

    assert "facts added" in loaded.stdout
    assert exported.stdout.count('"type":"StatisticReported"') == 9
    assert "nothing added" in again.stdout
