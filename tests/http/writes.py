"""Every write of the API, each ready to be sent: its path, a valid body, and what to expect.

The cross-cutting tests run one check over all of them, so a new write endpoint joins them by
being added here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import uuid4

from fastapi.testclient import TestClient

from tests.http.helpers import (
    CHAIRED_QUOTE,
    COMMISSION,
    DECLARATION_QUOTE,
    MUSTAFAYEV,
    PLANNED_QUOTE,
    TURNOVER_QUOTE,
    Record,
    co_chair_body,
    commission_body,
    convened_session_body,
    convening_body,
    declaration_body,
    evidence,
    post,
    protocol_body,
    report_statistic,
    schedule_session,
    scheduled_session_body,
    statistic_body,
    untexted_source_body,
)

UNKNOWN_COMMISSION = "az-tr-economic"


@dataclass(frozen=True)
class Write:
    """One write endpoint, prepared on the AZ–RU record."""

    path: str
    body: dict[str, Any]
    #: The event type it stores.
    event: str
    #: Where the created resource is read (the expected Location).
    location: str
    #: Whether GET answers at that Location.
    location_served: bool = True
    #: The resource whose ETag an If-Match names; None where If-Match does not apply.
    versioned: str | None = None
    #: Paths naming an unknown commission, session or statistic (404).
    unknown: tuple[str, ...] = ()
    #: A field that takes text, to be sent a JSON number instead.
    text_field: str = "reason"
    #: Whether the body carries evidence, and whether it must.
    has_evidence: bool = True
    evidence_required: bool = True
    #: Fields that may not be left out.
    required: tuple[str, ...] = field(default_factory=tuple)
    #: Fields a GET of the Location shows otherwise than the write's answer (known bugs).
    read_differs: tuple[str, ...] = ()


SESSIONS = f"/commissions/{COMMISSION}/sessions"
CO_CHAIRS = f"/commissions/{COMMISSION}/co-chairs"


def _register_source(client: TestClient, record: Record) -> Write:
    return Write(
        path="/sources",
        body=untexted_source_body(id="kremlin-2024-readout", title="Заявление для прессы"),
        event="SourceRegistered",
        location="/sources/kremlin-2024-readout",
        text_field="title",
        has_evidence=False,
        required=("id", "title", "publisher", "language"),
    )


def _establish_commission(client: TestClient, record: Record) -> Write:
    return Write(
        path="/commissions",
        body=commission_body(id=UNKNOWN_COMMISSION, parties=["AZ", "TR"], names={"en": "AZ-TR"}),
        event="CommissionEstablished",
        location=f"/commissions/{UNKNOWN_COMMISSION}",
        text_field="id",
        has_evidence=False,
        required=("id", "parties", "names"),
    )


def _appoint_co_chair(client: TestClient, record: Record) -> Write:
    return Write(
        path=CO_CHAIRS,
        body=co_chair_body("AZ"),
        event="CoChairAppointed",
        location=CO_CHAIRS,
        location_served=False,
        versioned=f"/commissions/{COMMISSION}",
        unknown=(f"/commissions/{UNKNOWN_COMMISSION}/co-chairs",),
        text_field="name",
        required=("party", "name", "title", "evidence"),
    )


def _end_co_chair_tenure(client: TestClient, record: Record) -> Write:
    assert post(client, CO_CHAIRS, co_chair_body("AZ")).status_code == 201
    return Write(
        path=f"{CO_CHAIRS}/end",
        body={
            "party": "AZ",
            "name": MUSTAFAYEV,
            "until": "2024-06",
            "evidence": evidence(CHAIRED_QUOTE),
        },
        event="CoChairTenureEnded",
        location=CO_CHAIRS,
        location_served=False,
        versioned=f"/commissions/{COMMISSION}",
        unknown=(f"/commissions/{UNKNOWN_COMMISSION}/co-chairs/end",),
        text_field="until",
        required=("party", "name", "until", "evidence"),
    )


def _record_convened_session(client: TestClient, record: Record) -> Write:
    return Write(
        path=SESSIONS,
        body=convened_session_body(ordinal=21, start="2023-06"),
        event="SessionConvened",
        location=f"{SESSIONS}/21",
        unknown=(f"/commissions/{UNKNOWN_COMMISSION}/sessions",),
        text_field="summary",
        required=("kind", "evidence"),
    )


def _schedule_session(client: TestClient, record: Record) -> Write:
    return Write(
        path=SESSIONS,
        body=scheduled_session_body(),
        event="SessionScheduled",
        location=f"{SESSIONS}/23",
        unknown=(f"/commissions/{UNKNOWN_COMMISSION}/sessions",),
        text_field="planned",
        required=("kind", "evidence"),
    )


def _session_fact(
    suffix: str, event: str, body: dict[str, Any], text_field: str, *, key: str = "22"
) -> Write:
    return Write(
        path=f"{SESSIONS}/{key}/{suffix}",
        body=body,
        event=event,
        location=f"{SESSIONS}/{key}",
        versioned=f"{SESSIONS}/{key}",
        unknown=(
            f"{SESSIONS}/99/{suffix}",
            f"/commissions/{UNKNOWN_COMMISSION}/sessions/{key}/{suffix}",
        ),
        text_field=text_field,
    )


def _convene_session(client: TestClient, record: Record) -> Write:
    schedule_session(client, ordinal=24)
    return _session_fact("convened", "SessionConvened", convening_body(), "start", key="24")


def _cancel_session(client: TestClient, record: Record) -> Write:
    schedule_session(client, ordinal=25)
    body = {"reason": "The agenda was not agreed.", "evidence": evidence(PLANNED_QUOTE)}
    return _session_fact("cancellation", "SessionCancelled", body, "reason", key="25")


def _postpone_session(client: TestClient, record: Record) -> Write:
    schedule_session(client, ordinal=26)
    body = {"reason": "Moved to spring.", "planned": "2026-Q1", "evidence": evidence(PLANNED_QUOTE)}
    return _session_fact("postponement", "SessionPostponed", body, "reason", key="26")


def _sign_protocol(client: TestClient, record: Record) -> Write:
    return _session_fact("protocols", "ProtocolSigned", protocol_body(), "title")


def _reference_declaration(client: TestClient, record: Record) -> Write:
    return _session_fact("declarations", "DeclarationReferenced", declaration_body(), "dated")


def _report_statistic(client: TestClient, record: Record) -> Write:
    write = _session_fact("statistics", "StatisticReported", statistic_body(), "value")
    # The statistic's own address is only known from the answer.
    return replace(write, location="/statistics/")


def _correct_session(client: TestClient, record: Record) -> Write:
    body = {
        "changes": {"summary": "The sides reviewed trade and the transport corridor."},
        "reason": "The summary left out the corridor.",
        "evidence": evidence(DECLARATION_QUOTE),
    }
    write = _session_fact("corrections", "SessionCorrected", body, "reason")
    return replace(write, evidence_required=False)


def _statistic_write(
    client: TestClient, record: Record, suffix: str, event: str, body: dict[str, Any]
) -> Write:
    sid = report_statistic(client, record)["id"]
    return Write(
        path=f"/statistics/{sid}/{suffix}",
        body=body,
        event=event,
        location=f"/statistics/{sid}",
        versioned=f"/statistics/{sid}",
        unknown=(f"/statistics/{uuid4()}/{suffix}",),
        text_field="reason",
        has_evidence="evidence" in body,
        evidence_required=False,
    )


def _correct_statistic(client: TestClient, record: Record) -> Write:
    body = {
        "changes": {"value": "4.5E9"},
        "reason": "The ministry revised the figure.",
        "evidence": evidence(TURNOVER_QUOTE),
    }
    return _statistic_write(client, record, "corrections", "StatisticCorrected", body)


def _retract_statistic(client: TestClient, record: Record) -> Write:
    body = {"reason": "The figure was for another year."}
    write = _statistic_write(client, record, "retraction", "StatisticRetracted", body)
    # See test_a_retraction_is_read_as_it_was_answered, marked as a bug.
    return replace(write, read_differs=("revision",))


#: Every write endpoint, prepared on the AZ–RU record. Each prepares what it needs under ids of
#: its own, so those of one family run one after another on one record; the tenure ends
#: before the appointment, which then appoints a co-chair again.
WRITES: dict[str, Callable[[TestClient, Record], Write]] = {
    "POST /sources": _register_source,
    "POST /commissions": _establish_commission,
    "POST /commissions/{cid}/co-chairs/end": _end_co_chair_tenure,
    "POST /commissions/{cid}/co-chairs": _appoint_co_chair,
    "POST /commissions/{cid}/sessions convened": _record_convened_session,
    "POST /commissions/{cid}/sessions scheduled": _schedule_session,
    "POST .../sessions/{key}/convened": _convene_session,
    "POST .../sessions/{key}/cancellation": _cancel_session,
    "POST .../sessions/{key}/postponement": _postpone_session,
    "POST .../sessions/{key}/protocols": _sign_protocol,
    "POST .../sessions/{key}/declarations": _reference_declaration,
    "POST .../sessions/{key}/statistics": _report_statistic,
    "POST .../sessions/{key}/corrections": _correct_session,
    "POST /statistics/{sid}/corrections": _correct_statistic,
    "POST /statistics/{sid}/retraction": _retract_statistic,
}

FAMILIES: dict[str, list[str]] = {
    "sources and commissions": ["POST /sources", "POST /commissions"],
    "co-chairs": ["POST /commissions/{cid}/co-chairs/end", "POST /commissions/{cid}/co-chairs"],
    "sessions": [name for name in WRITES if "sessions" in name and "{key}" not in name]
    + [f"POST .../sessions/{{key}}/{action}" for action in ("convened", "cancellation")]
    + ["POST .../sessions/{key}/postponement"],
    "facts at a session": [
        f"POST .../sessions/{{key}}/{fact}"
        for fact in ("protocols", "declarations", "statistics", "corrections")
    ],
    "statistics": ["POST /statistics/{sid}/corrections", "POST /statistics/{sid}/retraction"],
}
assert sorted(name for names in FAMILIES.values() for name in names) == sorted(WRITES)
