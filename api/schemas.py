"""Request bodies, each named after the command it carries.

They check the shape of a request (types, required fields, no unknown fields); the rules of the
record itself (codes, dates, limits, quotes) are the domain's, so they hold however a fact
arrives.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from domain.session import SessionRecordChanges, StatisticChanges
from domain.values import (
    Evidence,
    Measure,
    Place,
    Qualifier,
    Representative,
    SessionFormat,
    SessionKind,
    Topic,
    ValueKind,
)

PARTIAL_DATE = "A partial date: YYYY, YYYY-Qn, YYYY-MM or YYYY-MM-DD."
COUNTRY = "ISO 3166-1 alpha-2 code, upper case (AZ)."


class Command(BaseModel):
    """A request body: unknown fields are refused, and numbers are not taken as text."""

    model_config = ConfigDict(extra="forbid", strict=True)


class EvidenceItem(Command):
    source: str = Field(description="Id of a registered source.")
    quote: str = Field(description="Verbatim text of that source.")

    def to_domain(self) -> Evidence:
        return Evidence(self.source, self.quote)


class PlaceItem(Command):
    city: str
    country: str = Field(description=COUNTRY)

    def to_domain(self) -> Place:
        return Place(self.city, self.country)


class PersonItem(Command):
    party: str = Field(description=COUNTRY)
    name: str = Field(description="As the source spells it; stored in Unicode NFC.")
    title: str = Field(description="The office held, e.g. Deputy Prime Minister.")

    def to_domain(self) -> Representative:
        return Representative(self.party, self.name, self.title)


class Sourced(Command):
    evidence: list[EvidenceItem] = Field(description="At least one {source, quote}.")

    def evidence_items(self) -> list[Evidence]:
        return [item.to_domain() for item in self.evidence]


class RegisterSource(Command):
    id: str = Field(description="Slug, e.g. azertac-2024-22nd-session.")
    title: str
    publisher: str
    url: str | None = None
    language: str = Field(description="BCP 47 tag, e.g. en, ru, az-Latn.")
    published_on: str | None = Field(default=None, description=PARTIAL_DATE)
    text: str | None = Field(
        default=None, description="Full text; when given, every quote must occur in it."
    )


class EstablishCommission(Command):
    id: str = Field(description="Slug, e.g. az-ru-economic.")
    parties: list[str] = Field(description="Exactly two distinct " + COUNTRY)
    names: dict[str, str] = Field(description="Names by BCP 47 language tag.")
    established_on: str | None = Field(default=None, description=PARTIAL_DATE)
    mandate: str | None = None


class AppointCoChair(Sourced):
    party: str = Field(description=COUNTRY)
    name: str
    title: str
    since: str | None = Field(default=None, description=PARTIAL_DATE)


class EndCoChairTenure(Sourced):
    party: str = Field(description=COUNTRY)
    name: str
    until: str = Field(description=PARTIAL_DATE)


class RecordSession(Sourced):
    key: str | None = Field(
        default=None,
        description="The ordinal for a numbered session, else a slug; derived when left out.",
    )
    ordinal: int | None = None
    status: Literal["convened", "scheduled"] = "convened"
    kind: SessionKind
    format: SessionFormat | None = Field(default=None, description="Required when convened.")
    start: str | None = Field(default=None, description=PARTIAL_DATE + " Required when convened.")
    end: str | None = Field(default=None, description=PARTIAL_DATE)
    planned: str | None = Field(
        default=None, description=PARTIAL_DATE + " Required when scheduled."
    )
    place: PlaceItem | None = None
    co_chairs: list[PersonItem] = Field(default_factory=list)
    topics: list[Topic] = Field(default_factory=list)
    summary: str | None = None

    def scheduled_only_fields(self) -> list[str]:
        """Fields that describe a held session, given for a scheduled one."""
        held = ("format", "start", "end", "co_chairs", "topics", "summary")
        return [name for name in held if name in self.model_fields_set]


class ConveneSession(Sourced):
    """A scheduled or postponed session was held; key and ordinal come from the path."""

    key: str | None = Field(default=None, description="If given, must be the path's key.")
    ordinal: int | None = Field(default=None, description="If given, the session's ordinal.")
    status: Literal["convened"] = "convened"
    kind: SessionKind | None = None
    format: SessionFormat
    start: str = Field(description=PARTIAL_DATE)
    end: str | None = Field(default=None, description=PARTIAL_DATE)
    place: PlaceItem | None = None
    co_chairs: list[PersonItem] = Field(default_factory=list)
    topics: list[Topic] = Field(default_factory=list)
    summary: str | None = None


class CancelSession(Sourced):
    reason: str


class PostponeSession(Sourced):
    reason: str
    planned: str | None = Field(default=None, description="The new planned date. " + PARTIAL_DATE)


class SignProtocol(Sourced):
    title: str | None = None
    signed_on: str | None = Field(default=None, description=PARTIAL_DATE)
    signatories: list[PersonItem] = Field(description="At least one signatory of each party.")


class ReferenceDeclaration(Sourced):
    title: str = Field(description="e.g. Declaration on allied interaction.")
    dated: str = Field(description=PARTIAL_DATE)
    characterization: str | None = Field(default=None, description="e.g. particularly significant")


class ReportStatistic(Sourced):
    measure: Measure
    value_kind: ValueKind
    value: str = Field(description='A decimal string in base units: "4.4E9", "17.5".')
    unit: str = Field(
        description="ISO 4217 code for money, or percent, tonne, count, rank, person."
    )
    qualifier: Qualifier
    reporter: str | None = Field(default=None, description=COUNTRY)
    partner: str | None = Field(default=None, description=COUNTRY)
    period: str | None = Field(
        default=None,
        description="A partial date or an interval of them: 2023, 2024-01/2024-05.",
    )
    stated_by: str | None = Field(default=None, description="The party that stated it. " + COUNTRY)
    remarks: str | None = None


class SessionChanges(Command):
    """Fields of the session's own record to correct; give only those that change."""

    kind: SessionKind | None = None
    format: SessionFormat | None = None
    start: str | None = None
    end: str | None = None
    planned: str | None = None
    place: PlaceItem | None = None
    co_chairs: list[PersonItem] | None = None
    topics: list[Topic] | None = None
    summary: str | None = None

    def to_domain(self) -> SessionRecordChanges:
        given = self.model_dump(exclude_unset=True)
        changes: dict[str, Any] = dict(given)
        if "place" in given:
            changes["place"] = self.place.to_domain() if self.place else None
        if "co_chairs" in given:
            changes["co_chairs"] = [person.to_domain() for person in self.co_chairs or []]
        if "topics" in given:
            changes["topics"] = list(self.topics or [])
        return cast(SessionRecordChanges, changes)


class CorrectSession(Command):
    changes: SessionChanges
    reason: str
    evidence: list[EvidenceItem] = Field(default_factory=list)


class StatisticFieldChanges(Command):
    """Fields of the statistic to correct; give only those that change."""

    measure: Measure | None = None
    value_kind: ValueKind | None = None
    value: str | None = None
    unit: str | None = None
    qualifier: Qualifier | None = None
    reporter: str | None = None
    partner: str | None = None
    period: str | None = None
    stated_by: str | None = None
    remarks: str | None = None

    def to_domain(self) -> StatisticChanges:
        return cast(StatisticChanges, self.model_dump(exclude_unset=True))


class CorrectStatistic(Command):
    changes: StatisticFieldChanges
    reason: str
    evidence: list[EvidenceItem] = Field(default_factory=list)


class RetractStatistic(Command):
    reason: str
