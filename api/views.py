"""Response bodies, named after what they show, and how they are built from the record."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from domain.commission import Commission, Tenure
from domain.dates import PartialDate, Period
from domain.session import Session, Statistic
from domain.source import Source
from domain.values import Evidence, EvidenceStatus, Place, Representative
from projections.values import decimal_text, timestamp

#: How much a quote is known to back its fact, weakest first.
EVIDENCE_STATUSES: tuple[EvidenceStatus, ...] = ("mismatch", "unverified", "verified")


class OffsetsView(BaseModel):
    start: int
    end: int


class EvidenceView(BaseModel):
    source: str
    quote: str
    status: EvidenceStatus = Field(
        description="verified: found in the source's registered text, at `offsets`; "
        "unverified: the source has no registered text to check it against; mismatch: the "
        "text registered later does not contain it."
    )
    offsets: OffsetsView | None = Field(
        description="Where a verified quote lies in the source's text: text[start:end] "
        "(characters, NFC); null otherwise."
    )


#: Tells how an item of evidence stands against its source's text: its status and offsets.
EvidenceCheck = Callable[[Evidence], tuple[EvidenceStatus, tuple[int, int] | None]]


def weakest(views: list[EvidenceView]) -> EvidenceStatus | None:
    """The weakest status among the items (mismatch, then unverified); None if none."""
    return min((v.status for v in views), key=EVIDENCE_STATUSES.index, default=None)


class PlaceView(BaseModel):
    city: str
    country: str


class PersonView(BaseModel):
    party: str
    name: str
    title: str


#: The check of the record a write's answer is built from (``api.writing`` sets it).
evidence_check: ContextVar[EvidenceCheck] = ContextVar("evidence_check")


def evidence_views(
    items: tuple[Evidence, ...] | list[Evidence], check: EvidenceCheck | None = None
) -> list[EvidenceView]:
    check = check or evidence_check.get()
    views = []
    for item in items:
        status, offsets = check(item)
        views.append(
            EvidenceView(
                source=item.source,
                quote=item.quote,
                status=status,
                offsets=None if offsets is None else OffsetsView(start=offsets[0], end=offsets[1]),
            )
        )
    return views


def person_views(people: tuple[Representative, ...] | list[Representative]) -> list[PersonView]:
    return [PersonView(party=p.party, name=p.name, title=p.title) for p in people]


def place_view(place: Place | None) -> PlaceView | None:
    return None if place is None else PlaceView(city=place.city, country=place.country)


def text(value: PartialDate | Period | None) -> str | None:
    return None if value is None else str(value)


class Written(BaseModel):
    """Fields every resource answered after a write carries."""

    version: int = Field(description="The aggregate's version; also sent as the ETag.")
    position: int | None = Field(
        default=None, description="Global log position of the last event this answer reflects."
    )


class SourceView(Written):
    id: str
    title: str
    publisher: str
    url: str | None
    language: str
    published_on: str | None
    has_text: bool = Field(
        description="Whether its text is registered, so that quotes of it are checked."
    )
    sha256: str | None
    text: str | None
    recorded_at: str
    recorded_by: str


def source_view(source: Source, position: int | None = None) -> SourceView:
    return SourceView(
        id=source.slug,
        title=source.title,
        publisher=source.publisher,
        url=source.url,
        language=source.language,
        published_on=text(source.published_on),
        has_text=source.text is not None,
        sha256=source.sha256,
        text=source.text,
        recorded_at=timestamp(source.created_on),
        recorded_by=source.recorded_by,
        version=source.version,
        position=position,
    )


class TenureView(BaseModel):
    party: str
    name: str
    title: str
    since: str | None
    until: str | None
    evidence: list[EvidenceView]


def tenure_view(tenure: Tenure, check: EvidenceCheck | None = None) -> TenureView:
    return TenureView(
        party=tenure.party,
        name=tenure.name,
        title=tenure.title,
        since=text(tenure.since),
        until=text(tenure.until),
        evidence=evidence_views(tenure.evidence, check),
    )


class CommissionWritten(Written):
    id: str
    parties: list[str]
    names: dict[str, str]
    established_on: str | None
    mandate: str | None
    co_chairs: list[TenureView] = Field(description="Those serving now.")
    tenures: list[TenureView] = Field(description="Every tenure recorded, in record order.")


def commission_view(
    commission: Commission, position: int | None = None, check: EvidenceCheck | None = None
) -> CommissionWritten:
    return CommissionWritten(
        id=commission.slug,
        parties=commission.parties,
        names=commission.names,
        established_on=text(commission.established_on),
        mandate=commission.mandate,
        co_chairs=[tenure_view(t, check) for t in commission.current_co_chairs],
        tenures=[tenure_view(t, check) for t in commission.tenures],
        version=commission.version,
        position=position,
    )


class StatisticView(BaseModel):
    id: UUID
    commission: str
    session: str = Field(description="The session's key.")
    measure: str
    value_kind: str
    value: str
    unit: str
    qualifier: str
    reporter: str | None
    partner: str | None
    period: str | None
    stated_by: str | None
    remarks: str | None
    evidence: list[EvidenceView] = Field(description="What backs the figure as it stands.")
    evidence_status: EvidenceStatus | None = Field(
        description="The weakest status of its evidence: mismatch, unverified, verified."
    )
    superseded_evidence: list[EvidenceView] = Field(
        description="Evidence of earlier versions, superseded by a correction of the figure "
        "that brought its own: it no longer backs the figure."
    )
    revision: int = Field(description="1 as reported, +1 for each correction.")
    retracted: bool
    retraction_reason: str | None


def statistic_view(
    session: Session, statistic: Statistic, check: EvidenceCheck | None = None
) -> StatisticView:
    evidence = evidence_views(statistic.evidence, check)
    return StatisticView(
        id=statistic.id,
        commission=session.commission,
        session=session.key,
        measure=statistic.measure,
        value_kind=statistic.value_kind,
        value=decimal_text(statistic.value),
        unit=statistic.unit,
        qualifier=statistic.qualifier,
        reporter=statistic.reporter,
        partner=statistic.partner,
        period=text(statistic.period),
        stated_by=statistic.stated_by,
        remarks=statistic.remarks,
        evidence=evidence,
        evidence_status=weakest(evidence),
        superseded_evidence=evidence_views(statistic.superseded_evidence, check),
        revision=statistic.revision,
        retracted=statistic.retracted,
        retraction_reason=statistic.retraction_reason,
    )


class StatisticWritten(StatisticView, Written):
    pass


def statistic_written(
    session: Session, statistic_id: UUID, position: int, check: EvidenceCheck | None = None
) -> StatisticWritten:
    view = statistic_view(session, session.statistics[statistic_id], check)
    return StatisticWritten(**view.model_dump(), version=session.version, position=position)


class ProtocolView(BaseModel):
    title: str | None
    signed_on: str | None
    signatories: list[PersonView]
    evidence: list[EvidenceView]


class DeclarationReferenceView(BaseModel):
    title: str
    dated: str
    characterization: str | None
    evidence: list[EvidenceView]


class SessionWritten(Written):
    commission: str
    key: str
    ordinal: int | None
    kind: str
    status: str
    format: str | None
    start: str | None
    end: str | None
    planned: str | None
    place: PlaceView | None
    co_chairs: list[PersonView]
    topics: list[str]
    summary: str | None
    reasons: list[str] = Field(description="Why it was postponed or cancelled.")
    evidence: list[EvidenceView]
    evidence_status: EvidenceStatus | None = Field(
        description="The weakest status of its evidence."
    )
    protocol: ProtocolView | None
    declarations: list[DeclarationReferenceView]
    statistics: list[StatisticView]


def session_view(
    session: Session, position: int | None = None, check: EvidenceCheck | None = None
) -> SessionWritten:
    protocol = session.protocol
    evidence = evidence_views(session.evidence, check)
    return SessionWritten(
        commission=session.commission,
        key=session.key,
        ordinal=session.ordinal,
        kind=session.kind,
        status=session.status,
        format=session.format,
        start=text(session.start),
        end=text(session.end),
        planned=text(session.planned),
        place=place_view(session.place),
        co_chairs=person_views(session.co_chairs),
        topics=session.topics,
        summary=session.summary,
        reasons=session.reasons,
        evidence=evidence,
        evidence_status=weakest(evidence),
        protocol=None
        if protocol is None
        else ProtocolView(
            title=protocol.title,
            signed_on=text(protocol.signed_on),
            signatories=person_views(protocol.signatories),
            evidence=evidence_views(protocol.evidence, check),
        ),
        declarations=[
            DeclarationReferenceView(
                title=d.title,
                dated=str(d.dated),
                characterization=d.characterization,
                evidence=evidence_views(d.evidence, check),
            )
            for d in session.declarations
        ],
        statistics=[statistic_view(session, s, check) for s in session.statistics.values()],
        version=session.version,
        position=position,
    )


class EventView(BaseModel):
    """One event of the log, as the audit feed and ``diprec events`` show it."""

    position: int = Field(description="Global log position (notification id); may have gaps.")
    type: str = Field(description="Catalogue name, e.g. SessionConvened.")
    stream: UUID = Field(description="Id of the aggregate whose stream holds the event.")
    version: int = Field(description="The event's version within its stream.")
    recorded_at: str
    recorded_by: str
    topic: str = Field(description="Where the event class lives; used by diprec import.")
    data: dict[str, Any]


class EventPage(BaseModel):
    items: list[EventView]
    next_after: int | None = Field(
        description="Pass as ?after= for the next page; null when the log is exhausted."
    )
    next_cursor: str | None = Field(description="The same, as an opaque cursor.")


class Health(BaseModel):
    status: str
