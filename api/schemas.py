"""Request bodies, each named after the command it carries.

They check the shape of a request (types, required fields, no unknown fields); the rules of the
record itself (codes, dates, limits, quotes) are the domain's, so they hold however a fact
arrives. The bounds of those rules are documented here, in the API's JSON Schema
(``maxLength``, ``maxItems``, ``pattern``, ``minimum``, …), but not checked here: the domain
checks them, and refuses with a message in the record's words naming each field. (A text's
length, too, is the domain's to count: in characters after Unicode NFC, as it is stored.)
"""

from __future__ import annotations

from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from domain.codes import MAX_LANGUAGE_TAG
from domain.dates import MAX_YEAR, MIN_YEAR
from domain.session import SessionRecordChanges, StatisticChanges
from domain.values import (
    MAX_DECIMAL_TEXT,
    MAX_DIGITS,
    MAX_EVIDENCE,
    MAX_LIST,
    MAX_MAGNITUDE,
    MAX_NAME,
    MAX_ORDINAL,
    MAX_QUOTE,
    MAX_SCALE,
    MAX_SOURCE_TEXT_BYTES,
    MAX_TEXT,
    MAX_TITLE,
    MAX_URL,
    MIN_MAGNITUDE,
    MIN_ORDINAL,
    TOPICS,
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

PARTIAL_DATE = (
    f"A partial date: YYYY, YYYY-Qn, YYYY-MM or YYYY-MM-DD, of a year {MIN_YEAR:04d}-{MAX_YEAR}."
)
COUNTRY = "ISO 3166-1 alpha-2 code, upper case (AZ)."
DECIMAL = (
    'A decimal string in base units: "4.4E9", "17.5". Zero, or at least '
    f"1E{MIN_MAGNITUDE} and below 1E{MAX_MAGNITUDE + 1} in size; at most {MAX_DIGITS} digits "
    f"(leading zeros aside), at most {MAX_SCALE} of them after the point (for zero too: an "
    f"exponent from -{MAX_SCALE} to {MAX_MAGNITUDE}), in at most {MAX_DECIMAL_TEXT} characters."
)

_SLUG = "^[a-z0-9][a-z0-9-]{2,63}$"
_SESSION_KEY = "^[a-z0-9][a-z0-9-]{0,63}$"
_COUNTRY = "^[A-Z]{2}$"
_PARTIAL_DATE = "[0-9]{4}(-Q[1-4]|-[0-9]{2}(-[0-9]{2})?)?"
_LANGUAGE_TAG = (
    "^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?(-([a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*$"
)
_DECIMAL = "^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$"
_UNIT = "^([A-Z]{3}|percent|tonne|count|rank|person)$"


# The JSON Schema of each bounded kind of value: documentation only (see the module's doc).


def slug_rule() -> dict[str, Any]:
    return {"pattern": _SLUG, "maxLength": 64}


def country_rule() -> dict[str, Any]:
    return {"pattern": _COUNTRY}


def partial_date_rule() -> dict[str, Any]:
    return {"pattern": f"^{_PARTIAL_DATE}$", "maxLength": 10}


def text_rule(limit: int) -> dict[str, Any]:
    """Text of at most ``limit`` characters, counted in NFC."""
    return {"maxLength": limit}


def language_tag_rule() -> dict[str, Any]:
    return {"pattern": _LANGUAGE_TAG, "maxLength": MAX_LANGUAGE_TAG}


def evidence_list_rule(*, required: bool) -> dict[str, Any]:
    return {"minItems": 1 if required else 0, "maxItems": MAX_EVIDENCE}


def people_rule() -> dict[str, Any]:
    return {"maxItems": MAX_LIST}


def topics_rule() -> dict[str, Any]:
    return {"maxItems": len(TOPICS), "uniqueItems": True}


def ordinal_rule() -> dict[str, Any]:
    return {"minimum": MIN_ORDINAL, "maximum": MAX_ORDINAL}


def decimal_rule() -> dict[str, Any]:
    return {"pattern": _DECIMAL, "maxLength": MAX_DECIMAL_TEXT}


def period_rule() -> dict[str, Any]:
    return {"pattern": f"^{_PARTIAL_DATE}(/{_PARTIAL_DATE})?$", "maxLength": 21}


def unit_rule() -> dict[str, Any]:
    return {"pattern": _UNIT}


class Command(BaseModel):
    """A request body: unknown fields are refused, and numbers are not taken as text."""

    model_config = ConfigDict(extra="forbid", strict=True)


class EvidenceItem(Command):
    source: str = Field(description="Id of a registered source.", json_schema_extra=slug_rule())
    quote: str = Field(
        description=f"Verbatim text of that source, at most {MAX_QUOTE} characters.",
        json_schema_extra=text_rule(MAX_QUOTE),
    )

    def to_domain(self) -> Evidence:
        return Evidence(self.source, self.quote)


class PlaceItem(Command):
    city: str = Field(json_schema_extra=text_rule(MAX_NAME))
    country: str = Field(description=COUNTRY, json_schema_extra=country_rule())

    def to_domain(self) -> Place:
        return Place(self.city, self.country)


class PersonItem(Command):
    party: str = Field(description=COUNTRY, json_schema_extra=country_rule())
    name: str = Field(
        description="As the source spells it; stored in Unicode NFC.",
        json_schema_extra=text_rule(MAX_NAME),
    )
    title: str = Field(
        description="The office held, e.g. Deputy Prime Minister.",
        json_schema_extra=text_rule(MAX_TITLE),
    )

    def to_domain(self) -> Representative:
        return Representative(self.party, self.name, self.title)


class Sourced(Command):
    evidence: list[EvidenceItem] = Field(
        description=f"At least one {{source, quote}}, at most {MAX_EVIDENCE}.",
        json_schema_extra=evidence_list_rule(required=True),
    )

    def evidence_items(self) -> list[Evidence]:
        return [item.to_domain() for item in self.evidence]


class RegisterSource(Command):
    id: str = Field(
        description="Slug, e.g. azertac-2024-22nd-session.", json_schema_extra=slug_rule()
    )
    title: str = Field(json_schema_extra=text_rule(MAX_TITLE))
    publisher: str = Field(json_schema_extra=text_rule(MAX_NAME))
    url: str | None = Field(
        default=None,
        description="An http(s) address with a host, without spaces or control characters.",
        json_schema_extra={"pattern": "^https?://[^\\s]+$", "maxLength": MAX_URL},
    )
    language: str = Field(
        description=f"BCP 47 tag, e.g. en, ru, az-Latn; at most {MAX_LANGUAGE_TAG} characters.",
        json_schema_extra=language_tag_rule(),
    )
    published_on: str | None = Field(
        default=None, description=PARTIAL_DATE, json_schema_extra=partial_date_rule()
    )
    text: str | None = Field(
        default=None,
        description=(
            "Full text; when given, every quote must occur in it. At most "
            f"{MAX_SOURCE_TEXT_BYTES:,} bytes in UTF-8 (1 MiB)."
        ),
        json_schema_extra=text_rule(MAX_SOURCE_TEXT_BYTES),
    )


class RegisterSourceText(Command):
    text: str = Field(
        description=(
            "The full text of a source registered without it: every quote of it recorded "
            "before is then checked against it. A source's text is registered once. At most "
            f"{MAX_SOURCE_TEXT_BYTES:,} bytes in UTF-8 (1 MiB)."
        ),
        json_schema_extra=text_rule(MAX_SOURCE_TEXT_BYTES),
    )


class EstablishCommission(Command):
    id: str = Field(description="Slug, e.g. az-ru-economic.", json_schema_extra=slug_rule())
    parties: list[str] = Field(
        description="Exactly two distinct " + COUNTRY,
        json_schema_extra={"minItems": 2, "maxItems": 2, "items": {"pattern": _COUNTRY}},
    )
    names: dict[str, str] = Field(
        description=f"Names by BCP 47 language tag: at least one, at most {MAX_LIST}.",
        json_schema_extra={
            "minProperties": 1,
            "maxProperties": MAX_LIST,
            "propertyNames": language_tag_rule(),
            "additionalProperties": {"type": "string", **text_rule(MAX_TITLE)},
        },
    )
    established_on: str | None = Field(
        default=None, description=PARTIAL_DATE, json_schema_extra=partial_date_rule()
    )
    mandate: str | None = Field(default=None, json_schema_extra=text_rule(MAX_TEXT))


class AppointCoChair(Sourced):
    party: str = Field(description=COUNTRY, json_schema_extra=country_rule())
    name: str = Field(json_schema_extra=text_rule(MAX_NAME))
    title: str = Field(json_schema_extra=text_rule(MAX_TITLE))
    since: str | None = Field(
        default=None, description=PARTIAL_DATE, json_schema_extra=partial_date_rule()
    )


class EndCoChairTenure(Sourced):
    party: str = Field(description=COUNTRY, json_schema_extra=country_rule())
    name: str = Field(json_schema_extra=text_rule(MAX_NAME))
    until: str = Field(description=PARTIAL_DATE, json_schema_extra=partial_date_rule())


ORDINAL = f"The session's number, {MIN_ORDINAL} to {MAX_ORDINAL:,}."


class RecordSession(Sourced):
    key: str | None = Field(
        default=None,
        description="The ordinal for a numbered session, else a slug; derived when left out.",
        json_schema_extra={"pattern": _SESSION_KEY, "maxLength": 64},
    )
    ordinal: int | None = Field(default=None, description=ORDINAL, json_schema_extra=ordinal_rule())
    status: Literal["convened", "scheduled"] = "convened"
    kind: SessionKind
    format: SessionFormat | None = Field(default=None, description="Required when convened.")
    start: str | None = Field(
        default=None,
        description=PARTIAL_DATE + " Required when convened.",
        json_schema_extra=partial_date_rule(),
    )
    end: str | None = Field(
        default=None, description=PARTIAL_DATE, json_schema_extra=partial_date_rule()
    )
    planned: str | None = Field(
        default=None,
        description=PARTIAL_DATE + " Required when scheduled.",
        json_schema_extra=partial_date_rule(),
    )
    place: PlaceItem | None = None
    co_chairs: list[PersonItem] = Field(default_factory=list, json_schema_extra=people_rule())
    topics: list[Topic] = Field(default_factory=list, json_schema_extra=topics_rule())
    summary: str | None = Field(default=None, json_schema_extra=text_rule(MAX_TEXT))

    def scheduled_only_fields(self) -> list[str]:
        """Fields that describe a held session, given for a scheduled one."""
        held = ("format", "start", "end", "co_chairs", "topics", "summary")
        return [name for name in held if name in self.model_fields_set]


class ConveneSession(Sourced):
    """A scheduled or postponed session was held; key and ordinal come from the path."""

    key: str | None = Field(default=None, description="If given, must be the path's key.")
    ordinal: int | None = Field(
        default=None,
        description="If given, the session's ordinal.",
        json_schema_extra=ordinal_rule(),
    )
    status: Literal["convened"] = "convened"
    kind: SessionKind | None = None
    format: SessionFormat
    start: str = Field(description=PARTIAL_DATE, json_schema_extra=partial_date_rule())
    end: str | None = Field(
        default=None, description=PARTIAL_DATE, json_schema_extra=partial_date_rule()
    )
    place: PlaceItem | None = None
    co_chairs: list[PersonItem] = Field(default_factory=list, json_schema_extra=people_rule())
    topics: list[Topic] = Field(default_factory=list, json_schema_extra=topics_rule())
    summary: str | None = Field(default=None, json_schema_extra=text_rule(MAX_TEXT))


class CancelSession(Sourced):
    reason: str = Field(json_schema_extra=text_rule(MAX_TEXT))


class PostponeSession(Sourced):
    reason: str = Field(json_schema_extra=text_rule(MAX_TEXT))
    planned: str | None = Field(
        default=None,
        description="The new planned date. " + PARTIAL_DATE,
        json_schema_extra=partial_date_rule(),
    )


class SignProtocol(Sourced):
    title: str | None = Field(default=None, json_schema_extra=text_rule(MAX_TITLE))
    signed_on: str | None = Field(
        default=None, description=PARTIAL_DATE, json_schema_extra=partial_date_rule()
    )
    signatories: list[PersonItem] = Field(
        description=f"At least one signatory of each party; at most {MAX_LIST}.",
        json_schema_extra={"minItems": 2, **people_rule()},
    )


class ReferenceDeclaration(Sourced):
    title: str = Field(
        description="e.g. Declaration on allied interaction.",
        json_schema_extra=text_rule(MAX_TITLE),
    )
    dated: str = Field(description=PARTIAL_DATE, json_schema_extra=partial_date_rule())
    characterization: str | None = Field(
        default=None,
        description="e.g. particularly significant",
        json_schema_extra=text_rule(MAX_TITLE),
    )


UNIT = "ISO 4217 code for money, or percent, tonne, count, rank, person."
PERIOD = (
    "A partial date or an interval of them: 2023, 2024-01/2024-05; years "
    f"{MIN_YEAR:04d}-{MAX_YEAR}."
)


class ReportStatistic(Sourced):
    measure: Measure
    value_kind: ValueKind
    value: str = Field(description=DECIMAL, json_schema_extra=decimal_rule())
    unit: str = Field(description=UNIT, json_schema_extra=unit_rule())
    qualifier: Qualifier
    reporter: str | None = Field(
        default=None, description=COUNTRY, json_schema_extra=country_rule()
    )
    partner: str | None = Field(default=None, description=COUNTRY, json_schema_extra=country_rule())
    period: str | None = Field(default=None, description=PERIOD, json_schema_extra=period_rule())
    stated_by: str | None = Field(
        default=None,
        description="The party that stated it. " + COUNTRY,
        json_schema_extra=country_rule(),
    )
    remarks: str | None = Field(default=None, json_schema_extra=text_rule(MAX_TEXT))


class SessionChanges(Command):
    """Fields of the session's own record to correct; give only those that change."""

    kind: SessionKind | None = None
    format: SessionFormat | None = None
    start: str | None = Field(default=None, json_schema_extra=partial_date_rule())
    end: str | None = Field(default=None, json_schema_extra=partial_date_rule())
    planned: str | None = Field(default=None, json_schema_extra=partial_date_rule())
    place: PlaceItem | None = None
    co_chairs: list[PersonItem] | None = Field(default=None, json_schema_extra=people_rule())
    topics: list[Topic] | None = Field(default=None, json_schema_extra=topics_rule())
    summary: str | None = Field(default=None, json_schema_extra=text_rule(MAX_TEXT))

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
    reason: str = Field(json_schema_extra=text_rule(MAX_TEXT))
    evidence: list[EvidenceItem] = Field(
        default_factory=list, json_schema_extra=evidence_list_rule(required=False)
    )


class StatisticFieldChanges(Command):
    """Fields of the statistic to correct; give only those that change."""

    measure: Measure | None = None
    value_kind: ValueKind | None = None
    value: str | None = Field(default=None, description=DECIMAL, json_schema_extra=decimal_rule())
    unit: str | None = Field(default=None, description=UNIT, json_schema_extra=unit_rule())
    qualifier: Qualifier | None = None
    reporter: str | None = Field(default=None, json_schema_extra=country_rule())
    partner: str | None = Field(default=None, json_schema_extra=country_rule())
    period: str | None = Field(default=None, description=PERIOD, json_schema_extra=period_rule())
    stated_by: str | None = Field(default=None, json_schema_extra=country_rule())
    remarks: str | None = Field(default=None, json_schema_extra=text_rule(MAX_TEXT))

    def to_domain(self) -> StatisticChanges:
        return cast(StatisticChanges, self.model_dump(exclude_unset=True))


class CorrectStatistic(Command):
    changes: StatisticFieldChanges
    reason: str = Field(json_schema_extra=text_rule(MAX_TEXT))
    evidence: list[EvidenceItem] = Field(
        default_factory=list, json_schema_extra=evidence_list_rule(required=False)
    )


class RetractStatistic(Command):
    reason: str = Field(json_schema_extra=text_rule(MAX_TEXT))
