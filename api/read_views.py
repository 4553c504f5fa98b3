"""Answers of the read models: response bodies of the query half of the API."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from api.views import (
    DeclarationReferenceView,
    EvidenceView,
    PersonView,
    PlaceView,
    ProtocolView,
    StatisticView,
    TenureView,
)
from domain.values import EvidenceStatus


class ReadModelAnswer(BaseModel):
    position: int = Field(description="The log position the read models reflect.")


class RecordTimes(BaseModel):
    recorded_at: str = Field(description="When this version entered the record.")
    superseded_at: str | None = Field(
        default=None, description="When a later event replaced it; null while current."
    )


class LatestSession(BaseModel):
    key: str
    ordinal: int | None
    kind: str
    status: str
    date: str | None


class CommissionSummary(RecordTimes):
    id: str
    parties: list[str]
    names: dict[str, str]
    established_on: str | None
    mandate: str | None
    co_chairs: list[TenureView] = Field(description="Co-chairs serving (tenure not ended).")
    latest_session: LatestSession | None = Field(description="The latest session held.")
    next_session: LatestSession | None = Field(
        description="The earliest session scheduled or postponed, not yet held."
    )


class Counts(BaseModel):
    sessions: int
    sessions_by_status: dict[str, int]
    statistics: int = Field(description="Current, not retracted.")
    retracted_statistics: int
    protocols: int
    declaration_references: int


class CommissionView(CommissionSummary, ReadModelAnswer):
    counts: Counts


class CommissionPage(ReadModelAnswer):
    items: list[CommissionSummary]
    next_cursor: str | None


class SessionCoChairs(BaseModel):
    session: str
    date: str | None
    co_chairs: list[PersonView]


class CoChairsView(ReadModelAnswer):
    commission: str
    on: str | None = Field(description="The date asked about with ?on=, if any.")
    tenures: dict[str, list[TenureView]] = Field(description="Tenures by party.")
    sessions: list[SessionCoChairs] = Field(description="Who co-chaired each held session.")


class SessionCorrectionView(BaseModel):
    position: int
    recorded_at: str
    recorded_by: str | None
    reason: str
    before: dict[str, Any]
    after: dict[str, Any]


class SessionSummary(RecordTimes):
    commission: str
    key: str
    ordinal: int | None
    kind: str
    status: str
    format: str | None
    start: str | None
    end: str | None
    planned: str | None
    date: str | None = Field(description="The date it concerns: start if held, else planned.")
    place: PlaceView | None
    co_chairs: list[PersonView]
    topics: list[str]
    summary: str | None
    reasons: list[str]
    evidence: list[EvidenceView]
    evidence_status: EvidenceStatus | None = Field(
        description="The weakest status of its evidence."
    )
    protocol: ProtocolView | None
    declarations: list[DeclarationReferenceView]
    corrections: list[SessionCorrectionView]


class SessionPage(ReadModelAnswer):
    items: list[SessionSummary]
    next_cursor: str | None


class SessionView(SessionSummary, ReadModelAnswer):
    statistics: list[StatisticView]


class TimelineEntry(BaseModel):
    kind: str = Field(description="session, protocol, declaration or statistic")
    date: str | None = Field(description="The date the entry concerns.")
    session: str
    summary: str
    details: dict[str, Any]
    evidence: list[EvidenceView]
    evidence_status: EvidenceStatus | None = Field(
        description="The weakest status of its evidence: mismatch, unverified, verified."
    )
    recorded_at: str


class TimelinePage(ReadModelAnswer):
    items: list[TimelineEntry]
    next_cursor: str | None


class SourceSummary(BaseModel):
    id: str
    title: str
    publisher: str
    url: str | None
    language: str
    published_on: str | None


class SourceItem(RecordTimes):
    id: str
    title: str = Field(description="The source's title, as registered.")
    publisher: str
    language: str
    published_on: str | None
    url: str | None
    has_text: bool = Field(
        description="Whether its text is registered (quotes are then checked against it); "
        "GET /sources/{id} gives the text."
    )
    sha256: str | None = Field(description="SHA-256 of the text, when registered.")


class SourcePage(ReadModelAnswer):
    items: list[SourceItem]
    next_cursor: str | None


class StatisticItem(StatisticView, RecordTimes):
    pass


class StatisticPage(ReadModelAnswer):
    items: list[StatisticItem]
    next_cursor: str | None


class ValueKindEntry(BaseModel):
    id: str
    description: str = Field(description="What a value of this kind is.")
    units: list[str] = Field(
        description="The units it may be given in; `currency` stands for any ISO 4217 code."
    )


class MeasureEntry(BaseModel):
    id: str
    description: str = Field(description="What the measure counts.")
    value_kinds: list[ValueKindEntry] = Field(
        description="The kinds of value it may be reported as, each with its units."
    )


class UnitEntry(BaseModel):
    id: str
    description: str = Field(description="What the unit means.")


class MeasureCatalogue(BaseModel):
    items: list[MeasureEntry]
    units: list[UnitEntry] = Field(description="What each unit means.")
    next_cursor: None = Field(default=None, description="Always null: one page holds them all.")


class Figure(StatisticView):
    period_used: str | None = Field(
        description="The period the figure concerns; the session's date when it gives none."
    )
    session_date: str | None
    sources: list[SourceSummary]
    recorded_at: str


class Revision(Figure):
    change: str = Field(description="reported, corrected or retracted")
    reason: str | None
    recorded_by: str | None
    superseded_at: str | None
    current: bool = Field(description="Whether this version stood at the time asked about.")
    position: int


class TradePosition(ReadModelAnswer):
    parties: list[str]
    as_of: str | None
    figures: list[Figure] = Field(
        description="The latest figure of each measure, value kind and perspective."
    )
    measure: str | None = None
    series: list[Figure] | None = Field(default=None, description="With ?measure=: by period.")
    revisions: list[Revision] | None = Field(
        default=None, description="With ?measure=: every version, corrected and retracted ones too."
    )


class StatisticAnswer(StatisticView, RecordTimes, ReadModelAnswer):
    sources: list[SourceSummary]


class StatisticVersion(StatisticView):
    change: str
    reason: str | None
    recorded_by: str | None
    recorded_at: str
    superseded_at: str | None
    current: bool
    position: int


class StatisticHistory(ReadModelAnswer):
    id: UUID
    versions: list[StatisticVersion]


class CitingSession(BaseModel):
    commission: str
    session: str
    session_date: str | None
    role: str = Field(description="signed or cited")
    characterization: str | None
    evidence: list[EvidenceView]


class Instrument(BaseModel):
    kind: str = Field(description="declaration or protocol")
    title: str | None
    dated: str | None
    characterizations: list[str]
    sessions: list[CitingSession]


class InstrumentPage(ReadModelAnswer):
    items: list[Instrument]
    next_cursor: str | None


class HistoryEntry(BaseModel):
    position: int
    type: str
    recorded_at: str
    recorded_by: str | None
    session: str | None
    statistic: UUID | None
    reason: str | None
    data: dict[str, Any]


class HistoryPage(ReadModelAnswer):
    items: list[HistoryEntry]
    next_cursor: str | None


class StallView(BaseModel):
    event_position: int = Field(description="The event the read model cannot apply.")
    event_topic: str = Field(description="The event's stored type.")
    error: str = Field(description="What failed, in one line.")
    since: str = Field(description="When the read model stalled.")


class ReadModelState(BaseModel):
    generation: int
    code_version: int
    position: int
    lag: int = Field(description="Events in the log not yet in this read model.")
    stalled: bool = Field(
        default=False,
        description="The read model cannot apply the event after its position, and stays "
        "there until fixed; the others go on.",
    )
    stall: StallView | None = Field(default=None, description="Why, while stalled.")


class Readiness(BaseModel):
    status: str = Field(
        description="ready; catching-up while a read model lags; degraded while a read model "
        "is stalled (answered 200: the other read models, and writes, go on)"
    )
    database: str
    log_position: int | None = Field(
        default=None, description="The log's last position (shown to admin keys only)."
    )
    read_models: dict[str, ReadModelState] | None = Field(
        default=None, description="Each read model's state (shown to admin keys only)."
    )


class RebuildStarted(BaseModel):
    read_models: list[str]
    detail: str
