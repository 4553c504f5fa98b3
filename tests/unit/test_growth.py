"""How far one aggregate may grow: each bound on what a session, a statistic or a commission
accumulates, and on the quotes of one fact's evidence.

At each bound the command is accepted; one past it, it is refused naming the field, and
nothing is stored. A record kept under a looser bound (events stored by an older version)
keeps all it holds: only what would add to it is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest

from domain.application import Command, Recorded, Records
from domain.values import (
    MAX_DECLARATIONS,
    MAX_EVIDENCE,
    MAX_POSTPONEMENTS,
    MAX_QUOTE,
    MAX_QUOTED,
    MAX_SESSION_CORRECTIONS,
    MAX_STATISTIC_CORRECTIONS,
    MAX_STATISTICS,
    MAX_TENURES,
    Evidence,
)
from tests.unit.conftest import (
    AZ_CO_CHAIR,
    COMMISSION,
    RECORDER,
    SESSION,
    UNTEXTED_SOURCE,
    evidence,
    refused,
    report_turnover,
    schedule,
    stored_events,
)

# --- the quotes of one fact -------------------------------------------------------------------


def quotes(total: int, items: int = 3) -> list[Evidence]:
    """Evidence of ``items`` quotes of a source without text, ``total`` characters in all."""
    each, extra = divmod(total, items)
    return [Evidence(UNTEXTED_SOURCE, "q" * (each + (index < extra))) for index in range(items)]


Fact = Callable[[Records, list[Evidence]], object]


def declaration_cited(app: Records, given: list[Evidence]) -> object:
    return app.reference_declaration(
        COMMISSION,
        SESSION,
        title="Declaration on allied interaction",
        dated="2022-02-22",
        evidence=given,
        recorded_by=RECORDER,
    )


def statistic_reported(app: Records, given: list[Evidence]) -> object:
    return app.report_statistic(
        COMMISSION,
        SESSION,
        measure="agreements_signed",
        value_kind="count",
        value="260",
        unit="count",
        qualifier="more_than",
        evidence=given,
        recorded_by=RECORDER,
    )


def statistic_corrected(app: Records, given: list[Evidence]) -> object:
    sid = next(iter(app.session(COMMISSION, SESSION).statistics))
    return app.correct_statistic(
        sid, changes={"value": "4.5E9"}, reason="revised", evidence=given, recorded_by=RECORDER
    )


def session_corrected(app: Records, given: list[Evidence]) -> object:
    return app.correct_session(
        COMMISSION,
        SESSION,
        changes={"summary": "The sides reviewed trade."},
        reason="the summary was left out",
        evidence=given,
        recorded_by=RECORDER,
    )


def session_scheduled(app: Records, given: list[Evidence]) -> object:
    return app.schedule_session(
        COMMISSION,
        key="2099-plenary",
        kind="plenary",
        planned="2099",
        evidence=given,
        recorded_by=RECORDER,
    )


def session_postponed(app: Records, given: list[Evidence]) -> object:
    return app.postpone_session(
        COMMISSION,
        "2099-co-chairs",
        reason="at the request of a party",
        evidence=given,
        recorded_by=RECORDER,
    )


def co_chair_appointed(app: Records, given: list[Evidence]) -> object:
    return app.appoint_co_chair(
        COMMISSION,
        party="AZ",
        name="Ali Asadov",
        title="Prime Minister",
        evidence=given,
        recorded_by=RECORDER,
    )


def tenure_ended(app: Records, given: list[Evidence]) -> object:
    return app.end_co_chair_tenure(
        COMMISSION,
        party=AZ_CO_CHAIR.party,
        name=AZ_CO_CHAIR.name,
        until="2024",
        evidence=given,
        recorded_by=RECORDER,
    )


def prepared(app: Records) -> Records:
    """Session 22 with a statistic to correct, and a scheduled meeting to postpone."""
    report_turnover(app)
    schedule(app)
    return app


FACTS: dict[str, Fact] = {
    "declaration": declaration_cited,
    "statistic": statistic_reported,
    "statistic correction": statistic_corrected,
    "session correction": session_corrected,
    "session scheduled": session_scheduled,
    "postponement": session_postponed,
    "co-chair": co_chair_appointed,
    "end of tenure": tenure_ended,
}


@pytest.mark.parametrize("fact", FACTS.values(), ids=FACTS)
def test_the_quotes_of_a_fact_may_hold_5000_characters_in_all(app: Records, fact: Fact) -> None:
    prepared(app)
    before = stored_events(app)
    fact(app, quotes(MAX_QUOTED))
    assert stored_events(app) > before


@pytest.mark.parametrize("fact", FACTS.values(), ids=FACTS)
def test_quotes_of_5001_characters_in_all_are_refused_naming_the_evidence(
    app: Records, fact: Fact
) -> None:
    prepared(app)
    with refused(app, "evidence") as refusal:
        fact(app, quotes(MAX_QUOTED + 1))
    assert "hold 5,001 characters in all; at most 5,000" in refusal.message("evidence")


def test_the_most_items_may_share_the_characters_of_a_fact(app: Records) -> None:
    statistic_reported(app, quotes(MAX_QUOTED, items=MAX_EVIDENCE))
    with refused(app, "evidence"):
        statistic_reported(app, quotes(MAX_QUOTED + 1, items=MAX_EVIDENCE))


def test_quotes_are_counted_as_stored_in_nfc(app: Records) -> None:
    # "é" sent decomposed is two code points, stored as one character.
    decomposed = "e\u0301" * MAX_QUOTE
    statistic_reported(app, [Evidence(UNTEXTED_SOURCE, decomposed)] * 2 + quotes(1_000, 1))
    with refused(app, "evidence"):
        statistic_reported(app, [Evidence(UNTEXTED_SOURCE, decomposed)] * 2 + quotes(1_001, 1))


def test_a_correction_without_evidence_quotes_nothing(app: Records) -> None:
    before = stored_events(app)
    session_corrected(app, [])
    assert stored_events(app) == before + 1


# --- what a session accumulates ---------------------------------------------------------------


def cite(app: Records, number: int) -> None:
    app.reference_declaration(
        COMMISSION,
        SESSION,
        title=f"Declaration no. {number}",
        dated="2022-02-22",
        evidence=evidence(),
        recorded_by=RECORDER,
    )


def cite_up_to(app: Records, count: int) -> None:
    for number in range(1, count + 1):
        cite(app, number)


def test_a_session_may_cite_20_declarations(app: Records) -> None:
    cite_up_to(app, MAX_DECLARATIONS)
    assert len(app.session(COMMISSION, SESSION).declarations) == MAX_DECLARATIONS


def test_a_21st_declaration_is_refused_naming_the_session(app: Records) -> None:
    cite_up_to(app, MAX_DECLARATIONS)
    with refused(app, "session") as refusal:
        cite(app, MAX_DECLARATIONS + 1)
    assert refusal.message("session") == (
        "session az-ru-economic/22 cites 20 declarations already; a session may cite at most 20"
    )


def postpone(app: Records, key: str) -> None:
    app.postpone_session(
        COMMISSION,
        key,
        reason="at the request of a party",
        evidence=evidence(),
        recorded_by=RECORDER,
    )


def test_a_session_may_be_postponed_10_times(app: Records) -> None:
    key = schedule(app)
    for _ in range(MAX_POSTPONEMENTS):
        postpone(app, key)
    session = app.session(COMMISSION, key)
    assert (session.status, session.postponements) == ("postponed", MAX_POSTPONEMENTS)


def test_an_11th_postponement_is_refused_but_the_session_may_still_be_cancelled(
    app: Records,
) -> None:
    key = schedule(app)
    for _ in range(MAX_POSTPONEMENTS):
        postpone(app, key)
    with refused(app, "session") as refusal:
        postpone(app, key)
    assert "has been postponed 10 times already" in refusal.message("session")
    assert "may be postponed at most 10 times" in refusal.message("session")
    app.cancel_session(
        COMMISSION, key, reason="no date was found", evidence=evidence(), recorded_by=RECORDER
    )
    assert len(app.session(COMMISSION, key).reasons) == MAX_POSTPONEMENTS + 1


def correct_summary(app: Records, number: int) -> None:
    app.correct_session(
        COMMISSION,
        SESSION,
        changes={"summary": f"The sides reviewed trade (reading {number})."},
        reason="a clearer reading",
        recorded_by=RECORDER,
    )


def test_a_sessions_record_may_be_corrected_10_times(app: Records) -> None:
    for number in range(1, MAX_SESSION_CORRECTIONS + 1):
        correct_summary(app, number)
    session = app.session(COMMISSION, SESSION)
    assert session.corrections == MAX_SESSION_CORRECTIONS
    assert session.summary == "The sides reviewed trade (reading 10)."


def test_an_11th_correction_of_a_sessions_record_is_refused_naming_the_session(
    app: Records,
) -> None:
    for number in range(1, MAX_SESSION_CORRECTIONS + 1):
        correct_summary(app, number)
    with refused(app, "session") as refusal:
        correct_summary(app, MAX_SESSION_CORRECTIONS + 1)
    assert refusal.message("session") == (
        "session az-ru-economic/22 has been corrected 10 times already; "
        "a session may be corrected at most 10 times"
    )


def report_count(app: Records, value: int) -> Command:
    def run() -> Recorded[Any]:
        return app.report_statistic(
            COMMISSION,
            SESSION,
            measure="agreements_signed",
            value_kind="count",
            value=str(value),
            unit="count",
            qualifier="exact",
            evidence=evidence(),
            recorded_by=RECORDER,
        )

    return Command(run)


def report_many(app: Records, count: int) -> None:
    """Reports ``count`` statistics at session 22, recorded together (quicker than alone)."""
    outcomes = app.record_together([report_count(app, value) for value in range(count)])
    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]


def test_a_session_may_hold_1000_statistics(app: Records) -> None:
    report_many(app, MAX_STATISTICS)
    assert len(app.session(COMMISSION, SESSION).statistics) == MAX_STATISTICS


def test_a_1001st_statistic_is_refused_naming_the_session(app: Records) -> None:
    report_many(app, MAX_STATISTICS)
    retracted = next(iter(app.session(COMMISSION, SESSION).statistics))
    app.retract_statistic(retracted, reason="withdrawn", recorded_by=RECORDER)  # still counts
    with refused(app, "session") as refusal:
        statistic_reported(app, evidence())
    assert refusal.message("session") == (
        "session az-ru-economic/22 holds 1,000 statistics already; a session may hold at most 1,000"
    )


def correct_value(app: Records, sid: UUID, number: int) -> None:
    app.correct_statistic(
        sid,
        changes={"value": f"4.4{number}E9"},
        reason="revised",
        evidence=evidence(source=UNTEXTED_SOURCE),
        recorded_by=RECORDER,
    )


def test_a_statistic_may_be_corrected_10_times(app: Records) -> None:
    sid = report_turnover(app)
    for number in range(1, MAX_STATISTIC_CORRECTIONS + 1):
        correct_value(app, sid, number)
    assert app.session(COMMISSION, SESSION).statistics[sid].revision == 11


def test_an_11th_correction_of_a_statistic_is_refused_but_it_may_still_be_retracted(
    app: Records,
) -> None:
    sid = report_turnover(app)
    for number in range(1, MAX_STATISTIC_CORRECTIONS + 1):
        correct_value(app, sid, number)
    with refused(app, "statistic") as refusal:
        correct_value(app, sid, MAX_STATISTIC_CORRECTIONS + 1)
    assert refusal.message("statistic") == (
        f"statistic {sid} has been corrected 10 times already; "
        "a statistic may be corrected at most 10 times"
    )
    app.retract_statistic(sid, reason="withdrawn", recorded_by=RECORDER)
    assert app.session(COMMISSION, SESSION).statistics[sid].retracted


# --- what a commission accumulates ------------------------------------------------------------


def appoint(app: Records, number: int) -> None:
    app.appoint_co_chair(
        COMMISSION,
        party="RU",
        name=f"Co-chair no. {number}",
        title="Deputy Prime Minister",
        evidence=evidence(),
        recorded_by=RECORDER,
    )


def appoint_up_to_the_bound(app: Records) -> None:
    """Appoints co-chairs until the commission has had 40 (the record has two already)."""
    for number in range(len(app.commission(COMMISSION).tenures) + 1, MAX_TENURES + 1):
        appoint(app, number)


def test_a_commission_may_have_40_co_chairs_appointed(app: Records) -> None:
    appoint_up_to_the_bound(app)
    assert len(app.commission(COMMISSION).tenures) == MAX_TENURES


def test_a_41st_appointment_is_refused_but_tenures_may_still_end(app: Records) -> None:
    appoint_up_to_the_bound(app)
    with refused(app, "commission") as refusal:
        appoint(app, MAX_TENURES + 1)
    assert refusal.message("commission") == (
        "commission az-ru-economic has had 40 co-chairs appointed already; "
        "a commission may have at most 40"
    )
    tenure_ended(app, evidence())
    assert app.commission(COMMISSION).tenures[0].until is not None


# --- a record kept under a looser bound -------------------------------------------------------


def loosened(monkeypatch: pytest.MonkeyPatch, module: str, name: str, held: int) -> None:
    """Lowers a bound below what the record already holds, as if the record had been kept by
    an older version that allowed more."""
    monkeypatch.setattr(f"domain.{module}.{name}", held - 1)


def test_a_session_holding_more_declarations_than_allowed_keeps_them_and_takes_other_facts(
    app: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    cite_up_to(app, 3)
    loosened(monkeypatch, "session", "MAX_DECLARATIONS", 3)
    with refused(app, "session") as refusal:
        cite(app, 4)
    assert "cites 3 declarations already; a session may cite at most 2" in refusal.message(
        "session"
    )
    assert len(app.session(COMMISSION, SESSION).declarations) == 3
    correct_summary(app, 1)
    report_turnover(app)


def test_a_session_holding_more_statistics_than_allowed_may_still_correct_them(
    app: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _, _ = (report_turnover(app, value=value) for value in ("4.4E9", "4.5E9", "4.6E9"))
    loosened(monkeypatch, "session", "MAX_STATISTICS", 3)
    with refused(app, "session"):
        report_turnover(app)
    correct_value(app, first, 1)
    app.retract_statistic(first, reason="withdrawn", recorded_by=RECORDER)
    cite(app, 1)
    assert len(app.session(COMMISSION, SESSION).statistics) == 3


def test_a_statistic_corrected_more_often_than_allowed_may_still_be_retracted(
    app: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = report_turnover(app)
    for number in range(1, 4):
        correct_value(app, sid, number)
    loosened(monkeypatch, "session", "MAX_STATISTIC_CORRECTIONS", 3)
    with refused(app, "statistic") as refusal:
        correct_value(app, sid, 4)
    assert "corrected 3 times already" in refusal.message("statistic")
    app.retract_statistic(sid, reason="withdrawn", recorded_by=RECORDER)


def test_a_session_postponed_and_corrected_more_often_than_allowed_may_still_be_held(
    app: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = schedule(app)
    for _ in range(3):
        postpone(app, key)
    for planned in ("2099-Q1", "2099-Q2", "2099-Q3"):
        app.correct_session(
            COMMISSION,
            key,
            changes={"planned": planned},
            reason="re-dated",
            evidence=evidence(source=UNTEXTED_SOURCE),
            recorded_by=RECORDER,
        )
    loosened(monkeypatch, "session", "MAX_POSTPONEMENTS", 3)
    loosened(monkeypatch, "session", "MAX_SESSION_CORRECTIONS", 3)
    with refused(app, "session"):
        postpone(app, key)
    with refused(app, "session"):
        app.correct_session(
            COMMISSION,
            key,
            changes={"planned": "2099-Q4"},
            reason="re-dated",
            evidence=evidence(source=UNTEXTED_SOURCE),
            recorded_by=RECORDER,
        )
    app.convene_session(
        COMMISSION,
        key,
        format="videoconference",
        start="2024",
        evidence=evidence(),
        recorded_by=RECORDER,
    )
    assert app.session(COMMISSION, key).status == "convened"


def test_a_commission_with_more_tenures_than_allowed_may_still_end_them(
    app: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    appoint(app, 3)
    loosened(monkeypatch, "commission", "MAX_TENURES", 3)
    with refused(app, "commission") as refusal:
        appoint(app, 4)
    assert "has had 3 co-chairs appointed already" in refusal.message("commission")
    tenure_ended(app, evidence())
    assert len(app.commission(COMMISSION).tenures) == 3
