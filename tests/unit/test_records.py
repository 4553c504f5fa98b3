"""The Records application on the in-memory event store: what its use cases record."""

from __future__ import annotations

import hashlib
import unicodedata
from decimal import Decimal
from uuid import uuid4

import pytest
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.application import ConflictError, Records, StaleVersionError
from domain.commission import same_person
from domain.dates import PartialDate, Period
from domain.ids import commission_id, session_id, source_id
from domain.session import Session
from domain.statistic_index import StatisticIndex
from domain.values import Evidence, Place, Representative
from tests.unit.conftest import (
    AZ_CO_CHAIR,
    BAKU,
    COMMISSION,
    QUOTE,
    RECORDER,
    RU_CO_CHAIR,
    SESSION,
    SOURCE,
    SOURCE_TEXT,
    UNTEXTED_SOURCE,
    evidence,
    refused,
    report_turnover,
    schedule,
    set_up_record,
    stored_events,
)


def nfd(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    assert decomposed != text, "the example must change under NFD"
    return decomposed


def event_types(app: Records, aggregate_id: object) -> list[str]:
    return [app.event_type(event) for event in app.events.get(aggregate_id)]  # type: ignore[arg-type]


def load_session(app: Records, key: str = SESSION) -> Session:
    session: Session = app.repository.get(session_id(COMMISSION, key))
    return session


# --- identity -----------------------------------------------------------------------------------


def test_the_same_slug_gives_the_same_id_in_any_record(empty: Records) -> None:
    other = Records({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    set_up_record(empty)
    set_up_record(other)
    assert empty.commission(COMMISSION).id == other.commission(COMMISSION).id
    assert empty.commission(COMMISSION).id == commission_id(COMMISSION)
    assert empty.source(SOURCE).id == other.source(SOURCE).id == source_id(SOURCE)
    assert empty.session(COMMISSION, SESSION).id == session_id(COMMISSION, SESSION)


def test_ids_of_different_kinds_and_slugs_differ() -> None:
    ids = {
        commission_id(COMMISSION),
        commission_id("az-tr-economic"),
        source_id(COMMISSION),
        session_id(COMMISSION, "22"),
        session_id(COMMISSION, "23"),
        session_id("az-tr-economic", "22"),
    }
    assert len(ids) == 6


def test_a_command_answers_the_id_and_version_it_stored(empty: Records) -> None:
    recorded = empty.establish_commission(
        id=COMMISSION, parties=["AZ", "RU"], names={"en": "Commission"}, recorded_by=RECORDER
    )
    assert recorded.aggregate_id == commission_id(COMMISSION)
    assert recorded.version == 1
    assert recorded.position == stored_events(empty)


def test_the_parties_of_a_commission_are_an_unordered_pair(empty: Records) -> None:
    empty.establish_commission(
        id=COMMISSION, parties=["RU", "AZ"], names={"ru": "Комиссия"}, recorded_by=RECORDER
    )
    assert empty.commission(COMMISSION).parties == ["AZ", "RU"]
    assert empty.parties(COMMISSION) == ["AZ", "RU"]


# --- sources ------------------------------------------------------------------------------------


def test_a_source_keeps_its_text_and_the_sha256_of_it(app: Records) -> None:
    source = app.source(SOURCE)
    assert source.text == SOURCE_TEXT
    assert source.sha256 == hashlib.sha256(SOURCE_TEXT.encode()).hexdigest()
    assert source.published_on == PartialDate.parse("2024")
    assert source.language == "en"


def test_a_source_registered_without_text_has_no_digest(app: Records) -> None:
    source = app.source(UNTEXTED_SOURCE)
    assert (source.text, source.sha256) == (None, None)


# --- the life of a session ----------------------------------------------------------------------


def test_a_session_is_scheduled_postponed_then_convened(app: Records) -> None:
    app.schedule_session(
        COMMISSION,
        ordinal=23,
        kind="plenary",
        planned="2025-Q4",
        place=Place("Moscow", "RU"),
        evidence=evidence(),
        recorded_by=RECORDER,
    )
    assert app.session(COMMISSION, "23").status == "scheduled"

    app.postpone_session(
        COMMISSION,
        "23",
        reason="by mutual agreement",
        planned="2026-Q1",
        evidence=evidence(),
        recorded_by=RECORDER,
    )
    postponed = app.session(COMMISSION, "23")
    assert (postponed.status, str(postponed.planned)) == ("postponed", "2026-Q1")
    assert postponed.reasons == ["by mutual agreement"]

    recorded = app.convene_session(
        COMMISSION,
        "23",
        format="hybrid",
        start="2025-03-10",
        end="2025-03-11",
        co_chairs=[AZ_CO_CHAIR, RU_CO_CHAIR],
        topics=["energy", "transport"],
        evidence=evidence(),
        recorded_by=RECORDER,
    )
    held = app.session(COMMISSION, "23")
    assert recorded.version == held.version == 3
    assert held.status == "convened"
    assert (str(held.start), str(held.end), held.date) == (
        "2025-03-10",
        "2025-03-11",
        PartialDate.parse("2025-03-10"),
    )
    assert held.place == Place("Moscow", "RU"), "convening keeps the planned place"
    assert held.co_chairs == [AZ_CO_CHAIR, RU_CO_CHAIR]
    assert held.topics == ["energy", "transport"]
    assert held.ordinal == 23
    assert held.reference == "az-ru-economic/23"
    assert len(held.evidence) == 3
    assert event_types(app, held.id) == ["SessionScheduled", "SessionPostponed", "SessionConvened"]


def test_a_session_recorded_once_held_opens_its_stream_with_session_convened(
    app: Records,
) -> None:
    session = app.session(COMMISSION, SESSION)
    assert (session.status, session.version, session.place) == ("convened", 1, BAKU)
    assert session.planned is None
    assert session.date == PartialDate.parse("2024")
    assert event_types(app, session.id) == ["SessionConvened"]


def test_a_cancelled_session_keeps_its_reason(app: Records) -> None:
    key = schedule(app)
    app.cancel_session(
        COMMISSION, key, reason="no agreement on dates", evidence=evidence(), recorded_by=RECORDER
    )
    cancelled = app.session(COMMISSION, key)
    assert (cancelled.status, cancelled.reasons) == ("cancelled", ["no agreement on dates"])
    assert event_types(app, cancelled.id) == ["SessionScheduled", "SessionCancelled"]


def test_a_session_without_key_or_ordinal_is_keyed_by_its_date_and_kind(app: Records) -> None:
    app.record_convened_session(
        COMMISSION,
        kind="co_chairs_meeting",
        format="videoconference",
        start="2022-02-16",
        evidence=evidence(),
        recorded_by=RECORDER,
    )
    assert app.session(COMMISSION, "2022-02-16-co-chairs-meeting").kind == "co_chairs_meeting"


def test_every_event_carries_who_recorded_it(app: Records) -> None:
    app.retract_statistic(report_turnover(app), reason="r", recorded_by="editor@example.org")
    recorders = [event.recorded_by for event in app.events.get(session_id(COMMISSION, SESSION))]  # type: ignore[attr-defined]
    assert recorders == [RECORDER, RECORDER, "editor@example.org"]


# --- facts recorded at a session ----------------------------------------------------------------


def test_a_protocol_is_recorded_with_its_signatories(app: Records) -> None:
    app.sign_protocol(
        COMMISSION,
        SESSION,
        title="Protocol of the 22nd meeting",
        signed_on="2024",
        signatories=[RU_CO_CHAIR, AZ_CO_CHAIR],
        evidence=evidence("More than 260 agreements have been signed"),
        recorded_by=RECORDER,
    )
    protocol = app.session(COMMISSION, SESSION).protocol
    assert protocol is not None
    assert protocol.signatories == (RU_CO_CHAIR, AZ_CO_CHAIR)
    assert protocol.signed_on == PartialDate.parse("2024")


def test_a_declaration_is_cited_with_its_date_and_characterization(app: Records) -> None:
    app.reference_declaration(
        COMMISSION,
        SESSION,
        title="Declaration on allied interaction",
        dated="2022-02-22",
        characterization="particularly significant",
        evidence=evidence(source=UNTEXTED_SOURCE),
        recorded_by=RECORDER,
    )
    (declaration,) = app.session(COMMISSION, SESSION).declarations
    assert (declaration.title, str(declaration.dated), declaration.characterization) == (
        "Declaration on allied interaction",
        "2022-02-22",
        "particularly significant",
    )


def test_two_sources_give_different_figures_for_one_session(app: Records) -> None:
    turnover = report_turnover(app)
    share = app.report_statistic(
        COMMISSION,
        SESSION,
        measure="settlement_share_national_currency",
        value_kind="share_pct",
        value="57.8",
        unit="percent",
        qualifier="exact",
        period="2023-12",
        stated_by="RU",
        evidence=evidence("57,8 %", source=UNTEXTED_SOURCE),
        recorded_by=RECORDER,
    ).statistic_id
    statistics = app.session(COMMISSION, SESSION).statistics
    assert set(statistics) == {turnover, share}
    assert statistics[share].evidence[0].source == UNTEXTED_SOURCE
    assert statistics[turnover].evidence[0].source == SOURCE


# --- statistics, corrected and retracted --------------------------------------------------------


def test_a_reported_statistic_is_stored_as_stated(app: Records) -> None:
    statistic_id = report_turnover(app)
    statistic = app.session(COMMISSION, SESSION).statistics[statistic_id]
    assert statistic.id == statistic_id
    assert (statistic.measure, statistic.value_kind, statistic.unit) == (
        "trade_turnover",
        "level",
        "USD",
    )
    assert statistic.value == Decimal("4.4E9")
    assert (statistic.reporter, statistic.partner, statistic.stated_by) == ("AZ", "RU", "AZ")
    assert statistic.period == Period.parse("2023")
    assert (statistic.revision, statistic.retracted) == (1, False)
    assert statistic.evidence == (Evidence(SOURCE, QUOTE),)


def test_each_statistic_gets_a_new_id(app: Records) -> None:
    assert report_turnover(app) != report_turnover(app)


def test_a_statistic_is_found_by_its_id(app: Records) -> None:
    statistic_id = report_turnover(app)
    assert app.session_of_statistic(statistic_id).id == session_id(COMMISSION, SESSION)
    index: StatisticIndex = app.repository.get(statistic_id)
    assert (index.commission, index.session_key) == (COMMISSION, SESSION)


def test_a_corrected_figure_is_a_new_revision_citing_its_own_evidence(
    app: Records,
) -> None:
    statistic_id = report_turnover(app)
    app.correct_statistic(
        statistic_id,
        changes={"value": "4.5E9", "qualifier": "more_than"},
        reason="the release gives a higher figure",
        evidence=evidence("Доля", source=UNTEXTED_SOURCE),
        recorded_by=RECORDER,
    )
    corrected = app.session(COMMISSION, SESSION).statistics[statistic_id]
    assert corrected.revision == 2
    assert (corrected.value, corrected.qualifier) == (Decimal("4.5E9"), "more_than")
    assert (corrected.measure, corrected.period, corrected.unit) == (
        "trade_turnover",
        Period.parse("2023"),
        "USD",
    )
    # The earlier quote no longer backs the figure: it is kept apart, superseded.
    assert corrected.evidence == (Evidence(UNTEXTED_SOURCE, "Доля"),)
    assert corrected.superseded_evidence == (Evidence(SOURCE, QUOTE),)
    assert event_types(app, session_id(COMMISSION, SESSION))[-1] == "StatisticCorrected"


def test_a_correction_may_change_the_period(app: Records) -> None:
    statistic_id = report_turnover(app)
    app.correct_statistic(
        statistic_id,
        changes={"period": "2024-01/2024-05"},
        reason="r",
        evidence=evidence(source=UNTEXTED_SOURCE),
        recorded_by=RECORDER,
    )
    corrected = app.session(COMMISSION, SESSION).statistics[statistic_id]
    assert corrected.period == Period.parse("2024-01/2024-05")


def test_a_retracted_statistic_stays_in_the_record_marked_retracted(app: Records) -> None:
    statistic_id = report_turnover(app)
    kept = report_turnover(app, value="4.5E9")
    app.retract_statistic(statistic_id, reason="not stated at the session", recorded_by=RECORDER)
    session = app.session(COMMISSION, SESSION)
    retracted = session.statistics[statistic_id]
    assert retracted.retracted is True
    assert retracted.retraction_reason == "not stated at the session"
    assert retracted.value == Decimal("4.4E9")
    assert [s.id for s in session.active_statistics] == [kept]
    assert event_types(app, session.id)[-1] == "StatisticRetracted"


# --- corrections of a session's own record ------------------------------------------------------


def test_a_session_correction_changes_only_the_fields_named(app: Records) -> None:
    app.correct_session(
        COMMISSION,
        SESSION,
        changes={"start": "2024-05-17", "topics": ["trade", "energy"]},
        reason="the ministry's readout gives the day",
        evidence=evidence(source=UNTEXTED_SOURCE),
        recorded_by=RECORDER,
    )
    session = app.session(COMMISSION, SESSION)
    assert str(session.start) == "2024-05-17"
    assert session.topics == ["trade", "energy"]
    assert (session.place, session.co_chairs) == (BAKU, [AZ_CO_CHAIR, RU_CO_CHAIR])
    assert event_types(app, session.id) == ["SessionConvened", "SessionCorrected"]


def test_a_session_correction_revalidates_the_whole_record(app: Records) -> None:
    app.correct_session(
        COMMISSION,
        SESSION,
        changes={"start": "2024-05-17", "end": "2024-05-18"},
        reason="r",
        evidence=evidence(source=UNTEXTED_SOURCE),
        recorded_by=RECORDER,
    )
    # Only the start changes, but it would put the (unchanged) end before the start.
    with refused(app, "changes.end"):
        app.correct_session(
            COMMISSION, SESSION, changes={"start": "2024-05-19"}, reason="r", recorded_by=RECORDER
        )
    with refused(app, "changes.co_chairs[0].party"):
        app.correct_session(
            COMMISSION,
            SESSION,
            changes={"co_chairs": [Representative("TR", "Cevdet Yılmaz", "VP")]},
            reason="r",
            recorded_by=RECORDER,
        )
    assert str(app.session(COMMISSION, SESSION).start) == "2024-05-17"


def test_a_scheduled_sessions_planned_date_and_place_can_be_corrected(app: Records) -> None:
    key = schedule(app)
    app.correct_session(
        COMMISSION,
        key,
        changes={"planned": "2099-Q3", "place": Place(nfd("Şəki"), "AZ")},
        reason="r",
        evidence=evidence(source=UNTEXTED_SOURCE),
        recorded_by=RECORDER,
    )
    session = app.session(COMMISSION, key)
    assert (str(session.planned), session.place) == ("2099-Q3", Place("Şəki", "AZ"))


# --- co-chairs ----------------------------------------------------------------------------------


def test_a_co_chairs_tenure_ends_whatever_the_case_of_the_name(app: Records) -> None:
    app.end_co_chair_tenure(
        COMMISSION,
        party="AZ",
        name="SHAHIN mustafayev",
        until="2024-06",
        evidence=evidence(),
        recorded_by=RECORDER,
    )
    commission = app.commission(COMMISSION)
    ended = next(tenure for tenure in commission.tenures if tenure.party == "AZ")
    assert ended.name == "Shahin Mustafayev", "the name is kept as first given"
    assert ended.until == PartialDate.parse("2024-06")
    assert len(ended.evidence) == 2
    assert [tenure.name for tenure in commission.current_co_chairs] == ["Alexei Overchuk"]
    assert event_types(app, commission.id)[-1] == "CoChairTenureEnded"


def test_a_co_chair_whose_tenure_ended_may_be_appointed_again(app: Records) -> None:
    app.end_co_chair_tenure(
        COMMISSION,
        party="AZ",
        name=AZ_CO_CHAIR.name,
        until="2023",
        evidence=evidence(),
        recorded_by=RECORDER,
    )
    app.appoint_co_chair(
        COMMISSION,
        party="AZ",
        name=AZ_CO_CHAIR.name,
        title=AZ_CO_CHAIR.title,
        since="2024",
        evidence=evidence(),
        recorded_by=RECORDER,
    )
    tenures = app.commission(COMMISSION).tenures
    assert [(t.name, str(t.since), str(t.until)) for t in tenures if t.party == "AZ"] == [
        ("Shahin Mustafayev", "None", "2023"),
        ("Shahin Mustafayev", "2024", "None"),
    ]


def test_a_spelling_variant_is_not_the_same_name(app: Records) -> None:
    assert same_person("Şahin Mustafayev", "şahin MUSTAFAYEV")
    assert not same_person("Shahin Mustafayev", "Şahin Mustafayev")
    with refused(app, "name"):
        app.end_co_chair_tenure(
            COMMISSION,
            party="AZ",
            name="Şahin Mustafayev",
            until="2024",
            evidence=evidence(),
            recorded_by=RECORDER,
        )


# --- names and Unicode --------------------------------------------------------------------------


def test_non_latin_names_are_stored_as_given(empty: Records) -> None:
    set_up_record(empty)
    names = {"ru": "Межправительственная комиссия", "az": "Hökumətlərarası Komissiya"}
    empty.establish_commission(
        id="az-ru-humanitarian", parties=["AZ", "RU"], names=names, recorded_by=RECORDER
    )
    for party, name in (("AZ", "Şahin Mustafayev"), ("RU", "Алексей Оверчук")):
        empty.appoint_co_chair(
            "az-ru-humanitarian",
            party=party,
            name=name,
            title="Заместитель Председателя Правительства",
            evidence=evidence(),
            recorded_by=RECORDER,
        )
    commission = empty.commission("az-ru-humanitarian")
    assert commission.names == names
    assert [t.name for t in commission.tenures] == ["Şahin Mustafayev", "Алексей Оверчук"]


def test_decomposed_text_is_stored_composed(app: Records) -> None:
    app.record_convened_session(
        COMMISSION,
        key="2024-05-co-chairs",
        kind="co_chairs_meeting",
        format="in_person",
        start="2024-05",
        place=Place(nfd("Şəki"), "AZ"),
        co_chairs=[Representative("AZ", nfd("Şahin Mustafayev"), nfd("Baş nazirin müavini"))],
        summary=nfd("Görüş Şəkidə keçirildi"),
        evidence=[Evidence(SOURCE, nfd("Şəki and Qəbələ"))],
        recorded_by=RECORDER,
    )
    session = app.session(COMMISSION, "2024-05-co-chairs")
    assert session.place == Place("Şəki", "AZ")
    assert session.co_chairs == [Representative("AZ", "Şahin Mustafayev", "Baş nazirin müavini")]
    assert session.summary == "Görüş Şəkidə keçirildi"
    assert session.evidence == [Evidence(SOURCE, "Şəki and Qəbələ")]


def test_a_decomposed_source_text_is_stored_composed(app: Records) -> None:
    text = nfd("Şahin Mustafayev və Alexei Overchuk")
    app.register_source(
        id="report-az",
        title=nfd("Hökumətlərarası komissiyanın iclası"),
        publisher="AZƏRTAC",
        language="az-Latn",
        text=text,
        recorded_by=RECORDER,
    )
    source = app.source("report-az")
    assert source.text == "Şahin Mustafayev və Alexei Overchuk"
    assert source.title == "Hökumətlərarası komissiyanın iclası"
    assert source.sha256 == hashlib.sha256(source.text.encode()).hexdigest()


# --- versions and concurrent writers ------------------------------------------------------------


def test_a_command_with_the_expected_version_is_recorded(app: Records) -> None:
    recorded = app.reference_declaration(
        COMMISSION,
        SESSION,
        title="Declaration on allied interaction",
        dated="2022-02-22",
        evidence=evidence(),
        recorded_by=RECORDER,
        expected_version=1,
    )
    assert recorded.version == 2


def test_a_command_expecting_another_version_is_refused_as_stale(app: Records) -> None:
    before = stored_events(app)
    with pytest.raises(StaleVersionError) as caught:
        app.sign_protocol(
            COMMISSION,
            SESSION,
            signatories=[AZ_CO_CHAIR, RU_CO_CHAIR],
            evidence=evidence(),
            recorded_by=RECORDER,
            expected_version=2,
        )
    assert (caught.value.expected, caught.value.actual) == (2, 1)
    assert stored_events(app) == before


def test_a_statistic_correction_expecting_an_old_version_is_refused_as_stale(
    app: Records,
) -> None:
    statistic_id = report_turnover(app)
    with pytest.raises(StaleVersionError):
        app.correct_statistic(
            statistic_id,
            changes={"value": "4.5E9"},
            reason="r",
            recorded_by=RECORDER,
            expected_version=1,
        )
    assert app.session(COMMISSION, SESSION).statistics[statistic_id].revision == 1


def test_of_two_writers_of_one_session_the_first_to_save_wins(app: Records) -> None:
    first, second = load_session(app), load_session(app)
    first_id, second_id = uuid4(), uuid4()
    for copy, statistic_id in ((first, first_id), (second, second_id)):
        copy.report_statistic(
            statistic_id=statistic_id,
            parties=["AZ", "RU"],
            measure="agreements_signed",
            value_kind="count",
            value="260",
            unit="count",
            qualifier="more_than",
            reporter=None,
            partner=None,
            period=None,
            stated_by=None,
            remarks=None,
            evidence=evidence("More than 260 agreements"),
            recorded_by=RECORDER,
            recorded_on=PartialDate.parse("2024-06-01").first_day,
        )
    app.save(first)
    before = stored_events(app)
    with pytest.raises(IntegrityError):
        app.save(second)
    assert stored_events(app) == before
    assert set(app.session(COMMISSION, SESSION).statistics) == {first_id}


def _stale_copy_with_a_new_statistic(app: Records) -> tuple[Session, StatisticIndex]:
    """A copy of session 22 loaded before another write, then changed as if by a second writer."""
    stale = load_session(app)
    report_turnover(app)  # another writer moves the session on
    statistic_id = uuid4()
    stale.report_statistic(
        statistic_id=statistic_id,
        parties=["AZ", "RU"],
        measure="tourist_arrivals",
        value_kind="rank",
        value="1",
        unit="rank",
        qualifier="exact",
        reporter="AZ",
        partner="RU",
        period=None,
        stated_by=None,
        remarks=None,
        evidence=evidence("Şəki and Qəbələ"),
        recorded_by=RECORDER,
        recorded_on=PartialDate.parse("2024-06-01").first_day,
    )
    return stale, StatisticIndex.locate(statistic_id, stale, recorded_by=RECORDER)


def test_a_losing_writer_gets_a_conflict_and_nothing_of_its_write_is_stored(
    app: Records,
) -> None:
    stale, index = _stale_copy_with_a_new_statistic(app)
    before = stored_events(app)
    with pytest.raises(ConflictError):
        app._store(stale, index)
    assert stored_events(app) == before
    with pytest.raises(AggregateNotFoundError):
        app.repository.get(index.id)
    assert index.id not in app.session(COMMISSION, SESSION).statistics


def test_a_losing_writer_that_sent_a_version_is_told_it_was_stale(app: Records) -> None:
    stale, index = _stale_copy_with_a_new_statistic(app)
    before = stored_events(app)
    with pytest.raises(StaleVersionError) as caught:
        app._store(stale, index, expected_version=1)
    assert (caught.value.expected, caught.value.actual) == (1, None)
    assert stored_events(app) == before
