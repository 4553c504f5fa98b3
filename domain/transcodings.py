"""How the record's value types are stored in the event store's JSON.

Stored events outlive code: each transcoding's ``name`` and encoded shape are part of the
stored format and must not change once released.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Transcoding

from domain.dates import PartialDate, Period
from domain.values import Evidence, Place, Representative


class PartialDateAsText(Transcoding):
    type = PartialDate
    name = "partial_date"

    def encode(self, obj: PartialDate) -> str:
        return str(obj)

    def decode(self, data: str) -> PartialDate:
        return PartialDate.parse(data)


class PeriodAsText(Transcoding):
    type = Period
    name = "period"

    def encode(self, obj: Period) -> str:
        return str(obj)

    def decode(self, data: str) -> Period:
        return Period.parse(data)


class EvidenceAsObject(Transcoding):
    type = Evidence
    name = "evidence"

    def encode(self, obj: Evidence) -> dict[str, str]:
        return {"source": obj.source, "quote": obj.quote}

    def decode(self, data: dict[str, Any]) -> Evidence:
        return Evidence(data["source"], data["quote"])


class PlaceAsObject(Transcoding):
    type = Place
    name = "place"

    def encode(self, obj: Place) -> dict[str, str]:
        return {"city": obj.city, "country": obj.country}

    def decode(self, data: dict[str, Any]) -> Place:
        return Place(data["city"], data["country"])


class RepresentativeAsObject(Transcoding):
    type = Representative
    name = "representative"

    def encode(self, obj: Representative) -> dict[str, str]:
        return {"party": obj.party, "name": obj.name, "title": obj.title}

    def decode(self, data: dict[str, Any]) -> Representative:
        return Representative(data["party"], data["name"], data["title"])


TRANSCODINGS: tuple[Transcoding, ...] = (
    PartialDateAsText(),
    PeriodAsText(),
    EvidenceAsObject(),
    PlaceAsObject(),
    RepresentativeAsObject(),
)
