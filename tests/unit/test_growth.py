"""How far one aggregate may grow: the bound on the quotes of one fact's evidence.

At each bound the command is accepted; one past it, it is refused naming the field, and
nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from domain.application import Records
from domain.values import (
    MAX_EVIDENCE,
    MAX_QUOTE,
    MAX_QUOTED,
    Evidence,
)
from tests.unit.conftest import (
    AZ_CO_CHAIR,
    COMMISSION,
    RECORDER,
    SESSION,
    UNTEXTED_SOURCE,
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
