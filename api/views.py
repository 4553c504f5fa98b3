"""Response bodies, named after what they show, and how they are built from the record."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, get_args
from uuid import UUID

from pydantic import BaseModel, Field

from domain.commission import Commission, Tenure
from domain.dates import PartialDate, Period
from domain.session import Session, Statistic
from domain.source import Source
from domain.values import (
    Evidence,
    EvidenceStatus,
    Place,
    Qualifier,
    Representative,
    SessionFormat,
    SessionKind,
    ValueKind,
)
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


def _one_of(values: Any) -> str:
    names = [str(name) for name in get_args(values)]
    return ", ".join(names[:-1]) + " or " + names[-1]


#: Descriptions of response fields that their views leave undescribed, for the API's document:
#: ``View.field`` for one view's field, else ``field`` for a field of that name in any view.
FIELDS: dict[str, str] = {
    # What is answered about whom, and when
    "commission": "The commission's id (slug), e.g. az-ru-economic.",
    "session": "The session's key, e.g. 22.",
    "statistic": "The statistic's id, for events of a statistic.",
    "recorded_at": "When it entered the record (RFC 3339, UTC).",
    "recorded_by": "The name of the API key that recorded it.",
    "superseded_at": "When a later event replaced this version; null while it stands.",
    "reason": "Why it was recorded, as the recorder gave it.",
    "evidence": "The quotes of sources that say so: each {source, quote}.",
    "source": "The id of the source quoted.",
    "quote": "The words of the source, verbatim.",
    "items": "The page's items.",
    "next_cursor": "Pass as ?cursor= for the next page; null on the last.",
    "position": "The global log position of the event.",
    "data": "The event's fields, as stored.",
    "type": "The event's catalogue name, e.g. SessionConvened.",
    "details": "The entry's own fields, by its kind.",
    "detail": "What was started, and where to watch it.",
    # Commissions and people
    "parties": "The two parties: ISO 3166-1 alpha-2 codes.",
    "names": "The commission's names, by BCP 47 language tag.",
    "established_on": "When it was established: a partial date, if known.",
    "mandate": "What it was established to do, if recorded.",
    "party": "The party served: an ISO 3166-1 alpha-2 code.",
    "name": "The person's name, as the source spells it.",
    "since": "When the tenure began: a partial date, if known.",
    "until": "When the tenure ended: a partial date; null while serving.",
    "counts": "How much is recorded of the commission.",
    "sessions_by_status": "Sessions by status: scheduled, convened, postponed, cancelled.",
    "retracted_statistics": "Statistics retracted.",
    "protocols": "Protocols signed at its sessions.",
    "declaration_references": "Declarations cited at its sessions.",
    # Sessions
    "key": "The session's key: its ordinal when it has one, else a slug.",
    "ordinal": "The session's number, e.g. 22; null when it has none.",
    "kind": "The kind of session: " + _one_of(SessionKind) + ".",
    "status": "scheduled, convened (held), postponed or cancelled.",
    "format": _one_of(SessionFormat) + "; null while not held.",
    "start": "When it began: a partial date; null while not held.",
    "end": "When it ended: a partial date, if the source gives one.",
    "planned": "When it is planned: a partial date, for a scheduled or postponed session.",
    "date": "The date it concerns: the start if held, else the date planned.",
    "place": "Where it was (or is to be) held.",
    "city": "The city.",
    "country": "The country: an ISO 3166-1 alpha-2 code.",
    "co_chairs": "Its co-chairs: party, name and title.",
    "topics": "What it discussed, from the record's list of topics.",
    "summary": "A short summary, in the recorder's words.",
    "reasons": "Why it was postponed or cancelled, in order.",
    "protocol": "The protocol signed at it; null if none is recorded.",
    "declarations": "The declarations it cited.",
    "statistics": "The figures reported at it.",
    "corrections": "Corrections of its own record, in order, each with what it changed.",
    "before": "The fields corrected, as they were.",
    "after": "The fields corrected, as they are now.",
    "signed_on": "When it was signed: a partial date, if known.",
    "signatories": "Who signed it: party, name and title.",
    "dated": "The declaration's date: a partial date.",
    "characterization": "How the session characterized it, e.g. particularly significant.",
    "characterizations": "How the sessions characterized it, each once.",
    "session_date": "The date of the session that reported or cited it.",
    # Statistics
    "measure": "What is measured, e.g. trade_turnover.",
    "value_kind": "The kind of value: " + _one_of(ValueKind) + ".",
    "value": "The figure: a decimal string in base units, e.g. 4.4E9.",
    "unit": "ISO 4217 code for money, or percent, tonne, count, rank, person.",
    "qualifier": "How exact the source is: " + _one_of(Qualifier) + ".",
    "reporter": "The party whose figure it is: an ISO 3166-1 alpha-2 code, if any.",
    "partner": "The other party of the figure, if any.",
    "period": "The period it concerns: a partial date or an interval of them.",
    "stated_by": "The party that stated it, if the source says.",
    "remarks": "Remarks of the recorder.",
    "retracted": "Whether it is retracted.",
    "id": "The statistic's id.",
    "retraction_reason": "Why it was retracted; null unless retracted.",
    "sources": "The sources of its evidence.",
    "change": "reported, corrected or retracted.",
    "current": "Whether this version stood at the time asked about.",
    "versions": "Every version, in record order.",
    "as_of": "The moment asked about (?as_of=); null for now.",
    # Sources
    "publisher": "Who published it.",
    "url": "Where it is published, if known.",
    "language": "Its language: a BCP 47 tag.",
    "published_on": "When it was published: a partial date, if known.",
    "sha256": "The SHA-256 of its text, when it was registered with one.",
    "text": "Its full text, when it was registered with one.",
    # The service
    "database": "reachable or unreachable.",
    "generation": "The read model's generation: a rebuild makes a new one.",
    "code_version": "The version of the read model's code that built it.",
    "read_models": "The read models being rebuilt.",
    # Fields whose meaning depends on the view
    "Health.status": "ok while the service runs.",
    "LatestSession.status": "scheduled, convened (held), postponed or cancelled.",
    "HistoryEntry.session": "The session's key, for a session's events; else null.",
    "HistoryEntry.reason": "Why, for corrections and retractions; null otherwise.",
    "HistoryEntry.position": "The global log position of the event.",
    "ReadModelState.position": "The last log position the read model has applied.",
    "SessionCorrectionView.position": "The global log position of the correction.",
    "Revision.position": "The global log position of the event that made this version.",
    "StatisticVersion.position": "The global log position of the event that made this version.",
    "Revision.reason": "Why it was corrected or retracted; null as reported.",
    "StatisticVersion.reason": "Why it was corrected or retracted; null as reported.",
    "CommissionSummary.id": "The commission's id (slug), e.g. az-ru-economic.",
    "CommissionView.id": "The commission's id (slug), e.g. az-ru-economic.",
    "CommissionWritten.id": "The commission's id (slug), e.g. az-ru-economic.",
    "SourceView.id": "The source's id (slug), e.g. azertac-2024-22nd-session.",
    "SourceSummary.id": "The source's id (slug), e.g. azertac-2024-22nd-session.",
    "StatisticHistory.id": "The statistic's id.",
    "SourceView.title": "The document's title.",
    "SourceSummary.title": "The document's title.",
    "PersonView.title": "The office held, e.g. Deputy Prime Minister.",
    "TenureView.title": "The office held, e.g. Deputy Prime Minister.",
    "ProtocolView.title": "The protocol's title, if the source gives one.",
    "DeclarationReferenceView.title": "The declaration's title.",
    "Instrument.title": "The declaration's or protocol's title.",
    "Instrument.dated": "Its date: a partial date, if known.",
    "Instrument.sessions": "The sessions that cited or signed it.",
    "Counts.sessions": "Sessions recorded, of any status.",
    "CitingSession.evidence": "The quotes that say the session cited or signed it.",
    "SessionCoChairs.date": "The session's date: its start.",
    "CoChairsView.commission": "The commission's id (slug).",
}
